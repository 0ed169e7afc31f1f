"""The in-memory chunk table and BM25 keyword index, rebuilt from Chroma alone.

Chunk texts, offsets and their stored jieba tokens are read back from the chunk
collection, so any process can rebuild this in seconds and app processes stay stateless.
Retrieval filters (vendors, dates) are applied here as a mask over chunks.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rag.store import Store


@dataclass
class DocInfo:
    doc_id: str
    title: str
    source: str
    date: str | None
    date_i: int
    lang: str
    vendors: list[str]
    url: str | None
    paths: list[str]
    n_chunks: int


@dataclass
class ChunkIndex:
    """Every visible chunk, in arrays, plus a BM25 index over their tokens."""

    generation: int
    chunk_ids: list[str] = field(default_factory=list)
    doc_ids: list[str] = field(default_factory=list)
    starts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    ends: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    texts: list[str] = field(default_factory=list)
    docs: dict[str, DocInfo] = field(default_factory=dict)
    position: dict[str, int] = field(default_factory=dict)
    bm25: Any = None
    vocab: set[str] = field(default_factory=set)
    _doc_rows: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def rows_of(self, doc_ids: set[str]) -> np.ndarray:
        parts = [self._doc_rows[d] for d in doc_ids if d in self._doc_rows]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def allowed_docs(self, vendors: list[str] | None = None, since: str | None = None,
                     until: str | None = None) -> set[str] | None:
        """Doc ids passing the filters, or None when no filter is set."""
        if not vendors and not since and not until:
            return None
        from rag.glossary import canonical_vendor
        from rag.store import _date_int

        want = {(canonical_vendor(v) or v).lower() for v in vendors or []}
        lo = _date_int(since) if since else 0
        hi = _date_int(until) if until else 99999999
        if until and len(until) <= 7:  # "2025" or "2025-06" include the whole period
            hi = _date_int(until) + (9999 if len(until) == 4 else 99)
        out = set()
        for d in self.docs.values():
            if want and not want & {v.lower() for v in d.vendors}:
                continue
            if (since or until) and not (lo <= d.date_i <= hi):
                continue
            out.add(d.doc_id)
        return out

    def keyword_search(self, query_tokens: list[str], k: int,
                       allowed: set[str] | None = None) -> list[tuple[int, float]]:
        """Top ``k`` (row, BM25 score) for the tokens, within allowed documents."""
        toks = [t for t in query_tokens if t in self.vocab]
        if not toks or self.bm25 is None or len(self) == 0:
            return []
        scores = np.asarray(self.bm25.get_scores(toks), dtype=np.float32)
        if allowed is not None:
            mask = np.zeros(len(scores), dtype=bool)
            mask[self.rows_of(allowed)] = True
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]


_BUILD_LOCK = threading.Lock()


def build_index(store: Store) -> ChunkIndex:
    """Read every visible chunk from Chroma and index its stored tokens with BM25."""
    import bm25s

    with _BUILD_LOCK:
        generation = store.generation()
        metas = store.doc_meta()
        index = ChunkIndex(generation=generation)
        for doc_id, m in metas.items():
            index.docs[doc_id] = DocInfo(
                doc_id=doc_id, title=m.get("title", ""), source=m.get("source", ""),
                date=m.get("date") or None, date_i=int(m.get("date_i", 0)), lang=m.get("lang", ""),
                vendors=json.loads(m.get("vendors") or "[]"), url=m.get("url") or None,
                paths=json.loads(m.get("paths") or "[]"), n_chunks=int(m.get("n_chunks", 0)),
            )
        rows: list[tuple[str, int, str, int, int, str, list[str]]] = []
        for cid, meta in store.iter_chunk_meta(with_text=True):
            d = meta.get("doc_id")
            if d not in index.docs:
                continue  # orphan of an interrupted ingest: invisible
            rows.append((d, int(meta.get("index", 0)), cid, int(meta["start"]), int(meta["end"]),
                         meta["text"], str(meta.get("tokens", "")).split()))
        rows.sort(key=lambda r: (r[0], r[1]))
        corpus_tokens = []
        for i, (d, _ix, cid, s, e, text, toks) in enumerate(rows):
            index.chunk_ids.append(cid)
            index.doc_ids.append(d)
            index.texts.append(text)
            index.position[cid] = i
            corpus_tokens.append(toks or ["\u0000"])
        index.starts = np.array([r[3] for r in rows], dtype=np.int64)
        index.ends = np.array([r[4] for r in rows], dtype=np.int64)
        doc_rows: dict[str, list[int]] = {}
        for i, d in enumerate(index.doc_ids):
            doc_rows.setdefault(d, []).append(i)
        index._doc_rows = {d: np.array(r, dtype=np.int64) for d, r in doc_rows.items()}
        if corpus_tokens:
            bm = bm25s.BM25()
            bm.index(corpus_tokens, show_progress=False)
            index.bm25 = bm
            index.vocab = {t for toks in corpus_tokens for t in toks}
        return index
