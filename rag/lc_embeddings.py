"""Any LangChain ``Embeddings`` as the store's embedder: ``QA.open(embeddings=...)``.

A store remembers the id of the embedder that built it, so a foreign embedder needs one:
given (``embedder_id=``), or derived from its class and model name
(``OpenAIEmbeddings:text-embedding-3-small``, ``HuggingFaceEmbeddings:BAAI/bge-m3``,
``DeterministicFakeEmbedding:size=64``). This module only adapts; it loads no model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.embeddings import NamedEmbeddings

_MODEL_ATTRS = ("model", "model_name", "model_id", "deployment", "model_path", "repo_id")


def derive_id(embeddings: Any) -> str:
    """``ClassName:model`` for a LangChain embedder (``ClassName:size=N`` when it has no model)."""
    name = type(embeddings).__name__
    for attr in _MODEL_ATTRS:
        value = getattr(embeddings, attr, None)
        if isinstance(value, str) and value:
            return f"{name}:{value}"
    size = getattr(embeddings, "size", None)
    if isinstance(size, int):
        return f"{name}:size={size}"
    return name


class LangChainEmbeddings(NamedEmbeddings):
    """A LangChain ``Embeddings`` with the id the store records."""

    def __init__(self, inner: Embeddings, embedder_id: str | None = None) -> None:
        self.inner = inner
        self.embedder_id = embedder_id or derive_id(inner)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [list(map(float, v)) for v in self.inner.embed_documents(list(texts))]

    def embed_query(self, text: str) -> list[float]:
        return list(map(float, self.inner.embed_query(text)))

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return await self.inner.aembed_documents(list(texts))

    async def aembed_query(self, text: str) -> list[float]:
        return await self.inner.aembed_query(text)

    def embed_documents_np(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.asarray(self.inner.embed_documents(list(texts)), dtype=np.float32)

    def embed_query_np(self, text: str) -> np.ndarray:
        return np.asarray(self.inner.embed_query(text), dtype=np.float32)


def as_named(embeddings: Any, embedder_id: str | None = None) -> NamedEmbeddings:
    """The project's embedder interface for ``embeddings`` (returned as is when it has it)."""
    if isinstance(embeddings, NamedEmbeddings):
        if embedder_id and embedder_id != embeddings.embedder_id:
            return LangChainEmbeddings(embeddings, embedder_id)
        return embeddings
    if not isinstance(embeddings, Embeddings):
        from rag.errors import ConfigError

        raise ConfigError(
            f"embeddings must be a LangChain Embeddings or a spec string, not {type(embeddings).__name__}"
        )
    return LangChainEmbeddings(embeddings, embedder_id)


__all__ = ["LangChainEmbeddings", "as_named", "derive_id"]
