"""Evaluation harness: ``rag eval`` / ``python -m evals`` (see ``evals.harness``); the LLM fault
catalogue: ``rag eval --llm-faults`` (``evals.llm_faults``). Nothing is imported here."""
