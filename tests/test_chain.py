"""``qa.as_runnable()`` as LangChain users call it (issue 14, item 5): typed input, nested
retriever and answerer runs, piecewise and token streaming, sync and async, ``|``.

The store is real embedded Chroma; embeddings are LangChain's ``DeterministicFakeEmbedding``
(the retrieval that matters here is the keyword half of the hybrid search); the LLM is
LangChain's ``FakeListChatModel``, which streams its answer character by character.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableLambda

from rag import QA, Answer
from rag.chain import AnswerChunk, split_pieces
from rag.errors import ConfigError

MI = """---
title: AMD launches the MI325X
date: 2024-10-10
source: Test Wire
---
AMD launched the Instinct MI325X accelerator on October 10, 2024. The MI325X carries 256GB of HBM3E memory with 6TB/s of bandwidth. Volume shipments were planned for the fourth quarter.
"""
ZW = """---
title: 平头哥发布真武810E
date: 2026-01-29
source: 测试财经
---
1月29日上午,平头哥在官网上线一款名为“真武810E”的高端AI芯片。真武810E采用HBM2e内存,容量可达96GB。该芯片支持7个独立ICN链路,片间互联带宽达到700GB/s。
"""
GAUDI = """---
title: Intel unveils Gaudi 3
date: 2024-04-09
source: Test Wire
---
Intel unveiled the Gaudi 3 AI accelerator on April 9, 2024. Gaudi 3 has 128GB of HBM2e memory. Intel said it would ship to OEMs in the second quarter.
"""
MI_Q = "How much memory does the AMD MI325X have?"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("chain")
    docs = root / "docs"
    docs.mkdir()
    for name, text in (("mi.md", MI), ("zw.md", ZW), ("gaudi.md", GAUDI)):
        (docs / name).write_text(text, encoding="utf-8")
    qa = QA.open(root / "store", embeddings=DeterministicFakeEmbedding(size=32))
    assert qa.ingest([docs]).added == 3
    return root / "store"


@pytest.fixture(scope="module")
def qa(store: Path) -> QA:
    return QA.open(store, embeddings=DeterministicFakeEmbedding(size=32))


def check_citations(qa: QA, ans: Answer) -> None:
    for c in ans.citations:
        assert qa.document(c.doc_id).text[c.start : c.end] == c.quote


def test_input_schema_is_typed(qa: QA) -> None:
    chain = qa.as_runnable()
    schema = chain.get_input_jsonschema()
    assert set(schema["properties"]) == {
        "question",
        "history",
        "k",
        "vendors",
        "since",
        "until",
        "answerer",
    }
    assert schema["required"] == ["question"]
    assert chain.get_output_jsonschema()["title"] in ("Answer", "RunnableSequenceOutput")
    assert chain.OutputType is Answer


def test_invoke_returns_a_cited_answer(qa: QA) -> None:
    ans = qa.as_runnable().invoke({"question": MI_Q})
    assert isinstance(ans, Answer) and not ans.abstained
    assert "256GB" in ans.text and ans.citations
    check_citations(qa, ans)
    assert qa.as_runnable().invoke(MI_Q).text == ans.text  # a bare string is a question


def test_filters_reach_the_retriever(qa: QA) -> None:
    ans = qa.as_runnable().invoke({"question": "HBM memory", "vendors": ["Intel"], "k": 2})
    assert ans.passages and {p.title for p in ans.passages} == {"Intel unveils Gaudi 3"}
    assert len(ans.passages) <= 2
    none = qa.as_runnable().invoke({"question": "HBM memory", "since": "2030"})
    assert none.abstained and none.passages == []


@pytest.mark.parametrize(
    ("inp", "says"),
    [
        ({"question": MI_Q, "vendor": ["AMD"]}, "unknown key 'vendor'"),
        ({"q": MI_Q}, "'question' is missing"),
        ({"question": MI_Q, "k": "three"}, "k:"),
        ({"question": MI_Q, "k": 0}, "k:"),
        ({"question": MI_Q, "since": "yesterday"}, "since:"),
        (42, "not int"),
    ],
)
def test_bad_input_is_refused_with_one_clear_line(qa: QA, inp: Any, says: str) -> None:
    with pytest.raises(ConfigError) as err:
        qa.as_runnable().invoke(inp)
    assert says in str(err.value) and "\n" not in str(err.value)


def test_history_as_langchain_messages_resolves_the_follow_up(qa: QA) -> None:
    first = qa.as_runnable().invoke(MI_Q)
    history = [HumanMessage(MI_Q), AIMessage(first.text)]
    ans = qa.as_runnable().invoke({"question": "and its bandwidth?", "history": history})
    assert ans.resolved_question and "MI325X" in ans.resolved_question
    assert "6TB/s" in ans.text and not ans.abstained
    as_dicts = [{"role": "user", "content": MI_Q}, {"role": "assistant", "content": first.text}]
    again = qa.as_runnable().invoke({"question": "and its bandwidth?", "history": as_dicts})
    assert again.text == ans.text


def test_batch_returns_one_answer_per_input(qa: QA) -> None:
    got = qa.as_runnable().batch([MI_Q, {"question": "真武810E的显存容量是多少?"}])
    assert [type(a) for a in got] == [AnswerChunk, AnswerChunk]
    assert "256GB" in got[0].text and "96GB" in got[1].text


def test_stream_yields_pieces_then_the_whole_answer(qa: QA) -> None:
    chain = qa.as_runnable()
    chunks = list(chain.stream({"question": MI_Q}))
    assert all(isinstance(c, AnswerChunk) for c in chunks)
    *pieces, last = chunks
    assert last.final and not any(c.final for c in pieces)
    assert "".join(p.text for p in pieces) == last.text
    assert len(pieces) == len(split_pieces(last.text))
    total = chunks[0]
    for c in chunks[1:]:
        total = total + c
    assert total.text == chain.invoke({"question": MI_Q}).text and total.citations


def test_split_pieces_keeps_every_character_and_marker() -> None:
    text = "第一句。[1]第二句！[2][3] Third one. Fourth? yes"
    pieces = split_pieces(text)
    assert "".join(pieces) == text and len(pieces) == 5
    assert pieces[0] == "第一句。[1]" and pieces[1] == "第二句！[2][3] "


def test_ainvoke_and_astream(qa: QA) -> None:
    chain = qa.as_runnable()

    async def go() -> tuple[Answer, list[AnswerChunk]]:
        ans = await chain.ainvoke({"question": MI_Q})
        chunks = [c async for c in chain.astream({"question": MI_Q})]
        return ans, chunks

    ans, chunks = asyncio.run(go())
    assert isinstance(ans, Answer) and "256GB" in ans.text
    assert chunks[-1].final and chunks[-1].text == ans.text
    assert "".join(c.text for c in chunks[:-1]) == ans.text


def events(chain: Any, inp: Any) -> list[dict[str, Any]]:
    async def go() -> list[dict[str, Any]]:
        return [e async for e in chain.astream_events(inp, version="v2")]

    return asyncio.run(go())


def test_astream_events_show_the_retriever_and_the_answerer(qa: QA) -> None:
    evs = events(qa.as_runnable(), {"question": MI_Q, "k": 3})
    kinds = {(e["event"], e["name"]) for e in evs}
    for needed in [
        ("on_chain_start", "chipnews_qa"),
        ("on_chain_start", "parse_input"),
        ("on_retriever_start", "HybridRetriever"),
        ("on_retriever_end", "HybridRetriever"),
        ("on_chain_start", "answer"),
        ("on_chain_stream", "answer"),
        ("on_chain_end", "chipnews_qa"),
    ]:
        assert needed in kinds, needed
    root = next(e for e in evs if e["event"] == "on_chain_start" and e["name"] == "chipnews_qa")
    ret = next(e for e in evs if e["event"] == "on_retriever_end")
    assert root["run_id"] in ret["parent_ids"]  # nested in the chain's run
    assert len(ret["data"]["output"]) == 3


def test_llm_answerer_streams_tokens_and_verified_pieces(store: Path) -> None:
    reply = "The MI325X carries 256GB of HBM3E memory [1]. It has 6TB/s of bandwidth [1]."
    llm = FakeListChatModel(responses=[reply] * 4)
    qa = QA.open(store, embeddings=DeterministicFakeEmbedding(size=32), llm=llm, answerer="llm")
    chain = qa.as_runnable()
    inp = {"question": MI_Q, "vendors": ["AMD"], "k": 1}  # passage [1] is the MI325X text
    chunks = list(chain.stream(inp))
    assert chunks[-1].final and chunks[-1].answerer == "llm" and not chunks[-1].abstained
    assert len(chunks) >= 3  # statement by statement, then the whole answer
    check_citations(qa, chunks[-1])
    evs = events(chain, inp)
    tokens = [e for e in evs if e["event"] == "on_chat_model_stream"]
    assert len(tokens) > 10, "the chat model's tokens are not visible to astream_events"
    model_start = next(e for e in evs if e["event"] == "on_chat_model_start")
    answer_start = next(e for e in evs if e["event"] == "on_chain_start" and e["name"] == "answer")
    assert answer_start["run_id"] in model_start["parent_ids"]


def test_pipe_composition(qa: QA) -> None:
    to_input = RunnableLambda(lambda q: {"question": q, "k": 3})
    text_only = RunnableLambda(lambda a: a.text)
    chain = to_input | qa.as_runnable() | text_only
    out = chain.invoke(MI_Q)
    assert isinstance(out, str) and "256GB" in out
    quotes = qa.as_runnable() | (lambda a: [c.quote for c in a.citations])
    assert all(isinstance(q, str) and q for q in quotes.invoke(MI_Q))
    streamed = list((to_input | qa.as_runnable() | text_only).stream(MI_Q))
    assert streamed == [out]  # a plain function after the chain gets the summed answer


@pytest.mark.parametrize("question", ["？？", "   ", "!!!"])
def test_empty_question_gets_the_answer_qa_gives(qa: QA, question: str) -> None:
    chunks = list(qa.as_runnable().stream(question))
    want = qa.ask(question)
    assert want.abstained and want.notes == ["empty question"]
    assert [c.final for c in chunks] == [False, True]
    assert chunks[0].text == want.text and chunks[0].abstained
    assert (chunks[-1].text, chunks[-1].notes, chunks[-1].question) == (
        want.text,
        want.notes,
        question,
    )


def test_a_chat_model_set_on_qa_answers(store: Path) -> None:
    reply = "The MI325X carries 256GB of HBM3E memory [1]."
    qa = QA.open(store, embeddings=DeterministicFakeEmbedding(size=32), answerer="llm")
    qa.llm = FakeListChatModel(responses=[reply] * 2)
    assert qa.has_llm
    inp = {"question": MI_Q, "vendors": ["AMD"], "k": 1}
    for ans in (qa.ask(MI_Q, vendors=["AMD"], k=1), qa.as_runnable().invoke(inp)):
        assert ans.answerer == "llm" and not ans.abstained and "256GB" in ans.text
        check_citations(qa, ans)


def test_the_chain_answers_as_qa_ask_does(tmp_path: Path) -> None:
    """The chain and ``QA.ask`` share one offline composition (lists, latest figures, fact
    leads, "also reported") and the same cross-lingual retrieval: the same text for a list,
    a latest, a cross-lingual and a follow-up question over the bundled corpus."""
    root = Path(__file__).resolve().parent.parent
    qa = QA.open(tmp_path / "store", embeddings="fake")
    qa.ingest([root / "corpus"])
    chain = qa.as_runnable()
    history = [{"role": "user", "content": "AMD MI325X用的什么显存？"}]
    cases = [
        ("AMD的Instinct系列各款加速器分别配备多大容量的显存？", []),
        ("沐曦IPO最终实际募资多少?", []),
        ("How much HBM does the Zhenwu 810E have?", []),
        ("那带宽呢？", history),
    ]
    notes = set()
    for question, turns in cases:
        asked = qa.ask(question, turns)
        got = chain.invoke({"question": question, "history": turns})
        assert got.text == asked.text, question
        assert [c.quote for c in got.citations] == [c.quote for c in asked.citations]
        notes.update(asked.notes)
    assert any(n.startswith("list of") for n in notes), notes  # the list path was taken
