"""The hybrid search as a LangChain ``BaseRetriever`` (``qa.as_retriever()``)."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.embeddings import register_langchain

register_langchain()


class HybridRetriever(BaseRetriever):
    """LangChain retriever over a ``QA``'s store: dense + keyword + glossary, fused."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    qa: Any
    k: int = 5
    vendors: list[str] | None = None
    since: str | None = None
    until: str | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        result = self.qa.search(
            query, k=self.k, vendors=self.vendors, since=self.since, until=self.until
        )
        return [
            LCDocument(
                page_content=p.text,
                id=p.chunk_id,
                metadata={k: v for k, v in p.to_dict().items() if k != "text"},
            )
            for p in result.passages
        ]


__all__ = ["HybridRetriever"]
