"""Evaluation harness: ``rag eval`` / ``python -m evals`` (see ``evals.harness``)."""
