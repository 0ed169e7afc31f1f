"""The hybrid search as a LangChain ``BaseRetriever`` (``qa.as_retriever()``).

Search options can be given the three ways LangChain users give them, and each one works:
as constructor fields (``k=3``, ``vendors=[...]``, ``search_kwargs={"k": 3}`` like a
vector-store retriever), as call-time keyword arguments (``retriever.invoke(q, k=1)``), or
as ``configurable`` values in the call's config (``config={"configurable": {"k": 2}}``).
Later ways win over earlier ones. Unknown option names and bad values (``k=0``,
``k="three"``, a malformed date) are refused with one clear ``ConfigError`` line.
This module does not rank anything itself: ``QA.search`` does.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig
from pydantic import ConfigDict, Field, field_validator

from rag.errors import ConfigError

SEARCH_OPTIONS = ("k", "vendors", "since", "until")
MAX_K = 100
_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")


def check_search_options(opts: dict[str, Any], where: str) -> dict[str, Any]:
    """Validated search options; a ``ConfigError`` naming ``where`` for anything wrong."""
    unknown = sorted(set(opts) - set(SEARCH_OPTIONS))
    if unknown:
        raise ConfigError(
            f"unknown {where} option(s) {', '.join(map(repr, unknown))}: "
            f"use {', '.join(SEARCH_OPTIONS)}"
        )
    out = dict(opts)
    if out.get("k") is not None:
        k = out["k"]
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise ConfigError(f"{where} k must be a whole number from 1 to {MAX_K}, not {k!r}")
    vendors = out.get("vendors")
    if vendors is not None:
        if isinstance(vendors, str):
            vendors = [vendors]
        if not isinstance(vendors, (list, tuple)) or not all(isinstance(v, str) for v in vendors):
            raise ConfigError(f"{where} vendors must be a list of names, not {vendors!r}")
        out["vendors"] = list(vendors) or None
    for key in ("since", "until"):
        value = out.get(key)
        if value is not None and (not isinstance(value, str) or not _DATE.match(value)):
            raise ConfigError(f"{where} {key} must be YYYY, YYYY-MM or YYYY-MM-DD, not {value!r}")
    return out


class HybridRetriever(BaseRetriever):
    """LangChain retriever over a ``QA``'s store: dense + keyword + glossary, fused.

    Example:
        >>> r = qa.as_retriever(k=3)                              # doctest: +SKIP
        >>> r.invoke("HBM3E 12-high", k=1)                         # doctest: +SKIP
        >>> r.invoke("HBM", config={"configurable": {"k": 2}})    # doctest: +SKIP
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    qa: Any
    k: int = Field(default=5, ge=1, le=MAX_K)
    vendors: list[str] | None = None
    since: str | None = None
    until: str | None = None
    search_kwargs: dict[str, Any] = Field(default_factory=dict)

    @field_validator("search_kwargs")
    @classmethod
    def _known_search_kwargs(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_search_options(dict(value), "search_kwargs")

    @field_validator("since", "until")
    @classmethod
    def _dates(cls, value: str | None) -> str | None:
        if value is not None:
            check_search_options({"since": value}, "retriever")
        return value

    def _options(self, call: dict[str, Any]) -> dict[str, Any]:
        opts: dict[str, Any] = {
            "k": self.k,
            "vendors": self.vendors,
            "since": self.since,
            "until": self.until,
        }
        opts.update(self.search_kwargs)
        nested = call.pop("search_kwargs", None) or {}
        if not isinstance(nested, dict):
            raise ConfigError(f"search_kwargs must be a dict, not {type(nested).__name__}")
        opts.update(check_search_options(nested, "search_kwargs"))
        opts.update(check_search_options(call, "retriever call"))
        return opts

    def invoke(
        self, input: str, config: RunnableConfig | None = None, **kwargs: Any
    ) -> list[LCDocument]:
        return super().invoke(input, config, **{**_configurable(config), **kwargs})

    async def ainvoke(
        self, input: str, config: RunnableConfig | None = None, **kwargs: Any
    ) -> list[LCDocument]:
        return await super().ainvoke(input, config, **{**_configurable(config), **kwargs})

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[LCDocument]:
        if not isinstance(query, str):
            raise ConfigError(f"the retriever takes a question string, not {type(query).__name__}")
        opts = self._options(dict(kwargs))
        from rag.question import analyse

        # the learned other-script names of what the query names, as QA.ask adds them
        expand = self.qa.expansions(analyse(query, None, self.qa.fact_table()))
        result = self.qa.search(
            query,
            k=opts["k"],
            vendors=opts["vendors"],
            since=opts["since"],
            until=opts["until"],
            expand=expand,
        )
        return [
            LCDocument(
                page_content=p.text,
                id=p.chunk_id,
                metadata={k: v for k, v in p.to_dict().items() if k != "text"},
            )
            for p in result.passages
        ]

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[LCDocument]:
        from langchain_core.runnables.config import run_in_executor

        return await run_in_executor(
            None,
            self._get_relevant_documents,
            query,
            run_manager=run_manager.get_sync(),
            **kwargs,
        )


def _configurable(config: RunnableConfig | None) -> dict[str, Any]:
    """The search options among a config's ``configurable`` values (others belong to others)."""
    conf = (config or {}).get("configurable") or {}
    return {k: v for k, v in conf.items() if k in (*SEARCH_OPTIONS, "search_kwargs")}


__all__ = ["SEARCH_OPTIONS", "HybridRetriever", "check_search_options"]
