"""What else the machine's CPUs did during a measurement, from ``/proc/stat`` (Linux).

This machine is a VM whose speed drifts by up to 1.5x within minutes. Two things can be
told apart: other processes of this VM (busy time while the bench waits: it waits for a
quiet moment before a cold start), and the host taking the virtual CPUs away (steal time,
reported beside a timing). Elsewhere (no ``/proc/stat``) both are unknown: ``None``.
"""

from __future__ import annotations

import time
from pathlib import Path

_STAT = Path("/proc/stat")


def cpu_times() -> list[int] | None:
    """The aggregate ``cpu`` line of /proc/stat: user nice system idle iowait irq softirq
    steal (clock ticks), or None where it cannot be read."""
    try:
        first = _STAT.read_text(encoding="ascii").split("\n", 1)[0].split()
    except OSError:
        return None
    if not first or first[0] != "cpu" or len(first) < 9:
        return None
    return [int(x) for x in first[1:9]]


def shares(before: list[int] | None, after: list[int] | None) -> dict[str, float] | None:
    """Busy and steal time between two ``cpu_times``, as shares of all CPU time."""
    if before is None or after is None:
        return None
    d = [b - a for a, b in zip(before, after, strict=True)]
    total = sum(d)
    if total <= 0:
        return {"busy": 0.0, "steal": 0.0}
    idle = d[3] + d[4]
    return {"busy": (total - idle) / total, "steal": d[7] / total}


def wait_quiet(max_busy: float = 0.15, sample: float = 0.5, timeout: float = 30.0) -> float:
    """Wait until a ``sample``-second window shows at most ``max_busy`` of the CPUs busy
    (processes left over by the step before, the page cache writing back), at most
    ``timeout`` seconds; the seconds waited (0.0 where /proc/stat is unreadable)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        a = cpu_times()
        time.sleep(sample)
        s = shares(a, cpu_times())
        if s is None or s["busy"] <= max_busy:
            break
    return time.perf_counter() - start
