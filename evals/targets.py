"""The evaluation's targets and the CI gate's thresholds.

The metrics (their labels, the direction of their bound, whether and how the gate derives
a threshold for them) and the per-set targets are data: ``evals/targets.toml``. This module
reads that table and does the checks on it: the gate's thresholds recorded in ``RESULTS.md``
(a fenced ``json`` block ``{"thresholds": {"dev": {metric: {"min": x} | {"max": y}}, ...}}``),
deriving them from a run, and checking a run against them. ``evals.report`` renders the
same rows. It does not run an evaluation.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from pathlib import Path
from typing import Any

TABLE = Path(__file__).with_name("targets.toml")
Bounds = dict[str, dict[str, float]]


def _load(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise SystemExit(f"{path}: {e}") from e
    for name, m in data["metric"].items():
        if m.get("bound") not in ("min", "max") or m.get("gate") not in (
            None,
            "margin",
            "measured",
        ):
            raise SystemExit(
                f"{path}: metric {name!r} needs bound min|max and gate margin|measured"
            )
    for set_name, targets in data["target"].items():
        unknown = set(targets) - set(data["metric"])
        if unknown:
            raise SystemExit(f"{path}: target.{set_name} names unknown metrics {sorted(unknown)}")
    return data


_DATA = _load(TABLE)
METRICS: dict[str, dict[str, Any]] = _DATA["metric"]
LABELS: dict[str, str] = {k: m["label"] for k, m in METRICS.items()}
# metrics where lower is better
MAXIMA: set[str] = {k for k, m in METRICS.items() if m["bound"] == "max"}
# what the gate holds (derived from a run by ``--set-thresholds``), in this order
GATED: list[str] = [k for k, m in METRICS.items() if m.get("gate")]
TARGETS_BY_SET: dict[str, Bounds] = {
    s: {k: {METRICS[k]["bound"]: float(v)} for k, v in t.items()}
    for s, t in _DATA["target"].items()
}
TARGETS: Bounds = TARGETS_BY_SET["dev"]


def _bounds(obj: dict[str, Any]) -> Bounds:
    return {str(k): {b: float(x) for b, x in v.items()} for k, v in obj.items()}


def read_all_thresholds(path: Path, *, fallback: bool = True) -> dict[str, Bounds]:
    """Per question set, the thresholds of the first ```json block in ``path`` that has them.

    The block is ``{"thresholds": {"dev": {metric: bound}, "heldout": {...}}}``; an older
    block without set names holds the dev set's. Without a block: the targets (``fallback``)
    or ValueError.
    """
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    for block in re.findall(r"```json\s*\n(.*?)```", text, re.S):
        try:
            obj = json.loads(block)
        except ValueError:
            continue
        th = obj.get("thresholds") if isinstance(obj, dict) else None
        if not isinstance(th, dict):
            continue
        if th and all(isinstance(v, dict) and set(v) <= {"min", "max"} for v in th.values()):
            return {"dev": _bounds(th)}
        return {str(s): _bounds(v) for s, v in th.items()}
    if fallback:
        return {s: {k: dict(v) for k, v in t.items()} for s, t in TARGETS_BY_SET.items()}
    raise ValueError(f'no ```json {{"thresholds": ...}}``` block in {path}')


def read_thresholds(path: Path, *, fallback: bool = True, set_name: str = "dev") -> Bounds:
    """The thresholds of one question set (see :func:`read_all_thresholds`)."""
    every = read_all_thresholds(path, fallback=fallback)
    if set_name in every:
        return every[set_name]
    if fallback:
        return {k: dict(v) for k, v in TARGETS_BY_SET.get(set_name, TARGETS).items()}
    raise ValueError(f"{path} records no thresholds for the {set_name!r} set")


def _derived(metric: str, v: float, margin: float) -> dict[str, float]:
    """One gate threshold by the metric's ``gate`` rule (see ``targets.toml``)."""
    if METRICS[metric]["gate"] == "measured":
        if metric in MAXIMA:
            return {"max": math.ceil(v * 1000 - 1e-9) / 1000}
        return {"min": math.floor(v * 1000 + 1e-9) / 1000}
    if metric in MAXIMA:
        return {"max": min(1.0, math.ceil((v + margin) * 100 - 1e-9) / 100)}
    return {"min": max(0.0, math.floor((v - margin) * 100 + 1e-9) / 100)}


def derive_thresholds(run: dict[str, Any], margin: float = 0.03) -> dict[str, Bounds]:
    """Gate thresholds from a run's default configuration: measured minus ``margin`` (plus,
    for maxima), rounded outwards to two decimals; a ``measured`` metric (citation validity)
    stays at its measured value."""
    out: dict[str, Bounds] = {}
    for name, s in run["sets"].items():
        row = next((r for r in s["configs"] if r["name"] == "default"), None)
        if row is None:
            continue
        th: Bounds = {}
        for metric in GATED:
            v = row["flat"].get(metric)
            if v is not None:
                th[metric] = _derived(metric, v, margin)
        out[name] = th
    return out


def check_thresholds(metrics: dict[str, Any], thresholds: Bounds) -> list[str]:
    """One line per threshold that ``metrics`` misses (an unmeasured metric misses)."""
    fails = []
    for name, bound in thresholds.items():
        v = metrics.get(name)
        if v is None:
            fails.append(f"{name}: not measured (bound {bound})")
            continue
        if "min" in bound and v < bound["min"] - 1e-12:
            fails.append(f"{name} = {v:.3f} < {bound['min']:.2f}")
        if "max" in bound and v > bound["max"] + 1e-12:
            fails.append(f"{name} = {v:.3f} > {bound['max']:.2f}")
    return fails


def check_run(run: dict[str, Any]) -> list[str] | None:
    """Threshold misses of the default configuration on every set (None without it)."""
    fails: list[str] = []
    seen = False
    for name, s in run["sets"].items():
        row = next((r for r in s["configs"] if r["name"] == "default"), None)
        if row is None:
            continue
        seen = True
        bounds = run["thresholds"].get(name) or {}
        fails += [f"{name}: {f}" for f in check_thresholds(row["flat"], bounds)]
    return fails if seen else None
