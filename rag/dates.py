"""Article dates as sortable integers, and the range a ``since``/``until`` filter means.

The store keeps each document's date as ``20260129`` beside the ``2026-01-29`` string (written
once, at ingest) and the searcher compares those integers when a question carries a date
filter. This module only converts; it reads no store and applies no filter itself.
"""

from __future__ import annotations


def date_int(date: str | None) -> int:
    """``2026-01-29`` -> 20260129 (missing parts as 0; 0 for no or an unreadable date)."""
    if not date:
        return 0
    parts = [*date.split("-"), "0", "0"][:3]
    try:
        return int(parts[0]) * 10000 + int(parts[1]) * 100 + int(parts[2])
    except ValueError:
        return 0


def date_range(since: str | None, until: str | None) -> tuple[int, int]:
    """The inclusive (low, high) ``date_int`` bounds of a filter; an open side is unbounded.

    A partial ``until`` takes in its whole period: ``"2025"`` ends on 2025-12-31 and
    ``"2025-06"`` on the last day of June.
    """
    lo = date_int(since) if since else 0
    hi = date_int(until) if until else 99999999
    if until and len(until) <= 7:
        hi = date_int(until) + (9999 if len(until) == 4 else 99)
    return lo, hi
