"""One owner per store: a long-running process serves its data directory through Chroma.

Chroma's embedded client (``PersistentClient``) is single-process by construction: a process
that read the store keeps a cached view and fails ("Error finding id") once another process
writes. So a store has at most one *owner*:

- ``rag chat`` (and ``QA.open(..., serve=True)``) becomes the owner: it takes an exclusive
  ``flock`` on ``<data_dir>/owner.lock``, starts ``chroma run --path <data_dir>/chroma`` on a
  free loopback port as its child (the child dies with it: ``PR_SET_PDEATHSIG``) and records
  ``{pid, server_pid, port, url}`` in ``<data_dir>/owner.json``. Its own ``QA`` and every other
  process then talk to that one server with ``HttpClient``, which is built for concurrent
  clients.
- ``rag ingest`` (``QA.open(..., serve="auto")``) owns the store while it runs if nobody
  else uses it, so a ``rag ask`` meanwhile goes through its server too.
- Every other ``rag`` command and plain ``QA.open()`` calls ``attach()``: a live owner (its
  lock is held) means "connect to the recorded URL"; no owner means embedded mode, holding a
  *shared* lock for the life of the process so that an owner cannot start under it.
- A record left by a killed owner is stale exactly when nobody holds the lock (the kernel
  drops a dead process's locks): ``attach()`` deletes it and says so in one line on stderr.

What this module does not do: it does not make several *embedded* processes safe with each
other (that is what an owner is for), and it never exposes the Chroma server off loopback.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rag.config import Settings
from rag.errors import StoreError

LOCK_NAME = "owner.lock"
RECORD_NAME = "owner.json"
START_TIMEOUT = 90.0  # a cold `chroma run` on a busy 2-core machine takes a few seconds
WAIT_TIMEOUT = 120.0  # how long a new owner waits for embedded users to finish
HOST = "127.0.0.1"

_lock = threading.Lock()
_leases: dict[Path, weakref.ref[Lease]] = {}  # data dir -> the lease this process holds
_servers: dict[Path, OwnerServer] = {}
_owned: list[Lease] = []


class Lease:
    """This process's lock on a store: ``shared`` (embedded use) or ``owner``.

    Every ``QA`` on the store keeps a reference; the lock goes when the last one does (or
    the process ends: the kernel drops it even after ``kill -9``).
    """

    def __init__(self, data_dir: Path, f: IO[bytes], mode: str) -> None:
        self.data_dir = data_dir
        self.file: IO[bytes] | None = f
        self.mode = mode

    def close(self) -> None:
        f, self.file = self.file, None
        if f is not None:
            f.close()

    def __del__(self) -> None:
        self.close()


def _lease(data_dir: Path) -> Lease | None:
    ref = _leases.get(data_dir)
    got = ref() if ref is not None else None
    if got is not None and got.file is None:
        return None
    return got


def _keep(lease: Lease) -> Lease:
    _leases[lease.data_dir] = weakref.ref(lease)
    return lease


@dataclass
class OwnerRecord:
    """What ``owner.json`` holds: who owns the store and where its Chroma server listens."""

    pid: int
    server_pid: int
    port: int
    started_at: float

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def to_json(self) -> str:
        return json.dumps({**self.__dict__, "url": self.url}, indent=2)

    @classmethod
    def read(cls, data_dir: Path) -> OwnerRecord | None:
        """The record in ``data_dir``, or None if missing or unreadable."""
        try:
            raw = json.loads((data_dir / RECORD_NAME).read_text(encoding="utf-8"))
            return cls(
                pid=int(raw["pid"]),
                server_pid=int(raw["server_pid"]),
                port=int(raw["port"]),
                started_at=float(raw.get("started_at", 0.0)),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, data_dir: Path) -> None:
        tmp = data_dir / f".{RECORD_NAME}.{os.getpid()}.tmp"
        tmp.write_text(self.to_json(), encoding="utf-8")
        os.replace(tmp, data_dir / RECORD_NAME)


def _key(data_dir: Path) -> Path:
    return Path(data_dir).expanduser().resolve()


def _open_lock(data_dir: Path) -> IO[bytes]:
    data_dir.mkdir(parents=True, exist_ok=True)
    return open(data_dir / LOCK_NAME, "a+b")


def _try_lock(f: IO[bytes], mode: int) -> bool:
    try:
        fcntl.flock(f.fileno(), mode | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def heartbeat(url: str, timeout: float = 2.0) -> bool:
    """True when a Chroma server answers at ``url``."""
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=timeout) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class OwnerServer:
    """The ``chroma run`` child of the owner process, on a loopback port."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        chroma_dir = self.data_dir / "chroma"
        chroma_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.data_dir / "owner-chroma.log", "ab")  # noqa: SIM115 - the child's
        code = "import sys; from chromadb.cli.cli import app; sys.argv[0] = 'chroma'; app()"
        cmd = [sys.executable, "-c", code, "run", "--path", str(chroma_dir)]
        cmd += ["--host", HOST, "--port", str(self.port)]
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        self.proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            preexec_fn=_die_with_parent,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise StoreError(
                    f"the Chroma server for {self.data_dir} exited at start (code "
                    f"{self.proc.returncode}): see {self.data_dir / 'owner-chroma.log'}"
                )
            if heartbeat(self.url, timeout=0.5):
                return
            time.sleep(0.1)
        self.stop()
        raise StoreError(
            f"the Chroma server for {self.data_dir} did not start in {START_TIMEOUT:.0f} s"
        )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _note(message: str) -> None:
    print(f"note: {message}", file=sys.stderr, flush=True)


def _clean_stale(data_dir: Path) -> None:
    """Delete a record nobody's lock backs (its owner was killed); one line says so."""
    rec = OwnerRecord.read(data_dir)
    path = data_dir / RECORD_NAME
    if rec is None and not path.exists():
        return
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    who = f"pid {rec.pid}" if rec else "unknown"
    _note(f"the previous owner of {data_dir} ({who}) is gone; its record was removed")


def _wait_for_record(data_dir: Path, f: IO[bytes], timeout: float) -> OwnerRecord | None:
    """Wait for a live owner's record; None as soon as the lock turns out to be free."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rec = OwnerRecord.read(data_dir)
        if rec is not None and heartbeat(rec.url, timeout=1.0):
            return rec
        if _try_lock(f, fcntl.LOCK_SH):
            return None
        time.sleep(0.1)
    raise StoreError(
        f"the store {data_dir} is locked by an owner that does not answer: stop the "
        f"'rag chat' using it, or remove {data_dir / LOCK_NAME} if no rag process runs"
    )


def attach(settings: Settings) -> tuple[Settings, Lease | None]:
    """Settings that use the store's live owner (``chroma_url``), else embedded mode.

    Returns the settings and the lease to keep while using them: in embedded mode a shared
    lock, so that no owner can start under an embedded client. Settings that already name a
    server are returned as they are.
    """
    if settings.chroma_url:
        return settings, None
    data_dir = _key(settings.data_dir)
    with _lock:
        held = _lease(data_dir)
        if held is not None:
            if held.mode == "owner":
                return settings.with_(chroma_url=_servers[data_dir].url), held
            return settings, held
        f = _open_lock(data_dir)
        if _try_lock(f, fcntl.LOCK_SH):
            _clean_stale(data_dir)
            return settings, _keep(Lease(data_dir, f, "shared"))
        got = _wait_for_record(data_dir, f, START_TIMEOUT)
        if got is None:  # the owner ended while we looked: embedded after all
            _clean_stale(data_dir)
            return settings, _keep(Lease(data_dir, f, "shared"))
        f.close()
        return settings.with_(chroma_url=got.url), None


class _Busy(StoreError):
    """Embedded users of the store did not finish in time."""


def serve(
    settings: Settings, *, wait: float = WAIT_TIMEOUT, fallback: bool = False
) -> tuple[Settings, Lease | None]:
    """Become the store's owner (or use the live one): start its Chroma server, record it.

    Returns settings whose ``chroma_url`` is the server every process should use, and the
    owner lease (None when another process owns the store). Waits up to ``wait`` seconds for
    embedded users of the store (e.g. a running ``rag ask``) to finish; with ``fallback``,
    uses the store as they do (``attach``) instead of failing when they have not.
    """
    if settings.chroma_url:
        return settings, None
    try:
        return _serve(settings, wait)
    except _Busy:
        if not fallback:
            raise
    return attach(settings)


def _serve(settings: Settings, wait: float) -> tuple[Settings, Lease | None]:
    data_dir = _key(settings.data_dir)
    with _lock:
        held = _lease(data_dir)
        if held is not None and held.mode == "owner":
            return settings.with_(chroma_url=_servers[data_dir].url), held
        if held is not None:  # used embedded in this process: the last QA must go first
            raise _Busy(f"this process uses {data_dir} embedded: open it with serve=True first")
        f = _open_lock(data_dir)
        got = _take_exclusive(data_dir, f, wait)
        if got is not None:
            return settings.with_(chroma_url=got.url), None
        if (data_dir / RECORD_NAME).exists():
            _clean_stale(data_dir)
        server = OwnerServer(data_dir)
        try:
            server.start()
        except BaseException:
            f.close()
            raise
        assert server.proc is not None
        OwnerRecord(os.getpid(), server.proc.pid, server.port, time.time()).write(data_dir)
        lease = Lease(data_dir, f, "owner")
        _owned.append(lease)  # an owner stays one until release() or exit
        _keep(lease)
        _servers[data_dir] = server
    atexit.register(release, data_dir)
    threading.Thread(target=_watch, args=(data_dir,), daemon=True, name="rag-owner").start()
    return settings.with_(chroma_url=server.url), lease


def _watch(data_dir: Path, every: float = 2.0) -> None:
    """Restart the owner's Chroma server if it dies (clients reconnect on their next call).

    Runs in its own thread for the life of the owner, so the restarted child (which dies
    with the thread that started it, ``PR_SET_PDEATHSIG``) lives as long as the process.
    """
    while data_dir in _servers:
        time.sleep(every)
        try:
            ensure_server(data_dir)
        except StoreError as e:
            _note(str(e))


def _take_exclusive(data_dir: Path, f: IO[bytes], wait: float) -> OwnerRecord | None:
    """Take the owner lock (None), or find that another live owner won (its record)."""
    deadline = time.monotonic() + wait
    told = False
    while not _try_lock(f, fcntl.LOCK_EX):
        rec = OwnerRecord.read(data_dir)
        if rec is not None and rec.pid != os.getpid() and heartbeat(rec.url, timeout=1.0):
            f.close()
            return rec
        if time.monotonic() >= deadline:
            f.close()
            raise _Busy(
                f"other rag processes still use {data_dir} directly after {wait:.0f} s: "
                "let them finish (or stop them) and start again"
            )
        if not told and wait > 1:
            _note(f"waiting for other rag processes using {data_dir} to finish")
            told = True
        time.sleep(0.2)
    return None


def release(data_dir: Path | str) -> None:
    """Stop owning ``data_dir``: stop the server, delete the record, drop the lock."""
    key = _key(Path(data_dir))
    with _lock:
        server = _servers.pop(key, None)
        if server is not None:
            rec = OwnerRecord.read(key)
            if rec is not None and rec.pid == os.getpid():
                with contextlib.suppress(FileNotFoundError):
                    (key / RECORD_NAME).unlink()
            server.stop()
        held = _lease(key)
        if held is not None and held.mode == "owner":
            held.close()
            _owned[:] = [x for x in _owned if x is not held]


def ensure_server(data_dir: Path | str) -> bool:
    """Restart this process's Chroma server if it died; True if it is (again) up.

    The port stays the same, so every client's next call reconnects by itself.
    """
    key = _key(Path(data_dir))
    with _lock:
        server = _servers.get(key)
        if server is None:
            return False
        if server.alive() and heartbeat(server.url, timeout=1.0):
            return True
        server.stop()
        server.start()
        assert server.proc is not None
        OwnerRecord(os.getpid(), server.proc.pid, server.port, time.time()).write(key)
        _note(f"the Chroma server for {key} had stopped; restarted on port {server.port}")
        return True


def status(data_dir: Path | str) -> dict[str, Any]:
    """Who owns ``data_dir`` now: ``{"owner": bool, "pid", "url"}`` (takes no lasting lock)."""
    key = _key(Path(data_dir))
    none: dict[str, Any] = {"owner": False, "pid": None, "url": None}
    held = _lease(key)
    if held is not None:
        if held.mode != "owner":
            return none
        return {"owner": True, "pid": os.getpid(), "url": _servers[key].url}
    if not (key / LOCK_NAME).exists():
        return none
    with open(key / LOCK_NAME, "a+b") as f:
        free = _try_lock(f, fcntl.LOCK_SH)
    rec = OwnerRecord.read(key)
    if free or rec is None:
        return none
    return {"owner": True, "pid": rec.pid, "url": rec.url}


__all__ = [
    "Lease",
    "OwnerRecord",
    "attach",
    "ensure_server",
    "heartbeat",
    "release",
    "serve",
    "status",
]
