"""``rag doctor`` against a real local OpenAI-compatible server (the replay server) and
against endpoints that are missing, down or misconfigured."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

import pytest
from conftest import free_port

from evals.replay_server import ReplayServer
from rag.cli import main
from rag.config import Settings, settings_from_env
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


def readme_examples() -> dict[str, dict[str, str]]:
    """The environment of each provider block of the README's "Connecting an LLM" section."""
    from conftest import ROOT

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Connecting an LLM", 1)[1].split("\n## ", 1)[0]
    out: dict[str, dict[str, str]] = {}
    for part in section.split("\n### ")[1:]:
        name = part.splitlines()[0].strip()
        env = dict(re.findall(r"^export (RAG_[A-Z_]+)=(\S+)$", part, re.M))
        if env:
            out[name] = env
    return out


def test_the_readme_has_an_example_for_each_provider() -> None:
    assert set(readme_examples()) == {
        "Ollama",
        "llama.cpp server",
        "vLLM",
        "DashScope (Qwen)",
        "DeepSeek",
    }


@pytest.mark.parametrize("provider", sorted(readme_examples()))
def test_readme_examples_pass_the_doctor(provider: str) -> None:
    env = readme_examples()[provider]
    parts = urlsplit(env["RAG_LLM_BASE_URL"])
    with ReplayServer(model=env["RAG_LLM_MODEL"]) as s:
        url = urlunsplit(("http", f"127.0.0.1:{s.port}", parts.path, "", ""))
        settings = settings_from_env({**env, "RAG_LLM_BASE_URL": url})
        checks = check_endpoint(settings, timeout=10)
        assert [c.status for c in checks] == ["ok"] * 5, [c.line() for c in checks]
        chat = [r for r in s.requests if r.path.endswith("/chat/completions")]
        assert chat and all(r.path == parts.path + "/chat/completions" for r in chat)
        assert all(r.model == env["RAG_LLM_MODEL"] for r in chat)
        key = env.get("RAG_LLM_API_KEY")
        assert all(r.authorization == f"Bearer {key or 'not-needed'}" for r in chat)


@pytest.mark.llm
@pytest.mark.slow
def test_the_doctor_against_a_real_llama_cpp_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The README's llama.cpp block against ``python -m llama_cpp.server`` (Gemma 3 270M): the
    endpoint, model and streaming checks pass; the language check reports what the model did."""
    import llm_server

    env = readme_examples()["llama.cpp server"]
    for server in llm_server.serve(tmp_path_factory):
        settings = settings_from_env(
            {
                **env,
                "RAG_LLM_BASE_URL": server.url,
                "RAG_LLM_MODEL": "gemma",
                "RAG_LLM_TIMEOUT": "120",
            }
        )
        checks = {c.name: c for c in check_endpoint(settings, timeout=120)}
        assert [checks[n].status for n in ("endpoint", "reachable", "model", "streaming")] == [
            "ok"
        ] * 4, [c.line() for c in checks.values()]
        assert checks["language"].status in ("ok", "FAIL") and checks["language"].detail
