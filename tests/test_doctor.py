"""``rag doctor`` against a real local OpenAI-compatible server (the replay server) and
against endpoints that are missing, down or misconfigured."""

from __future__ import annotations

import pytest
from conftest import free_port

from evals.replay_server import ReplayServer
from rag.cli import main
from rag.config import Settings
from rag.doctor import EN_PROBE, ZH_PROBE, check_endpoint, run_doctor


def statuses(settings: Settings) -> dict[str, str]:
    return {c.name: c.status for c in check_endpoint(settings, timeout=10)}


def test_a_working_endpoint_passes_every_check(capsys: pytest.CaptureFixture[str]) -> None:
    with ReplayServer(model="qwen2.5:7b-instruct") as s:
        code = run_doctor(Settings(llm_base_url=s.url, llm_model="qwen2.5:7b-instruct"))
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert [ln.split()[:2] for ln in lines] == [
        ["ok", "endpoint"],
        ["ok", "reachable"],
        ["ok", "model"],
        ["ok", "streaming"],
        ["ok", "language"],
    ]


def test_the_cli_reads_the_environment_and_exits_1_on_failure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with ReplayServer(model="deepseek-chat") as s:
        monkeypatch.setenv("RAG_LLM_BASE_URL", s.url)
        monkeypatch.setenv("RAG_LLM_MODEL", "deepseek-chat")
        monkeypatch.setenv("RAG_LLM_API_KEY", "sk-test")
        assert main(["doctor"]) == 0
        monkeypatch.setenv("RAG_LLM_MODEL", "deepseek-reasoner-typo")
        assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert (
        "'deepseek-reasoner-typo' is not served; RAG_LLM_MODEL can be one of: deepseek-chat" in out
    )


def test_no_endpoint_says_what_to_set() -> None:
    [c] = check_endpoint(Settings())
    assert c.status == "FAIL" and "RAG_LLM_BASE_URL" in c.detail


def test_a_server_that_is_down_fails_reachable() -> None:
    st = statuses(Settings(llm_base_url=f"http://127.0.0.1:{free_port()}/v1", llm_timeout=3))
    assert st == {"endpoint": "ok", "reachable": "FAIL"}


def test_an_unset_model_is_taken_from_a_single_model_server() -> None:
    with ReplayServer(model="only-one") as s:
        checks = check_endpoint(Settings(llm_base_url=s.url), timeout=10)
    assert checks[2].status == "ok" and "only-one" in checks[2].detail
    assert all(c.status == "ok" for c in checks)


def test_a_server_that_does_not_stream_fails_streaming() -> None:
    with ReplayServer(model="m", piece_chars=10_000) as s:
        st = statuses(Settings(llm_base_url=s.url, llm_model="m"))
    assert st["streaming"] == "FAIL" and "language" not in st


def test_an_answer_in_the_wrong_language_fails_language() -> None:
    with ReplayServer(
        {ZH_PROBE: "A chip is an integrated circuit.", EN_PROBE: "A chip."}, model="m"
    ) as s:
        checks = check_endpoint(Settings(llm_base_url=s.url, llm_model="m"), timeout=10)
    assert checks[-1].name == "language" and checks[-1].status == "FAIL"
    assert "asked in zh, answered in en" in checks[-1].detail
