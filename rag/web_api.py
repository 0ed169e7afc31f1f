"""Named, program-friendly endpoints of the web app: ``/ask``, ``/documents``, ``/upload``,
``/delete`` (for ``gradio_client.Client`` and plain HTTP clients).

The page's own events (streamed HTML for the chat) stay private or undocumented; these
return JSON: an answer's text, ``abstained`` and citations with ``doc_id``/``start``/``end``
(``quote == document.text[start:end]``). They sit behind the same basic auth as the page,
because Gradio's auth guards every route of the app.

Safety: ``/upload`` ingests only files that arrived with the request (they must lie in
Gradio's upload folder; a client naming a server path such as ``/etc/passwd`` is
refused) and only the types the page accepts; ``/delete`` takes only the id of a stored
document, never a path. Errors reach the client as ``gradio.Error`` with one line.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import RagError

if TYPE_CHECKING:
    from rag.qa import QA

_DOC_ID = re.compile(r"^[0-9a-f]{16}$")
_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
MAX_K = 10


def _error(message: str) -> Exception:
    import gradio as gr

    return gr.Error(message, print_exception=False)


def answer_json(answer: Any) -> dict[str, Any]:
    """An ``Answer`` as the ``/ask`` endpoint returns it."""
    return {
        "answer": answer.text,
        "abstained": bool(answer.abstained),
        "citations": [c.to_dict() for c in answer.citations],
        "resolved_question": answer.resolved_question,
        "answerer": answer.answerer,
    }


def ask(
    qa: QA,
    question: str,
    vendors: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    k: int | None = None,
    history: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Answer ``question`` (optionally filtered); returns text, abstained and citations."""
    if not isinstance(question, str) or not question.strip():
        raise _error("question is empty: send the question text")
    opts: dict[str, Any] = {"vendors": [v for v in (vendors or []) if v] or None}
    for name, value in (("since", since), ("until", until)):
        v = (value or "").strip()
        if v and not _DATE.match(v):
            raise _error(f"{name} must be YYYY, YYYY-MM or YYYY-MM-DD, not {v!r}")
        opts[name] = v or None
    if k not in (None, 0, ""):
        try:
            kk = int(k)
        except (TypeError, ValueError):
            raise _error(f"k must be a whole number from 1 to {MAX_K}, not {k!r}") from None
        if not 1 <= kk <= MAX_K or kk != k:
            raise _error(f"k must be a whole number from 1 to {MAX_K}, not {k!r}")
        opts["k"] = kk
    turns = [
        {"role": str(t.get("role", "user")), "content": str(t.get("content", ""))}
        for t in (history or [])
        if isinstance(t, dict)
    ]
    try:
        return answer_json(qa.ask(question, turns or None, **opts))
    except RagError as e:
        raise _error(str(e)) from None


def documents(qa: QA) -> list[dict[str, Any]]:
    """Every stored document's metadata (no text), newest first.

    The server-side file path is not sent (a file name is): it is the server's business, and
    Gradio clients take any ``path`` in a result for a file to download.
    """
    try:
        docs = qa.store.documents(with_text=False)
    except RagError as e:
        raise _error(str(e)) from None
    out = []
    for d in docs:
        row = d.to_dict(with_text=False)
        path = row.pop("path", None)
        row["file_name"] = os.path.basename(path) if path else None
        out.append(row)
    return out


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def upload(qa: QA, files: list[Any] | Any | None, upload_root: Path) -> dict[str, Any]:
    """Ingest files sent with the request; one outcome per file, nothing else is read."""
    from rag.web import check_upload

    if not files:
        raise _error("no file sent: attach .txt, .md or .html files")
    if not isinstance(files, list):
        files = [files]
    outcomes: list[dict[str, Any]] = []
    for f in files:
        path = Path(str(getattr(f, "path", None) or getattr(f, "name", None) or f))
        name = os.path.basename(str(path))  # the name the user gave it (Gradio keeps it)
        if not _inside(path, upload_root) or not path.is_file():
            outcomes.append({"file": name, "status": "refused", "message": "not an uploaded file"})
            continue
        problem = check_upload(name, os.path.getsize(path))
        if problem:
            outcomes.append({"file": name, "status": "refused", "message": problem})
            continue
        try:
            report = qa.ingest_bytes(name, path.read_bytes())
        except RagError as e:
            outcomes.append({"file": name, "status": "failed", "message": str(e)})
            continue
        for fo in report.files:
            outcomes.append(
                {"file": name, "status": fo.status, "doc_id": fo.doc_id, "message": fo.message}
            )
    added = sum(o["status"] in ("added", "updated") for o in outcomes)
    return {"added": added, "files": outcomes}


def delete(qa: QA, doc_id: str) -> dict[str, Any]:
    """Delete one stored document by id (paths and anything else are refused)."""
    doc_id = (doc_id or "").strip()
    if not _DOC_ID.match(doc_id):
        raise _error(f"not a document id: {doc_id[:40]!r} (16 hex digits, as /documents lists)")
    try:
        title = qa.document(doc_id).title
        qa.remove(doc_id)
    except RagError as e:
        raise _error(str(e)) from None
    return {"deleted": doc_id, "title": title}


def add_api(qa: QA) -> None:
    """Register the four endpoints on the ``gr.Blocks`` being built (call inside ``with``)."""
    import gradio as gr
    from gradio.utils import get_upload_folder

    upload_root = Path(get_upload_folder())

    def ask_endpoint(
        question: str,
        vendors: list[str] | None = None,
        since: str = "",
        until: str = "",
        k: int = 0,
        history: list[dict[str, str]] | None = None,
    ) -> dict[str, Any]:
        """Answer a question; returns {answer, abstained, citations:[{doc_id,start,end,quote,...}]}.

        ``history`` is the conversation so far, as [{"role": "user"|"assistant", "content"}].
        """
        return ask(qa, question, vendors, since, until, k or None, history)

    def documents_endpoint() -> list[dict[str, Any]]:
        """Every stored document (id, title, date, lang, vendors, n_chunks), newest first."""
        return documents(qa)

    def delete_endpoint(doc_id: str) -> dict[str, Any]:
        """Delete one stored document by its id."""
        return delete(qa, doc_id)

    def upload_endpoint(files: list[str] | None) -> dict[str, Any]:
        return upload(qa, files, upload_root)

    gr.api(ask_endpoint, api_name="ask", concurrency_limit=4)
    gr.api(documents_endpoint, api_name="documents")
    gr.api(delete_endpoint, api_name="delete")
    with gr.Row(visible=False):
        files_in = gr.File(file_count="multiple", type="filepath", label="files")
        result = gr.JSON(label="result")
        trigger = gr.Button("upload", visible=False)
    trigger.click(
        upload_endpoint,
        files_in,
        result,
        api_name="upload",
        api_description="Ingest .txt, .md or .html files; returns one outcome per file.",
    )


__all__ = ["add_api", "answer_json", "ask", "delete", "documents", "upload"]
