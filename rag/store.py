"""Chroma persistence: a chunk collection (vectors) and a document collection (texts).

Chroma is the source of truth. A document becomes visible only when its record is
written to the document collection, which happens after all its chunks are stored;
deleting goes the other way round. A process killed mid-write therefore leaves at most
orphan chunks, which no reader shows and the next ingest deletes. The keyword index
and the in-memory chunk table are rebuilt from here (``rag.keyword``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlparse

import numpy as np

from rag.config import Settings
from rag.errors import EmbedderMismatchError, NotFoundError, StoreError
from rag.types import Chunk, Document

SCHEMA = 1
_BATCH = 2000


def _date_int(date: str | None) -> int:
    """``2026-01-29`` -> 20260129 (missing parts as 0), for range filters."""
    if not date:
        return 0
    parts = (date.split("-") + ["0", "0"])[:3]
    try:
        return int(parts[0]) * 10000 + int(parts[1]) * 100 + int(parts[2])
    except ValueError:
        return 0


def make_client(settings: Settings) -> Any:
    """A Chroma client: ``HttpClient`` when ``chroma_url`` is set, else ``PersistentClient``."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        u = urlparse(settings.chroma_url if "//" in settings.chroma_url else f"http://{settings.chroma_url}")
        try:
            return chromadb.HttpClient(
                host=u.hostname or "127.0.0.1", port=u.port or 8000, ssl=u.scheme == "https",
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

    # -- connection -------------------------------------------------------------------------
    def _connect(self) -> None:
        if self._client is None:
            self._client = make_client(self.settings)
        name = self.settings.collection
        try:
            self._chunks = self._client.get_or_create_collection(
                f"{name}_chunks",
                metadata={"embedder": self.embedder_id, "schema": SCHEMA},
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
            self._docs = self._client.get_or_create_collection(
                f"{name}_docs", metadata={"schema": SCHEMA, "generation": 0}, embedding_function=None
            )
        except Exception as e:
            self._client = None
            raise store_error(e, self.settings) from e
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
            try:
                client.delete_collection(f"{self.settings.collection}{suffix}")
            except Exception:
                pass
        self._client = client
        self._chunks = self._docs = None

    # -- generation: bumped on every change so readers know to reload ----------------------
    def generation(self) -> int:
        try:
            coll = self._client.get_collection(f"{self.settings.collection}_docs") if self._client else self.docs
            return int((coll.metadata or {}).get("generation", 0))
        except Exception as e:
            self._client = self._chunks = self._docs = None
            raise store_error(e, self.settings) from e

    def _bump(self) -> None:
        meta = dict(self.docs.metadata or {})
        meta["generation"] = int(meta.get("generation", 0)) + 1
        meta["updated_at"] = time.time()
        meta.pop("hnsw:space", None)
        self.docs.modify(metadata=meta)

    # -- writes -----------------------------------------------------------------------------
    def write_document(self, doc: Document, chunks: list[Chunk], vectors: np.ndarray,
                       tokens: list[str], paths: list[str]) -> None:
        """Store chunks first, then the document record that makes them visible."""
        try:
            date_i = _date_int(doc.date)
            for i in range(0, len(chunks), _BATCH):
                part = chunks[i : i + _BATCH]
                self.chunks.upsert(
                    ids=[c.chunk_id for c in part],
                    embeddings=vectors[i : i + len(part)],
                    documents=[c.text for c in part],
                    metadatas=[
                        {"doc_id": c.doc_id, "index": c.index, "start": c.start, "end": c.end,
                         "date": date_i, "lang": doc.lang, "tokens": tokens[i + j]}
                        for j, c in enumerate(part)
                    ],
                )
            self.docs.upsert(
                ids=[doc.doc_id], embeddings=[[1.0]], documents=[doc.text],
                metadatas=[self._doc_meta(doc, len(chunks), paths)],
            )
            self._bump()
        except Exception as e:
            raise store_error(e, self.settings) from e

    @staticmethod
    def _doc_meta(doc: Document, n_chunks: int, paths: list[str]) -> dict[str, Any]:
        return {
            "title": doc.title, "source": doc.source, "date": doc.date or "",
            "date_i": _date_int(doc.date), "lang": doc.lang,
            "vendors": json.dumps(doc.vendors, ensure_ascii=False),
            "url": doc.url or "", "paths": json.dumps(paths, ensure_ascii=False),
            "n_chunks": n_chunks, "ingested_at": time.time(),
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
            self._bump()
        except Exception as e:
            raise store_error(e, self.settings) from e

    def delete_orphan_chunks(self) -> int:
        """Delete chunks whose document record is missing (left by a killed ingest)."""
        known = set(self.doc_meta().keys())
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
        try:
            got = self.docs.get(include=["metadatas"])
        except Exception as e:
            raise store_error(e, self.settings) from e
        return dict(zip(got["ids"], got["metadatas"], strict=True))

    def document(self, doc_id: str) -> Document:
        try:
            got = self.docs.get(ids=[doc_id], include=["metadatas", "documents"])
        except Exception as e:
            raise store_error(e, self.settings) from e
        if not got["ids"]:
            raise NotFoundError(f"no document with id {doc_id!r}: 'rag docs' lists them")
        return doc_from_record(doc_id, got["metadatas"][0], got["documents"][0])

    def documents(self, with_text: bool = True) -> list[Document]:
        try:
            include = ["metadatas", "documents"] if with_text else ["metadatas"]
            got = self.docs.get(include=include)
        except Exception as e:
            raise store_error(e, self.settings) from e
        texts = got.get("documents") or [""] * len(got["ids"])
        docs = [doc_from_record(i, m, t or "") for i, m, t in zip(got["ids"], got["metadatas"], texts, strict=True)]
        return sorted(docs, key=lambda d: (d.date or "", d.title), reverse=True)

    def iter_chunk_meta(self, with_text: bool = False) -> Iterable[tuple[str, dict[str, Any]]]:
        """(chunk_id, metadata) for every stored chunk, in pages; metadata gains 'text' if asked."""
        try:
            total = self.chunks.count()
            include = ["metadatas", "documents"] if with_text else ["metadatas"]
            for offset in range(0, total, _BATCH * 5):
                got = self.chunks.get(include=include, limit=_BATCH * 5, offset=offset)
                docs = got.get("documents") or [None] * len(got["ids"])
                for cid, meta, text in zip(got["ids"], got["metadatas"], docs, strict=True):
                    if with_text:
                        meta = dict(meta)
                        meta["text"] = text
                    yield cid, meta
        except Exception as e:
            raise store_error(e, self.settings) from e

    def query(self, vector: np.ndarray, n: int, doc_ids: list[str] | None = None,
              lang: str | None = None) -> list[tuple[str, float]]:
        """Nearest chunks to ``vector`` as (chunk_id, cosine similarity).

        ``n`` should not exceed the number of stored chunks; ``doc_ids`` and ``lang``
        restrict the search to those documents / that language.
        """
        if (doc_ids is not None and not doc_ids) or n <= 0:
            return []
        clauses: list[dict[str, Any]] = []
        if doc_ids is not None:
            clauses.append({"doc_id": {"$in": doc_ids}})
        if lang is not None:
            clauses.append({"lang": lang})
        where = clauses[0] if len(clauses) == 1 else ({"$and": clauses} if clauses else None)
        try:
            got = self.chunks.query(query_embeddings=[vector], n_results=n,
                                    where=where, include=["distances"])
        except Exception as e:
            self._client = self._chunks = self._docs = None
            raise store_error(e, self.settings) from e
        return [(cid, 1.0 - float(d)) for cid, d in zip(got["ids"][0], got["distances"][0], strict=True)]


def doc_from_record(doc_id: str, meta: dict[str, Any], text: str) -> Document:
    """Rebuild a Document from its Chroma record."""
    try:
        vendors = json.loads(meta.get("vendors") or "[]")
        paths = json.loads(meta.get("paths") or "[]")
    except json.JSONDecodeError:
        vendors, paths = [], []
    return Document(
        doc_id=doc_id, title=meta.get("title", ""), source=meta.get("source", ""),
        date=meta.get("date") or None, lang=meta.get("lang", ""), vendors=vendors, text=text,
        url=meta.get("url") or None, path=paths[0] if paths else None,
        n_chunks=int(meta.get("n_chunks", 0)),
    )
