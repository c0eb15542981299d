"""Benchmark harness (issue 7): `make bench` or `python -m tests.benchmarks.run --sizes S,M`."""
