"""The search side over a real Chroma store: the dense table answers cosine similarity with
language and document filters, BM25 scores follow the Lucene formula, date filters take in
whole periods, and the searcher's index follows the store's generation."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from rag.dates import date_int, date_range
from rag.keyword import BM25Postings, build_index
from rag.retrieve import SearchIndex
from tests.test_store import DIM, make_doc, make_store, put


def test_similarity_is_cosine(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    d, chunks, _ = make_doc("cos", "abcdefgh", n=2)
    e0 = np.eye(DIM, dtype=np.float32)[:2] * 3.0  # any norm: the table normalises
    store.write_document(d, chunks, e0, ["", ""], ["/x"])
    dense = build_index(store, use_cache=False).dense
    hits = dict(dense.search(np.eye(DIM, dtype=np.float32)[0], 2))
    assert hits["cos:0"] == pytest.approx(1.0, abs=1e-5)
    assert hits["cos:1"] == pytest.approx(0.0, abs=1e-5)  # orthogonal


def test_dense_search_filters_by_document_and_language(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    put(store, "zh1", lang="zh")
    put(store, "zh2", lang="zh")
    put(store, "en1", "TSMC raised capex to 38 to 42 billion dollars.", lang="en")
    dense = build_index(store, use_cache=False).dense
    vec = np.ones(DIM, dtype=np.float32) / np.sqrt(DIM)
    assert {c.split(":")[0] for c, _ in dense.search(vec, 4, lang="en")} == {"en1"}
    assert {c.split(":")[0] for c, _ in dense.search(vec, 4, doc_ids=["zh1"])} == {"zh1"}
    assert dense.search(vec, 4, doc_ids=["zh1"], lang="en") == []
    assert dense.search(vec, 4, doc_ids=[]) == []
    every = dense.search(vec, 10)
    assert len(every) == 6 and [s for _, s in every] == sorted((s for _, s in every), reverse=True)
    assert dense.search(vec, 2, lang="zh") == dense.search(vec, 10, lang="zh")[:2]


def test_bm25_scores_follow_the_lucene_formula() -> None:
    docs = [["a", "b", "a"], ["b", "c"], ["c", "c", "c", "d"]]
    vocab: dict[str, int] = {}
    rows, terms, tfs = [], [], []
    for i, doc in enumerate(docs):
        for t in dict.fromkeys(doc):
            rows.append(i)
            terms.append(vocab.setdefault(t, len(vocab)))
            tfs.append(doc.count(t))
    bm = BM25Postings.from_counts(
        np.asarray(rows, dtype=np.int32),
        np.asarray(terms, dtype=np.int32),
        np.asarray(tfs, dtype=np.int32),
        np.asarray([len(d) for d in docs]),
        vocab,
    )
    avg = sum(map(len, docs)) / len(docs)

    def expected(query: list[str], doc: list[str]) -> float:
        total = 0.0
        for t in query:
            df = sum(t in d for d in docs)
            idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
            tf = doc.count(t)
            total += idf * tf / (tf + 1.5 * (1 - 0.75 + 0.75 * len(doc) / avg)) if tf else 0.0
        return total

    for query in (["a"], ["c", "b"], ["c", "c"], ["zzz", "d"]):
        got = bm.get_scores(query)
        assert got.tolist() == pytest.approx([expected(query, d) for d in docs], rel=1e-5)


def test_date_filter_keys() -> None:
    assert date_int("2026-01-29") == 20260129
    assert date_int("2025-09") == 20250900
    assert date_int("2024") == 20240000
    assert date_int(None) == 0
    assert date_int("soon") == 0
    assert date_range(None, None) == (0, 99999999)
    assert date_range("2025-06", "2025") == (20250600, 20259999)
    lo, hi = date_range(None, "2025-06")
    assert lo == 0 and hi >= date_int("2025-06-30") and hi < date_int("2025-07-01")


def test_filters_keep_documents_in_the_period(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    put(store, "old", date="2024-12-31")
    put(store, "june", date="2025-06-30")
    put(store, "july", date="2025-07-01")
    index = build_index(store, use_cache=False)
    assert index.allowed_docs(until="2025-06") == {"old", "june"}
    assert index.allowed_docs(since="2025-01-01", until="2025") == {"june", "july"}
    assert index.allowed_docs() is None


def test_search_index_follows_the_store_generation(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    put(store, "first")
    rebuilt: list[int] = []
    live = SearchIndex(store, on_rebuild=lambda: rebuilt.append(1))
    one = live.current()
    assert live.current() is one and len(rebuilt) == 1  # unchanged store: same index
    writer = make_store(tmp_path)  # another handle writes, as another process would
    put(writer, "second")
    two = live.current()
    assert two is not one and set(two.docs) == {"first", "second"} and len(rebuilt) == 2
    vec = np.ones(DIM, dtype=np.float32)
    assert {c.split(":")[0] for c, _ in two.dense.search(vec, 10)} == {"first", "second"}
    live.drop()
    assert live.current() is not two and len(rebuilt) == 3


def test_a_named_model_drowned_by_common_words_is_still_searched_for(tmp_path: Path) -> None:
    """A model number only one article names, asked about with words many articles repeat,
    is looked for in the articles naming it before the answer says no source mentions it
    (keyword retrieval alone, so that the hash embedder's ranking cannot find it by luck)."""
    from rag import QA
    from rag.config import Settings

    qa = QA.open(tmp_path / "store", settings=Settings(retrieval="keyword"), embeddings="fake")
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(24):  # articles about anything else
        (folder / f"other{i}.md").write_text(
            f"# Note {i}\n\nThe fab in region {i} hired staff and opened an office.\n",
            encoding="utf-8",
        )
    for i in range(5):  # articles repeating the question's words (and their glossary names)
        (folder / f"bw{i}.md").write_text(
            f"# Memory bandwidth {i}\n\nThe memory bandwidth (显存带宽, 内存带宽, HBM "
            f"bandwidth) of line {i} rose; memory bandwidth is what HBM memory sells.\n",
            encoding="utf-8",
        )
    (folder / "zx.md").write_text(
        "# A new part\n\nThe ZX900 accelerator is built on a 5nm process by a foundry.\n",
        encoding="utf-8",
    )
    assert qa.ingest([folder]).failed == 0
    top = qa.search("What is the memory bandwidth of the ZX900?")
    assert all("ZX900" not in p.text for p in top.passages)  # the premise: drowned
    answer = qa.ask("What is the memory bandwidth of the ZX900?")
    assert answer.abstained
    assert "mentions" not in answer.text and "ZX900" not in answer.text, answer.text
    assert "bandwidth" in answer.text  # it says the figure is not given
    node = qa.ask("What process is the ZX900 built on?")
    assert not node.abstained and "5nm" in node.text
