"""The Spec sheet tab's handler: entities by attributes, each value opening its highlighted
quote, conflicting figures marked, a CSV of the same facts; and the tab inside the app."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.test_factstore import ARTICLE_ZH

LATER = ARTICLE_ZH.replace("2026-02-10", "2026-03-01").replace("容量为64GB", "容量为80GB")


@pytest.fixture
def qa(fake_qa, tmp_path: Path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.md").write_text(ARTICLE_ZH, encoding="utf-8")
    (folder / "b.md").write_text(LATER, encoding="utf-8")
    assert fake_qa.ingest([folder]).failed == 0
    return fake_qa


def test_table_cells_quotes_conflicts_and_csv(qa) -> None:
    from rag.web_specsheet import ALL, spec_view

    html, path = spec_view(qa, "Galaxy Microchip", ALL)
    assert "<table class='rag-spec'>" in html and "银河100E" in html
    assert "64GB" in html and "80GB" in html
    assert html.count("⚠ conflicting figures") == 1  # capacity differs; bandwidth agrees
    assert "<mark>星河微芯的银河100E采用HBM3内存,容量为64GB,显存带宽为3.2TB/s。</mark>" in html
    rows = list(csv.DictReader(Path(path).read_text(encoding="utf-8").splitlines()))
    assert {r["value"] for r in rows if r["attribute"] == "memory_capacity"} == {"64GB", "80GB"}


def test_filters_and_empty_result_and_escaping(qa) -> None:
    from rag.web_specsheet import spec_view

    html, _ = spec_view(qa, "", "memory_bandwidth")
    assert "<summary>3.2TB/s</summary>" in html and "<summary>64GB</summary>" not in html
    html, path = spec_view(qa, "<script>alert(1)</script>", None)
    assert "No facts match" in html and "<script>" not in html
    assert Path(path).read_text(encoding="utf-8").startswith("entity,attribute,value")


def test_the_tab_is_in_the_app(qa) -> None:
    from rag.web import build_app

    app = build_app(qa)
    ids = {getattr(b, "elem_id", None) for b in app.blocks.values()}
    assert {"rag-spec-table", "rag-spec-csv", "rag-spec-entity"} <= ids


def test_the_table_style_is_a_served_file_not_inline(qa) -> None:
    from rag.web import page_assets
    from rag.web_specsheet import spec_view

    html, _ = spec_view(qa, "Galaxy Microchip", None)
    assert "<style" not in html  # the look comes from the page's stylesheets
    sheets = [Path(p) for p in page_assets()["css_paths"]]
    spec = [p for p in sheets if ".rag-spec td.rag-conflict" in p.read_text(encoding="utf-8")]
    assert [p.name for p in spec] == ["spec.css"] and spec[0].parent.name == "static"
