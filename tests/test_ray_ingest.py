"""``rag ingest --ray``: a real local Ray cluster (head + 2 worker nodes) and a real Chroma server.

The cluster is ``benchmarks.ray_local.LocalRay`` (`ray start --block` processes in their
own process groups, small memory, no dashboard), stopped by ending those groups only; the Chroma server
is `chroma run` (``conftest.ChromaServer``). The same idempotence as a local ingest is
checked: unchanged files skipped, a changed file replaced, a killed run resumed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ChromaServer

from benchmarks.ray_local import LocalRay

pytestmark = [pytest.mark.slow, pytest.mark.server]
ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRay]:
    pytest.importorskip("ray")
    c = LocalRay(tmp_path_factory.mktemp("r"))
    try:
        c.start_cluster()
        yield c
    finally:
        c.stop()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ChromaServer]:
    s = ChromaServer(tmp_path / "chroma")
    s.start()
    try:
        yield s
    finally:
        s.stop()


def rag_ingest(args: list[str], url: str, cache: Path, **kw) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "RAG_CHROMA_URL": url,
        "RAG_CACHE_DIR": str(cache),
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [sys.executable, "-m", "rag", "ingest", *args, "--json", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        **kw,
    )


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build of the e5 graph, shared by the driver and the workers (same machine)."""
    folder = tmp_path_factory.mktemp("cache")
    os.environ["RAG_CACHE_DIR"] = str(folder)
    try:
        from rag.e5onnx import ensure_built

        ensure_built()
    finally:
        del os.environ["RAG_CACHE_DIR"]
    return folder


def statuses(proc: subprocess.CompletedProcess) -> dict[str, int]:
    import json

    assert proc.returncode == 0, proc.stderr[-2000:]
    files = json.loads(proc.stdout)["files"]
    out: dict[str, int] = {}
    for f in files:
        out[f["status"]] = out.get(f["status"], 0) + 1
    return out


def test_ray_ingest_is_incremental_and_matches_a_local_ingest(
    cluster, server, cache, tmp_path
) -> None:
    from rag import QA

    docs = tmp_path / "docs"
    shutil.copytree(CORPUS / "articles", docs)
    first = statuses(rag_ingest(["--ray", cluster.address, str(docs)], server.url, cache))
    n = len(list(docs.glob("*.md")))
    assert first == {"added": n}
    from rag.config import settings_from_env

    remote = QA(settings_from_env(chroma_url=server.url))
    assert len(remote.documents()) == n
    local = QA.open(tmp_path / "local")  # the same pipeline in one process
    local.ingest([docs])
    assert sorted((d.doc_id, d.n_chunks) for d in remote.documents()) == sorted(
        (d.doc_id, d.n_chunks) for d in local.documents()
    )
    question = "What memory does the H20 have?"
    assert [p.doc_id for p in remote.search(question, k=5).passages] == [
        p.doc_id for p in local.search(question, k=5).passages
    ]

    again = statuses(rag_ingest(["--ray", cluster.address, str(docs)], server.url, cache))
    assert again == {"unchanged": n}

    changed = sorted(docs.glob("*.md"))[0]
    changed.write_text(changed.read_text("utf-8") + "\n\nOne more paragraph of news.\n", "utf-8")
    shutil.copy(sorted(docs.glob("*.md"))[1], docs / "copy.md")
    third = statuses(rag_ingest(["--ray", cluster.address, str(docs)], server.url, cache))
    assert third == {"updated": 1, "unchanged": n - 1, "duplicate": 1}
    assert len(remote.documents()) == n


def test_killed_ray_ingest_resumes(cluster, server, cache, tmp_path) -> None:
    from rag.config import settings_from_env
    from rag.qa import QA

    docs = tmp_path / "docs"
    shutil.copytree(CORPUS / "articles", docs)
    n = len(list(docs.glob("*.md")))
    env = {
        **os.environ,
        "RAG_CHROMA_URL": server.url,
        "RAG_CACHE_DIR": str(cache),
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag", "ingest", "--ray", cluster.address, str(docs), "--quiet"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    remote = QA(settings_from_env(chroma_url=server.url))
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None:
        if len(remote.store.doc_meta()) >= 3:
            break
        time.sleep(0.5)
    proc.kill()  # mid-run: some documents are written, some not
    proc.wait()
    written = len(remote.store.doc_meta())
    assert written >= 3
    resumed = statuses(rag_ingest(["--ray", cluster.address, str(docs)], server.url, cache))
    assert resumed.get("unchanged", 0) >= written and sum(resumed.values()) == n
    assert len(remote.store.doc_meta()) == n
    chunks, _records = remote.store.counts()
    assert chunks == sum(int(m["n_chunks"]) for m in remote.store.doc_meta().values())


def test_ray_ingest_without_a_chroma_server_says_how(cluster, tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "RAG_CHROMA_URL"}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "rag",
            "--data-dir",
            str(tmp_path),
            "ingest",
            "--ray",
            cluster.address,
            str(CORPUS),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1
    assert (
        out.stderr.strip()
        .splitlines()[-1]
        .startswith("error: rag ingest --ray writes into a Chroma server")
    )
