"""Sentences with offsets, and citation checking shared by both answerers.

A citation's quote is always a span of the cleaned document text, so
``quote == document.text[start:end]`` holds by construction. ``GeneratedAnswerChecker`` (and
its one-shot form ``verify_generated``) turns a generated answer into a safe one, statement by
statement, as the text streams in:

- a statement is a sentence, or a clause that carries its own markers ("96GB[1]，700GB/s[2]。");
- a ``[n]`` that points to no given passage is removed, and a statement whose only markers
  pointed nowhere is dropped;
- each remaining ``[n]`` becomes a citation quoting the sentence of passage n that best
  supports the statement (shared words and figures), never the whole chunk;
- a statement whose figures are not all in its quotes **by value** is dropped, with a note
  ("1.2TB/s" is "1200GB/s", "九十六GB" is "96GB": ``rag.quantities``); so is one naming what
  its sources do not ("HBM4", a Latin name in Chinese text), one quoting words they do not
  contain, one whose words are mostly absent from a same-language source, and one sharing no
  word with its source;
- an uncited statement is dropped unless it only frames the answer ("根据资料，要点如下：",
  words of ``rag/data/framing.yaml`` and of the question), and then is kept only once some
  cited statement survives;
- a supported statement in the other language than the question's is dropped and counted
  (``wrong_language``), so the answerer can give the offline answer instead;
- a sentence that gives the model orders ("ignore previous instructions") is never a quote;
- citations are renumbered 1..N in order of appearance; every dropped statement is kept in
  ``removed`` for the user to see.

It does not decide what to say when nothing survives: the answerer abstains then.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from rag import datafiles
from rag.glossary import expand_query
from rag.lang import HAN_CHAR
from rag.quantities import Quantity, quantities, supported, tables
from rag.textnorm import STOPWORDS, normalize, tokenize
from rag.types import Citation, Document, Passage

_SENT_END = re.compile(r"[。！？!?；;…]+[”’\"'」』)）]*|\.(?=\s|$)[”’\"')]*|\n+")
CLAUSE_BREAKS = "，,、：:"
"""Where a quote may be cut: commas (an enumeration's 、 too) and colons."""
CLAUSE_BREAKS_LISTS_WHOLE = "，,：:；;"
"""Clauses that judge a figure: commas, colons and semicolons; an enumeration joined by 、
stays whole, so a figure and the list it belongs to are read together."""
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of every sentence in ``text[start:end]``, whitespace trimmed."""
    end = len(text) if end is None else end
    return _trimmed(text, _cut(text, start, end, _SENT_END))


def _cut(
    text: str,
    start: int,
    end: int,
    rx: re.Pattern[str],
    kept: Callable[[re.Match[str]], bool] | None = None,
) -> list[tuple[int, int]]:
    """``text[start:end]`` cut after each match of ``rx`` (but not after one ``kept`` keeps)."""
    spans = []
    pos = start
    for m in rx.finditer(text, start, end):
        if kept is not None and kept(m):
            continue
        spans.append((pos, m.end()))
        pos = m.end()
    if pos < end:
        spans.append((pos, end))
    return spans


def _trimmed(text: str, spans: list[tuple[int, int]], tail: str = "") -> list[tuple[int, int]]:
    """The spans without surrounding whitespace (and trailing ``tail`` characters); those
    shorter than two characters dropped."""
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and (text[e - 1].isspace() or text[e - 1] in tail):
            e -= 1
        if e - s >= 2:
            out.append((s, e))
    return out


@lru_cache(maxsize=8)
def _breaks_rx(breaks: str) -> re.Pattern[str]:
    return re.compile(f"[{re.escape(breaks)}]")


def clause_spans(
    text: str, start: int, end: int, breaks: str = CLAUSE_BREAKS
) -> list[tuple[int, int]]:
    """Clauses of one sentence, split after each of ``breaks`` (offsets into ``text``)."""

    def in_number(m: re.Match[str]) -> bool:  # a comma inside a number (1,000) is no break
        return (
            m.group() == ","
            and m.start() > 0
            and text[m.start() - 1].isdigit()
            and m.end() < len(text)
            and text[m.end()].isdigit()
        )

    spans = _cut(text, start, end, _breaks_rx(breaks), in_number)
    return [(s, e) for s, e in spans if e > s]


def numbers_in(text: str) -> set[str]:
    """Figures written in ``text``, normalised (``1,000`` -> ``1000``)."""
    return {n.replace(",", "") for n in _NUMBER.findall(normalize(text))}


def make_citation(
    n: int,
    doc: Document | Passage,
    quote_start: int,
    quote_end: int,
    text: str,
    url: str | None = None,
) -> Citation:
    return Citation(
        n=n,
        doc_id=doc.doc_id,
        title=doc.title,
        source=doc.source,
        date=doc.date,
        quote=text[quote_start:quote_end],
        start=quote_start,
        end=quote_end,
        url=url if url is not None else getattr(doc, "url", None),
        page=doc.page_at(quote_start) if isinstance(doc, Document) else None,
    )


# -- generated answers -------------------------------------------------------------------

# "[3]", "[1, 2]", "【2】", "[source 2]", "[来源2]": every way a model writes a source marker
MARKER = re.compile(
    r"[\[【]\s*(?:(?:sources?|src|ref|doc|passage|来源|资料|文档)\s*#?\s*)?"
    r"(\d{1,3}(?:\s*[,，、;]\s*\d{1,3})*)\s*[\]】]",
    re.I,
)
# a statement ends at sentence punctuation or a line break; markers right after it belong to it
_STMT_END = re.compile(r"[。！？!?；;]+[”’\"'」』)）]*|\.(?=\s|$|[\[【])[”’\"')]*|\n+")
_MARKERS_AFTER = re.compile(rf"(?:[ \t]*{MARKER.pattern})+", re.I)
# a clause with its own markers ("容量96GB[1]，带宽700GB/s[2]。") is a statement of its own
_CLAUSE_AFTER_MARKERS = re.compile(
    rf"(?:[ \t]*{MARKER.pattern})+(?:[ \t]*[，,;；](?!\d)|(?=[ \t]+[a-z]))", re.I
)
_LIST_PREFIX = re.compile(r"^\s*(?:[-*•·]|\(?\d{1,2}[.)、]|[（(]\d{1,2}[）)])\s+")
_TRAILING_PUNCT = re.compile(r"[。！？!?；;.,，:：]+[”’\"'」』)）]*$")
_ABSTAIN = re.compile(
    r"无法回答|不能回答|无法确定|无从得知|不知道|没有(?:提到|提及|提供|给出|相关|包含|涉及|说明)|"
    r"未(?:提到|提及|提供|给出|包含|说明)|(?:资料|来源|文档|材料)中(?:并)?(?:没有|未)|"
    r"\b(?:cannot|can ?not|can't|unable to) (?:answer|determine|tell|find)|"
    r"\bnot (?:in|contained in|mentioned in|provided in|found in|covered by|given in) the (?:sources?|context|documents?|passages?)|"
    r"\b(?:sources?|context|documents?|passages?) (?:do|does) not (?:contain|mention|provide|say|give|include)|"
    r"\bno (?:relevant )?information\b|\bi (?:don't|do not) know\b",
    re.I,
)
# text that addresses the model rather than the reader: never a supporting quote
_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget)\b.{0,20}\b(?:previous|prior|above|earlier|all)\b.{0,20}\b(?:instructions?|prompts?|rules)|"
    r"\bsystem prompt\b|\byou are now\b|\bnew instructions?\b|"
    r"(?:忽略|无视|忘记)(?:之前|以上|前面|上面|先前|所有)|系统提示|只回答|新的指令",
    re.I,
)
MAX_QUOTE = 300


def marker_numbers(text: str) -> list[int]:
    """Every source number a marker in ``text`` refers to, in order (``[1, 2]`` gives 1, 2)."""
    return [int(n) for m in MARKER.finditer(text) for n in re.findall(r"\d+", m.group(1))]


def neutralize_markers(text: str) -> str:
    """Rewrite marker-like ``[n]`` / ``【n】`` in quoted text as ``(n)`` so it cannot pose as a citation."""
    return MARKER.sub(lambda m: "(" + re.sub(r"\s+", "", m.group(1)) + ")", text)


def looks_like_injection(text: str) -> bool:
    """True for text that gives the model orders ("ignore previous instructions", "忽略之前的指令")."""
    return bool(_INJECTION.search(text))


def looks_like_abstention(text: str) -> bool:
    """True when the text says the sources do not answer ("无法回答", "not in the sources")."""
    return bool(_ABSTAIN.search(text))


def _content_tokens(text: str) -> set[str]:
    return {t for t in tokenize(text) if t not in STOPWORDS}


def passage_quote_spans(doc_text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Quotable spans for a passage: whole sentences overlapping ``[start, end)``.

    A sentence longer than ``MAX_QUOTE`` is cut into groups of its clauses so a quote
    stays short.
    """
    lo = doc_text.rfind("\n", 0, start) + 1
    hi = doc_text.find("\n", end)
    hi = len(doc_text) if hi < 0 else hi
    spans: list[tuple[int, int]] = []
    for s, e in sentence_spans(doc_text, lo, hi):
        if e <= start or s >= end:
            continue
        if e - s <= MAX_QUOTE:
            spans.append((s, e))
            continue
        gs = ge = -1
        for cs, ce in clause_spans(doc_text, s, e):
            if gs < 0:
                gs, ge = cs, ce
            elif ce - gs <= MAX_QUOTE // 2:
                ge = ce
            else:
                spans.append((gs, ge))
                gs, ge = cs, ce
        if gs >= 0:
            spans.append((gs, ge))
    return _trimmed(doc_text, spans, tail=CLAUSE_BREAKS)


def best_sentence(statement: str, doc_text: str, start: int, end: int) -> tuple[int, int, float]:
    """The quotable span of ``doc_text[start:end]`` sharing most words and figures with the statement."""
    words, figs = _claim_words(statement), quantities(statement)
    best = (start, min(end, start + MAX_QUOTE), -1.0)
    for s, e in passage_quote_spans(doc_text, start, end):
        sc = _span_score(doc_text[s:e], words, figs, s, e, start, end)
        if sc > best[2]:
            best = (s, e, sc)
    return best


def _span_score(
    text: str, words: set[str], figs: list[Quantity], s: int, e: int, ps: int, pe: int
) -> float:
    inside = 0.25 if ps <= s and e <= pe else 0.0
    return len(words & _content_tokens(text)) + 3.0 * len(_figures_in(figs, text)) + inside


def _figures_in(figs: list[Quantity], text: str) -> set[int]:
    """Indexes of the claim figures ``figs`` that ``text`` supports (equal in value)."""
    have = quantities(text, source=True)
    return {i for i, q in enumerate(figs) if supported(q, have)}


@dataclass
class Verified:
    """A checked generated answer."""

    text: str
    citations: list[Citation]
    notes: list[str]
    cited_statements: int = 0
    model_abstained: bool = False
    removed: list[str] = field(default_factory=list)
    wrong_language: int = 0


@dataclass
class _Pending:
    sep: str
    text: str


@dataclass
class GeneratedAnswerChecker:
    """Check a generated answer statement by statement while it streams in.

    ``feed`` takes raw model text and returns the verified pieces ready to show (their
    markers already renumbered); ``finish`` flushes the rest. The pieces joined equal
    ``result().text``.

    Example:
        >>> chk = GeneratedAnswerChecker(passages, docs)     # doctest: +SKIP
        >>> shown = [p for tok in tokens for p in chk.feed(tok)] + chk.finish()  # doctest: +SKIP
    """

    passages: list[Passage]
    docs: dict[str, Document]
    lang: str | None = None
    question: str = ""
    citations: list[Citation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    cited_statements: int = 0
    model_abstained: bool = False
    wrong_language: int = 0
    _buf: str = ""
    _sep: str = ""
    _pending: list[_Pending] = field(default_factory=list)
    _out: list[str] = field(default_factory=list)
    _keys: dict[tuple[str, int, int], int] = field(default_factory=dict)

    def feed(self, text: str) -> list[str]:
        """Add raw model output; return the statements completed and verified so far."""
        self._buf += text
        shown: list[str] = []
        while True:
            cut = self._complete_statement_end()
            if cut is None:
                return shown
            raw, self._buf = self._buf[:cut], self._buf[cut:]
            shown += self._statement(raw)

    def finish(self) -> list[str]:
        """The model is done: check what is left in the buffer."""
        raw, self._buf = self._buf, ""
        shown = self._statement(raw) if raw.strip() else []
        if self._pending and not self.cited_statements:
            self.notes.append(
                f"dropped {len(self._pending)} uncited statement(s): no cited statement survived"
            )
            self.removed += [p.text for p in self._pending]
            self._pending = []
        return shown

    def result(self) -> Verified:
        return Verified(
            text="".join(self._out),
            citations=list(self.citations),
            notes=list(self.notes),
            cited_statements=self.cited_statements,
            model_abstained=self.model_abstained,
            removed=list(self.removed),
            wrong_language=self.wrong_language,
        )

    def _drop(self, note: str, body: str) -> list[str]:
        """Record a removed statement (shown to the user on request) and why."""
        self.notes.append(note)
        self.removed.append(body)
        return []

    # -- internals ---------------------------------------------------------------------
    def _complete_statement_end(self) -> int | None:
        """End of the first statement in the buffer that is surely complete, else None."""
        buf = self._buf
        ends = sorted(
            [(m.end(), True) for m in _STMT_END.finditer(buf)]
            + [(m.end(), False) for m in _CLAUSE_AFTER_MARKERS.finditer(buf)]
        )
        for end, sentence in ends:
            trail = _MARKERS_AFTER.match(buf, end) if sentence else None
            if trail:
                end = trail.end()
            rest = buf[end:]
            stripped = rest.lstrip()
            if not stripped:
                return None  # a marker may still follow
            if stripped[0] in "[【" and "]" not in stripped[:16] and "】" not in stripped[:16]:
                return None  # a marker is half-written
            if stripped[0] in "[【" and MARKER.match(stripped):
                continue  # markers after a line break still belong to the statement before
            return end
        return None

    def _statement(self, raw: str) -> list[str]:
        body = raw.strip()
        lead = raw[: len(raw) - len(raw.lstrip())]
        trail = raw[len(raw.rstrip()) :]
        # keep the model's line breaks; Chinese statements join with nothing, others with a space
        if "\n" in lead:
            self._sep = "\n"
        elif lead and not self._sep:
            self._sep = " "
        shown = self._check(body)
        self._sep = "\n" if "\n" in trail else ("" if HAN_CHAR.search(body) else " ")
        return shown

    def _emit(self, sep: str, text: str) -> str:
        piece = (sep if self._out else "") + text
        self._out.append(piece)
        return piece

    def _check(self, raw: str) -> list[str]:
        sep = self._sep
        marks = marker_numbers(raw)
        body = re.sub(r"[ \t]{2,}", " ", MARKER.sub("", raw)).strip()
        body = re.sub(r"\s+(?=[。！？!?；;.,，:：])", "", body)
        if not any(ch.isalnum() for ch in body):
            return []
        abstains = looks_like_abstention(body)
        if abstains:
            self.model_abstained = True
        claim = _LIST_PREFIX.sub("", body)
        written = statement_language(claim)
        foreign = bool(self.lang and written and written != self.lang and not abstains)
        n = len(self.passages)
        valid = list(dict.fromkeys(m for m in marks if 1 <= m <= n))
        bad = sorted({m for m in marks if not 1 <= m <= n})
        if bad:
            self.notes.append(f"removed marker(s) {bad}: the model was given sources 1-{n} only")
        if marks and not valid:
            return self._drop(
                f"dropped a statement citing only sources that do not exist: {_short(body)}", body
            )
        figs = quantities(claim)
        if not valid:
            if figs:
                return self._drop(
                    f"dropped an uncited statement with figures {_raws(figs)}: {_short(body)}",
                    body,
                )
            if foreign or (not abstains and not is_framing(claim, self.question)):
                return self._drop(f"dropped an uncited statement: {_short(body)}", body)
            self._pending.append(_Pending(sep, body))
            return []
        reason = self._unsupported_words(claim, valid)
        if reason:
            return self._drop(f"dropped a statement {reason}: {_short(claim)}", body)
        spans = self._quotes(claim, valid, figs)
        if spans is None:
            self.removed.append(body)
            return []
        if foreign and written and self.lang:
            # supported, but the user asked in the other language (the answerer may fall back)
            self.wrong_language += 1
            return self._drop(
                f"dropped a statement in {_LANG_NAME[written]}: the question was asked in "
                f"{_LANG_NAME[self.lang]}: {_short(body)}",
                body,
            )
        shown: list[str] = []
        if self._pending:
            for p in self._pending:
                shown.append(self._emit(p.sep, p.text))
            self.notes.append(f"kept {len(self._pending)} uncited statement(s) without figures")
            self._pending = []
        nums: list[int] = []
        for doc_id, s, e in spans:
            key = (doc_id, s, e)
            if key not in self._keys:
                doc = self.docs[doc_id]
                self.citations.append(make_citation(len(self.citations) + 1, doc, s, e, doc.text))
                self._keys[key] = len(self.citations)
            if self._keys[key] not in nums:
                nums.append(self._keys[key])
        shown.append(self._emit(sep, _with_markers(body, nums)))
        self.cited_statements += 1
        return shown

    def _unsupported_words(self, claim: str, valid: list[int]) -> str | None:
        """Why the cited passages do not say what ``claim`` says (names, quotes, words), or None."""
        texts = []
        for m in valid:
            p = self.passages[m - 1]
            doc = self.docs.get(p.doc_id)
            texts.append(doc.text[p.start : p.end] if doc is not None else p.text)
        joined = "\n".join(texts)
        low = normalize(joined)
        squeezed = _squeezed(joined)
        aliases = {normalize(a) for a in expand_query(normalize(claim))}
        missing = [
            n
            for n in sorted(names_in(claim))
            if n not in low and not any(a in low for a in aliases if n in a or a in n)
        ]
        if missing:
            return f"naming {missing}, which its cited source(s) {valid} do not"
        for q in quotations(claim):
            if _squeezed(q) not in squeezed:
                return f"quoting words its cited source(s) {valid} do not contain"
        lang = statement_language(claim)
        same = bool(lang) and lang == statement_language(joined)
        if same and lang == "en":
            # names in capitals ("ACME") must be in an English source that is cited
            caps = {w.lower() for w in _LATIN_WORD.findall(claim) if len(w) >= 3 and w.isupper()}
            caps -= {u.lower() for u in tables().units}
            absent = sorted(c for c in caps if c not in low)
            if absent:
                return f"naming {absent}, which its cited source(s) {valid} do not"
        if same:
            own = {t for t in _content_tokens(claim) if not _numeral_token(t)}
            if own:
                have = _content_tokens(joined) | {normalize(a) for a in aliases}
                covered = sum(1 for t in own if t in have or t in low)
                if covered / len(own) < SUPPORT_RATIO:
                    return (
                        f"whose words are mostly not in its cited source(s) {valid} "
                        f"({covered}/{len(own)})"
                    )
        return None

    def _quotes(
        self, claim: str, valid: list[int], figs: list[Quantity]
    ) -> list[tuple[str, int, int]] | None:
        """The supporting spans of the cited passages, or None (with a note) when unsupported."""
        words = _claim_words(claim)
        chosen: list[tuple[str, int, int]] = []
        pool: list[tuple[str, int, int, str, float]] = []
        for m in valid:
            p = self.passages[m - 1]
            doc = self.docs.get(p.doc_id)
            if doc is None:
                continue
            best: tuple[str, int, int, float] | None = None
            for s, e in passage_quote_spans(doc.text, p.start, p.end):
                text = doc.text[s:e]
                if looks_like_injection(text):
                    continue
                sc = _span_score(text, words, figs, s, e, p.start, p.end)
                pool.append((p.doc_id, s, e, text, sc))
                if best is None or sc > best[3]:
                    best = (p.doc_id, s, e, sc)
            if best is not None and (best[0], best[1], best[2]) not in chosen:
                chosen.append((best[0], best[1], best[2]))
        if not chosen:
            self.notes.append(
                f"dropped a statement whose cited sources could not be quoted: {_short(claim)}"
            )
            return None
        by_key = {(d, s, e): t for d, s, e, t, _ in pool}
        if figs:
            covered = set().union(*(_figures_in(figs, by_key[k]) for k in chosen))
            missing = set(range(len(figs))) - covered
            # a statement may combine figures from several sentences of its sources
            for d, s, e, text, _ in sorted(pool, key=lambda x: -x[4]):
                if not missing:
                    break
                hit = _figures_in(figs, text) & missing
                if hit and (d, s, e) not in chosen:
                    chosen.append((d, s, e))
                    missing -= hit
            if missing:
                self.notes.append(
                    f"dropped a statement whose figures {_raws([figs[i] for i in sorted(missing)])} "
                    f"are not in its cited source(s) {valid}: {_short(claim)}"
                )
                return None
            # quotes that support no figure and no word add nothing
            chosen = [
                k
                for k in chosen
                if _figures_in(figs, by_key[k]) or words & _content_tokens(by_key[k])
            ] or chosen
        elif words and not any(words & _content_tokens(by_key[k]) for k in chosen):
            self.notes.append(
                f"dropped a statement that shares no word with its cited source(s) {valid}: "
                f"{_short(claim)}"
            )
            return None
        return chosen


_LANG_NAME = {"zh": "Chinese", "en": "English"}
_LATIN_WORD = re.compile(r"[A-Za-z]+")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9+\-]*[0-9][A-Za-z0-9+\-]*|[0-9]+[A-Za-z][A-Za-z0-9+\-]*")
_QUOTED = re.compile(r"“([^”]{2,300})”|「([^」]{2,300})」|『([^』]{2,300})』|\"([^\"]{2,300})\"")
_NOT_WORD = re.compile(r"[\W_]+")
SUPPORT_RATIO = 0.5  # share of a statement's words its cited passages must contain (same language)


def statement_language(text: str) -> str | None:
    """``zh`` or ``en`` when a statement is clearly written in one of them, else None
    ("96GB HBM2e" is neither)."""
    text = MARKER.sub("", text)
    han = len(HAN_CHAR.findall(text))
    latin = sum(len(w) for w in _LATIN_WORD.findall(text))
    if han and han > 0.3 * (han + latin):
        return "zh"
    words = [w for w in _LATIN_WORD.findall(text) if len(w) > 1]
    if not han and len(words) >= 4:
        return "en"
    return None


@lru_cache(maxsize=1)
def _framing_words() -> frozenset[str]:
    return frozenset(normalize(str(w)) for w in datafiles.load_yaml("framing.yaml")["words"])


datafiles.on_reload(_framing_words.cache_clear)


def is_framing(statement: str, question: str = "") -> bool:
    """True for a sentence that frames an answer ("根据资料，要点如下：") and claims nothing:
    every content word is a framing word (``rag/data/framing.yaml``) or a word of the question."""
    allowed = _framing_words() | _content_tokens(question)
    words = _content_tokens(statement)
    return all(w in allowed or any(w in f for f in _framing_words()) for w in words)


def _squeezed(text: str) -> str:
    return _NOT_WORD.sub("", normalize(text))


def quotations(statement: str, min_chars: int = 8) -> list[str]:
    """Text a statement puts in quotation marks, when long enough to be a quote (not a name)."""
    out = []
    for m in _QUOTED.finditer(statement):
        q = next(g for g in m.groups() if g is not None)
        han = len(HAN_CHAR.findall(q))
        words = len(_LATIN_WORD.findall(q))
        if han >= min_chars or words >= 5:
            out.append(q)
    return out


def names_in(statement: str) -> set[str]:
    """Names a source must contain for a statement to be about what it says: tokens mixing
    letters and digits ("X12", "HBM4", "700A") and, in Chinese text, Latin words ("Habana")."""
    text = MARKER.sub("", statement)
    names = {m.group().lower() for m in _NAME.finditer(text)}
    if statement_language(text) == "zh":
        names |= {w.lower() for w in _LATIN_WORD.findall(text) if len(w) >= 3}
    t = tables()
    units = {u.lower() for u in t.units}
    return {
        n for n in names if n not in units and not _is_quantity(n) and not t.period_re.fullmatch(n)
    }


_NUMERAL_CHARS = set("0123456789.,%零〇一二两三四五六七八九十百千万亿点")


def _numeral_token(token: str) -> bool:
    """A token that is (part of) a figure, a unit or a hedge: checked as a figure, not as a word."""
    t = tables()
    return (
        all(ch in _NUMERAL_CHARS for ch in token)
        or _is_quantity(token)
        or token in {u.lower() for u in t.units}
        or token in t.hedges
    )


def _is_quantity(token: str) -> bool:
    """ "96gb", "5nm", "3.2ghz": a figure with its unit, checked as a figure instead."""
    m = re.fullmatch(r"[0-9.]+([a-z/%]+)", token)
    return m is not None and m.group(1) in {u.lower() for u in tables().units}


def _claim_words(claim: str) -> set[str]:
    """Content words of a statement plus their glossary aliases in the other language."""
    words = _content_tokens(claim)
    for alias in expand_query(normalize(claim)):
        words |= _content_tokens(alias)
    return words


def _raws(figs: list[Quantity]) -> list[str]:
    return sorted({q.raw for q in figs})


def _with_markers(body: str, nums: list[int]) -> str:
    marks = "".join(f"[{n}]" for n in nums)
    m = _TRAILING_PUNCT.search(body)
    head, tail = (body[: m.start()], m.group()) if m else (body, "")
    # Chinese text takes markers with no space ("96GB[1]。"), English with one ("96 GB [1].")
    space = "" if not head or HAN_CHAR.search(head) else " "
    return f"{head}{space}{marks}{tail}"


def _short(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def verify_generated(
    answer: str,
    passages: list[Passage],
    docs: dict[str, Document],
    lang: str | None = None,
    question: str = "",
) -> Verified:
    """Check a whole generated answer at once (see ``GeneratedAnswerChecker``)."""
    chk = GeneratedAnswerChecker(passages, docs, lang=lang, question=question)
    chk.feed(answer)
    chk.finish()
    return chk.result()
