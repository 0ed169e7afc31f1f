"""The facts store: a real SQLite file, kept in step with Chroma through ingest, update,
remove, prune and reset, rebuilt when missing or made by other rules, and the entity index
that finds a company nobody listed by its Chinese, English or pinyin name."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rag.factstore import FactStore
from rag.knowledge import Entity, Fact

ARTICLE_ZH = """---
title: 星河微芯科技发布银河100E推理芯片
date: 2026-02-10
source: test
lang: zh
---
国产芯片公司星河微芯科技(Galaxy Microchip)今天发布了一款名为“银河100E”的推理芯片。

星河微芯的银河100E采用HBM3内存,容量为64GB,显存带宽为3.2TB/s。
"""
ARTICLE_EN = """---
title: Lumen Compute raises $300 million
date: 2025-11-03
source: test
lang: en
---
Lumen Compute, the Oslo-based chip startup, raised $300 million in a Series B round.

Its Prism accelerator carries 48GB of HBM3E memory.
"""


def fact(doc_id: str, eid: str, attr: str, value: str, period: str, norm: float) -> Fact:
    return Fact(
        f"{doc_id}-{eid}-{attr}-{value}", eid, eid.upper(), attr, value, "GB", norm, None, None,
        period, doc_id, 0, 5, "quote",
    )  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> FactStore:
    fs = FactStore(tmp_path / "facts.sqlite3")
    chip = Entity("x100", "X100", "model", ["X100", "xi 100", "銀河X100"], "acme", ["d1"])
    acme = Entity("acme", "Acme", "company", ["Acme", "艾克米", "aikemi"], None, ["d1"])
    fs.replace_document(
        "d1",
        [chip, acme],
        [
            fact("d1", "x100", "memory_capacity", "64GB", "2025-03", 64e9),
            fact("d1", "acme", "revenue", "1亿元", "2024", 1e8),
        ],
    )
    fs.replace_document(
        "d2",
        [Entity("x100", "X100", "model", ["X100"], "acme", ["d2"])],
        [fact("d2", "x100", "memory_capacity", "80GB", "2026-01", 80e9)],
    )
    return fs


def test_wal_journal_and_a_connection_per_call(store: FactStore) -> None:
    with sqlite3.connect(store.path) as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    other = FactStore(store.path)  # a second process opening the same file sees the rows
    assert other.doc_ids() == {"d1", "d2"}


def test_filters_by_alias_vendor_attribute_and_period(store: FactStore) -> None:
    assert {f.value for f in store.facts(entity="銀河X100")} == {"64GB", "80GB"}
    assert {f.value for f in store.facts(entity="xi100")} == {"64GB", "80GB"}  # pinyin spacing
    # a vendor's name gives its products' facts too
    assert {f.value for f in store.facts(entity="艾克米")} == {"64GB", "80GB", "1亿元"}
    assert {f.value for f in store.facts(vendors=["Acme"], attribute="revenue")} == {"1亿元"}
    assert [f.value for f in store.facts(since="2025-06")] == ["80GB"]
    assert [f.value for f in store.facts(until="2024")] == ["1亿元"]
    assert [f.value for f in store.facts(doc_ids={"d2"})] == ["80GB"]
    assert store.facts(entity="nobody") == []


def test_entities_merge_over_documents(store: FactStore) -> None:
    merged = {e.entity_id: e for e in store.entities()}
    assert merged["x100"].doc_ids == ["d1", "d2"]
    assert merged["x100"].vendor == "acme"
    assert "銀河X100" in merged["x100"].aliases


def test_replace_and_delete_follow_the_document(store: FactStore) -> None:
    store.replace_document("d1", [], [fact("d1", "x100", "power", "300W", "2025", 300)])
    assert {f.attribute for f in store.facts(doc_ids={"d1"})} == {"power"}
    store.delete_document("d2")
    assert store.doc_ids() == {"d1"}
    assert store.facts(entity="X100", attribute="memory_capacity") == []
    store.clear()
    assert store.doc_ids() == set() and store.fingerprint() is None


def test_match_entities_longest_boundaries_case_width_and_script(store: FactStore) -> None:
    text = "Compare the ＸＩ 100 and ACME parts, not LACMEX"
    got = [(e.entity_id, text[s:e_]) for e, s, e_ in store.match_entities(text)]
    assert got == [("x100", "ＸＩ 100"), ("acme", "ACME")]
    got = [(e.entity_id, s, e_) for e, s, e_ in store.match_entities("銀河X100的显存")]
    assert got == [("x100", 0, 6)]  # the longest name wins over "X100"
    # a write by another FactStore on the same file is seen at once
    FactStore(store.path).replace_document(
        "d3", [Entity("zeta", "Zeta", "company", ["Zeta Labs"], None, ["d3"])], []
    )
    assert [e.entity_id for e, *_ in store.match_entities("what did zeta labs raise")] == ["zeta"]


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "zh.md").write_text(ARTICLE_ZH, encoding="utf-8")
    (folder / "en.md").write_text(ARTICLE_EN, encoding="utf-8")
    return folder


def test_ingest_writes_facts_and_remove_prune_reset_delete_them(fake_qa, articles: Path) -> None:
    report = fake_qa.ingest([articles])
    assert report.failed == 0 and report.stage_seconds["facts"] > 0
    cap = fake_qa.facts(entity="Galaxy Microchip", attribute="memory_capacity")
    assert [(f.entity, f.value) for f in cap] == [("银河100E", "64GB")]
    assert fake_qa.facts(entity="Lumen Compute", attribute="funding_amount")[0].norm_value == 3e8
    # an edited file replaces its facts
    (articles / "zh.md").write_text(ARTICLE_ZH.replace("64GB", "96GB"), encoding="utf-8")
    fake_qa.ingest([articles])
    assert [f.value for f in fake_qa.facts(entity="银河100E", attribute="memory_capacity")] == [
        "96GB"
    ]
    (en_id,) = {f.doc_id for f in fake_qa.facts(entity="Lumen Compute")}
    fake_qa.remove(en_id)
    assert fake_qa.facts(entity="Lumen Compute") == []
    (articles / "zh.md").unlink()
    fake_qa.ingest([articles], prune=True)  # en.md comes back, zh.md is pruned
    assert fake_qa.facts(entity="星河微芯") == []
    assert fake_qa.facts(entity="Lumen Compute")
    fake_qa.reset()
    assert fake_qa.factstore().doc_ids() == set()


def test_rebuilt_from_chroma_when_missing_or_made_by_other_rules(tmp_path, articles) -> None:
    from rag import QA

    qa = QA.open(tmp_path / "store", embeddings="fake")
    qa.ingest([articles])
    before = sorted((f.entity_id, f.attribute, f.value) for f in qa.facts())
    assert before
    path = tmp_path / "store" / "facts.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    again = QA.open(tmp_path / "store", embeddings="fake")
    assert sorted((f.entity_id, f.attribute, f.value) for f in again.facts()) == before
    FactStore(path).set_fingerprint("made-by-older-rules")
    FactStore(path).replace_document("stale", [], [fact("stale", "x", "power", "1W", "2020", 1)])
    third = QA.open(tmp_path / "store", embeddings="fake")
    assert sorted((f.entity_id, f.attribute, f.value) for f in third.facts()) == before
    assert third.factstore().fingerprint() != "made-by-older-rules"


def test_a_company_nobody_listed_is_found_by_english_pinyin_and_chinese(fake_qa, articles) -> None:
    from rag import glossary

    assert glossary.canonical_vendor("星河微芯") is None  # no data file names it
    fake_qa.ingest([articles])
    fs = fake_qa.factstore()
    for question in (
        "How much memory does the Galaxy Microchip chip have?",
        "xinghe weixin memory",
        "XingheWeixin 100E",
        "星河微芯的芯片显存多大?",
        "星河微芯的晶片",  # traditional question text is matched too
    ):
        ids = {e.entity_id for e, *_ in fs.match_entities(question)}
        assert "星河微芯" in ids, question
    assert {e.entity_id for e, *_ in fs.match_entities("yinhe 100E bandwidth")} == {"银河100e"}


def test_one_entity_across_languages_and_documents(tmp_path: Path) -> None:
    fs = FactStore(tmp_path / "f.sqlite3")
    zh = Entity("银河100e", "银河100E", "product", ["100E", "yinhe 100e"], "星河微芯", ["zh"])
    en = Entity("100e", "100E", "model", ["Yinhe 100E"], None, ["en"])
    other = Entity("100e-rival", "100E", "model", [], "rival", ["x"])  # another vendor's
    fs.replace_document(
        "zh", [zh], [fact("zh", "银河100e", "memory_capacity", "64GB", "2026", 64e9)]
    )
    fs.replace_document("en", [en], [fact("en", "100e", "memory_capacity", "96GB", "2026", 96e9)])
    merged = [e for e in fs.entities() if "zh" in e.doc_ids]
    assert len(merged) == 1 and merged[0].doc_ids == ["en", "zh"]
    got = fs.facts(entity="Yinhe 100E")
    assert {f.value for f in got} == {"64GB", "96GB"}
    assert len({f.entity_id for f in got}) == 1  # one row in the spec sheet, a conflict there
    # once another maker's product shares the bare name, the name alone merges nothing
    fs.replace_document("x", [other], [])
    assert sorted(len(e.doc_ids) for e in fs.entities()) == [1, 1, 1]
    assert {f.value for f in fs.facts(entity="银河100E")} == {"64GB"}


def test_a_batch_is_one_transaction_and_a_refused_document_costs_only_itself(
    store: FactStore,
) -> None:
    before = store.generation()
    store.replace_documents(
        [
            ("d3", [], [fact("d3", "x100", "power", "300W", "2025", 300)]),
            ("d4", [], [fact("d4", "x100", "power", "350W", "2026", 350)]),
        ]
    )
    assert int(store.generation()) == int(before) + 1  # one write, one generation step
    assert {"d3", "d4"} <= store.doc_ids()

    bad = fact("d6", "x100", "power", "1W", "2020", 1)
    bad.quote = object()  # type: ignore[assignment]  # not JSON: the database write fails
    lost = store.replace_documents_or_each(
        [("d5", [], [fact("d5", "x100", "power", "400W", "2027", 400)]), ("d6", [], [bad])]
    )
    assert lost == 1
    assert "d5" in store.doc_ids() and "d6" not in store.doc_ids()
