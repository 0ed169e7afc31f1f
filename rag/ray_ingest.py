"""``rag ingest --ray ADDRESS``: load, clean, chunk and embed as Ray Data tasks on a cluster.

The driver (the process that runs the command) lists the files, reads their bytes and
decides from the content id what the store already has, exactly as the local ingest does:
unchanged files are skipped, a copy of a stored file only gains a path, and only new
content is shipped to the cluster (as bytes, so the workers need no shared file system).
Two Ray Data stages follow: a task pool that loads, cleans, chunks and tokenises each file
(``_prepare``), then a pool of actors, one per worker slot, that embed the chunks with the
default e5 embedder and write each document into the Chroma server at ``RAG_CHROMA_URL``
(``_EmbedWrite``; chunks first, then the record that makes the document visible). The
driver then does the path bookkeeping: a changed file's old version is deleted once its
new version is stored. A killed run leaves only invisible chunks, which the next run
deletes before it starts; documents written before the kill are skipped.

This module needs ``pip install 'chipnews-rag[ray]'`` and an existing Ray cluster (it does
not start one) and a Chroma server every worker can reach (it does not start one either).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import ConfigError, missing_extra
from rag.types import FileOutcome, IngestReport


def _prepare(batch: dict[str, Any]) -> dict[str, Any]:
    """Ray task: file bytes -> cleaned document, chunks and keyword tokens (JSON columns)."""
    from rag.chunking import chunk_document
    from rag.loaders import load_bytes
    from rag.textnorm import tokenize_uncached

    out: dict[str, list[Any]] = {
        k: [] for k in ("seq", "key", "doc", "chunks", "tokens", "n_chunks", "error")
    }
    for i in range(len(batch["seq"])):
        key = str(batch["key"][i])
        doc_json = chunks_json = tokens_json = ""
        n, error = 0, ""
        try:
            meta = json.loads(str(batch["meta"][i]))
            loaded = load_bytes(
                bytes(batch["data"][i]), str(batch["name"][i]), source=key, meta=meta
            )
            doc = loaded.document
            doc.path = key
            chunks = chunk_document(
                doc, int(batch["chunk_size"][i]), int(batch["chunk_overlap"][i])
            )
            tokens = [" ".join(tokenize_uncached(c.text)) for c in chunks]
            doc_json = json.dumps(asdict(doc), ensure_ascii=False)
            chunks_json = json.dumps([asdict(c) for c in chunks], ensure_ascii=False)
            tokens_json = json.dumps(tokens, ensure_ascii=False)
            n = len(chunks)
        except Exception as e:  # one file's failure never ends the batch
            error = str(e) if type(e).__name__ == "LoadError" else f"{type(e).__name__}: {e}"
        for k, v in (
            ("seq", int(batch["seq"][i])),
            ("key", key),
            ("doc", doc_json),
            ("chunks", chunks_json),
            ("tokens", tokens_json),
            ("n_chunks", n),
            ("error", error),
        ):
            out[k].append(v)
    return out


class _EmbedWrite:
    """Ray actor: embeds a batch of documents' chunks and writes them into Chroma."""

    def __init__(self, settings: Settings, threads: int) -> None:
        from rag.embeddings import FastE5Embeddings, make_embeddings
        from rag.store import Store

        self.embeddings = make_embeddings(settings.embeddings)
        if isinstance(self.embeddings, FastE5Embeddings):
            self.embeddings.threads = threads
        self.store = Store(settings, self.embeddings.embedder_id)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        from rag.types import Chunk, Document

        out: dict[str, list[Any]] = {k: [] for k in ("seq", "key", "doc_id", "chunks", "error")}
        items = []
        for i in range(len(batch["seq"])):
            error = str(batch["error"][i])
            doc_id, n = "", int(batch["n_chunks"][i])
            if not error:
                doc = Document(**json.loads(str(batch["doc"][i])))
                chunks = [Chunk(**c) for c in json.loads(str(batch["chunks"][i]))]
                tokens = json.loads(str(batch["tokens"][i]))
                doc_id = doc.doc_id
                items.append((i, doc, chunks, tokens))
            out["seq"].append(int(batch["seq"][i]))
            out["key"].append(str(batch["key"][i]))
            out["doc_id"].append(doc_id)
            out["chunks"].append(n)
            out["error"].append(error)
        texts = [c.text for _, _, chunks, _ in items for c in chunks]
        try:
            vectors = self.embeddings.embed_documents_np(texts)
        except Exception:  # find the document that fails; the others are still written
            vectors = None
        start = 0
        for i, doc, chunks, tokens in items:
            try:
                if vectors is not None:
                    vecs = vectors[start : start + len(chunks)]
                else:
                    vecs = self.embeddings.embed_documents_np([c.text for c in chunks])
                self.store.write_documents(
                    [(doc, chunks, np.asarray(vecs), tokens, [doc.path or str(batch["key"][i])])]
                )
            except Exception as e:
                if type(e).__name__ == "StoreError":
                    raise  # the store is gone: the run stops, the next one resumes
                out["error"][i] = f"{type(e).__name__}: {e}"
            start += len(chunks)
        return out


def _ship(
    candidates: list[tuple[Path, str | None]],
    settings: Settings,
    by_path: dict[str, str],
    by_doc: dict[str, list[str]],
) -> tuple[list[dict[str, Any]], dict[int, FileOutcome], list[tuple[int, str, str]]]:
    """(rows to send, outcomes decided here, copies to record once their original is stored)."""
    from rag.ingest import path_key
    from rag.loaders import content_id, read_sidecar

    rows: list[dict[str, Any]] = []
    decided: dict[int, FileOutcome] = {}
    copies: list[tuple[int, str, str]] = []
    shipped: dict[str, int] = {}
    max_bytes = int(settings.max_file_mb * 1024 * 1024)
    for seq, (path, reason) in enumerate(candidates):
        if reason:
            decided[seq] = FileOutcome(str(path), "failed", message=reason)
            continue
        key = path_key(path)
        try:
            if path.stat().st_size > max_bytes:
                raise OSError(f"over the {settings.max_file_mb:g} MB limit (RAG_MAX_FILE_MB)")
            data = path.read_bytes()
            meta = read_sidecar(path)
        except Exception as e:
            decided[seq] = FileOutcome(str(path), "failed", message=f"cannot read: {e}")
            continue
        doc_id = content_id(data)
        if doc_id in by_doc and key in by_doc[doc_id]:
            decided[seq] = FileOutcome(key, "unchanged", doc_id)
        elif doc_id in by_doc or doc_id in shipped:
            copies.append((seq, key, doc_id))
        else:
            shipped[doc_id] = seq
            rows.append(
                {
                    "seq": seq,
                    "key": key,
                    "name": path.name,
                    "data": data,
                    "meta": json.dumps(meta, ensure_ascii=False, default=str),
                    "chunk_size": settings.chunk_size,
                    "chunk_overlap": settings.chunk_overlap,
                }
            )
    return rows, decided, copies


def _connect(address: str) -> Any:
    try:
        import ray
    except ImportError as e:
        raise missing_extra("ray", "ray") from e
    import rag

    env: dict[str, Any] = {"py_modules": [str(Path(rag.__file__).parent)]}
    passed = {k: os.environ[k] for k in ("RAG_CACHE_DIR", "HF_HUB_OFFLINE") if k in os.environ}
    if passed:
        env["env_vars"] = passed
    try:
        ray.init(address=address, runtime_env=env, log_to_driver=False, logging_level=40)
    except Exception as e:
        raise ConfigError(f"cannot connect to the Ray cluster at {address!r}: {e}") from e
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    return ray


def ingest_ray(
    address: str,
    paths: list[Path | str],
    settings: Settings,
    *,
    workers: int | None = None,
    prune: bool = False,
    progress: bool = False,
) -> IngestReport:
    """Ingest files through a Ray cluster into the Chroma server of ``settings.chroma_url``.

    Args:
        address: the cluster, as ``ray.init`` takes it (``HOST:6379``, ``ray://HOST:10001``).
        paths: files and folders on the driver's machine.
        settings: ``chroma_url`` must be set: every worker writes there.
        workers: embedding actors (default: the cluster's CPUs, one each).
        prune: delete stored documents whose files under ``paths`` are gone.
        progress: a bar of chunks embedded, with rate and ETA.
    """
    if not settings.chroma_url:
        raise ConfigError(
            "rag ingest --ray writes into a Chroma server every worker can reach: "
            "set RAG_CHROMA_URL=http://HOST:PORT (start one with 'chroma run --path DIR --port 8000')"
        )
    from rag.embeddings import make_embeddings
    from rag.ingest import Ingestor
    from rag.loaders import iter_files
    from rag.store import Store

    t0 = time.perf_counter()
    embeddings = make_embeddings(settings.embeddings)  # only its id: no model is loaded here
    store = Store(settings, embeddings.embedder_id)
    ing = Ingestor(settings, store, embeddings)
    report = IngestReport()
    metas = store.doc_meta()
    orphans = store.delete_orphan_chunks(metas)
    if orphans:
        report.stage_seconds["orphans_deleted"] = float(orphans)
    by_path, by_doc = ing.path_index(metas)
    roots = [Path(p) for p in paths]
    candidates = list(iter_files(roots))
    rows, outcomes, copies = _ship(candidates, settings, by_path, by_doc)
    if rows:
        ray = _connect(address)
        try:
            slots = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
            results = _run(ray, rows, settings, slots, progress)
        finally:
            ray.shutdown()
        for r in results:
            seq, key, doc_id = int(r["seq"]), str(r["key"]), str(r["doc_id"])
            if r["error"]:
                outcomes[seq] = FileOutcome(key, "failed", doc_id or None, message=str(r["error"]))
                continue
            status = ing.record_written(key, doc_id, by_path, by_doc)
            outcomes[seq] = FileOutcome(key, status, doc_id, chunks=int(r["chunks"]))
    for seq, key, doc_id in copies:  # a copy of a stored (or just written) document
        outcomes[seq] = _record_copy(ing, key, doc_id, by_path, by_doc)
    report.files = [outcomes[i] for i in sorted(outcomes)]
    if prune:
        seen = {f.path for f in report.files if f.status != "failed"}
        report.removed = ing.prune(roots, seen, by_doc)
    report.seconds = time.perf_counter() - t0
    return report


def _record_copy(
    ing: Any, key: str, doc_id: str, by_path: dict[str, str], by_doc: dict[str, list[str]]
) -> FileOutcome:
    if doc_id not in by_doc:
        return FileOutcome(key, "failed", doc_id, message="its original failed to ingest")
    return ing.record_copy(key, doc_id, by_path, by_doc)


def _run(
    ray: Any, rows: list[dict[str, Any]], settings: Settings, slots: int, progress: bool
) -> list[dict[str, Any]]:
    """Run the two Ray Data stages; return one result row per shipped file."""
    prepared = (
        ray.data.from_items(rows, override_num_blocks=max(1, min(len(rows), 4 * slots)))
        .map_batches(_prepare, batch_size=4, compute=ray.data.TaskPoolStrategy(size=slots))
        .materialize()  # cheap (3% of the work), and it gives the chunk total for the ETA
    )
    total = int(prepared.sum("n_chunks") or 0)
    embedded = prepared.map_batches(
        _EmbedWrite,
        batch_size=8,
        compute=ray.data.ActorPoolStrategy(size=slots),
        num_cpus=1,
        fn_constructor_kwargs={"settings": settings, "threads": 1},
    )
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="chunk", desc=f"embed ({slots} Ray workers)", leave=False)
    results = []
    try:
        for r in embedded.iter_rows():
            results.append(r)
            if bar is not None:
                bar.update(int(r["chunks"]))
    finally:
        if bar is not None:
            bar.close()
    return results
