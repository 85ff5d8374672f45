"""Benchmarks (never run as timed tests)."""
