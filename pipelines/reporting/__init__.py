"""What a person sees of a sweep: the live line, the tables and summary, the sweep report on the parent run."""
