"""Benchmarking: organisations that opt in compare their frozen monthly figures.

See docs/benchmarking.md."""
