"""Hybrid retrieval: dense (Chroma) + keyword (BM25 over jieba tokens), fused by RRF.

Queries are normalised (width, traditional->simplified, case) and, with the glossary on,
expanded with vendor/term aliases so English questions reach Chinese text and the
reverse. ``HybridRetriever`` (``rag.retriever``) exposes the same search as a LangChain
``BaseRetriever``; it lives apart so that answering a question does not import LangChain's
runnables (a second of a cold ``rag ask``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.embeddings import NamedEmbeddings
from rag.glossary import expand_query
from rag.keyword import ChunkIndex
from rag.store import Store
from rag.textnorm import normalize, tokenize
from rag.types import Passage

# small k: agreement at the top of the lists matters more than depth (measured on the dev set)
RRF_K = 5


@dataclass
class SearchResult:
    passages: list[Passage]
    timings: dict[str, float]
    query_tokens: list[str]


class Searcher:
    """Runs one query against the store's vectors and the keyword index."""

    def __init__(
        self,
        store: Store,
        embeddings: NamedEmbeddings,
        mode: str = "hybrid",
        glossary: bool = True,
        depth: int = 40,
        dense_weight: float = 1.0,
        keyword_weight: float = 1.0,
    ) -> None:
        self.store = store
        self.embeddings = embeddings
        self.mode = mode
        self.glossary = glossary
        self.depth = depth
        self.dense_weight = dense_weight
        self.keyword_weight = keyword_weight
        self._lang_cache: dict[str, int] = {}
        self._lang_key: tuple[int, int] | None = None

    def _lang_counts(self, index: ChunkIndex) -> dict[str, int]:
        key = (id(index), index.generation)
        if self._lang_key != key:
            counts: dict[str, int] = {}
            for d in index.doc_ids:
                lang = index.docs[d].lang
                counts[lang] = counts.get(lang, 0) + 1
            self._lang_cache, self._lang_key = counts, key
        return self._lang_cache

    def search(
        self,
        index: ChunkIndex,
        query: str,
        k: int = 5,
        *,
        vendors: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        expand: Sequence[str] = (),
    ) -> SearchResult:
        """The ``k`` best passages: one dense list per corpus language and BM25, fused.

        ``expand`` adds keyword terms (the learned names of the question's entities in the
        other script), as the glossary expansion does for its seed names.
        """
        timings: dict[str, float] = {}
        allowed = index.allowed_docs(vendors, since, until)
        norm = normalize(query)
        tokens = tokenize(query)
        if self.glossary:
            for alias in expand_query(norm):
                tokens.extend(tokenize(alias))
            have = set(tokens)  # learned names add only the words the query lacks
            tokens.extend(t for name in expand for t in tokenize(name) if t not in have)
        depth = max(self.depth, k * 4)
        dense_lists: list[list[tuple[int, float]]] = []
        if self.mode in ("hybrid", "dense") and len(index):
            t = time.perf_counter()
            vec = self.embeddings.embed_query_np(query)
            timings["embed"] = time.perf_counter() - t
            t = time.perf_counter()
            doc_filter = sorted(allowed) if allowed is not None else None
            # The multilingual encoder ranks same-language text first whatever it says, so an
            # English question never reaches Chinese chunks in one shared ranking. One ranked
            # list per corpus language, fused below, lets each language's best chunk compete.
            for lang, count in self._lang_counts(index).items():
                found = self.store.query(vec, min(depth, count), doc_filter, lang=lang)
                dense_lists.append(
                    [(index.position[cid], s) for cid, s in found if cid in index.position]
                )
            timings["dense"] = time.perf_counter() - t
        keyword: list[tuple[int, float]] = []
        if self.mode in ("hybrid", "keyword"):
            t = time.perf_counter()
            keyword = index.keyword_search(tokens, depth, allowed)
            timings["keyword"] = time.perf_counter() - t
        t = time.perf_counter()
        fused: dict[int, float] = {}
        comp: dict[int, dict[str, float]] = {}
        ranked = [(self.dense_weight, "dense", hits) for hits in dense_lists]
        ranked.append((self.keyword_weight, "keyword", keyword))
        for weight, name, hits in ranked:
            for rank, (row, score) in enumerate(hits):
                fused[row] = fused.get(row, 0.0) + weight / (RRF_K + rank + 1)
                comp.setdefault(row, {})[name] = score
                comp[row][f"{name}_rank"] = rank + 1
        order = sorted(fused, key=lambda r: -fused[r])[:k]
        passages = []
        for row in order:
            d = index.docs[index.doc_ids[row]]
            passages.append(
                Passage(
                    chunk_id=index.chunk_ids[row],
                    doc_id=d.doc_id,
                    title=d.title,
                    source=d.source,
                    date=d.date,
                    lang=d.lang,
                    vendors=d.vendors,
                    start=int(index.starts[row]),
                    end=int(index.ends[row]),
                    text=index.texts[row],
                    score=fused[row],
                    scores=comp[row],
                )
            )
        timings["fuse"] = time.perf_counter() - t
        return SearchResult(passages, timings, tokens)


def dense_top_score(passages: list[Passage]) -> float:
    """Best dense cosine among passages (0 when none came from the dense side)."""
    return max((p.scores.get("dense", 0.0) for p in passages), default=0.0)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / ((np.linalg.norm(a) * np.linalg.norm(b)) or 1.0))
