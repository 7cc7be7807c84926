"""Benchmarks, apart from the library: `python -m benchmarks.NAME`; results go to docs/benchmarks.md."""
