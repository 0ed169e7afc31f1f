"""The offline answerer: answers from the retrieved text itself, no LLM.

Stages, each in its own module: the question is analysed once (``rag.question``); facts
answer value, compare, list and latest questions where they can (``rag.answer_facts``, wired
in ``rag.qa``); otherwise sentences are scored and chosen (``rag.sentences``) and written as
quotes with ``[n]`` markers (``rag.render``). This module runs the sentence path and its
evidence gates: it refuses, with a named ``Reason`` in the asker's language, when no passage
came back, when an entity the question names is absent, when the evidence is weak, when no
sentence is about what was asked, when the asked attribute is missing or withheld, when
no quote is about the period or the place asked, when no quote says what a how-much question
counts (a quantity no attribute names: "毛利率是多少"), or when a who question gets no quote
naming anyone.
A company the question names (a glossary vendor, or a company learned from the articles
under any of its names) is what a quote must be about.

Nothing here is generated text. It does not retrieve (``rag.retrieve``), compose answers
from facts (``rag.answer_facts``; ``rag.qa`` tries those first) or call an LLM
(``rag.answer_llm``, which falls back to this answerer).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rag.abstain import Reason, refusal
from rag.answer_facts import SPECIFIC_KINDS, label, matches
from rag.citations import sentence_spans
from rag.evidence import (
    ATTR_FIGURE,
    alias_in,
    compared_years,
    cue_pattern,
    gives_reason,
    names_place,
    other_model_tokens,
    states,
    undisclosed_about,
    words,
    years_in,
)
from rag.facts import attributes as vocabulary
from rag.facts import figure_periods, memory_types_in, round_names, round_rx
from rag.glossary import VENDORS
from rag.lang import HAN_CHAR
from rag.quantities import quantities
from rag.quantities import supported as figure_equals
from rag.question import (
    Analysis,
    QEntity,
    analyse,
    asked_formats,
    cue_in,
    cues,
    names_asked_part,
    names_other_part,
    own_cue_attributes,
    specific_entities,
    unknown_names,
)
from rag.render import render
from rag.sentences import (
    WEIGHTS,
    Aboutness,
    Candidate,
    Selection,
    Weights,
    add_open_parts,
    cover_entities,
    definition_names,
    gather,
    model_like,
    needed_attributes,
    pick_for_attributes,
    precision_said,
    score,
    weighted_concepts,
)
from rag.textnorm import STOPWORDS, mainland, normalize
from rag.types import Citation, Document, Passage


@dataclass
class OfflineAnswer:
    text: str
    citations: list[Citation]
    abstained: bool
    notes: list[str]
    reason: Reason | None = None


def _refuse(reason: Reason, lang: str, note: str, what: str = "") -> OfflineAnswer:
    return OfflineAnswer(refusal(reason, lang, what), [], True, [note], reason)


def _label(attribute: str, lang: str) -> str:
    labels = words()["labels"].get(attribute)
    return str(labels[lang]) if labels else attribute


def _entity_gate(
    a: Analysis, passages: list[Passage], known_words: set[str] | None, lang: str
) -> OfflineAnswer | None:
    """Refuse when a name the question gives occurs in no passage under any of its names
    (a learned entity counts by its Chinese, English or pinyin names alike)."""
    evidence = normalize("\n".join(p.text for p in passages))
    # seed names and learned products/models must be there; a learned company or place may
    # be a constraint of the question rather than its subject
    missing = [
        e.aliases[0] if not e.entity_id else e.text
        for e in a.entities
        if (not e.entity_id or e.kind in ("product", "model"))
        and not any(alias_in(x, evidence) for x in e.aliases)
    ]
    if known_words:
        learned = [normalize(e.text) for e in a.entities if e.entity_id]
        for w in unknown_names(a.question, known_words):
            if w not in missing and not any(normalize(w) in t for t in learned):
                missing.append(w)
    if not missing:
        return None
    what = ("、" if lang == "zh" else ", ").join(missing)
    return _refuse(Reason.ENTITY_ABSENT, lang, f"entity not in evidence: {missing}", what)


def _specific(a: Analysis, question: str) -> list[list[str]]:
    """What the question is most specifically about, each as its names: learned products and
    models by all their names (a bare model number inside one, "100" of "X100", is not a
    name of its own), then the seed models and products no learned name covers."""
    learned = [
        [e.text, *[x for x in e.aliases if x != e.text]]
        for e in a.entities
        if e.entity_id and e.kind in ("product", "model")
    ]
    seed = specific_entities(question)
    vendors = [list(v) for v in VENDORS.values()]
    if not learned:
        companies = _named_companies(a, normalize(question))
        if len(companies) > 1 and all(s in vendors for s in seed):
            return companies  # "A vs B valuation": each company is a side, seed or learned
        return seed
    names = [normalize(x) for ent in learned for x in ent]
    rest = [
        s for s in seed
        if s not in vendors and not any(normalize(x) in n for x in s for n in names)
    ]  # fmt: skip
    return learned + rest


def _named_companies(a: Analysis, qlow: str) -> list[list[str]]:
    """The companies the question names, each as its names: glossary vendors, and learned
    companies named by a name the glossary lacks ("Xinghe", a pinyin), with all their names."""
    named = [list(al) for al in VENDORS.values() if any(alias_in(x, qlow) for x in al)]
    known = {normalize(x) for al in named for x in al}
    for e in a.entities:
        if e.kind == "company" and e.entity_id and not known & {normalize(x) for x in e.aliases}:
            named.append([e.text, *e.aliases])
    return named


def _makers(a: Analysis, named: list[list[str]]) -> list[list[str]]:
    """Those of ``named`` companies that make a product or model the question names (the
    learned product's vendor, named by the question under one of the company's names)."""
    made_by = {e.vendor for e in a.entities if e.kind in ("product", "model") and e.vendor}
    names = {
        normalize(x) for e in a.entities if e.entity_id in made_by for x in [e.text, *e.aliases]
    }
    return [g for g in named if any(normalize(x) in names for x in g)]


def _weak(
    sel: Selection,
    cands: list[Candidate],
    passages: list[Passage],
    min_score: float,
    min_dense: float,
) -> bool:
    dense_best = max((p.scores.get("dense", 0.0) for p in passages), default=0.0)
    lexical = score(cands[0].text, {t: w for t, w in sel.weights.items() if w >= 0.6})
    return lexical < min_score and dense_best < min_dense


def _asked_roles(question: str) -> list[str]:
    """The words of every role (``person_role_groups``) a who question names a word of."""
    groups = words().get("person_role_groups") or {}
    return [str(w) for g in groups.values() if cue_in(question, g) for w in g]


def _names_someone(sel: Selection, chosen: list[Candidate]) -> bool:
    """A who question is answered only by a quote naming a person or an organisation other
    than what the question names: a role word before a name (``person_roles``), a jieba
    person/organisation name, or a capitalised English name the question does not give
    under any of its names (a Chinese quote's 星河 is the "Xinghe" an English question asks
    about, not someone else)."""
    from rag.entities import _posseg

    a = sel.analysis
    asked = "\n".join(
        [normalize(a.question), *(normalize(x) for e in a.entities for x in [e.text, *e.aliases])]
    )
    roles = cue_pattern("person_roles")
    for c in chosen:
        if roles.search(c.text):
            return True
        for w, flag in _posseg(c.text, hmm=True):  # unknown people's names are found too
            if flag in ("nr", "nrt", "nt", "nz") and len(w) > 1 and normalize(w) not in asked:
                return True
        for m in re.finditer(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*", c.text):
            if normalize(m.group()) not in asked and m.start() > 0:
                return True
    return False


def _withheld_of_asked(ab: Aboutness, c: Candidate) -> bool:
    """A sentence withholding a figure withholds the asked model's unless it names other
    models and not that one ("no spec sheet for the X810B" says nothing of the X990)."""
    own = [e for e in ab.entities if model_like(e)]
    if not own or any(ab.names(c, m) for m in own):
        return True
    return not other_model_tokens(c.text)


def _gives_figure(group: str, text: str) -> bool:
    """The text states a figure of the evidence group (a better-ranked sentence giving the
    figure outweighs a later one saying it, or another model's, was withheld)."""
    rx = ATTR_FIGURE.get(group)
    return rx is not None and bool(rx.search(text)) and not cue_pattern("undisclosed").search(text)


def _figure_unstated(
    sel: Selection, eligible: list[Candidate], chosen: list[Candidate]
) -> list[Candidate] | str:
    """A value question stating a figure of what it asks about ("Orion Fab's 5nm capacity") is
    answered by a quote stating the asked attribute in a paragraph that gives that figure: the
    chosen quotes, or the best eligible one that does; else the figure, as written, that no
    such quote gives."""
    a = sel.analysis
    figs = [f for f in a.figures if f.bound == "eq"]
    asked = own_cue_attributes(a)
    if not figs or a.intent != "value" or not asked:
        return chosen

    def gives(c: Candidate) -> bool:
        qs = quantities(sel.contexts.get((c.doc_id, c.start), c.text), source=True)
        return all(
            any(q.dim == f.quantity.dim and figure_equals(q, [f.quantity]) for q in qs)
            for f in figs
        )

    met = _quote_meeting(sel, eligible, chosen, lambda c: _states_any(asked, c), gives)
    if met is None:
        return figs[0].quantity.raw + _unit_written(a.question, figs[0].quantity.raw)
    return met


def _formats_named(
    sel: Selection, eligible: list[Candidate], chosen: list[Candidate], lang: str
) -> list[Candidate] | OfflineAnswer:
    """A number format the question names ("does it support FP6?", "FP8 throughput") is
    named by a quote of the answer: the chosen ones, or the best eligible one; else the
    refusal naming the format."""
    if sel.analysis.intent in ("why", "how"):
        return chosen
    for fmt in sorted(asked_formats(sel.analysis.question)):
        rx = re.compile(rf"(?<![A-Za-z0-9]){fmt}(?![0-9])", re.I)

        def names(c: Candidate, rx: re.Pattern[str] = rx) -> bool:
            return bool(rx.search(c.text))

        met = _quote_meeting(sel, eligible, chosen, lambda c: True, names)
        if met is None:
            return _refuse(Reason.PART_ABSENT, lang, f"no quote names {fmt}", fmt)
        chosen = met
    return chosen


def _round_unstated(
    sel: Selection, eligible: list[Candidate], chosen: list[Candidate]
) -> list[Candidate] | str:
    """A question naming a funding round ("raised in its Series E") is answered by a quote
    stating the asked attribute in a paragraph naming that round: the chosen quotes, or the
    best eligible one that does; else the round, as written, that no such quote names."""
    a = sel.analysis
    asked = [x for x in own_cue_attributes(a) if x != "funding_round"]
    rounds = round_names(a.question)
    if not rounds or not asked or a.intent in ("why", "how"):
        return chosen

    def names_round(c: Candidate) -> bool:
        # the sentence's own round, else its paragraph's ("... raised $1 billion" after a
        # sentence naming the Series E)
        own = round_names(c.text)
        return rounds <= (own or round_names(sel.contexts.get((c.doc_id, c.start), c.text)))

    def stating(c: Candidate) -> bool:
        return _states_any(asked, c)

    met = _quote_meeting(sel, eligible, chosen, stating, names_round)
    if met is None:
        written = round_rx().search(a.question)
        return written.group() if written else sorted(rounds)[0]
    # another round's figure beside the asked one's would be read as an answer too
    return [c for c in met if not stating(c) or names_round(c)]


def _unit_written(question: str, raw: str) -> str:
    """The unit the question writes right after a figure ("5" of "5nm" -> "nm")."""
    m = re.search(re.escape(raw) + r"\s*([A-Za-z%]+|[^\W\d_]{1,2})", question)
    return m.group(1) if m else ""


def _states_any(attributes: list[str], c: Candidate) -> bool:
    return any(states(x, c.text) for x in attributes)


def _with_quote(sel: Selection, quote: Candidate, others: list[Candidate]) -> list[Candidate]:
    """``quote`` and as many of ``others`` as the answer has room for, in text order."""
    return sorted([quote, *others[: sel.w.max_sentences - 1]], key=_order)


def _quote_meeting(
    sel: Selection,
    eligible: list[Candidate],
    chosen: list[Candidate],
    stating: Callable[[Candidate], bool],
    meets: Callable[[Candidate], bool],
) -> list[Candidate] | None:
    """The chosen quotes when one stating the asked attribute ``meets`` the question's
    condition; else the best eligible one that does, in place of the chosen ones stating it;
    None when no quote does."""
    if any(stating(c) and meets(c) for c in chosen):
        return chosen
    found = next((c for c in eligible if c not in chosen and stating(c) and meets(c)), None)
    if found is None:
        return None
    return _with_quote(sel, found, [c for c in chosen if not stating(c)])


def _choose(
    sel: Selection, ab: Aboutness, eligible: list[Candidate], lang: str
) -> list[Candidate] | OfflineAnswer:
    """The quotes, or the refusal when an asked attribute is missing or withheld."""
    needed = needed_attributes(sel)
    if needed and any(
        undisclosed_about(c.text, a)
        and _withheld_of_asked(ab, c)
        and not any(_gives_figure(a, b.text) for b in eligible[:i])
        for i, c in enumerate(eligible[:3])
        for a in needed
    ):
        return _refuse(Reason.UNDISCLOSED, lang, "evidence says undisclosed")
    chosen, absent = pick_for_attributes(sel, ab, eligible, needed)
    if absent is not None:
        what = _label(absent, lang)
        return _refuse(Reason.ATTRIBUTE_ABSENT, lang, f"attribute absent: {absent}", what)
    why = sel.analysis.intent in ("why", "how")  # a reason is not gated on a figure
    # "who is its biggest customer" wants a name, "is it profitable?" a yes or no: the
    # attribute's word answers without a figure
    wordy = bool({"who", "yesno"} & sel.analysis.intents)
    for attr in [] if why else own_cue_attributes(sel.analysis):
        stating = [
            c
            for c in eligible
            if (states(attr, c.text) or (wordy and _cues(attr, c.text)))
            and precision_said(sel.analysis.question, attr, c.text)
        ]
        theirs = {id(c) for c in others_figure(sel, attr, stating)}
        stating = [c for c in stating if id(c) not in theirs]
        if not stating:
            what = label(attr, lang)
            return _refuse(Reason.ATTRIBUTE_ABSENT, lang, f"attribute absent: {attr}", what)
        if not any(c in chosen for c in stating):
            chosen.append(stating[0])
    if not chosen:
        chosen = [eligible[0]]
    cover_entities(sel, ab, eligible, chosen)
    add_open_parts(sel, ab, eligible, chosen)
    chosen = sorted(chosen, key=_order)
    unstated = _figure_unstated(sel, eligible, chosen)
    if isinstance(unstated, str):
        return _refuse(Reason.PART_ABSENT, lang, f"no quote about {unstated}", unstated)
    chosen = unstated
    formats = _formats_named(sel, eligible, chosen, lang)
    if isinstance(formats, OfflineAnswer):
        return formats
    chosen = formats
    unnamed = _round_unstated(sel, eligible, chosen)
    if isinstance(unnamed, str):
        return _refuse(Reason.PART_ABSENT, lang, f"no quote about round {unnamed}", unnamed)
    chosen = unnamed
    chosen = _with_reason(sel, eligible, chosen)
    if sel.analysis.intent == "who" and not sel.analysis.attributes:
        named = _someone_named(sel, eligible, chosen, lang)
        if isinstance(named, OfflineAnswer):
            return named
        chosen = named
    elif "who" in sel.analysis.intents and not _names_someone(sel, chosen):
        # "who founded X and when did it list": the date's quote, and one naming the person
        naming = next((c for c in eligible if c not in chosen and _names_someone(sel, [c])), None)
        if naming is not None:
            chosen = _with_quote(sel, naming, chosen)
    scoped = _in_places(sel, eligible, chosen)
    if isinstance(scoped, str):
        return _refuse(Reason.PLACE_ABSENT, lang, f"no quote about {scoped}", scoped)
    chosen = scoped
    unplaced = _place_unnamed(sel, chosen)
    if unplaced:
        return _refuse(Reason.NOT_ABOUT, lang, f"no source about {unplaced}", unplaced)
    if sel.analysis.counted and sel.analysis.intent == "value":
        counted = _counted_said(sel, eligible, chosen, lang)
        if isinstance(counted, OfflineAnswer):
            return counted
        chosen = counted
    if not _in_period(sel, chosen):
        return _period_quote(sel, eligible, chosen, lang)
    return chosen


def _with_reason(
    sel: Selection, eligible: list[Candidate], chosen: list[Candidate]
) -> list[Candidate]:
    """A why question is answered by a quote giving a reason or purpose: the best eligible
    one joins the chosen where none of them gives one."""
    q = sel.analysis.question
    if "why" not in sel.analysis.intents or any(gives_reason(q, c.text) for c in chosen):
        return chosen
    giving = next((c for c in eligible if gives_reason(q, c.text)), None)
    return chosen if giving is None else _with_quote(sel, giving, chosen)


def others_figure(sel: Selection, attr: str, cands: list[Candidate]) -> list[Candidate]:
    """The quotes among ``cands`` whose figures of ``attr`` are, by the facts learned from
    them, all other products' ("HBM bandwidth reaches 7.2TB/s, 4.5 times Lyra's": another's,
    not Lyra's), the asked product not named before them: they state no figure of the asked
    one. None where the question names no product; a quote is kept where it yields no such
    fact, or one is a company's or a memory type's (whose part it is, the extractor cannot
    tell). The fact table is read once for all of them."""
    store = sel.facts
    asked = [
        e for e in sel.analysis.entities if e.kind in SPECIFIC_KINDS and not memory_types_in(e.text)
    ]
    if store is None or not asked or not cands:
        return []
    docs = {c.doc_id for c in cands}
    facts = store.facts(attribute=attr, doc_ids=docs)
    ents = {e.entity_id: e for e in store.entities()}
    return [c for c in cands if _only_others(c, facts, asked, ents)]


def _only_others(
    c: Candidate, facts: list[Any], asked: list[QEntity], ents: dict[str, Any]
) -> bool:
    """``c``'s facts (of one attribute) are all other products', none a company's or a
    memory type's, and no asked product is named before their first figure."""
    here = [f for f in facts if f.doc_id == c.doc_id and f.start < c.end and c.start < f.end]
    if not here:
        return False
    kinds = [ents[f.entity_id].kind if f.entity_id in ents else "" for f in here]
    if any(k not in SPECIFIC_KINDS for k in kinds) or any(memory_types_in(f.entity) for f in here):
        return False
    if any(matches(f, qe, ents) for f in here for qe in asked):
        return False
    # the asked product named before the figure may be what carries the other's part ("X搭载
    # 的Y芯片采用12nm工艺"): only one named after it, or not at all, is what it is compared with
    low = normalize(c.text)
    first = min(
        (low.find(normalize(f.value)) for f in here if normalize(f.value) in low), default=-1
    )
    return not any(
        0 <= low.find(normalize(a)) < first for qe in asked for a in [qe.text, *qe.aliases] if a
    )


def _someone_named(
    sel: Selection, eligible: list[Candidate], chosen: list[Candidate], lang: str
) -> list[Candidate] | OfflineAnswer:
    """A who question's quotes: one with the word of the role it names, if it names one,
    and one naming someone; else the refusal."""
    roles = _asked_roles(sel.analysis.question)
    if roles:
        saying = [c for c in eligible if cue_in(c.text, roles)]
        if not saying:
            return _refuse(Reason.NOBODY_NAMED, lang, "no quote names the role asked")
        if not any(c in chosen for c in saying):
            chosen = _with_quote(sel, saying[0], chosen)
    if not _names_someone(sel, chosen):
        return _refuse(Reason.NOBODY_NAMED, lang, "no quote names anyone")
    return chosen


def _counted_said(
    sel: Selection, eligible: list[Candidate], chosen: list[Candidate], lang: str
) -> list[Candidate] | OfflineAnswer:
    """ "毛利率是多少", "how many employees": no vocabulary attribute names it, so the best
    quote saying it with a figure answers (one about another generation only when the
    question asks about one); no such quote, no answer."""
    counted = sel.analysis.counted
    gen = cue_pattern("other_generation")
    older = bool(gen.search(sel.analysis.question))
    words = _with_translations(counted)
    dims = set(cues().measured_by.get(counted, ()))

    def says(c: Candidate) -> bool:  # the word, or a figure of what it measures (1.5GHz)
        return _says(words, c) or bool(dims and {q.dim for q in quantities(c.text)} & dims)

    def figured(c: Candidate) -> bool:  # a figure (三千名 too), not a model number or year
        return any(
            not q.ident and not (q.dim is None and re.fullmatch(r"(?:19|20)\d\d", q.raw))
            for q in quantities(c.text)
        )

    saying = sorted(
        (c for c in eligible if figured(c) and says(c)),
        key=lambda c: bool(gen.search(c.text)) and not older,
    )
    if not saying:  # the word without a figure ("提高了时钟频率") says not how much
        return _refuse(Reason.PART_ABSENT, lang, f"no quote says {counted}", counted)
    if saying[0] not in chosen:
        chosen = _with_quote(sel, saying[0], chosen)
    return chosen


def _period_quote(
    sel: Selection, eligible: list[Candidate], chosen: list[Candidate], lang: str
) -> list[Candidate] | OfflineAnswer:
    """Quotes of another period than the asked one: a quote stating the figure for the asked
    period takes the place of those stating it for another ("nine months of 2025" makes way
    for "同期 ... 2024"); none, the period refusal."""
    asked = own_cue_attributes(sel.analysis)
    met = _quote_meeting(
        sel, eligible, chosen, lambda c: _states_any(asked, c), lambda c: _in_period(sel, [c])
    )
    if met is None:
        period = sel.analysis.period.label if sel.analysis.period else ""
        return _refuse(Reason.PERIOD_ABSENT, lang, f"no quote about {period}", period)
    return met


def _in_places(
    sel: Selection, eligible: list[Candidate], chosen: list[Candidate]
) -> list[Candidate] | str:
    """The quotes for a figure asked for one place ("revenue in Japan"), or the place no
    quote stating it names. A quote giving the figure for the whole makes way for one giving
    it for the place (chosen, or the best eligible one); a figure of the whole company is no
    answer for one of its markets."""
    a = sel.analysis
    variant = any(p.kind == "variant" for p in a.scopes)  # of any figure or statement
    if not a.scopes or (a.intent not in ("value", "latest") and not variant):
        return chosen

    def named(place: QEntity, c: Candidate) -> bool:
        return names_place(place, c.text)

    def names(c: Candidate) -> bool:
        return all(named(p, c) for p in a.scopes)

    def stating(c: Candidate) -> bool:
        return not a.attributes or any(states(x, c.text) for x in a.attributes)

    if any(stating(c) and names(c) for c in chosen):
        return [c for c in chosen if not (stating(c) and a.attributes) or names(c)]
    found = [c for c in eligible if c not in chosen and stating(c) and names(c)]
    if not found:
        quotes = [c for c in chosen if stating(c)] or chosen
        return next((p.text for p in a.scopes if not any(named(p, c) for c in quotes)), "")
    return _with_quote(sel, found[0], [c for c in chosen if not (stating(c) and a.attributes)])


def _place_unnamed(sel: Selection, chosen: list[Candidate]) -> str:
    """A place the question names that no document quoted names anywhere ("Acme's plant in
    Orion" answered from an article never naming Orion), or "". Stricter ``_in_places``
    holds for a place scoping the figure; any other place is a constraint on what the
    answer is about, and a source that never names it says nothing about it."""
    docs = {c.doc_id for c in chosen}
    texts = [sel.docs[d].title + "\n" + sel.docs[d].text for d in docs]
    for place in sel.analysis.entities:
        if place.kind != "place" or place in sel.analysis.scopes:
            continue
        if not any(names_place(place, t) for t in texts):
            return place.text
    return ""


def _cues(attribute: str, text: str) -> bool:
    """``text`` says the attribute's word (客户, customer), figure or not."""
    attr = vocabulary().get(attribute)
    words = [*(attr.cues if attr is not None else ()), *cues().attributes.get(attribute, ())]
    return cue_in(mainland(text), words)


def _order(c: Candidate) -> tuple[int, int]:
    return c.passage_rank, c.start


def _says(words: list[str], c: Candidate) -> bool:
    """The quote says one of ``words`` (a word and its translations, ``_with_translations``);
    a quote in a script none of them is written in cannot tell, and counts."""
    from rag.lexicon import stem

    text = normalize(mainland(c.text))
    han = bool(HAN_CHAR.search(text))
    if any(alias_in(w, text) for w in words):
        return True
    # an English word in another form ("commit": "committed", "operate": "operating")
    stems = {stem(w) for w in words if w.isascii() and w.isalpha() and len(stem(w)) >= 4}
    if stems and any(t.startswith(tuple(stems)) for t in re.findall(r"[a-z]+", text)):
        return True
    return not any(bool(HAN_CHAR.search(w)) == han for w in words)


def _with_translations(word: str) -> list[str]:
    """``word`` (an English one also by its stem) and its other-language words: the glossary
    term groups naming it and the lexicon's entry."""
    from rag.glossary import TERMS
    from rag.lexicon import stem, translations

    forms = {word, word.replace("-", " ")} | ({stem(word)} if word.isascii() else set())
    out = set(forms)
    for f in forms:
        out.update(normalize(x) for x in translations(f))
        for group in TERMS:
            if any(normalize(t) == f for t in group):
                out.update(normalize(t) for t in group)
    return sorted(out - {""}, key=len, reverse=True)


def _years_before(c: Candidate, doc: Document, dims: set[str]) -> set[int]:
    """The year of the first figure (of ``dims``) of the sentence before ``c`` when ``c``
    opens with a same-period word ("同期", "in the same period"); none otherwise. The first:
    "2024年营收11.74亿元，比2023年的7.09亿元增长" is of 2024."""
    opening = normalize(c.text[:30]).lstrip(" ，,:：")
    if not any(opening.startswith(w.lower()) for w in cues().same_period):
        return set()
    spans = sentence_spans(doc.text, max(0, c.start - 300), c.start)
    if not spans:
        return set()
    before = doc.text[spans[-1][0] : spans[-1][1]]
    first = next((f for f in figure_periods(before, dims, doc.date) if f), None)
    return {int(first[:4])} if first else years_in(before)


def _in_period(sel: Selection, chosen: list[Candidate]) -> bool:
    """A question about a period ("2024年营收") is answered only by quotes that name a year
    of it, or come from a document dated in it."""
    p = sel.analysis.period
    if (
        p is None
        or not (sel.attrs or sel.analysis.attributes)
        or sel.analysis.intent in ("why", "how")
    ):
        return True
    lo, hi = int((p.since or "0000")[:4]), int((p.until or "9999")[:4])
    # the period is the asked figure's: a quote stating that figure must be about it (unless
    # the period marks the product: "2019年发布的X")
    asked = [] if p.of_entity else own_cue_attributes(sel.analysis)
    stating = [c for c in chosen if _states_any(asked, c)]
    vocab = vocabulary()
    dims = {d for x in asked if x in vocab for d in vocab[x].dims}
    fiscal_asked = cue_in(sel.analysis.question, cues().fiscal)
    for c in stating or chosen:
        doc = sel.docs[c.doc_id]
        if names_other_part(p, c.text):
            continue  # "第二季度营收" is no answer to the nine months asked
        # a figure of no part of the year answers a quarter asked only in a report of that
        # quarter ("一季报": its title names it)
        if (
            c in stating
            and names_asked_part(p, c.text) is False
            and not names_asked_part(p, doc.title)
        ):
            continue
        # the asked figure's own period ("nine months of 2025 ..., compared with a loss in
        # 2024" is of 2025), not every year the sentence names; a fiscal year is named, not
        # dated, so its figures keep the years the sentence names
        fiscal = fiscal_asked or cue_in(c.text, cues().fiscal)
        before = _years_before(c, doc, dims)
        if before:  # "同期 ...": the figures are of the years the sentence before names
            if any(lo <= y <= hi for y in before):
                return True
            continue
        if stating and not fiscal:
            of_figures = {int(f[:4]) for f in figure_periods(c.text, dims, doc.date) if f}
            if of_figures:
                if any(lo <= y <= hi for y in of_figures):
                    return True
                continue
        years = years_in(c.text)
        if stating:  # "营收将比2024年翻一番" is of a later year than the one it is compared with
            years -= compared_years(c.text)
        if doc.date and (not years or stating):
            # a figure stated in a report of that year counts, though the sentence also names
            # the year it is compared with ("compared with a loss in 2024")
            years = years | {int(doc.date[:4])}
        if any(lo <= y <= hi for y in years):
            return True
    return False


def answer_offline(
    question: str,
    passages: list[Passage],
    docs: dict[str, Document],
    *,
    min_score: float = 1.0,
    min_dense: float = 0.80,
    max_sentences: int = 3,
    known_words: set[str] | None = None,
    debug: list[Candidate] | None = None,
    lang: str | None = None,
    analysis: Analysis | None = None,
    weights: Weights = WEIGHTS,
    facts: Any = None,
) -> OfflineAnswer:
    """Compose an extractive answer with citations, or abstain.

    Args:
        question: the (resolved) question.
        passages: retrieved passages, best first.
        docs: the documents those passages come from, by doc_id.
        min_score: least lexical support a chosen sentence needs.
        min_dense: dense cosine under which weak lexical support means "not in the corpus".
        max_sentences: at most this many quotes in the answer.
        known_words: Latin-script words of the whole corpus; names outside it mean "not covered".
        lang: the asker's language (``zh``/``en``); by default the question's script. A
            follow-up resolved with a Chinese name is still answered in English.
        analysis: the question analysed by ``rag.question.analyse`` (done here if omitted).
        weights: the sentence-choice weights.
        facts: the fact table (``QA.factstore()``): a quote whose figure of an attribute
            asked is only other products' does not state it for the one asked about.
    """
    a = analysis if analysis is not None and analysis.question == question else analyse(question)
    lang = lang or a.lang
    if not passages:
        return _refuse(Reason.NO_PASSAGES, lang, "no passages retrieved")
    gate = _entity_gate(a, passages, known_words, lang)
    if gate is not None:
        return gate
    if weights.max_sentences != max_sentences:
        weights = Weights(**{**weights.__dict__, "max_sentences": max_sentences})
    term_weights, concept_of = weighted_concepts(question, weights)
    sel = Selection(a, term_weights, concept_of, a.evidence_attributes, docs, weights)
    sel.facts = facts
    sel.defined = definition_names(a)
    cands = gather(sel, passages)
    if not cands:
        return _refuse(Reason.NO_PASSAGES, lang, "no sentences")
    if debug is not None:
        debug.extend(cands)
    if _weak(sel, cands, passages, min_score, min_dense):
        return _refuse(Reason.WEAK_EVIDENCE, lang, "weak evidence")
    qlow = normalize(question)
    named = _named_companies(a, qlow)
    ab = Aboutness(sel, _specific(a, question), named, _makers(a, named))
    eligible = [c for c in cands if ab.about_all_kinds(c)]
    if not eligible:
        what = ("、" if lang == "zh" else ", ").join(e[0] for e in ab.entities)
        return _refuse(Reason.NOT_ABOUT, lang, f"no sentence about {what}", what)
    chosen = _choose(sel, ab, eligible, lang)
    if isinstance(chosen, OfflineAnswer):
        return chosen
    text, citations = render(sel, chosen, lang, ab.entities)
    return OfflineAnswer(text, citations, False, [])


__all__ = [
    "STOPWORDS",
    "OfflineAnswer",
    "Reason",
    "answer_offline",
]
