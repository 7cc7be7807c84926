"""The sweep engine and the `hpo` command line."""
