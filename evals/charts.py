"""The PNG charts of one question set: metric bars per configuration, key-fact accuracy per
category, latency per stage. Needs matplotlib (the ``eval`` extra); it only draws what the
run's summary holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evals.targets import LABELS


def write_charts(run: dict[str, Any], out: Path, prefix: str = "") -> list[Path]:
    """metrics.png (metric bars per config), category_key_facts.png, latency.png of one
    question set (``run`` is the set's summary); file names start with ``prefix``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = run["configs"]
    names = [r["name"] for r in rows]
    paths = []

    def bars(ax: Any, groups: list[str], values: list[list[float]]) -> None:
        width = 0.8 / max(1, len(names))
        for i, name in enumerate(names):
            xs = [g + (i - (len(names) - 1) / 2) * width for g in range(len(groups))]
            ax.bar(xs, values[i], width, label=name)
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels(groups, rotation=20, ha="right")

    metrics = [
        "key_fact_accuracy",
        "negative_rejection",
        "false_refusal",
        "doc_hit@5",
        "evidence_hit@5",
        "crosslingual_doc_hit@5",
        "citation_support",
        "citation_recall",
        "citation_precision",
    ]
    fig, ax = plt.subplots(figsize=(12, 5))
    bars(
        ax,
        [LABELS.get(m, m) for m in metrics],
        [[r["flat"].get(m) or 0.0 for m in metrics] for r in rows],
    )
    ax.set_ylim(0, 1.05)
    ax.set_title("Metrics per configuration")
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(out / f"{prefix}metrics.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    cats = sorted({k for r in rows for k in r["groups"]["category"]})

    def cat_value(r: dict[str, Any], c: str) -> float:
        s = r["groups"]["category"].get(c, {})
        v = s.get("negative_rejection") if c == "negative" else s.get("key_fact_accuracy")
        return v or 0.0

    fig, ax = plt.subplots(figsize=(12, 5))
    bars(
        ax,
        [("negative (rejection)" if c == "negative" else c) for c in cats],
        [[cat_value(r, c) for c in cats] for r in rows],
    )
    ax.set_ylim(0, 1.05)
    ax.set_title("Key-fact accuracy per category (negative: rejection rate)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(out / f"{prefix}category_key_facts.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    paths.append(_latency_chart(plt, bars, rows, out / f"{prefix}latency.png"))
    return paths


def _latency_chart(plt: Any, bars: Any, rows: list[dict[str, Any]], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(10, 4.5))
    stages = ["embed", "retrieve", "answer", "total"]
    bars(
        ax,
        [f"{s} p50" for s in stages] + [f"{s} p95" for s in stages],
        [
            [
                (r["summary"].get(f"latency_{s}_{p}") or 0.0) * 1000
                for p in ("p50", "p95")
                for s in stages
            ]
            for r in rows
        ],
    )
    ax.set_ylabel("ms")
    ax.set_title("Latency per stage (QA.ask)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
