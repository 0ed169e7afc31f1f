"""README's file map ("How it works") matches the tree, both ways.

Every file of the code folders (``rag/`` with ``rag/data`` and ``rag/static``, ``evals/``,
``benchmarks/``, ``scripts/``, the test helpers and fixtures under ``tests/``, ``.ci/``) is
named by a row of the map, and every path a row names exists.

How a row names files: the backticked paths in its first cell, a file, a folder (``evals/``)
or a glob (``rag/data/*.yaml``, ``tests/test_*.py``); in its second cell, any backticked
path (``rag/abstain.py``), and, in the row of a folder, bare file names in that folder
(``glossary.yaml`` in the ``rag/data/`` row). A folder row covers the documents, results and
fixtures under it (``.md``, ``.txt``, ``.html``, ``.jsonl``, ``.png``), not code or data
files: a module, a script, a stylesheet or a word list must be named on its own (a glob may
name scripts, tests and data files, never a module of ``rag``, ``evals`` or ``benchmarks``).
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import ROOT

SCOPE = ("rag", "evals", "benchmarks", "scripts", "tests", ".ci")
TOP = (*SCOPE, "corpus", "docs")  # a backticked path starting with one of these is a path
FOLDER_COVERS = {".md", ".txt", ".html", ".jsonl", ".png"}
MODULE_DIRS = ("rag/", "evals/", "benchmarks/")
_TICKS = re.compile(r"`([^`\s]+)`")
_BARE = re.compile(r"^[\w.-]+\.[A-Za-z0-9]+$")


@dataclass
class Row:
    """One row of the map: what its first cell names, and paths its text mentions."""

    line: int
    names: list[str]
    mentions: list[str] = field(default_factory=list)
    job: str = ""


def map_rows(readme: str) -> list[Row]:
    """The rows of the table under the "How it works" heading."""
    lines = readme.splitlines()
    start = next(i for i, t in enumerate(lines) if t.startswith("## How it works"))
    rows = []
    for i in range(start + 1, len(lines)):
        text = lines[i]
        if text.startswith("## "):
            break
        if not text.startswith("|") or text.startswith("|---") or text.startswith("| file |"):
            continue
        first, _, job = text.strip().strip("|").partition("|")
        names = _TICKS.findall(first)
        folders = [n for n in names if n.endswith("/")]
        mentions = []
        for token in _TICKS.findall(job):
            if "<" in token or "~" in token:
                continue
            if token.split("/")[0] in TOP and "/" in token:
                mentions.append(token)
            elif len(folders) == 1 and len(names) == 1 and _BARE.match(token):
                mentions.append(folders[0] + token)
        rows.append(Row(i + 1, names, mentions, job.strip()))
    return rows


def _glob_rx(pattern: str) -> re.Pattern[str]:
    body = re.escape(pattern).replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
    return re.compile(body + r"\Z")


def resolve(name: str, files: set[str]) -> set[str]:
    """The files of ``files`` a name stands for (a file, a folder's files, a glob's matches)."""
    if "*" in name:
        rx = _glob_rx(name)
        return {f for f in files if rx.match(f)}
    if name.endswith("/"):
        return {f for f in files if f.startswith(name)}
    return {f for f in files if f == name or f.startswith(name + "/")}


def problems(rows: list[Row], files: set[str], exists: set[str]) -> list[str]:
    """What is wrong between the map and the tree: names that match nothing, files no row
    covers, a glob over a module. ``files``: the files in scope; ``exists``: every file."""
    out = []
    covered: set[str] = set()
    for row in rows:
        if not row.names or not row.job:
            out.append(f"README line {row.line}: a row needs a backticked path and a job")
        for name in row.names + row.mentions:
            hit = resolve(name, exists)
            if not hit:
                out.append(f"README line {row.line}: `{name}` names nothing in the tree")
                continue
            if "*" in name:
                modules = sorted(f for f in hit if f.startswith(MODULE_DIRS) and f.endswith(".py"))
                if modules and not name.startswith("tests/"):
                    out.append(f"README line {row.line}: glob `{name}` covers modules {modules}")
                    continue
            if name.endswith("/"):
                hit = {f for f in hit if Path(f).suffix in FOLDER_COVERS}
            covered |= hit
    out += [f"{f}: in no row of README's file map" for f in sorted(files - covered)]
    return out


def tree_files(root: Path) -> set[str]:
    """Every file of the checkout that git keeps or would keep (ignored files left out)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout.decode("utf-8")
        return {f for f in listed.split("\0") if f and (root / f).is_file()}
    except (OSError, subprocess.CalledProcessError):
        out = set()
        for folder, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if not d.startswith(".") or d == ".ci"]
            dirs[:] = [d for d in dirs if d not in ("__pycache__", "reports", "out")]
            rel = Path(folder).relative_to(root)
            out |= {(rel / n).as_posix() for n in names if not n.endswith(".pyc")}
        return out


def in_scope(path: str) -> bool:
    return path.split("/")[0] in SCOPE


def test_the_file_map_matches_the_tree() -> None:
    files = tree_files(ROOT)
    scoped = {f for f in files if in_scope(f)}
    assert "rag/qa.py" in scoped and "tests/conftest.py" in scoped and ".ci/run" in scoped
    rows = map_rows((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(rows) > 40
    assert problems(rows, scoped, files) == []


MINI = """# x

## How it works (one module per stage)

| file | job |
|---|---|
| `rag/a.py`, `rag/b.py` | two stages; see also `rag/c.py` |
| `rag/data/` | word lists: `words.tsv`, `gone.tsv` |
| `rag/*.py` | every module at once |
| `res/` | results |
| `tests/test_*.py` | the tests |
| `rag/lost.py` | a file that is not there |

## Next

| `rag/z.py` | not in the map |
"""


def test_the_check_catches_drift_both_ways() -> None:
    files = {
        "rag/a.py",
        "rag/b.py",
        "rag/c.py",
        "rag/new.py",
        "rag/data/words.tsv",
        "rag/data/cues.yaml",
        "res/RESULTS.md",
        "res/run.py",
        "tests/test_a.py",
    }
    rows = map_rows(MINI)
    assert [r.names for r in rows] == [
        ["rag/a.py", "rag/b.py"],
        ["rag/data/"],
        ["rag/*.py"],
        ["res/"],
        ["tests/test_*.py"],
        ["rag/lost.py"],
    ]
    assert rows[0].mentions == ["rag/c.py"]
    assert rows[1].mentions == ["rag/data/words.tsv", "rag/data/gone.tsv"]
    modules = ["rag/a.py", "rag/b.py", "rag/c.py", "rag/new.py"]
    assert problems(rows, files, files) == [
        "README line 8: `rag/data/gone.tsv` names nothing in the tree",
        f"README line 9: glob `rag/*.py` covers modules {modules}",
        "README line 12: `rag/lost.py` names nothing in the tree",
        # a new module, a data file its folder's row does not name, code in a results folder
        "rag/data/cues.yaml: in no row of README's file map",
        "rag/new.py: in no row of README's file map",
        "res/run.py: in no row of README's file map",
    ]


@pytest.mark.parametrize("name", ["rag/data/*.yaml", "tests/fixtures/", "rag/qa.py"])
def test_names_resolve_against_the_tree(name: str) -> None:
    files = tree_files(ROOT)
    assert resolve(name, files), name
