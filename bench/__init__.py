"""Benchmarks: one script per question; see docs/BENCHMARKS.md."""
