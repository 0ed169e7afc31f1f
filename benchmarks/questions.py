"""Which dev-set questions the benchmark times and scores, and which corpus files CI mode
ingests. It reads ``evals/datasets/dev.jsonl``; it does not search or answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.settings import DEV, ROOT


def load_questions() -> list[dict[str, Any]]:
    """The dev set's rows."""
    return [
        json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def spread(rows: list[Any], n: int) -> list[Any]:
    """``n`` rows spread evenly over the list (cycling when asked for more than it has)."""
    if not rows or n <= 0:
        return []
    if n <= len(rows):
        return [rows[i * len(rows) // n] for i in range(n)]
    return [rows[i % len(rows)] for i in range(n)]


def question_specs(
    rows: list[dict[str, Any]], stored: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """Dev rows with their search text and the stored doc ids that answer them.

    Gold documents are found by path (the dev set names source files) as well as by id,
    so a corpus edit that changes an id does not silently zero the score.
    """
    from rag.question import analyse, resolved_text

    by_path = {p: d for d, paths in stored.items() for p in paths}
    out = []
    for r in rows:
        gold = {d for d in r.get("gold_doc_ids", []) if d in stored}
        for src in r.get("gold_sources", []):
            d = by_path.get(str((ROOT / src).resolve()))
            if d:
                gold.add(d)
        history = r.get("history") or []
        query = resolved_text(analyse(r["question"], history)) if history else r["question"]
        out.append(
            {
                "id": r["id"],
                "question": r["question"],
                "history": history,
                "query": query,
                "answerable": bool(r.get("answerable")),
                "gold": sorted(gold),
            }
        )
    return out


def small_corpus_files(rows: list[dict[str, Any]], n: int = 6) -> list[Path]:
    """The ``n`` small corpus files most often cited by the dev set (CI mode)."""
    counts: dict[str, int] = {}
    for r in rows:
        for src in r.get("gold_sources", []):
            counts[src] = counts.get(src, 0) + 1
    files = [
        (ROOT / s) for s in counts if (ROOT / s).is_file() and (ROOT / s).stat().st_size <= 2600
    ]
    files.sort(key=lambda p: (-counts[str(p.relative_to(ROOT))], str(p)))
    return files[:n]
