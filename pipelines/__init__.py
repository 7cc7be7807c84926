"""The sweep engine and the `hpo` command line, in rooms by concern: engine, tracking, reporting, serving, cli."""
