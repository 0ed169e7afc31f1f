"""The development question set and the corpus it is asked over (issue 3): every gold quote
sits in its document's cleaned text, every key fact in a gold quote, and the set and corpus
have the mix they promise."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache, lru_cache
from pathlib import Path

from rag.clean import looks_like_forum_paste
from rag.loaders import content_id, iter_files, load_file, read_sidecar, split_front_matter
from rag.types import Document

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "evals" / "datasets" / "dev.jsonl"
CORPUS = ROOT / "corpus"
FIELDS = {
    "id": str, "question": str, "lang": str, "category": str, "answerable": bool,
    "gold_doc_ids": list, "gold_quotes": list, "key_facts": list, "answer": str, "history": list,
}  # fmt: skip
CATEGORIES = {
    "spec",
    "vendor",
    "strategy",
    "comparison",
    "temporal",
    "follow-up",
    "negative",
    "list",
}


@lru_cache(maxsize=1)
def rows() -> list[dict]:
    return [
        json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


@cache
def doc_at(source: str) -> Document:
    return load_file(ROOT / source).document


@lru_cache(maxsize=1)
def corpus_docs() -> list[tuple[Path, Document]]:
    return [(p, load_file(p).document) for p, _ in iter_files([CORPUS])]


def test_at_least_150_rows_with_the_required_fields() -> None:
    assert len(rows()) >= 150
    assert len({r["id"] for r in rows()}) == len(rows())
    for r in rows():
        for field, kind in FIELDS.items():
            assert isinstance(r.get(field), kind), (r.get("id"), field)
        assert r["lang"] in ("zh", "en"), r["id"]
        assert r["category"] in CATEGORIES, r["id"]
        assert r["question"].strip() and r["answer"].strip(), r["id"]
        assert all(
            isinstance(g, list) and g and all(isinstance(a, str) and a for a in g)
            for g in r["key_facts"]
        ), r["id"]
        for turn in r["history"]:
            assert turn.get("role") in ("user", "assistant") and turn.get("content"), r["id"]


def test_gold_doc_ids_are_the_content_ids_of_the_gold_sources() -> None:
    for r in rows():
        sources = r.get("gold_sources", [])
        assert len(sources) == len(r["gold_doc_ids"]), r["id"]
        for src, doc_id in zip(sources, r["gold_doc_ids"], strict=True):
            path = ROOT / src
            assert path.is_file(), (r["id"], src)
            assert content_id(path.read_bytes()) == doc_id, (r["id"], src)
            assert doc_at(src).doc_id == doc_id


def test_every_gold_quote_is_in_its_documents_cleaned_text() -> None:
    missing = []
    for r in rows():
        texts = [doc_at(src).text for src in r.get("gold_sources", [])]
        for quote in r["gold_quotes"]:
            if not any(quote in t for t in texts):
                missing.append((r["id"], quote))
    assert not missing


def test_every_gold_document_of_an_answerable_row_holds_one_of_its_quotes() -> None:
    for r in rows():
        if not r["answerable"]:
            continue
        assert r["gold_quotes"], r["id"]
        for src in r["gold_sources"]:
            assert any(q in doc_at(src).text for q in r["gold_quotes"]), (r["id"], src)


def test_every_key_fact_group_has_an_alias_in_a_gold_quote() -> None:
    bad = []
    for r in rows():
        for group in r["key_facts"]:
            if not any(alias in q for alias in group for q in r["gold_quotes"]):
                bad.append((r["id"], group))
    assert not bad


def test_answerable_rows_have_key_facts_and_negatives_have_none() -> None:
    for r in rows():
        if r["answerable"]:
            assert r["key_facts"], r["id"]
        else:
            assert r["category"] == "negative" and not r["gold_quotes"] and not r["key_facts"], r[
                "id"
            ]


def test_category_mix() -> None:
    cats = Counter(r["category"] for r in rows())
    assert set(cats) == CATEGORIES
    n = len(rows())
    assert sum(1 for r in rows() if not r["answerable"]) >= 0.15 * n
    for r in rows():
        if r["category"] == "comparison":
            assert len(set(r["gold_doc_ids"])) >= 2, r["id"]
        if r["category"] == "follow-up":
            assert r["history"], r["id"]


def test_at_least_a_fifth_is_cross_lingual() -> None:
    cross = [
        r["id"]
        for r in rows()
        if r.get("gold_sources") and any(doc_at(s).lang != r["lang"] for s in r["gold_sources"])
    ]
    assert len(cross) >= 0.20 * len(rows()), len(cross)
    langs = Counter(r["lang"] for r in rows())
    assert langs["zh"] >= 0.25 * len(rows()) and langs["en"] >= 0.25 * len(rows())


# -- the corpus ---------------------------------------------------------------------------


def test_corpus_size_languages_and_vendors() -> None:
    docs = [d for _, d in corpus_docs()]
    assert len(docs) >= 41
    langs = Counter(d.lang for d in docs)
    assert langs["zh"] >= 0.60 * len(docs), langs
    assert langs["en"] >= 0.25 * len(docs), langs
    vendors = {v for d in docs for v in d.vendors}
    assert len(vendors) >= 15, sorted(vendors)
    assert len({d.doc_id for d in docs}) == len(docs)


def test_every_article_has_its_metadata() -> None:
    for path, doc in corpus_docs():
        meta = read_sidecar(path)
        if not meta:
            meta, _body = split_front_matter(path.read_text(encoding="utf-8"))
        for key in ("title", "date", "source", "lang", "vendors"):
            assert meta.get(key), (path.name, key)
        assert doc.date and doc.date == str(meta["date"]), path.name
        assert doc.lang == meta["lang"], path.name


def test_seed_is_in_the_corpus_byte_for_byte_with_its_metadata() -> None:
    seed = CORPUS / "000_3b181778c37663fc.txt"
    shared = ROOT.parent / "shared" / "seeds" / seed.name
    if shared.exists():
        assert seed.read_bytes() == shared.read_bytes()
    meta = read_sidecar(seed)
    assert meta["date"] and meta["title"] and meta["source"]


def test_at_least_five_forum_pastes_with_their_clean_originals() -> None:
    pastes = sorted((CORPUS / "forum").glob("*.txt"))
    assert len(pastes) >= 5
    for p in pastes:
        assert looks_like_forum_paste(p.read_text(encoding="utf-8")), p.name
        assert (ROOT / "tests" / "fixtures" / "forum_clean" / f"{p.stem}.md").is_file(), p.name


def test_at_least_five_html_pages_some_gbk_some_with_jammer() -> None:
    pages = sorted((CORPUS / "web").glob("*.htm*"))
    assert len(pages) >= 5
    gbk = []
    for p in pages:
        data = p.read_bytes()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            data.decode("gb18030")
            gbk.append(p.name)
    assert gbk, "no GBK page"
    assert any(
        b'class="jammer"' in p.read_bytes() or b"display:none" in p.read_bytes() for p in pages
    )


def test_near_confusers_are_present() -> None:
    """Several chips with 96 GB and several IPOs: retrieval must tell them apart."""
    docs = [d for _, d in corpus_docs()]
    assert sum(1 for d in docs if "96GB" in d.text or "96 GB" in d.text) >= 3
    assert sum(1 for d in docs if "IPO" in d.text or "上市" in d.text) >= 3


def test_several_810s() -> None:
    assert sum(1 for _, d in corpus_docs() if "810" in d.text) >= 2


# -- the held-out set (issue 12): written before tuning, over new and old articles ---------------

HELDOUT = ROOT / "evals" / "datasets" / "heldout.jsonl"
HELDOUT_CATEGORIES = {
    "spec", "funding", "revenue", "profit", "price", "power", "capacity", "shipments",
    "customers", "investment", "temporal", "latest", "list", "compare", "strategy",
    "follow-up", "negative",
}  # fmt: skip


@lru_cache(maxsize=1)
def heldout_rows() -> list[dict]:
    return [
        json.loads(line)
        for line in HELDOUT.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def test_heldout_has_at_least_110_rows_with_the_dev_fields() -> None:
    rows_ = heldout_rows()
    assert len(rows_) >= 110
    assert len({r["id"] for r in rows_}) == len(rows_)
    for r in rows_:
        for field, kind in FIELDS.items():
            assert isinstance(r.get(field), kind), (r.get("id"), field)
        assert r["lang"] in ("zh", "en") and r["category"] in HELDOUT_CATEGORIES, r["id"]
        assert r["question"].strip() and r["answer"].strip(), r["id"]
        for turn in r["history"]:
            assert turn.get("role") in ("user", "assistant") and turn.get("content"), r["id"]
    dev_questions = {r["question"].strip() for r in rows()}
    assert not [r["id"] for r in rows_ if r["question"].strip() in dev_questions]


def test_heldout_gold_ids_quotes_and_key_facts() -> None:
    bad = []
    for r in heldout_rows():
        sources = r.get("gold_sources", [])
        assert len(sources) == len(r["gold_doc_ids"]), r["id"]
        for src, doc_id in zip(sources, r["gold_doc_ids"], strict=True):
            assert content_id((ROOT / src).read_bytes()) == doc_id == doc_at(src).doc_id, r["id"]
        texts = [doc_at(src).text for src in sources]
        bad += [(r["id"], q) for q in r["gold_quotes"] if not any(q in t for t in texts)]
        bad += [
            (r["id"], src)
            for src in sources
            if not any(q in doc_at(src).text for q in r["gold_quotes"])
        ]
        bad += [
            (r["id"], g)
            for g in r["key_facts"]
            if not any(a in q for a in g for q in r["gold_quotes"])
        ]
        if r["answerable"]:
            assert r["key_facts"] and r["gold_quotes"], r["id"]
        else:
            assert r["category"] == "negative" and not r["gold_quotes"] and not r["key_facts"]
    assert not bad


def test_heldout_mix_is_what_issue_12_asks() -> None:
    rows_ = heldout_rows()
    n = len(rows_)
    cross = [
        r for r in rows_ if any(doc_at(s).lang != r["lang"] for s in r.get("gold_sources", []))
    ]
    assert len(cross) >= 0.30 * n
    assert sum(1 for r in rows_ if not r["answerable"]) >= 0.22 * n
    multi = [r for r in rows_ if r["category"] in ("list", "compare")]
    assert len(multi) >= 18
    assert all(len(r["key_facts"]) >= 2 for r in multi), [r["id"] for r in multi]
    cats = Counter(r["category"] for r in rows_)
    assert cats["latest"] >= 5 and cats["strategy"] >= 5 and cats["follow-up"] >= 5
    assert all(r["history"] for r in rows_ if r["category"] == "follow-up")
    # typed the way analysts type: short, lower-case questions
    assert sum(1 for r in rows_ if r["question"] == r["question"].lower()) >= 25
    # over the new articles and over the older corpus
    sources = {s for r in rows_ for s in r.get("gold_sources", [])}
    assert sum(1 for s in sources if Path(s).name.startswith("h")) >= 14
    assert sum(1 for s in sources if not Path(s).name.startswith("h")) >= 15


def test_heldout_articles_come_in_the_page_types_users_paste() -> None:
    new = [p for p in CORPUS.rglob("h[0-9][0-9]_*") if not p.name.endswith(".meta.yaml")]
    assert len(new) >= 14
    pages = [p for p in new if p.suffix == ".html"]
    wechat = [
        p
        for p in pages
        if all(
            m.encode() in p.read_bytes()
            for m in ('id="js_content"', "点击上方蓝字关注我们", "阅读原文", "二维码")
        )
    ]
    assert len(wechat) >= 4
    big5 = []
    for p in pages:
        data = p.read_bytes()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp950")
            assert "廣告" in text and "記者" in text, p.name
            big5.append(p)
    assert len(big5) >= 3
    english = [p for p in pages if load_file(p).document.lang == "en"]
    assert len(english) >= 3
    assert all(b"cookie" in p.read_bytes() and b"newsletter" in p.read_bytes() for p in english)
    pastes = [p for p in new if p.parent.name == "forum"]
    assert len(pastes) >= 2
    for p in pastes:
        assert looks_like_forum_paste(p.read_text(encoding="utf-8")), p.name
        assert (ROOT / "tests" / "fixtures" / "forum_clean" / f"{p.stem}.md").is_file()
