"""The question-answering pipeline as a real LangChain chain (``qa.as_runnable()``).

``parse_input | condense | retrieve | answer``: four named runnables, so LangChain's tooling
sees the parts. The input is typed (``QAInput``: question, history as dicts or LangChain
messages, k, vendors, since, until, answerer); unknown keys and bad values are refused
with one ``ConfigError`` line. The retriever (``HybridRetriever``) and the answerer run as
nested runs, so ``astream_events(version="v2")`` shows ``on_retriever_*`` events and, with
the LLM answerer, the chat model's ``on_chat_model_stream`` tokens.

The output is an ``Answer``. Streaming yields ``AnswerChunk``s (``Answer`` subclasses, like
``AIMessageChunk`` for ``AIMessage``): pieces of text as they are ready (sentence by
sentence offline; verified statements from the LLM answerer), then one final chunk that
carries the whole answer with its citations. Adding the chunks up gives the final answer,
so ``invoke`` and a summed ``stream`` agree.

This module holds no retrieval or answering logic of its own: it calls the same parts
``QA.stream`` does.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.messages import BaseMessage
from langchain_core.runnables import (
    Runnable,
    RunnableConfig,
    RunnableGenerator,
    RunnableLambda,
)
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rag.errors import ConfigError, LLMError
from rag.types import Answer, Final, Passage, TextDelta

if TYPE_CHECKING:
    from rag.qa import QA

_DATE = r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"
_ROLES = {"human": "user", "user": "user", "ai": "assistant", "assistant": "assistant"}


class QAInput(BaseModel):
    """What the chain takes: a question, the conversation so far and search options."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    question: str = Field(description="the question, in Chinese or English")
    history: list[dict[str, Any] | BaseMessage] = Field(
        default_factory=list,
        description="earlier turns: {'role', 'content'} dicts or LangChain messages",
    )
    k: int | None = Field(default=None, ge=1, le=100, description="passages to use")
    vendors: list[str] | None = Field(default=None, description="only documents about these")
    since: str | None = Field(default=None, pattern=_DATE, description="YYYY[-MM[-DD]]")
    until: str | None = Field(default=None, pattern=_DATE, description="YYYY[-MM[-DD]]")
    answerer: Literal["auto", "offline", "llm"] | None = None

    @field_validator("k", mode="before")
    @classmethod
    def _whole_k(cls, value: Any) -> Any:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError("k must be a whole number")
        return value


@dataclass
class AnswerChunk(Answer):
    """A piece of a streamed answer; the ``final`` one holds the whole ``Answer``."""

    final: bool = False

    def __add__(self, other: Any) -> AnswerChunk:
        if not isinstance(other, AnswerChunk):
            return NotImplemented
        if other.final:
            return other
        if self.final:
            return self
        return AnswerChunk(question=self.question, text=self.text + other.text, abstained=False)

    @classmethod
    def of(cls, answer: Answer) -> AnswerChunk:
        return cls(**{f.name: getattr(answer, f.name) for f in fields(Answer)}, final=True)


def parse_input(inp: Any) -> dict[str, Any]:
    """Validated chain input as a state dict; a ``ConfigError`` line for anything wrong."""
    if isinstance(inp, str):
        inp = {"question": inp}
    elif isinstance(inp, QAInput):
        inp = inp.model_dump()
    elif not isinstance(inp, dict):
        raise ConfigError(
            f"the chain takes a question string or a dict with 'question', not {type(inp).__name__}"
        )
    try:
        parsed = QAInput.model_validate(inp)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            where = ".".join(str(p) for p in err["loc"]) or "input"
            if err["type"] == "extra_forbidden":
                problems.append(f"unknown key {where!r}")
            elif err["type"] == "missing":
                problems.append(f"{where!r} is missing")
            else:
                problems.append(f"{where}: {err['msg']}")
        keys = ", ".join(QAInput.model_fields)
        raise ConfigError(f"bad chain input: {'; '.join(problems)} (keys: {keys})") from None
    state = parsed.model_dump(exclude={"history"})
    state["history"] = [_turn(h) for h in parsed.history]
    return state


def _turn(h: dict[str, Any] | BaseMessage) -> dict[str, str]:
    if isinstance(h, BaseMessage):
        content = h.content if isinstance(h.content, str) else h.text
        return {"role": _ROLES.get(h.type, h.type), "content": str(content)}
    return {"role": str(h.get("role", "user")), "content": str(h.get("content", ""))}


def split_pieces(text: str) -> list[str]:
    """``text`` cut after each sentence (citation markers stay with their sentence)."""
    pieces = re.findall(r".+?(?:[。！？!?]|\.(?=\s)|$)(?:\[\d{1,3}\])*\s*", text, flags=re.S)
    return [p for p in pieces if p] or [text]


class QAChain:
    """Builds the runnables around one ``QA``; ``build()`` returns the composed chain."""

    def __init__(self, qa: QA) -> None:
        self.qa = qa

    def condense(self, state: dict[str, Any]) -> dict[str, Any]:
        from rag.qa import clean_question, empty_answer
        from rag.question import analyse

        t = time.perf_counter()
        q = clean_question(state["question"])
        state = {**state, "clean": q, "t0": t, "use": self.qa.answerer_name(state["answerer"])}
        empty = empty_answer(state["question"], q)
        if empty is not None:
            return {**state, "resolved": q, "empty": True, "empty_answer": empty}
        facts = self.qa.fact_table()
        analysis = analyse(q, state["history"], facts)
        resolved = self.qa.resolve_question(q, state["history"], state["use"], analysis)
        return {
            **state,
            "analysis": analysis,
            "facts": facts,
            "resolved": resolved,
            "empty": False,
            "t_followup": time.perf_counter() - t,
        }

    def retrieve(self, state: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
        if state["empty"]:
            return {**state, "passages": []}
        t = time.perf_counter()
        retriever = self.qa.as_retriever(k=state["k"] or self.qa.settings.k)
        docs = retriever.invoke(
            state["resolved"],
            config,
            vendors=state["vendors"],
            since=state["since"],
            until=state["until"],
        )
        passages = [Passage(**{**d.metadata, "text": d.page_content}) for d in docs]
        return {**state, "passages": passages, "t_retrieve": time.perf_counter() - t}

    def answer(self, states: Iterator[dict[str, Any]]) -> Iterator[AnswerChunk]:
        for state in states:
            yield from self._answer_one(state)

    async def aanswer(self, states: AsyncIterator[dict[str, Any]]) -> AsyncIterator[AnswerChunk]:
        import asyncio

        async for state in states:
            pieces = self._answer_one(state)
            while True:  # the answerers are synchronous: run each step off the event loop
                chunk = await asyncio.to_thread(next, pieces, None)
                if chunk is None:
                    break
                yield chunk

    def _answer_one(self, state: dict[str, Any]) -> Iterator[AnswerChunk]:
        from rag.qa import offline_result

        qa, question = self.qa, state["question"]
        if state["empty"]:
            ans = state["empty_answer"]
            yield AnswerChunk(question=question, text=ans.text, abstained=True)
            yield AnswerChunk.of(ans)
            return
        passages, resolved, t = state["passages"], state["resolved"], time.perf_counter()
        docs = qa.docs_for(passages)
        passages = qa.live_passages(passages, docs)
        timings = {"followup": state["t_followup"], "retrieve": state["t_retrieve"]}
        notes: list[str] = []
        if state["use"] == "llm":
            try:
                yield from self._llm(state, docs, timings, t)
                return
            except LLMError as e:
                notes.append(f"LLM failed, offline answer given: {e}")
                yield AnswerChunk(question=question, text=f"[{e}]\n", abstained=False)
        filters = {"vendors": state["vendors"], "since": state["since"], "until": state["until"]}
        off = qa.compose_offline(
            state["analysis"], state["facts"], resolved, passages, docs, filters
        )
        for piece in split_pieces(off.text):
            yield AnswerChunk(question=question, text=piece, abstained=off.abstained)
        timings["answer"] = time.perf_counter() - t
        timings["total"] = time.perf_counter() - state["t0"]
        yield AnswerChunk.of(
            offline_result(
                question,
                off,
                passages,
                timings=timings,
                notes=notes,
                resolved=resolved,
                cleaned=state["clean"],
            )
        )

    def _llm(
        self, state: dict[str, Any], docs: dict[str, Any], timings: dict[str, float], t: float
    ) -> Iterator[AnswerChunk]:
        # no analysis: the chain's LLM answer is given no facts (its offline answer none either)
        events = self.qa.stream_llm(state["clean"], state["resolved"], state["passages"], docs)
        for event in events:
            match event:
                case TextDelta(text):
                    yield AnswerChunk(question=state["question"], text=text, abstained=False)
                case Final(answer=piece):
                    piece.question = state["question"]
                    piece.timings.update(timings)
                    piece.timings["answer"] = time.perf_counter() - t
                    piece.timings["total"] = time.perf_counter() - state["t0"]
                    yield AnswerChunk.of(piece)

    def build(self) -> Runnable[Any, Answer]:
        parse = RunnableLambda(parse_input, name="parse_input").with_types(input_type=QAInput)
        condense = RunnableLambda(self.condense, name="condense_question")
        retrieve = RunnableLambda(self.retrieve, name="retrieve")
        answer = RunnableGenerator(self.answer, self.aanswer, name="answer")
        chain: Runnable[Any, Any] = parse | condense | retrieve | answer
        typed = chain.with_types(input_type=QAInput, output_type=Answer)
        return typed.with_config(run_name="chipnews_qa")


def build_chain(qa: QA) -> Runnable[Any, Answer]:
    """The chain for ``qa`` (what ``QA.as_runnable()`` returns)."""
    return QAChain(qa).build()


__all__ = ["AnswerChunk", "QAInput", "build_chain", "parse_input", "split_pieces"]
