"""``rag doctor``: check the configured LLM endpoint, one line per check.

The checks run in order and stop at the first that makes the rest meaningless:

1. ``endpoint``  an endpoint is configured (``RAG_LLM_BASE_URL``);
2. ``reachable`` ``GET <base>/models`` answers (any HTTP answer counts; a refused connection
   or a timeout does not);
3. ``model``     the configured model (``RAG_LLM_MODEL``) is one the server lists, or the
   server lists exactly one model when none is configured;
4. ``streaming`` a chat completion streams through the real ``langchain-openai`` client in
   more than one piece;
5. ``language``  a question asked in Chinese is answered in Chinese and one asked in English
   in English.

Each line reads ``ok|FAIL|skip  <check>  <what was seen>``; the exit code is 0 when nothing
failed. It changes no setting and sends three short chat requests (an English prompt,
streamed, then a Chinese and the English one); it does not test retrieval or the answer
prompt (``rag eval --llm-faults`` does, ``evals.llm_faults``).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rag.config import Settings, settings_from_env
from rag.lang import detect_lang

ZH_PROBE = "请只用一句简体中文回答：芯片是什么？"
EN_PROBE = "Answer in one short English sentence: what is a computer chip?"
# a reply in Chinese may name a product in Latin letters, but mostly it is Han script
REPLY_HAN_SHARE = 0.3


@dataclass
class Check:
    """One line of the report."""

    name: str
    status: str  # ok | FAIL | skip
    detail: str

    def line(self) -> str:
        return f"{self.status:<5} {self.name:<10} {self.detail}"


def _models(settings: Settings, timeout: float) -> tuple[int | None, list[str], str]:
    """(HTTP status, model ids, error) of ``GET <base>/models``."""
    url = settings.llm_base_url.rstrip("/") + "/models"  # type: ignore[union-attr]
    req = urllib.request.Request(url, headers={"Accept": "application/json"})
    if settings.llm_api_key:
        req.add_header("Authorization", f"Bearer {settings.llm_api_key}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = json.loads(r.read() or b"{}")
            ids = [str(m.get("id")) for m in body.get("data", []) if isinstance(m, dict)]
            return r.status, ids, ""
    except urllib.error.HTTPError as e:
        return e.code, [], f"HTTP {e.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as e:
        reason = getattr(e, "reason", e)
        return None, [], " ".join(str(reason).split()) or type(e).__name__
    except ValueError:
        return 200, [], "the model list is not JSON"


def check_endpoint(settings: Settings, timeout: float = 30.0) -> list[Check]:
    """Run the checks against ``settings``' endpoint; the report lines in order."""
    if not settings.llm_base_url:
        return [
            Check(
                "endpoint",
                "FAIL",
                "no RAG_LLM_BASE_URL: set it to an OpenAI-compatible base URL, e.g. "
                "http://127.0.0.1:11434/v1 (Ollama) or http://127.0.0.1:8080/v1 (llama.cpp)",
            )
        ]
    out = [
        Check("endpoint", "ok", f"{settings.llm_base_url} (model {settings.llm_model or 'unset'})")
    ]
    t0 = time.perf_counter()
    status, ids, err = _models(settings, min(timeout, 15.0))
    ms = 1000 * (time.perf_counter() - t0)
    if status is None:
        out.append(Check("reachable", "FAIL", f"GET /models: {err} (is the server running?)"))
        return out
    out.append(Check("reachable", "ok", f"GET /models answered HTTP {status} in {ms:.0f} ms"))
    if status in (401, 403):
        out.append(Check("model", "FAIL", f"HTTP {status}: check RAG_LLM_API_KEY"))
        return out
    settings, model_check = _check_model(settings, ids)
    out.append(model_check)
    if model_check.status == "FAIL":
        return out
    out.append(_check_streaming(settings))
    if out[-1].status == "FAIL":
        return out
    out.append(_check_language(settings))
    return out


def _check_model(settings: Settings, ids: list[str]) -> tuple[Settings, Check]:
    want = settings.llm_model
    if not ids:
        return settings, Check("model", "skip", "the server does not list its models")
    if want and want in ids:
        return settings, Check("model", "ok", f"{want} is served")
    if want:
        return settings, Check(
            "model",
            "FAIL",
            f"{want!r} is not served; RAG_LLM_MODEL can be one of: {', '.join(ids[:8])}",
        )
    if len(ids) == 1:
        return settings.with_(llm_model=ids[0]), Check(
            "model", "ok", f"RAG_LLM_MODEL unset; the server's only model is {ids[0]}"
        )
    return settings, Check(
        "model", "FAIL", f"RAG_LLM_MODEL unset and the server has {len(ids)}: {', '.join(ids[:8])}"
    )


def _chat(settings: Settings) -> Any:
    from rag.answer_llm import make_llm

    return make_llm(settings.with_(extra={**settings.extra, "llm_max_tokens": "64"}))


def _check_streaming(settings: Settings) -> Check:
    try:
        llm = _chat(settings)
        t0 = time.perf_counter()
        first: float | None = None
        pieces: list[str] = []
        for chunk in llm.stream(EN_PROBE):
            text = str(chunk.content)
            if text and first is None:
                first = time.perf_counter() - t0
            pieces.append(text)
    except Exception as e:  # any client or HTTP failure is the check's answer
        return Check("streaming", "FAIL", _one_line(e))
    text = "".join(pieces).strip()
    if not text:
        return Check("streaming", "FAIL", "the stream ended without any text")
    n = sum(1 for p in pieces if p)
    if n < 2:
        return Check(
            "streaming", "FAIL", f"the answer came in {n} piece: the server does not stream"
        )
    return Check("streaming", "ok", f"{n} pieces, first after {1000 * (first or 0):.0f} ms")


def _check_language(settings: Settings) -> Check:
    seen = []
    try:
        llm = _chat(settings)
        for probe, want in ((ZH_PROBE, "zh"), (EN_PROBE, "en")):
            reply = str(llm.invoke(probe).content)
            got = detect_lang(reply, REPLY_HAN_SHARE) or "none"
            seen.append((want, got, reply))
    except Exception as e:
        return Check("language", "FAIL", _one_line(e))
    wrong = [(w, g, r) for w, g, r in seen if w != g]
    if wrong:
        w, g, r = wrong[0]
        return Check("language", "FAIL", f"asked in {w}, answered in {g}: {_short(r)}")
    return Check("language", "ok", "Chinese question -> Chinese answer, English -> English")


def _one_line(e: BaseException) -> str:
    from rag.answer_llm import failure_reason

    return failure_reason(e)


def _short(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def run_doctor(
    settings: Settings | None = None,
    timeout: float | None = None,
    echo: Callable[[str], None] = print,
) -> int:
    """Print one line per check; 0 when none failed, else 1."""
    settings = settings or settings_from_env()
    if timeout:
        settings = settings.with_(llm_timeout=timeout)
    checks = check_endpoint(settings, timeout=settings.llm_timeout)
    for c in checks:
        echo(c.line())
    return 1 if any(c.status == "FAIL" for c in checks) else 0


__all__ = ["Check", "check_endpoint", "run_doctor"]
