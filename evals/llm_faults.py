"""``rag eval --llm-faults``: measure the citation verifier on scripted LLM answers.

Every row of ``evals/datasets/llm_faults.jsonl`` is a scripted answer with each statement
labelled supported or not (see ``evals/datasets/build_llm_faults.py``). The run starts the
replay server (``evals/replay_server.py``), points the real ``langchain-openai`` client at it,
and asks each question through ``QA.stream`` over the real corpus store: retrieval, prompt,
streaming, the verifier and the fall-backs all run as a user would see them.

A statement counts as **kept** when its words (markers, spaces and punctuation aside) appear in
the answer the user sees, or, for a refusal, when the answer abstains. Reported per fault type:
unsupported statements caught (removed) and supported statements kept; then end to end:
key-fact accuracy of the answers to answerable questions and citation support of what is
shown (``evals.metrics.citation_scores``), and latency against the replay server's bytes.

The targets (caught >= 0.95, kept >= 0.97, no fault type below 0.85) are rows of a data
table, ``evals/llm_faults.toml``: ``check_targets`` checks a run's summary against them and
``failures`` prints the rows it misses (``--check`` exits 1 then). It does not judge free text
with a model, does not change the catalogue (``evals/datasets/build_llm_faults.py`` writes it)
and does not serve the scripted answers itself (``evals.replay_server``).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evals import metrics as M

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "evals" / "datasets" / "llm_faults.jsonl"
TARGET_TABLE = Path(__file__).with_name("llm_faults.toml")
_TEMPLATE = re.compile(r"\{src!?:[^}]*\}")
_LIST = re.compile(r"^\s*(?:[-*•·]|\d{1,2}[.)、])\s+")
_DROP = re.compile(r"[\s\W_]+")


def load_targets(path: Path = TARGET_TABLE) -> list[dict[str, Any]]:
    """The ``[[target]]`` rows of ``evals/llm_faults.toml``; a bad file fails with its path."""
    import tomllib

    try:
        rows = list(tomllib.loads(path.read_text(encoding="utf-8"))["target"])
    except (OSError, tomllib.TOMLDecodeError, KeyError) as e:
        raise SystemExit(f"{path}: {e}") from e
    for n, row in enumerate(rows, 1):
        ok = (
            row.get("rate") in ("caught", "kept")
            and row.get("scope") in ("all", "fault")
            and row.get("missing") in ("missed", "skipped")
            and isinstance(row.get("min"), float | int)
            and isinstance(row.get("says"), str)
        )
        if not ok:
            raise SystemExit(
                f"{path}: target {n} needs rate caught|kept, scope all|fault, "
                "missing missed|skipped, a number min and a says line"
            )
    return rows


TARGET_ROWS = load_targets()


def load_catalogue(path: str | Path = CATALOGUE) -> list[dict[str, Any]]:
    """The catalogue rows; a malformed row fails with its line number."""
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            for key in ("id", "question", "fault", "response", "statements"):
                row[key]
        except (json.JSONDecodeError, KeyError) as e:
            raise ValueError(f"{path}:{n}: not a catalogue row ({e})") from None
        rows.append(row)
    return rows


def core(text: str) -> str:
    """A statement's words for matching: no source templates, markers, bullets, spaces or
    punctuation; NFKC and lower case."""
    from rag.citations import MARKER

    text = MARKER.sub("", _TEMPLATE.sub("", text))
    text = _LIST.sub("", text.strip())
    return _DROP.sub("", unicodedata.normalize("NFKC", text)).lower()


def statement_kept(statement: dict[str, Any], answer: Any) -> bool:
    """Whether the user sees ``statement`` in ``answer`` (a refusal: the answer abstains)."""
    if statement.get("refusal"):
        return bool(answer.abstained)
    if answer.abstained:
        return False
    return core(statement["text"]) in core(answer.text)


class _TokenClock:
    """A LangChain callback noting when the first and last streamed tokens arrive."""

    def __init__(self) -> None:
        from langchain_core.callbacks import BaseCallbackHandler

        clock = self

        class Handler(BaseCallbackHandler):
            run_inline = True  # called on the streaming thread, so the times are exact

            def on_llm_new_token(self, token: Any, **kwargs: Any) -> None:
                now = time.perf_counter()
                if clock.first is None:
                    clock.first = now
                clock.last = now

        self.handler = Handler()
        self.first: float | None = None
        self.last: float | None = None

    def reset(self) -> None:
        self.first = self.last = None


def run_case(qa: Any, server: Any, clock: _TokenClock, row: dict[str, Any]) -> dict[str, Any]:
    """Ask one catalogue question against its scripted answer; the scored record."""
    from rag.types import Answer, Final, TextDelta

    server.set_responses({row["question"]: row["response"]})
    before = len(server.requests)
    clock.reset()
    first_piece: float | None = None
    answer: Answer | None = None
    for event in qa.stream(row["question"], answerer="llm", since=row.get("since")):
        match event:
            case Final(answer=final):
                answer = final
            case TextDelta() if first_piece is None:
                first_piece = time.perf_counter()
    done = time.perf_counter()
    assert answer is not None
    reqs = server.requests[before:]
    req = reqs[-1] if reqs else None
    kept = [statement_kept(s, answer) for s in row["statements"]]
    rec: dict[str, Any] = {
        "id": row["id"],
        "set": row.get("set", "dev"),
        "qid": row.get("qid"),
        "fault": row["fault"],
        "question": row["question"],
        "shown": answer.text,
        "abstained": answer.abstained,
        "answerer": answer.answerer,
        "notes": answer.notes,
        "unresolved": list(req.unresolved) if req else [],
        "statements": [
            {"text": s["text"], "supported": s["supported"], "kept": k}
            for s, k in zip(row["statements"], kept, strict=True)
        ],
        "llm_called": req is not None,
    }
    if req is not None and req.stream:
        if clock.first is not None:
            rec["first_token_ms"] = 1000 * (clock.first - req.first_byte)
        if first_piece is not None:
            rec["first_statement_ms"] = 1000 * (first_piece - req.first_byte)
        rec["final_after_stream_ms"] = 1000 * (done - max(req.last_byte, clock.last or 0.0))
    if row.get("answerable") and row.get("key_facts"):
        rec["key_facts_correct"] = (not answer.abstained) and M.key_facts_correct(
            row["key_facts"], answer.text
        )
    if not answer.abstained:
        cs = M.citation_scores(answer.text, {c.n: c.quote for c in answer.citations})
        rec["citation_support"] = M.rate(cs.supported_statements, cs.statements)
    return rec


def summarize(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per-fault and overall caught/kept rates, end-to-end accuracy and latency; the same per
    question set (``dev``; ``heldout``, written blind and never tuned on) under ``sets``."""
    out = _summary(records)
    names = sorted({r.get("set", "dev") for r in records})
    if len(names) > 1:
        out["sets"] = {n: _summary([r for r in records if r.get("set", "dev") == n]) for n in names}
    return out


def _summary(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    per: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in records:
        for s in r["statements"]:
            d = per[r["fault"]]
            if s["supported"]:
                d["supported"] += 1
                d["kept"] += int(s["kept"])
            else:
                d["unsupported"] += 1
                d["caught"] += int(not s["kept"])
    faults = {
        f: {
            "answers": sum(1 for r in records if r["fault"] == f),
            "unsupported": d["unsupported"],
            "caught": M.rate(d["caught"], d["unsupported"]),
            "supported": d["supported"],
            "kept": M.rate(d["kept"], d["supported"]),
        }
        for f, d in per.items()
    }
    tot = {
        k: sum(d[k] for d in per.values()) for k in ("caught", "unsupported", "kept", "supported")
    }

    def lat(key: str, recs: Sequence[dict[str, Any]] = records) -> dict[str, float | None]:
        vals = sorted(r[key] for r in recs if key in r)
        return {
            "n": len(vals),
            "median": statistics.median(vals) if vals else None,
            "p95": M.percentile(vals, 95),
            "max": max(vals) if vals else None,
        }

    kf = [r["key_facts_correct"] for r in records if "key_facts_correct" in r]
    cs = [r["citation_support"] for r in records if r.get("citation_support") is not None]
    llm = [r for r in records if r.get("answerer") == "llm"]
    return {
        "answers": len(records),
        "caught": M.rate(tot["caught"], tot["unsupported"]),
        "kept": M.rate(tot["kept"], tot["supported"]),
        "unsupported": tot["unsupported"],
        "supported": tot["supported"],
        "faults": faults,
        "key_fact_accuracy": M.mean(float(x) for x in kf),
        "key_fact_answers": len(kf),
        "citation_support": M.mean(cs),
        "unresolved_templates": sum(1 for r in records if r["unresolved"]),
        "latency_ms": {
            k: lat(k) for k in ("first_token_ms", "first_statement_ms", "final_after_stream_ms")
        },
        "llm_latency_ms": {k: lat(k, llm) for k in ("first_statement_ms", "final_after_stream_ms")},
    }


def check_targets(
    summary: dict[str, Any], rows: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Each target row of the table against a run: name, target, value, met and the line a
    miss prints (an overall row once, a fault-type row per fault type; skipped rows absent)."""
    table = TARGET_ROWS if rows is None else rows
    where: list[tuple[dict[str, Any], str | None, dict[str, Any]]] = [
        (row, None, summary) for row in table if row["scope"] == "all"
    ]
    where += [
        (row, fault, d)
        for fault, d in summary["faults"].items()
        for row in table
        if row["scope"] == "fault"
    ]
    out = []
    for row, fault, scores in where:
        value = scores[row["rate"]]
        if value is None and row["missing"] == "skipped":
            continue
        met = value is not None and value >= row["min"]
        shown = "n/a" if value is None else f"{value:.3f}"
        out.append(
            {
                "name": row["rate"] if fault is None else f"{fault}: {row['rate']}",
                "target": f">= {row['min']}",
                "value": value,
                "met": met,
                "says": row["says"].format(value=shown, min=row["min"], fault=fault),
            }
        )
    return out


def failures(summary: dict[str, Any]) -> list[str]:
    """The targets of issue 16 (``evals/llm_faults.toml``) this run misses, one line each."""
    return [t["says"] for t in check_targets(summary) if not t["met"]]


def render(summary: dict[str, Any]) -> str:
    """The console / markdown tables of a run (all answers, then each question set)."""
    text = _render(summary, "all answers")
    for name, sub in summary.get("sets", {}).items():
        text += "\n\n" + _render(
            sub,
            f"{name} questions" + (" (written blind, never tuned on)" if name == "heldout" else ""),
        )
    return text


def _render(summary: dict[str, Any], title: str) -> str:

    def pct(x: float | None) -> str:
        return "  -  " if x is None else f"{x:.3f}"

    lines = [
        f"LLM fault catalogue, {title}: {summary['answers']} scripted answers, "
        f"{summary['unsupported']} unsupported and {summary['supported']} supported statements",
        "",
        "| fault type | answers | unsupported caught | supported kept |",
        "|---|---:|---:|---:|",
    ]
    for f, d in summary["faults"].items():
        lines.append(
            f"| {f} | {d['answers']} | {pct(d['caught'])} ({d['unsupported']}) | "
            f"{pct(d['kept'])} ({d['supported']}) |"
        )
    lines.append(
        f"| **all** | {summary['answers']} | **{pct(summary['caught'])}** | **{pct(summary['kept'])}** |"
    )

    def ms(key: str, table: str = "latency_ms") -> str:
        d = summary[table][key]
        if not d["n"]:
            return "n/a"
        return f"median {d['median']:.1f} ms, p95 {d['p95']:.1f} ms, max {d['max']:.1f} ms (n={d['n']})"

    lines += [
        "",
        f"End to end: key-fact accuracy {pct(summary['key_fact_accuracy'])} "
        f"over {summary['key_fact_answers']} answerable questions; citation support of what is "
        f"shown {pct(summary['citation_support'])}.",
        f"Latency after the replay server's first byte: first streamed token {ms('first_token_ms')}; "
        f"first verified statement {ms('first_statement_ms')}.",
        f"Final verified answer after the stream's last byte: {ms('final_after_stream_ms')}; "
        f"answers the LLM gave (no offline replacement): "
        f"{ms('final_after_stream_ms', 'llm_latency_ms')}.",
    ]
    if summary["unresolved_templates"]:
        lines.append(
            f"{summary['unresolved_templates']} answer(s) named a source that was not retrieved."
        )
    return "\n".join(lines)


def open_qa(data_dir: Path, corpus: Path, server_url: str) -> tuple[Any, _TokenClock]:
    """The corpus store with the LLM pointed at the replay server (token clock attached)."""
    from evals.harness import base_settings, open_store
    from rag.answer_llm import make_llm

    settings = base_settings().with_(
        llm_base_url=server_url, llm_model="replay", llm_api_key=None, answerer="llm"
    )
    qa, _ = open_store(settings.embeddings, data_dir, corpus, settings)
    clock = _TokenClock()
    qa.llm = make_llm(qa.settings.with_(llm_base_url=server_url, llm_model="replay")).with_config(
        callbacks=[clock.handler]
    )
    return qa, clock


def run(args: argparse.Namespace) -> dict[str, Any]:
    from evals.replay_server import ReplayServer

    rows = load_catalogue(args.catalogue)
    if args.fault:
        rows = [r for r in rows if r["fault"] in args.fault]
    if args.set:
        rows = [r for r in rows if r.get("set", "dev") == args.set]
    if args.limit:
        rows = rows[: args.limit]
    with ReplayServer(model="replay", delay=args.delay) as server:
        qa, clock = open_qa(Path(args.data_dir), Path(args.corpus), server.url)
        records = [run_case(qa, server, clock, r) for r in rows]
    summary = summarize(records)
    out = Path(args.out) if args.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "llm_faults_cases.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
        )
        (out / "llm_faults_summary.json").write_text(
            json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        (out / "llm_faults.md").write_text(render(summary) + "\n", encoding="utf-8")
    return {"summary": summary, "records": records}


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="rag eval --llm-faults",
        description="Measure the citation verifier on the scripted LLM fault catalogue.",
    )
    p.add_argument("--llm-faults", action="store_true", help=argparse.SUPPRESS)
    p.add_argument(
        "--catalogue", default=str(CATALOGUE), help="JSONL catalogue (default: %(default)s)"
    )
    p.add_argument("--data-dir", default=".rag/eval", help="store cache (default: %(default)s)")
    p.add_argument("--corpus", default=str(ROOT / "corpus"), help="folder to ingest")
    p.add_argument("--fault", action="append", help="only this fault type (repeatable)")
    p.add_argument("--set", choices=["dev", "heldout"], default=None, help="only this question set")
    p.add_argument("--limit", type=int, default=None, help="only the first N answers")
    p.add_argument("--delay", type=float, default=0.0, help="seconds between streamed chunks")
    p.add_argument("--out", default=None, help="write cases, summary and table to this folder")
    p.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    p.add_argument(
        "--show", action="store_true", help="print every statement the verifier got wrong"
    )
    return p.parse_args(list(argv))


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``rag eval --llm-faults`` and ``python -m evals --llm-faults``."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    args = parse_args(sys.argv[1:] if argv is None else argv)
    res = run(args)
    if args.show:
        for r in res["records"]:
            for s in r["statements"]:
                if s["kept"] != s["supported"]:
                    what = "KEPT unsupported" if s["kept"] else "REMOVED supported"
                    print(
                        f"{r['id']} {r['fault']}: {what}: {s['text']}\n   shown: {r['shown'][:200]!r}"
                    )
                    for note in r["notes"]:
                        print(f"   note: {note}")
    print(render(res["summary"]))
    missed = failures(res["summary"])
    for m in missed:
        print(f"below target: {m}", file=sys.stderr)
    return 1 if (args.check and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
