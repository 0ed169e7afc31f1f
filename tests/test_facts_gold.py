"""The fact extractor against the hand-written gold facts (evals/datasets/facts_gold.jsonl).

Facts do not depend on the embedder, so a hash-embedder store of the whole corpus measures
them in seconds. The floors sit below the measured values (precision 0.929, recall 0.977 at
commit 83750c6) by a margin, as the eval gate's do.
"""

from __future__ import annotations

from pathlib import Path

from evals.harness import evaluate_facts

ROOT = Path(__file__).resolve().parent.parent
PRECISION_FLOOR = 0.90
RECALL_FLOOR = 0.94


def test_fact_precision_and_recall_hold(tmp_path: Path) -> None:
    from rag import QA

    qa = QA.open(tmp_path / "store", embeddings="fake")
    report = qa.ingest([ROOT / "corpus"])
    assert report.failed == 0, report.failures
    got = evaluate_facts(qa, ROOT / "evals" / "datasets" / "facts_gold.jsonl")
    assert got.get("available"), got
    assert got["precision"] >= PRECISION_FLOOR, got
    assert got["recall"] >= RECALL_FLOOR, got
