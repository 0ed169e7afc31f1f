"""Synthetic documents for the benchmark's larger stores, made from the real ones.

Each chunk is a window of at least half of one real chunk's sentences with one or two
sentences of another chunk of the same language spliced in, digits permuted in half of
them; its tokens are the real sentences' tokens (permuted alike) and its vector the two
real vectors mixed by length, plus Gaussian noise, normalised. Documents have 4-40 chunks
and take title, language and vendors from a real document. Deterministic for a seed. It
does not write anything: ``benchmarks.workers.w_build`` writes what it yields.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from benchmarks.settings import SYNTHETIC_NOISE

_PIECE = re.compile(r"[^。！？!?；;\n]+(?:[。！？!?；;]+|\n+|$)")

Synthetic = tuple[Any, list[Any], np.ndarray, list[str], list[str]]


def _pieces(text: str) -> list[str]:
    got = [m.group(0) for m in _PIECE.finditer(text) if m.group(0).strip()]
    return got or [text]


class _Material:
    """The real chunks cut into sentences, by language, with a token cache."""

    def __init__(self, base: dict[str, Any], vectors: np.ndarray) -> None:
        from rag.textnorm import tokenize_uncached

        self.tokenize: Callable[[str], list[str]] = tokenize_uncached
        self.chunks = base["chunks"]
        self.docs = {d["doc_id"]: d for d in base["docs"]}
        self.vectors = vectors
        self.pieces = [_pieces(c["text"]) for c in self.chunks]
        lang_of = [self.docs[c["doc_id"]]["lang"] for c in self.chunks]
        self.pools = {
            lang: np.array([i for i, g in enumerate(lang_of) if g == lang]) for lang in set(lang_of)
        }
        self._tokens: dict[str, list[str]] = {}

    def toks(self, piece: str) -> list[str]:
        got = self._tokens.get(piece)
        if got is None:
            got = self._tokens[piece] = self.tokenize(piece)
        return got


def _chunk(rng: np.random.Generator, m: _Material, pool: np.ndarray) -> tuple[str, str, np.ndarray]:
    """One synthetic chunk: its text, its tokens (space-joined) and its vector."""
    r, r2 = int(pool[rng.integers(len(pool))]), int(pool[rng.integers(len(pool))])
    pr, pr2 = m.pieces[r], m.pieces[r2]
    half = max(1, (len(pr) + 1) // 2)
    a = int(rng.integers(0, len(pr) - half + 1))
    b = int(rng.integers(a + half, len(pr) + 1))
    main_part = pr[a:b]
    k2 = int(rng.integers(1, min(2, len(pr2)) + 1))
    s2 = int(rng.integers(0, len(pr2) - k2 + 1))
    pos = int(rng.integers(0, len(main_part) + 1))
    parts = main_part[:pos] + pr2[s2 : s2 + k2] + main_part[pos:]
    text = "".join(parts).strip()
    tk = [t for p in parts for t in m.toks(p)]
    if rng.random() < 0.5:
        table = str.maketrans("0123456789", "".join(str(d) for d in rng.permutation(10)))
        text = text.translate(table)
        tk = [t.translate(table) for t in tk]
    w = sum(len(p) for p in main_part) / max(1, sum(len(p) for p in parts))
    dim = m.vectors.shape[1]
    v = w * m.vectors[r] + (1.0 - w) * m.vectors[r2] + rng.normal(0.0, SYNTHETIC_NOISE, dim)
    return text, " ".join(tk), v / (np.linalg.norm(v) or 1.0)


def _document(
    rng: np.random.Generator, i: int, src: dict[str, Any], texts: list[str]
) -> tuple[Any, list[Any]]:
    """The ``i``-th synthetic document of ``texts`` (its chunks, with exact offsets)."""
    from rag.types import Chunk, Document

    doc_id = f"syn{i:013d}"
    doc_chunks = []
    start = 0
    for j, t in enumerate(texts):
        doc_chunks.append(
            Chunk(
                chunk_id=f"{doc_id}:{j}", doc_id=doc_id, index=j, start=start,
                end=start + len(t), text=t,
            )
        )  # fmt: skip
        start += len(t) + 2
    date = f"{int(rng.integers(2022, 2027))}-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}"
    doc = Document(
        doc_id=doc_id,
        title=f"{src['title']} (synthetic {i})",
        source=f"synthetic://{i}",
        date=date,
        lang=src["lang"],
        vendors=list(src["vendors"]),
        text="\n\n".join(texts),
    )
    return doc, doc_chunks


def synthetic_documents(
    base: dict[str, Any], vectors: np.ndarray, n_chunks: int, seed: int = 7
) -> Iterator[Synthetic]:
    """Synthetic documents totalling ``n_chunks`` chunks, made from the real ones, as
    ``(document, chunks, vectors, tokens, paths)`` the way ``Store.write_documents`` takes them."""
    rng = np.random.default_rng(seed)
    m = _Material(base, vectors)
    made = 0
    i = 0
    while made < n_chunks:
        n = min(int(rng.integers(4, 41)), n_chunks - made)
        src = m.docs[m.chunks[int(rng.integers(len(m.chunks)))]["doc_id"]]
        pool = m.pools[src["lang"]]
        texts: list[str] = []
        token_lists: list[str] = []
        vecs = np.empty((n, vectors.shape[1]), dtype=np.float32)
        for j in range(n):
            text, tokens, vecs[j] = _chunk(rng, m, pool)
            texts.append(text)
            token_lists.append(tokens)
        doc, doc_chunks = _document(rng, i, src, texts)
        yield doc, doc_chunks, vecs, token_lists, [f"synthetic://{i}"]
        made += n
        i += 1
