"""Runs a sweep: settings and input checks, the Ray session, the Tuner and its searcher, the trials, results."""
