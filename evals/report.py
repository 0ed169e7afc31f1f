"""Rendering of an evaluation run: the Markdown report, ``RESULTS.md`` (with its hand-kept
history block and the gate's thresholds) and the console table; also the ranking of the
configurations and the list of failing cases.

The metrics' labels, targets and the threshold checks come from ``evals.targets`` (the
table ``evals/targets.toml``), the PNG charts from ``evals.charts``; this module neither
runs nor checks anything itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evals.targets import LABELS, TARGETS, TARGETS_BY_SET, check_thresholds

HISTORY_START, HISTORY_END = "<!-- history -->", "<!-- /history -->"

SUMMARY_COLS = [
    "key_fact_accuracy",
    "answer_language_rate",
    "negative_rejection",
    "false_refusal",
    "doc_hit@5",
    "evidence_hit@5",
    "doc_mrr@10",
    "citation_validity",
    "citation_support",
    "citation_recall",
    "citation_precision",
    "ungrounded_number_rate",
]
GROUP_COLS = [
    "n",
    "key_fact_accuracy",
    "answer_language_rate",
    "negative_rejection",
    "false_refusal",
    "doc_hit@5",
    "evidence_hit@5",
    "citation_support",
    "citation_recall",
    "ungrounded_number_rate",
]


def fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def ms(v: float | None) -> str:
    return "–" if v is None else f"{v * 1000:.0f}"


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(fmt(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


# -- ranking ----------------------------------------------------------------


def read_history(path: Path) -> str:
    """The hand-kept history block of ``RESULTS.md`` (between the markers), or ''."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    a, b = text.find(HISTORY_START), text.find(HISTORY_END)
    if a < 0 or b < a:
        return ""
    return text[a + len(HISTORY_START) : b].strip("\n")


def _key(row: dict[str, Any]) -> tuple[float, float, float]:
    s = row["summary"]
    abst = (s.get("negative_rejection") or 0.0) - (s.get("false_refusal") or 0.0)
    return (s.get("key_fact_accuracy") or 0.0, abst, s.get("doc_hit@5") or 0.0)


def rank_configs(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Config names, best first: key-fact accuracy, then negative rejection minus false
    refusal, then doc hit@5 (ties keep the run order)."""
    return [r["name"] for r in sorted(rows, key=_key, reverse=True)]


def failing_cases(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The failed cases of one configuration, with their reason."""
    out = []
    for r in records:
        if not r.get("failure"):
            continue
        missing = [
            g[0]
            for g, ok in zip(r["key_facts"], r["scores"]["key_facts_matched"], strict=False)
            if not ok
        ]
        out.append(
            {
                "id": r["id"],
                "category": r["category"],
                "lang": r["lang"],
                "reason": r["failure"],
                "missing": missing,
                "answer": " ".join(str(r.get("answer", "")).split())[:90],
            }
        )
    return out


def _delta(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return "–"
    return f"{a - b:+.3f}"


def best_statement(run: dict[str, Any]) -> str:
    rows = {r["name"]: r for r in run["configs"]}
    best = run["best"]
    b = rows[best]["summary"]
    text = (
        f"**Best configuration: `{best}`** (key-fact accuracy {fmt(b['key_fact_accuracy'])}, "
        f"negative rejection {fmt(b['negative_rejection'])}, false refusal {fmt(b['false_refusal'])}, "
        f"doc hit@5 {fmt(b['doc_hit@5'])}). Ranked by key-fact accuracy, then negative rejection "
        "minus false refusal, then doc hit@5."
    )
    if "default" in rows and best != "default":
        d = rows["default"]["summary"]
        c = run["comparisons"].get("default", {})
        text += (
            f" The shipped default is **not** the best measured: `{best}` beats it by "
            f"{_delta(b['key_fact_accuracy'], d['key_fact_accuracy'])} key-fact accuracy "
            f"({c.get('wins', 0)} cases right only with `{best}`, {c.get('losses', 0)} only with the default)."
        )
    elif best == "default":
        text += " The shipped default is the best measured configuration."
    tied = [n for n in run["ranking"] if n != best and _key(rows[n]) == _key(rows[best])]
    if tied:
        text += f" Tied on every ranking metric with {', '.join(f'`{n}`' for n in tied)}"
        same = [n for n in tied if {best, n} == {"default", "hybrid+glossary"}]
        text += " (the same settings as shipped)." if same else "."
    return text


def _failure_counts(failing: Sequence[dict[str, Any]]) -> str:
    reasons: dict[str, int] = {}
    for f in failing:
        key = f["reason"].split(" (")[0]
        reasons[key] = reasons.get(key, 0) + 1
    return (
        ", ".join(f"{k}: {v}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])) or "none"
    )


DEFINITIONS = """Definitions (see `evals/metrics.py`): *key-fact accuracy*: an answerable case is right when
every key-fact group has an alias in the answer text (NFKC, case-folded, all whitespace removed,
Chinese compared by characters; Latin/digit edges must be token edges); abstentions are wrong.
*Doc / evidence hit@k*: a gold document / a passage containing a gold quote among the top k of a
k=10 search. *Citation validity*: `quote == document.text[start:end]`. *Citation support*: the
cited quotes together contain every key fact. *Citation recall / precision* (ALCE-style):
statements (cut at sentence ends and `[n]` markers) whose figures all occur in their cited quotes
and that share a token with them / citations that support their statement. *Ungrounded #*:
figures of the answer found in no cited quote. *Negative rejection* / *false refusal*:
abstentions on unanswerable / answerable cases."""


# -- the Markdown report ---------------------------------------------------------------------


def _summary_table(run: dict[str, Any]) -> str:
    rows = []
    for r in run["configs"]:
        s = r["summary"]
        rows.append(
            [
                f"`{r['name']}`",
                *[s.get(k) for k in SUMMARY_COLS],
                ms(s.get("latency_total_p50")),
                ms(s.get("latency_total_p95")),
            ]
        )
    return table(["config", *[LABELS[k] for k in SUMMARY_COLS], "p50 ms", "p95 ms"], rows)


def _ranking_table(run: dict[str, Any]) -> str:
    rows_by = {r["name"]: r for r in run["configs"]}
    b = rows_by[run["best"]]["summary"]
    rows = []
    for i, name in enumerate(run["ranking"], 1):
        s = rows_by[name]["summary"]
        c = run["comparisons"].get(name, {})
        rows.append(
            [
                i,
                f"`{name}`",
                s["key_fact_accuracy"],
                _delta(s["key_fact_accuracy"], b["key_fact_accuracy"]),
                _delta(s["negative_rejection"], b["negative_rejection"]),
                _delta(s["false_refusal"], b["false_refusal"]),
                _delta(s["doc_hit@5"], b["doc_hit@5"]),
                f"{c['wins']}/{c['losses']}" if c else "–",
            ]
        )
    return table(
        [
            "rank",
            "config",
            "key-fact acc.",
            "Δ key-fact",
            "Δ neg. rejection",
            "Δ false refusal",
            "Δ doc hit@5",
            "best wins/losses",
        ],
        rows,
    )


def _retrieval_table(run: dict[str, Any], level: str) -> str:
    keys = [f"{level}_{m}@{k}" for m in ("hit", "recall") for k in (1, 3, 5, 10)] + [
        f"{level}_mrr@10",
        f"{level}_ndcg@10",
    ]
    rows = [[f"`{r['name']}`", *[r["summary"].get(k) for k in keys]] for r in run["configs"]]
    return table(["config", *[k.split("_", 1)[1] for k in keys]], rows)


def _by_group_table(run: dict[str, Any], group: str, metric: str) -> str:
    names = [r["name"] for r in run["configs"]]
    keys = sorted({k for r in run["configs"] for k in r["groups"][group]})
    rows = []
    for k in keys:
        n = next((r["groups"][group][k]["n"] for r in run["configs"] if k in r["groups"][group]), 0)
        rows.append([k, n, *[r["groups"][group].get(k, {}).get(metric) for r in run["configs"]]])
    return table([group, "n", *[f"`{n}`" for n in names]], rows)


def _group_detail(row: dict[str, Any], group: str) -> str:
    rows = [[k, *[s.get(c) for c in GROUP_COLS]] for k, s in row["groups"][group].items()]
    return table([group, *[LABELS.get(c, c) for c in GROUP_COLS]], rows)


def _crosslingual_table(run: dict[str, Any]) -> str:
    cols = [
        "n",
        "doc_hit@5",
        "evidence_hit@5",
        "doc_mrr@10",
        "key_fact_accuracy",
        "citation_support",
        "false_refusal",
        "negative_rejection",
    ]
    rows = []
    for r in run["configs"]:
        for k, s in r["groups"]["crosslingual"].items():
            rows.append([f"`{r['name']}`", k, *[s.get(c) for c in cols]])
    return table(["config", "cases", *[LABELS.get(c, c) for c in cols]], rows)


def _latency_table(run: dict[str, Any]) -> str:
    rows = []
    for r in run["configs"]:
        s = r["summary"]
        stages = {st: s.get(f"latency_{st}_p50") or 0.0 for st in ("embed", "retrieve", "answer")}
        slowest = max(stages, key=lambda k: stages[k])
        rows.append(
            [
                f"`{r['name']}`",
                *[
                    ms(s.get(f"latency_{st}_{p}"))
                    for st in ("embed", "retrieve", "answer", "total")
                    for p in ("p50", "p95")
                ],
                slowest,
            ]
        )
    return table(
        [
            "config",
            "embed p50",
            "embed p95",
            "retrieve p50",
            "retrieve p95",
            "answer p50",
            "answer p95",
            "total p50",
            "total p95",
            "slowest stage (p50)",
        ],
        rows,
    )


def _threshold_table(flat: dict[str, Any], thresholds: dict[str, dict[str, float]]) -> str:
    rows = []
    for name, bound in thresholds.items():
        v = flat.get(name)
        ok = not check_thresholds({name: v}, {name: bound})
        target = f">= {bound['min']:.2f}" if "min" in bound else f"<= {bound['max']:.2f}"
        rows.append([LABELS.get(name, name), fmt(v), target, "pass" if ok else "**FAIL**"])
    return table(["metric", "default", "target", ""], rows)


SIDE_COLS = [
    "n",
    "key_fact_accuracy",
    "crosslingual_key_fact_accuracy",
    "answer_language_rate",
    "negative_rejection",
    "false_refusal",
    "citation_validity",
    "citation_support",
    "doc_hit@5",
    "crosslingual_doc_hit@5",
]

LANG_FACTS_DEFINITIONS = """*Asker's language*: the answer's own words (text in quotation marks
or brackets and `[n]` markers dropped) are in the question's language: Han characters count
half a word, English words (a letter then lower-case letters; acronyms, units and model names
count for neither) one; abstentions count too, an answer with no words passes. *Facts*: a gold
fact of `facts_gold.jsonl` is recalled when `qa.facts()` holds a fact of the same document and
attribute, an entity whose name, id or alias is the gold entity's name or alias (NFKC,
simplified, case- and space-insensitive) and an equal normalised value (or the same value
text); precision is over the extracted facts of the gold articles."""


def _default_row(s: dict[str, Any]) -> dict[str, Any] | None:
    return next((r for r in s["configs"] if r["name"] == "default"), None)


def side_by_side(run: dict[str, Any]) -> str:
    """The default configuration on every set, one row per set."""
    rows = []
    for name, s in run["sets"].items():
        row = _default_row(s) or s["configs"][0]
        f = row["flat"]
        rows.append(
            [
                f"`{name}` (`{row['name']}`)",
                *[f.get(c) for c in SIDE_COLS],
                ms(row["summary"].get("latency_total_p50")),
            ]
        )
    return table(["set", *[LABELS.get(c, c) for c in SIDE_COLS], "p50 ms"], rows)


def facts_line(run: dict[str, Any]) -> str:
    facts = run.get("facts") or {}
    line = str(facts.get("note") or "facts: not measured")
    by_attr = facts.get("recall_by_attribute") or {}
    if by_attr:
        line += ". Recall by attribute: " + ", ".join(f"{a} {fmt(v)}" for a, v in by_attr.items())
    return line + "."


def _set_report_main(s: dict[str, Any], info: dict[str, Any]) -> list[str]:
    rows_by = {r["name"]: r for r in s["configs"]}
    default = rows_by.get("default") or s["configs"][0]
    return [
        f"## Set `{s['name']}`: `{s['dataset']}` ({s['n_cases']} cases)",
        "",
        "### Summary per configuration",
        "",
        _summary_table(s),
        "",
        "### Which configuration is best",
        "",
        best_statement(s),
        "",
        _ranking_table(s),
        "",
        "### Retrieval (document level: passage from a gold document)",
        "",
        _retrieval_table(s, "doc"),
        "",
        "### Retrieval (evidence level: passage containing a gold quote)",
        "",
        _retrieval_table(s, "evidence"),
        "",
        "### Per category",
        "",
        _by_group_table(s, "category", "key_fact_accuracy"),
        "",
        f"All metrics of `{default['name']}` by category:",
        "",
        _group_detail(default, "category"),
        "",
        "### Per language (of the question)",
        "",
        _by_group_table(s, "lang", "key_fact_accuracy"),
        "",
        _group_detail(default, "lang"),
        "",
        "### Cross-lingual (no gold document in the question's language)",
        "",
        _crosslingual_table(s),
        "",
        "### Latency (ms, from `QA.ask`; `retrieve` includes `embed`)",
        "",
        _latency_table(s),
        "",
    ]


def _set_report_tail(s: dict[str, Any], run: dict[str, Any], show_cases: bool) -> list[str]:
    rows_by = {r["name"]: r for r in s["configs"]}
    default = rows_by.get("default") or s["configs"][0]
    failing = s.get("failing") or []
    parts = [
        f"### Thresholds (`{default['name']}`)",
        "",
        _threshold_table(default["flat"], run.get("thresholds", {}).get(s["name"], {})),
        "",
        f"### Failing cases of `{default['name']}` ({len(failing)})",
        "",
        _failure_counts(failing),
        "",
    ]
    if failing and show_cases:
        parts.append(
            table(
                ["id", "category", "lang", "reason", "missing key facts", "answer"],
                [
                    [f["id"], f["category"], f["lang"], f["reason"], ", ".join(f["missing"]),
                     f["answer"].replace("|", "/")]
                    for f in failing
                ],
            )
        )  # fmt: skip
        parts.append("")
    elif failing:
        parts += [HELDOUT_NOTE, ""]
    parts += ["### Dataset issues", ""]
    parts += [f"- {i}" for i in s["dataset_issues"]] or ["none found"]
    return [*parts, ""]


HELDOUT_NOTE = (
    "Held-out cases are listed only in `cases.jsonl`: the held-out set measures answers to "
    "articles nobody tuned for, so read its aggregates, not its cases, while working on the answerer."
)


def render_report(run: dict[str, Any]) -> str:
    """The Markdown report of a run: every set side by side, then each set in detail."""
    info = run["run"]
    parts = [
        f"# Evaluation report {info['started']}",
        "",
        f"`{info['command']}`, commit `{info['commit']}`, {info['seconds']:.0f}s, sets "
        + ", ".join(f"`{n}` ({k} cases)" for n, k in info["sets"].items())
        + f". Answers use k={info['answer_k']} (answerer `{info['answerer']}`); retrieval "
        f"metrics use a second search with k={info['retrieval_k']} on the same resolved question.",
        "",
        "## Dev and held-out side by side (default configuration)",
        "",
        side_by_side(run),
        "",
        facts_line(run),
        "",
        DEFINITIONS,
        "",
        LANG_FACTS_DEFINITIONS,
        "",
    ]
    for name, s in run["sets"].items():
        parts += _set_report_main(s, info)
        parts += _set_report_tail(s, run, show_cases=name != "heldout")
    judge = run["judge"]
    parts += ["## LLM-judged metrics", "", judge["note"] + _judge_detail(judge), ""]
    if run["problems"]:
        parts += ["## Problems", ""] + [f"- {p}" for p in run["problems"]] + [""]
    first = next(iter(run["sets"].values()))
    parts += ["## Configurations", ""]
    parts += [
        f"- `{r['name']}`: {r['description']} ({r['seconds']:.0f}s on `{first['name']}`, "
        f"retrieval consistency {fmt(r['summary']['retrieval_consistency'])})"
        for r in first["configs"]
    ]
    parts += ["", "Ingest: " + "; ".join(f"{k}: {v}" for k, v in info["ingest"].items())]
    if run.get("charts"):
        parts += ["", "## Charts", ""] + [f"![{c}]({c})" for c in run["charts"]]
    return "\n".join(parts) + "\n"


def _judge_detail(judge: dict[str, Any]) -> str:
    if "judged" not in judge:
        return "."
    return (
        f": faithfulness {fmt(judge.get('faithfulness'))}, answer relevance "
        f"{fmt(judge.get('answer_relevance'))} ({judge.get('unreadable', 0)} unreadable, "
        f"{judge.get('errors', 0)} errors)."
    )


def _results_set(s: dict[str, Any], info: dict[str, Any], thresholds: dict[str, Any]) -> list[str]:
    default = _default_row(s)
    parts = [
        f"## Set `{s['name']}` ({s['n_cases']} cases of `{Path(s['dataset']).name}`)",
        "",
        _summary_table(s),
        "",
        best_statement(s),
        "",
        "Cross-lingual key-fact accuracy / doc hit@5: "
        + ", ".join(
            f"`{r['name']}` {fmt(r['flat'].get('crosslingual_key_fact_accuracy'))} / "
            f"{fmt(r['flat'].get('crosslingual_doc_hit@5'))}"
            for r in s["configs"]
        )
        + ".",
        "",
    ]
    if default is None:
        return parts
    targets = TARGETS_BY_SET.get(s["name"], TARGETS)
    missed = check_thresholds(default["flat"], targets)
    parts += [
        f"Against the targets ({'not met: ' + str(len(missed)) if missed else 'all met'}):",
        "",
        _threshold_table(default["flat"], targets),
        "",
        "Against the CI gate:",
        "",
        _threshold_table(default["flat"], thresholds.get(s["name"], {})),
        "",
        "By category:",
        "",
        _group_detail(default, "category"),
        "",
        f"Failing cases ({len(s.get('failing') or [])}): {_failure_counts(s.get('failing') or [])}.",
        "",
    ]
    issues = s.get("dataset_issues") or []
    if issues:
        parts += ["Dataset issues found by the run:", ""] + [f"- {i}" for i in issues] + [""]
    return parts


def render_results(
    run: dict[str, Any], thresholds: dict[str, dict[str, dict[str, float]]], history: str = ""
) -> str:
    """The text of ``evals/RESULTS.md``: dev and held-out side by side, each set's summary,
    the hand-kept history block and the gate's thresholds."""
    info = run["run"]
    parts = [
        "# Evaluation results",
        "",
        f"Latest run: {info['started']}, commit `{info['commit']}`, `{info['command']}`, "
        f"answerer `{info['answerer']}`. Regenerate with `python -m evals --write-results` "
        "(reports land in `evals/reports/`, not committed).",
        "",
        "## Dev and held-out side by side (default configuration)",
        "",
        side_by_side(run),
        "",
        facts_line(run),
        "",
        "The held-out set (`evals/datasets/heldout.jsonl`, over the articles `corpus/*/h*` and the "
        "older corpus) was written before any tuning on it. Never tune on its cases; "
        "read its aggregates only.",
        "",
        "## History",
        "",
        HISTORY_START,
        history,
        HISTORY_END,
        "",
    ]
    for s in run["sets"].values():
        parts += _results_set(s, info, thresholds)
    parts += [
        DEFINITIONS,
        "",
        LANG_FACTS_DEFINITIONS,
        "",
        run["judge"]["note"] + ".",
        "",
        "## Thresholds",
        "",
        "`tests/test_eval_gate.py` (marked `slow`) runs each set with the default offline "
        "configuration and fails below these: the measured value minus a margin of 0.03 "
        "(plus, for false refusals), rounded outwards; citation validity stays at 1.0. "
        "`python -m evals --write-results --set-thresholds` re-derives them from a run. "
        "Raise them as the system improves; lower them only with a reason recorded here.",
        "",
        "```json",
        json.dumps({"thresholds": thresholds}, indent=2),
        "```",
        "",
    ]
    return "\n".join(parts)


def render_console(run: dict[str, Any]) -> str:
    cols = ["key_fact_accuracy", "crosslingual_key_fact_accuracy", "answer_language_rate",
            "negative_rejection", "false_refusal", "doc_hit@5", "citation_validity",
            "citation_support"]  # fmt: skip
    short = ["kf_acc", "xl_kf", "lang", "neg_rej", "false_ref", "hit@5", "cit_valid", "cit_supp"]
    lines = []
    for name, s in run["sets"].items():
        width = max(len(r["name"]) for r in s["configs"]) + 2
        lines.append(f"[{name}] " + "config".ljust(width) + " ".join(x.rjust(9) for x in short))
        for r in s["configs"]:
            lines.append(
                f"[{name}] "
                + r["name"].ljust(width)
                + " ".join(fmt(r["flat"].get(c)).rjust(9) for c in cols)
                + "  p50 "
                + ms(r["summary"].get("latency_total_p50"))
            )
        lines.append(f"[{name}] best: {s['best']}")
    lines.append(facts_line(run))
    lines.append(run["judge"]["note"])
    return "\n".join(lines)
