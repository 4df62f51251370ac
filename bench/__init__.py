"""Benchmarks: ``python -m bench.catalog``."""
