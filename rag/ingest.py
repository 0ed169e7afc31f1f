"""Ingest files into the store: load -> clean -> chunk -> embed -> write, incrementally.

A file whose bytes are already stored adds nothing; a changed file replaces its old
version; the same bytes under two paths are stored once. Each document is committed on
its own (see ``rag.store``), so a killed ingest loses at most the documents in flight and
a re-run completes the rest. One bad file is reported and the batch goes on.

The stages overlap so that the embedder, the slow part, never waits: the calling thread
loads, cleans, chunks and tokenizes; an embedding thread embeds the chunks of consecutive
documents in full batches (the embedder's C code runs without the GIL); a writer thread
commits each finished document, in input order, while the next batch is embedded.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.config import Settings
from rag.embeddings import NamedEmbeddings
from rag.errors import LoadError
from rag.gcpolicy import fewer_collections
from rag.progress import ChunkProgressFn
from rag.store import Store
from rag.types import Chunk, FileOutcome, IngestReport

if TYPE_CHECKING:  # the loaders and the splitter are imported when a file is ingested,
    from rag.dedup import NearDuplicates
    from rag.factstore import FactStore  # not by every process that only asks questions
    from rag.knowledge import Entity, Fact
    from rag.loaders import LoadedFile
    from rag.types import Document

ProgressFn = Callable[[int, int, str], None]

_MAX_AHEAD = 256  # documents read ahead of the writer, at most
_WRITE_BATCH = 64  # new documents in one store write, at most


def path_key(path: Path | str) -> str:
    """How a path is remembered: absolute, so the same file from two cwd's matches."""
    return str(Path(path).resolve()) if not str(path).startswith("upload:") else str(path)


@dataclass
class _Prepared:
    """A new document's chunks, then (filled in by two threads) their tokens and vectors."""

    chunks: list[Chunk]
    tokens: list[str] = field(default_factory=list)
    vectors: list[np.ndarray | None] = field(default_factory=list)
    error: str | None = None
    tokenized: threading.Event = field(default_factory=threading.Event)

    def ready(self) -> bool:
        return self.error is not None or all(v is not None for v in self.vectors)


def _load_failure(e: Exception) -> str:
    """Why a file could not be loaded: a ``LoadError`` says it in a line; any other error (a
    loader bug) by its type too."""
    return str(e) if isinstance(e, LoadError) else f"{type(e).__name__}: {e}"


@dataclass
class _Job:
    """One input file on its way through the pipeline."""

    seq: int
    key: str
    loaded: LoadedFile | None = None
    outcome: FileOutcome | None = None  # already decided (the file could not be read)
    prepared: _Prepared | None = None  # None: already stored, or left to the writer

    def ready(self) -> bool:
        return self.prepared is None or self.prepared.ready()


class _Pipeline:
    """The embedding and writer threads behind ``Ingestor.ingest``."""

    def __init__(
        self,
        ingestor: Ingestor,
        by_path: dict[str, str],
        by_doc: dict[str, list[str]],
        stages: dict[str, float],
        bar: Any,
        on_chunks: ChunkProgressFn | None = None,
    ) -> None:
        self.ing = ingestor
        self.on_chunks = on_chunks
        self.chunks_known = 0
        self.chunks_done = 0
        self.by_path = by_path
        self.by_doc = by_doc
        self.stages = stages
        self.bar = bar
        self.batch = max(1, int(getattr(ingestor.embeddings, "batch_size", 16) or 16))
        self.inbox: queue.Queue[Any] = queue.Queue()
        self.outbox: queue.Queue[Any] = queue.Queue()
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self._outcomes: dict[int, FileOutcome] = {}
        self._written = 0
        self._submitted = 0
        self._embedder = threading.Thread(
            target=self._guard, args=(self._embed_loop,), name="ingest-embed", daemon=True
        )
        self._writer = threading.Thread(
            target=self._guard, args=(self._write_loop,), name="ingest-write", daemon=True
        )
        self._embedder.start()
        self._writer.start()

    # -- the reading thread's side ----------------------------------------------------------
    def submit(self, job: _Job) -> None:
        while self._submitted - self._written > _MAX_AHEAD and not self.stop.is_set():
            time.sleep(0.01)
        self._submitted += 1
        self.inbox.put(job)

    def failed(self) -> bool:
        return self.stop.is_set()

    def close(self) -> None:
        """Wait for every submitted document to be written; re-raise a fatal error."""
        self.inbox.put(_DONE)
        self._embedder.join()
        self._writer.join()
        if self.error is not None:
            raise self.error

    def abort(self) -> None:
        self.stop.set()
        self.inbox.put(_DONE)

    def outcomes(self) -> list[FileOutcome]:
        return [self._outcomes[i] for i in sorted(self._outcomes)]

    # -- threads ----------------------------------------------------------------------------
    def _guard(self, loop: Callable[[], None]) -> None:
        try:
            loop()
        except BaseException as e:  # the store is gone, or a bug: stop everything, report it
            if self.error is None:
                self.error = e
            self.stop.set()
            self.outbox.put(_DONE)

    def _embed_loop(self) -> None:
        waiting: deque[_Job] = deque()  # jobs in input order, until their vectors are all in
        todo: deque[tuple[_Prepared, int]] = deque()  # chunks still to embed
        closed = False
        while True:
            if self.stop.is_set():
                self.outbox.put(_DONE)
                return
            while not closed and len(todo) < self.batch:
                try:
                    # nothing to embed: wait for work; a partial batch: wait a little for more
                    job = self.inbox.get(timeout=0.5 if not todo else 0.02)
                except queue.Empty:
                    if todo or self.stop.is_set():
                        break
                    continue
                if job is _DONE:
                    closed = True
                    break
                waiting.append(job)
                if job.prepared is not None and job.prepared.error is None:
                    todo.extend((job.prepared, i) for i in range(len(job.prepared.chunks)))
                if self.stop.is_set():
                    break
            if todo:
                batch = [todo.popleft() for _ in range(min(self.batch, len(todo)))]
                self._embed(batch)
            while waiting and waiting[0].ready():
                self.outbox.put(waiting.popleft())
            if closed and not todo and not waiting:
                self.outbox.put(_DONE)
                return

    def _embed(self, batch: list[tuple[_Prepared, int]]) -> None:
        t = time.perf_counter()
        try:
            vecs = self.ing.embeddings.embed_documents_np([p.chunks[i].text for p, i in batch])
            for (p, i), v in zip(batch, vecs, strict=True):
                p.vectors[i] = v
        except Exception:
            for p, i in batch:  # find the chunk that fails; its document alone is lost
                if p.error is not None:
                    continue
                try:
                    p.vectors[i] = self.ing.embeddings.embed_documents_np([p.chunks[i].text])[0]
                except Exception as e:
                    p.error = f"{type(e).__name__}: {e}"
        self.stages["embed"] += time.perf_counter() - t
        self.chunks_done += len(batch)
        if self.bar is not None:
            self.bar.update(len(batch))
        if self.on_chunks is not None:
            self.on_chunks(self.chunks_done, self.chunks_known)

    def add_chunks(self, n: int) -> None:
        """``n`` more chunks will be embedded (called by the reading thread)."""
        self.chunks_known += n
        if self.bar is not None:
            self.bar.total = self.chunks_known
            self.bar.refresh()
        if self.on_chunks is not None:
            self.on_chunks(self.chunks_done, self.chunks_known)

    def _write_loop(self) -> None:
        while True:
            jobs = [self.outbox.get()]
            # the embedder hands over every document a batch of vectors completed at once:
            # they go to Chroma together (a write costs ~30 ms however few chunks it holds)
            while jobs[-1] is not _DONE and len(jobs) < _WRITE_BATCH:
                try:
                    jobs.append(self.outbox.get_nowait())
                except queue.Empty:
                    break
            done = jobs[-1] is _DONE
            if done:
                jobs.pop()
            if jobs and not self.stop.is_set():
                self._write(jobs)
            if done:
                return

    def _write(self, jobs: list[_Job]) -> None:
        """Write jobs in order: runs of new documents in one store write each, the rest
        (failures, copies, anything seen before) one by one after what precedes them."""
        run: list[_Job] = []
        for job in jobs:
            doc_id = job.loaded.document.doc_id if job.loaded is not None else None
            if (
                job.outcome is None
                and job.prepared is not None
                and doc_id not in self.by_doc
                and all(j.loaded is not None and j.loaded.document.doc_id != doc_id for j in run)
            ):
                run.append(job)
                continue
            self._write_run(run)
            run = []
            if job.outcome is not None:
                self._record(job, job.outcome)
                continue
            assert job.loaded is not None
            self._record(
                job,
                self.ing._store_one(
                    job.loaded,
                    job.key,
                    self.by_path,
                    self.by_doc,
                    self.stages,
                    job.prepared,
                    self.stop,
                ),
            )
        self._write_run(run)

    def _write_run(self, run: list[_Job]) -> None:
        if not run:
            return
        entries = []
        for j in run:
            assert j.loaded is not None and j.prepared is not None
            entries.append((j.loaded, j.key, j.prepared))
        outcomes = self.ing._store_new(entries, self.by_path, self.by_doc, self.stages, self.stop)
        for job, outcome in zip(run, outcomes, strict=True):
            self._record(job, outcome)

    def _record(self, job: _Job, outcome: FileOutcome) -> None:
        self._outcomes[job.seq] = outcome
        self._written += 1
        if self.bar is not None:
            self.bar.set_postfix_str(f"{self._written} files")


_DONE = object()


def knowledge_of(doc: Document) -> tuple[str, list[Entity], list[Fact]]:
    """A document's id, entities and facts, as ``FactStore.replace_documents`` takes them."""
    from rag.entities import extract_entities
    from rag.facts import extract_facts

    entities = extract_entities(doc)
    return doc.doc_id, entities, extract_facts(doc, entities)


def write_knowledge(factstore: FactStore, docs: list[Document]) -> int:
    """Extract the documents' entities and facts and store them in one transaction, in
    place of their old ones; how many documents lost theirs (an extractor bug, a write the
    database refuses): never the others of the batch."""
    items, failed = [], 0
    for doc in docs:
        try:
            items.append(knowledge_of(doc))
        except Exception:
            failed += 1
    return failed + factstore.replace_documents_or_each(items)


class Ingestor:
    """Writes documents into a ``Store`` with an embedder; one instance per QA."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        embeddings: NamedEmbeddings,
        factstore: FactStore | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.embeddings = embeddings
        self.factstore = factstore

    def _write_facts(self, docs: list[Document], stages: dict[str, float]) -> None:
        """Learn the entities and facts of documents now visible, in one transaction (never
        fails a file: an extractor bug or a refused write costs its document the facts)."""
        if self.factstore is None or not docs:
            return
        t = time.perf_counter()
        failed = write_knowledge(self.factstore, docs)
        if failed:
            stages["facts_failed"] = stages.get("facts_failed", 0.0) + failed
        stages["facts"] = stages.get("facts", 0.0) + time.perf_counter() - t

    def _delete_document(self, doc_id: str) -> None:
        self.store.delete_document(doc_id)
        if self.factstore is not None:
            self.factstore.delete_document(doc_id)

    def path_index(
        self, metas: dict[str, dict[str, Any]] | None = None
    ) -> tuple[dict[str, str], dict[str, list[str]]]:
        """(path -> doc_id, doc_id -> paths) for what is stored."""
        import json

        by_path: dict[str, str] = {}
        by_doc: dict[str, list[str]] = {}
        for doc_id, meta in (self.store.doc_meta() if metas is None else metas).items():
            paths = json.loads(meta.get("paths") or "[]")
            by_doc[doc_id] = paths
            for p in paths:
                by_path[p] = doc_id
        return by_path, by_doc

    @fewer_collections()
    def ingest(
        self,
        paths: list[Path | str],
        *,
        prune: bool = False,
        progress: bool | ProgressFn = False,
        on_chunks: ChunkProgressFn | None = None,
    ) -> IngestReport:
        """Ingest files and folders; returns what happened to each file.

        ``progress=True`` shows a bar of chunks embedded (rate, ETA), ``on_chunks`` gets
        (chunks embedded, chunks known) after every batch. ``stage_seconds`` holds each stage's own time; the stages overlap (see the module
        docstring), so they add up to more than ``seconds``.
        """
        t0 = time.perf_counter()
        report = IngestReport()
        stages = dict.fromkeys(("load", "chunk", "tokenize", "embed", "write"), 0.0)
        metas = self.store.doc_meta()
        orphans = self.store.delete_orphan_chunks(metas)
        if orphans:
            report.stage_seconds["orphans_deleted"] = float(orphans)
        by_path, by_doc = self.path_index(metas)
        from rag.fetch import is_url

        urls = [str(p) for p in paths if is_url(str(p))]
        roots = [Path(p) for p in paths if not is_url(str(p))]
        self._near_index(metas)
        from rag.loaders import iter_files

        candidates = list(iter_files(roots))
        bar = None
        if progress is True and candidates:  # chunks embedded: a big single file moves too
            from tqdm import tqdm

            bar = tqdm(total=0, unit="chunk", desc="ingest", leave=False, dynamic_ncols=True)
        seen_paths: set[str] = set()
        max_bytes = int(self.settings.max_file_mb * 1024 * 1024)
        handed: set[str] = set()  # doc ids already on their way to the writer
        pipe = _Pipeline(self, by_path, by_doc, stages, bar, on_chunks)
        try:
            for n, (path, reason) in enumerate(candidates):
                if callable(progress):
                    progress(n, len(candidates), str(path))
                if pipe.failed():
                    break
                if reason:
                    pipe.submit(
                        _Job(n, str(path), outcome=FileOutcome(str(path), "failed", message=reason))
                    )
                    continue
                key = path_key(path)
                seen_paths.add(key)
                job = self._load(path, key, n, max_bytes, stages)
                if job.loaded is not None:
                    job = self._prepare(job, by_path, by_doc, handed, pipe, stages)
                # the embedder starts on the chunks while they are tokenized here
                pipe.submit(job)
                if job.prepared is not None:
                    self._tokenize(job.prepared, stages)
        except BaseException:
            pipe.abort()
            raise
        finally:
            pipe.close()
            if bar is not None:
                bar.close()
        report.files = pipe.outcomes()
        if urls:
            from rag.fetch import ingest_urls

            report.files += ingest_urls(self, urls, by_path, by_doc, stages)
        self._near_index().flush()
        if prune:
            report.removed = self.prune(roots, seen_paths, by_doc)
        report.seconds = time.perf_counter() - t0
        report.stage_seconds.update(stages)
        return report

    def _load(self, path: Path, key: str, n: int, max_bytes: int, stages: dict[str, float]) -> _Job:
        """The file as a job, loaded, or failed with the reason (a loader bug too: it must
        not end the batch either)."""
        from rag.loaders import load_file

        t = time.perf_counter()
        try:
            return _Job(n, key, loaded=load_file(path, max_bytes=max_bytes))
        except Exception as e:
            message = _load_failure(e)
        finally:
            stages["load"] += time.perf_counter() - t
        return _Job(n, key, outcome=FileOutcome(str(path), "failed", message=message))

    def _prepare(
        self,
        job: _Job,
        by_path: dict[str, str],
        by_doc: dict[str, list[str]],
        handed: set[str],
        pipe: _Pipeline,
        stages: dict[str, float],
    ) -> _Job:
        """A new document's job chunked (its chunks counted in the pipeline's progress); a
        known or already handed document's job as it is; a near-duplicate's (another
        outlet's copy of a story, not stored again) saying so instead."""
        assert job.loaded is not None
        doc_id = job.loaded.document.doc_id
        if doc_id in by_doc or doc_id in handed:
            return job
        twin = self._near_duplicate(job.loaded, job.key, by_path)
        if twin is not None:
            return _Job(job.seq, job.key, outcome=twin)
        handed.add(doc_id)
        job.prepared = self._chunk(job.loaded, stages)
        pipe.add_chunks(len(job.prepared.chunks))
        return job

    @fewer_collections()
    def ingest_bytes(
        self, name: str, data: bytes, on_chunks: ChunkProgressFn | None = None
    ) -> IngestReport:
        """Ingest one uploaded file given as bytes; ``on_chunks`` as in ``ingest``."""
        t0 = time.perf_counter()
        report = IngestReport()
        stages = dict.fromkeys(("load", "chunk", "tokenize", "embed", "write"), 0.0)
        by_path, by_doc = self.path_index()
        key = f"upload:{os.path.basename(name)}"
        try:
            from rag.loaders import load_bytes

            loaded = load_bytes(data, os.path.basename(name), source=key)
        except Exception as e:
            report.files.append(FileOutcome(name, "failed", message=_load_failure(e)))
        else:
            report.files.append(
                self.store_loaded(loaded, key, by_path, by_doc, stages, on_chunks=on_chunks)
            )
        report.seconds = time.perf_counter() - t0
        report.stage_seconds.update(stages)
        return report

    def _near_index(self, metas: dict[str, dict[str, Any]] | None = None) -> NearDuplicates:
        """The near-duplicate index of stored stories, rebuilt when ``metas`` is given."""
        from rag.dedup import NearDuplicates

        if metas is not None or getattr(self, "_near", None) is None:
            metas = self.store.doc_meta() if metas is None else metas
            self._near = NearDuplicates(self.settings.data_dir, self.store, metas)
        return self._near

    def _near_duplicate(
        self,
        loaded: LoadedFile,
        key: str,
        by_path: dict[str, str],
        stored: dict[str, list[str]] | None = None,
    ) -> FileOutcome | None:
        from rag.dedup import check_twin

        return check_twin(self._near_index(), loaded, key, by_path, stored)

    def store_loaded(
        self,
        loaded: LoadedFile,
        key: str,
        by_path: dict[str, str],
        by_doc: dict[str, list[str]],
        stages: dict[str, float],
        on_chunks: ChunkProgressFn | None = None,
    ) -> FileOutcome:
        """Store one loaded document now (an upload, a URL): near-duplicates checked first."""
        if loaded.document.doc_id not in by_doc:
            twin = self._near_duplicate(loaded, key, by_path, by_doc)
            if twin is not None:
                self._near_index().flush()
                return twin
        outcome = self._store_one(loaded, key, by_path, by_doc, stages, on_chunks=on_chunks)
        self._near_index().save()
        return outcome

    def _chunk(self, loaded: LoadedFile, stages: dict[str, float]) -> _Prepared:
        """Chunk a new document (its tokens and vectors come later)."""
        from rag.chunking import chunk_document

        t = time.perf_counter()
        try:
            chunks = chunk_document(
                loaded.document, self.settings.chunk_size, self.settings.chunk_overlap
            )
        except Exception as e:  # one file's failure never ends the batch
            prepared = _Prepared([], error=f"{type(e).__name__}: {e}")
            prepared.tokenized.set()
            return prepared
        finally:
            stages["chunk"] += time.perf_counter() - t
        return _Prepared(chunks, vectors=[None] * len(chunks))

    def _tokenize(self, prepared: _Prepared, stages: dict[str, float]) -> None:
        """Keyword tokens of each chunk, as the BM25 index stores them."""
        from rag.textnorm import tokenize_uncached

        t = time.perf_counter()
        try:
            if prepared.error is None:
                prepared.tokens = [" ".join(tokenize_uncached(c.text)) for c in prepared.chunks]
        except Exception as e:
            prepared.error = f"{type(e).__name__}: {e}"
        finally:
            stages["tokenize"] += time.perf_counter() - t
            prepared.tokenized.set()

    def _store_one(
        self,
        loaded: LoadedFile,
        key: str,
        by_path: dict[str, str],
        by_doc: dict[str, list[str]],
        stages: dict[str, float],
        prepared: _Prepared | None = None,
        stop: threading.Event | None = None,
        on_chunks: ChunkProgressFn | None = None,
    ) -> FileOutcome:
        doc = loaded.document
        if doc.doc_id in by_doc:
            return self.record_copy(key, doc.doc_id, by_path, by_doc)
        if prepared is None:  # not done ahead (an upload, or a copy whose original failed)
            try:
                prepared = self._chunk(loaded, stages)
                self._tokenize(prepared, stages)
                if prepared.error is None:
                    t = time.perf_counter()
                    prepared.vectors = list(self._embed_counted(prepared.chunks, on_chunks))
                    stages["embed"] += time.perf_counter() - t
            except Exception as e:  # one file's failure never ends the batch
                return FileOutcome(key, "failed", doc.doc_id, message=f"{type(e).__name__}: {e}")
        return self._store_new([(loaded, key, prepared)], by_path, by_doc, stages, stop)[0]

    def _store_new(
        self,
        entries: list[tuple[LoadedFile, str, _Prepared]],
        by_path: dict[str, str],
        by_doc: dict[str, list[str]],
        stages: dict[str, float],
        stop: threading.Event | None = None,
    ) -> list[FileOutcome]:
        """Store new documents whose chunks, tokens and vectors are prepared, in one store
        write; one outcome per entry, in order. A store that fails raises ``StoreError`` (the
        ingest stops: failing every file would be worse); anything else fails its file only."""
        outcomes: list[FileOutcome | None] = [None] * len(entries)
        items: list[tuple[Document, list[Chunk], np.ndarray, list[str], list[str]]] = []
        placed: list[int] = []
        for n, (loaded, key, prepared) in enumerate(entries):
            doc = loaded.document
            try:
                while not prepared.tokenized.wait(0.5):
                    if stop is not None and stop.is_set():
                        outcomes[n] = FileOutcome(
                            key, "failed", doc.doc_id, message="ingest interrupted"
                        )
                        break
                if outcomes[n] is not None:
                    continue
                if prepared.error is not None:
                    outcomes[n] = FileOutcome(key, "failed", doc.doc_id, message=prepared.error)
                    continue
                chunks = prepared.chunks
                vectors = (
                    np.vstack([v for v in prepared.vectors if v is not None])
                    if chunks
                    else self.embeddings.embed_documents_np([])
                )
                doc.path = key
            except Exception as e:  # one file's failure never ends the batch
                outcomes[n] = FileOutcome(
                    key, "failed", doc.doc_id, message=f"{type(e).__name__}: {e}"
                )
                continue
            items.append((doc, chunks, vectors, prepared.tokens, [key]))
            placed.append(n)
        if items:
            t = time.perf_counter()
            self.store.write_documents(items)  # a StoreError stops the ingest, as for one file
            stages["write"] += time.perf_counter() - t
        self._write_facts([doc for doc, *_rest in items], stages)
        for n, (doc, chunks, *_rest) in zip(placed, items, strict=True):
            key = entries[n][1]
            status = self.record_written(key, doc.doc_id, by_path, by_doc)
            outcomes[n] = FileOutcome(key, status, doc.doc_id, chunks=len(chunks))
        done = [o for o in outcomes if o is not None]
        assert len(done) == len(entries)
        return done

    def record_copy(
        self, key: str, doc_id: str, by_path: dict[str, str], by_doc: dict[str, list[str]]
    ) -> FileOutcome:
        """``key`` holds the content of stored ``doc_id``: add it to the document's paths
        (``unchanged`` if it is one already, else ``duplicate``), dropping what ``key`` held."""
        paths = by_doc[doc_id]
        if key in paths:
            return FileOutcome(key, "unchanged", doc_id)
        by_doc[doc_id] = [*paths, key]
        self.store.set_paths(doc_id, by_doc[doc_id])
        old = by_path.get(key)
        by_path[key] = doc_id
        if old and old != doc_id:
            self.drop_path(old, key, by_path, by_doc)
        return FileOutcome(
            key, "duplicate", doc_id, message=f"same content as {paths[0] if paths else doc_id}"
        )

    def record_written(
        self, key: str, doc_id: str, by_path: dict[str, str], by_doc: dict[str, list[str]]
    ) -> str:
        """``doc_id`` was just written from ``key``: record it there. Returns ``updated`` when
        ``key`` held another document (dropped unless another path holds it), else ``added``."""
        old = by_path.get(key)
        by_doc[doc_id] = [key]
        by_path[key] = doc_id
        if old and old != doc_id:
            self.drop_path(old, key, by_path, by_doc)
            return "updated"
        return "added"

    def _embed_counted(self, chunks: list[Chunk], on_chunks: ChunkProgressFn | None) -> np.ndarray:
        """Embed chunks in the embedder's batches, reporting each batch to ``on_chunks``."""
        if on_chunks is None or not chunks:
            return self.embeddings.embed_documents_np([c.text for c in chunks])
        step = max(1, int(getattr(self.embeddings, "batch_size", 16) or 16))
        parts = []
        on_chunks(0, len(chunks))
        for i in range(0, len(chunks), step):
            parts.append(self.embeddings.embed_documents_np([c.text for c in chunks[i : i + step]]))
            on_chunks(min(i + step, len(chunks)), len(chunks))
        return np.vstack(parts)

    def drop_path(
        self, doc_id: str, key: str, by_path: dict[str, str], by_doc: dict[str, list[str]]
    ) -> None:
        """``key`` no longer holds ``doc_id``: forget it, deleting the doc if no path is left."""
        remaining = [p for p in by_doc.get(doc_id, []) if p != key]
        if remaining:
            by_doc[doc_id] = remaining
            self.store.set_paths(doc_id, remaining)
        else:
            self._delete_document(doc_id)
            by_doc.pop(doc_id, None)

    def prune(self, roots: list[Path], seen: set[str], by_doc: dict[str, list[str]]) -> list[str]:
        """Delete documents whose files under ``roots`` are gone (or were not seen)."""
        root_keys = [path_key(r) for r in roots]
        removed = []
        for doc_id, paths in list(by_doc.items()):
            keep = [
                p
                for p in paths
                if not any(p == r or p.startswith(r.rstrip(os.sep) + os.sep) for r in root_keys)
                or p in seen
            ]
            if keep == paths:
                continue
            if keep:
                self.store.set_paths(doc_id, keep)
                by_doc[doc_id] = keep
            else:
                self._delete_document(doc_id)
                by_doc.pop(doc_id)
                removed.append(doc_id)
        return removed
