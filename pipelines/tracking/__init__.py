"""MLflow: the store, the child run of each trial, and queries of a sweep's runs; `hpo ui` over the store."""
