"""The collector policy: raised while ingest work runs, restored after; raised for the whole
``rag`` program, with what is alive at exit frozen."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from rag.gcpolicy import YOUNG_THRESHOLD, fewer_collections

ROOT = Path(__file__).resolve().parents[1]


def test_fewer_collections_raises_and_restores() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold()[0] == max(YOUNG_THRESHOLD, before[0])
        assert gc.get_threshold()[1:] == before[1:]  # older generations keep theirs
        with fewer_collections(10):  # nested: never lowers, one restore at the end
            assert gc.get_threshold()[0] == max(YOUNG_THRESHOLD, before[0])
        assert gc.get_threshold()[0] == max(YOUNG_THRESHOLD, before[0])
    assert gc.get_threshold() == before


def test_fewer_collections_restores_after_an_error_and_as_a_decorator() -> None:
    before = gc.get_threshold()

    @fewer_collections()
    def work() -> int:
        raise ValueError("boom")

    with pytest.raises(ValueError):
        work()
    assert gc.get_threshold() == before


def test_overlapping_blocks_in_threads_restore_once_all_left() -> None:
    before = gc.get_threshold()
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with fewer_collections():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=other)
    with fewer_collections():
        t.start()
        inside.wait(5)
    assert gc.get_threshold()[0] == max(YOUNG_THRESHOLD, before[0])  # the thread is still in
    release.set()
    t.join(5)
    assert gc.get_threshold() == before


def test_ingest_runs_under_the_raised_threshold(fake_qa, tmp_path: Path, monkeypatch) -> None:
    from rag.ingest import Ingestor

    seen: list[int] = []
    real = Ingestor.path_index

    def probe(self, metas=None):
        seen.append(gc.get_threshold()[0])
        return real(self, metas)

    monkeypatch.setattr(Ingestor, "path_index", probe)
    (tmp_path / "a.txt").write_text("星河科技发布了Orion X1芯片。" * 5, encoding="utf-8")
    before = gc.get_threshold()
    report = fake_qa.ingest([tmp_path / "a.txt"])
    assert report.added == 1
    assert seen and seen[0] >= YOUNG_THRESHOLD
    assert gc.get_threshold() == before


def test_the_rag_program_keeps_the_policy_and_freezes_at_exit() -> None:
    # exit handlers run last-registered first: this probe, registered before main(), runs
    # after the freeze the program registers
    code = (
        "import atexit, gc, sys\n"
        "from rag import cli\n"
        "atexit.register(lambda: print('at exit', gc.get_freeze_count() > 0))\n"
        "sys.argv = ['rag', 'docs', '--help']\n"
        "try:\n"
        "    cli.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('running', gc.get_threshold()[0], gc.get_freeze_count())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert f"running {YOUNG_THRESHOLD} 0" in done.stdout, done.stderr
    assert "at exit True" in done.stdout


def test_a_library_caller_keeps_pythons_defaults() -> None:
    from rag import cli

    before = gc.get_threshold()
    with pytest.raises(SystemExit):
        cli.main(["docs", "--help"])
    assert gc.get_threshold() == before
