"""Runs a sweep: settings and input checks, the Ray session, the Tuner and its searcher, a trial's worker side, results."""
