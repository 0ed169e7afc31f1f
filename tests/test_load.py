"""Load: 20 concurrent chat sessions against the running web app on loopback.

Each session asks a short conversation (a question, then a follow-up) through the same
``/respond`` endpoint the page uses, via ``gradio_client``. Bounded in count and time; it
asserts that no request fails and writes p50/p95 latencies to ``test-artifacts/load.json``
(the numbers quoted in docs/reliability.md come from this test).
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import free_port

SESSIONS = 20
CONVERSATIONS = [
    ("真武810E的显存容量是多少?", "它的片间互联带宽呢?"),
    ("How much HBM does the AMD MI300X carry?", "and its memory bandwidth?"),
    ("摩尔线程什么时候在科创板上市?", "发行价是多少?"),
    ("What did SK hynix announce about HBM4?", "那三星呢?"),
]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_twenty_concurrent_sessions(corpus_qa, repo_root: Path) -> None:
    from gradio_client import Client

    from rag import web

    port = free_port()
    app = web.launch(port=port, qa=corpus_qa, block=False)
    url = f"http://127.0.0.1:{port}/"
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + 600  # the whole run is bounded

    # one client per session (its own conversation state), connected before the clock
    # starts: fetching the API description is set-up, not chat traffic
    clients = [Client(url, verbose=False, httpx_kwargs={"timeout": 300}) for _ in range(SESSIONS)]

    def session(i: int) -> None:
        first, follow = CONVERSATIONS[i % len(CONVERSATIONS)]
        try:
            client = clients[i]
            # the conversation lives in the client's session state, as in a browser tab
            for q in (first, follow):
                if time.monotonic() > deadline:
                    return
                t = time.perf_counter()
                result = client.predict(q, None, "", "", 5, "offline", api_name="/respond")
                dt = time.perf_counter() - t
                msgs = result[0]
                answer = str(msgs[-1]["content"]) if msgs else ""
                with lock:
                    latencies.append(dt)
                    if not answer.strip():
                        errors.append(f"session {i}: empty answer to {q!r}")
        except Exception as e:  # any failure is a finding, reported below
            import traceback

            with lock:
                errors.append(f"session {i}: {type(e).__name__}: {e}")
                if len(errors) == 1:
                    print(traceback.format_exc())

    t0 = time.perf_counter()
    threads = [threading.Thread(target=session, args=(i,)) for i in range(SESSIONS)]
    try:
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=700)
    finally:
        app.close()
    wall = time.perf_counter() - t0
    assert not errors, errors[:5]
    assert len(latencies) == SESSIONS * 2
    q = statistics.quantiles(latencies, n=20)
    report = {
        "sessions": SESSIONS,
        "requests": len(latencies),
        "errors": len(errors),
        "p50_s": round(statistics.median(latencies), 3),
        "p95_s": round(q[18], 3),
        "max_s": round(max(latencies), 3),
        "wall_s": round(wall, 1),
        "throughput_rps": round(len(latencies) / wall, 2),
    }
    out = repo_root / "test-artifacts"
    out.mkdir(exist_ok=True)
    (out / "load.json").write_text(json.dumps(report, indent=2))
    print("load test:", report)
