"""Fill ``gold_doc_ids`` in a question set from its ``gold_sources`` paths.

A document's id is derived from its file's bytes (``rag.loaders.content_id``), so the ids
change whenever an article is edited; the paths do not. Run after editing the corpus:
``python evals/datasets/sync_ids.py [evals/datasets/dev.jsonl]``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def sync(path: Path) -> int:
    from rag.loaders import content_id

    rows = [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    changed = 0
    for row in rows:
        ids = [content_id((ROOT / src).read_bytes()) for src in row.get("gold_sources", [])]
        if ids != row.get("gold_doc_ids"):
            row["gold_doc_ids"] = ids
            changed += 1
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    return changed


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "evals" / "datasets" / "dev.jsonl"
    print(f"{sync(target)} rows updated in {target}")
