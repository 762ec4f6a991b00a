"""Benchmarks and the synthetic-clinic generator (not part of the test suite's runtime)."""
