"""Benchmarks: ``python -m benchmarks.bench`` (or ``rag bench``); see ``benchmarks/RESULTS.md``.

Not part of the ``rag`` package and never imported by it (``rag bench`` imports it on demand).
"""
