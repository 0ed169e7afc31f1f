"""The web chat's handlers, called directly (no browser): streaming, citations, escaping, uploads.

A small store with the ``fake`` embedder is built once from documents written here; the
offline answerer and the keyword index are real. ``launch`` is exercised on a free port with
basic auth through ``gradio_client``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag import QA, web
from rag.errors import ConfigError
from rag.types import Answer, Citation, Final, TextDelta

KESTREL = """---
title: Kestrel K7 accelerator launched
date: 2025-03-04
source: Example News
url: https://example.com/kestrel
vendors: [NVIDIA]
lang: en
---
Acme Silicon announced the Kestrel K7 AI accelerator on Tuesday. The Kestrel K7 carries 128GB of HBM3e memory with 6TB/s of bandwidth. The company said volume shipments start in the third quarter.
"""

QINGNIAO = """---
title: 青鸟9号芯片发布
date: 2024-11-02
source: 示例新闻
vendors: [Huawei]
lang: zh
---
某公司发布了青鸟9号AI芯片。青鸟9号配备48GB HBM3显存,功耗为350W。该芯片将于明年量产。
"""

EVIL = """Evil <script>window.__xss=1</script> chip report

The Q9 accelerator has 64GB of memory <img src=x onerror="window.__xss=1"> according to the vendor <script>window.__xss=1</script>.
Its power draw is 300W.
"""


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> QA:
    """A fake-embedder store holding the three documents above, added through the upload handler."""
    root = tmp_path_factory.mktemp("web")
    files = [
        _write(root / "in", "evil.txt", EVIL),
        _write(root / "in", "kestrel.md", KESTREL),
        _write(root / "in", "qingniao.md", QINGNIAO),
    ]
    qa = QA.open(root / "store", embeddings="fake")
    status = list(web.upload(qa, [str(f) for f in files]))
    assert "3 of 3 file(s) added" in status[-1], status[-1]
    return qa


def run_chat(qa: Any, question: str, turns: list | None = None, **kw: Any) -> list[tuple]:
    return list(web.chat(qa, question, turns or [], **kw))


def last_bot(outputs: list[tuple]) -> str:
    return outputs[-1][0][-1]["content"]


# -- chat ---------------------------------------------------------------------------------------
def test_answer_links_markers_to_highlighted_sources(tiny: QA) -> None:
    outs = run_chat(tiny, "How much memory does the Kestrel K7 have?")
    msgs, panel, turns = outs[-1]
    assert [m["role"] for m in msgs] == ["user", "assistant"]
    bot = msgs[-1]["content"]
    assert 'class="rag-answer"' in bot and "rag-abstain" not in bot
    assert '<a class="rag-cite" href="#rag-src-1-1"' in bot
    assert ">[1]</a>" in bot and "128GB" in bot
    # the sources panel: the entry the marker points at, with title, date, link and marked quote
    assert 'id="rag-src-1-1"' in panel
    assert "Kestrel K7 accelerator launched" in panel and "2025-03-04" in panel
    assert (
        '<a href="https://example.com/kestrel" target="_blank" rel="noopener noreferrer">' in panel
    )
    mark = re.search(r"<mark>(.*?)</mark>", panel)
    assert (
        mark
        and mark.group(1) == "The Kestrel K7 carries 128GB of HBM3e memory with 6TB/s of bandwidth."
    )
    # the quote sits inside its surrounding text
    assert "Acme Silicon announced" in panel and "volume shipments" in panel
    # a lead statement from the fact the quote carries, then the quote itself
    assert "The Kestrel K7 carries 128GB" in turns[0]["answer"]


def test_first_yield_shows_the_question_and_a_pending_answer(tiny: QA) -> None:
    first = next(web.chat(tiny, "青鸟9号的显存容量是多少?", []))
    msgs, _panel, turns = first
    assert msgs[0] == {
        "role": "user",
        "content": '<div class="rag-q">青鸟9号的显存容量是多少?</div>',
    }
    assert "rag-streaming" in msgs[1]["content"]
    assert turns == []


class StreamingQA:
    """Wraps a real QA; its stream yields the answer in several pieces, as an LLM would."""

    def __init__(self, qa: QA) -> None:
        self.qa = qa
        self.histories: list[Any] = []

    def document(self, doc_id: str) -> Any:
        return self.qa.document(doc_id)

    def stream(self, question: str, history: Any = None, **kw: Any) -> Iterator[Any]:
        self.histories.append(history)
        final = self.qa.ask(question, history, **kw)
        pieces = re.findall(r".{1,12}", final.text, flags=re.S)
        yield from (TextDelta(p) for p in pieces)
        final.answerer = "llm"
        yield Final(final)


def test_streamed_pieces_are_shown_as_they_arrive(tiny: QA) -> None:
    sqa = StreamingQA(tiny)
    outs = run_chat(sqa, "How much memory does the Kestrel K7 have?")
    streaming = [o[0][-1]["content"] for o in outs if "rag-streaming" in o[0][-1]["content"]]
    assert len(streaming) >= 4  # the empty placeholder, then one update per piece
    texts = [re.sub(r"<[^>]+>", "", s) for s in streaming]
    assert all(len(a) <= len(b) for a, b in itertools.pairwise(texts))
    assert "rag-streaming" not in last_bot(outs) and 'href="#rag-src-1-1"' in last_bot(outs)


def test_follow_up_gets_the_history_and_its_own_source_ids(tiny: QA) -> None:
    sqa = StreamingQA(tiny)
    turns = run_chat(sqa, "青鸟9号的显存容量是多少?")[-1][2]
    outs = run_chat(sqa, "它的功耗呢?", turns)
    msgs, panel, turns2 = outs[-1]
    assert sqa.histories[-1] == [
        {"role": "user", "content": "青鸟9号的显存容量是多少?"},
        {"role": "assistant", "content": turns[0]["answer"]},
    ]
    assert len(msgs) == 4 and len(turns2) == 2
    assert "350W" in msgs[-1]["content"]
    assert 'href="#rag-src-2-1"' in msgs[-1]["content"] and 'id="rag-src-2-1"' in panel
    # the earlier turn's sources are still there, folded
    assert '<details class="rag-older">' in panel and 'id="rag-src-1-1"' in panel


def test_abstention_looks_different(tiny: QA) -> None:
    outs = run_chat(tiny, "What is the price of the Kestrel K7?")
    msgs, panel, turns = outs[-1]
    bot = msgs[-1]["content"]
    assert 'class="rag-answer rag-abstain"' in bot and "no answer in corpus" in bot
    assert "rag-cite" not in bot
    assert "rag-abstain" in panel and "<mark>" not in panel
    assert "Kestrel K7 accelerator launched" in panel  # what was searched
    assert turns[0]["abstained"] is True
    zh = last_bot(run_chat(tiny, "青鸟9号的售价是多少?"))
    assert "rag-abstain" in zh and "资料中无答案" in zh


def test_filters_reach_the_search(tiny: QA) -> None:
    ok = last_bot(
        run_chat(
            tiny,
            "青鸟9号的显存容量是多少?",
            vendors=["Huawei"],
            since="2024",
            until="2024-12-31",
            k=3,
        )
    )
    assert "48GB" in ok and "rag-cite" in ok
    too_late = last_bot(run_chat(tiny, "青鸟9号的显存容量是多少?", since="2025-01-01"))
    assert "rag-abstain" in too_late
    other_vendor = last_bot(run_chat(tiny, "青鸟9号的显存容量是多少?", vendors=["NVIDIA"]))
    assert "48GB" not in other_vendor


def test_bad_date_is_a_one_line_error(tiny: QA) -> None:
    outs = run_chat(tiny, "How much memory does the Kestrel K7 have?", since="2025/01/01")
    bot = last_bot(outs)
    assert "rag-error" in bot and "since must be YYYY, YYYY-MM or YYYY-MM-DD" in bot
    assert len(outs[-1][2]) == 1  # the turn is kept, so the conversation goes on


def test_empty_question_adds_nothing(tiny: QA) -> None:
    outs = run_chat(tiny, "   ")
    assert outs == [([], web.sources_panel([]), [])]


# -- escaping -----------------------------------------------------------------------------------
RAW = ("<script", "<img", 'onerror="', "</script>")


def test_document_text_and_title_are_escaped(tiny: QA) -> None:
    outs = run_chat(tiny, "How much memory does the Q9 accelerator have?")
    msgs, panel, _ = outs[-1]
    html = msgs[-1]["content"] + panel
    assert "64GB" in html and "rag-cite" in html
    for raw in RAW:
        assert raw not in html
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in panel  # title and quote, shown as text
    assert "&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;" in panel
    assert "<mark>The Q9 accelerator has 64GB of memory &lt;img" in panel


def test_question_is_escaped() -> None:
    msgs = web.chat_messages([{"question": "<img src=x onerror=alert(1)>", "message": "x"}])
    assert msgs[0]["content"] == '<div class="rag-q">&lt;img src=x onerror=alert(1)&gt;</div>'


def test_rendering_escapes_everything_from_a_citation() -> None:
    evil = '<b onmouseover="x()">t</b>'
    ans = Answer(
        question=evil,
        text=f"{evil} [1] and [7]",
        abstained=False,
        citations=[Citation(1, "nope", evil, evil, evil, evil, 0, 3, "javascript:alert(1)")],
    )
    out = web.render_answer(ans, 3)
    assert "<b " not in out and "&lt;b onmouseover=&quot;x()&quot;&gt;" in out
    assert 'href="#rag-src-3-1"' in out and "[7]" in out and "rag-src-3-7" not in out

    class NoDocs:
        def document(self, doc_id: str) -> Any:
            from rag.errors import NotFoundError

            raise NotFoundError(doc_id)

    panel = web.render_sources(NoDocs(), ans, 3)  # type: ignore[arg-type]
    assert "<b " not in panel and "javascript:" not in panel
    assert panel.count("&lt;b onmouseover") >= 3  # question, title, source, quote


def test_quote_context_marks_the_span_and_escapes() -> None:
    text = "a" * 300 + "<i>quote</i>" + "b" * 300
    out = web.quote_context(text, 300, 312, width=20)
    assert out == "…" + "a" * 10 + "<mark>&lt;i&gt;quote&lt;/i&gt;</mark>" + "b" * 10 + "…"
    assert web.quote_context("xyz", 0, 3) == "<mark>xyz</mark>"


# -- uploads and deletion -----------------------------------------------------------------------
def test_upload_refuses_wrong_type_empty_and_oversize(tiny: QA, tmp_path: Path) -> None:
    pdf = tmp_path / "paper.xlsx"
    pdf.write_bytes(b"PK\x03\x04 ...")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    big = tmp_path / "big.md"
    big.write_bytes(b"x" * (web.MAX_UPLOAD_BYTES + 1))
    noext = tmp_path / "README"
    noext.write_text("hello", encoding="utf-8")
    before = len(tiny.documents())
    status = list(web.upload(tiny, [str(pdf), str(empty), str(big), str(noext)]))[-1]
    assert (
        "paper.xlsx: unsupported file type .xlsx: upload .txt, .md, .html, .pdf or .docx" in status
    )
    assert "empty.txt: the file is empty" in status
    assert "big.md: 5.0 MB is over the 5 MB limit" in status
    assert "README: unsupported file type (none)" in status
    assert "0 of 4 file(s) added" in status
    assert len(tiny.documents()) == before


def test_upload_reports_loader_failures_and_escapes_names(tiny: QA, tmp_path: Path) -> None:
    name = tmp_path / "<img src=x onerror=alert(1)>.html"
    name.write_text("<html><body><script>x()</script></body></html>", encoding="utf-8")
    status = list(web.upload(tiny, [str(name)]))[-1]
    assert "<img" not in status
    assert "&lt;img src=x onerror=alert(1)&gt;.html: " in status and "rag-fail" in status


def test_upload_progress_then_ask_then_delete(tiny: QA, tmp_path: Path) -> None:
    doc = _write(
        tmp_path,
        "falcon.md",
        "---\ntitle: Falcon F3 chip\ndate: 2025-06-01\n---\n"
        "The Falcon F3 inference chip uses 96GB of LPDDR5X memory.\n",
    )
    steps = list(web.upload(tiny, [str(doc)]))
    assert "ingesting 1/1: falcon.md" in steps[0]
    assert "falcon.md: added" in steps[-1] and "1 of 1 file(s) added" in steps[-1]
    again = list(web.upload(tiny, [str(doc)]))[-1]
    assert "falcon.md: unchanged" in again and "0 of 1 file(s) added" in again
    rows = web.documents_table(tiny)
    row = next(r for r in rows if r[0] == "Falcon F3 chip")
    assert row[1] == "2025-06-01" and row[2] == "en" and row[4] >= 1
    assert (f"Falcon F3 chip · 2025-06-01 · {row[5]}", row[5]) in web.document_choices(tiny)
    bot = last_bot(run_chat(tiny, "How much memory does the Falcon F3 have?"))
    assert "96GB" in bot and "rag-cite" in bot
    assert "deleted “Falcon F3 chip”" in web.delete(tiny, row[5])
    assert all(r[0] != "Falcon F3 chip" for r in web.documents_table(tiny))
    assert "Choose a document" in web.delete(tiny, None)
    assert "rag-fail" in web.delete(tiny, row[5])  # already gone: one-line error


def test_upload_with_nothing_chosen(tiny: QA) -> None:
    assert "Choose .txt, .md, .html, .pdf or .docx" in list(web.upload(tiny, None))[-1]


def test_vendor_choices_and_header(tiny: QA) -> None:
    assert {"Huawei", "NVIDIA"} <= set(web.vendor_choices(tiny))
    assert "answerer: **offline**" in web.header_markdown(tiny)


def test_english_first_text_does_not_hang() -> None:
    """A process whose first tokenized text is English answers (the web once pre-warmed the
    converter to dodge a lock deadlock; the re-entrant lock of rag.textnorm made that moot)."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = (
        "from rag.textnorm import tokenize; "
        "print(tokenize('How much memory does the Kestrel K7 have?'), tokenize('青鸟9号的显存'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "kestrel" in out.stdout.lower() and "显存" in out.stdout


# -- app and launch -----------------------------------------------------------------------------
def test_build_app_returns_blocks(tiny: QA) -> None:
    import gradio as gr

    app = web.build_app(tiny, notice="hello")
    assert isinstance(app, gr.Blocks)


def test_auth_and_host_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    assert web.parse_auth("ann:s3cr:et") == ("ann", "s3cr:et")
    assert web.parse_auth(None) is None
    with pytest.raises(ConfigError, match="user:password"):
        web.parse_auth("nocolon")
    assert web.is_loopback("127.0.0.1") and web.is_loopback("::1") and web.is_loopback("localhost")
    assert not web.is_loopback("0.0.0.0") and not web.is_loopback("192.168.1.5")
    monkeypatch.delenv("RAG_AUTH", raising=False)
    monkeypatch.delenv("RAG_ALLOW_NO_AUTH", raising=False)
    with pytest.raises(ConfigError, match="RAG_AUTH=user:password"):
        web.launch(host="0.0.0.0", qa=object())  # type: ignore[arg-type]


def test_auth_is_read_in_config() -> None:
    from rag.config import settings_from_env

    s = settings_from_env({"RAG_AUTH": "ann:s3cret", "RAG_ALLOW_NO_AUTH": "yes"})
    assert s.auth == "ann:s3cret" and s.allow_no_auth is True
    assert "s3cret" not in repr(s)  # a logged Settings does not show the password
    assert settings_from_env({}).allow_no_auth is False
    with pytest.raises(ConfigError, match="RAG_ALLOW_NO_AUTH='maybe' is not a valid bool"):
        settings_from_env({"RAG_ALLOW_NO_AUTH": "maybe"})


@pytest.mark.slow
@pytest.mark.filterwarnings(
    "ignore:.*no_silent_downcasting", "ignore:The copy keyword is deprecated"
)
def test_launch_ingests_an_empty_store_and_serves_with_auth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import httpx
    from gradio_client import Client

    from tests.conftest import free_port

    corpus = tmp_path / "corpus"
    _write(corpus, "kestrel.md", KESTREL)
    _write(corpus, "qingniao.md", QINGNIAO)
    qa = QA.open(tmp_path / "store", embeddings="fake")
    monkeypatch.setenv("RAG_AUTH", "ann:pw")
    port = free_port()
    app = web.launch(port=port, corpus=corpus, qa=qa, block=False)
    try:
        out = capsys.readouterr().out
        assert "the store is empty: ingesting" in out
        assert re.search(r"\[1/2\] .*kestrel\.md", out) and re.search(
            r"\[2/2\] .*qingniao\.md", out
        )
        assert "2 added" in out and f"serving on http://127.0.0.1:{port} (basic auth on)" in out
        url = f"http://127.0.0.1:{port}/"
        assert httpx.get(url + "config", timeout=10).status_code == 401
        client = Client(url, auth=("ann", "pw"), verbose=False)
        result = client.predict(
            "青鸟9号的显存容量是多少?", None, "", "", 5, "offline", api_name="/respond"
        )
        msgs, panel = result[0], result[1]
        assert "48GB" in str(msgs[-1]["content"]) and "<mark>" in panel
    finally:
        app.close()
