"""One module per task: its contract, data loading, model builder and train function."""
