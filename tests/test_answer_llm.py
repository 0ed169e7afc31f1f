"""The generative answerer with deterministic fake chat models: verification, streaming,
fallback to the offline answer, follow-up condensation."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from llm_server import ScriptedChatModel

from rag import QA, Answer, Final, Settings, TextDelta
from rag.citations import marker_numbers, numbers_in, verify_generated
from rag.errors import ConfigError

ZW = """---
title: 平头哥发布真武810E
date: 2026-01-29
source: 测试财经
---
1月29日上午,平头哥在官网上线一款名为“真武810E”的高端AI芯片。真武810E采用HBM2e内存,容量可达96GB。该芯片支持7个独立ICN链路,片间互联带宽达到700GB/s。
"""
MI = """---
title: AMD launches the MI325X
date: 2024-10-10
source: Test Wire
---
AMD launched the Instinct MI325X accelerator on October 10, 2024. The MI325X carries 256GB of HBM3E memory with 6TB/s of bandwidth. Volume shipments were planned for the fourth quarter.
"""
KL = """---
title: 昆仑芯点亮三万卡集群
date: 2025-04-25
source: 测试日报
---
百度智能云宣布点亮昆仑芯三代P800万卡集群,并计划扩展至3万卡。该集群可同时支持多个千亿参数大模型的训练。
"""
ZH_Q = "真武810E的显存容量是多少?"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("llm_store")
    docs = root / "docs"
    docs.mkdir()
    for name, text in (("a_zw.md", ZW), ("b_mi325x.md", MI), ("c_kunlun.md", KL)):
        (docs / name).write_text(text, encoding="utf-8")
    qa = QA.open(root / "store", embeddings="fake")
    assert qa.ingest([docs]).added == 3
    return root / "store"


def open_qa(store: Path, llm: object = None, **kw: object) -> QA:
    return QA.open(store, embeddings="fake", llm=llm, answerer="llm", **kw)


def run(qa: QA, question: str, history: list | None = None) -> tuple[list[str], Answer]:
    return deltas_then_final(qa.stream(question, history))


def deltas_then_final(stream: Iterable[object]) -> tuple[list[str], Answer]:
    """The texts of a stream's ``TextDelta`` events and its ``Final`` answer; fails on any
    other order."""
    events = list(stream)
    match events:
        case [*deltas, Final(answer)] if all(isinstance(d, TextDelta) for d in deltas):
            return [d.text for d in deltas], answer
    raise AssertionError(f"not text deltas then one Final: {events!r}")


def assert_safe(qa: QA, ans: Answer) -> None:
    """Every citation quotes its document exactly; every marker is a citation; figures are quoted."""
    ns = [c.n for c in ans.citations]
    assert ns == list(range(1, len(ns) + 1))
    for c in ans.citations:
        assert qa.document(c.doc_id).text[c.start : c.end] == c.quote
    assert set(marker_numbers(ans.text)) == set(ns)
    if ans.abstained:
        assert not ans.citations
    else:
        quoted = set().union(*(numbers_in(c.quote) for c in ans.citations))
        assert numbers_in(re.sub(r"\[\d+\]", "", ans.text)) <= quoted


def test_make_llm_needs_an_endpoint() -> None:
    from rag.answer_llm import make_llm

    with pytest.raises(ConfigError, match="RAG_LLM_BASE_URL"):
        make_llm(Settings())


def test_make_llm_builds_a_streaming_openai_client() -> None:
    from langchain_openai import ChatOpenAI

    from rag.answer_llm import make_llm

    llm = make_llm(Settings(llm_base_url="http://127.0.0.1:1/v1", llm_timeout=7))
    assert isinstance(llm, ChatOpenAI)
    assert (llm.openai_api_base, llm.model_name, llm.request_timeout) == (
        "http://127.0.0.1:1/v1",
        "default",
        7,
    )
    assert (llm.max_retries, llm.temperature, llm.streaming) == (2, 0, True)


def test_good_answer_keeps_valid_citations_with_exact_offsets(store: Path) -> None:
    fake = ScriptedChatModel(script=["真武810E采用HBM2e内存,容量可达96GB[{src:真武}]。"])
    qa = open_qa(store, fake)
    _, ans = run(qa, ZH_Q)
    assert ans.answerer == "llm" and not ans.abstained
    assert ans.text == "真武810E采用HBM2e内存,容量可达96GB[1]。"
    [c] = ans.citations
    doc = qa.document(c.doc_id)
    assert doc.title == "平头哥发布真武810E" and (c.title, c.source, c.date) == (
        doc.title,
        doc.source,
        doc.date,
    )
    # the supporting sentence, not the whole chunk
    assert c.quote == "真武810E采用HBM2e内存,容量可达96GB。" == doc.text[c.start : c.end]
    assert_safe(qa, ans)


def test_prompt_numbers_and_delimits_each_source(store: Path) -> None:
    fake = ScriptedChatModel(script=["容量可达96GB[{src:真武}]。"])
    _, ans = run(open_qa(store, fake), ZH_Q)
    prompt = fake.prompt_text()
    # passages, then the question's facts (kind="fact"), numbered on from them
    ids = re.findall(r'<source id="(\d+)" title="[^"]*" date="[^"]*"(?: kind="fact")?>', prompt)
    assert ids == [str(i) for i in range(1, len(ans.passages) + 1)]
    assert prompt.count("</source>") == len(ans.passages)
    assert "Question: " + ZH_Q in prompt and "Chinese" in prompt
    assert "never instructions" in prompt


def test_marker_pointing_nowhere_is_removed(store: Path) -> None:
    fake = FakeListChatModel(responses=["真武810E的片间互联带宽达到700GB/s[1][9]。PWNED [9]。"])
    qa = open_qa(store, fake)
    _, ans = run(qa, ZH_Q)
    assert 3 <= len(ans.passages) < 9  # the passages and the question's facts
    assert "[9]" not in ans.text and "PWNED" not in ans.text
    assert any("[9]" in n for n in ans.notes)
    assert_safe(qa, ans)


def test_statement_with_a_wrong_figure_is_dropped(store: Path) -> None:
    fake = ScriptedChatModel(
        script=["真武810E的显存容量为128GB[{src:真武}]。片间互联带宽达到700GB/s[{src:真武}]。"]
    )
    qa = open_qa(store, fake)
    _, ans = run(qa, ZH_Q)
    assert "128" not in ans.text and "700GB/s[1]" in ans.text
    assert any("128" in n and "dropped" in n for n in ans.notes)
    assert ans.citations[0].quote == "该芯片支持7个独立ICN链路,片间互联带宽达到700GB/s。"
    assert_safe(qa, ans)


def test_figure_from_another_document_is_not_accepted(store: Path) -> None:
    # 256GB is true of the MI325X, but the statement cites the Zhenwu article
    fake = ScriptedChatModel(
        script=["The memory is 256GB [{src:真武}]. It uses HBM2e [{src:真武}]."]
    )
    qa = open_qa(store, fake)
    _, ans = run(qa, "What memory does the Zhenwu 810E use?")
    assert "256" not in ans.text and not ans.abstained
    assert ans.text.startswith("It uses HBM2e [1]")
    assert_safe(qa, ans)


def test_uncited_figures_are_dropped_and_uncited_words_need_a_cited_statement(store: Path) -> None:
    fake = ScriptedChatModel(script=["据报道。它的售价是9999美元。容量可达96GB[{src:真武}]。"])
    qa = open_qa(store, fake)
    _, ans = run(qa, ZH_Q)
    assert "9999" not in ans.text and ans.text == "据报道。容量可达96GB[1]。"
    assert any("uncited statement with figures" in n for n in ans.notes)
    assert_safe(qa, ans)


def test_statement_combining_two_sentences_cites_both(store: Path) -> None:
    fake = ScriptedChatModel(script=["真武810E容量可达96GB,片间互联带宽达到700GB/s[{src:真武}]。"])
    qa = open_qa(store, fake)
    _, ans = run(qa, ZH_Q)
    assert ans.text.endswith("[1][2]。")
    assert ans.citations[0].quote.endswith("容量可达96GB。")
    assert ans.citations[1].quote.endswith("片间互联带宽达到700GB/s。")
    assert_safe(qa, ans)


def test_citations_are_renumbered_in_order_of_appearance(store: Path) -> None:
    fake = ScriptedChatModel(
        script=[
            "The MI325X carries 256GB of HBM3E memory [{src:AMD}]. The Zhenwu 810E has up to 96GB [{src:真武}]. "
            "MI325X bandwidth is 6TB/s [{src:AMD}]."
        ]
    )
    qa = open_qa(store, fake)
    _, ans = run(qa, "Compare the memory of the MI325X and the Zhenwu 810E")
    assert marker_numbers(ans.text) == [1, 2, 1]
    assert [c.n for c in ans.citations] == [1, 2]
    assert "MI325X" in ans.citations[0].quote and "96GB" in ans.citations[1].quote
    assert_safe(qa, ans)


def test_nothing_verifiable_gives_an_abstention_in_the_question_language(store: Path) -> None:
    fake = ScriptedChatModel(script=["真武810E有4096个核心[{src:真武}]。"])
    qa = open_qa(store, fake)
    _, ans = run(qa, ZH_Q)
    assert ans.abstained and not ans.citations and ans.answerer == "llm"
    assert "无法回答" in ans.text and "4096" not in ans.text
    fake = ScriptedChatModel(script=["It has 4096 cores [{src:真武}]."])
    _, ans = run(open_qa(store, fake), "How many cores does the Zhenwu 810E have?")
    assert ans.abstained and ans.text.startswith("The corpus does not answer this")


def test_cited_statement_sharing_no_word_with_its_source_is_dropped(store: Path) -> None:
    fake = ScriptedChatModel(
        script=["Bananas are yellow [{src:真武}]. The Zhenwu 810E uses HBM2e [{src:真武}]."]
    )
    qa = open_qa(store, fake)
    _, ans = run(qa, "What memory does the Zhenwu 810E use?")
    assert ans.text == "The Zhenwu 810E uses HBM2e [1]."
    assert "HBM2e" in ans.citations[0].quote
    assert any("shares no word" in n for n in ans.notes)


@pytest.mark.parametrize(
    "reply",
    [
        "根据资料无法回答。",
        "I cannot answer this from the sources.",
        "The sources do not contain the price.",
    ],
)
def test_model_abstention_is_an_abstention(store: Path, reply: str) -> None:
    qa = open_qa(store, FakeListChatModel(responses=[reply]))
    _, ans = run(qa, "真武810E的售价是多少?")
    assert ans.abstained and not ans.citations
    assert "the model said the sources do not answer" in ans.notes


def test_streaming_yields_verified_pieces_then_the_answer(store: Path) -> None:
    fake = ScriptedChatModel(
        script=[
            "真武810E采用HBM2e内存[{src:真武}]。容量可达96GB[{src:真武}]。片间互联带宽达到700GB/s[{src:真武}]。"
        ]
    )
    qa = open_qa(store, fake)
    pieces, ans = run(qa, ZH_Q)
    assert len(pieces) >= 3
    assert "".join(pieces) == ans.text
    assert ans.timings["llm_first_piece"] <= ans.timings["llm"] <= ans.timings["total"]


def test_no_passages_abstains_without_calling_the_llm(store: Path) -> None:
    fake = ScriptedChatModel(script=["should not be called [1]"])
    qa = open_qa(store, fake)
    ans = qa.ask(ZH_Q, since="2100-01-01")
    assert ans.abstained and not ans.citations and not fake.calls
    from rag.answer_llm import stream_llm_answer

    texts, direct = deltas_then_final(stream_llm_answer(fake, ZH_Q, ZH_Q, [], {}, timeout=5))
    assert texts == [direct.text] and direct.abstained and not fake.calls


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_endpoint_down_gives_the_offline_answer_and_one_line(store: Path) -> None:
    qa = QA.open(
        store,
        embeddings="fake",
        llm_base_url=f"http://127.0.0.1:{closed_port()}/v1",
        llm_timeout=3,
        answerer="llm",
    )
    pieces, ans = run(qa, ZH_Q)
    assert ans.answerer == "offline" and not ans.abstained
    assert "96GB" in ans.text
    [note] = [n for n in ans.notes if n.startswith("LLM failed")]
    assert "connection refused" in note and "\n" not in note and "Traceback" not in note
    assert pieces[0].startswith("[LLM endpoint http://127.0.0.1:") and pieces[0].count("\n") == 1


class _Status500(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"error": {"message": "model exploded", "type": "server_error"}}'
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_http_error_gives_the_offline_answer(store: Path) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Status500)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        qa = QA.open(
            store,
            embeddings="fake",
            answerer="llm",
            llm_timeout=5,
            llm_base_url=f"http://127.0.0.1:{server.server_address[1]}/v1",
        )
        _, ans = run(qa, ZH_Q)
    finally:
        server.shutdown()
        server.server_close()
    assert ans.answerer == "offline"
    assert any("HTTP 500" in n and "model exploded" in n for n in ans.notes)


@pytest.mark.parametrize(
    "llm",
    [
        FakeListChatModel(responses=[""]),
        FakeListChatModel(responses=["容量可达96GB[1]。"], error_on_chunk_number=3),
    ],
    ids=["empty-output", "fails-mid-stream"],
)
def test_model_failures_fall_back_to_offline(store: Path, llm: FakeListChatModel) -> None:
    _, ans = run(open_qa(store, llm), ZH_Q)
    assert ans.answerer == "offline" and "96GB" in ans.text
    assert any(n.startswith("LLM failed") for n in ans.notes)


def test_follow_up_is_condensed_by_the_llm(store: Path) -> None:
    fake = ScriptedChatModel(
        script=["真武810E的片间互联带宽是多少?", "片间互联带宽达到700GB/s[{src:真武}]。"]
    )
    qa = open_qa(store, fake)
    history = [
        {"role": "user", "content": ZH_Q},
        {"role": "assistant", "content": "容量可达96GB[1]。"},
    ]
    _, ans = run(qa, "它的片间互联带宽呢?", history)
    assert ans.resolved_question == "真武810E的片间互联带宽是多少?"
    assert "它的片间互联带宽呢?" in fake.prompt_text(0) and ZH_Q in fake.prompt_text(0)
    assert "Question: 真武810E的片间互联带宽是多少?" in fake.prompt_text(1)
    assert ans.text == "片间互联带宽达到700GB/s[1]。"
    assert_safe(qa, ans)


def test_failed_or_useless_condensation_keeps_the_offline_carry_over(store: Path) -> None:
    history = [("真武810E的显存容量是多少?", "容量可达96GB[1]。")]
    for first in (RuntimeError("boom"), "The The The", ""):
        fake = ScriptedChatModel(script=[first, "片间互联带宽达到700GB/s[{src:真武}]。"])
        _, ans = run(open_qa(store, fake), "它的片间互联带宽呢?", history)
        assert ans.resolved_question is not None and "真武810E" in ans.resolved_question
        assert ans.answerer == "llm" and "700GB/s" in ans.text


def test_condensation_is_skipped_when_the_question_stands_alone(store: Path) -> None:
    fake = ScriptedChatModel(script=["容量可达96GB[{src:真武}]。"])
    history = [("MI325X的显存是多少?", "256GB [1]")]
    _, ans = run(open_qa(store, fake), ZH_Q, history)
    assert len(fake.calls) == 1 and ans.resolved_question is None


def test_verify_generated_handles_marker_variants(store: Path) -> None:
    qa = open_qa(store)
    res = qa.search(ZH_Q)
    docs = {p.doc_id: qa.document(p.doc_id) for p in res.passages}
    zw = next(i for i, p in enumerate(res.passages, 1) if "真武" in p.title)
    v = verify_generated(
        f"容量可达96GB【{zw}】。互联带宽700GB/s [source {zw}]。", res.passages, docs
    )
    assert v.text == "容量可达96GB[1]。互联带宽700GB/s[2]。"
    assert len(v.citations) == 2


# -- facts in the prompt ------------------------------------------------------------------------
@dataclass
class _Fact:
    """The fields of ``rag.knowledge.Fact`` the answerer reads (the contract of issue 12)."""

    fact_id: str
    entity_id: str
    entity: str
    attribute: str
    value: str
    unit: str | None
    norm_value: float | None
    qualifier: str | None
    precision: str | None
    period: str | None
    doc_id: str
    start: int
    end: int
    quote: str
    title: str = ""
    date: str | None = None
    source: str = ""
    lang: str = "zh"


def _fact_for(qa: QA, sentence: str, fact_id: str = "f1") -> _Fact:
    doc = next(d for d in qa.store.documents() if sentence in d.text)
    start = doc.text.index(sentence)
    return _Fact(
        fact_id,
        "mi325x",
        "MI325X",
        "memory_capacity",
        "256GB",
        "GB",
        2.56e11,
        "official",
        None,
        "2024-10",
        doc.doc_id,
        start,
        start + len(sentence),
        sentence,
        doc.title,
        doc.date,
        doc.source,
        doc.lang,
    )


def test_facts_are_numbered_sources_after_the_passages_and_verified_alike(store: Path) -> None:
    from rag.answer_llm import stream_llm_answer

    fake = ScriptedChatModel(
        script=["真武810E容量可达96GB[{src:真武}]。MI325X配备256GB HBM3E[{src:AMD}]。"]
    )
    qa = open_qa(store, fake)
    res = qa.search(ZH_Q, k=1)  # only the 真武 passage is retrieved
    assert [p.title for p in res.passages] == ["平头哥发布真武810E"]
    docs = {p.doc_id: qa.document(p.doc_id) for p in res.passages}
    good = _fact_for(qa, "The MI325X carries 256GB of HBM3E memory with 6TB/s of bandwidth.")
    bad = _fact_for(qa, "Volume shipments were planned for the fourth quarter.", "f2")
    bad.quote = "Volume shipments were planned for 2023."  # not its document's text: left out
    texts, ans = deltas_then_final(
        stream_llm_answer(
            qa.llm,
            ZH_Q,
            ZH_Q,
            res.passages,
            docs,
            timeout=60,
            facts=[good, bad],
            document=qa.document,
        )
    )
    assert "".join(texts) == ans.text
    prompt = fake.prompt_text()
    assert re.findall(r'<source id="(\d+)"[^>]*kind="fact"', prompt) == ["2"]
    assert "Volume shipments" not in prompt
    assert ans.text == "真武810E容量可达96GB[1]。MI325X配备256GB HBM3E[2]。"
    fact_cite = ans.citations[1]
    assert (fact_cite.doc_id, fact_cite.quote) == (good.doc_id, good.quote)
    assert qa.document(fact_cite.doc_id).text[fact_cite.start : fact_cite.end] == good.quote


def test_a_fact_cited_for_a_figure_it_does_not_state_is_removed(store: Path) -> None:
    from rag.answer_llm import stream_llm_answer

    fake = ScriptedChatModel(
        script=["真武810E容量可达96GB[{src:真武}]。MI325X配备288GB HBM3E[{src:AMD}]。"]
    )
    qa = open_qa(store, fake)
    res = qa.search(ZH_Q, k=1)
    docs = {p.doc_id: qa.document(p.doc_id) for p in res.passages}
    fact = _fact_for(qa, "The MI325X carries 256GB of HBM3E memory with 6TB/s of bandwidth.")
    pieces = stream_llm_answer(
        qa.llm, ZH_Q, ZH_Q, res.passages, docs, timeout=60, facts=[fact], document=qa.document
    )
    _, ans = deltas_then_final(pieces)
    assert "288" not in ans.text and ans.removed == ["MI325X配备288GB HBM3E。"]
