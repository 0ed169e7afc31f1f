"""Sentences with offsets, and citation checking shared by both answerers.

A citation's quote is always a span of the cleaned document text, so
``quote == document.text[start:end]`` holds by construction; ``verify_citations``
re-checks it, and ``verify_generated`` ties each ``[n]`` of a generated answer to the
sentence of passage n that supports it, dropping markers that point nowhere and flagging
figures the cited passage does not contain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.textnorm import normalize, tokenize
from rag.types import Citation, Document, Passage

_SENT_END = re.compile(r"[。！？!?；;…]+[”’\"'」』)）]*|\.(?=\s|$)[”’\"')]*|\n+")
_CLAUSE_END = re.compile(r"[，,、：:]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of every sentence in ``text[start:end]``, whitespace trimmed."""
    end = len(text) if end is None else end
    spans = []
    pos = start
    for m in _SENT_END.finditer(text, start, end):
        spans.append((pos, m.end()))
        pos = m.end()
    if pos < end:
        spans.append((pos, end))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e - s >= 2:
            out.append((s, e))
    return out


def clause_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Clauses of one sentence, split at commas and colons (offsets into ``text``)."""
    spans = []
    pos = start
    for m in _CLAUSE_END.finditer(text, start, end):
        # a comma inside a number (1,000) is not a clause break
        if m.group() == "," and m.start() > 0 and text[m.start() - 1].isdigit() and m.end() < len(text) and text[m.end()].isdigit():
            continue
        spans.append((pos, m.end()))
        pos = m.end()
    if pos < end:
        spans.append((pos, end))
    return [(s, e) for s, e in spans if e > s]


def numbers_in(text: str) -> set[str]:
    """Figures written in ``text``, normalised (``1,000`` -> ``1000``)."""
    return {n.replace(",", "") for n in _NUMBER.findall(normalize(text))}


def make_citation(n: int, doc: Document | Passage, quote_start: int, quote_end: int, text: str,
                  url: str | None = None) -> Citation:
    return Citation(n=n, doc_id=doc.doc_id, title=doc.title, source=doc.source, date=doc.date,
                    quote=text[quote_start:quote_end], start=quote_start, end=quote_end,
                    url=url if url is not None else getattr(doc, "url", None))


def verify_citations(citations: list[Citation], docs: dict[str, Document]) -> list[Citation]:
    """Citations whose quote is exactly the document text at their offsets."""
    return [c for c in citations if c.doc_id in docs and docs[c.doc_id].text[c.start : c.end] == c.quote]


@dataclass
class Verified:
    text: str
    citations: list[Citation]
    notes: list[str]


_MARK = re.compile(r"\[(\d{1,3})\]")


def best_sentence(statement: str, doc_text: str, start: int, end: int) -> tuple[int, int, float]:
    """The sentence of ``doc_text[start:end]`` sharing most tokens and figures with the statement."""
    st = set(tokenize(statement))
    nums = numbers_in(statement)
    best = (start, min(end, start + 200), -1.0)
    for s, e in sentence_spans(doc_text, start, end):
        sent = doc_text[s:e]
        toks = set(tokenize(sent))
        score = len(st & toks) + 2 * len(nums & numbers_in(sent))
        if score > best[2]:
            best = (s, e, float(score))
    return best


def verify_generated(answer: str, passages: list[Passage], docs: dict[str, Document]) -> Verified:
    """Check a generated answer's ``[n]`` markers against the passages it was given.

    Markers pointing to no passage are removed. Each remaining marker becomes a citation
    quoting the supporting sentence of that passage. A statement whose figures appear in
    none of its cited passages is dropped, with a note.
    """
    notes: list[str] = []
    parts = re.split(r"(?<=[。！？!?.;；])\s*|\n+", answer)
    kept: list[str] = []
    cites: dict[tuple[str, int, int], Citation] = {}
    for part in parts:
        if not part.strip():
            continue
        marks = [int(m) for m in _MARK.findall(part)]
        valid = [m for m in marks if 1 <= m <= len(passages)]
        bad = [m for m in marks if m not in valid]
        if bad:
            notes.append(f"removed citation marker(s) {bad} that point to no source")
        body = _MARK.sub("", part).strip()
        if not body:
            continue
        stated = numbers_in(body)
        if valid and stated:
            support = set().union(*(numbers_in(passages[m - 1].text) for m in valid))
            missing = stated - support
            if missing:
                notes.append(f"dropped a statement whose figures {sorted(missing)} are not in its cited source")
                continue
        elif not valid and stated:
            notes.append("dropped an uncited statement with figures")
            continue
        new_marks = []
        for m in dict.fromkeys(valid):
            p = passages[m - 1]
            doc = docs.get(p.doc_id)
            if doc is None:
                continue
            s, e, _ = best_sentence(body, doc.text, p.start, p.end)
            key = (p.doc_id, s, e)
            if key not in cites:
                cites[key] = make_citation(len(cites) + 1, doc, s, e, doc.text)
            new_marks.append(cites[key].n)
        kept.append(body + "".join(f"[{n}]" for n in new_marks))
    sep = "" if re.search(r"[\u4e00-\u9fff]", answer) else " "
    return Verified(text=sep.join(kept).strip(), citations=list(cites.values()), notes=notes)
