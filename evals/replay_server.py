"""A replay LLM: an OpenAI-compatible HTTP server that answers from scripted responses.

``ReplayServer`` serves ``GET /v1/models`` and ``POST /v1/chat/completions`` (streaming as
server-sent events, or one JSON body) on loopback, with the standard library's
``ThreadingHTTPServer``, so the real ``langchain-openai`` client, the real prompt, streaming
and the citation verifier run end to end without a model. Each request is answered with the
response scripted for its question: the text after the last ``Question:`` in the last user
message (the answer prompt's shape), or the whole last user message otherwise. A question
with no script gets a short refusal in its own language.

A script may name a source by what it says instead of by number, because numbers depend on
the retrieval order: ``{src:TEXT}`` becomes the id of the first ``<source>`` block whose text
(else whose title) contains TEXT; ``{src!:TEXT}`` the id of the first block whose text and
title do not. A template
that cannot be resolved becomes a number one past the last source, and the request is logged
as ``unresolved``.

Every request is logged (``requests``) with the ``perf_counter`` times at which its first and
last content chunks were written, so a caller in the same process can measure client-side
latency against them.

It does not generate, rank or check anything, and it is not for production use.

Run standalone: ``python -m evals.replay_server --responses evals/datasets/llm_faults.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from rag.lang import lang_of

_SOURCE = re.compile(r'<source id="(\d+)" title="([^"]*)"[^>]*>(.*?)</source>', re.S)
_TEMPLATE = re.compile(r"\{src(!?):([^}]+)\}")
REFUSAL = {"zh": "根据资料无法回答。", "en": "I cannot answer this from the sources."}


@dataclass
class Request:
    """One chat-completion request as the server saw it."""

    key: str
    stream: bool
    model: str
    prompt: str
    scripted: bool
    unresolved: list[str] = field(default_factory=list)
    first_byte: float = 0.0
    last_byte: float = 0.0
    path: str = ""
    authorization: str = ""


def question_key(text: str) -> str:
    """The lookup key of a prompt: the text after its last ``Question:``, whitespace-squeezed."""
    i = text.rfind("Question:")
    raw = text[i + len("Question:") :] if i >= 0 else text
    return " ".join(raw.split())


def resolve_sources(response: str, prompt: str) -> tuple[str, list[str]]:
    """Replace ``{src:TEXT}`` / ``{src!:TEXT}`` by source ids of ``prompt``; returns the
    text and the templates that matched no source."""
    blocks = _SOURCE.findall(prompt)
    missing: list[str] = []

    def number(m: re.Match[str]) -> str:
        negate, part = m.group(1) == "!", m.group(2)
        if negate:
            for n, title, body in blocks:
                if part not in title and part not in body:
                    return n
        else:
            # what a source says first, then its title (every chunk of a document shares it)
            for field in (2, 1):
                for block in blocks:
                    if part in block[field]:
                        return block[0]
        missing.append(m.group(0))
        return str(len(blocks) + 1)

    return _TEMPLATE.sub(number, response), missing


def pieces(text: str, size: int) -> list[str]:
    """``text`` cut into token-like pieces of at most ``size`` characters."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


class ReplayServer:
    """The replay server; ``url`` is its OpenAI-compatible base URL (``.../v1``).

    Args:
        responses: question -> scripted response (see ``load_responses``).
        model: the model id ``/v1/models`` lists and completions report.
        port: 0 picks a free port.
        piece_chars: characters per streamed chunk.
        delay: seconds to sleep between streamed chunks (0: as fast as possible).
    """

    def __init__(
        self,
        responses: dict[str, str] | None = None,
        *,
        model: str = "replay",
        port: int = 0,
        piece_chars: int = 3,
        delay: float = 0.0,
    ) -> None:
        self.responses: dict[str, str] = {}
        self.set_responses(responses or {})
        self.model, self.piece_chars, self.delay = model, piece_chars, delay
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def set_responses(self, responses: dict[str, str]) -> None:
        """Replace the script (keys are squeezed like ``question_key``)."""
        self.responses = {" ".join(k.split()): v for k, v in responses.items()}

    def start(self) -> ReplayServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reply(self, body: dict[str, Any]) -> tuple[str, Request]:
        """The response text for a request body, and its log entry."""
        messages = body.get("messages") or []
        users = [m for m in messages if m.get("role") == "user"]
        last = _content(users[-1]) if users else ""
        prompt = "\n".join(_content(m) for m in messages)
        key = question_key(last)
        scripted = key in self.responses
        if scripted:
            text, missing = resolve_sources(self.responses[key], prompt)
        else:
            text, missing = REFUSAL[lang_of(key)], []
        req = Request(key, bool(body.get("stream")), str(body.get("model")), prompt, scripted)
        req.unresolved = missing
        with self._lock:
            self.requests.append(req)
        return text, req


def _content(message: dict[str, Any]) -> str:
    c = message.get("content")
    if isinstance(c, list):  # content parts
        return "".join(str(p.get("text", "")) for p in c if isinstance(p, dict))
    return str(c or "")


def _handler(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the caller reads server.requests

        def _json(self, code: int, obj: Any) -> None:
            data = json.dumps(obj, ensure_ascii=False).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                model = {"id": server.model, "object": "model", "owned_by": "replay"}
                self._json(200, {"object": "list", "data": [model]})
            else:
                self._json(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._json(404, {"error": {"message": f"no route {self.path}"}})
                return
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            except (ValueError, json.JSONDecodeError):
                self._json(400, {"error": {"message": "the body is not JSON"}})
                return
            text, req = server.reply(body)
            req.path = self.path
            req.authorization = self.headers.get("Authorization", "")
            if req.stream:
                self._stream(text, req)
            else:
                req.first_byte = req.last_byte = time.perf_counter()
                self._json(200, _completion(server.model, text))

        def _stream(self, text: str, req: Request) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            cid = f"chatcmpl-replay-{id(req)}"
            for i, piece in enumerate(pieces(text, server.piece_chars)):
                if i and server.delay:
                    time.sleep(server.delay)
                delta = {"content": piece} if i else {"role": "assistant", "content": piece}
                if not req.first_byte:  # noted before the write: the client may read it first
                    req.first_byte = time.perf_counter()
                self._event(_chunk(cid, server.model, delta, None))
            req.last_byte = time.perf_counter()
            self._event(_chunk(cid, server.model, {}, "stop"))
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

        def _event(self, obj: dict[str, Any]) -> None:
            self.wfile.write(b"data: " + json.dumps(obj, ensure_ascii=False).encode() + b"\n\n")
            self.wfile.flush()

    return Handler


def _chunk(cid: str, model: str, delta: dict[str, str], finish: str | None) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _completion(model: str, text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-replay",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


def load_responses(path: str | Path, fault: str | None = None) -> dict[str, str]:
    """question -> response from a JSONL file of ``{"question", "response"}`` rows (the fault
    catalogue's shape); with ``fault``, only rows of that fault type. Later rows win."""
    out: dict[str, str] = {}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if fault is None or row.get("fault") == fault:
                out[str(row["question"])] = str(row["response"])
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise ValueError(f"{path}:{n}: not a {{question, response}} row ({e})") from None
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evals.replay_server", description=__doc__)
    p.add_argument("--responses", required=True, help="JSONL of {question, response} rows")
    p.add_argument("--fault", default="correct", help="only rows of this fault type ('' for all)")
    p.add_argument("--port", type=int, default=8089)
    p.add_argument("--model", default="replay")
    p.add_argument("--delay", type=float, default=0.0, help="seconds between streamed chunks")
    args = p.parse_args(argv)
    responses = load_responses(args.responses, args.fault or None)
    server = ReplayServer(responses, model=args.model, port=args.port, delay=args.delay)
    print(f"replaying {len(responses)} responses at {server.url} (model {args.model})")
    try:
        server.start()
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
