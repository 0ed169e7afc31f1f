"""When Python's cyclic garbage collector runs in this program.

The collector starts a young-generation pass every 700 new container objects; every tenth
of those also walks the middle generation, and the oldest (everything long alive) is walked
once enough survivors have piled up in it. Work here builds many long-lived
objects at once (chromadb's modules, jieba's dictionary, the data files, a batch of chunks and
facts), so with the default threshold the collector walks the same live objects hundreds of
times: 280 passes, 0.15 s, in a cold ``rag ask``; 659 passes, 0.43 s, in an ingest of the
corpus (6 % of its time). ``fewer_collections`` raises the young threshold while a unit of
such work runs (garbage cycles are still collected, in fewer, larger passes) and restores it
after; ``program_policy`` keeps it raised for the whole ``rag`` process and freezes what is
still alive at exit, which the interpreter's last collections would otherwise walk again
(0.2 s after an ask) just before the process ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 50_000
"""New container objects between two young collections while the policy holds (default 700)."""

_lock = threading.Lock()
_depth = 0
_saved = 700


@contextmanager
def fewer_collections(threshold: int = YOUNG_THRESHOLD) -> Iterator[None]:
    """Raise the young-generation threshold to at least ``threshold`` inside the block.

    Nested and concurrent blocks (two ingests in threads) share one raise: the first to
    enter saves the threshold, the last to leave restores it. Usable as a decorator."""
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()[0]
            gc.set_threshold(max(threshold, _saved))
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.set_threshold(_saved)


def program_policy(threshold: int = YOUNG_THRESHOLD) -> None:
    """For a process that is this program (the ``rag`` command): the raised threshold for
    its whole life, and what is alive at exit frozen (``gc.freeze``) so that the exit frees
    it without collector passes. Library callers and tests keep Python's defaults."""
    import atexit

    gc.set_threshold(max(threshold, gc.get_threshold()[0]))
    atexit.register(gc.freeze)  # registered first, so it runs last of the exit handlers
