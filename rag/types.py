"""The records that flow through the pipeline: documents, chunks, passages, answers, and the
events of a streamed answer (``TextDelta`` pieces, then one ``Final``).

Plain dataclasses with ``to_dict`` for JSON; no behaviour beyond small helpers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Document:
    """A cleaned article. Chunks and citations point into ``text`` by character offsets."""

    doc_id: str
    title: str
    source: str
    date: str | None
    lang: str
    vendors: list[str]
    text: str
    url: str | None = None
    path: str | None = None
    n_chunks: int = 0
    # where each page starts in ``text`` (PDFs; empty for unpaged sources)
    pages: list[int] = field(default_factory=list)
    # the other outlets that ran the same story: {"source", "url", "title", "date", "path"}
    also: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self, *, with_text: bool = True) -> dict[str, Any]:
        d = asdict(self)
        if not with_text:
            d.pop("text")
        return d

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding character ``offset`` of ``text``, or None if unpaged."""
        if not self.pages:
            return None
        from bisect import bisect_right

        return max(1, bisect_right(self.pages, offset))


@dataclass
class Chunk:
    """A slice of a document: ``text == document.text[start:end]``."""

    chunk_id: str
    doc_id: str
    index: int
    start: int
    end: int
    text: str
    page: int | None = None


@dataclass
class Passage:
    """A retrieved chunk with its document's metadata and scores."""

    chunk_id: str
    doc_id: str
    title: str
    source: str
    date: str | None
    lang: str
    vendors: list[str]
    start: int
    end: int
    text: str
    score: float = 0.0
    scores: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Citation:
    """One numbered source of an answer; ``quote == document.text[start:end]``."""

    n: int
    doc_id: str
    title: str
    source: str
    date: str | None
    quote: str
    start: int
    end: int
    url: str | None = None
    page: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    """What ``QA.ask`` returns."""

    question: str
    text: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    answerer: str = "offline"
    notes: list[str] = field(default_factory=list)
    resolved_question: str | None = None
    model: str | None = None  # the LLM that answered (None: no LLM was asked)
    removed: list[str] = field(default_factory=list)  # model statements the verifier removed

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "resolved_question": self.resolved_question,
            "text": self.text,
            "abstained": self.abstained,
            "answerer": self.answerer,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "timings": self.timings,
            "notes": self.notes,
            "model": self.model,
            "removed": self.removed,
        }


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of answer text, ready to show; ``QA.stream`` yields these before its ``Final``."""

    text: str


@dataclass(frozen=True, slots=True)
class Final:
    """The finished ``Answer`` (the whole text and its citations): the last event of a stream."""

    answer: Answer


# What ``QA.stream`` yields: ``TextDelta``s, then exactly one ``Final``. Callers ``match`` on it:
#   case TextDelta(text): show(text)
#   case Final(answer): done(answer)
StreamEvent = TextDelta | Final


@dataclass
class FileOutcome:
    """What happened to one input file during an ingest."""

    path: str
    status: str  # added | updated | unchanged | duplicate | failed | skipped
    doc_id: str | None = None
    message: str = ""
    chunks: int = 0


@dataclass
class IngestReport:
    """Summary of one ``QA.ingest`` call."""

    files: list[FileOutcome] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def added(self) -> int:
        return self.count("added")

    @property
    def updated(self) -> int:
        return self.count("updated")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged") + self.count("duplicate")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def failures(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == "failed"]

    def summary(self) -> str:
        """The one line printed at the end of an ingest."""
        line = (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.failed} failed"
        )
        skipped = self.count("skipped")
        if skipped:
            line += f", {skipped} skipped"
        if self.removed:
            line += f", {len(self.removed)} removed"
        return line + f" in {self.seconds:.1f}s"

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": [asdict(f) for f in self.files],
            "removed": self.removed,
            "seconds": self.seconds,
            "stage_seconds": self.stage_seconds,
            "summary": self.summary(),
        }
