"""Soak (issue 14, item 2): one data directory, three kinds of process, for two minutes.

- ``rag chat`` (the store's owner) answers through its HTTP API (``/ask``);
- a loop of ``rag ingest`` / ``rag remove`` commands adds and deletes articles; after each
  ingest the chat is asked about the new article and must know it;
- a loop of ``rag ask --json`` commands.

Everything is on loopback and bounded (every call has a timeout; the whole run
``RAG_SOAK_SECONDS``, default 120). Promises: zero errors, every citation is the exact slice
of its document, and at the end the store holds exactly the expected documents, each whole.
Then the owner is killed with ``kill -9``: the next command works with one ``note:`` line at
most, and nothing is lost. Numbers go to stdout and ``<tmp>/soak.json``
(``pytest tests/test_soak.py -s``); docs/reliability.md reports them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port, wait_for_port
from tests.test_interrupted_ingest import verify

pytestmark = [pytest.mark.slow, pytest.mark.server]

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT / "corpus" / "articles"
SECONDS = float(os.environ.get("RAG_SOAK_SECONDS", "120"))
SEED = sorted(ARTICLES.glob("*.md"))[:12]
QUESTIONS = [
    "How much HBM memory does the AMD MI325X have?",
    "寒武纪2024年营收多少？",
    "What memory does Gaudi 3 use?",
    "SK hynix HBM3E 12-high capacity?",
]
CHURN = """---
title: Kestrel K{i} accelerator announced
date: 2025-07-{day:02d}
source: Soak Wire
---
The Kestrel K{i} accelerator carries {gb}GB of HBM3 memory. Kestrel said the K{i} ships in the third quarter.
"""
TIMINGS = r"""
import json, sys, time
t0 = time.perf_counter()
from rag import QA
qa = QA.open(sys.argv[1])
t1 = time.perf_counter()
ans = qa.ask(sys.argv[2])
t2 = time.perf_counter()
print(json.dumps({"open": t1 - t0, "first_answer": t2 - t1, "url": qa.settings.chroma_url,
                  "abstained": ans.abstained}))
"""


def env_for(store: Path) -> dict[str, str]:
    return {
        **os.environ,
        "RAG_EMBEDDINGS": "fake",
        "RAG_DATA_DIR": str(store),
        "PYTHONUNBUFFERED": "1",
    }


def rag(store: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rag", *args],
        capture_output=True,
        text=True,
        env=env_for(store),
        cwd=ROOT,
        timeout=timeout,
    )


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


class Soak:
    """The shared record of the run: errors, latencies, and what the store should hold."""

    def __init__(self, store: Path, url: str) -> None:
        self.store = store
        self.url = url
        self.lock = threading.Lock()
        self.errors: list[str] = []
        self.chat_latency: list[float] = []
        self.ask_latency: list[float] = []
        self.counts = {"chat": 0, "rag_ask": 0, "ingest": 0, "remove": 0, "fresh_seen": 0}
        self.citations_checked = 0
        self.present: set[str] = set()  # churn files ingested and not removed
        self.stop = threading.Event()

    def error(self, what: str) -> None:
        with self.lock:
            self.errors.append(what[:500])

    def check_citations(self, qa: Any, citations: list[dict[str, Any]]) -> None:
        from rag.errors import NotFoundError

        for c in citations:
            try:
                text = qa.document(c["doc_id"]).text
            except NotFoundError:  # removed by the churn loop after it was cited: not a fault
                continue
            if text[c["start"] : c["end"]] != c["quote"]:
                self.error(f"citation {c['doc_id']}:{c['start']}:{c['end']} is not its quote")
            with self.lock:
                self.citations_checked += 1


def churn_loop(soak: Soak, folder: Path, client: Any, qa: Any) -> None:
    i = 0
    while not soak.stop.is_set():
        i += 1
        path = folder / f"kestrel_{i}.md"
        path.write_text(CHURN.format(i=i, day=1 + i % 28, gb=8 * i), encoding="utf-8")
        out = rag(soak.store, "ingest", "--quiet", str(path))
        soak.counts["ingest"] += 1
        if out.returncode != 0 or out.stderr.strip():
            soak.error(f"ingest {path.name}: {out.returncode} {out.stderr.strip()[-300:]}")
            continue
        soak.present.add(path.name)
        t = time.perf_counter()
        ans = client.predict(f"How much memory does the Kestrel K{i} carry?", api_name="/ask")
        soak.chat_latency.append(time.perf_counter() - t)
        soak.counts["chat"] += 1
        if f"{8 * i}GB" not in ans["answer"]:
            soak.error(f"the chat did not see Kestrel K{i}: {ans['answer'][:200]}")
        else:
            soak.counts["fresh_seen"] += 1
        soak.check_citations(qa, ans["citations"])
        if i % 2 == 0:  # remove the previous one: the store keeps about half of them
            victim = folder / f"kestrel_{i - 1}.md"
            out = rag(soak.store, "remove", str(victim))
            soak.counts["remove"] += 1
            if out.returncode != 0 or out.stderr.strip():
                soak.error(f"remove {victim.name}: {out.returncode} {out.stderr.strip()[-300:]}")
            else:
                soak.present.discard(victim.name)
                victim.unlink()


def chat_loop(soak: Soak, client: Any, qa: Any) -> None:
    n = 0
    while not soak.stop.is_set():
        q = QUESTIONS[n % len(QUESTIONS)]
        n += 1
        t = time.perf_counter()
        try:
            ans = client.predict(q, api_name="/ask")
        except Exception as e:
            soak.error(f"chat /ask {q!r}: {type(e).__name__}: {e}")
            continue
        soak.chat_latency.append(time.perf_counter() - t)
        soak.counts["chat"] += 1
        if not isinstance(ans.get("abstained"), bool):
            soak.error(f"chat /ask {q!r}: no abstained flag")
        soak.check_citations(qa, ans["citations"])


def ask_loop(soak: Soak, qa: Any) -> None:
    n = 0
    while not soak.stop.is_set():
        q = QUESTIONS[n % len(QUESTIONS)]
        n += 1
        t = time.perf_counter()
        out = rag(soak.store, "ask", q, "--json")
        soak.ask_latency.append(time.perf_counter() - t)
        soak.counts["rag_ask"] += 1
        if out.returncode != 0 or out.stderr.strip():
            soak.error(f"rag ask {q!r}: {out.returncode} {out.stderr.strip()[-300:]}")
            continue
        soak.check_citations(qa, json.loads(out.stdout)["citations"])


def open_timings(store: Path, question: str, runs: int = 3) -> dict[str, float]:
    got = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", TIMINGS, str(store), question],
            capture_output=True,
            text=True,
            env=env_for(store),
            cwd=ROOT,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        got.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "open": statistics.median(g["open"] for g in got),
        "first_answer": statistics.median(g["first_answer"] for g in got),
        "via_owner": all(g["url"] for g in got),
    }


def start_chat(store: Path, seed: Path) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    log = open(store.parent / "chat.log", "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag", "chat", "--port", str(port), "--corpus", str(seed)],
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        env=env_for(store),
        cwd=ROOT,
    )
    wait_for_port(port, 300, proc)
    return proc, port


def test_soak_three_processes_then_kill_9_of_the_owner(tmp_path: Path) -> None:
    from gradio_client import Client

    from rag import QA

    store = tmp_path / "store"
    seed = tmp_path / "seed"
    seed.mkdir()
    for p in SEED:
        shutil.copy(p, seed / p.name)
    churn = tmp_path / "churn"
    churn.mkdir()
    proc, port = start_chat(store, seed)
    try:
        url = f"http://127.0.0.1:{port}/"
        qa = QA.open(store, embeddings="fake")  # the checker: attaches to the chat's server
        assert qa.settings.chroma_url, "the chat did not become the store's owner"
        seeded = {d.doc_id for d in qa.documents()}
        assert len(seeded) == len(SEED)
        soak = Soak(store, url)
        owner_open = open_timings(store, QUESTIONS[0])
        threads = [
            threading.Thread(target=churn_loop, args=(soak, churn, Client(url, verbose=False), qa)),
            threading.Thread(target=chat_loop, args=(soak, Client(url, verbose=False), qa)),
            threading.Thread(target=ask_loop, args=(soak, qa)),
        ]
        t0 = time.time()
        for t in threads:
            t.start()
        time.sleep(SECONDS)
        soak.stop.set()
        for t in threads:
            t.join(300)
        wall = time.time() - t0
        assert not any(t.is_alive() for t in threads), "a loop did not stop"
        state = verify(store)  # a fresh process, through the owner
        titles = {d.doc_id: d.title for d in qa.documents()}
        expected_churn = {
            f"Kestrel K{n.split('_')[1].split('.')[0]} accelerator announced" for n in soak.present
        }
        got_churn = {t for t in titles.values() if t.startswith("Kestrel")}
        # kill -9 of the owner: the chat and its Chroma server die at once
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        after = rag(store, "docs", "--json")
        notes = [line for line in after.stderr.splitlines() if line.strip()]
        embedded_open = open_timings(store, QUESTIONS[0])
        final = verify(store)
    finally:
        if proc.poll() is None:
            proc.kill()
    result = {
        "seconds": round(wall, 1),
        "requests": soak.counts,
        "errors": len(soak.errors),
        "citations_checked": soak.citations_checked,
        "documents_checked": len(state["docs"]),
        "half_present": len(state["problems"]),
        "orphan_chunks": state["orphans"],
        "chat_answer_p50_s": round(pct(soak.chat_latency, 0.5), 3),
        "chat_answer_p95_s": round(pct(soak.chat_latency, 0.95), 3),
        "rag_ask_p50_s": round(pct(soak.ask_latency, 0.5), 3),
        "rag_ask_p95_s": round(pct(soak.ask_latency, 0.95), 3),
        "open_plus_first_answer_via_owner_s": round(
            owner_open["open"] + owner_open["first_answer"], 3
        ),
        "open_plus_first_answer_embedded_s": round(
            embedded_open["open"] + embedded_open["first_answer"], 3
        ),
        "open_via_owner_s": round(owner_open["open"], 3),
        "open_embedded_s": round(embedded_open["open"], 3),
        "after_kill_lines": notes,
    }
    print("\nSOAK " + json.dumps(result, ensure_ascii=False))
    (tmp_path / "soak.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    assert soak.errors == [], soak.errors[:10]
    assert soak.counts["chat"] > 10 and soak.counts["rag_ask"] > 5 and soak.counts["ingest"] > 3
    assert soak.counts["fresh_seen"] == soak.counts["ingest"]
    assert state["problems"] == [] and state["orphans"] == 0
    assert got_churn == expected_churn and seeded <= set(titles)
    assert owner_open["via_owner"] and not embedded_open["via_owner"]
    # after the kill: one clear line, and nothing lost
    assert after.returncode == 0, after.stderr
    assert len(notes) <= 1 and all(n.startswith("note: the previous owner") for n in notes)
    assert {d["doc_id"] for d in json.loads(after.stdout)} == set(titles)
    assert final["problems"] == [] and set(final["docs"]) == set(titles)
