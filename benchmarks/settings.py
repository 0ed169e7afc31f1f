"""The benchmark's fixed inputs: paths, and the run settings, questions and targets of
``benchmarks/bench.toml`` (read once, at import; a bad file fails with its path).

It does not measure or report anything; see ``benchmarks.targets`` for the target rows.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DEV = ROOT / "evals" / "datasets" / "dev.jsonl"
RESULTS_MD = ROOT / "benchmarks" / "RESULTS.md"
TABLE = Path(__file__).with_name("bench.toml")


def _load(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise SystemExit(f"{path}: {e}") from e


DATA = _load(TABLE)
DEFAULT_SIZES: tuple[int, ...] = tuple(DATA["run"]["sizes"])
K: int = DATA["run"]["k"]
SYNTHETIC_NOISE: float = DATA["run"]["synthetic_noise"]
WRITE_GROUP: int = DATA["run"]["write_group"]
SIDE_BY_SIDE_SLICES: int = DATA["run"]["side_by_side_slices"]
WARM_QUESTION: str = DATA["questions"]["warm"]
COLD_QUESTION: str = DATA["questions"]["cold"]
QUERY_TEXTS: list[str] = list(DATA["questions"]["query_texts"])
TODAY_PIPELINE_CHUNKS_PER_S: float = DATA["reference"]["today_pipeline_chunks_per_s"]
TARGET_ROWS: list[dict[str, Any]] = list(DATA["target"])
