"""Fact precision and recall: ``qa.facts()`` against the hand-written
``evals/datasets/facts_gold.jsonl``. It reads the facts the store learned at ingest; it does
not extract any.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from evals import metrics as M

FACTS_UNAVAILABLE = "facts: not available (QA has no facts() method)"


def load_facts_gold(path: str | Path) -> list[dict[str, Any]]:
    """The hand-written gold facts (one JSON object a line)."""
    rows = []
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            for key in ("doc_id", "entity", "attribute", "value", "quote"):
                if key not in row:
                    raise ValueError(f"{path}:{i}: missing {key!r}")
            rows.append(row)
    return rows


def _entity_norm(name: str) -> str:
    from rag.textnorm import normalize

    return "".join(normalize(name).split())


def evaluate_facts(qa: Any, gold_path: str | Path) -> dict[str, Any]:
    """Fact precision/recall of ``qa.facts()`` against the gold file, or why it cannot run."""
    path = Path(gold_path)
    if not path.is_file():
        return {"available": False, "note": f"facts: no gold file at {path}"}
    gold = load_facts_gold(path)
    facts_fn = getattr(qa, "facts", None)
    if not callable(facts_fn):
        return {"available": False, "note": FACTS_UNAVAILABLE, "n_gold": len(gold)}
    try:
        extracted = list(facts_fn())
    except Exception as e:  # the facts store is new: a failure is reported, not fatal
        return {"available": False, "note": f"facts: qa.facts() failed: {type(e).__name__}: {e}"}
    aliases: dict[str, list[str]] = {}
    entities_fn = getattr(qa, "entities", None)
    if callable(entities_fn):
        with contextlib.suppress(Exception):
            for ent in entities_fn():
                aliases[str(ent.entity_id)] = [ent.name, *ent.aliases]
    scores = M.fact_scores(extracted, gold, _entity_norm, aliases)
    scores["available"] = True
    from evals.report import fmt

    scores["note"] = (
        f"facts: precision {fmt(scores['precision'])} at recall {fmt(scores['recall'])} "
        f"({scores['n_gold']} gold facts of {scores['n_gold_docs']} articles, "
        f"{scores['n_extracted']} extracted from them)"
    )
    return scores
