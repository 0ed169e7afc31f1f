"""The replay server (real HTTP, the real langchain-openai client), the fault catalogue's
shape, and ``rag eval --llm-faults`` end to end over a small store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from langchain_openai import ChatOpenAI

from evals.llm_faults import CATALOGUE, core, load_catalogue, render, run_case, summarize
from evals.replay_server import ReplayServer, load_responses, resolve_sources
from rag import QA, TextDelta
from rag.answer_llm import make_llm
from rag.config import Settings
from rag.web import render_answer

ZW = """---
title: 平头哥发布真武810E
date: 2026-01-29
source: 测试财经
---
1月29日上午,平头哥在官网上线一款名为“真武810E”的高端AI芯片。真武810E采用HBM2e内存,容量可达96GB。该芯片支持7个独立ICN链路,片间互联带宽达到700GB/s。
"""
MI = """---
title: AMD launches the MI325X
date: 2024-10-10
source: Test Wire
---
AMD launched the Instinct MI325X accelerator on October 10, 2024. The MI325X carries 256GB of HBM3E memory with 6TB/s of bandwidth.
"""
ZH_Q = "真武810E的显存容量是多少?"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("faults_store")
    docs = root / "docs"
    docs.mkdir()
    (docs / "a_zw.md").write_text(ZW, encoding="utf-8")
    (docs / "b_mi.md").write_text(MI, encoding="utf-8")
    qa = QA.open(root / "store", embeddings="fake")
    assert qa.ingest([docs]).added == 2
    return root / "store"


@pytest.fixture
def server() -> ReplayServer:
    with ReplayServer(model="replay-test") as s:
        yield s


def client(server: ReplayServer) -> ChatOpenAI:
    return make_llm(Settings(llm_base_url=server.url, llm_model="replay-test"))  # type: ignore[return-value]


# -- the replay server ------------------------------------------------------------------------
def test_replay_server_streams_and_answers_through_the_real_client(server: ReplayServer) -> None:
    server.set_responses({"容量多大？": "容量可达96GB[{src:96GB}]。"})
    prompt = '<source id="1" title="t">无关</source>\n<source id="2" title="t">容量可达96GB</source>\n\nQuestion: 容量多大？'
    llm = client(server)
    pieces = [str(c.content) for c in llm.stream(prompt)]
    assert "".join(pieces) == "容量可达96GB[2]。" and len([p for p in pieces if p]) > 2
    plain = ChatOpenAI(base_url=server.url, model="replay-test", api_key="x", streaming=False)  # type: ignore[arg-type]
    assert plain.invoke(prompt).content == "容量可达96GB[2]。"
    assert [r.stream for r in server.requests] == [True, False]
    assert server.requests[0].first_byte <= server.requests[0].last_byte
    # a question without a script gets a refusal in its own language
    assert llm.invoke("Question: What is HBM?").content == "I cannot answer this from the sources."
    assert not server.requests[-1].scripted


def test_source_templates_resolve_by_text_and_mark_the_unknown() -> None:
    prompt = (
        '<source id="1" title="A 96GB chip">about something else</source>'
        '<source id="2" title="B">容量可达96GB</source>'
    )
    assert resolve_sources("[{src:96GB}] [{src!:96GB}]", prompt) == ("[2] [3]", ["{src!:96GB}"])
    assert resolve_sources("[{src:A 96GB}]", prompt) == ("[1]", [])


def test_load_responses_reports_a_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"question": "q", "response": "a", "fault": "correct"}\n{"oops": 1}\n')
    with pytest.raises(ValueError, match=r"r.jsonl:2"):
        load_responses(path)


# -- the catalogue ----------------------------------------------------------------------------
def test_the_catalogue_covers_every_fault_type_with_labelled_statements() -> None:
    from evals.datasets.build_llm_faults import FAULTS

    rows = load_catalogue(CATALOGUE)
    assert len(rows) >= 120
    assert {r["fault"] for r in rows} == set(FAULTS)
    assert {r["lang"] for r in rows} == {"zh", "en"}
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert r["statements"], r["id"]
        for s in r["statements"]:
            assert s["text"] in r["response"] and isinstance(s["supported"], bool), r["id"]
    supported = [s for r in rows for s in r["statements"] if s["supported"]]
    unsupported = [s for r in rows for s in r["statements"] if not s["supported"]]
    assert len(supported) >= 80 and len(unsupported) >= 80
    assert any("\n- " in r["response"] for r in rows)  # markdown lists, as models write them


def test_the_catalogue_file_is_what_the_builder_writes() -> None:
    from evals.datasets.build_llm_faults import build

    on_disk = [json.loads(line) for line in CATALOGUE.read_text(encoding="utf-8").splitlines()]
    assert build() == on_disk


def test_core_ignores_markers_bullets_and_punctuation() -> None:
    assert core("- 容量可达96GB[{src:96GB}]，") == core("容量可达 96GB[1]。") == "容量可达96gb"


# -- the measurement, end to end --------------------------------------------------------------
ROWS = [
    {
        "id": "t1",
        "fault": "correct",
        "question": ZH_Q,
        "answerable": True,
        "key_facts": [["96GB"]],
        "response": "真武810E采用HBM2e内存[{src:容量可达96GB}]，容量为九十六GB[{src:容量可达96GB}]。",
        "statements": [
            {"text": "真武810E采用HBM2e内存[{src:容量可达96GB}]，", "supported": True},
            {"text": "容量为九十六GB[{src:容量可达96GB}]。", "supported": True},
        ],
    },
    {
        "id": "t2",
        "fault": "figure_changed",
        "question": ZH_Q,
        "answerable": True,
        "key_facts": [["96GB"]],
        "response": "真武810E采用HBM2e内存[{src:容量可达96GB}]，容量为80GB[{src:容量可达96GB}]。",
        "statements": [
            {"text": "真武810E采用HBM2e内存[{src:容量可达96GB}]，", "supported": True},
            {"text": "容量为80GB[{src:容量可达96GB}]。", "supported": False},
        ],
    },
    {
        "id": "t3",
        "fault": "refusal_present",
        "question": ZH_Q,
        "answerable": True,
        "key_facts": [["96GB"]],
        "response": "根据资料无法回答。",
        "statements": [{"text": "根据资料无法回答。", "supported": False, "refusal": True}],
    },
]


def test_run_case_scores_what_the_user_sees(store: Path, server: ReplayServer) -> None:
    from evals.llm_faults import _TokenClock

    clock = _TokenClock()
    llm = client(server).with_config(callbacks=[clock.handler])
    qa = QA.open(store, embeddings="fake", llm=llm, answerer="llm")
    recs = [run_case(qa, server, clock, r) for r in ROWS]
    assert [s["kept"] for s in recs[0]["statements"]] == [True, True]
    assert [s["kept"] for s in recs[1]["statements"]] == [True, False]
    # the model refused although the passage answers: the offline answer is shown instead
    assert recs[2]["answerer"] == "offline" and not recs[2]["abstained"]
    assert recs[2]["statements"][0]["kept"] is False and recs[2]["key_facts_correct"]
    for r in recs:
        assert r["first_token_ms"] >= 0 and r["final_after_stream_ms"] >= 0
    summary = summarize(recs)
    assert summary["caught"] == 1.0 and summary["kept"] == 1.0
    assert summary["faults"]["figure_changed"] == {
        "answers": 1,
        "unsupported": 1,
        "caught": 1.0,
        "supported": 1,
        "kept": 1.0,
    }
    assert "| figure_changed | 1 |" in render(summary)


def test_the_web_chat_shows_the_model_and_the_removed_statement(
    store: Path, server: ReplayServer
) -> None:
    server.set_responses({ZH_Q: ROWS[1]["response"]})
    qa = QA.open(store, embeddings="fake", llm=client(server), answerer="llm")
    ans = qa.ask(ZH_Q)
    assert ans.model == "replay-test" and ans.removed == ["容量为80GB。"]
    html = render_answer(ans, 1)
    assert "回答模型：replay-test" in html
    assert "<details" in html and "已删除1条陈述" in html and "容量为80GB。" in html
    assert "removed" in ans.to_dict() and ans.to_dict()["model"] == "replay-test"


@pytest.mark.slow
def test_rag_eval_llm_faults_runs_from_the_cli(tmp_path: Path) -> None:
    from rag.cli import main

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a_zw.md").write_text(ZW, encoding="utf-8")
    cat = tmp_path / "cat.jsonl"
    cat.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS[:2]))
    out = tmp_path / "out"
    code = main(
        [
            "eval",
            "--llm-faults",
            "--catalogue",
            str(cat),
            "--corpus",
            str(corpus),
            "--data-dir",
            str(tmp_path / "data"),
            "--out",
            str(out),
            "--check",
        ]
    )
    assert code == 0
    summary = json.loads((out / "llm_faults_summary.json").read_text())
    assert summary["caught"] == 1.0 and summary["kept"] == 1.0
    assert (
        (out / "llm_faults.md")
        .read_text()
        .startswith("LLM fault catalogue, all answers: 2 scripted answers")
    )


def test_verified_statements_stream_before_the_model_finishes(store: Path) -> None:
    """With a server that paces its chunks, the first verified statement is shown while the
    model is still writing, and the final answer follows the stream's end closely."""
    import time

    answer = "真武810E采用HBM2e内存[{src:容量可达96GB}]。容量可达96GB[{src:容量可达96GB}]。" * 3
    with ReplayServer({ZH_Q: answer}, model="paced", delay=0.01) as s:
        qa = QA.open(store, embeddings="fake", llm=client(s), answerer="llm")
        first = None
        for event in qa.stream(ZH_Q):
            match event:
                case TextDelta() if first is None:
                    first = time.perf_counter()
        done = time.perf_counter()
        req = s.requests[-1]
    assert first is not None and first < req.last_byte  # shown before the model was done
    assert done - req.last_byte < 1.0


def test_the_replay_server_runs_standalone(tmp_path: Path) -> None:
    import subprocess
    import sys
    import urllib.request

    from conftest import ROOT, free_port, wait_for_port

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "evals.replay_server", "--responses", str(CATALOGUE),
         "--port", str(port), "--model", "replay"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for_port(port, timeout=30, proc=proc)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=10) as r:
            assert json.load(r)["data"][0]["id"] == "replay"
        row = next(
            r for r in load_catalogue() if r["fault"] == "correct" and "{src" not in r["response"]
        )
        llm = ChatOpenAI(base_url=f"http://127.0.0.1:{port}/v1", model="replay", api_key="x")  # type: ignore[arg-type]
        assert llm.invoke(f"Question: {row['question']}").content == row["response"]
    finally:
        proc.terminate()
        proc.wait(10)


# -- the target table ---------------------------------------------------------------------


def test_the_target_table_drives_the_checks(tmp_path: Path) -> None:
    from evals.llm_faults import TARGET_ROWS, check_targets, failures, load_targets

    assert [(r["rate"], r["scope"], r["min"]) for r in TARGET_ROWS] == [
        ("caught", "all", 0.95),
        ("kept", "all", 0.97),
        ("caught", "fault", 0.85),
        ("kept", "fault", 0.85),
    ]
    summary = {
        "caught": 0.94,
        "kept": 0.99,
        "faults": {
            "figure_changed": {"caught": 0.8, "kept": None},
            "correct": {"caught": None, "kept": 0.9},
            "wrong_language": {"caught": 1.0, "kept": 0.5},
        },
    }
    assert failures(summary) == [
        "unsupported caught 0.940 < 0.95",
        "figure_changed: caught 0.800 < 0.85",
        "wrong_language: kept 0.500 < 0.85",
    ]
    rows = check_targets(summary)
    # a rate with nothing to measure is skipped per fault type, counted missed overall
    assert [r["name"] for r in rows] == [
        "caught",
        "kept",
        "figure_changed: caught",
        "correct: kept",
        "wrong_language: caught",
        "wrong_language: kept",
    ]
    assert [r["met"] for r in rows] == [False, True, False, True, True, False]
    assert not check_targets({**summary, "caught": None})[0]["met"]
    # a row of the table is a check: raise the bar and the run misses it
    strict = [{**r, "min": 0.995} if r["rate"] == "kept" else r for r in TARGET_ROWS]
    assert "supported kept 0.990 < 0.995" in [t["says"] for t in check_targets(summary, strict)]
    bad = tmp_path / "targets.toml"
    bad.write_text('[[target]]\nrate = "recall"\nscope = "all"\nmin = 0.9\n', encoding="utf-8")
    with pytest.raises(SystemExit, match="target 1 needs rate caught"):
        load_targets(bad)
