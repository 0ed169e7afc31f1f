"""The Gradio web chat: streamed answers with clickable citations, and corpus management.

``launch()`` is what ``rag chat`` runs; ``build_app(qa)`` returns the ``gr.Blocks`` for
embedding or testing. The event handlers are plain module functions taking a ``QA`` first,
so tests call them without a browser.

Safety: every string that comes from a document, an upload or the user (titles, article
text, quotes, file names, questions) goes through ``html.escape`` before it is put into
HTML. Gradio's own sanitizer is a second layer, not the one relied on.

The page's stylesheets and click handler are files, ``rag/static/chat.css``, ``spec.css``
(the Spec sheet tab's) and ``chat.js``, which ``launch`` hands to Gradio (``css_paths=``, ``js=``; see ``page_assets``). ``build_app``
builds one function per tab (``_chat_tab``, ``_corpus_tab``; the Spec sheet tab is
``rag.web_specsheet``) and wires their events in ``_wire_chat`` / ``_wire_corpus``.

Why the chat tab is a ``gr.Chatbot`` in ``gr.Blocks``, not ``gr.ChatInterface`` (tried on
Gradio 6.31 with this page's HTML answers and a sources output): ChatInterface hands the chat
function the *displayed* history, here the rendered HTML (citation links, badges, the
"answered by" line), while follow-up resolution and the LLM need each earlier answer's plain
text; it keeps the user's raw text as the user message, which this page shows escaped; the
sources panel keeps every earlier turn's cited passages (folded), which are in no chat
message; and its API endpoint takes only the message and the options, no conversation, where
``/respond`` (used by the load tests) takes the turns. So a ``gr.State`` of turns (question,
plain answer, message HTML, sources HTML) stays, and with it the handler ``chat``:
ChatInterface would add a second history beside it, not replace it.

This module does not answer, retrieve or store anything itself: it calls ``QA``.
"""

from __future__ import annotations

import html
import ipaddress
import os
import re
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.dedup import also_reported
from rag.errors import ConfigError, RagError, missing_extra
from rag.types import Answer, Citation, Final, IngestReport, TextDelta

if TYPE_CHECKING:
    import gradio as gr

    from rag.qa import QA

MAX_UPLOAD_MB = 5
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
UPLOAD_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf", ".docx")
CONTEXT_CHARS = 200
MAX_K = 10


def _examples() -> dict[str, Any]:
    """The example questions and placeholder of ``rag/data/examples.yaml``."""
    from rag import datafiles

    return datafiles.load_yaml("examples.yaml")


_MARKER = re.compile(r"\[(\d{1,3})\]")
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")

# A chat "turn" is kept in gr.State as a plain dict:
#   {"question": str, "answer": str (plain text, for the history), "message": str (HTML for the
#    chatbot), "sources": str (HTML for the sources panel), "abstained": bool}
Turn = dict[str, Any]


def gradio_module() -> Any:
    try:
        import gradio
    except ImportError as e:  # pragma: no cover - exercised only without the extra
        raise missing_extra("gradio", "web") from e
    return gradio


def esc(value: object) -> str:
    """``html.escape`` for anything (None becomes empty)."""
    return html.escape("" if value is None else str(value), quote=True)


def _safe_url(url: str | None) -> str | None:
    if url and re.match(r"^https?://[^\s\"'<>]+$", url.strip(), re.IGNORECASE):
        return url.strip()
    return None


# -- rendering --------------------------------------------------------------------------------
def _text_html(text: str) -> str:
    """Escaped text with line breaks kept (as <br>: the chat message stays one HTML block)."""
    return "<br>".join(esc(line) for line in text.split("\n"))


def render_answer_meta(answer: Answer) -> str:
    """Which model answered, and the statements the verifier removed (folded, to open)."""
    zh = _is_zh(answer.question)
    if answer.answerer == "llm" or answer.model:
        who = answer.model or "LLM"
        label = f"回答模型：{who}" if zh else f"answered by {who}"
        if answer.answerer != "llm":
            label += "（改用离线回答）" if zh else " (replaced by the offline answer)"
    else:
        label = "离线回答（未使用LLM）" if zh else "offline answer (no LLM)"
    out = f'<div class="rag-meta"><span class="rag-model">{esc(label)}</span>'
    n = len(answer.removed)
    if n:
        summary = (
            f"已删除{n}条陈述：资料不支持"
            if zh
            else f"{n} statement{'s' if n > 1 else ''} removed: not supported by the sources"
        )
        items = "".join(f"<li>{esc(t)}</li>" for t in answer.removed)
        out += (
            f'<details class="rag-removed"><summary>{summary}</summary><ul>{items}</ul></details>'
        )
    return out + "</div>"


def render_answer(answer: Answer, turn: int) -> str:
    """The chat message for a finished answer: escaped text, ``[n]`` linked to its source."""
    if answer.abstained:
        return (
            '<div class="rag-answer rag-abstain"><span class="rag-badge">'
            + ("资料中无答案" if _is_zh(answer.question) else "no answer in corpus")
            + "</span>"
            + _text_html(answer.text)
            + render_answer_meta(answer)
            + "</div>"
        )
    numbers = {c.n: c for c in answer.citations}
    out: list[str] = []
    pos = 0
    for m in _MARKER.finditer(answer.text):
        out.append(_text_html(answer.text[pos : m.start()]))
        n = int(m.group(1))
        c = numbers.get(n)
        if c is None:
            out.append(esc(m.group(0)))
        else:
            sid = source_id(turn, n)
            out.append(
                f'<a class="rag-cite" href="#{sid}" data-src="{sid}" title="{esc(c.title)}">[{n}]</a>'
            )
        pos = m.end()
    out.append(_text_html(answer.text[pos:]))
    return f'<div class="rag-answer">{"".join(out)}{render_answer_meta(answer)}</div>'


def render_streaming(text: str) -> str:
    """The chat message while an answer is still arriving."""
    return f'<div class="rag-answer rag-streaming">{_text_html(text)}</div>'


def render_error(message: str) -> str:
    return f'<div class="rag-answer rag-error"><span class="rag-badge">error</span>{esc(message)}</div>'


def source_id(turn: int, n: int) -> str:
    return f"rag-src-{turn}-{n}"


def quote_context(doc_text: str, start: int, end: int, width: int = CONTEXT_CHARS) -> str:
    """``doc_text[start:end]`` in ``<mark>`` with ~``width`` characters around it, all escaped."""
    start = max(0, min(start, len(doc_text)))
    end = max(start, min(end, len(doc_text)))
    lo = max(0, start - width // 2)
    hi = min(len(doc_text), end + width // 2)
    before = ("…" if lo > 0 else "") + _squeeze(doc_text[lo:start])
    after = _squeeze(doc_text[end:hi]) + ("…" if hi < len(doc_text) else "")
    return f"{esc(before)}<mark>{esc(doc_text[start:end])}</mark>{esc(after)}"


def _squeeze(text: str) -> str:
    """Blank lines collapsed for display (offsets are not used after this)."""
    return re.sub(r"\n\s*\n+", "\n", text)


def render_citation(qa: QA, c: Citation, turn: int) -> str:
    """One source entry: number, title, date, source/URL and the quote marked in its context."""
    also = ""
    try:
        cited = qa.document(c.doc_id)
        text = cited.text
        ok = text[c.start : c.end] == c.quote
        also = also_reported(cited)
    except RagError:
        text, ok = "", False
    context = quote_context(text, c.start, c.end) if ok else f"<mark>{esc(c.quote)}</mark>"
    url = _safe_url(c.url)
    where = (
        f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{esc(c.source or url)}</a>'
        if url
        else esc(c.source)
    )
    page = f" · p. {c.page}" if c.page else ""
    also_html = f'<div class="rag-src-also">{esc(also)}</div>' if also else ""
    return (
        f'<li class="rag-src" id="{source_id(turn, c.n)}">'
        f'<div class="rag-src-head"><span class="rag-src-n">[{c.n}]</span>'
        f"<b>{esc(c.title)}</b></div>"
        f'<div class="rag-src-meta">{esc(c.date or "undated")}{page} · {where}</div>'
        f'<div class="rag-src-ctx">{context}</div>{also_html}</li>'
    )


def render_sources(qa: QA, answer: Answer, turn: int) -> str:
    """The sources block for one turn (citations, or what was searched when abstaining)."""
    head = f'<div class="rag-turn-q">{esc(answer.question)}</div>'
    if answer.abstained:
        seen: dict[str, str] = {}
        for p in answer.passages:
            seen.setdefault(p.doc_id, f"{p.title} ({p.date or 'undated'})")
        closest = "".join(f"<li>{esc(t)}</li>" for t in list(seen.values())[:5])
        more = f"<div>Closest documents searched:</div><ul>{closest}</ul>" if closest else ""
        return (
            head + '<div class="rag-abstain"><span class="rag-badge">no answer in corpus</span>'
            "Nothing cited: the sources do not answer this question." + more + "</div>"
        )
    items = "".join(render_citation(qa, c, turn) for c in answer.citations)
    return head + f"<ol>{items}</ol>"


def sources_panel(turns: list[Turn]) -> str:
    """The whole sources panel: the latest turn open, earlier ones folded."""
    if not turns:
        return (
            '<div class="rag-sources-panel"><h3>Sources</h3><div class="rag-empty">'
            "Ask a question: the passages an answer cites appear here, the quote highlighted."
            "</div></div>"
        )
    parts = ['<div class="rag-sources-panel"><h3>Sources</h3>', turns[-1]["sources"]]
    for i in range(len(turns) - 2, -1, -1):
        t = turns[i]
        parts.append(
            f'<details class="rag-older"><summary>Earlier: {esc(t["question"][:80])}</summary>'
            f"{t['sources']}</details>"
        )
    parts.append("</div>")
    return "".join(parts)


def chat_messages(turns: list[Turn], pending: Turn | None = None) -> list[dict[str, str]]:
    """The Chatbot value (messages format) built from the turns."""
    msgs: list[dict[str, str]] = []
    for t in [*turns, *([pending] if pending else [])]:
        msgs.append(
            {"role": "user", "content": f'<div class="rag-q">{_text_html(t["question"])}</div>'}
        )
        msgs.append({"role": "assistant", "content": t["message"]})
    return msgs


def _is_zh(text: str) -> bool:
    from rag.lang import is_chinese

    return is_chinese(text)


# -- handlers -----------------------------------------------------------------------------------
def parse_date(value: str | None, label: str) -> str | None:
    """'' -> None; ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` kept; anything else is an error."""
    v = (value or "").strip()
    if not v:
        return None
    if not _DATE.match(v):
        raise ConfigError(f"{label} must be YYYY, YYYY-MM or YYYY-MM-DD, not {v!r}")
    return v


def chat(
    qa: QA,
    question: str,
    turns: list[Turn] | None,
    vendors: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    k: float | None = None,
    answerer: str | None = None,
) -> Iterator[tuple[list[dict[str, str]], str, list[Turn]]]:
    """The chat handler: yields (chatbot messages, sources panel HTML, turns) as the answer streams."""
    turns = list(turns or [])
    question = (question or "").strip()
    if not question:
        yield chat_messages(turns), sources_panel(turns), turns
        return
    number = len(turns) + 1
    pending: Turn = {
        "question": question,
        "answer": "",
        "message": render_streaming(""),
        "sources": "",
        "abstained": False,
    }
    yield chat_messages(turns, pending), sources_panel(turns), turns
    history: list[dict[str, str]] = []
    for t in turns:
        history += [
            {"role": "user", "content": t["question"]},
            {"role": "assistant", "content": t["answer"]},
        ]
    final: Answer | None = None
    text = ""
    try:
        opts: dict[str, Any] = {
            "k": int(k) if k else None,
            "vendors": list(vendors) if vendors else None,
            "since": parse_date(since, "since"),
            "until": parse_date(until, "until"),
            "answerer": answerer or None,
        }
        for event in qa.stream(question, history, **opts):
            match event:
                case TextDelta(piece):
                    text += piece
                    pending["message"] = render_streaming(text)
                    yield chat_messages(turns, pending), sources_panel(turns), turns
                case Final(answer):
                    final = answer
    except RagError as e:
        pending.update(message=render_error(str(e)), answer=f"(error: {e})")
    except Exception as e:  # keep the app alive; the terminal gets the traceback
        traceback.print_exc()
        pending.update(
            message=render_error(f"internal error: {type(e).__name__}: {e}"), answer="(error)"
        )
    if final is not None:
        pending.update(
            answer=final.text,
            message=render_answer(final, number),
            sources=render_sources(qa, final, number),
            abstained=final.abstained,
        )
    turns.append(pending)
    yield chat_messages(turns), sources_panel(turns), turns


def check_upload(name: str, size: int) -> str | None:
    """Why an upload is refused, in one line, or None when it is acceptable."""
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        return f"{name}: unsupported file type {suffix or '(none)'}: upload .txt, .md, .html, .pdf or .docx"
    if size == 0:
        return f"{name}: the file is empty"
    if size > MAX_UPLOAD_BYTES:
        return f"{name}: {size / 1024 / 1024:.1f} MB is over the {MAX_UPLOAD_MB} MB limit"
    return None


def _upload_name(path: str) -> str:
    """The name the user gave the file (Gradio keeps it as the temp file's base name)."""
    return os.path.basename(str(path))


def _ingest_upload_counted(
    qa: QA, name: str, data: bytes, progress: Any = None
) -> Iterator[str | IngestReport]:
    """Ingest one upload in a thread; yield a chunk-progress line every half second, then
    the report (``gr.Progress``, when given, shows the same chunks)."""
    import threading

    from rag.progress import ChunkMeter

    meter = ChunkMeter()
    result: list[Any] = []

    def run() -> None:
        try:
            result.append(qa.ingest_bytes(name, data, on_chunks=meter))
        except BaseException as e:  # handed to the generator, raised there
            result.append(e)

    worker = threading.Thread(target=run, name="upload-ingest", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.5)
        if meter.total:
            if progress is not None:
                progress((meter.done, meter.total), desc=meter.line(), unit="chunks")
            yield meter.line()
    if isinstance(result[0], BaseException):
        raise result[0]
    yield result[0]


def upload(qa: QA, files: list[Any] | Any | None, progress: Any = None) -> Iterator[str]:
    """The upload handler: yields the status HTML, one line per file, then the summary.

    While a file is embedded, its line counts chunks embedded with a rate and an ETA;
    ``progress`` (a ``gr.Progress``) shows the same.
    """
    if not files:
        yield '<div class="rag-status">Choose .txt, .md, .html, .pdf or .docx files to add.</div>'
        return
    if not isinstance(files, list):
        files = [files]
    paths = [str(getattr(f, "name", f)) for f in files]
    lines: list[str] = []
    added = 0

    def status(extra: str = "") -> str:
        return (
            '<div class="rag-status">' + "<br>".join(lines + ([extra] if extra else [])) + "</div>"
        )

    for i, path in enumerate(paths, 1):
        name = _upload_name(path)
        yield status(f"ingesting {i}/{len(paths)}: {esc(name)} …")
        try:
            size = os.path.getsize(path)
        except OSError as e:
            lines.append(
                f'<span class="rag-fail">{esc(name)}: cannot read the upload: {esc(e)}</span>'
            )
            continue
        problem = check_upload(name, size)
        if problem:
            lines.append(f'<span class="rag-fail">{esc(problem)}</span>')
            continue
        try:
            data = Path(path).read_bytes()
            for step in _ingest_upload_counted(qa, name, data, progress):
                if isinstance(step, str):
                    yield status(f"embedding {i}/{len(paths)}: {esc(name)}: {esc(step)}")
                else:
                    report = step
        except RagError as e:
            lines.append(f'<span class="rag-fail">{esc(name)}: {esc(e)}</span>')
            continue
        for f in report.failures:
            lines.append(f'<span class="rag-fail">{esc(name)}: {esc(f.message)}</span>')
        if not report.failures:
            outcome = report.files[0] if report.files else None
            detail = f" ({outcome.chunks} chunks)" if outcome and outcome.chunks else ""
            if outcome and outcome.status == "duplicate":
                detail = f" ({outcome.message})"
            lines.append(
                f'<span class="rag-ok">{esc(name)}: {esc(outcome.status if outcome else "done")}'
                f"{esc(detail)}</span>"
            )
            added += report.added + report.updated
    lines.append(f"{added} of {len(paths)} file(s) added.")
    yield status()


def delete(qa: QA, doc_id: str | None) -> str:
    """The delete handler: removes one document, returns the status HTML."""
    if not doc_id:
        return '<div class="rag-status">Choose a document to delete.</div>'
    try:
        title = qa.document(doc_id).title
        qa.remove(doc_id)
    except RagError as e:
        return f'<div class="rag-status"><span class="rag-fail">{esc(e)}</span></div>'
    return f'<div class="rag-status"><span class="rag-ok">deleted “{esc(title)}” ({esc(doc_id)})</span></div>'


DOC_HEADERS = ["Title", "Date", "Lang", "Vendors", "Chunks", "ID"]


def documents_table(qa: QA) -> list[list[Any]]:
    """Rows for the Corpus tab (plain text cells: the table renders them as text)."""
    return [
        [d.title, d.date or "", d.lang, ", ".join(d.vendors), d.n_chunks, d.doc_id]
        for d in qa.store.documents(with_text=False)
    ]


def document_choices(qa: QA) -> list[tuple[str, str]]:
    return [
        (f"{d.title[:70]} · {d.date or 'undated'} · {d.doc_id}", d.doc_id)
        for d in qa.store.documents(with_text=False)
    ]


def vendor_choices(qa: QA) -> list[str]:
    names: set[str] = set()
    for d in qa.store.documents(with_text=False):
        names.update(v for v in d.vendors if v)
    return sorted(names, key=str.lower)


def header_markdown(qa: QA) -> str:
    n = len(qa.store.documents(with_text=False))
    who = qa.answerer_name()
    llm = (
        f"LLM configured: {qa.settings.llm_model or 'the server default model'}"
        if qa.settings.llm_configured
        else "no LLM configured (offline answers)"
    )
    return f"## Chip news Q&A\n{n} documents in the store · answerer: **{who}** · {llm}"


# -- app ----------------------------------------------------------------------------------------
STATIC = Path(__file__).resolve().parent / "static"


def page_assets() -> dict[str, Any]:
    """The page's stylesheet and script (``rag/static``), as ``Blocks.launch`` keywords.

    ``launch()`` passes them; an app from ``build_app`` served another way wants
    ``app.launch(**page_assets())`` for the citation colours and the ``[n]`` click handler.
    """
    return {
        "css_paths": [STATIC / "chat.css", STATIC / "spec.css"],  # spec.css: rag.web_specsheet
        "js": (STATIC / "chat.js").read_text("utf-8"),
    }


@dataclass
class _ChatTab:
    """The chat tab's components that events read or write."""

    chatbot: Any
    question: Any
    send: Any
    clear: Any
    sources: Any
    controls: list[Any]  # vendors, since, until, k, answerer: chat()'s options, in order


@dataclass
class _CorpusTab:
    """The corpus tab's components that events read or write."""

    files: Any
    upload_status: Any
    doc_pick: Any
    delete_btn: Any
    delete_status: Any
    table: Any
    pulled: Any  # the feeds panel's last event: the page refreshes after it


def _chat_tab(gr: Any, qa: QA) -> _ChatTab:
    """The Chat tab: the answers, the question box and the sources panel, then the options."""
    with gr.Tab("Chat", id="chat"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Answers",
                    elem_id="rag-chat",
                    height=520,
                    sanitize_html=True,
                    render_markdown=True,
                    latex_delimiters=[],
                    feedback_options=None,
                    examples=[{"text": q} for q in _examples()["examples"]],
                    placeholder="Ask about chips, vendors, memory, launches… in Chinese or English.",
                )
                with gr.Row():
                    question = gr.Textbox(
                        show_label=False,
                        placeholder=str(_examples()["placeholder"]),
                        elem_id="rag-question",
                        scale=5,
                        max_length=2000,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="rag-send")
                clear = gr.Button("New conversation", size="sm", elem_id="rag-clear")
            with gr.Column(scale=2):
                sources = gr.HTML(
                    sources_panel([]), elem_id="rag-sources", js_on_load=None, max_height=640
                )
        controls = _search_options(gr, qa)
    return _ChatTab(chatbot, question, send, clear, sources, controls)


def _search_options(gr: Any, qa: QA) -> list[Any]:
    """The folded search options under the chat: vendors, dates, top-k and the answerer."""
    llm_ok = qa.has_llm
    with gr.Accordion("Search options", open=False):
        with gr.Row():
            vendors = gr.Dropdown(
                choices=vendor_choices(qa),
                multiselect=True,
                label="Vendors",
                info="only documents about these",
                elem_id="rag-vendors",
                scale=2,
            )
            since = gr.Textbox(label="Since", placeholder="YYYY-MM-DD", elem_id="rag-since")
            until = gr.Textbox(label="Until", placeholder="YYYY-MM-DD", elem_id="rag-until")
        with gr.Row():
            k = gr.Slider(
                1, MAX_K, value=qa.settings.k, step=1, label="Passages (top-k)", elem_id="rag-k"
            )
            answerer = gr.Radio(
                ["offline", "llm"],
                value=qa.answerer_name() if llm_ok else "offline",
                label="Answerer",
                interactive=llm_ok,
                info=(
                    "offline: extractive quotes; llm: the configured model"
                    if llm_ok
                    else "LLM not configured: set RAG_LLM_BASE_URL (and RAG_LLM_MODEL) to enable it"
                ),
                elem_id="rag-answerer",
            )
    return [vendors, since, until, k, answerer]


def _corpus_tab(gr: Any, qa: QA) -> _CorpusTab:
    """The Corpus tab: uploads, deletion, the documents table and the feeds panel."""
    from rag.feeds import feeds_panel

    with gr.Tab("Corpus", id="corpus"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=2):
                files = gr.File(
                    label=f"Add articles (.txt, .md, .html, .pdf, .docx; up to {MAX_UPLOAD_MB} MB each)",
                    file_count="multiple",
                    file_types=list(UPLOAD_SUFFIXES),
                    type="filepath",
                    elem_id="rag-upload",
                )
                upload_status = gr.HTML("", elem_id="rag-upload-status")
            with gr.Column(scale=1):
                doc_pick = gr.Dropdown(
                    choices=document_choices(qa),
                    label="Document to delete",
                    elem_id="rag-delete-pick",
                )
                delete_btn = gr.Button("Delete document", variant="stop", elem_id="rag-delete")
                delete_status = gr.HTML("", elem_id="rag-delete-status")
        table = gr.Dataframe(
            value=documents_table(qa),
            headers=DOC_HEADERS,
            datatype=["str", "str", "str", "str", "number", "str"],
            column_widths=["42%", "11%", "6%", "25%", "7%", "9%"],
            interactive=False,
            wrap=True,
            type="array",
            elem_id="rag-docs",
            label="Documents",
        )
        pulled = feeds_panel(qa)
    return _CorpusTab(files, upload_status, doc_pick, delete_btn, delete_status, table, pulled)


# the page's own events are private, except one /respond (its streamed HTML, for load
# tests); programs use the named JSON endpoints of rag.web_api (/ask ...)
_PRIVATE: dict[str, Any] = {"api_visibility": "private"}


def _wire_chat(gr: Any, qa: QA, tab: _ChatTab, turns: Any) -> None:
    """The chat tab's events: ask (button, Enter, an example), and start over."""

    def respond(q: str, ts: list[Turn], vs: Any, s: str, u: str, kk: float, a: str) -> Any:
        for msgs, panel, new_turns in chat(qa, q, ts, vs, s, u, kk, a):
            yield msgs, panel, new_turns, ""

    def pick_example(evt: Any) -> str:
        v = evt.value
        return str(v.get("text", "") if isinstance(v, dict) else v)

    # the annotation must be the real class (postponed annotations are strings here)
    pick_example.__annotations__["evt"] = gr.SelectData

    def reset() -> Any:
        return [], sources_panel([]), []

    outs = [tab.chatbot, tab.sources, turns, tab.question]
    ins = [tab.question, turns, *tab.controls]
    tab.send.click(  # first, so that it, not a private twin, gets the name /respond
        respond,
        ins,
        outs,
        api_name="respond",
        api_description="The page's chat handler (streamed HTML); programs want /ask.",
    )
    tab.question.submit(respond, ins, outs, **_PRIVATE)
    tab.chatbot.example_select(pick_example, None, tab.question, **_PRIVATE).then(
        respond, ins, outs, **_PRIVATE
    )
    tab.clear.click(reset, None, [tab.chatbot, tab.sources, turns], **_PRIVATE)
    tab.chatbot.clear(reset, None, [tab.chatbot, tab.sources, turns], **_PRIVATE)


def _wire_corpus(gr: Any, qa: QA, app: Any, tab: _CorpusTab, refreshed: list[Any]) -> None:
    """The corpus tab's events; each change (and each new page) refreshes ``refreshed``:
    the documents table, the delete choices, the vendor filter and the header."""

    def refresh() -> Any:
        return (
            documents_table(qa),
            gr.update(choices=document_choices(qa), value=None),
            gr.update(choices=vendor_choices(qa)),
            header_markdown(qa),
        )

    def do_upload(fs: Any, progress: Any = gr.Progress()) -> Any:  # noqa: B008
        yield from upload(qa, fs, progress)

    app.load(refresh, None, refreshed, **_PRIVATE)  # each new page sees the store as it is now
    tab.files.upload(do_upload, tab.files, tab.upload_status, **_PRIVATE).then(
        refresh, None, refreshed, **_PRIVATE
    )
    tab.pulled.then(refresh, None, refreshed, **_PRIVATE)
    tab.delete_btn.click(lambda d: delete(qa, d), tab.doc_pick, tab.delete_status, **_PRIVATE).then(
        refresh, None, refreshed, **_PRIVATE
    )


def build_app(qa: QA, notice: str | None = None) -> gr.Blocks:
    """The Gradio app over ``qa``. ``notice`` (e.g. a start-up ingest summary) is shown on top.

    Its stylesheet and script are launch options: serve it with ``app.launch(**page_assets())``
    (``launch()`` does).
    """
    gr = gradio_module()
    from rag.web_api import add_api
    from rag.web_specsheet import build_spec_tab

    with gr.Blocks(title="Chip news Q&A", analytics_enabled=False) as app:
        header = gr.Markdown(header_markdown(qa), elem_id="rag-header")
        if notice:
            gr.Markdown(notice, elem_id="rag-notice")
        turns = gr.State([])
        chat_tab = _chat_tab(gr, qa)
        corpus_tab = _corpus_tab(gr, qa)
        build_spec_tab(qa)
        _wire_chat(gr, qa, chat_tab, turns)
        vendors = chat_tab.controls[0]
        refreshed = [corpus_tab.table, corpus_tab.doc_pick, vendors, header]
        _wire_corpus(gr, qa, app, corpus_tab, refreshed)
        add_api(qa)
    return app


# -- launch -------------------------------------------------------------------------------------
def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``RAG_AUTH=user:password`` -> ``(user, password)``."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ConfigError("RAG_AUTH must look like user:password")
    return user, password


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _ingest_if_empty(qa: QA, corpus: str | Path) -> str | None:
    """An empty store ingests ``corpus`` first (as ``rag chat`` does on first run); the
    notice for the page, or None when the store had documents."""
    if qa.store.documents(with_text=False):
        return None
    corpus_path = Path(corpus)
    if corpus_path.exists():
        print(f"the store is empty: ingesting {corpus_path} first", flush=True)

        def progress(n: int, total: int, path: str) -> None:
            print(f"  [{n + 1}/{total}] {path}", flush=True)

        report = qa.ingest([corpus_path], progress=progress)
        for f in report.failures:
            print(f"  failed: {f.path}: {f.message}", file=sys.stderr)
        print(f"ingested {corpus_path}: {report.summary()}", flush=True)
        notice = f"The store was empty, so `{esc(corpus_path)}` was ingested first: {esc(report.summary())}."
        if report.failures:
            notice += " Failed: " + "; ".join(
                f"{esc(Path(f.path).name)} ({esc(f.message)})" for f in report.failures[:5]
            )
    else:
        print(
            f"the store is empty and {corpus_path} does not exist: add articles in the Corpus tab",
            file=sys.stderr,
        )
        notice = "The store is empty: add articles in the **Corpus** tab."
    return notice


def launch(
    data_dir: str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 7860,
    corpus: str | Path = "corpus",
    qa: QA | None = None,
    *,
    block: bool = True,
) -> Any:
    """Open the store (ingesting ``corpus`` when it is empty) and serve the chat.

    With ``block=False`` it returns the running ``gr.Blocks`` at once (``.local_url``,
    ``.close()``); otherwise it serves until interrupted.

    Binds ``127.0.0.1`` unless told otherwise. ``RAG_AUTH=user:password`` turns on basic auth;
    a non-loopback ``host`` without it is refused unless ``RAG_ALLOW_NO_AUTH=1``.
    """
    gradio_module()
    from rag.config import settings_from_env

    served = settings_from_env()  # read now: the serving rules, whoever opened ``qa``
    auth = parse_auth(served.auth)
    if not is_loopback(host) and auth is None:
        if not served.allow_no_auth:
            raise ConfigError(
                f"refusing to serve on {host} without a password: set RAG_AUTH=user:password "
                "(or RAG_ALLOW_NO_AUTH=1 to expose it anyway)"
            )
        print(
            f"warning: serving on {host} with no password: anyone who can reach it can "
            "upload and delete documents",
            file=sys.stderr,
        )
    if qa is None:
        from rag.qa import QA

        qa = QA.open(data_dir, serve=True)  # the store's owner: others connect to its server
        if qa.settings.chroma_url:
            print(f"store {qa.settings.data_dir} served at {qa.settings.chroma_url}", flush=True)
    notice = _ingest_if_empty(qa, corpus)
    app = build_app(qa, notice=notice)
    print(f"serving on http://{host}:{port}" + (" (basic auth on)" if auth else ""), flush=True)
    app.queue(default_concurrency_limit=4)
    app.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        auth_message="Chip news Q&A: log in with the RAG_AUTH user" if auth else None,
        max_file_size=MAX_UPLOAD_BYTES * 2,
        show_error=True,
        ssr_mode=False,
        mcp_server=False,
        quiet=True,
        prevent_thread_lock=not block,
        footer_links=["gradio"],
        **page_assets(),
    )
    return app
