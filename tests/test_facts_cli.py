"""``rag facts`` as a user runs it: the table, --csv, --json, filters, and bad input as one
``error:`` line."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_factstore import ARTICLE_EN, ARTICLE_ZH

ROOT = Path(__file__).resolve().parent.parent


def rag(env: dict, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(
        [sys.executable, "-m", "rag", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
    )
    assert out.returncode == code, (args, out.stdout[-1500:], out.stderr[-1500:])
    assert "Traceback" not in out.stderr
    return out


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("facts_cli")
    (root / "in").mkdir()
    (root / "in" / "zh.md").write_text(ARTICLE_ZH, encoding="utf-8")
    (root / "in" / "en.md").write_text(ARTICLE_EN, encoding="utf-8")
    e = {**os.environ, "RAG_EMBEDDINGS": "fake", "RAG_DATA_DIR": str(root / "store")}
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    rag(e, "ingest", "--quiet", str(root / "in"))
    return e


def test_table_for_an_entity_named_in_pinyin(env: dict) -> None:
    out = rag(env, "facts", "xinghe weixin").stdout
    assert "银河100E" in out and "64GB" in out and "memory capacity" in out
    assert out.strip().endswith("facts")


def test_csv_and_json_with_attribute_and_period_filters(env: dict) -> None:
    rows = list(csv.DictReader(io.StringIO(rag(env, "facts", "--csv").stdout)))
    assert {"entity", "attribute", "value", "quote", "doc_id", "start", "end"} <= set(rows[0])
    assert any(r["value"] == "$300 million" for r in rows)
    got = json.loads(rag(env, "facts", "--attribute", "funding_amount", "--json").stdout)
    assert [(f["entity"], f["norm_value"]) for f in got] == [("Lumen Compute", 3e8)]
    got = json.loads(rag(env, "facts", "--since", "2026", "--json").stdout)
    assert got and all(f["period"] >= "2026" for f in got)
    assert json.loads(rag(env, "facts", "--vendor", "Galaxy Microchip", "--json").stdout)


def test_bad_input_is_one_error_line(env: dict) -> None:
    err = rag(env, "facts", "--attribute", "colour", code=1).stderr
    assert err.startswith("error: unknown attribute 'colour'") and len(err.splitlines()) == 1
    err = rag(env, "facts", "--since", "March", code=1).stderr
    assert "YYYY" in err
    assert "no facts match" in rag(env, "facts", "nobody-at-all").stderr
