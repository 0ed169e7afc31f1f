"""Aggregation of case records: every metric over a set of records, per category, per
question language and cross-lingual vs same-language, and paired wins/losses between two
configurations. Pure functions of the records; it does not run or render anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from evals import metrics as M

STAGES = ("embed", "retrieve", "answer", "total")


RETRIEVAL_KEYS = [
    f"{lvl}_{m}@{k}" for lvl in ("doc", "evidence") for m in ("hit", "recall") for k in M.KS
] + [f"{lvl}_{m}@10" for lvl in ("doc", "evidence") for m in ("mrr", "ndcg")]


def summarize(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Every metric over a set of case records (None where nothing was measurable)."""
    ans = [r for r in records if r["answerable"]]
    neg = [r for r in records if not r["answerable"]]
    sc = [r["scores"] for r in records]
    out: dict[str, Any] = {
        "n": len(records),
        "n_answerable": len(ans),
        "n_negative": len(neg),
        "errors": sum(1 for r in records if r.get("error")),
        "key_fact_accuracy": M.rate(
            sum(1 for r in ans if r["scores"]["key_fact_correct"]), len(ans)
        ),
        "negative_rejection": M.rate(sum(1 for r in neg if r["abstained"]), len(neg)),
        "false_refusal": M.rate(sum(1 for r in ans if r["abstained"]), len(ans)),
    }
    lang = [s.get("language_match") for s in sc if s.get("language_match") is not None]
    out["answer_language_rate"] = M.rate(sum(1 for x in lang if x), len(lang))
    n_cit = sum(s["citations"] for s in sc)
    out["n_citations"] = n_cit
    out["citation_validity"] = M.rate(sum(s["valid_citations"] for s in sc), n_cit)
    sup = [s["support"] for s in sc if s["support"] is not None]
    out["citation_support"] = M.rate(sum(1 for x in sup if x), len(sup))
    out["citation_recall"] = M.rate(
        sum(s["supported_statements"] for s in sc), sum(s["statements"] for s in sc)
    )
    out["citation_precision"] = M.rate(
        sum(s["precise_pairs"] for s in sc), sum(s["citation_pairs"] for s in sc)
    )
    out["ungrounded_number_rate"] = M.rate(
        sum(len(s["ungrounded_figures"]) for s in sc), sum(s["figures"] for s in sc)
    )
    for key in RETRIEVAL_KEYS:
        out[key] = M.mean(s.get(key) for s in sc)
    out["answer_doc_hit"] = M.rate(sum(1 for r in ans if r["scores"]["answer_doc_hit"]), len(ans))
    consistent = [r.get("retrieval_consistent") for r in records if "retrieval_consistent" in r]
    out["retrieval_consistency"] = M.rate(sum(1 for x in consistent if x), len(consistent))
    for stage in STAGES:
        vals = [r["timings"][stage] for r in records if stage in r.get("timings", {})]
        out[f"latency_{stage}_p50"] = M.percentile(vals, 50)
        out[f"latency_{stage}_p95"] = M.percentile(vals, 95)
    return out


def group_summaries(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Summaries per category, per question language and cross-lingual vs same-language."""
    groups: dict[str, dict[str, list[dict[str, Any]]]] = {
        "category": {},
        "lang": {},
        "crosslingual": {},
    }
    for r in records:
        groups["category"].setdefault(r["category"], []).append(r)
        groups["lang"].setdefault(r["lang"], []).append(r)
        if r.get("crosslingual") is not None:
            key = "cross-lingual" if r["crosslingual"] else "same-language"
            groups["crosslingual"].setdefault(key, []).append(r)
    return {g: {k: summarize(v) for k, v in sorted(d.items())} for g, d in groups.items()}


def flat_metrics(
    summary: dict[str, Any], groups: dict[str, dict[str, dict[str, Any]]]
) -> dict[str, Any]:
    """The summary plus ``crosslingual_*`` metrics, the keys the thresholds name."""
    flat = dict(summary)
    for k, v in groups.get("crosslingual", {}).get("cross-lingual", {}).items():
        flat[f"crosslingual_{k}"] = v
    return flat


def paired(
    records_a: Sequence[dict[str, Any]], records_b: Sequence[dict[str, Any]]
) -> tuple[int, int]:
    """Answerable cases correct under a and not b, and the reverse."""
    b = {r["id"]: bool(r["scores"]["key_fact_correct"]) for r in records_b if r["answerable"]}
    wins = losses = 0
    for r in records_a:
        if r["answerable"] and r["id"] in b:
            a_ok = bool(r["scores"]["key_fact_correct"])
            wins += a_ok and not b[r["id"]]
            losses += b[r["id"]] and not a_ok
    return wins, losses
