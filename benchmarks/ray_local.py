"""A small local Ray cluster and Chroma server for the Ray-ingest benchmark rows and tests.

``LocalRay`` runs ``ray start --head`` (no CPUs of its own: it only schedules) plus one
``ray start --address`` worker node per worker (one CPU each), every one a ``--block``
process in its own process group, with a 200 MB object store and no dashboard; ``stop``
ends exactly those process groups (never ``ray stop``, which would end every Ray on the
machine). ``LocalChroma`` is a ``chroma run`` server on loopback. Nothing here is used by
``rag`` itself: a real cluster is started as the README says.
"""

from __future__ import annotations

import contextlib
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
        self._own_temp: Path | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _ray(self, args: list[str], log: str) -> subprocess.Popen:
        common = ["--object-store-memory=200000000", "--disable-usage-stats", "--block"]
        return self.start([_bin("ray"), "start", *args, *common], log)

    def _temp_dir(self) -> Path:
        """Ray's session folder: its own logs folder where that path is short, else a new
        folder under the system temp dir. Ray's socket paths (``.../session_<stamp>/sockets/
        plasma_store``, about 60 characters more) must stay within AF_UNIX's 107 bytes."""
        here = self.logs / "ray"
        if len(str(here)) <= 40:
            return here
        import tempfile

        self._own_temp = Path(tempfile.mkdtemp(prefix="ray"))
        return self._own_temp

    def stop(self) -> None:
        super().stop()
        if self._own_temp is not None:  # a session folder of its own: gone with the cluster
            shutil.rmtree(self._own_temp, ignore_errors=True)
            self._own_temp = None

    def start_cluster(self, timeout: float = 300) -> None:
        head = self._ray(
            [
                "--head",
                f"--port={self.port}",
                "--num-cpus=0",  # the head schedules, the worker nodes work
                "--include-dashboard=false",
                f"--temp-dir={self._temp_dir()}",
            ],
            "ray-head.log",
        )
        wait_for_port(self.port, 90, head)
        deadline = time.time() + timeout
        for i in range(self.workers):  # one at a time: a loaded machine times out a crowd
            for _attempt in range(3):
                node = self._ray(
                    [f"--address={self.address}", "--num-cpus=1"], f"ray-worker{i}.log"
                )
                if self._wait_cpus(i + 1, node, deadline):
                    break
                # it gave up (Ray waits 30 s for its raylet): end what it left, try again
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(node.pid, signal.SIGTERM)
                self.procs.remove(node)
            else:
                raise RuntimeError(
                    f"Ray worker {i} did not join; see {self.logs}/ray-worker{i}.log"
                )

    def _wait_cpus(self, n: int, node: subprocess.Popen, deadline: float) -> bool:
        """True once the cluster has ``n`` CPUs; False if ``node`` exits first."""
        while time.time() < deadline:
            out = subprocess.run(
                [sys.executable, "-c", _COUNT_CPUS, self.address],
                capture_output=True,
                text=True,
                timeout=120,
            )
            if out.stdout.strip() == str(n):
                return True
            if node.poll() is not None:
                return False
            time.sleep(1)
        raise RuntimeError(f"the Ray cluster has not got {n} CPUs after the timeout")


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
