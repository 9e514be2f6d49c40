"""Benchmarking: organisations that opt in compare their frozen monthly figures (docs/benchmarking.md)."""
