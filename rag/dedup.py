"""Near-duplicate stories: the same article run by two outlets is stored once.

Each new document gets a MinHash of its character 5-grams (datasketch 2's ``affine32``
scheme, hash for hash: ``tests/test_dedup.py`` holds it against datasketch), the text
normalised (NFKC, lower case, no whitespace or punctuation), so a copy with another
layout, another site's chrome or half-width punctuation still matches. A document whose
estimated Jaccard similarity with a stored one reaches ``THRESHOLD`` in the same language,
with the same figures, is not stored again: the stored story gains an entry in
``Document.also`` (source, url, title, date, path) and ``also_reported`` renders the line
an answer appends. Different figures (an update: 288GB, then 256GB) keep two stories.
Signatures are kept in the data directory (``minhash.json``); a document stored before
this module existed gets its signature the first time a near-duplicate check runs.

The sketch and its banded LSH index are these few lines of numpy, not datasketch's
classes: importing datasketch imports scipy.integrate for its parameter search, 0.3-0.6 s
that every ingest paid before its first chunk reached the embedder (the index is built
before the first near-duplicate check). The bands are the ones datasketch's
``MinHashLSH(threshold=0.8, num_perm=128)`` chooses (9 of 13 rows), so candidates are the
same too.

It does not merge stories that were rewritten (a summary of someone else's report is a
story of its own), and it never deletes a stored document.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import threading
import unicodedata
from collections.abc import Container
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import numpy as np

from rag.types import Document, FileOutcome

if TYPE_CHECKING:
    from rag.loaders import LoadedFile
    from rag.store import Store

THRESHOLD = 0.8
NUM_PERM = 128
SHINGLE = 5
MIN_CHARS = 200  # shorter texts share too much by chance to call them one story
SIGNATURE_FILE = "minhash.json"
_DROP = re.compile(r"[\s\W_]+", re.UNICODE)
_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")


def _normalised(text: str) -> str:
    return _DROP.sub("", unicodedata.normalize("NFKC", text).lower())


def figures(text: str) -> frozenset[str]:
    """The figures of a text that tell one version of a story from another.

    Numbers up to 31 and years are left out: datelines and timestamps differ between
    outlets running the same story.
    """
    out = set()
    for m in _FIGURE.finditer(unicodedata.normalize("NFKC", text)):
        n = m.group().replace(",", "")
        try:
            value = float(n)
        except ValueError:
            continue
        if value <= 31 or (1990 <= value <= 2099 and "." not in n):
            continue
        out.add(n)
    return frozenset(out)


class MinHash:
    """A MinHash signature: ``num_perm`` uint32 minima of affinely permuted shingle hashes
    (SHA-1's first four bytes, pre-mixed with the MurmurHash3 finalizer), as datasketch 2
    computes them for ``scheme="affine32"``."""

    def __init__(self, hashvalues: np.ndarray) -> None:
        self.hashvalues = np.asarray(hashvalues, dtype=np.uint32)

    @classmethod
    def of(cls, shingles: list[bytes], seed: int = 1) -> MinHash:
        a, b = _permutations(seed, NUM_PERM)
        if not shingles:  # nothing seen: every minimum is still the largest hash
            return cls(np.full(NUM_PERM, np.iinfo(np.uint32).max, dtype=np.uint32))
        hv = np.fromiter(
            (int.from_bytes(hashlib.sha1(x).digest()[:4], "little") for x in shingles),
            dtype=np.uint32,
            count=len(shingles),
        ).reshape(-1, 1)
        hv ^= hv >> np.uint32(16)  # MurmurHash3's 32-bit finalizer (uint32 arithmetic wraps)
        hv *= np.uint32(0x85EBCA6B)
        hv ^= hv >> np.uint32(13)
        hv *= np.uint32(0xC2B2AE35)
        hv ^= hv >> np.uint32(16)
        return cls((hv * a + b).min(axis=0))

    def jaccard(self, other: MinHash) -> float:
        """The estimated Jaccard similarity of the two shingle sets."""
        return float(np.count_nonzero(self.hashvalues == other.hashvalues)) / len(self.hashvalues)


@functools.cache
def _permutations(seed: int, num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    gen = np.random.RandomState(seed)  # datasketch's draw order: every a, then every b
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


class BandIndex:
    """LSH over MinHash signatures: a key is a candidate for a query when one band of
    ``ROWS`` consecutive hash values is equal in both."""

    BANDS, ROWS = 9, 13  # what datasketch's MinHashLSH picks for threshold 0.8, 128 perms

    def __init__(self) -> None:
        self.tables: list[dict[bytes, set[str]]] = [{} for _ in range(self.BANDS)]
        self.keys: dict[str, list[bytes]] = {}

    def _bands(self, mh: MinHash) -> list[bytes]:
        hv = mh.hashvalues
        return [hv[i * self.ROWS : (i + 1) * self.ROWS].tobytes() for i in range(self.BANDS)]

    def __contains__(self, key: str) -> bool:
        return key in self.keys

    def insert(self, key: str, mh: MinHash) -> None:
        bands = self.keys[key] = self._bands(mh)
        for table, band in zip(self.tables, bands, strict=True):
            table.setdefault(band, set()).add(key)

    def remove(self, key: str) -> None:
        for table, band in zip(self.tables, self.keys.pop(key), strict=True):
            table[band].discard(key)
            if not table[band]:
                del table[band]

    def query(self, mh: MinHash) -> list[str]:
        found: set[str] = set()
        for table, band in zip(self.tables, self._bands(mh), strict=True):
            found |= table.get(band, set())
        return sorted(found)


def minhash(text: str) -> MinHash:
    """The MinHash of a text's normalised character 5-grams."""
    norm = _normalised(text)
    return MinHash.of(
        [norm[i : i + SHINGLE].encode("utf-8") for i in range(max(1, len(norm) - SHINGLE + 1))]
    )


class NearDuplicates:
    """The signatures of stored stories, with an LSH index to find a new one's twin."""

    def __init__(self, data_dir: Path, store: Store, metas: dict[str, dict[str, Any]]) -> None:
        self.path = Path(data_dir) / SIGNATURE_FILE
        self.store = store
        self.lock = threading.Lock()
        self.lsh = BandIndex()
        self.sigs: dict[str, dict[str, Any]] = {}
        self.hashes: dict[str, MinHash] = {}
        self.pending: list[tuple[str, dict[str, Any], str]] = []
        self.dirty = False
        # path -> the story it was attached to as another source
        self.alias: dict[str, str] = {
            str(a["path"]): d
            for d, m in metas.items()
            for a in json.loads(m.get("also") or "[]")
            if isinstance(a, dict) and a.get("path")
        }
        try:
            saved = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            saved = {}
        missing = [d for d in metas if d not in saved]
        for doc_id, rec in saved.items():
            if doc_id in metas:
                self._insert(doc_id, rec)
        if missing:  # stored before signatures were kept: compute them once
            for doc in store.documents(with_text=True):
                if doc.doc_id in missing:
                    self.add(doc)
        self.dirty = self.dirty or len(saved) != len(self.sigs)

    def _insert(self, doc_id: str, rec: dict[str, Any]) -> None:
        mh = MinHash(np.array(rec["h"], dtype=np.uint64))
        self.sigs[doc_id] = rec
        self.hashes[doc_id] = mh
        if doc_id not in self.lsh:
            self.lsh.insert(doc_id, mh)

    def add(self, doc: Document, mh: MinHash | None = None) -> None:
        """Remember a document that is (or is about to be) stored."""
        if len(doc.text) < MIN_CHARS:
            return
        mh = mh if mh is not None else minhash(doc.text)
        rec = {
            "h": [int(x) for x in mh.hashvalues],
            "lang": doc.lang,
            "f": sorted(figures(doc.text)),
        }
        with self.lock:
            self._insert(doc.doc_id, rec)
            self.dirty = True

    def twin(
        self, doc: Document, exclude: set[str] | None = None
    ) -> tuple[str | None, MinHash | None]:
        """The stored story ``doc`` is a near-copy of (or None), and ``doc``'s MinHash."""
        if len(doc.text) < MIN_CHARS:
            return None, None
        mh = minhash(doc.text)
        figs = sorted(figures(doc.text))
        best: tuple[float, str] | None = None
        with self.lock:
            for cand in self.lsh.query(mh):
                if cand == doc.doc_id or (exclude and cand in exclude):
                    continue
                rec = self.sigs[cand]
                if rec.get("lang") != doc.lang or rec.get("f") != figs:
                    continue
                sim = float(self.hashes[cand].jaccard(mh))
                if sim >= THRESHOLD and (best is None or sim > best[0]):
                    best = (sim, cand)
        return (best[1] if best else None), mh

    def note(self, story_id: str, doc: Document, key: str) -> None:
        """Record that ``doc`` (read from ``key``) is another source of ``story_id``."""
        entry = {
            "source": doc.source,
            "url": doc.url,
            "title": doc.title,
            "date": doc.date,
            "path": key,
        }
        with self.lock:
            self.pending.append((story_id, entry, key))

    def flush(self) -> list[str]:
        """Write the pending ``also`` entries and the signatures; ids that were updated."""
        from rag.errors import NotFoundError

        with self.lock:
            pending, self.pending = self.pending, []
        updated = []
        for story_id, entry, key in pending:
            try:
                add_source(self.store, story_id, entry, key)
                updated.append(story_id)
            except NotFoundError:
                continue  # the story itself failed to store; nothing to attach to
        if updated:
            self.store.bump()  # readers rebuild their index and see the new sources
        self.save()
        return updated

    def forget(self, doc_ids: set[str]) -> None:
        """Drop signatures of documents that are no longer stored."""
        with self.lock:
            for d in doc_ids & set(self.sigs):
                self.sigs.pop(d)
                self.hashes.pop(d)
                self.lsh.remove(d)
                self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with self.lock:
            tmp.write_text(json.dumps(self.sigs), "utf-8")
            self.dirty = False
        tmp.replace(self.path)


def check_twin(
    near: NearDuplicates,
    loaded: LoadedFile,
    key: str,
    by_path: dict[str, str],
    stored: Container[str] | None = None,
) -> FileOutcome | None:
    """A "duplicate" outcome when ``loaded`` is a near-copy of a stored story, else None.

    The story gains this source when ``near.flush()`` runs; a document that is not a copy
    is remembered, so a second copy in the same batch finds it. With ``stored``, only a
    story in it counts (the index may be older than a removal).
    """
    doc = loaded.document
    previous = by_path.get(key)
    # this path's earlier version is not another outlet, unless the path was one already
    mine = previous is not None and near.alias.get(key) != previous
    twin, mh = near.twin(doc, exclude={previous} if mine and previous else None)
    if twin is not None and stored is not None and twin not in stored:
        twin = None
    if twin is None:
        if mh is not None:
            near.add(doc, mh)
        return None
    near.note(twin, doc, key)
    return FileOutcome(
        key, "duplicate", twin, message=f"same story as {twin}: stored once, source added"
    )


def add_source(store: Store, story_id: str, entry: dict[str, Any], key: str) -> None:
    """Append ``entry`` to a stored story's ``also`` list and ``key`` to its paths."""
    from rag.errors import NotFoundError

    got = store.docs.get(ids=[story_id], include=["metadatas"])
    if not got["ids"]:
        raise NotFoundError(f"no document {story_id}")
    meta = dict(got["metadatas"][0])
    also = json.loads(meta.get("also") or "[]")
    if not any(a.get("path") == key for a in also):
        also.append({k: v for k, v in entry.items() if v})
    paths = json.loads(meta.get("paths") or "[]")
    if key not in paths:
        paths.append(key)
    meta["also"] = json.dumps(also, ensure_ascii=False)
    meta["paths"] = json.dumps(paths, ensure_ascii=False)
    store.docs.update(ids=[story_id], metadatas=[meta])


def _outlet(entry: dict[str, Any]) -> str:
    """How a source is named in the line: its outlet, else the host of its URL."""
    source = str(entry.get("source") or "")
    if source.lower().startswith(("http://", "https://")) or not source:
        host = urlparse(source or str(entry.get("url") or "")).netloc
        return host.removeprefix("www.") or source or str(entry.get("title") or "")
    if "/" in source or source.endswith((".txt", ".md", ".html", ".htm", ".pdf", ".docx")):
        return str(entry.get("title") or Path(source).name)  # a local file: its title
    return source


def also_reported(doc: Document, lang: str | None = None) -> str:
    """``"also reported by A, B"`` (``"另见 A、B"`` in Chinese) for a story with other
    sources, or ``""`` when it has none.

    Args:
        doc: the cited document.
        lang: ``zh`` or ``en``, the language of the answer (default: the document's).
    """
    names = list(dict.fromkeys(n for n in (_outlet(a) for a in doc.also) if n))
    if not names:
        return ""
    if (lang or doc.lang) == "zh":
        return "另见 " + "、".join(names)
    return "also reported by " + ", ".join(names)
