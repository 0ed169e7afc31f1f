"""Question answering over chip-industry news with verified citations.

``from rag import QA``; ``qa = QA.open(".rag")``; ``qa.ingest(["corpus/"])``;
``qa.ask("What memory does the X100 have?")``. Importing this package loads no model, no torch
and no gradio: those come on first use.

It holds no logic: ``__all__`` is the public API (pinned by ``tests/test_api.py``), re-exported
from ``rag.qa`` (``QA``, imported on first use), ``rag.types`` (the records and the streamed
events), ``rag.config`` (``Settings``) and ``rag.errors``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = [
    "QA",
    "Answer",
    "Citation",
    "ConfigError",
    "Document",
    "Final",
    "IngestReport",
    "Passage",
    "RagError",
    "Settings",
    "TextDelta",
    "settings_from_env",
]

from rag.config import Settings, settings_from_env
from rag.errors import ConfigError, RagError
from rag.types import Answer, Citation, Document, Final, IngestReport, Passage, TextDelta

if TYPE_CHECKING:
    from rag.qa import QA


def __getattr__(name: str) -> Any:
    if name == "QA":
        from rag.qa import QA

        return QA
    raise AttributeError(name)
