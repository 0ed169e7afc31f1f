"""Rendering extractive answers: trim each chosen sentence to the clauses that answer, and
write the quotes with their ``[n]`` markers in the asker's language.

A quote is always an exact span of its document (``quote == text[start:end]``). An English
answer over a Chinese quote leads with the figure the question asks about, then the quote.
This module chooses no sentences (``rag.sentences``) and composes no facts
(``rag.answer_facts``).
"""

from __future__ import annotations

from rag.citations import CLAUSE_BREAKS_LISTS_WHOLE, clause_spans, make_citation, neutralize_markers
from rag.evidence import FIGURE, figure_for
from rag.glossary import ATTRIBUTES, evidence_has_attribute
from rag.lang import is_chinese
from rag.quantities import written_in
from rag.sentences import Candidate, Selection, concepts_in, key, score
from rag.textnorm import tokenize
from rag.types import Citation

# a trimmed quote is at most this long (characters): Chinese packs more per character
MAX_QUOTE = {"zh": 110, "en": 260}
TRIM_ATTRIBUTE = 2.5  # a clause carrying an asked attribute's cue
TRIM_FIGURE_QUANTITY = 1.0  # a clause with a unit figure, for a how-much question
TRIM_FIGURE = 0.3  # ... otherwise
TRIM_GROW = 0.5  # neighbouring clauses join the quote when they score above this


def trim(
    doc_text: str, s: int, e: int, sel: Selection, clause_weights: dict[str, float], max_len: int
) -> tuple[int, int]:
    """The best window of clauses of a long sentence, so the quote stays short.

    ``clause_weights`` leave out the entity the question is about: every clause of a spec
    sentence is about the chip; the clause to keep carries the asked attribute.
    """
    if e - s <= max_len:
        return s, e
    clauses = clause_spans(doc_text, s, e, CLAUSE_BREAKS_LISTS_WHOLE)
    if len(clauses) <= 1:
        return s, e
    scores = []
    for cs, ce in clauses:
        c = doc_text[cs:ce]
        sc = sum(concepts_in(c, clause_weights, sel.concept_of).values())
        if any(evidence_has_attribute(a, c) for a in sel.attrs if a in ATTRIBUTES):
            sc += TRIM_ATTRIBUTE
        if FIGURE.search(c):
            sc += TRIM_FIGURE_QUANTITY if sel.quantity else TRIM_FIGURE
        scores.append(sc)
    lo = hi = max(range(len(clauses)), key=lambda i: scores[i])
    while True:  # grow towards neighbours that also carry query terms, while short enough
        grown = False
        for cand in (lo - 1, hi + 1):
            if 0 <= cand < len(clauses) and scores[cand] > TRIM_GROW:
                ns, ne = clauses[min(lo, cand)][0], clauses[max(hi, cand)][1]
                if ne - ns <= max_len:
                    lo, hi = min(lo, cand), max(hi, cand)
                    grown = True
        if not grown:
            break
    # a lead-in ("据...介绍,", "According to X,") is no statement: take what it introduces
    while hi + 1 < len(clauses) and _lead_in_only(doc_text, clauses, lo, hi):
        hi += 1
    qs, qe = clauses[lo][0], clauses[hi][1]
    while qe > qs and doc_text[qe - 1] in "，,、：: ":
        qe -= 1
    return qs, qe


def _lead_in_only(text: str, clauses: list[tuple[int, int]], lo: int, hi: int) -> bool:
    """The window is the sentence's opening clause(s) without a figure or a predicate's end:
    cut at a comma or colon, it only introduces the clause after it."""
    body = text[clauses[lo][0] : clauses[hi][1]].rstrip()
    return lo == 0 and body[-1:] in "，,：:" and not FIGURE.search(body) and len(body) <= 40


def render(
    sel: Selection, chosen: list[Candidate], lang: str, entities: list[list[str]]
) -> tuple[str, list[Citation]]:
    """The answer text and its citations, one quote per chosen sentence; ``entities`` are the
    question's (their words do not decide which clause of a long sentence to keep)."""
    zh_q = lang == "zh"
    entity_tokens = {key(t) for ent in entities for a in ent for t in tokenize(a)}
    clause_weights = {t: w for t, w in sel.weights.items() if t not in entity_tokens}
    citations: list[Citation] = []
    pieces: list[str] = []
    for c in chosen:
        doc = sel.docs[c.doc_id]
        limit = MAX_QUOTE["zh" if is_chinese(c.text) else "en"]
        s, e = trim(doc.text, c.start, c.end, sel, clause_weights, limit)
        cit = make_citation(len(citations) + 1, doc, s, e, doc.text)
        citations.append(cit)
        quote = neutralize_markers(cit.quote)  # an article's own "[7]" is no citation of ours
        if not zh_q and is_chinese(quote):
            fig = figure_for(sel.attrs, quote, lambda t: score(t, clause_weights))
            lead = f"{written_in(fig, 'en')} — " if fig else ""
            pieces.append(quoted(cit.quote, cit.n, zh=False, lead=lead))
        elif zh_q and not is_chinese(quote):  # a Chinese asker, an English source: quoted
            fig = figure_for(sel.attrs, quote, lambda t: score(t, clause_weights))
            lead = f"{written_in(fig, 'zh')}——" if fig else ""
            pieces.append(quoted(cit.quote, cit.n, zh=True, lead=lead))
        elif zh_q:
            pieces.append(f"{quote}[{cit.n}]")
        else:
            pieces.append(f"{quote} [{cit.n}]")
    text = ""
    for i, piece in enumerate(pieces):  # Chinese pieces run together; Latin ones take a space
        if i and not (zh_q and is_chinese(pieces[i - 1][:1]) and is_chinese(piece[:1])):
            text += " "
        text += piece
    if citations and all(is_chinese(c.quote) != zh_q for c in citations):
        text = other_language_lead(lang) + text
    return text, citations


def quoted(quote: str, n: int, *, zh: bool, lead: str = "") -> str:
    """A source sentence in quotation marks with its citation mark (``“...” [n]``; no space
    in Chinese); an article's own "[7]" inside it is neutralised, as it is no citation of ours."""
    return f"{lead}“{neutralize_markers(quote)}”{'' if zh else ' '}[{n}]"


def other_language_lead(lang: str) -> str:
    """What opens an answer whose every quote is in the other language."""
    from rag.answer_facts import answer_words

    return str(answer_words()["phrases"]["other_language_lead"][lang])
