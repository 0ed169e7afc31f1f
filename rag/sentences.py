"""Sentence selection for extractive answers: score every sentence retrieval found, keep
those about what the question names, and choose the few that answer every part of it.

The question's words, their aliases and their translations become weighted *concepts*; a
sentence scores by the concepts it mentions, the asked attributes it states with a figure, and
its retrieval rank. The first quote is the best sentence for each asked attribute and entity;
further quotes must cover a part of the question still open. All weights are in ``Weights``.
This module does not analyse questions (``rag.question``) nor write the answer text
(``rag.render``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rag.citations import sentence_spans
from rag.evidence import (
    ATTR_FIGURE,
    DATE,
    FIGURE,
    TECH_TOKEN,
    alias_in,
    cue_near_figure,
    cue_pattern,
    defines,
    gives_reason,
    group_has_cue,
    group_has_value,
    is_heading,
    other_model_tokens,
    undisclosed_about,
    words,
)
from rag.glossary import evidence_has_attribute, matched_groups
from rag.lang import is_chinese
from rag.lexicon import stem, translations
from rag.question import ORDINAL, Analysis, asked_formats
from rag.textnorm import mainland, normalize, tokenize
from rag.types import Document, Passage


@dataclass(frozen=True)
class Weights:
    """Every weight of sentence choice. Chosen by hand on ``evals/datasets/dev.jsonl`` in the
    first wave; none was tuned on held-out. Swept again one at a time (x0.67 and x1.5) in
    round 10 of ``evals/RESULTS.md``: no move gained more than one dev case, and the best
    pair (two dev cases) gained none on held-out, so they stay."""

    rank_prior: float = 2.5  # credit of the passage rank, divided by rank + 1
    attribute: float = 2.0  # the sentence states an asked attribute with its figure
    cue_near_figure: float = 1.0  # ... and the attribute's word stands right before the figure
    figure_quantity: float = 1.0  # a figure with a unit, for a how-much question
    figure_other: float = 0.3  # a figure with a unit, otherwise
    causal: float = 1.5  # a reason or purpose, for a why question
    date: float = 1.0  # a date, for a when question
    recency: float = 1.2  # times the document's newness (0..1), for a latest question
    lead: float = 1.0  # a report's first sentence, for a latest question asking no figure
    undisclosed: float = -1.0  # the sentence withholds a figure
    heading: float = -1.5  # a headline names the topic; the sentences under it answer
    length_damp: float = 0.15  # long sentences are damped by 1 + this * log1p(extra/60)
    extra_ratio: float = 0.5  # an extra quote must score this share of the best ...
    multi_part_ratio: float = 0.35  # ... or this share when it answers an open part
    multi_part_gain: float = 1.0  # (concept weight not yet covered, at least this)
    min_gain: float = 0.6  # least new concept weight an extra quote without a figure brings
    attr_gain: float = 1.5  # coverage credit of an asked attribute not yet given
    cover_bonus: float = 0.5  # extra credit per point of concepts the chosen quotes miss
    # term weights of question words
    generic: float = 0.3
    digit: float = 2.0
    han_base: float = 1.0
    han_per_char: float = 0.3  # up to 4 characters
    latin_base: float = 1.0
    latin_per_char: float = 0.15  # up to 6 characters
    month: float = 0.8
    alias: float = 0.6
    alias_generic: float = 0.2
    translation: float = 0.7  # times the word's own weight
    max_sentences: int = 3
    # "X是什么" / "What is X?" with no attribute asked: the sentence saying what X is
    # ("X是一款...", "X, its seventh-generation TPU"); chosen on probes written before
    definition: float = 1.5


WEIGHTS = Weights()


@dataclass
class Candidate:
    """One sentence of a retrieved passage with its score and the attributes it states."""

    passage_rank: int
    doc_id: str
    start: int
    end: int
    text: str
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    lex: float = 0.0
    damp: float = 1.0
    lex_scale: float = 1.0  # lexical credit per point, equalised across languages


# -- question concepts ---------------------------------------------------------------------
def key(token: str) -> str:
    """The form a token is compared in: English words by stem, anything else as is."""
    return stem(token) if token.isascii() else token


@lru_cache(maxsize=8192)
def token_set(text: str) -> frozenset[str]:
    """Comparison keys of a text's tokens (cached: every round asks again)."""
    return frozenset(key(t) for t in tokenize(text))


def score(text: str, weights: dict[str, float]) -> float:
    toks = token_set(text)
    return sum(wt for t, wt in weights.items() if t in toks)


def concepts_in(
    text: str, weights: dict[str, float], concept_of: dict[str, str]
) -> dict[str, float]:
    """The question's concepts ``text`` mentions, each with its best weight there."""
    toks = token_set(text)
    out: dict[str, float] = {}
    for t, wt in weights.items():
        if t in toks:
            c = concept_of.get(t, t)
            out[c] = max(out.get(c, 0.0), wt)
    return out


def _base_weight(tok: str, t: str, w: Weights) -> float:
    if tok in set(words()["generic"]):
        return w.generic
    if re.search(r"\d", t):
        return w.digit
    if is_chinese(t):
        return w.han_base + w.han_per_char * min(len(t), 4)
    return w.latin_base + w.latin_per_char * min(len(t), 6)


def weighted_concepts(
    question: str, w: Weights = WEIGHTS
) -> tuple[dict[str, float], dict[str, str]]:
    """Query term weights, and for each term the question word (concept) it stands for.

    A question word, its aliases and its translations form one concept: a sentence saying
    the Chinese word covers the English one as well as one saying the English word.
    """
    weights: dict[str, float] = {}
    concept: dict[str, str] = {}

    def put(k: str, weight: float, of: str, *, keep: bool = False) -> None:
        if keep and k in weights:
            return
        if weight > weights.get(k, 0.0) or k not in weights:
            weights[k] = weight
            concept.setdefault(k, of)

    for tok in tokenize(mainland(question)):  # 記憶體頻寬 is weighed as 内存带宽
        t = key(tok)
        put(t, _base_weight(tok, t, w), t)
    # jieba's search mode gives a word and its parts: one concept
    han = [t for t in weights if is_chinese(t)]
    for t in han:
        whole = max((u for u in han if t in u and len(u) > len(t)), key=len, default=None)
        if whole is not None:
            concept[t] = concept[whole]
    _month_concepts(question, put, w)
    _alias_concepts(question, weights, concept, put, w)
    _translation_concepts(weights, concept, w)
    return weights, concept


def _month_concepts(question: str, put: object, w: Weights) -> None:
    months = words()["months"]
    for m in re.finditer(r"(\d{1,2})\s*月", question):
        n = int(m.group(1))
        if 1 <= n <= 12:
            put(months[n - 1], w.month, months[n - 1], keep=True)  # type: ignore[operator]
    for i, name in enumerate(months):
        if re.search(rf"\b{name}", question, re.I):
            put(f"{i + 1}月", w.month, name, keep=True)  # type: ignore[operator]


def _alias_concepts(
    question: str, weights: dict[str, float], concept: dict[str, str], put: object, w: Weights
) -> None:
    generic = set(words()["generic"])
    asked = dict(weights)
    for gi, (members, group) in enumerate(matched_groups(normalize(question))):
        # an alias stands for the question word of its group
        keys = (key(t) for a in members for t in tokenize(a))
        of = next((concept[k] for k in keys if k in asked), f"group{gi}")
        for tok in (t for alias in group for t in tokenize(alias)):
            put(key(tok), w.alias if tok not in generic else w.alias_generic, of, keep=True)  # type: ignore[operator]


def _translation_concepts(weights: dict[str, float], concept: dict[str, str], w: Weights) -> None:
    """The same words in the other language, a little lighter than the word itself."""
    generic = set(words()["generic"])
    for t, base in list(weights.items()):
        if base < w.alias:
            continue
        for tr in translations(t):
            for tt in tokenize(tr):
                k = key(tt)
                tw = w.alias_generic if tt in generic else round(w.translation * base, 3)
                if tw > weights.get(k, 0.0):
                    weights[k] = tw
                    concept[k] = concept.get(t, t)


# -- candidates ----------------------------------------------------------------------------
@dataclass
class Selection:
    """Everything sentence choice knows about one question."""

    analysis: Analysis
    weights: dict[str, float]
    concept_of: dict[str, str]
    attrs: list[str]
    docs: dict[str, Document]
    w: Weights = WEIGHTS
    contexts: dict[tuple[str, int], str] = field(default_factory=dict)
    # the fact table (``rag.factstore.FactStore``) where the caller has one: whose figure a
    # quote states
    facts: Any = None
    # the names a definition question ("X是什么") asks about (``definition_names``)
    defined: list[str] = field(default_factory=list)

    @property
    def quantity(self) -> bool:
        return "quantity" in self.analysis.intents


def _sentence_score(
    sel: Selection, text: str, doc: Document, s: int, e: int, newest: dict[str, float]
) -> tuple[float, list[str]]:
    w, a = sel.w, sel.analysis
    sc, reasons = 0.0, []
    said = mainland(text)  # a Taiwan or Hong Kong page's 頻寬/奈米 read as 带宽/纳米
    for attr in sel.attrs:
        if (
            (evidence_has_attribute(attr, said) or group_has_cue(attr, said))
            and (
                attr not in ATTR_FIGURE
                or ATTR_FIGURE[attr].search(said)
                or group_has_value(attr, said)
            )
            and (attr != "date" or DATE.search(text))  # a model number holds "20", not a date
        ):
            sc += w.attribute
            reasons.append(attr)
            if cue_near_figure(attr, said):
                sc += w.cue_near_figure
    if FIGURE.search(text):
        sc += w.figure_quantity if sel.quantity else w.figure_other
    if "why" in a.intents and gives_reason(a.question, text):
        sc += w.causal
    if sel.defined and defines(sel.defined, text):
        sc += w.definition
    if "date" in sel.attrs and DATE.search(text):
        sc += w.date
    if "latest" in a.intents and doc.date:
        sc += w.recency * newest.get(doc.date, 0.0)
        if not sel.attrs and _is_lead(doc.text, s):  # "HBM9最新进展": the news is the lead
            sc += w.lead
    if cue_pattern("undisclosed").search(text):
        sc += w.undisclosed
    if is_heading(doc.text, s, e):
        sc += w.heading
    return sc, reasons


def definition_names(a: Analysis) -> list[str]:
    """The names a definition question ("X是什么", "What is X?") asks what they are: its
    entities, else the term it is left with once its question words are gone ("天琴超节点是
    什么?": 天琴超节点); [] for any other question (an attribute or a counted noun asked, or
    more than a name left: "What is the strategic logic of ..." asks more)."""
    from rag.question import cue_in, cues

    if a.attributes or a.counted or not cue_in(a.question, cues().definition_words):
        return []
    rest = _defined_term(a.question)
    if not rest or not (len(rest.split()) <= 4 if rest.isascii() else len(rest) <= 12):
        return []
    names = [x for e in a.entities if e.kind != "place" for x in [e.text, *e.aliases] if x]
    return names or [rest]


def _defined_term(question: str) -> str:
    """What a definition question is left with once its question words are gone."""
    from rag.question import cues

    rest = question
    for w in sorted(cues().definition_words, key=len, reverse=True):
        rest = re.sub(re.escape(w), " ", rest, flags=re.I)
    rest = re.sub(r"[\s?？!！。.,，“”\"']+", " ", rest).strip()
    return re.sub(r"^(?:the|an?)\s+", "", rest, flags=re.I)


def _is_lead(text: str, s: int) -> bool:
    """The sentence at ``s`` opens the report: only headings and blank lines before it."""
    before = text[:s]
    lines = [ln for ln in before.split("\n") if ln.strip()]
    return all(is_heading(ln, 0, len(ln)) for ln in lines)


def gather(sel: Selection, passages: list[Passage]) -> list[Candidate]:
    """Every whole sentence of the documents overlapping a passage, scored, best first."""
    dates = sorted({d.date for p in passages if (d := sel.docs.get(p.doc_id)) and d.date})
    newest = {d: (i + 1) / len(dates) for i, d in enumerate(dates)}
    cands: list[Candidate] = []
    seen: set[tuple[str, int]] = set()
    for rank, p in enumerate(passages):
        doc = sel.docs.get(p.doc_id)
        if doc is None:
            continue
        lo = doc.text.rfind("\n", 0, p.start) + 1
        hi = doc.text.find("\n", p.end)
        hi = len(doc.text) if hi < 0 else hi
        for s, e in sentence_spans(doc.text, lo, hi):
            if e <= p.start or s >= p.end or (p.doc_id, s) in seen:
                continue
            seen.add((p.doc_id, s))
            text = doc.text[s:e]
            sc, reasons = _sentence_score(sel, text, doc, s, e, newest)
            sc += sel.w.rank_prior / (rank + 1)
            damp = 1.0 + sel.w.length_damp * math.log1p(max(0, len(text) - 60) / 60)
            lex = score(text, sel.weights)
            cands.append(
                Candidate(rank, p.doc_id, s, e, text, sc / damp, reasons, lex / damp, damp)
            )
            pa = doc.text.rfind("\n", 0, s) + 1
            pb = doc.text.find("\n", e)
            sel.contexts[(p.doc_id, s)] = normalize(
                doc.title + "\n" + doc.text[pa : len(doc.text) if pb < 0 else pb]
            )
    equalise_languages(cands)
    cands.sort(key=lambda c: -c.score)
    return cands


def equalise_languages(cands: list[Candidate]) -> None:
    """Give each language's best sentence the same lexical credit: an English question shares
    few tokens with Chinese text, so rank and attribute evidence decide between languages."""
    if not cands:
        return
    top_lex = max(c.lex for c in cands)
    for lang_is_zh in (True, False):
        same = [c for c in cands if is_chinese(c.text) == lang_is_zh]
        best_lex = max((c.lex for c in same), default=0.0)
        for c in same:
            c.lex_scale = top_lex / best_lex if best_lex > 0 else 0.0
            c.score += c.lex * c.lex_scale


# -- what a sentence is about --------------------------------------------------------------
def model_like(entity: list[str]) -> bool:
    """A model number or numbered product (its first name has a digit or an ordinal), as
    opposed to a product line or a vendor."""
    return bool(entity) and bool(re.search(r"\d", entity[0]) or ORDINAL.search(entity[0]))


@dataclass
class Aboutness:
    """Which sentences are about what the question names."""

    sel: Selection
    entities: list[list[str]]
    named_vendors: list[list[str]]
    # the vendors that make a product the question names: covered by that product's quote
    makers: list[list[str]] = field(default_factory=list)

    def about(self, c: Candidate, ents: list[list[str]]) -> bool:
        ctx = self.sel.contexts[(c.doc_id, c.start)]
        return any(any(alias_in(a, ctx) for a in ent) for ent in ents)

    def names(self, c: Candidate, ent: list[str]) -> bool:
        low = normalize(c.text)
        return any(alias_in(a, low) for a in ent)

    def about_all_kinds(self, c: Candidate) -> bool:
        # a sentence naming a product model the question names is about it, whoever makes it
        own_models = [e for e in self.entities if model_like(e) and not TECH_TOKEN.match(e[0])]
        if any(self.names(c, m) for m in own_models):
            return True
        # a sentence about another vendor's product of the same kind is not about this one
        if self.entities and not self.about(c, self.entities):
            return False
        return not self.named_vendors or self.about(c, self.named_vendors)


def needed_attributes(sel: Selection) -> list[str]:
    """The asked attributes a quote must state (dates and customers are found otherwise)."""
    return [a for a in sel.attrs if a not in ("date", "customers")]


_UNIT_ATTR = {
    "tflops": "compute", "pflops": "compute", "eflops": "compute", "tops": "compute",
    "ips": "compute", "tb/s": "bandwidth", "gb/s": "bandwidth", "gbps": "bandwidth",
    "gb": "memory", "tb": "memory", "nm": "process", "纳米": "process", "瓦": "power",
    "w": "power",
}  # fmt: skip
_UNIT_ASKED = re.compile(
    r"TFLOPS|PFLOPS|EFLOPS|TOPS|IPS|TB/s|GB/s|Gbps|GB|TB|nm|纳米|瓦|\bW\b", re.I
)


def _asked_member_named(sel: Selection, group: str, text: str) -> bool:
    """Where the question asks some attributes of an evidence group but not all (memory
    bandwidth, not interconnect bandwidth), the sentence's strongest cue of the group (the
    longest, as the fact reader reads it) is of an asked one; a sentence with no cue of the
    group cannot tell, and passes."""
    from rag.facts import attributes as vocabulary
    from rag.question import cues, strongest_cues

    members = cues().evidence_groups.get(group, ())
    asked = [m for m in members if m in sel.analysis.attributes]
    if not asked or len(asked) == len(members):
        return True
    vocab = vocabulary()
    table = {m: vocab[m].cues for m in members if m in vocab}
    found = {k for k, _, _ in strongest_cues(normalize(mainland(text)), table)}
    return not found or bool(found & set(asked))


def _part_of(text: str, token: str, pos: int, name: str) -> bool:
    """The model token at ``pos`` is part of ``name`` ("990" of "X990E"), unless the text glues
    it to a word the name lacks ("Y990": another maker's model with the same number)."""
    if token.lower() not in name:
        return False
    glued = text[pos - 1 : pos + len(token)].lower() if pos > 0 else ""
    return not (glued[:1].isalpha() and glued not in name)


def _in_unit(units: set[str], text: str) -> bool:
    """``text`` gives a figure in one of ``units`` however it spells it (a question's 纳米 is
    an English source's nm, its 瓦 a W), as the fact reader reads units."""
    from rag.facts import find_values

    wanted = {v.unit for u in units for v in find_values("1" + u)}
    return bool(wanted) and any(v.unit in wanted for v in find_values(text))


def precision_said(question: str, attribute: str, text: str) -> bool:
    """A compute figure asked in a number format ("FP4 performance") is one the text gives
    in that format; any other attribute, or no format asked, passes."""
    asked = asked_formats(question)
    low = text.lower()
    return attribute != "compute" or not asked or any(p.lower() in low for p in asked)


def states_attribute(sel: Selection, ab: Aboutness, c: Candidate, a: str) -> bool:
    """The sentence gives attribute ``a`` in the unit, precision and for the model asked."""
    if a not in c.reasons or undisclosed_about(c.text, a):
        return False
    q = sel.analysis.question
    low = c.text.lower()
    units = {u.lower() for u in _UNIT_ASKED.findall(q) if _UNIT_ATTR.get(u.lower()) == a}
    if units and not any(u in low for u in units) and not _in_unit(units, c.text):
        return False  # a capacity in GB is not answered by a memory type, nor TFLOPS by IPS
    if not _asked_member_named(sel, a, c.text):
        return False  # "片间互联带宽700GB/s" is no memory bandwidth, though both are bandwidths
    if not precision_said(q, a, c.text):
        return False
    fig = ATTR_FIGURE[a].search(c.text) if a in ATTR_FIGURE else None
    gen = cue_pattern("other_generation")
    older = gen.search(c.text)
    before_fig = older is not None and (fig is None or older.start() < fig.start())
    if before_fig and not gen.search(q) and not any(gen.search(x) for e in ab.entities for x in e):
        # "the first-generation X ran at 25W": not the asked X's figure, unless the question
        # asks that generation (in its own words or by a numbered generation's name)
        return False
    # model numbers and numbered products ("...三号"): a sibling's figure is not theirs
    return not sibling_figure(ab, c.text, fig.start() if fig is not None else None)


def sibling_figure(ab: Aboutness, text: str, at: int | None) -> bool:
    """The figure at ``at`` (None: the sentence's) belongs to another model than those the
    question names: one named before it, the asked ones not at all (one named after it is
    a comparison)."""
    models = [e for e in ab.entities if model_like(e)]
    if not models:
        return False
    low_text = normalize(text)
    if any(any(alias_in(x, low_text) for x in m) for m in models):
        return False
    names = [x.lower() for m in models for x in m]
    others = [
        pos for t, pos in other_model_tokens(text)
        if not any(t.lower() == n or _part_of(text, t, pos, n) for n in names)
    ]  # fmt: skip
    return bool(others) and (at is None or min(others) < at)


# -- choosing ------------------------------------------------------------------------------
def pick_for_attributes(
    sel: Selection, ab: Aboutness, eligible: list[Candidate], needed: list[str]
) -> tuple[list[Candidate], str | None]:
    """One quote per asked attribute and compared entity; or the attribute none states."""
    chosen: list[Candidate] = []
    for a in needed:
        with_attr = [c for c in eligible if states_attribute(sel, ab, c, a)]
        if not with_attr:
            return chosen, a
        # a sentence naming the entity before one whose paragraph does
        for ent in ab.entities or [[]]:
            pick = next((c for c in with_attr if not ent or ab.names(c, ent)), None) or next(
                (c for c in with_attr if not ent or ab.about(c, [ent])), None
            )
            if pick is not None and pick not in chosen:
                chosen.append(pick)
    return chosen, None


def cover_entities(
    sel: Selection, ab: Aboutness, eligible: list[Candidate], chosen: list[Candidate]
) -> None:
    """Every entity a comparison names gets a quote; each vendor one naming it."""
    top = sel.w.max_sentences
    needed = needed_attributes(sel)

    def says_asked(c: Candidate) -> bool:  # the asked attribute's word, figure or not
        return any(
            evidence_has_attribute(x, c.text) and _asked_member_named(sel, x, c.text)
            for x in needed
        )

    for ent in ab.entities:
        if not any(ab.about(c, [ent]) for c in chosen):
            about = [c for c in eligible if ab.about(c, [ent]) and c not in chosen]
            extra = next((c for c in about if says_asked(c)), None) or next(iter(about), None)
            if extra is not None and len(chosen) < top:
                chosen.append(extra)
    if len(ab.named_vendors) < 2:
        return
    for ent in ab.named_vendors:
        if len(chosen) >= top or any(ab.names(c, ent) for c in chosen) or ent in ab.makers:
            continue
        naming = [c for c in eligible if ab.names(c, ent) and c not in chosen]
        if "date" in sel.attrs:
            naming.sort(key=lambda c: not DATE.search(c.text))
        if naming:
            chosen.append(naming[0])


def add_open_parts(
    sel: Selection, ab: Aboutness, eligible: list[Candidate], chosen: list[Candidate]
) -> None:
    """Greedily add the sentence that best answers what the chosen ones leave open: its
    lexical credit counts only the question's concepts not yet covered."""
    w = sel.w
    top = chosen[0].score
    comparing = sel.analysis.intent == "compare"

    def stated(c: Candidate) -> set[str]:
        return {f"attr:{a}" for a in c.reasons}  # an asked attribute is a concept too

    covered = set().union(*(concepts_in(x.text, sel.weights, sel.concept_of) for x in chosen))
    covered |= set().union(*(stated(x) for x in chosen))
    while len(chosen) < w.max_sentences:
        best_c, best_val = None, 0.0
        for c in eligible:
            if c in chosen or any(c.text in x.text or x.text in c.text for x in chosen):
                continue
            if any(not _asked_member_named(sel, x, c.text) for x in sel.attrs):
                continue  # an interconnect figure is no open part of a memory-bandwidth question
            if (
                comparing
                and (fig := FIGURE.search(c.text))
                and sibling_figure(ab, c.text, fig.start())
            ):
                continue  # a third model's figure is neither side of a comparison
            if c.score < w.multi_part_ratio * top:
                continue
            found = concepts_in(c.text, sel.weights, sel.concept_of)
            gain = sum(v for k, v in found.items() if k not in covered)
            gain += w.attr_gain * len(stated(c) - covered)
            if c.score < w.extra_ratio * top and gain < w.multi_part_gain:
                continue  # weaker sentences only for a part of the question left open
            if gain < w.min_gain and not FIGURE.search(c.text):
                continue
            val = c.score + w.cover_bonus * gain / c.damp * c.lex_scale
            if best_c is None or val > best_val:
                best_c, best_val = c, val
        if best_c is None:
            break
        chosen.append(best_c)
        covered |= set(concepts_in(best_c.text, sel.weights, sel.concept_of)) | stated(best_c)
