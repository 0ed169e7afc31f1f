"""Chroma server mode against a real ``chroma run`` server: ingest, ask, delete; a stopped
server gives a one-line error that names it; the same QA object recovers once it is back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag import QA, RagError
from rag.errors import StoreError
from rag.loaders import content_id

pytestmark = [pytest.mark.server, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
A = "---\ntitle: 寒武纪半年报\ndate: 2025-08-26\n---\n寒武纪2025年上半年营收28.81亿元，同比增长4347.82%。\n"
B = "---\ntitle: Gaudi 3\ndate: 2024-04-09\n---\nIntel Gaudi 3 has 128GB of HBM2e memory and 3.7TB/s of bandwidth.\n"


def files(tmp_path: Path) -> list[Path]:
    out = []
    for name, text in (("a.md", A), ("b.md", B)):
        p = tmp_path / "in" / name
        p.parent.mkdir(exist_ok=True)
        p.write_text(text, encoding="utf-8")
        out.append(p)
    return out


def assert_one_line_server_error(err: BaseException, url: str) -> None:
    assert isinstance(err, StoreError)
    msg = str(err)
    assert "\n" not in msg
    assert url in msg and "server" in msg.lower()
    assert "Traceback" not in msg


def test_ingest_ask_delete_against_a_real_server(chroma_server, tmp_path: Path) -> None:
    a, b = files(tmp_path)
    qa = QA.open(tmp_path / "app", chroma_url=chroma_server.url, embeddings="fake")
    assert qa.ingest([a, b]).added == 2
    assert not (tmp_path / "app" / "chroma").exists()  # vectors live on the server
    ans = qa.ask("寒武纪2025年上半年营收多少？")
    assert not ans.abstained and "28.81亿元" in ans.text
    assert ans.citations and ans.citations[0].doc_id == content_id(A.encode())
    # another app process (its own data dir) sees the same store and keyword index
    other = QA.open(tmp_path / "app2", chroma_url=chroma_server.url, embeddings="fake")
    assert {d.title for d in other.documents()} == {"寒武纪半年报", "Gaudi 3"}
    assert other.search("Gaudi HBM2e", k=1, mode="keyword").passages[0].title == "Gaudi 3"
    # delete
    assert qa.remove(content_id(B.encode())) == [content_id(B.encode())]
    assert [d.title for d in other.documents()] == ["寒武纪半年报"]
    got = other.store.chunks.get(where={"doc_id": content_id(B.encode())})
    assert got["ids"] == []
    assert other.ingest([a, b]).added == 1  # incremental against the server too


def test_stopped_server_gives_a_clear_error_and_the_same_qa_recovers(
    chroma_server, tmp_path: Path
) -> None:
    a, b = files(tmp_path)
    qa = QA.open(tmp_path / "app", chroma_url=chroma_server.url, embeddings="fake")
    qa.ingest([a])
    assert not qa.ask("寒武纪上半年营收多少？").abstained

    chroma_server.stop()
    with pytest.raises(RagError) as err:
        qa.ask("寒武纪上半年营收多少？")
    assert_one_line_server_error(err.value, chroma_server.url)
    with pytest.raises(RagError) as err:
        qa.ingest([b])
    assert_one_line_server_error(err.value, chroma_server.url)
    with pytest.raises(RagError) as err:
        qa.documents()
    assert_one_line_server_error(err.value, chroma_server.url)

    chroma_server.start()
    ans = qa.ask("寒武纪上半年营收多少？")
    assert not ans.abstained and "28.81亿元" in ans.text
    assert qa.ingest([a, b]).added == 1
    assert {d.title for d in qa.documents()} == {"寒武纪半年报", "Gaudi 3"}


def test_open_against_a_dead_server_fails_in_one_line(chroma_server, tmp_path: Path) -> None:
    url = chroma_server.url
    chroma_server.stop()
    with pytest.raises(StoreError) as err:
        QA.open(tmp_path / "app", chroma_url=url, embeddings="fake")
    assert_one_line_server_error(err.value, url)


def test_cli_against_a_dead_server_prints_one_error_line(chroma_server, tmp_path: Path) -> None:
    a, _b = files(tmp_path)
    env = {
        **os.environ,
        "RAG_CHROMA_URL": chroma_server.url,
        "RAG_EMBEDDINGS": "fake",
        "RAG_DATA_DIR": str(tmp_path / "app"),
    }
    run = [sys.executable, "-m", "rag"]
    ok = subprocess.run(
        [*run, "ingest", "--quiet", str(a)], env=env, capture_output=True, text=True, timeout=300
    )
    assert ok.returncode == 0, ok.stderr
    chroma_server.stop()
    for args in (["ask", "寒武纪营收"], ["docs"], ["ingest", "--quiet", str(a)]):
        out = subprocess.run([*run, *args], env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 1, (args, out.stdout, out.stderr)
        lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:"), out.stderr
        assert chroma_server.url in lines[0] and "Traceback" not in out.stderr
