"""Hybrid retrieval: dense (exact scan of the chunk vectors) + keyword (BM25 over jieba
tokens), fused by RRF.

The searcher owns what it searches: ``SearchIndex`` holds one ``ChunkIndex`` (chunk table,
BM25 index and dense table, ``rag.keyword``/``rag.dense``) built from the store and rebuilt
when the store's generation moves; every ``Searcher`` of a ``QA`` shares it.

Queries are normalised (width, traditional->simplified, case) and, with the glossary on,
expanded with vendor/term aliases so English questions reach Chinese text and the reverse.
``HybridRetriever`` (``rag.retriever``) exposes the same search as a LangChain
``BaseRetriever``; it lives apart so that answering a question does not import LangChain's
runnables (a second of a cold ``rag ask``). This module neither writes the store nor answers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.embeddings import NamedEmbeddings
from rag.glossary import expand_query
from rag.keyword import ChunkIndex, build_index
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


class SearchIndex:
    """The ``ChunkIndex`` of a store, built on first use and rebuilt when its generation moves.

    Args:
        store: the store the index is read from.
        on_rebuild: called after each (re)build, e.g. to drop caches of stored documents.
    """

    def __init__(self, store: Store, on_rebuild: Callable[[], None] | None = None) -> None:
        self.store = store
        self.on_rebuild = on_rebuild
        self._index: ChunkIndex | None = None
        self._lock = threading.Lock()

    def current(self) -> ChunkIndex:
        """The index of the store's current generation (one generation read when it is)."""
        generation = self.store.generation()
        idx = self._index
        if idx is not None and idx.generation == generation:
            return idx
        with self._lock:
            if self._index is None or self._index.generation != generation:
                self._index = build_index(self.store)
                if self.on_rebuild is not None:
                    self.on_rebuild()
            return self._index

    def drop(self) -> None:
        """Forget the index (this process changed the store): the next search rebuilds it."""
        self._index = None


class Searcher:
    """Runs one query against the chunk vectors and the keyword index of a ``SearchIndex``."""

    def __init__(
        self,
        index: SearchIndex,
        embeddings: NamedEmbeddings,
        mode: str = "hybrid",
        glossary: bool = True,
        depth: int = 40,
        dense_weight: float = 1.0,
        keyword_weight: float = 1.0,
    ) -> None:
        self.index = index
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
        query: str,
        k: int = 5,
        *,
        vendors: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        expand: Sequence[str] = (),
        only: set[str] | None = None,
    ) -> SearchResult:
        """The ``k`` best passages: one dense list per corpus language and BM25, fused.
        ``only``: search these documents alone.

        ``expand`` adds keyword terms (the learned names of the question's entities in the
        other script), as the glossary expansion does for its seed names.
        """
        timings: dict[str, float] = {}
        index = self.index.current()
        allowed = index.allowed_docs(vendors, since, until)
        if only is not None:
            allowed = set(only) if allowed is None else allowed & set(only)
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
                found = index.dense.search(vec, min(depth, count), doc_filter, lang=lang)
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
        ranked = [(self.dense_weight, "dense", hits) for hits in dense_lists]
        ranked.append((self.keyword_weight, "keyword", keyword))
        fused, comp = _fuse(ranked)
        order = sorted(fused, key=lambda r: -fused[r])[:k]
        passages = [_passage(index, row, fused[row], comp[row]) for row in order]
        timings["fuse"] = time.perf_counter() - t
        return SearchResult(passages, timings, tokens)


def _fuse(
    ranked: list[tuple[float, str, list[tuple[int, float]]]],
) -> tuple[dict[int, float], dict[int, dict[str, float]]]:
    """Weighted reciprocal-rank fusion of ranked (row, score) lists: each row's fused score,
    and its score and rank in each list by the list's name."""
    fused: dict[int, float] = {}
    comp: dict[int, dict[str, float]] = {}
    for weight, name, hits in ranked:
        for rank, (row, score) in enumerate(hits):
            fused[row] = fused.get(row, 0.0) + weight / (RRF_K + rank + 1)
            comp.setdefault(row, {})[name] = score
            comp[row][f"{name}_rank"] = rank + 1
    return fused, comp


def _passage(index: ChunkIndex, row: int, score: float, scores: dict[str, float]) -> Passage:
    d = index.docs[index.doc_ids[row]]
    return Passage(
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
        score=score,
        scores=scores,
    )
