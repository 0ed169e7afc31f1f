"""Progress in chunks embedded (the slow part of an ingest), with a rate and an ETA.

``ChunkMeter`` counts chunks as the embedder finishes them against a total that grows as
files are chunked, and says it in one line (``40/110 chunks · 12.3 chunks/s · ETA 6 s``).
The command line shows the same numbers through tqdm; the web upload shows this line and
Gradio's progress bar. This module only counts and formats; it starts no threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

ChunkProgressFn = Callable[[int, int], None]  # (chunks embedded, chunks known so far)


class ChunkMeter:
    """Chunks embedded out of chunks known, since the first chunk was known."""

    def __init__(self) -> None:
        self.done = 0
        self.total = 0
        self._start: float | None = None
        self._lock = threading.Lock()

    def __call__(self, done: int, total: int) -> None:
        """The ``ChunkProgressFn`` the ingest calls."""
        with self._lock:
            if self._start is None and total:
                self._start = time.perf_counter()
            self.done, self.total = done, total

    @property
    def rate(self) -> float:
        """Chunks per second so far (0 before the first batch)."""
        if self._start is None or not self.done:
            return 0.0
        return self.done / max(time.perf_counter() - self._start, 1e-6)

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate, or None before there is a rate."""
        r = self.rate
        return (self.total - self.done) / r if r else None

    def line(self) -> str:
        """``40/110 chunks · 12.3 chunks/s · ETA 6 s``."""
        parts = [f"{self.done}/{self.total} chunks"]
        if self.rate:
            parts.append(f"{self.rate:.1f} chunks/s")
            eta = self.eta
            if eta is not None:
                parts.append(f"ETA {eta:.0f} s" if eta < 120 else f"ETA {eta / 60:.1f} min")
        return " · ".join(parts)
