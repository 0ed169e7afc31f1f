"""The versioned knowledge files under ``rag/data/``: loading them once, and their fingerprint.

Word lists, aliases and cues are data (YAML or TSV files documented at their top, each with a
``version``); this module reads them, checks their shape and caches them, so that
``rag.glossary``, ``rag.lexicon``, ``rag.textnorm`` and ``rag.question`` hold only mechanisms.
``data_fingerprint()`` hashes every data file together with the tokenizer's own dictionary
and version: the store records the fingerprint its keyword tokens were made with, and the
keyword index re-tokenizes the stored text when it differs (``rag.keyword``).

It does not interpret the files: each consumer turns rows into its own lookups. ``reload()``
drops every cached copy (tests point ``DATA_DIR`` at an edited copy; a long-running process
could pick up edits), and consumers register what to clear with ``on_reload``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from rag.errors import ConfigError

# where the packaged files live; tests monkeypatch it and call reload()
DATA_DIR: Path = Path(__file__).with_name("data")
# bump when tokenize()/normalize() change in a way the data files do not show
TOKENIZER_VERSION = 2

_VERSION_LINE = re.compile(r"^#\s*version:\s*(\d+)\s*$")
_reload_hooks: list[Callable[[], None]] = []


class DataFileError(ConfigError):
    """A knowledge file under rag/data/ is missing or malformed."""


def data_path(name: str) -> Path:
    """The path of one data file, by its name under the data folder."""
    return DATA_DIR / name


def _read(name: str) -> str:
    path = data_path(name)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as e:
        raise DataFileError(f"cannot read data file {path}: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise DataFileError(f"data file {path} is not UTF-8 ({e.reason})") from e


def parse_yaml(text: str) -> Any:
    """``yaml.safe_load`` with libyaml's parser where PyYAML has it (10x faster: the
    pure-Python one was 0.12 s of the corpus's 68 front matters); safe either way."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@lru_cache(maxsize=64)
def load_yaml(name: str) -> dict[str, Any]:
    """A YAML data file as a mapping; it must have an integer ``version`` key.

    Raises:
        DataFileError: the file is missing, is not YAML, or has no version.
    """
    import yaml

    path = data_path(name)
    try:
        data = parse_yaml(_read(name))
    except yaml.YAMLError as e:
        where = getattr(e, "problem_mark", None)
        line = f" line {where.line + 1}" if where is not None else ""
        raise DataFileError(f"data file {path}{line} is not valid YAML: {e}") from e
    if not isinstance(data, dict) or not isinstance(data.get("version"), int):
        raise DataFileError(f"data file {path} needs a top-level 'version: <int>' mapping")
    return data


@lru_cache(maxsize=64)
def load_tsv(name: str) -> tuple[dict[str, str], ...]:
    """The rows of a TSV data file, keyed by its header line.

    ``#`` lines and blank lines are skipped; one comment must read ``# version: N``; the first
    other line names the columns. A row with another number of cells is an error.

    Raises:
        DataFileError: the file is missing, has no version or a malformed row.
    """
    path = data_path(name)
    version = None
    header: list[str] | None = None
    rows: list[dict[str, str]] = []
    for n, line in enumerate(_read(name).splitlines(), 1):
        if line.startswith("#"):
            m = _VERSION_LINE.match(line)
            version = int(m.group(1)) if m else version
            continue
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split("\t")]
        if header is None:
            header = cells
            continue
        if len(cells) != len(header):
            raise DataFileError(
                f"data file {path} line {n}: {len(cells)} columns, the header has {len(header)}"
                " (columns are separated by one TAB)"
            )
        rows.append(dict(zip(header, cells, strict=True)))
    if version is None:
        raise DataFileError(f"data file {path} needs a '# version: <int>' comment line")
    return tuple(rows)


def file_version(name: str) -> int:
    """The ``version`` a data file declares."""
    if name.endswith((".yaml", ".yml")):
        return int(load_yaml(name)["version"])
    for line in _read(name).splitlines():
        m = _VERSION_LINE.match(line)
        if m:
            return int(m.group(1))
    raise DataFileError(f"data file {data_path(name)} needs a '# version: <int>' comment line")


def string_list(value: Any, where: str) -> list[str]:
    """``value`` as a list of non-empty strings (a lone string is a list of one).

    Raises:
        DataFileError: naming ``where`` when an item is not a string.
    """
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(s, str) and s for s in items):
        raise DataFileError(f"{where}: expected a list of non-empty strings, got {value!r}")
    return list(items)


def _package_dir(module: str) -> Path | None:
    """Where an installed package lives, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def _dist_version(module: str) -> str:
    """The installed distribution's version, read from its ``*.dist-info`` folder name
    (importlib.metadata would cost a cold ``rag ask`` 70 ms)."""
    pkg = _package_dir(module)
    if pkg is None:
        return "absent"
    names = sorted(p.name for p in pkg.parent.glob(f"{module}-*.dist-info"))
    names += sorted(p.name for p in pkg.parent.glob(f"{module.capitalize()}-*.dist-info"))
    return names[0].removesuffix(".dist-info") if names else "unknown"


def _ignored(path: Path) -> bool:
    """Caches and hidden files (editor backups, .DS_Store) are not data."""
    parts = path.relative_to(DATA_DIR).parts
    return "__pycache__" in parts or any(p.startswith(".") for p in parts)


@lru_cache(maxsize=1)
def data_fingerprint() -> str:
    """A short hash of everything keyword tokens depend on besides the text itself.

    Every file under ``DATA_DIR`` (names and bytes), jieba's dictionary file and version,
    OpenCC's version and ``TOKENIZER_VERSION``: what equal tokens of equal text need.
    """
    h = hashlib.sha256()
    h.update(f"tokenizer {TOKENIZER_VERSION}\n".encode())
    for module in ("jieba", "opencc"):
        h.update(f"{module} {_dist_version(module)}\n".encode())
    files = sorted(p for p in DATA_DIR.rglob("*") if p.is_file() and not _ignored(p))
    for p in files:
        h.update(f"file {p.relative_to(DATA_DIR).as_posix()}\n".encode())
        h.update(hashlib.sha256(p.read_bytes()).digest())
    jieba_dir = _package_dir("jieba")
    dictionary = jieba_dir / "dict.txt" if jieba_dir is not None else None
    if dictionary is not None and dictionary.is_file():
        h.update(b"jieba dict\n")
        h.update(hashlib.sha256(dictionary.read_bytes()).digest())
    return h.hexdigest()[:16]


def on_reload(hook: Callable[[], None]) -> None:
    """Register what a consumer clears when the data files are read again."""
    if hook not in _reload_hooks:
        _reload_hooks.append(hook)


def reload() -> None:
    """Forget every cached file and fingerprint, and let consumers rebuild their lookups."""
    load_yaml.cache_clear()
    load_tsv.cache_clear()
    data_fingerprint.cache_clear()
    for hook in list(_reload_hooks):
        hook()


__all__ = [
    "DATA_DIR",
    "DataFileError",
    "data_fingerprint",
    "data_path",
    "file_version",
    "load_tsv",
    "load_yaml",
    "on_reload",
    "parse_yaml",
    "reload",
    "string_list",
]
