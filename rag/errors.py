"""One exception tree; every message says what to do next.

The CLI and the web app print ``str(error)`` as one line, never a traceback. This module
only defines the classes (and ``missing_extra``, the error for an uninstalled extra); it
catches and prints nothing: ``rag.cli`` and ``rag.web`` do.
"""

from __future__ import annotations


class RagError(Exception):
    """Base class for every error this package raises on purpose."""


class ConfigError(RagError):
    """A setting is missing or wrong (you misused it)."""


class LoadError(RagError):
    """A file could not be read as an article; the rest of a batch goes on."""


class EmbedderMismatchError(ConfigError):
    """The store was built with another embedder than the one configured."""


class StoreError(RagError):
    """The vector store cannot be reached or is inconsistent."""


class NotFoundError(RagError):
    """A document id or path is not in the store."""


class LLMError(RagError):
    """The configured LLM endpoint failed; callers fall back to the offline answerer."""


class MissingExtraError(RagError, ModuleNotFoundError):
    """An optional dependency is not installed; the message names the pip command."""


def missing_extra(package: str, extra: str) -> MissingExtraError:
    """Build the error raised when an optional package is absent."""
    return MissingExtraError(
        f"{package} is not installed: run pip install 'chipnews-rag[{extra}]' (or pip install {package})"
    )
