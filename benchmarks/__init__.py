"""Benchmarks: ``python -m benchmarks.bench`` (or ``rag bench``); see ``benchmarks/RESULTS.md``."""
