"""The bench's fair-timing helpers: slices the raw embedders take turns on, and the CPU
accounting (busy and steal shares from /proc/stat, the quiet-moment wait)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from benchmarks import cpuload
from benchmarks.workers import _slices


def test_slices_cover_every_text_once_in_order() -> None:
    texts = [str(i) for i in range(17)]
    parts = _slices(texts, 8)
    assert len(parts) == 8
    assert [t for p in parts for t in p] == texts
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_slices_never_empty_when_fewer_texts_than_slices() -> None:
    assert _slices(["a", "b"], 8) == [["a"], ["b"]]
    assert _slices([], 8) == []


def test_shares_split_busy_idle_and_steal() -> None:
    before = [0] * 8
    after = [30, 0, 10, 50, 0, 0, 0, 10]  # user, nice, system, idle, iowait, irq, softirq, steal
    s = cpuload.shares(before, after)
    assert s == pytest.approx({"busy": 0.5, "steal": 0.1})
    assert cpuload.shares(None, after) is None
    assert cpuload.shares(after, after) == {"busy": 0.0, "steal": 0.0}


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="Linux /proc/stat only")
def test_cpu_times_count_a_busy_loop() -> None:
    a = cpuload.cpu_times()
    end = time.perf_counter() + 0.3
    while time.perf_counter() < end:
        pass
    s = cpuload.shares(a, cpuload.cpu_times())
    assert s is not None and s["busy"] > 0.2  # one of at most a few cores spun


def test_wait_quiet_gives_up_at_its_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpuload, "shares", lambda a, b: {"busy": 1.0, "steal": 0.0})
    t = time.perf_counter()
    waited = cpuload.wait_quiet(sample=0.05, timeout=0.3)
    assert 0.3 <= waited < 1.0 and time.perf_counter() - t < 1.0


def test_wait_quiet_returns_at_once_on_a_quiet_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpuload, "shares", lambda a, b: {"busy": 0.0, "steal": 0.0})
    assert cpuload.wait_quiet(sample=0.05, timeout=5.0) < 0.5
