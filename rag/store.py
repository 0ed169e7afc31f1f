"""Chroma persistence: a chunk collection (vectors) and a document collection (texts).

Chroma is the source of truth. A document becomes visible only when its record is
written to the document collection, which happens after all its chunks are stored;
deleting goes the other way round. A process killed mid-write therefore leaves at most
orphan chunks, which no reader shows and the next ingest deletes.

This module only persists: write, read, delete and iterate documents and chunks, and keep
the generation (bumped on every change) and the fingerprints of what the stored data was made
with. It does not search: the searcher builds its keyword index and in-memory vector table
from here (``rag.keyword``, ``rag.dense``) and rebuilds them when the generation moves, so
Chroma's own vector index is never queried.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlparse

import numpy as np

from rag.config import Settings
from rag.dates import date_int
from rag.errors import EmbedderMismatchError, NotFoundError, StoreError
from rag.types import Chunk, Document

T = TypeVar("T")

SCHEMA = 1
_BATCH = 2000
# Chroma's default persists a collection's HNSW index only every 1000 writes and replays the
# unpersisted part of its log on every write and on every open: writing documents one by one
# gets slower and slower (~0.3 s per document after a few hundred) and a process opening the
# store waits seconds. Persisting every 10 writes keeps both small.
_HNSW_SYNC = {"sync_threshold": 10, "batch_size": 10}


@contextlib.contextmanager
def _unchecked_overrides() -> Iterator[None]:
    """chromadb marks ~180 methods with the ``overrides`` package's ``@override``, which
    checks each one's signature against its base class's as the class is created: a third
    of importing chromadb and making a client (~0.1 s of a cold ``rag ask``), spent proving
    chromadb's own code to itself. Inside this block the decorator only marks the method
    (``__override__``, which ``EnforceOverrides`` reads), as with ``check_signature=False``;
    it is restored after, so nothing else loses its checks."""
    try:
        import overrides
    except ImportError:  # chromadb without it: nothing to skip
        yield
        return

    def mark(method: Any = None, **_: Any) -> Any:
        if method is None:
            return mark
        method.__override__ = True
        return method

    saved = overrides.override, overrides.overrides
    overrides.override = overrides.overrides = mark
    try:
        yield
    finally:
        overrides.override, overrides.overrides = saved


def make_client(settings: Settings) -> Any:
    """A Chroma client: ``HttpClient`` when ``chroma_url`` is set, else ``PersistentClient``."""
    with _unchecked_overrides():  # chromadb imports its Rust bindings with the client
        return _make_client(settings)


def _make_client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        u = urlparse(
            settings.chroma_url if "//" in settings.chroma_url else f"http://{settings.chroma_url}"
        )
        try:
            return chromadb.HttpClient(
                host=u.hostname or "127.0.0.1",
                port=u.port or 8000,
                ssl=u.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as e:
            raise StoreError(
                f"cannot reach the Chroma server at {settings.chroma_url} ({type(e).__name__}): "
                "start it with 'chroma run --path DIR --port N' or unset RAG_CHROMA_URL"
            ) from e
    path = settings.data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def store_error(e: Exception, settings: Settings) -> StoreError:
    """A one-line error for a failed Chroma call."""
    where = settings.chroma_url or str(settings.data_dir)
    msg = str(e).splitlines()[0] if str(e) else type(e).__name__
    hint = " (is the Chroma server running?)" if settings.chroma_url else ""
    return StoreError(f"Chroma at {where} failed: {msg[:200]}{hint}")


class Store:
    """The two Chroma collections behind one small API."""

    def __init__(self, settings: Settings, embedder_id: str, client: Any = None) -> None:
        self.settings = settings
        self.embedder_id = embedder_id
        self._client = client
        self._chunks: Any = None
        self._docs: Any = None
        # set when the server is the store's owner (rag.owner): finds the store's new owner
        # (or embedded mode) after that one is gone; returns the settings to use then
        self.reattach: Callable[[], Settings] | None = None

    # -- connection -------------------------------------------------------------------------
    def _switch(self) -> bool:
        """The owner this store used is gone: use the new one (or embedded). True if switched."""
        if self.reattach is None:
            return False
        new = self.reattach()
        if new.chroma_url == self.settings.chroma_url:
            return False
        self.settings = new
        self._client = self._chunks = self._docs = None
        if not new.chroma_url:
            self.reattach = None
        return True

    def _connect(self) -> None:
        if self._client is None:
            try:
                self._client = make_client(self.settings)
            except StoreError:
                if not self._switch():
                    raise
                self._client = make_client(self.settings)
        name = self.settings.collection
        try:
            self._chunks = self._client.get_or_create_collection(
                f"{name}_chunks",
                metadata={"embedder": self.embedder_id, "schema": SCHEMA},
                configuration={"hnsw": {"space": "cosine", **_HNSW_SYNC}},
                embedding_function=None,
            )
            self._docs = self._client.get_or_create_collection(
                f"{name}_docs",
                metadata={"schema": SCHEMA, "generation": 0},
                configuration={"hnsw": dict(_HNSW_SYNC)},
                embedding_function=None,
            )
        except Exception as e:
            self._client = None
            raise store_error(e, self.settings) from e
        for coll in (self._chunks, self._docs):  # a store made before: switch it over
            hnsw = (getattr(coll, "configuration_json", None) or {}).get("hnsw") or {}
            if hnsw.get("sync_threshold") != _HNSW_SYNC["sync_threshold"]:
                with contextlib.suppress(Exception):  # an older server may refuse: only slower
                    coll.modify(configuration={"hnsw": dict(_HNSW_SYNC)})
        built_with = (self._chunks.metadata or {}).get("embedder")
        if built_with and built_with != self.embedder_id:
            raise EmbedderMismatchError(
                f"the store at {self.settings.chroma_url or self.settings.data_dir} was built with "
                f"{built_with!r}, not {self.embedder_id!r}: set RAG_EMBEDDINGS to match, or re-index "
                f"with 'rag reset --yes && rag ingest corpus/' (or use another RAG_DATA_DIR)"
            )

    @property
    def chunks(self) -> Any:
        if self._chunks is None:
            self._connect()
        return self._chunks

    @property
    def docs(self) -> Any:
        if self._docs is None:
            self._connect()
        return self._docs

    def reset(self) -> None:
        """Delete both collections (everything this store holds)."""
        client = self._client or make_client(self.settings)
        for suffix in ("_chunks", "_docs"):
            with contextlib.suppress(Exception):
                client.delete_collection(f"{self.settings.collection}{suffix}")
        self._client = client
        self._chunks = self._docs = None

    # -- generation: bumped on every change so readers know to reload ----------------------
    def generation(self) -> int:
        def read() -> int:
            coll = (
                self._client.get_collection(
                    f"{self.settings.collection}_docs", embedding_function=None
                )
                if self._client
                else self.docs
            )
            return int((coll.metadata or {}).get("generation", 0))

        return self._read(read)

    def _read(self, fn: Callable[[], T]) -> T:
        """Run a read; a failure drops the connection (the next call reconnects) and becomes
        one ``StoreError`` line.

        Not retried after clearing chromadb's per-process system cache: tried, and a process
        that had read the store while another one wrote it then crashed in Chroma's native
        code (segmentation fault) instead of failing with one line.
        """
        try:
            return fn()
        except Exception as e:
            self._client = self._chunks = self._docs = None
            failed = store_error(e, self.settings)
        if self._switch():  # the owner went away mid-session: reads are safe to repeat
            try:
                return fn()
            except Exception as e:
                self._client = self._chunks = self._docs = None
                raise store_error(e, self.settings) from e
        raise failed

    def bump(self, record: dict[str, str] | None = None) -> None:
        """Raise the generation (readers then rebuild what they derived), recording ``record``
        in the document collection's metadata."""
        # read the collection afresh: another process may have bumped since we connected,
        # and a generation two writers both set to the same value would hide a change
        meta = self._fresh_docs_meta()
        meta.update(record or {})
        meta["generation"] = int(meta.get("generation", 0)) + 1
        meta["updated_at"] = time.time()
        meta.pop("hnsw:space", None)
        self.docs.modify(metadata=meta)

    def _fresh_docs_meta(self) -> dict[str, Any]:
        fresh = (
            self._client.get_collection(f"{self.settings.collection}_docs", embedding_function=None)
            if self._client
            else self.docs
        )
        return dict(fresh.metadata or {})

    # -- what the derived data was made with (rag.datafiles) -------------------------------
    def made_with(self) -> dict[str, str]:
        """Fingerprints the stored keyword tokens and vendor tags were made with
        (``tokens_fp``, ``vendors_fp``); a key is absent when the store does not know."""
        meta = self._read(self._fresh_docs_meta)
        return {k: str(meta[k]) for k in _MADE_WITH if meta.get(k)}

    def record_made_with(self, fingerprints: dict[str, str]) -> None:
        """Record fingerprints (see ``made_with``) without bumping the generation."""
        try:
            meta = self._fresh_docs_meta()
            meta.update({k: v for k, v in fingerprints.items() if k in _MADE_WITH})
            meta.pop("hnsw:space", None)
            self.docs.modify(metadata=meta)
        except Exception as e:
            raise store_error(e, self.settings) from e

    def rewrite_chunk_metadata(self, ids: list[str], metadatas: list[dict[str, Any]]) -> None:
        """Replace the metadata of stored chunks (texts and vectors stay), in batches."""
        try:
            for i in range(0, len(ids), _BATCH):
                self.chunks.update(ids=ids[i : i + _BATCH], metadatas=metadatas[i : i + _BATCH])
        except Exception as e:
            raise store_error(e, self.settings) from e

    def identity(self) -> str:
        """Ids of the two collections: they change when the store is reset and rebuilt."""
        return f"{self.chunks.id}-{self.docs.id}"

    def counts(self) -> tuple[int, int]:
        """(stored chunks, stored document records), orphans included."""
        return self._read(lambda: (int(self.chunks.count()), int(self.docs.count())))

    # -- writes -----------------------------------------------------------------------------
    def write_document(
        self,
        doc: Document,
        chunks: list[Chunk],
        vectors: np.ndarray,
        tokens: list[str],
        paths: list[str],
    ) -> None:
        """Store chunks first, then the document record that makes them visible."""
        self.write_documents([(doc, chunks, vectors, tokens, paths)])

    def write_documents(
        self, items: list[tuple[Document, list[Chunk], np.ndarray, list[str], list[str]]]
    ) -> None:
        """Store several documents: every chunk first, then the records that make them visible.

        Each item is ``(doc, chunks, vectors, tokens, paths)`` as for ``write_document``. Chunks
        of several documents share one upsert (up to ``_BATCH`` at a time) and the records
        one more, so a big batch costs a few Chroma calls instead of three per document; a
        process killed in between still leaves only invisible orphan chunks.
        """
        if not items:
            return
        try:
            first = int(self.docs.count()) == 0  # an empty store takes this code's fingerprints
            ids: list[str] = []
            texts: list[str] = []
            metas: list[dict[str, Any]] = []
            vecs: list[np.ndarray] = []
            for doc, chunks, vectors, tokens, _paths in items:
                date_i = date_int(doc.date)
                for j, c in enumerate(chunks):
                    ids.append(c.chunk_id)
                    texts.append(c.text)
                    metas.append(
                        {
                            "doc_id": c.doc_id,
                            "index": c.index,
                            "start": c.start,
                            "end": c.end,
                            "date": date_i,
                            "lang": doc.lang,
                            "tokens": tokens[j],
                            **({"page": c.page} if c.page is not None else {}),
                        }
                    )
                if len(chunks):
                    vecs.append(np.asarray(vectors, dtype=np.float32)[: len(chunks)])
            matrix = np.vstack(vecs) if vecs else np.zeros((0, 1), dtype=np.float32)
            for i in range(0, len(ids), _BATCH):
                self.chunks.upsert(
                    ids=ids[i : i + _BATCH],
                    embeddings=matrix[i : i + _BATCH],
                    documents=texts[i : i + _BATCH],
                    metadatas=metas[i : i + _BATCH],
                )
            for i in range(0, len(items), _BATCH):
                part = items[i : i + _BATCH]
                self.docs.upsert(
                    ids=[doc.doc_id for doc, *_ in part],
                    embeddings=[[1.0]] * len(part),
                    documents=[doc.text for doc, *_ in part],
                    metadatas=[
                        self._doc_meta(doc, len(chunks), paths)
                        for doc, chunks, _v, _t, paths in part
                    ],
                )
            self.bump(made_with() if first else None)
        except Exception as e:
            raise store_error(e, self.settings) from e

    @staticmethod
    def _doc_meta(doc: Document, n_chunks: int, paths: list[str]) -> dict[str, Any]:
        return {
            "title": doc.title,
            "source": doc.source,
            "date": doc.date or "",
            "date_i": date_int(doc.date),
            "lang": doc.lang,
            "vendors": json.dumps(doc.vendors, ensure_ascii=False),
            "url": doc.url or "",
            "paths": json.dumps(paths, ensure_ascii=False),
            "n_chunks": n_chunks,
            "ingested_at": time.time(),
            **({"pages": json.dumps(doc.pages)} if doc.pages else {}),
            **({"also": json.dumps(doc.also, ensure_ascii=False)} if doc.also else {}),
        }

    def set_paths(self, doc_id: str, paths: list[str]) -> None:
        """Record the file paths a stored document was read from."""
        try:
            got = self.docs.get(ids=[doc_id], include=["metadatas"])
            if not got["ids"]:
                raise NotFoundError(f"no document {doc_id}")
            meta = dict(got["metadatas"][0])
            meta["paths"] = json.dumps(paths, ensure_ascii=False)
            self.docs.update(ids=[doc_id], metadatas=[meta])
        except NotFoundError:
            raise
        except Exception as e:
            raise store_error(e, self.settings) from e

    def delete_document(self, doc_id: str) -> None:
        """Hide the document (its record goes first), then delete its chunks."""
        try:
            self.docs.delete(ids=[doc_id])
            self.chunks.delete(where={"doc_id": doc_id})
            self.bump()
        except Exception as e:
            raise store_error(e, self.settings) from e

    def delete_orphan_chunks(self, metas: dict[str, dict[str, Any]] | None = None) -> int:
        """Delete chunks whose document record is missing (left by a killed ingest).

        Every visible document holds exactly its ``n_chunks`` chunks (they are written
        before its record and deleted after it), so when the chunk count equals the sum
        of ``n_chunks`` there is no orphan and the chunk metadata need not be read.
        """
        metas = self.doc_meta() if metas is None else metas
        try:
            n_stored = int(self.chunks.count())
        except Exception as e:
            raise store_error(e, self.settings) from e
        if n_stored == sum(int(m.get("n_chunks", 0)) for m in metas.values()):
            return 0
        known = set(metas.keys())
        ids = []
        for cid, meta in self.iter_chunk_meta():
            if meta.get("doc_id") not in known:
                ids.append(cid)
        for i in range(0, len(ids), _BATCH):
            self.chunks.delete(ids=ids[i : i + _BATCH])
        return len(ids)

    # -- reads ------------------------------------------------------------------------------
    def doc_meta(self) -> dict[str, dict[str, Any]]:
        """Metadata of every visible document, by doc_id."""
        got = self._read(lambda: self.docs.get(include=["metadatas"]))
        return dict(zip(got["ids"], got["metadatas"], strict=True))

    def document(self, doc_id: str) -> Document:
        got = self._read(lambda: self.docs.get(ids=[doc_id], include=["metadatas", "documents"]))
        if not got["ids"]:
            raise NotFoundError(f"no document with id {doc_id!r}: 'rag docs' lists them")
        return doc_from_record(doc_id, got["metadatas"][0], got["documents"][0])

    def documents(self, with_text: bool = True) -> list[Document]:
        include = ["metadatas", "documents"] if with_text else ["metadatas"]
        got = self._read(lambda: self.docs.get(include=include))
        texts = got.get("documents") or [""] * len(got["ids"])
        docs = [
            doc_from_record(i, m, t or "")
            for i, m, t in zip(got["ids"], got["metadatas"], texts, strict=True)
        ]
        return sorted(docs, key=lambda d: (d.date or "", d.title), reverse=True)

    def iter_chunk_pages(self, include: list[str], page: int = _BATCH) -> Iterable[dict[str, Any]]:
        """Every stored chunk (orphans too), as Chroma ``get`` results of ``page`` chunks."""
        total = self._read(lambda: self.chunks.count())
        for offset in range(0, total, page):
            yield self._read(partial(self._page, include, page, offset))

    def _page(self, include: list[str], limit: int, offset: int) -> dict[str, Any]:
        got: dict[str, Any] = self.chunks.get(include=include, limit=limit, offset=offset)
        return got

    def iter_chunk_meta(self, with_text: bool = False) -> Iterable[tuple[str, dict[str, Any]]]:
        """(chunk_id, metadata) for every stored chunk, in pages; metadata gains 'text' if asked."""
        include = ["metadatas", "documents"] if with_text else ["metadatas"]
        for got in self.iter_chunk_pages(include):
            docs = got.get("documents") or [None] * len(got["ids"])
            for cid, meta, text in zip(got["ids"], got["metadatas"], docs, strict=True):
                if with_text:
                    meta = dict(meta)
                    meta["text"] = text
                yield cid, meta


_MADE_WITH = ("tokens_fp", "vendors_fp")


def made_with() -> dict[str, str]:
    """This code's fingerprints of what keyword tokens and vendor tags are made with."""
    from rag.datafiles import data_fingerprint
    from rag.glossary import vendor_fingerprint

    return {"tokens_fp": data_fingerprint(), "vendors_fp": vendor_fingerprint()}


def doc_from_record(doc_id: str, meta: dict[str, Any], text: str) -> Document:
    """Rebuild a Document from its Chroma record."""
    try:
        vendors = json.loads(meta.get("vendors") or "[]")
        paths = json.loads(meta.get("paths") or "[]")
    except json.JSONDecodeError:
        vendors, paths = [], []
    return Document(
        doc_id=doc_id,
        title=meta.get("title", ""),
        source=meta.get("source", ""),
        date=meta.get("date") or None,
        lang=meta.get("lang", ""),
        vendors=vendors,
        text=text,
        url=meta.get("url") or None,
        path=paths[0] if paths else None,
        n_chunks=int(meta.get("n_chunks", 0)),
        pages=_json_list(meta.get("pages")),
        also=_json_list(meta.get("also")),
    )


def _json_list(value: Any) -> list[Any]:
    """A JSON list kept in a metadata field (pages, also), or [] when absent or unreadable."""
    try:
        got = json.loads(value) if value else []
    except (TypeError, json.JSONDecodeError):
        return []
    return got if isinstance(got, list) else []
