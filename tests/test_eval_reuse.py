"""The harness embeds each case's query once: the k=10 search reuses the ``ask``'s vector.

Runs the harness's own store opening (ingest plus the warm-up search) and
``evaluate_config`` on a real Chroma store in ``tmp_path`` with the deterministic hash
embedder, counting the calls that reach the embedder. The bug this pins: the harness swapped
``qa.embeddings`` after the warm-up search had built (and ``QA`` had cached) a searcher that
holds the old embedder, so the reuse never applied and every case was embedded twice.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evals import harness as H
from rag.embeddings import HashEmbeddings

TEXTS = {
    "alpha.txt": "The Alpha-9 accelerator carries 64GB of memory. It ships in March.\n\n"
    "Its interconnect runs at 400GB/s between chips.",
    "beta.txt": "Beta Systems opened a plant in the north. The plant makes boards.\n\n"
    "Its chief executive said demand doubled this year.",
}


def _case(cid: str, question: str, history: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {
        "id": cid,
        "question": question,
        "lang": "en",
        "category": "follow-up" if history else "spec",
        "answerable": True,
        "gold_doc_ids": [],
        "gold_quotes": [],
        "key_facts": [["64GB"]],
        "history": history or [],
        "answer": "",
    }


CASES = [
    _case("c1", "How much memory does the Alpha-9 have?"),
    _case("c2", "What did the chief executive of Beta Systems say?"),
    _case(
        "c3",
        "And its interconnect?",
        [{"role": "user", "content": "How much memory does the Alpha-9 have?"}],
    ),
]


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every query text that reaches the hash embedder, in order."""
    calls: list[str] = []
    real = HashEmbeddings.embed_query_np

    def embed_query_np(self: HashEmbeddings, text: str) -> np.ndarray:
        calls.append(text)
        return real(self, text)

    monkeypatch.setattr(HashEmbeddings, "embed_query_np", embed_query_np)
    return calls


def _stores(tmp_path: Path, configs: list[H.EvalConfig]) -> dict[str, Any]:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in TEXTS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    args = argparse.Namespace(data_dir=str(tmp_path / "data"), corpus=str(corpus))
    settings = H.base_settings().with_(answerer="offline")
    stores, _, problems = H._open_stores(configs, args, settings)
    assert problems == []
    return stores


def test_each_case_is_embedded_once_under_every_configuration(
    tmp_path: Path, counted: list[str]
) -> None:
    configs = [
        H.EvalConfig("first", "fake", {}),
        H.EvalConfig("second", "fake", {"mode": "hybrid", "glossary": False}),
    ]
    stores = _stores(tmp_path, configs)
    qa = stores["fake"]
    for cfg in configs:
        # what the answers alone embed under this configuration
        counted.clear()
        for case in CASES:
            qa.ask(case["question"], case["history"] or None, **cfg.overrides)
        asks_alone = list(counted)
        assert asks_alone, "the asks embed their questions"

        counted.clear()
        records = H.evaluate_config(qa, cfg, CASES)
        assert [r.get("error") for r in records] == [None] * len(CASES)
        # the k=10 search of every case reused the ask's vector: no extra embedder call
        assert counted == asks_alone, cfg.name
        assert all(len(r["retrieved"]) > 0 for r in records)


def test_the_wrapper_reuses_only_inside_reusing_and_forwards_the_rest(counted: list[str]) -> None:
    inner = HashEmbeddings(64)
    inner.batch_size = 7  # type: ignore[attr-defined]  # what the ingest batches by
    emb = H.ReusingEmbeddings(inner)
    assert emb.batch_size == 7 and emb.embedder_id == inner.embedder_id
    first = emb.embed_query_np("memory of the Alpha-9")
    emb.embed_query_np("memory of the Alpha-9")  # outside reusing(): embedded again
    with emb.reusing():
        again = emb.embed_query_np("memory of the Alpha-9")
        emb.embed_query_np("another question")  # another text: embedded
    assert counted == ["memory of the Alpha-9"] * 2 + ["another question"]
    assert emb.reused == 1 and np.array_equal(first, again)
    assert np.array_equal(emb.embed_documents_np(["a b"]), inner.embed_documents_np(["a b"]))
