"""Answers composed from typed facts: value, compare, list and latest questions.

Given what the question asks (``rag.question.Analysis``) and the facts learned at ingest
(``rag.factstore.FactStore``), it picks for each entity and attribute asked the fact that
answers it and writes one statement per entity in the asker's language, each figure followed
by the citation of the exact span it came from. Conflicting figures for one entity and
attribute are shown side by side; "latest" questions give the newest dated figure and the one
it replaced; list questions give every matching fact of every document.

It returns ``None`` whenever facts do not answer the whole question (an entity without a fact
for an asked attribute, a why/how question), so the sentence extractor answers instead. It
never invents a figure: every number in the text is checked against its cited span.
Templates and labels live in ``rag/data/answer.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any, Protocol

from rag import datafiles
from rag.citations import make_citation, numbers_in, sentence_spans
from rag.evidence import names_place
from rag.facts import is_memory_type, memory_types_in, round_names
from rag.lang import HAN_CHAR, lang_of
from rag.quantities import quantities, unsupported, written_in
from rag.quantities import supported as figure_equals
from rag.question import (
    ORDINAL,
    Analysis,
    Figure,
    QEntity,
    asked_formats,
    cue_in,
    cues,
    names_other_part,
    own_cue_attributes,
    qualifiers_of,
    sign_of,
    stack_near,
)
from rag.textnorm import has_term, normalize
from rag.types import Citation, Document, Passage

DATA_FILE = "answer.yaml"
# entity kinds that name a thing more specific than a company
SPECIFIC_KINDS = ("model", "product")
MAX_LIST = 12  # a list answer names at most this many entities, best-retrieved first
MAX_VALUES = 3  # distinct figures a list shows for one entity and attribute, side by side
MAX_HISTORY = 10  # ... and for the one entity of a list of its own figures (its funding rounds)


class FactSource(Protocol):
    """What the composer needs of the fact table (``rag.factstore.FactStore``)."""

    def facts(
        self, entity: str | None = None, attribute: str | None = None, **kw: Any
    ) -> list[Any]: ...

    def entities(self) -> list[Any]: ...


@dataclass
class Composed:
    """A fact-composed answer before it becomes an ``Answer``."""

    text: str
    citations: list[Citation]
    notes: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # entities asked that no fact answers


def answer_words() -> dict[str, Any]:
    """The labels, templates and refusals of ``rag/data/answer.yaml`` (read once by
    ``rag.datafiles``)."""
    return datafiles.load_yaml(DATA_FILE)


def label(attribute: str, lang: str) -> str:
    """The attribute's name in ``lang``."""
    return str(answer_words()["labels"].get(attribute, {}).get(lang, attribute.replace("_", " ")))


def phrase(key: str, lang: str, **values: str) -> str:
    return str(answer_words()["phrases"][key][lang]).format(**values)


# -- matching facts to what the question names ---------------------------------------------
def _names_of(fact: Any, ents: dict[str, Any]) -> set[str]:
    ent = ents.get(fact.entity_id)
    names = {fact.entity, *(ent.aliases if ent is not None else [])}
    return {normalize(n) for n in names if n}


def _alias_hit(alias: str, names: set[str]) -> bool:
    a = normalize(alias)
    return bool(a) and any(has_term(n, a) for n in names)


def matches(fact: Any, qe: QEntity, ents: dict[str, Any]) -> bool:
    """The fact is about the question's entity (by id, name, alias or model number)."""
    if qe.entity_id:
        # a learned entity: its own facts, or facts of an entity called by one of its names
        said = {normalize(x).replace(" ", "") for x in qe.aliases}
        if fact.entity_id == qe.entity_id or normalize(fact.entity).replace(" ", "") in said:
            return True
        return _makers_own(fact, qe, ents)
    names = _names_of(fact, ents)
    return any(_alias_hit(a, names) for a in qe.aliases) or _makers_own(fact, qe, ents)


def _makers_own(fact: Any, qe: QEntity, ents: dict[str, Any]) -> bool:
    """The fact's entity is a company's own ``qe`` ("三星HBM9" of "HBM9": a maker's part of
    a memory generation, "Vega VX900" of "VX900"): its name is a company's and the name."""
    ent = ents.get(fact.entity_id)
    if ent is None or ent.kind not in SPECIFIC_KINDS:
        return False
    asked = {k for k in _compact_names([qe.text, *qe.aliases]) if len(k) > 1}
    prefixes = {n[: -len(k)] for n in _compact_names([ent.name]) for k in asked if n.endswith(k)}
    prefixes.discard("")
    return bool(prefixes) and bool(prefixes & _company_names(ents))


_COMPANY_NAMES: list[tuple[dict[str, Any], set[str]]] = []


def _company_names(ents: dict[str, Any]) -> set[str]:
    """Every compact name and alias of the companies among ``ents``, for the last table
    asked about (held, so no later table can pass for it)."""
    if _COMPANY_NAMES and _COMPANY_NAMES[0][0] is ents:
        return _COMPANY_NAMES[0][1]
    names = _compact_names(
        n for e in ents.values() if e.kind == "company" for n in [e.name, *e.aliases] if n
    )
    _COMPANY_NAMES[:] = [(ents, names)]
    return names


def targets(a: Analysis) -> list[QEntity]:
    """The entities to answer for: products and models where the question names any, else
    companies (a question about a vendor's chip is about the chip, not the vendor)."""
    specific = [e for e in a.entities if e.kind in SPECIFIC_KINDS]
    return specific or list(a.entities)


def _in_period(fact: Any, a: Analysis) -> bool:
    if a.period is None:
        return True
    when = _when(fact)
    lo, hi = a.period.since or "", a.period.until or "9999"
    if not (bool(when) and lo[: len(when)] <= when <= hi[: max(len(when), 4)] + "~"):
        return False
    return not names_other_part(a.period, fact.quote)


def _rank(fact: Any, doc_rank: dict[str, int]) -> tuple[int, int, int]:
    """Facts of better-retrieved documents first, official before planned, longer quotes last."""
    qualified = 0 if not fact.qualifier or fact.qualifier == "official" else 1
    return (doc_rank.get(fact.doc_id, len(doc_rank)), qualified, fact.end - fact.start)


def _unwanted(fact: Any, wanted: set[str]) -> int:
    """1 when the fact is not of the kind of figure asked (``wanted``: the qualifiers the
    question asks about; none asked, an official figure), else 0."""
    kind = fact.qualifier if fact.qualifier and fact.qualifier != "official" else "official"
    return 0 if (kind in wanted if wanted else kind == "official") else 1


def _list_pick(
    fact: Any, a: Analysis, wanted: set[str], doc_rank: dict[str, int]
) -> tuple[Any, ...]:
    """Which of an entity's figures a list shows: the kind the question asks for (official
    unless it asks about plans or rumours), the newest for a latest/actual question, then
    the better-retrieved document. ``wanted``: the qualifiers the question asks about."""
    mismatch = _unwanted(fact, wanted)
    latest = "latest" in a.intents
    undated = not (latest and _when(fact))
    return (mismatch, undated, _newest_first(fact) if latest else (), *_rank(fact, doc_rank))


def _distinct(facts: list[Any]) -> list[Any]:
    """One fact per value (the first of equal ones); a date is its normalised day or month
    ("2019年5月" and "May 2019" are one)."""
    seen: set[str] = set()
    out = []
    for f in facts:
        if f.norm_value is not None:
            key = f"{f.norm_value}"
        elif f.unit == "date" and f.period:
            key = f"date:{f.period}"
        else:
            key = normalize(f.value)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


# -- rendering -----------------------------------------------------------------------------
class _Cites:
    """Numbers citations by span, one number per distinct span."""

    def __init__(self, load_doc: Callable[[str], Document]) -> None:
        self.load_doc = load_doc
        self.list: list[Citation] = []
        self.names: list[str] = []  # entity names the text shows (their digits are no figures)
        self._n: dict[tuple[str, int, int], int] = {}

    def mark(self, fact: Any, lang: str) -> str:
        key = (fact.doc_id, fact.start, fact.end)
        if key not in self._n:
            doc = self.load_doc(fact.doc_id)
            self.list.append(make_citation(len(self.list) + 1, doc, fact.start, fact.end, doc.text))
            self._n[key] = len(self.list)
        return f"[{self._n[key]}]" if lang == "zh" else f" [{self._n[key]}]"


def display_name(qe: QEntity | None, fact: Any, ents: dict[str, Any], lang: str) -> str:
    """The entity's name in the asker's script where the text gives one."""
    return _display_name(qe, fact, ents, lang)


def _display_name(qe: QEntity | None, fact: Any, ents: dict[str, Any], lang: str) -> str:
    ent = ents.get(fact.entity_id)
    names = [fact.entity, *(ent.aliases if ent is not None else [])]
    if qe is not None and not qe.inherited:
        names = [qe.text, *names] if lang == lang_of(qe.text) else names
    if lang == "zh":
        return next((n for n in names if HAN_CHAR.search(n)), fact.entity)
    latin = [n for n in names if n and not HAN_CHAR.search(n)]
    cased = [n for n in latin if n != n.lower()]
    if cased:
        return cased[0]
    # a romanisation reads as a name when short ("Biren"); a long one is no help
    short = [n for n in latin if (len(n.replace(" ", "")) <= 12 and " " in n) or len(n) <= 8]
    if short:
        return " ".join(w.capitalize() for w in short[0].split())
    return str(fact.entity)


def shown(fact: Any, lang: str) -> str:
    """The fact's value as the asker writes figures ("55亿美元" is "$5.5 billion" in English);
    the cited quote keeps the source's own."""
    return written_in(fact.value, lang)


def _note(fact: Any, lang: str, *, when: bool = False) -> str:
    bits = []
    if fact.qualifier and fact.qualifier != "official":
        q = answer_words()["qualifiers"].get(fact.qualifier, {})
        bits.append(str(q.get(lang, fact.qualifier)))
    if fact.precision:
        bits.append(str(fact.precision))
    negative = answer_words().get("negative_notes", {}).get(fact.attribute)
    if negative and fact.norm_value is not None and fact.norm_value < 0:
        bits.append(str(negative[lang]))  # "5.77亿元 (loss)": a loss, not a profit
    year = (fact.period or "")[:4]
    if when and year and year in fact.quote:  # only a year the quote itself gives
        bits.append(year)
    if not bits:
        return ""
    return phrase("note", lang, text=phrase_sep(lang).join(bits))


def phrase_sep(lang: str) -> str:
    return str(answer_words()["phrases"]["note_sep"][lang])


# -- composing -----------------------------------------------------------------------------
@dataclass
class _Pick:
    qe: QEntity | None
    attribute: str
    facts: list[Any]  # the answer first; more than one when sources differ


def _pick(a: Analysis, facts: list[Any], doc_rank: dict[str, int], latest: bool) -> list[Any]:
    if latest:
        # a running total is no one round's figure: the newest is of the rest
        facts = [f for f in facts if f.qualifier != "cumulative"] or facts
        facts = sorted(facts, key=_when, reverse=True)
        return _distinct(facts)[:2]
    facts = sorted(facts, key=lambda f: _rank(f, doc_rank))
    top = facts[0]
    # the same date said more exactly elsewhere ("2031年3月", "March 3, 2031"): the exact one
    exact = [
        f
        for f in facts
        if f.unit == "date"
        and top.period
        and f.period
        and len(f.period) > len(top.period)
        and f.period.startswith(top.period)
    ]
    if exact and top.unit == "date":
        top = exact[0]
    # sources that differ: another well-retrieved document with another value
    others = [
        f
        for f in _distinct(facts)[1:]
        if f.doc_id != top.doc_id and doc_rank.get(f.doc_id, 99) < 5 and not f.qualifier
    ]
    return [top, *others[:1]] if not top.qualifier and others else [top]


def _round_ok(fact: Any, rounds: set[str]) -> bool:
    """A figure asked for a named funding round ("raised in its Series E") is one whose quote
    names that round; the round itself, asked, is any."""
    return not rounds or fact.attribute == "funding_round" or rounds <= round_names(fact.quote)


def _precision_ok(fact: Any, asked: set[str]) -> bool:
    """A figure for another number format ("INT8" when FP16 is asked) does not answer."""
    return not asked or fact.attribute != "compute" or (fact.precision or "").upper() in asked


def _lookup(
    a: Analysis,
    store: FactSource,
    doc_rank: dict[str, int],
    ents: dict[str, Any],
    load_doc: Callable[[str], Document] | None = None,
) -> list[_Pick] | None:
    """Facts for every target entity and asked attribute, or None when one is missing (an
    attribute asked by its own cue counts: a family cue's figure alone does not answer)."""
    picks: list[_Pick] = []
    latest = "latest" in a.intents  # "who raised more in their latest round": newest each
    asked_precision = asked_formats(a.question)
    rounds = round_names(a.question)
    own = set(own_cue_attributes(a))
    current = compared_at_newest(a)
    for qe, maker in sides(a):
        for attr in a.attributes:
            newest = attr in current
            found = [
                f
                for f in store.facts(attribute=attr)
                if matches(f, qe, ents)
                and _in_period(f, a)
                and _in_places(f, a)
                and _precision_ok(f, asked_precision)
                and _round_ok(f, rounds)
            ]
            if maker is not None:  # one maker's part of a memory generation
                found = [f for f in found if _made_by(f, maker, ents, load_doc)]
            retrieved = [f for f in found if f.doc_id in doc_rank]
            found = retrieved or found
            if not found:
                continue
            if latest and a.attributes == [attr]:  # a newer round with no name: its amount
                picks += _newer_companions(a, store, qe, attr, found, doc_rank, ents)
            if newest and not latest:
                picks.append(_Pick(qe, attr, _pick(a, found, doc_rank, True)[:1]))
                continue
            picks.append(_Pick(qe, attr, _pick(a, found, doc_rank, latest)))
        mine = [p for p in picks if p.qe is qe]
        if not mine or (own and not any(p.attribute in own for p in mine)):
            if a.intent != "compare":
                return None  # this entity has no fact for anything asked: let sentences answer
            picks = [p for p in picks if p.qe is not qe]
            picks.append(_Pick(qe, a.attributes[0], []))  # a comparison says so for this side
    if all(not p.facts for p in picks):
        return None
    return picks


def _newer_companions(
    a: Analysis,
    store: FactSource,
    qe: QEntity,
    attr: str,
    found: list[Any],
    doc_rank: dict[str, int],
    ents: dict[str, Any],
) -> list[_Pick]:
    """For a latest question, the companion attributes (``answer.yaml`` ``companions``: a
    round and its amount) whose newest figure for ``qe`` is newer than any of ``attr``'s:
    the latest round may be reported by its amount alone ("raised $750 million in new
    funding")."""
    newest = max(_when(f) for f in found)
    out = []
    for other in (answer_words().get("companions") or {}).get(attr, []):
        more = [
            f
            for f in store.facts(attribute=other)
            if matches(f, qe, ents) and _in_period(f, a) and f.qualifier != "cumulative"
        ]
        if more and max(_when(f) for f in more) > newest:
            out.append(_Pick(qe, other, _pick(a, more, doc_rank, True)))
    return out


def sides(a: Analysis) -> list[tuple[QEntity, QEntity | None]]:
    """The targets, each with the maker whose part it is: a memory generation several
    companies make ("三星和SK海力士的HBM9") is one target per company the question names,
    each answered by that maker's figures only; any other target has no maker."""
    makers = [qe for qe in a.entities if qe.kind == "company" and qe.entity_id]
    out: list[tuple[QEntity, QEntity | None]] = []
    for qe in targets(a):
        # a memory generation is every maker's, whatever vendor one article gave it
        if not (memory_types_in(qe.text) and makers) or qe.kind == "company":
            out.append((qe, None))
            continue
        for m in makers:
            text = f"{m.text}{qe.text}" if a.lang == "zh" else f"{m.text} {qe.text}"
            out.append((replace(qe, text=text, inherited=False), m))
    return out


def _made_by(
    fact: Any, maker: QEntity, ents: dict[str, Any], load_doc: Callable[[str], Document] | None
) -> bool:
    """The fact is of ``maker``'s part: its quote, else its report's title, names the maker."""
    made = _as_maker(fact, ents, load_doc)
    return made is not None and made.entity_id == maker.entity_id


def _render_entity(picks: list[_Pick], cites: _Cites, ents: dict[str, Any], lang: str) -> str:
    first = picks[0]
    name = display_name(first.qe, first.facts[0], ents, lang)
    cites.names.append(name)
    if len(picks) == 1 and len(first.facts) == 1:
        f = first.facts[0]
        return phrase(
            "value",
            lang,
            name=name,
            label=label(f.attribute, lang),
            value=shown(f, lang),
            note=_note(f, lang),
            cite=cites.mark(f, lang),
        )
    if len(picks) == 1:  # sources differ on the one attribute asked: that is the statement
        vals = [
            f"{shown(f, lang)}{_note(f, lang, when=True)}{cites.mark(f, lang)}" for f in first.facts
        ]
        return phrase(
            "conflict", lang, name=name, label=label(first.attribute, lang),
            parts=phrase_sep(lang).join(vals),
        )  # fmt: skip
    parts = []
    for p in picks:
        if len(p.facts) > 1:
            vals = [
                f"{shown(f, lang)}{_note(f, lang, when=True)}{cites.mark(f, lang)}" for f in p.facts
            ]
            parts.append(
                phrase(
                    "conflict",
                    lang,
                    name=name,
                    label=label(p.attribute, lang),
                    parts=phrase_sep(lang).join(vals),
                ).rstrip("。.")
            )
            continue
        f = p.facts[0]
        parts.append(
            phrase(
                "value_more",
                lang,
                label=label(f.attribute, lang),
                value=shown(f, lang),
                note=_note(f, lang),
                cite=cites.mark(f, lang),
            )
        )
    return phrase(
        "entity_line",
        lang,
        name=name,
        parts=str(answer_words()["phrases"]["joiner"][lang]).join(parts),
    )


def _render_latest(p: _Pick, cites: _Cites, ents: dict[str, Any], lang: str) -> str:
    new = p.facts[0]
    name = display_name(p.qe, new, ents, lang)
    cites.names.append(name)
    newest = {
        "name": name,
        "label": label(p.attribute, lang),
        "value": shown(new, lang),
        "note": _note(new, lang, when=True),
        "cite": cites.mark(new, lang),
    }
    if len(p.facts) < 2:
        return phrase("value", lang, **newest)
    old = p.facts[1]
    return phrase(
        "latest",
        lang,
        **newest,
        old=shown(old, lang),
        old_note=_note(old, lang, when=True),
        old_cite=cites.mark(old, lang),
    )


def _compose_targets(
    a: Analysis,
    store: FactSource,
    doc_rank: dict[str, int],
    load_doc: Callable[[str], Document],
    ents: dict[str, Any],
) -> Composed | None:
    picks = _lookup(a, store, doc_rank, ents, load_doc)
    if not picks:
        return None
    cites = _Cites(load_doc)
    lines = []
    missing: list[str] = []
    order: list[QEntity | None] = []
    for p in picks:  # entity order of the question
        if not any(p.qe is q for q in order):
            order.append(p.qe)
    for qe in order:
        mine = [p for p in picks if p.qe is qe]
        if not mine[0].facts:
            name = qe.text if qe is not None else ""
            cites.names.append(name)
            missing.append(name)
            lines.append(
                phrase("missing", a.lang, name=name, label=label(mine[0].attribute, a.lang))
            )
            continue
        if "latest" in a.intents:
            lines += [_render_latest(p, cites, ents, a.lang) for p in mine]
        else:
            lines.append(_render_entity(mine, cites, ents, a.lang))
    sep = "" if a.lang == "zh" else " "
    if len(lines) > 2:
        sep = "\n"
    notes = [f"answered from {len(cites.list)} fact span(s)"]
    return Composed(sep.join(lines), cites.list, notes, cites.names, missing)


def _compose_list(
    a: Analysis,
    store: FactSource,
    doc_rank: dict[str, int],
    load_doc: Callable[[str], Document],
    ents: dict[str, Any],
) -> Composed | None:
    """Every matching fact of every document, one line per entity (all asked attributes)."""
    # the attributes asked by a cue of their own; the broad ones only when there are none
    asked = [x for x in a.attributes if x not in a.broad_attributes] or a.attributes
    by_entity = _listed(a, store, asked, doc_rank, ents, load_doc)
    if a.figures:
        by_entity = _meeting(by_entity, a.figures)
    if len(by_entity) == 1 and a.entities:
        return _compose_history(a, next(iter(by_entity.values())), load_doc, ents, store)
    if len(by_entity) < 2:
        return None
    by_entity = {k: {x: fs[:MAX_VALUES] for x, fs in d.items()} for k, d in by_entity.items()}
    cites = _Cites(load_doc)
    lang = a.lang
    head = asked[0] if len(asked) == 1 and not a.events else ""
    lines = [phrase("list_head", lang, label=label(head, lang))] if head else []
    ranked = sorted(  # items with a figure asked first (an event alone says less)
        by_entity.values(),
        key=lambda d: (
            not set(asked) & set(d),
            min(_rank(fs[0], doc_rank) for fs in d.values()),
        ),
    )
    for facts in ranked[:MAX_LIST]:
        first = next(iter(facts.values()))[0]
        cites.names.append(_with_vendor(display_name(None, first, ents, lang), first, ents, lang))
        parts = [
            (f"{label(fs[0].attribute, lang)} " if not head else "")
            + " / ".join(
                f"{shown(f, lang)}{_note(f, lang, when=True)}{cites.mark(f, lang)}" for f in fs
            )
            for fs in facts.values()
        ]
        lines.append(
            phrase(
                "list_item",
                lang,
                name=cites.names[-1],
                value=phrase_sep(lang).join(parts),
                note="",
                cite="",
            )
        )
    return Composed("\n".join(lines), cites.list, [f"list of {len(ranked)} entities"], cites.names)


def _compose_history(
    a: Analysis,
    facts: dict[str, list[Any]],
    load_doc: Callable[[str], Document],
    ents: dict[str, Any],
    store: FactSource | None = None,
) -> Composed | None:
    """The list of one entity's own figures ("天琴科技历轮融资", "list Lyra's funding rounds"):
    each distinct figure of an asked attribute, oldest first, with its date; None when the
    entity has only one (a value question then)."""
    if max(len(fs) for fs in facts.values()) < 2:
        return None
    cites = _Cites(load_doc)
    lang = a.lang
    first = next(iter(facts.values()))[0]
    name = _with_vendor(display_name(None, first, ents, lang), first, ents, lang)
    cites.names.append(name)
    labels = phrase_sep(lang).join(label(x, lang) for x in facts)
    lines = [phrase("history_head", lang, name=name, label=labels)]
    companions = answer_words().get("companions") or {}
    for attr, fs in facts.items():
        others = [x for x in companions.get(attr, []) if x not in facts]
        beside = [f for x in others for f in store.facts(attribute=x)] if store else []
        for f in sorted(fs, key=lambda f: f.period or f.date or "9999"):
            what = f"{label(attr, lang)} {shown(f, lang)}" if len(facts) > 1 else shown(f, lang)
            what += "".join(phrase_sep(lang) + shown(b, lang) for b in _same_sentence(beside, f))
            note = _note(f, lang, when=True)
            lines.append(
                phrase("history_item", lang, value=what, note=note, cite=cites.mark(f, lang))
            )
    return Composed("\n".join(lines), cites.list, [f"history of {name}"], cites.names)


def _same_sentence(candidates: list[Any], fact: Any) -> list[Any]:
    """The entity's facts among ``candidates`` learned from the sentence ``fact`` came from
    (a round's amount: "完成3亿元A轮融资"), one per attribute."""
    out: dict[str, Any] = {}
    for f in candidates:
        if f.entity_id == fact.entity_id and f.doc_id == fact.doc_id and f.start == fact.start:
            out.setdefault(f.attribute, f)
    return list(out.values())


def _listed(
    a: Analysis,
    store: FactSource,
    asked: list[str],
    doc_rank: dict[str, int],
    ents: dict[str, Any],
    load_doc: Callable[[str], Document] | None = None,
) -> dict[str, dict[str, list[Any]]]:
    """The facts of the asked attributes a list shows, by entity and attribute: those that
    relate to one of the question's names, or all where it names none. Where the question
    asks events too ("which makers sampled X, and what bandwidth did each give"), the items
    are those that had one (in the period asked: the period is the event's), each showing
    its figures, then the event; an item with the event and no figure comes last."""
    wanted = qualifiers_of(a.question)
    by_entity: dict[str, dict[str, list[Any]]] = {}
    timed = not a.events
    for attr in asked:
        found = _attribute_facts(a, store, attr, ents, load_doc, timed=timed)
        for entity_id, same in _grouped(found, a, wanted, doc_rank).items():
            by_entity.setdefault(entity_id, {})[attr] = same
    if not a.events:
        return by_entity
    had: dict[str, dict[str, list[Any]]] = {}
    for event in a.events:
        found = _attribute_facts(a, store, event, ents, load_doc, timed=True)
        for entity_id, same in _grouped(found, a, wanted, doc_rank).items():
            had.setdefault(entity_id, {})[event] = same
    with_figures = {k: {**d, **had[k]} for k, d in by_entity.items() if k in had}
    return with_figures | {k: d for k, d in had.items() if k not in with_figures}


def _attribute_facts(
    a: Analysis,
    store: FactSource,
    attr: str,
    ents: dict[str, Any],
    load_doc: Callable[[str], Document] | None,
    *,
    timed: bool = True,
) -> list[Any]:
    """The facts of ``attr`` a list may show: meeting the question's conditions (its period
    where ``timed``, round, sign, memory type) and related to what it names."""
    named = [e for e in a.entities if e.kind in SPECIFIC_KINDS]
    makers_asked = bool(named) and cue_in(a.question, cues().maker_words)
    rounds = round_names(a.question)
    sign = sign_of(a.question)  # "which are profitable": profits, not losses
    types = memory_types_in(a.question)  # "which chips use SRAM": that memory type only
    found = [
        f
        for f in store.facts(attribute=attr)
        if (not timed or _in_period(f, a))
        and _in_places(f, a)
        and _round_ok(f, rounds)
        and (not sign or f.norm_value is None or f.norm_value * sign > 0)
        and (attr != "memory_type" or not types or is_memory_type(f.value, types))
    ]
    own = [f for f in found if any(matches(f, qe, ents) for qe in named)]
    if a.entities:  # what the question names is the subject, its vendor, or a constraint
        found = [f for f in found if _relates_all(f, a.entities, ents)]
    members = [f for f in found if any(_member(f, qe, ents) for qe in named)]
    found = members or found  # "the Orion 950 series": its models, not the vendor's others
    if makers_asked:  # "which companies sampled X": X's facts, by the maker they name
        found += [m for f in own if (m := _as_maker(f, ents, load_doc)) is not None]
    return found


def _grouped(
    found: list[Any], a: Analysis, wanted: set[str], doc_rank: dict[str, int]
) -> dict[str, list[Any]]:
    """Each entity's facts to show, best first: an entity's other figures of the same kind
    stand beside the first (two parts of one product line, two sources that disagree), each
    with its own citation."""
    groups: dict[str, list[tuple[tuple[Any, ...], Any]]] = {}
    picks = sorted(((_list_pick(f, a, wanted, doc_rank), f) for f in found), key=lambda p: p[0])
    for pick, f in picks:
        groups.setdefault(f.entity_id, []).append((pick, f))
    return {
        entity_id: _distinct([f for pick, f in group if pick[0] == group[0][0][0]])[:MAX_HISTORY]
        for entity_id, group in groups.items()
    }


def _member(fact: Any, qe: QEntity, ents: dict[str, Any]) -> bool:
    """The fact is of a model of the numbered product line ``qe`` names: a name that opens
    with the line's name ("Orion 700XR" of "Orion 700") or with its number ("700LT"). A line
    with no number ("the Orion TPU") has generations of other names, so no members here."""
    if qe.kind != "product":
        return False
    lines = _compact_names(qe.aliases)
    numbers = {m.group() for x in lines if (m := re.search(r"\d{2,}$", x))}
    if not numbers:
        return False
    names = _compact_names(_names_of(fact, ents))
    if _opens_with_line(names, lines):
        return True
    return any(re.fullmatch(rf"{x}[a-z]+\d*", n) for n in names for x in numbers)


def _compact_names(names: Iterable[str]) -> set[str]:
    return {normalize(n).replace(" ", "") for n in names}


def _opens_with_line(names: set[str], lines: set[str]) -> bool:
    """One of ``names`` is a line's name and more ("Orion 700XR" of "Orion 700")."""
    return any(n != x and n.startswith(x) for n in names for x in lines if len(x) > 1)


def _as_maker(
    fact: Any, ents: dict[str, Any], load_doc: Callable[[str], Document] | None = None
) -> Any | None:
    """The fact as one of the company its quote names nearest before the figure (a product's
    fact stated by its maker: "Vega Labs began mass production of HBM9 in May"), else the
    first after it, else the first its report's title names ("Vega HBM9 passes tests": a
    report about the maker); None when neither names a company."""
    low = normalize(fact.quote)
    pos = low.find(normalize(fact.value))
    pos = pos if pos >= 0 else len(low)
    before: tuple[int, Any] | None = None
    after: tuple[int, Any] | None = None
    for spots, e in _companies_named(low, fact, ents):
        near = max((i for i in spots if i < pos), default=None)
        if near is not None and (before is None or near > before[0]):
            before = (near, e)
        elif near is None and (after is None or min(spots) < after[0]):
            after = (min(spots), e)
    pick = before or after
    if pick is None and load_doc is not None:  # the company the report's title names first
        title = normalize(load_doc(fact.doc_id).title)
        named = [(min(spots), e) for spots, e in _companies_named(title, fact, ents)]
        pick = min(named, key=lambda t: t[0]) if named else None
    if pick is None:
        return None
    return replace(fact, entity_id=pick[1].entity_id, entity=pick[1].name)


def _companies_named(low: str, fact: Any, ents: dict[str, Any]) -> list[tuple[list[int], Any]]:
    """The companies other than the fact's own that a normalised text names, each with the
    places where one of its names stands as a word."""
    out = []
    for e in ents.values():
        if e.kind != "company" or e.entity_id == fact.entity_id:
            continue
        names = [x for x in dict.fromkeys([e.name, *e.aliases]) if len(normalize(x)) > 1]
        spots = [
            i for x in names if _alias_hit_text([x], low) and (i := low.find(normalize(x))) >= 0
        ]
        if spots:
            out.append((spots, e))
    return out


def _fits(fact: Any, figures: list[Figure]) -> bool | None:
    """Whether the fact's figure meets a figure the question states (equal to it, or on the
    side its bound asks for); None when the fact has no figure of that dimension."""
    verdict = None
    for q in quantities(fact.value, source=True):
        for fig in figures:
            asked = fig.quantity
            if q.dim != asked.dim:  # a stated figure's dimension is a strict one
                continue
            if fig.bound == "ge":
                met = q.value >= asked.value or figure_equals(q, [asked])
            elif fig.bound == "le":
                met = q.value <= asked.value or figure_equals(q, [asked])
            else:
                met = figure_equals(q, [asked]) or figure_equals(asked, [q])
            if met:
                return True
            verdict = False
    return verdict


def _meeting(
    by_entity: dict[str, dict[str, list[Any]]], figures: list[Figure]
) -> dict[str, dict[str, list[Any]]]:
    """The list narrowed to what meets the question's figures ("which makers make a 36GB
    HBM3E": the 36GB parts, not every HBM3E). An entity stays when one of its facts meets
    a figure; its facts of that dimension that do not are dropped. Where no listed fact has
    a figure of the stated dimension, the figure says something else and nothing changes."""
    verdicts = {
        eid: {attr: [(f, _fits(f, figures)) for f in fs] for attr, fs in attrs.items()}
        for eid, attrs in by_entity.items()
    }
    if all(v is None for attrs in verdicts.values() for fs in attrs.values() for _, v in fs):
        return by_entity
    kept: dict[str, dict[str, list[Any]]] = {}
    for eid, attrs in verdicts.items():
        if not any(v for fs in attrs.values() for _, v in fs):
            continue
        narrowed = {attr: [f for f, v in fs if v is not False] for attr, fs in attrs.items()}
        kept[eid] = {attr: fs for attr, fs in narrowed.items() if fs}
    return kept


def _with_vendor(name: str, fact: Any, ents: dict[str, Any], lang: str) -> str:
    """A product's list line names its maker too ("Orion X1 (Acme)", "星河X9(星河科技)"),
    where the text gave one and the product's name does not already hold it."""
    ent = ents.get(fact.entity_id)
    vendor = ents.get(ent.vendor) if ent is not None and ent.vendor else None
    if vendor is None or vendor.entity_id == fact.entity_id:
        return name
    maker = display_name(
        None, SimpleNamespace(entity_id=vendor.entity_id, entity=vendor.name), ents, lang
    )
    low = normalize(name)
    if not maker or any(normalize(n) in low for n in [maker, vendor.name, *vendor.aliases] if n):
        return name
    return f"{name}({maker})" if lang == "zh" else f"{name} ({maker})"


def _relates(fact: Any, qe: QEntity, ents: dict[str, Any]) -> bool:
    """The fact is about the question's entity, a product of it, or its sentence names it
    ("listed on the X Market": the market constrains the list, it is not its subject)."""
    if _member(fact, qe, ents):  # "each Orion 700 model": 700XR, 700LT
        return True
    if qe.kind in SPECIFIC_KINDS:  # "which chips use X": X's users, not X itself
        return not matches(fact, qe, ents) and _alias_hit_text(qe.aliases, normalize(fact.quote))
    if matches(fact, qe, ents) or _vendor_is(fact, qe, ents):
        return True
    if _alias_hit_text(qe.aliases, normalize(fact.quote)):
        return True
    if qe.kind == "company":  # a company's list is its own and its products' facts, not
        return False  # every figure of an article that mentions it
    ent = ents.get(qe.entity_id) if qe.entity_id else None  # an article about a market, a
    return ent is not None and fact.doc_id in (ent.doc_ids or [])  # place or an org


def _relates_all(fact: Any, entities: list[QEntity], ents: dict[str, Any]) -> bool:
    """The fact relates to one of the question's companies and to one of its products or
    models, where it names both kinds and no product is the company's own line (a memory
    maker's parts of one memory generation: neither another maker's chip carrying that memory
    nor the maker's next generation); to one of its names otherwise (a chip vendor's own
    product line: the vendor's facts and the line's)."""
    products = [qe for qe in entities if qe.kind in SPECIFIC_KINDS]
    companies = [qe for qe in entities if qe.kind not in SPECIFIC_KINDS]
    own_line = any(p.vendor and p.vendor in {c.entity_id for c in companies} for p in products)
    if own_line or not products or not companies:  # the company is its own line's vendor
        return any(_relates(fact, qe, ents) for qe in entities)
    return all(any(_relates(fact, qe, ents) for qe in g) for g in (products, companies))


def _alias_hit_text(aliases: list[str], low: str) -> bool:
    return any(_alias_hit(al, {low}) for al in aliases)


class _Only:
    """A fact table seen through a document filter."""

    def __init__(self, inner: FactSource, doc_ids: set[str]) -> None:
        self.inner, self.doc_ids = inner, doc_ids

    def facts(
        self, entity: str | None = None, attribute: str | None = None, **kw: Any
    ) -> list[Any]:
        return [f for f in self.inner.facts(entity, attribute, **kw) if f.doc_id in self.doc_ids]

    def entities(self) -> list[Any]:
        return self.inner.entities()


def _vendor_is(fact: Any, qe: QEntity, ents: dict[str, Any]) -> bool:
    ent = ents.get(fact.entity_id)
    vendor = ents.get(ent.vendor) if ent is not None and ent.vendor else None
    if vendor is None:
        return False
    names = {normalize(n) for n in [vendor.name, *vendor.aliases]}
    return any(_alias_hit(al, names) for al in qe.aliases)


def supported(text: str, citations: Sequence[Citation], names: Sequence[str]) -> bool:
    """Every figure of the answer is in a cited span (or the cited document's date), as
    written or by value ("$5.5 billion" for "55亿美元", ``rag.quantities``); the digits of the
    entity names it shows (model numbers) are names, not figures."""
    body = re.sub(r"\[\d+\]", "", text)
    for n in sorted({n for n in names if n}, key=len, reverse=True):
        body = body.replace(n, " ")
    figs = numbers_in(body)
    quoted = set().union(*(numbers_in(c.quote) for c in citations)) if citations else set()
    dated = set().union(*(numbers_in(c.date or "") for c in citations)) if citations else set()
    if figs <= quoted | dated:
        return True
    return not unsupported(body, [c.quote for c in citations] + [c.date or "" for c in citations])


def relevant_facts(
    a: Analysis, store: FactSource | None, passages: list[Passage], limit: int = 8
) -> list[Any]:
    """The facts an LLM should see beside the passages: about the entities the question
    names and the attributes it asks, from the retrieved documents first."""
    if store is None or not a.entities:
        return []
    ents = {e.entity_id: e for e in store.entities()}
    rank = _doc_rank(passages)
    found = [
        f
        for attr in (list[str | None](a.attributes) or [None])
        for f in store.facts(attribute=attr)
        if any(matches(f, qe, ents) for qe in targets(a)) and _in_period(f, a)
    ]
    return sorted(found, key=lambda f: _rank(f, rank))[:limit]


def answer_members(
    a: Analysis,
    store: FactSource | None,
    passages: list[Passage],
    load_doc: Callable[[str], Document],
) -> Composed | None:
    """A list question asking no attribute about a product line ("织女系列有哪几代产品", "list
    the Orion generations"): the line's products (names that open with the line's name) in
    the retrieved documents, each cited with the first sentence there that names it; None
    with fewer than two."""
    lines = member_lines(a)
    if store is None or not lines:
        return None
    ents = {e.entity_id: e for e in store.entities()}
    scope = _doc_rank(passages)
    heads = _compact_names(al for qe in lines for al in qe.aliases)
    found = [
        e
        for e in ents.values()
        if e.kind in ("product", "model")
        and set(e.doc_ids or []) & set(scope)
        and _opens_with_line(_compact_names([e.name, *e.aliases]), heads)
    ]
    cites = _Cites(load_doc)
    items = []
    for e in found:
        mine = sorted(set(e.doc_ids or []) & set(scope), key=lambda d: scope[d])
        spot = _first_naming(e, mine, load_doc)
        if spot is not None:
            items.append((spot, e))
    if len(items) < 2:
        return None
    lines_out = [phrase("members_head", a.lang)]
    for spot, e in sorted(items, key=lambda t: (scope[t[0].doc_id], t[0].start))[:MAX_LIST]:
        cites.names.append(e.name)
        lines_out.append(
            phrase("history_item", a.lang, value=e.name, note="", cite=cites.mark(spot, a.lang))
        )
    return Composed("\n".join(lines_out), cites.list, [f"{len(items)} products"], cites.names)


def member_lines(a: Analysis) -> list[QEntity]:
    """The product lines whose products a list question asking no attribute asks for; none
    for a company alone ("which chipmakers ..." asks companies, not products)."""
    if a.intent != "list" or a.attributes:
        return []
    return [qe for qe in a.entities if qe.kind == "product"]


def _first_naming(
    e: Any, doc_ids: list[str], load_doc: Callable[[str], Document]
) -> SimpleNamespace | None:
    """The first sentence of these documents that names ``e``: (doc_id, start, end)."""
    for doc_id in doc_ids:
        doc = load_doc(doc_id)
        low = doc.text.lower()
        hits = [i for n in [e.name, *e.aliases] if len(n) > 1 and (i := low.find(n.lower())) >= 0]
        if not hits:
            continue
        at = min(hits)
        for s, t in sentence_spans(doc.text, max(0, at - 400), min(len(doc.text), at + 400)):
            if s <= at < t:
                return SimpleNamespace(doc_id=doc_id, start=s, end=t)
    return None


def answer_specs(
    a: Analysis,
    store: FactSource | None,
    passages: list[Passage],
    load_doc: Callable[[str], Document],
) -> Composed | None:
    """The spec sheet of the one product a question asks for by a spec word and no attribute
    ("织女一号的参数", "What are the specs of the X100?"): a figure for each attribute the
    facts hold for it; None with fewer than two."""
    if store is None or a.attributes or not cue_in(a.question, cues().spec_words):
        return None
    if len([e for e in a.entities if e.kind in SPECIFIC_KINDS]) != 1:
        return None
    return _checked(_compose_specs, a, store, passages, load_doc, None)


def _compose_specs(
    a: Analysis,
    store: FactSource,
    doc_rank: dict[str, int],
    load_doc: Callable[[str], Document],
    ents: dict[str, Any],
) -> Composed | None:
    from rag.facts import attributes as vocabulary

    qe = next(e for e in a.entities if e.kind in SPECIFIC_KINDS)
    company = set(answer_words()["company_attributes"])
    picks = []
    for attr in (x for x in vocabulary() if x not in company):
        found = [f for f in store.facts(attribute=attr) if matches(f, qe, ents)]
        if found:
            picks.append(_Pick(qe, attr, _pick(a, found, doc_rank, False)[:1]))
    if len(picks) < 2:
        return None
    cites = _Cites(load_doc)
    text = _render_entity(picks, cites, ents, a.lang)
    return Composed(text, cites.list, [f"spec sheet of {len(picks)} attributes"], cites.names)


def list_mode(a: Analysis) -> bool:
    """A list question ("which vendors ... and how much each"): what it names constrains
    the list (made by, mentioned with, or reported in an article about it)."""
    return bool(a.attributes) and a.intent == "list"


def answer_list(
    a: Analysis,
    store: FactSource | None,
    passages: list[Passage],
    load_doc: Callable[[str], Document],
    *,
    allowed_docs: set[str] | None = None,
) -> Composed | None:
    """Every matching fact of every document for a list question (``list_mode``), or None:
    ``answer_from_facts`` (same arguments), which answers a list question with a list."""
    if not list_mode(a):
        return None
    return answer_from_facts(a, store, passages, load_doc, allowed_docs=allowed_docs)


def _checked(
    compose: Callable[..., Composed | None],
    a: Analysis,
    store: FactSource,
    passages: list[Passage],
    load_doc: Callable[[str], Document],
    allowed_docs: set[str] | None,
) -> Composed | None:
    """Run a composer over the (filtered) fact table; keep its answer only when every figure
    is in a cited span."""
    if allowed_docs is not None:
        store = _Only(store, allowed_docs)
    ents = {e.entity_id: e for e in store.entities()}
    composed = compose(a, store, _doc_rank(passages), load_doc, ents)
    if composed is None or not supported(composed.text, composed.citations, composed.names):
        return None
    return composed


def _doc_rank(passages: list[Passage]) -> dict[str, int]:
    rank: dict[str, int] = {}
    for p in passages:
        rank.setdefault(p.doc_id, len(rank))
    return rank


def _cited_in(fact: Any, citations: Sequence[Citation]) -> Citation | None:
    """The citation whose quote holds the fact's figure within the fact's sentence."""
    for c in citations:
        overlaps = c.doc_id == fact.doc_id and c.start < fact.end and fact.start < c.end
        if overlaps and normalize(fact.value) in normalize(c.quote):
            return c
    return None


def _in_places(fact: Any, a: Analysis) -> bool:
    """The fact's sentence names every place the question scopes its figure to ("revenue in
    Japan": not the company's total)."""
    for p in a.scopes:
        if not names_place(p, fact.quote):
            return False
        # a stack height asked ("12层"): the height written nearest the figure is it (one
        # sentence may date the 8-high part and the 12-high one)
        stacked = p.kind == "variant" and p.written.isdigit()
        if stacked and stack_near(fact.quote, fact.value) not in (None, p.written):
            return False
    return True


def fact_leads(a: Analysis, store: FactSource | None, citations: Sequence[Citation]) -> str | None:
    """A direct answer in the asker's language for what the chosen quotes state: for each
    entity and attribute asked, the learned fact whose figure a quote already cites.

    Two mechanisms must agree (the sentence chosen and the fact extracted from it), so a
    lead never asserts a figure the answer does not quote. None when no fact agrees.
    """
    if store is None or not a.attributes or a.intent in ("why", "how") or not citations:
        return None
    ents = {e.entity_id: e for e in store.entities()}
    lines, names = [], []
    words = answer_words()
    # a numbered generation the question asks ("第一代"): only a fact quoted with its name
    gens = [e.aliases for e in a.entities if not e.entity_id and ORDINAL.fullmatch(e.text)]
    asked_precision = asked_formats(a.question)
    rounds = round_names(a.question)
    wanted = qualifiers_of(a.question)
    current = compared_at_newest(a)
    for qe, maker in sides(a):
        parts = []
        for attr in a.attributes:
            if attr in a.broad_attributes and attr in words["lead_needs_own_cue"]:
                continue
            if qe.kind == "company" and attr not in words["company_attributes"]:
                continue  # the figure is a product's; the sentence says which
            hits = [
                (f, c)
                for f in store.facts(attribute=attr)
                if matches(f, qe, ents)
                and _in_period(f, a)
                and _in_places(f, a)
                and _precision_ok(f, asked_precision)
                and _round_ok(f, rounds)
                and all(_alias_hit_text(g, normalize(f.quote)) for g in gens)
                and (maker is None or _made_by(f, maker, ents, None))
                and (c := _cited_in(f, citations)) is not None
            ]
            if hits:
                # the kind of figure asked first (official unless the question asks about
                # plans or rumours: "计划募集39.04亿元" is no lead for what an IPO raised
                # when a cited quote gives the actual sum), then the first cited
                # (what changes over time, compared with no period asked: its newest)
                newest = attr in current
                f, c = min(
                    hits,
                    key=lambda h: (
                        _unwanted(h[0], wanted),
                        _newest_first(h[0]) if newest else (),
                        h[1].n,
                    ),
                )
                mark = f"[{c.n}]" if a.lang == "zh" else f" [{c.n}]"
                parts.append((f, mark))
        if not parts:
            continue
        name = display_name(qe, parts[0][0], ents, a.lang)
        quoted = {x for c in citations for x in numbers_in(c.quote)}
        if not numbers_in(name) <= quoted:
            name = ""  # a model number no cited quote gives: the lead states the figure only
        names.append(name)
        lines.append(_lead_line(name, parts, a.lang))
    text = ("" if a.lang == "zh" else " ").join(lines)
    if not lines or not supported(text, list(citations), names):
        return None
    return text


def uncited_targets(
    a: Analysis, store: FactSource | None, citations: Sequence[Citation]
) -> list[QEntity]:
    """The entities asked about no cited quote gives a fact of an asked attribute (of the
    asked period) for, or of one asked attribute the fact table has for them ("X vs Y on
    memory and interconnect": Y's interconnect figure uncited is Y's side half given)."""
    if store is None:
        return []
    ents = {e.entity_id: e for e in store.entities()}
    asked = own_cue_attributes(a) or a.attributes
    # a date a family cue asks ("什么时候取得进展") is no side's missing figure: the
    # quotes may date another event of it, as leads take only dates asked by their cue
    needs_own = set(answer_words()["lead_needs_own_cue"]) & a.broad_attributes
    asked = [x for x in asked if x not in needs_own]
    if not asked:
        return []
    facts = [
        f
        for x in a.attributes
        for f in store.facts(attribute=x)
        if _in_period(f, a) and _in_places(f, a)
    ]
    current = compared_at_newest(a)
    out = []
    for qe, maker in sides(a):
        mine = [
            f
            for f in facts
            if matches(f, qe, ents) and (maker is None or _made_by(f, maker, ents, None))
        ]
        cited = {f.attribute for f in mine if _cited_in(f, citations)}
        if not cited or any(f.attribute in asked and f.attribute not in cited for f in mine):
            out.append(qe)
            continue
        for x in current & cited:  # what changes: its newest figure is the side's
            newest = max((f for f in mine if f.attribute == x), key=_when)
            if not _cited_in(newest, citations):
                out.append(qe)
                break
    return out


def _when(fact: Any) -> str:
    """The fact's period, else its report's date ("" when neither is known)."""
    return str(fact.period or fact.date or "")


def _newest_first(fact: Any) -> tuple[int, ...]:
    """A sort key putting later periods first (and the undated after every dated one)."""
    return tuple(-ord(ch) for ch in _when(fact))


def compared_at_newest(a: Analysis) -> set[str]:
    """The asked attributes compared at each side's newest figure: what changes over time
    (``answer.yaml`` ``current_by_default``), in a comparison that asks no period."""
    if a.intent != "compare" or a.period is not None:
        return set()
    return set(answer_words().get("current_by_default") or ())


def _lead_line(name: str, parts: list[tuple[Any, str]], lang: str) -> str:
    if len(parts) == 1:
        f, mark = parts[0]
        return phrase(
            "value" if name else "value_unnamed", lang, name=name,
            label=label(f.attribute, lang), value=shown(f, lang), note=_note(f, lang), cite=mark,
        )  # fmt: skip
    body = str(answer_words()["phrases"]["joiner"][lang]).join(
        phrase("value_more", lang, label=label(f.attribute, lang), value=shown(f, lang),
               note=_note(f, lang), cite=mark)
        for f, mark in parts
    )  # fmt: skip
    return phrase("entity_line" if name else "entity_line_unnamed", lang, name=name, parts=body)


def answer_from_facts(
    a: Analysis,
    store: FactSource | None,
    passages: list[Passage],
    load_doc: Callable[[str], Document],
    *,
    allowed_docs: set[str] | None = None,
) -> Composed | None:
    """A fact-composed answer to ``a``, or None when facts do not answer it.

    Args:
        a: the analysed question.
        store: the fact table (None: no facts, so no answer from them).
        passages: what retrieval found, best first (facts of these documents come first).
        load_doc: the document for a doc_id (to cite exact spans).
        allowed_docs: with filters (vendor, dates) in force, only facts of these documents.
    """
    if store is None or not a.attributes or a.intent in ("why", "how", "yesno"):
        return None
    want_list = a.intent == "list" or not targets(a)
    compose = _compose_list if want_list else _compose_targets
    return _checked(compose, a, store, passages, load_doc, allowed_docs)


__all__ = [
    "Composed",
    "answer_from_facts",
    "answer_list",
    "answer_members",
    "answer_specs",
    "fact_leads",
    "label",
    "list_mode",
    "matches",
    "member_lines",
    "relevant_facts",
    "sides",
    "supported",
    "targets",
    "uncited_targets",
]
