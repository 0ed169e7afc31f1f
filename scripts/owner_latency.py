"""Extra latency of ``QA.open()`` + first answer through a running owner vs embedded.

Usage: python scripts/owner_latency.py [RUNS]  (fake embedder; corpus/articles; a temp store)
Each run is a fresh process (what ``rag ask`` pays); prints medians as JSON.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
from rag import QA
t1 = time.perf_counter()
qa = QA.open(sys.argv[1])
t2 = time.perf_counter()
qa.ask("How much HBM memory does the AMD MI325X have?")
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "open": t2 - t1, "answer": t3 - t2, "url": qa.settings.chroma_url}))
"""
OWNER = r"""
import sys, time
from rag import QA
QA.open(sys.argv[1], serve=True)
print("ready", flush=True)
time.sleep(3600)
"""


def probe(store: Path, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(store)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(runs: int = 7) -> None:
    env = {**os.environ, "RAG_EMBEDDINGS": "fake", "PYTHONPATH": str(ROOT)}
    store = Path(tempfile.mkdtemp()) / "store"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "rag",
            "--data-dir",
            str(store),
            "ingest",
            "--quiet",
            str(ROOT / "corpus" / "articles"),
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    probe(store, env)  # warm the OS file cache and the keyword-index disk cache
    results: dict[str, list[dict[str, float]]] = {"embedded": [], "owner": []}
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(store)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert owner.stdout is not None and owner.stdout.readline().startswith("ready")
    try:
        for _ in range(runs):
            r = probe(store, env)
            assert r["url"], "did not attach to the owner"
            results["owner"].append(r)
    finally:
        owner.kill()
        owner.wait()
    time.sleep(1)
    for _ in range(runs):
        r = probe(store, env)
        assert not r["url"]
        results["embedded"].append(r)
    summary = {
        mode: {
            k: round(statistics.median(r[k] for r in rs), 3) for k in ("import", "open", "answer")
        }
        for mode, rs in results.items()
    }
    for mode in summary:
        summary[mode]["open_plus_answer"] = round(
            summary[mode]["open"] + summary[mode]["answer"], 3
        )
    summary["extra_via_owner_s"] = round(
        summary["owner"]["open_plus_answer"] - summary["embedded"]["open_plus_answer"], 3
    )
    summary["runs"] = runs
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
