"""Exact dense search over the stored chunk vectors, held in memory by the searcher.

``DenseTable`` keeps every visible chunk's vector in one normalised block per language and
answers "the ``n`` nearest chunks of this language / these documents" by one matrix-vector
product. It is built page by page (``DenseBlocks``) from the same Chroma read as the keyword
index and cached on disk with it (``rag.keyword``), so Chroma stays the only source of truth.

Why not Chroma's own HNSW index: every search is filtered (one ranked list per corpus
language, often restricted to some documents), Chroma collects every matching id before a
filtered search (a tenth of a second for a language filter over 10k chunks) and its filtered
HNSW search can return fewer hits than asked. A scan is exact and takes about 8 ms at 100k
chunks. This module does not read Chroma, embed text or fuse rankings (``rag.retrieve``).
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

_blas: Any = None


def one_blas_thread() -> contextlib.AbstractContextManager[Any]:
    """Run a scan with one BLAS thread.

    A multi-threaded OpenBLAS call leaves its threads spinning for a while after it returns;
    on 2 cores they took the CPU from the next question's embedding (e5 query 28 -> 52 ms
    after a 10k-chunk scan). One thread scans 10k chunks in about 1 ms anyway. Costs 0.03 ms
    per call.
    """
    global _blas
    if _blas is None:
        try:
            from threadpoolctl import ThreadpoolController

            _blas = ThreadpoolController()
        except Exception:  # pragma: no cover - threadpoolctl is a dependency
            _blas = False
    if not _blas:
        return contextlib.nullcontext()
    return _blas.limit(limits=1, user_api="blas")


class DenseTable:
    """Every visible chunk's vector, in one normalised block per language.

    A block is stored dimension-major (``d x n``), which this machine's BLAS scans about
    twice as fast: 100k chunks in about 8 ms.

    Args:
        generation: the store generation the vectors were read at.
        blocks: per language, the ``d x n`` vectors (normalised here, in place if possible).
        block_ids: per language, the chunk id of each block column.
        block_docs: per language, the document id of each block column.
    """

    def __init__(
        self,
        generation: int,
        blocks: dict[str, np.ndarray],
        block_ids: dict[str, list[str]],
        block_docs: dict[str, list[str]],
    ) -> None:
        self.generation = generation
        self.blocks: dict[str, np.ndarray] = {}
        for lang, block in blocks.items():
            block = np.asarray(block, dtype=np.float32)
            if block.shape[1]:
                norms = np.linalg.norm(block, axis=0)
                norms[norms == 0] = 1.0
                if block.flags.writeable and block.flags.c_contiguous:
                    block /= norms
                else:
                    block = np.ascontiguousarray(block / norms)
            self.blocks[lang] = block
        self.block_ids = block_ids
        self.doc_lang: dict[str, str] = {}
        self.doc_rows: dict[str, np.ndarray] = {}
        for lang, docs in block_docs.items():
            rows: dict[str, list[int]] = {}
            for i, d in enumerate(docs):
                rows.setdefault(d, []).append(i)
            for d, r in rows.items():
                self.doc_lang[d] = lang
                self.doc_rows[d] = np.asarray(r, dtype=np.int64)

    def __len__(self) -> int:
        return sum(len(ids) for ids in self.block_ids.values())

    def search(
        self,
        vector: np.ndarray,
        n: int,
        doc_ids: list[str] | None = None,
        lang: str | None = None,
    ) -> list[tuple[str, float]]:
        """The ``n`` nearest chunks as (chunk_id, cosine similarity), best first.

        Args:
            vector: the query vector (any norm).
            n: how many hits at most.
            doc_ids: only chunks of these documents (None: any; empty: none).
            lang: only chunks of documents in this language (None: any).
        """
        if (doc_ids is not None and not doc_ids) or n <= 0:
            return []
        q = np.asarray(vector, dtype=np.float32).ravel()
        q = q / (float(np.linalg.norm(q)) or 1.0)
        with one_blas_thread():
            return self._scan(q, n, doc_ids, lang)

    def _scan(
        self, q: np.ndarray, n: int, doc_ids: list[str] | None, lang: str | None
    ) -> list[tuple[str, float]]:
        if doc_ids is None and lang is not None:
            block = self.blocks.get(lang)
            if block is None or not block.shape[1]:
                return []
            return self._top(self.block_ids[lang], q @ block, n)
        parts: dict[str, list[np.ndarray]] = {}
        if doc_ids is None:  # every language
            parts = {got: [np.arange(b.shape[1])] for got, b in self.blocks.items()}
        for d in doc_ids or []:
            got = self.doc_lang.get(d)
            if got is not None and (lang is None or got == lang):
                parts.setdefault(got, []).append(self.doc_rows[d])
        ids: list[str] = []
        scores: list[np.ndarray] = []
        for got, rows_list in parts.items():
            rows = np.concatenate(rows_list)
            scores.append(q @ self.blocks[got][:, rows])
            block_ids = self.block_ids[got]
            ids.extend(block_ids[int(r)] for r in rows)
        if not ids:
            return []
        return self._top(ids, np.concatenate(scores), n)

    @staticmethod
    def _top(ids: list[str], scores: np.ndarray, n: int) -> list[tuple[str, float]]:
        k = min(n, len(scores))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(ids[int(i)], float(scores[i])) for i in top]

    def block_docs(self, lang: str) -> list[str]:
        """The document of each column of a language's block."""
        out = [""] * len(self.block_ids[lang])
        for d, rows in self.doc_rows.items():
            if self.doc_lang[d] == lang:
                for r in rows.tolist():
                    out[r] = d
        return out


class DenseBlocks:
    """Per-language vector blocks (dimension-major) filled page by page, sized from the
    documents' chunk counts so that they are allocated once."""

    def __init__(self, expected: dict[str, int]) -> None:
        self.expected = expected
        self.blocks: dict[str, np.ndarray] = {}
        self.ids: dict[str, list[str]] = {}
        self.docs: dict[str, list[str]] = {}

    def __len__(self) -> int:
        return sum(len(v) for v in self.ids.values())

    def add(self, lang: str, vectors: np.ndarray, ids: list[str], docs: list[str]) -> None:
        """Append the vectors (one row each) of chunks ``ids`` of documents ``docs``."""
        block = self.blocks.get(lang)
        n = len(self.ids.setdefault(lang, []))
        need = n + len(ids)
        if block is None or need > block.shape[1]:  # first page, or more than announced
            cap = max(self.expected.get(lang, 0), 2 * need, 16)
            grown = np.empty((vectors.shape[1], cap), dtype=np.float32)
            if block is not None:
                grown[:, :n] = block[:, :n]
            self.blocks[lang] = block = grown
        block[:, n:need] = vectors.T
        self.ids[lang].extend(ids)
        self.docs.setdefault(lang, []).extend(docs)

    def table(self, generation: int) -> DenseTable:
        """The finished table (blocks trimmed to what was added)."""
        blocks = {}
        for lang, b in self.blocks.items():
            n = len(self.ids[lang])
            blocks[lang] = b if n == b.shape[1] else np.ascontiguousarray(b[:, :n])
        return DenseTable(generation, blocks, self.ids, self.docs)
