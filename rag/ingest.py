"""Ingest files into the store: load -> clean -> chunk -> embed -> write, incrementally.

A file whose bytes are already stored adds nothing; a changed file replaces its old
version; the same bytes under two paths are stored once. Each document is committed on
its own (see ``rag.store``), so a killed ingest loses at most the document in flight and
a re-run completes the rest. One bad file is reported and the batch goes on.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from rag.chunking import chunk_document
from rag.config import Settings
from rag.embeddings import NamedEmbeddings
from rag.errors import LoadError, StoreError
from rag.loaders import LoadedFile, iter_files, load_bytes, load_file
from rag.store import Store
from rag.textnorm import tokenize_uncached
from rag.types import FileOutcome, IngestReport

ProgressFn = Callable[[int, int, str], None]


def _key(path: Path | str) -> str:
    """How a path is remembered: absolute, so the same file from two cwd's matches."""
    return str(Path(path).resolve()) if not str(path).startswith("upload:") else str(path)


class Ingestor:
    """Writes documents into a ``Store`` with an embedder; one instance per QA."""

    def __init__(self, settings: Settings, store: Store, embeddings: NamedEmbeddings) -> None:
        self.settings = settings
        self.store = store
        self.embeddings = embeddings

    def _path_index(self) -> tuple[dict[str, str], dict[str, list[str]]]:
        """(path -> doc_id, doc_id -> paths) for what is stored."""
        import json

        by_path: dict[str, str] = {}
        by_doc: dict[str, list[str]] = {}
        for doc_id, meta in self.store.doc_meta().items():
            paths = json.loads(meta.get("paths") or "[]")
            by_doc[doc_id] = paths
            for p in paths:
                by_path[p] = doc_id
        return by_path, by_doc

    def ingest(self, paths: list[Path | str], *, prune: bool = False, progress: bool | ProgressFn = False) -> IngestReport:
        """Ingest files and folders; returns what happened to each file."""
        t0 = time.perf_counter()
        report = IngestReport()
        stages = dict.fromkeys(("load", "chunk", "tokenize", "embed", "write"), 0.0)
        orphans = self.store.delete_orphan_chunks()
        if orphans:
            report.stage_seconds["orphans_deleted"] = float(orphans)
        by_path, by_doc = self._path_index()
        roots = [Path(p) for p in paths]
        candidates = list(iter_files(roots))
        bar = None
        if progress is True and len(candidates) > 1:
            from tqdm import tqdm

            bar = tqdm(total=len(candidates), unit="file", desc="ingest", leave=False)
        seen_paths: set[str] = set()
        max_bytes = int(self.settings.max_file_mb * 1024 * 1024)
        for n, (path, reason) in enumerate(candidates):
            if callable(progress):
                progress(n, len(candidates), str(path))
            if reason:
                report.files.append(FileOutcome(str(path), "failed", message=reason))
            else:
                key = _key(path)
                seen_paths.add(key)
                t = time.perf_counter()
                try:
                    loaded = load_file(path, max_bytes=max_bytes)
                except LoadError as e:
                    stages["load"] += time.perf_counter() - t
                    report.files.append(FileOutcome(str(path), "failed", message=str(e)))
                except Exception as e:  # a loader bug must not end the batch either
                    stages["load"] += time.perf_counter() - t
                    report.files.append(FileOutcome(str(path), "failed", message=f"{type(e).__name__}: {e}"))
                else:
                    stages["load"] += time.perf_counter() - t
                    report.files.append(self._store_one(loaded, key, by_path, by_doc, stages))
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        if prune:
            report.removed = self._prune(roots, seen_paths, by_doc)
        report.seconds = time.perf_counter() - t0
        report.stage_seconds.update(stages)
        return report

    def ingest_bytes(self, name: str, data: bytes) -> IngestReport:
        """Ingest one uploaded file given as bytes."""
        t0 = time.perf_counter()
        report = IngestReport()
        stages = dict.fromkeys(("load", "chunk", "tokenize", "embed", "write"), 0.0)
        by_path, by_doc = self._path_index()
        key = f"upload:{os.path.basename(name)}"
        try:
            loaded = load_bytes(data, os.path.basename(name), source=key)
        except Exception as e:
            report.files.append(FileOutcome(name, "failed", message=str(e) if isinstance(e, LoadError) else f"{type(e).__name__}: {e}"))
        else:
            report.files.append(self._store_one(loaded, key, by_path, by_doc, stages))
        report.seconds = time.perf_counter() - t0
        report.stage_seconds.update(stages)
        return report

    def _store_one(self, loaded: LoadedFile, key: str, by_path: dict[str, str],
                   by_doc: dict[str, list[str]], stages: dict[str, float]) -> FileOutcome:
        doc = loaded.document
        old = by_path.get(key)
        if doc.doc_id in by_doc:
            paths = by_doc[doc.doc_id]
            if key in paths:
                return FileOutcome(key, "unchanged", doc.doc_id)
            by_doc[doc.doc_id] = [*paths, key]
            self.store.set_paths(doc.doc_id, by_doc[doc.doc_id])
            by_path[key] = doc.doc_id
            if old and old != doc.doc_id:
                self._drop_path(old, key, by_path, by_doc)
            return FileOutcome(key, "duplicate", doc.doc_id, message=f"same content as {paths[0] if paths else doc.doc_id}")
        try:
            t = time.perf_counter()
            chunks = chunk_document(doc, self.settings.chunk_size, self.settings.chunk_overlap)
            stages["chunk"] += time.perf_counter() - t
            t = time.perf_counter()
            tokens = [" ".join(tokenize_uncached(c.text)) for c in chunks]
            stages["tokenize"] += time.perf_counter() - t
            t = time.perf_counter()
            vectors = self.embeddings.embed_documents_np([c.text for c in chunks])
            stages["embed"] += time.perf_counter() - t
            t = time.perf_counter()
            doc.path = key
            self.store.write_document(doc, chunks, vectors, tokens, [key])
            stages["write"] += time.perf_counter() - t
        except StoreError:
            raise  # the store is gone: stopping is better than failing every file
        except Exception as e:  # one file's failure never ends the batch
            return FileOutcome(key, "failed", doc.doc_id, message=f"{type(e).__name__}: {e}")
        by_doc[doc.doc_id] = [key]
        by_path[key] = doc.doc_id
        status = "added"
        if old and old != doc.doc_id:
            self._drop_path(old, key, by_path, by_doc)
            status = "updated"
        return FileOutcome(key, status, doc.doc_id, chunks=len(chunks))

    def _drop_path(self, doc_id: str, key: str, by_path: dict[str, str], by_doc: dict[str, list[str]]) -> None:
        """``key`` no longer holds ``doc_id``: forget it, deleting the doc if no path is left."""
        remaining = [p for p in by_doc.get(doc_id, []) if p != key]
        if remaining:
            by_doc[doc_id] = remaining
            self.store.set_paths(doc_id, remaining)
        else:
            self.store.delete_document(doc_id)
            by_doc.pop(doc_id, None)

    def _prune(self, roots: list[Path], seen: set[str], by_doc: dict[str, list[str]]) -> list[str]:
        """Delete documents whose files under ``roots`` are gone (or were not seen)."""
        root_keys = [_key(r) for r in roots]
        removed = []
        for doc_id, paths in list(by_doc.items()):
            keep = [p for p in paths if not any(p == r or p.startswith(r.rstrip(os.sep) + os.sep) for r in root_keys) or p in seen]
            if keep == paths:
                continue
            if keep:
                self.store.set_paths(doc_id, keep)
                by_doc[doc_id] = keep
            else:
                self.store.delete_document(doc_id)
                by_doc.pop(doc_id)
                removed.append(doc_id)
        return removed
