"""The web app's named endpoints through ``gradio_client.Client`` against a real launched app
(issue 14, item 6): ``/ask`` (JSON citations with doc_id/start/end, optional filters),
``/documents``, ``/upload`` and ``/delete``, which refuse anything outside the upload and
the store and sit behind the page's basic auth."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client, handle_file
from langchain_core.embeddings import DeterministicFakeEmbedding

from rag import QA, web
from tests.conftest import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT / "corpus" / "articles"
PICK = ["b05_intel_gaudi3.md", "b03_amd_mi325x_launch.md"]
AUTH = ("ann", "pw")
NEW = """---
title: Kestrel K7 announced
date: 2025-06-01
source: Test Wire
---
The Kestrel K7 accelerator carries 48GB of HBM3 memory. It ships in the third quarter.
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("webapi")
    folder = root / "in"
    folder.mkdir()
    for name in PICK:
        (folder / name).write_bytes((ARTICLES / name).read_bytes())
    qa = QA.open(root / "store", embeddings=DeterministicFakeEmbedding(size=32))
    assert qa.ingest([folder]).added == 2
    mp = pytest.MonkeyPatch()
    mp.setenv("RAG_AUTH", ":".join(AUTH))
    port = free_port()
    running = web.launch(port=port, qa=qa, block=False)
    try:
        url = f"http://127.0.0.1:{port}/"
        yield {"url": url, "qa": qa, "root": root, "client": Client(url, auth=AUTH, verbose=False)}
    finally:
        running.close()
        mp.undo()


def test_view_api_shows_the_named_endpoints_only(app: dict[str, Any]) -> None:
    info = app["client"].view_api(return_format="dict", print_info=False)
    # /respond is the page's own streamed-HTML chat handler, kept for load tests
    assert set(info["named_endpoints"]) == {"/ask", "/documents", "/upload", "/delete", "/respond"}
    assert info["unnamed_endpoints"] == {}
    params = {p["parameter_name"]: p for p in info["named_endpoints"]["/ask"]["parameters"]}
    assert params["question"]["parameter_has_default"] is False
    for optional in ("vendors", "since", "until", "k", "history"):
        assert params[optional]["parameter_has_default"] is True, optional


def test_ask_returns_text_abstained_and_checkable_citations(app: dict[str, Any]) -> None:
    client, qa = app["client"], app["qa"]
    out = client.predict("How much HBM memory does Gaudi 3 have?", api_name="/ask")
    assert set(out) >= {"answer", "abstained", "citations"}
    assert out["abstained"] is False and "128GB" in out["answer"]
    assert out["citations"]
    for c in out["citations"]:
        assert qa.document(c["doc_id"]).text[c["start"] : c["end"]] == c["quote"]
    filtered = client.predict("HBM memory", vendors=["AMD"], since="2024-01", k=3, api_name="/ask")
    assert {c["doc_id"] for c in filtered["citations"]} <= {
        d.doc_id for d in qa.documents() if "AMD" in d.vendors
    }
    none = client.predict("HBM memory", since="2030", api_name="/ask")
    assert none["abstained"] is True and none["citations"] == []


def test_ask_follows_up_with_history(app: dict[str, Any]) -> None:
    client = app["client"]
    q = "How much HBM memory does Gaudi 3 have?"
    first = client.predict(q, api_name="/ask")
    history = [{"role": "user", "content": q}, {"role": "assistant", "content": first["answer"]}]
    out = client.predict("and its bandwidth?", history=history, api_name="/ask")
    assert "Gaudi" in (out["resolved_question"] or "") and "3.7TB/s" in out["answer"]


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [({"since": "yesterday"}, "since must be"), ({"k": 99}, "k must be"), ({}, "")],
)
def test_ask_refuses_bad_filters(app: dict[str, Any], kwargs: dict[str, Any], says: str) -> None:
    from gradio_client.exceptions import AppError

    if not kwargs:  # an empty question
        with pytest.raises(AppError, match="question is empty"):
            app["client"].predict("  ", api_name="/ask")
        return
    with pytest.raises(AppError, match=says):
        app["client"].predict("HBM", api_name="/ask", **kwargs)


def test_documents_upload_and_delete(app: dict[str, Any], tmp_path: Path) -> None:
    from gradio_client.exceptions import AppError

    client, qa = app["client"], app["qa"]
    before = client.predict(api_name="/documents")
    assert {d["doc_id"] for d in before} == {d.doc_id for d in qa.documents()}
    assert all("text" not in d for d in before)
    new = tmp_path / "kestrel.md"
    new.write_text(NEW, encoding="utf-8")
    bad = tmp_path / "notes.xlsx"  # a type the page does not accept (PDFs it does)
    bad.write_bytes(b"PK\x03\x04")
    broken = tmp_path / "broken.pdf"  # accepted, but no readable PDF: fails in one line
    broken.write_bytes(b"%PDF-1.4")
    files = [handle_file(str(p)) for p in (new, bad, broken)]
    out = client.predict(files, api_name="/upload")
    status = {f["file"]: f["status"] for f in out["files"]}
    assert status == {"kestrel.md": "added", "notes.xlsx": "refused", "broken.pdf": "failed"}
    assert out["added"] == 1
    ans = client.predict("How much memory does the Kestrel K7 carry?", api_name="/ask")
    assert "48GB" in ans["answer"]
    doc_id = next(f["doc_id"] for f in out["files"] if f["status"] == "added")
    for target in (str(ARTICLES / PICK[0]), "../../etc/passwd", "ffffffffffffffff"):
        with pytest.raises(AppError):
            client.predict(target, api_name="/delete")
    assert len(client.predict(api_name="/documents")) == len(before) + 1
    assert client.predict(doc_id, api_name="/delete")["deleted"] == doc_id
    assert {d["doc_id"] for d in client.predict(api_name="/documents")} == {
        d["doc_id"] for d in before
    }


def test_upload_refuses_a_server_path(app: dict[str, Any], tmp_path: Path) -> None:
    """A client naming a file on the server (not one it uploaded) ingests nothing."""
    secret = tmp_path / "server-only.md"
    secret.write_text(NEW.replace("Kestrel", "Osprey"), encoding="utf-8")
    n = len(app["qa"].documents())
    with httpx.Client(base_url=app["url"], timeout=60) as http:
        login = http.post("login", data={"username": AUTH[0], "password": AUTH[1]})
        assert login.status_code == 200, login.text
        payload = {"data": [[{"path": str(secret), "meta": {"_type": "gradio.FileData"}}]]}
        r = http.post("gradio_api/call/upload", json=payload)
        assert r.status_code == 200, r.text
        body = http.get(f"gradio_api/call/upload/{r.json()['event_id']}").text
        # Gradio refuses to move it into its cache; rag.web_api would refuse it next
        assert "not uploaded by a user" in body or "refused" in body, body
    assert len(app["qa"].documents()) == n
    assert all("Osprey" not in d.title for d in app["qa"].documents())


def test_every_endpoint_needs_the_page_auth(app: dict[str, Any]) -> None:
    url = app["url"]
    assert httpx.get(url + "config", timeout=10).status_code == 401
    with httpx.Client(base_url=url, timeout=30) as anon:
        for name in ("ask", "documents", "upload", "delete"):
            r = anon.post(f"gradio_api/call/{name}", json={"data": ["x"]})
            assert r.status_code == 401, (name, r.status_code)
    with pytest.raises(Exception):  # noqa: B017 - gradio_client raises its own error type
        Client(url, verbose=False)
    wrong = ("ann", "nope")
    with pytest.raises(Exception):  # noqa: B017
        Client(url, auth=wrong, verbose=False)


def test_upload_handler_refuses_paths_outside_the_upload_folder(tmp_path: Path) -> None:
    """The second layer under Gradio's own check: rag.web_api.upload itself."""
    from rag.web_api import upload

    qa = QA.open(tmp_path / "store", embeddings=DeterministicFakeEmbedding(size=8))
    inside = tmp_path / "uploads" / "a.md"
    inside.parent.mkdir()
    inside.write_text(NEW, encoding="utf-8")
    outside = tmp_path / "elsewhere.md"
    outside.write_text(NEW.replace("Kestrel", "Osprey"), encoding="utf-8")
    link = inside.parent / "link.md"
    link.symlink_to(outside)
    out = upload(qa, [str(outside), str(link), str(inside)], tmp_path / "uploads")
    assert [f["status"] for f in out["files"]] == ["refused", "refused", "added"]
    assert [d.title for d in qa.documents()] == ["Kestrel K7 announced"]
