"""The `hpo` command line: the parser, and one function per command that calls the rooms doing the work."""
