"""A small local Ray cluster and Chroma server for the Ray-ingest benchmark rows and tests.

``LocalRay`` runs ``ray start --head`` (no CPUs of its own: it only schedules) plus one
``ray start --address`` worker node per worker (one CPU each), every one a ``--block``
process in its own process group, with a 200 MB object store and no dashboard; ``stop``
ends exactly those process groups (never ``ray stop``, which would end every Ray on the
machine). ``LocalChroma`` is a ``chroma run`` server on loopback. Nothing here is used by
``rag`` itself: a real cluster is started as the README says.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

_COUNT_CPUS = (
    "import sys, ray; ray.init(address=sys.argv[1], logging_level=40);"
    "print(int(ray.cluster_resources().get('CPU', 0)))"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on port {port} after {timeout:.0f} s")


def _bin(name: str) -> str:
    return shutil.which(name, path=str(Path(sys.executable).parent)) or name


class _Group:
    """Processes started in their own process groups, ended by group id."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.procs: list[subprocess.Popen] = []

    def start(
        self, cmd: list[str], log: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen:
        out = open(self.logs / log, "ab")  # noqa: SIM115 - the child owns it
        p = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env
        )
        self.procs.append(p)
        return p

    def stop(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.procs.clear()


class LocalRay(_Group):
    """``ray start --head`` plus ``workers`` one-CPU worker nodes on this machine."""

    def __init__(self, tmp: Path, workers: int = 2) -> None:
        super().__init__(tmp)
        self.workers = workers
        self.port = free_port()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _ray(self, args: list[str], log: str) -> subprocess.Popen:
        common = ["--object-store-memory=200000000", "--disable-usage-stats", "--block"]
        return self.start([_bin("ray"), "start", *args, *common], log)

    def start_cluster(self, timeout: float = 180) -> None:
        head = self._ray(
            [
                "--head",
                f"--port={self.port}",
                "--num-cpus=0",  # the head schedules, the worker nodes work
                "--include-dashboard=false",
                f"--temp-dir={self.logs / 'ray'}",
            ],
            "ray-head.log",
        )
        wait_for_port(self.port, 90, head)
        for i in range(self.workers):
            self._ray([f"--address={self.address}", "--num-cpus=1"], f"ray-worker{i}.log")
        deadline = time.time() + timeout
        seen = ""
        while time.time() < deadline:  # until every worker's CPU is registered
            out = subprocess.run(
                [sys.executable, "-c", _COUNT_CPUS, self.address],
                capture_output=True,
                text=True,
                timeout=120,
            )
            seen = out.stdout.strip() or out.stderr[-300:]
            if seen == str(self.workers):
                return
            time.sleep(2)
        raise RuntimeError(f"the Ray workers did not join: {seen}")


class LocalChroma(_Group):
    """A ``chroma run`` server on loopback."""

    def __init__(self, tmp: Path) -> None:
        super().__init__(tmp)
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_server(self) -> None:
        p = self.start(
            [
                _bin("chroma"),
                "run",
                "--path",
                str(self.logs / "chroma-data"),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            "chroma.log",
        )
        wait_for_port(self.port, 90, p)
