"""One owner per store (issue 14, item 1): ``rag.owner`` with real processes and real Chroma.

An owner process serves its data directory through a ``chroma run`` child; every other
``rag`` command finds it through ``owner.json`` and its lock, and a record left by a
``kill -9``-ed owner is cleaned by the next command with one line.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag import owner

pytestmark = [pytest.mark.slow, pytest.mark.server]

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT / "corpus" / "articles"

OWNER = r"""
import sys, time
from rag import QA
qa = QA.open(sys.argv[1], embeddings="fake", serve=True)
print("ready", qa.settings.chroma_url, flush=True)
while True:
    time.sleep(0.5)
"""

WHERE = r"""
import json, sys
from rag import QA
qa = QA.open(sys.argv[1], embeddings="fake")
print(json.dumps({"url": qa.settings.chroma_url, "docs": len(qa.documents())}))
"""


def env() -> dict[str, str]:
    return {**os.environ, "RAG_EMBEDDINGS": "fake", "PYTHONUNBUFFERED": "1"}


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=env(),
        cwd=ROOT,
        timeout=timeout,
    )


def rag(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run("-m", "rag", "--data-dir", str(store), *args)


def where(store: Path) -> dict:
    out = run("-c", WHERE, str(store))
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_owner(store: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
        cwd=ROOT,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("ready"), proc.stderr.read() if proc.stderr else line
    return proc, line.split()[1]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead too
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


def test_without_an_owner_a_command_uses_the_store_embedded(tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert where(store) == {"url": None, "docs": 0}
    assert owner.status(store)["owner"] is False
    assert not (store / owner.RECORD_NAME).exists()


def test_commands_write_through_the_owner_and_the_owner_sees_it(tmp_path: Path) -> None:
    from rag import QA

    store = tmp_path / "store"
    qa = QA.open(store, embeddings="fake", serve=True)
    try:
        rec = owner.OwnerRecord.read(store.resolve())
        assert rec is not None and rec.pid == os.getpid() and pid_alive(rec.server_pid)
        assert qa.settings.chroma_url == rec.url and rec.url.startswith("http://127.0.0.1:")
        assert qa.documents() == []
        qa.index()  # the chat has read the store before the terminal writes
        ingest = rag(store, "ingest", "--quiet", str(ARTICLES))
        assert ingest.returncode == 0, ingest.stderr
        assert "Traceback" not in ingest.stderr and "note:" not in ingest.stderr
        seen = where(store)
        assert seen["url"] == rec.url and seen["docs"] > 10
        # the long-running QA sees the other process's documents on its next question
        assert len(qa.documents()) == seen["docs"]
        assert len(qa.index().docs) == seen["docs"]
        victim = qa.documents()[0]
        removed = rag(store, "remove", victim.doc_id)
        assert removed.returncode == 0, removed.stderr
        assert victim.doc_id not in qa.index().docs
        assert all(p.doc_id != victim.doc_id for p in qa.search(victim.title, k=5).passages)
    finally:
        owner.release(store)
    assert not (store / owner.RECORD_NAME).exists()
    assert not pid_alive(rec.server_pid), "the Chroma server outlived its owner's release"
    assert where(store)["url"] is None  # embedded again, same documents
    assert where(store)["docs"] == seen["docs"] - 1


def test_kill_9_of_the_owner_next_command_recovers_with_one_line(tmp_path: Path) -> None:
    store = tmp_path / "store"
    proc, url = start_owner(store)
    try:
        first = rag(store, "ingest", "--quiet", str(ARTICLES))
        assert first.returncode == 0, first.stderr
        rec = owner.OwnerRecord.read(store.resolve())
        assert rec is not None and rec.url == url
        n = where(store)["docs"]
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        deadline = time.time() + 20
        while pid_alive(rec.server_pid) and time.time() < deadline:
            time.sleep(0.1)
        assert not pid_alive(rec.server_pid), "the Chroma server survived its killed owner"
    finally:
        if proc.poll() is None:
            proc.kill()
    docs = rag(store, "docs", "--json")
    assert docs.returncode == 0, docs.stderr
    notes = [line for line in docs.stderr.splitlines() if line.strip()]
    assert len(notes) == 1 and notes[0].startswith("note: the previous owner"), docs.stderr
    assert len(json.loads(docs.stdout)) == n, "documents lost with the owner"
    again = rag(store, "docs", "--json")
    assert again.returncode == 0 and again.stderr.strip() == ""  # cleaned once, then silent
    assert not (store / owner.RECORD_NAME).exists()


def test_an_owner_waits_for_an_embedded_user_and_then_serves(tmp_path: Path) -> None:
    from rag import QA

    store = tmp_path / "store"
    qa = QA.open(store, embeddings="fake")  # embedded: holds the shared lock
    assert qa.settings.chroma_url is None
    other = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
        cwd=ROOT,
    )
    try:
        time.sleep(3)
        assert other.poll() is None and not (store / owner.RECORD_NAME).exists()
        del qa  # the last reference drops the shared lock
        import gc

        gc.collect()
        assert other.stdout is not None
        line = other.stdout.readline()
        assert line.startswith("ready"), line
        assert where(store)["url"] == line.split()[1]
    finally:
        other.kill()
        other.wait(30)


def test_the_owner_restarts_its_chroma_server_if_it_dies(tmp_path: Path) -> None:
    from rag import QA

    store = tmp_path / "store"
    qa = QA.open(store, embeddings="fake", serve=True)
    try:
        (tmp_path / "a.txt").write_text("标题\n\n寒武纪发布了新的芯片。\n", encoding="utf-8")
        qa.ingest([tmp_path / "a.txt"])
        rec = owner.OwnerRecord.read(store.resolve())
        assert rec is not None
        os.kill(rec.server_pid, signal.SIGKILL)
        deadline = time.time() + 60
        while time.time() < deadline:
            new = owner.OwnerRecord.read(store.resolve())
            if new is not None and new.server_pid != rec.server_pid and owner.heartbeat(new.url):
                break
            time.sleep(0.2)
        else:
            pytest.fail("the Chroma server was not restarted")
        assert new.url == rec.url  # same port: clients reconnect by themselves
        from rag.errors import StoreError

        try:  # a call that was on the dead socket fails with one line, the next reconnects
            got = qa.documents()
        except StoreError:
            got = qa.documents()
        assert len(got) == 1
    finally:
        owner.release(store)


def test_a_client_of_a_killed_owner_carries_on_embedded(tmp_path: Path) -> None:
    from rag import QA

    store = tmp_path / "store"
    proc, url = start_owner(store)
    try:
        assert rag(store, "ingest", "--quiet", str(ARTICLES)).returncode == 0
        qa = QA.open(store, embeddings="fake")  # a notebook's QA, attached to the owner
        assert qa.settings.chroma_url == url
        n = len(qa.documents())
        qa.index()
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(0.5)
    # the same object: its next calls find the owner gone and open the store themselves
    assert len(qa.documents()) == n
    assert qa.settings.chroma_url is None and qa.store.settings.chroma_url is None
    assert qa.ask("HBM memory").passages
    (tmp_path / "new.md").write_text("标题\n\n寒武纪发布了新的芯片。\n", encoding="utf-8")
    assert qa.ingest([tmp_path / "new.md"]).added == 1
    assert len(qa.documents()) == n + 1
