"""One question analyser: what a question (and its conversation) asks, whatever its language.

``analyse(question, history, index)`` turns a question into the entities it names (from the
entities learned at ingest, the glossary's seed vendors and model numbers as written), the
attributes it asks for (ids of the closed vocabulary in ``rag/data/attributes.yaml``), its
intents (value, when, who, list, compare, latest, why, how, yes/no) and a time window. A
follow-up that names no entity, or no attribute, inherits them from the latest earlier turn
that had them.

Follow-ups are resolved here: ``resolved_text`` spells out what a follow-up inherited (the
entities as the earlier turn wrote them, its period) for retrieval, ``needs_context`` tells
the LLM answerer when to condense the conversation, and ``other_script_names`` gives the
learned names of the question's entities in the other script as extra keywords.

The cue words live in ``rag/data/question.yaml``; this module holds only the mechanism. It does
not retrieve, score sentences or answer: ``rag.qa`` and ``rag.retrieve`` search with what it
resolves, the answerers read the ``Analysis`` it returns.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from rag import datafiles
from rag.lang import HAN, HAN_CHAR, lang_of
from rag.textnorm import normalize

QUESTION_FILE = "question.yaml"

INTENT_ORDER = ("why", "list", "compare", "latest", "when", "who", "how", "yesno")


class EntityIndex(Protocol):
    """What the analyser needs of the learned entities (``rag.factstore.FactStore``)."""

    def match_entities(self, text: str) -> list[tuple[Any, int, int]]: ...


@dataclass
class QEntity:
    """An entity the question names: as written, with every alias it is known by."""

    text: str
    aliases: list[str]
    entity_id: str | None = None
    kind: str = "other"
    vendor: str | None = None
    inherited: bool = False
    seeded: bool = False  # the glossary knows it too (so retrieval expands it already)
    written: str = ""  # the name as the question writes it, where that is not ``text``


@dataclass
class Period:
    """A time window: ISO date bounds (inclusive) and the words that set it."""

    since: str | None
    until: str | None
    label: str
    written: str = ""  # the words as the question has them ("2025年上半年", "first half of 2025")
    of_entity: bool = False  # it marks the product asked about ("2019年发布的X"), not the figure


@dataclass(frozen=True)
class Figure:
    """A figure a question states ("a 36GB HBM3E", "96GB以上"): what a list's facts must
    equal (``bound`` "eq"), reach ("ge") or stay within ("le"). ``quantity`` is a
    ``rag.quantities.Quantity`` with a unit."""

    quantity: Any
    bound: str = "eq"


@dataclass
class Analysis:
    """What a question asks. ``attributes`` are vocabulary ids; ``intents`` a set of names."""

    question: str
    lang: str
    entities: list[QEntity] = field(default_factory=list)
    attributes: list[str] = field(default_factory=list)
    intents: set[str] = field(default_factory=set)
    period: Period | None = None
    followup: bool = False
    broad_attributes: set[str] = field(default_factory=set)  # asked by a family cue only
    # the glossary's coarser attribute names (memory, bandwidth, price ...) whose text cues
    # the sentence extractor checks evidence with
    evidence_attributes: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)  # stated with a unit, not in a name
    # places the asked figure is of ("在日本的营收", "revenue in Japan"), not merely named
    scopes: list[QEntity] = field(default_factory=list)
    # the word a how-much question asks about when no attribute names it ("员工", "employees")
    counted: str = ""
    # events the listed items must have had, asked by their date cue beside a figure asked
    # ("which makers sampled X, and what bandwidth did each give": sampling is the condition)
    events: list[str] = field(default_factory=list)

    @property
    def intent(self) -> str:
        """The main intent: the first of ``INTENT_ORDER`` present, else ``value``."""
        return next((i for i in INTENT_ORDER if i in self.intents), "value")

    @property
    def entity_names(self) -> list[str]:
        return [e.text for e in self.entities]


@dataclass(frozen=True)
class _Cues:
    attributes: dict[str, tuple[str, ...]]
    families: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]  # name -> (members, cues)
    only_own: frozenset[str]  # families whose own-cue members are all a question asks of them
    intents: dict[str, tuple[str, ...]]
    pointers: tuple[str, ...]
    pointers_anywhere: tuple[str, ...]  # pronouns that point back wherever they stand
    qualifiers: dict[str, tuple[str, ...]]  # qualifier -> cues ("planned": plan, 计划 ...)
    evidence_groups: dict[str, tuple[str, ...]]  # glossary evidence group -> attributes
    subsumes: dict[str, tuple[str, ...]]  # attribute -> cues of others it reads instead
    not_plural: frozenset[str]  # words after "which" that end in -s but are no plural noun
    per_item: tuple[str, ...]  # words asking one figure per item (each, 分别)
    series_words: tuple[str, ...]  # words calling a name a line of products (系列, series)
    list_words: tuple[str, ...]  # words asking a list where they open the question
    maker_words: tuple[str, ...]  # words asking for the companies behind a named product
    spec_words: tuple[str, ...]  # words asking a product's whole spec sheet (参数, specs)
    purpose_words: tuple[str, ...]  # why-words asking a purpose (用途, used for)
    definition_words: tuple[str, ...]  # words asking what something is (是什么, what is)
    figure_bounds: dict[str, tuple[str, ...]]  # "ge"/"le" -> cues ("以上", "more than" ...)
    period_of_entity: tuple[tuple[str, ...], tuple[str, ...]]  # words (after, before) a period
    yesno_endings: tuple[tuple[str, ...], tuple[str, ...]]  # (particles, question words)
    fiscal: tuple[str, ...]  # words that make a year a company's fiscal year (财年, fiscal)
    same_period: tuple[str, ...]  # sentence openings of the period before (同期, that year)
    full_year: tuple[str, ...]  # words asking a whole year's figure (全年, full-year)
    signs: dict[int, tuple[str, ...]]  # 1 / -1 -> words asking only figures of that sign
    # (cues, words passed over, measure words) of a how-much question's counted noun
    asked_quantity: tuple[tuple[str, ...], frozenset[str], frozenset[str]]
    open_nouns: frozenset[str]  # nouns a "what is X's N" asks no figure with (status, plan)
    measured_by: dict[str, tuple[str, ...]]  # asked noun -> dimensions a figure says it in
    place_scope: tuple[tuple[str, ...], tuple[str, ...]]  # words (after, before) a scoped place
    segments: tuple[tuple[str, ...], ...]  # each business segment's words (数据中心, gaming)
    segment_gap: int  # at most this many characters between a segment and the attribute
    variant_words: tuple[str, ...]  # words naming a variant of a product line (ultra, pro)
    stack_forms: tuple[str, ...]  # how a memory's stack height is written ("{n}层", "{n}-high")
    # (English forms with {ordinal}/{n}, number -> ordinal word) of a numbered generation
    generation_names: tuple[tuple[str, ...], dict[int, str]]


def _both(entry: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(c) for lang in ("zh", "en") for c in entry.get(lang) or [])


@lru_cache(maxsize=1)
def cues() -> _Cues:
    """The cue tables of ``rag/data/question.yaml``, loaded once."""
    raw = datafiles.load_yaml(QUESTION_FILE)
    fams = {
        name: (tuple(v["members"]), _both(v)) for name, v in (raw.get("families") or {}).items()
    }
    pointers = raw.get("pointers") or {}
    return _Cues(
        attributes={a: _both(v) for a, v in raw["attributes"].items()},
        families=fams,
        only_own=frozenset(
            name for name, v in (raw.get("families") or {}).items() if v.get("only_own")
        ),
        intents={i: _both(v) for i, v in raw["intents"].items()},
        pointers=tuple(pointers.get("zh", [])) + tuple(pointers.get("en", [])),
        pointers_anywhere=tuple(str(w).lower() for w in pointers.get("anywhere") or []),
        qualifiers={q: _both(v) for q, v in (raw.get("qualifiers") or {}).items()},
        evidence_groups={g: tuple(m) for g, m in (raw.get("evidence_groups") or {}).items()},
        subsumes={k: tuple(v) for k, v in (raw.get("subsumes") or {}).items()},
        not_plural=frozenset(str(w).lower() for w in raw.get("not_plural") or []),
        per_item=_both(raw.get("per_item") or {}),
        series_words=_both(raw.get("series_words") or {}),
        list_words=_both(raw.get("list_words") or {}),
        maker_words=_both(raw.get("maker_words") or {}),
        spec_words=_both(raw.get("spec_words") or {}),
        purpose_words=_both(raw.get("purpose_words") or {}),
        definition_words=_both(raw.get("definition_words") or {}),
        figure_bounds={
            {"at_least": "ge", "at_most": "le"}[k]: _both(v)
            for k, v in (raw.get("figure_bounds") or {}).items()
        },
        period_of_entity=_before_after(raw.get("period_of_entity") or {}),
        asked_quantity=(
            _both((raw.get("asked_quantity") or {}).get("cues") or {}),
            frozenset(_both((raw.get("asked_quantity") or {}).get("skip") or {})),
            frozenset(str(w) for w in (raw.get("asked_quantity") or {}).get("measures") or []),
        ),
        open_nouns=frozenset(str(w).lower() for w in raw.get("open_nouns") or []),
        measured_by={
            str(k).lower(): tuple(str(d) for d in v)
            for k, v in (raw.get("measured_by") or {}).items()
        },
        fiscal=_both(raw.get("fiscal") or {}),
        same_period=_both(raw.get("same_period") or {}),
        full_year=_both(raw.get("full_year") or {}),
        signs={
            sign: _both((raw.get("signs") or {}).get(key) or {})
            for key, sign in (("negative", -1), ("positive", 1))
        },
        yesno_endings=(
            tuple((raw.get("yesno_endings") or {}).get("particles") or []),
            tuple((raw.get("yesno_endings") or {}).get("not") or []),
        ),
        place_scope=_before_after(raw.get("place_scope") or {}),
        segments=tuple(
            tuple(str(w) for w in group)
            for group in (raw.get("segment_scope") or {}).get("segments") or []
        ),
        segment_gap=int((raw.get("segment_scope") or {}).get("gap", 0)),
        variant_words=tuple(str(w).lower() for w in raw.get("variant_words") or []),
        stack_forms=tuple(str(w).lower() for w in raw.get("stack_forms") or []),
        generation_names=_generation_forms(raw.get("generation_names") or {}),
    )


def _generation_forms(entry: dict[str, Any]) -> tuple[tuple[str, ...], dict[int, str]]:
    forms = tuple(str(f) for f in entry.get("forms") or [])
    return forms, {int(k): str(v) for k, v in (entry.get("ordinals") or {}).items()}


def _before_after(entry: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return (
        tuple(str(w).lower() for w in entry.get("after") or []),
        tuple(str(w).lower() for w in entry.get("before") or []),
    )


datafiles.on_reload(cues.cache_clear)


def _is_latin(cue: str) -> bool:
    return bool(re.search(r"[a-z]", cue, re.I)) and not HAN_CHAR.search(cue)


_WORD = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


@lru_cache(maxsize=4096)
def _cue_form(cue: str) -> tuple[str, bool, bool]:
    """A cue as what finds it: its normalised text, whether it is a Latin word (edges must
    be neither letters nor digits; it may take a plural "s"/"es": "issue prices" says
    "price") and whether it is a word prefix ("reason*"). Han cues are plain substrings.
    No cue is a pattern: hundreds of them compiled cost a cold ``rag ask`` ~70 ms."""
    prefix = cue.endswith("*")
    needle = normalize(cue.rstrip("*"))
    return needle, _is_latin(cue), prefix


def _word_end(text: str, end: int, prefix: bool) -> int:
    """Where a Latin cue ending at ``end`` ends as a word (its plural taken), or -1."""
    if prefix:
        return end
    for tail in ("es", "s", ""):
        e = end + len(tail)
        if text.startswith(tail, end) and (e >= len(text) or text[e] not in _WORD):
            return e
    return -1


def _cue_spans(cue: str, text: str) -> Iterator[tuple[int, int]]:
    """Where ``cue`` occurs in ``text`` (normalised), left to right, not overlapping."""
    needle, latin, prefix = _cue_form(cue)
    if not needle:
        return
    i = text.find(needle)
    while i >= 0:
        end = i + len(needle)
        if latin:
            end = _word_end(text, end, prefix) if i == 0 or text[i - 1] not in _WORD else -1
            if end < 0:
                i = text.find(needle, i + 1)
                continue
        yield i, end
        i = text.find(needle, end)


def cue_in(text: str, words: Iterable[str]) -> bool:
    """Some cue of ``words`` occurs in ``text`` (normalised here)."""
    low = normalize(text)
    return any(next(_cue_spans(w, low), None) is not None for w in words)


def find_cues(text: str, table: Mapping[str, Sequence[str]]) -> list[tuple[str, int, int]]:
    """Every (key, start, end) whose cue occurs in ``text`` (already normalised)."""
    out: list[tuple[str, int, int]] = []
    for key, words in table.items():
        for w in words:
            out.extend((key, s, e) for s, e in _cue_spans(w, text))
    return out


def strongest_cues(text: str, table: Mapping[str, Sequence[str]]) -> list[tuple[str, int, int]]:
    """The cues of ``table`` in normalised ``text``, a cue inside a longer one dropped
    (片间互联带宽 holds 带宽: only the longer counts)."""
    return _longest_first(find_cues(text, table))


def _longest_first(hits: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Keep the longest cues; drop any cue inside the span of a longer one."""
    kept: list[tuple[str, int, int]] = []
    for key, s, e in sorted(hits, key=lambda h: (-(h[2] - h[1]), h[1])):
        if any(ks <= s and e <= ke for _, ks, ke in kept):
            continue
        kept.append((key, s, e))
    return sorted(kept, key=lambda h: h[1])


def _how_much_after(low: str, end: int) -> bool:
    """A Chinese how-much word right after ``low[:end]`` ("速度多少", "速度是多少")."""
    asks, skip, _ = cues().asked_quantity
    rest = low[end:].lstrip()
    for w in sorted(skip, key=len, reverse=True):
        if rest.startswith(w) and HAN_CHAR.match(w):
            rest = rest[len(w) :]
            break
    return any(rest.startswith(w) for w in asks if HAN_CHAR.match(w))


def own_cue_attributes(a: Analysis) -> list[str]:
    """Asked attributes named by a cue of their own (not only by a family cue such as
    "memory"): a quote answers such a question only if it states one of them."""
    return [x for x in a.attributes if x not in a.broad_attributes]


def asked_attributes(text: str) -> list[str]:
    """Attribute ids a question asks for, longest cue first, families expanded."""
    return attribute_cues(text)[0]


def attribute_cues(text: str) -> tuple[list[str], set[str]]:
    """The attributes asked, and those of them that only a family cue ("when", "memory")
    asked for: such a broad cue says less about which attribute is meant. A Taiwan or Hong
    Kong question is read in mainland wording (記憶體頻寬 asks for 内存带宽)."""
    from rag.glossary import masked
    from rag.textnorm import mainland

    c = cues()
    low = masked(normalize(mainland(text)))
    hits = find_cues(low, c.attributes)
    hits += [
        ("family:" + k, s, e)
        for k, s, e in find_cues(low, {k: v[1] for k, v in c.families.items()})
    ]
    # a cue inside a maker word names the kind of company ("memory makers", 存储厂商), no
    # attribute: the longer maker word absorbs it
    hits += find_cues(low, {"maker:": c.maker_words})
    out: list[str] = []
    broad: set[str] = set()
    for key, _, e in _longest_first(hits):
        if key == "maker:":
            continue
        if key.startswith("family:"):
            members = c.families[key[7:]][0]
            new = [m for m in members if m not in out]
            out.extend(new)
            if len(members) > 1 or not _how_much_after(low, e):
                broad.update(new)  # "速度多少": a one-member family asked how much is its own
        elif key not in out:
            out.append(key)
        else:
            broad.discard(key)  # also asked by a cue of its own
    for attr, others in c.subsumes.items():  # "shipped samples" asks for sampling, not shipments
        if attr in out and attr not in broad:
            out = [x for x in out if x not in others]
    for name in {k[7:] for k, _, _ in hits if k.startswith("family:")} & c.only_own:
        members = c.families[name][0]
        if any(m in out and m not in broad for m in members):
            # "when did X enter mass production": the family's own-cue member is what is
            # asked, not every date
            out = [x for x in out if x not in broad or x not in members]
            broad -= set(members)
    return out, broad


def sign_of(text: str) -> int:
    """1 or -1 when the question asks only figures of that sign (question.yaml ``signs``:
    "profitable", "亏损的"), else 0."""
    low = normalize(text)
    return next((sign for sign, words in cues().signs.items() if cue_in(low, words)), 0)


def qualifiers_of(text: str) -> set[str]:
    """The qualifiers a question asks about ("which chips are planned ...": ``planned``)."""
    return {k for k, _, _ in find_cues(normalize(text), cues().qualifiers)}


def figures_of(question: str, entities: Sequence[QEntity] = ()) -> list[Figure]:
    """The figures with a unit a question states outside its entities' names (a model
    number such as "X900E" would read as 900 exa-something; "36GB" is a figure; years and
    counts are no figure here), each with the bound its cue words give (one bound for the
    question: such questions state one figure)."""
    from rag.quantities import STRICT, quantities

    text = question
    for e in entities:
        for name in {e.text, e.written} - {""}:
            text = re.sub(re.escape(name), " ", text, flags=re.IGNORECASE)
    found = [q for q in quantities(text) if q.dim in STRICT and not q.ident]
    if not found:
        return []
    low = normalize(text)
    bounds = {b for b, _, _ in find_cues(low, cues().figure_bounds)}
    bound = next(iter(bounds)) if len(bounds) == 1 else "eq"
    return [Figure(q, bound) for q in found]


def intents_of(text: str) -> set[str]:
    """The intents whose cues the question carries."""
    low = normalize(text)
    found = {k for k, _, _ in find_cues(low, cues().intents)}
    particles, words = cues().yesno_endings
    end = re.sub(r"[\s?？!！。.]+$", "", text)
    if end.endswith(particles) and not end.endswith(words) and "why" not in found:
        found.add("yesno")
    if re.match(r"\s*(?:is|are|does|do|did|has|have|was|were|will|can)\b", low):
        found.add("yesno")
    if "list" not in found and (_asks_plural(low) or _list_word_opens(low)):
        found.add("list")
    return found


def _asks_plural(low: str) -> bool:
    """ "which/what" before a plural noun ("which Chinese AI startups ...", "what chips ..."):
    the answer is a list. Words ending in -s that are not plurals are data (verbs, -ss)."""
    not_plural = cues().not_plural
    for m in re.finditer(r"\b(?:which|what)\b", low):
        for w in re.findall(r"[a-z][a-z0-9\-]*", low[m.end() :])[:5]:
            if w in not_plural:
                break
            if _plural(w):
                return True
    return False


def _names_kind_zh(question: str) -> bool:
    """A Chinese question naming a kind of company ("创业公司的融资额", "哪家厂商"): Chinese
    has no plural, so the kind word (``maker_words``) is the sign of a list."""
    return lang_of(question) == "zh" and cue_in(question, cues().maker_words)


def _plural_asked(question: str, a: Analysis) -> bool:
    """An asked attribute's English word in the plural ("prices", "capacities")."""
    words = set(re.findall(r"[a-z]+", normalize(question)))
    for attr in a.attributes:
        for cue in cues().attributes.get(attr, ()):
            last = cue.split()[-1] if _is_latin(cue) else ""
            forms = {last + "s", last + "es", last[:-1] + "ies" if last.endswith("y") else ""}
            if len(last) > 2 and words & (forms - {""}):
                return True
    return False


def _list_word_opens(low: str) -> bool:
    """The question opens with a word asking for a list ("list chips made on 3nm")."""
    bare = re.sub(r"^[\s\W]+", "", low)
    return any(
        re.match(rf"{re.escape(w)}\b", bare) if _is_latin(w) else bare.startswith(w)
        for w in cues().list_words
    )


def _plural(w: str) -> bool:
    return len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is"))


def _names_kind(low: str) -> bool:
    """A plural noun other than an attribute's word ("valuations of inference chip
    start-ups": start-ups): a question naming nothing asks it of every item of that kind."""
    said = {w for v in cues().attributes.values() for c in v for w in c.split()}
    said |= cues().not_plural
    return any(_plural(w) and w not in said for w in re.findall(r"[a-z][a-z0-9\-]*", low))


_QUARTER_ZH = {"一": 1, "二": 2, "三": 3, "四": 4}
_YEAR = re.compile(
    r"(?<!\d)(20\d\d|\d\d)\s*(?:年|财年)|(?<![\d.])(20\d\d)(?!\d|\.\d)|\bfy\s*(\d\d)\b"
)
_QUARTER = re.compile(r"(?:第?([一二三四])季度|第([一二三四])季|\bq([1-4])\b)")
_QUARTER_EN = re.compile(r"\b(first|second|third|fourth)[- ]quarter\b")
_ORDINAL_EN = {"first": 1, "second": 2, "third": 3, "fourth": 4}
_NINE_MONTHS = re.compile(
    r"前三季度|前三个?季度|前(?:9|九)个月|\b(?:first )?nine months\b|\bfirst three quarters\b|\b9m\b"
)
_PART_LABEL = {(1, 6): "H1", (7, 12): "H2", (1, 9): "Q1-Q3", (1, 12): "FY"}
_HALF = re.compile(r"上半年|\bh1\b|first half|下半年|\bh2\b|second half")
_MONTH = re.compile(r"(?<!\d)(1[0-2]|0?[1-9])\s*月")
_MONTHS_EN = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]


def _year(m: re.Match[str]) -> int:
    y = next(g for g in m.groups() if g)
    return int(y) if len(y) == 4 else 2000 + int(y)


def _subyear(low: str) -> list[tuple[int, int, tuple[int, int]]]:
    """The parts of a year a lower-cased text names, as (first month, last month, span), in
    the order they appear: nine months (前三季度), quarters (第二季度, Q2, second quarter),
    halves (上半年, H1) and the whole year said so (全年, full-year)."""
    out = []
    for m in _NINE_MONTHS.finditer(low):
        out.append((1, 9, m.span()))
    rest = _NINE_MONTHS.sub(lambda m: " " * len(m.group()), low)
    for m in _QUARTER.finditer(rest):
        n = _QUARTER_ZH.get(m.group(1) or m.group(2) or "", 0) or int(m.group(3) or 0)
        out.append((3 * n - 2, 3 * n, m.span()))
    for m in _QUARTER_EN.finditer(rest):
        n = _ORDINAL_EN[m.group(1)]
        out.append((3 * n - 2, 3 * n, m.span()))
    for m in _HALF.finditer(rest):
        first = m.group() in ("上半年", "h1", "first half")
        out.append((1, 6, m.span()) if first else (7, 12, m.span()))
    for w in cues().full_year:  # the whole year, said so ("2024年全年", "full-year 2024")
        for s, e in _cue_spans(w, rest):
            out.append((1, 12, (s, e)))
    return sorted(out, key=lambda t: t[2])


def subyear_parts(text: str, years: tuple[int, int] | None = None) -> set[tuple[int, int]]:
    """The parts of a year a text names, as (first month, last month); with ``years`` (first,
    last), only those of a year in that range or written with no year right before them
    ("2025年上半年" is no part of 2024)."""
    low = normalize(text)
    out = set()
    for lo, hi, (s, _) in _subyear(low):
        y = re.search(r"(20\d\d)\s*年?\s*(?:的|年度)?\s*$", low[max(0, s - 8) : s])
        if years and y and not years[0] <= int(y.group(1)) <= years[1]:
            continue
        out.add((lo, hi))
    return out


def names_other_part(period: Period, text: str) -> bool:
    """A quarter, a half, nine months or a whole year said so is asked, and ``text`` names
    only other parts of the asked years: it gives another part's figure. A plain year asked
    keeps the year checks alone (one sentence often holds a year and its quarters)."""
    part = subyear_parts(period.written) if period.label[:1] in ("Q", "H", "F") else set()
    if not part:
        return False
    years = (int((period.since or "0")[:4]), int((period.until or "9999")[:4]))
    named = subyear_parts(text, years)
    if period.since is None:  # a part of no year ("前三季度营收"): only a text naming it
        return not part & named
    return bool(named) and not part & named


def names_asked_part(period: Period, text: str) -> bool | None:
    """Whether ``text`` names the quarter, half or nine months asked (None: no such part is
    asked). A figure of the whole year ("2023年的7.09亿元") is no answer to its first
    quarter."""
    part = subyear_parts(period.written) if period.label[:1] in ("Q", "H", "F") else set()
    part.discard((1, 12))  # the whole year said so ("2024年全年") is the year's figure
    if not part:
        return None
    years = (int((period.since or "0")[:4]), int((period.until or "9999")[:4]))
    return bool(part & subyear_parts(text, years))


def asked_formats(question: str) -> set[str]:
    """The number formats a question names (FP8, INT8 ...), upper-cased."""
    return {m.upper() for m in PRECISION.findall(question)}


def period_of(text: str) -> Period | None:
    """The time window a question names: a year, a quarter, a half, nine months or a month
    of a year."""
    low = normalize(text)
    years = [_year(m) for m in _YEAR.finditer(low)]
    if not years:
        return _part_of_no_year(low)
    y0, y1 = min(years), max(years)
    label = str(y0) if y0 == y1 else f"{y0}-{y1}"
    lo_m, hi_m = 1, 12
    part = next(iter(_subyear(low)), None)
    mo = _MONTH.search(low)
    en_month = next((i + 1 for i, n in enumerate(_MONTHS_EN) if re.search(rf"\b{n}\b", low)), None)
    if part and y0 == y1:
        lo_m, hi_m = part[0], part[1]
        label = f"{_PART_LABEL.get((lo_m, hi_m), f'Q{hi_m // 3}')} {y0}"
    elif (mo or en_month) and y0 == y1:
        m = int(mo.group(1)) if mo else int(en_month or 1)
        lo_m = hi_m = m
        label = f"{y0}-{m:02d}"
    last = calendar.monthrange(y1, hi_m)[1]
    spans = [m.span() for m in _YEAR.finditer(low)]
    spans += [part[2]] if part else []
    spans += [mo.span()] if mo is not None else []
    after, before = cues().period_of_entity
    start, end = min(s for s, _ in spans), max(e for _, e in spans)
    of_entity = low[end:].lstrip().startswith(after) or low[:start].rstrip().endswith(before)
    return Period(
        f"{y0}-{lo_m:02d}-01", f"{y1}-{hi_m:02d}-{last:02d}", label, _written(low, spans), of_entity
    )


def _part_of_no_year(low: str) -> Period | None:
    """A quarter, a half or nine months asked with no year ("前三季度营收", "Q3 revenue"): a
    window of no bounds that only texts naming that part meet (``names_other_part``)."""
    part = next(iter(_subyear(low)), None)
    if part is None or (part[0], part[1]) == (1, 12):
        return None
    label = _PART_LABEL.get((part[0], part[1]), f"Q{part[1] // 3}")
    after, before = cues().period_of_entity
    s, e = part[2]
    of_entity = low[e:].lstrip().startswith(after) or low[:s].rstrip().endswith(before)
    return Period(None, None, label, low[s:e], of_entity)


def _written(low: str, spans: list[tuple[int, int]]) -> str:
    """The matched period words in their order; adjacent ones as one phrase."""
    parts: list[str] = []
    end = -1
    for s, e in sorted(spans):
        if s < end:
            continue
        if parts and low[end:s].strip() in ("", "of", "的"):
            parts[-1] += low[end:e]
        else:
            parts.append(low[s:e])
        end = e
    return " ".join(p.strip() for p in parts)


# a number format a figure is given in ("FP16", "INT8", "BF16", "TF32")
PRECISION = re.compile(r"\b(?:FP\d+|INT\d+|BF\d+|TF\d+)\b", re.I)
MODEL_TOKEN = re.compile(r"[A-Za-z]*\d+[A-Za-z]*(?:\+\d+)?")
# a numbered product or generation is an entity of its own ("第二代", "...三号", "...9号")
ORDINAL = re.compile(
    rf"第[一二三四五六七八九十\d]+[座代款个期号]|[{HAN}]{{0,2}}[一二三四五六七八九十\d]+号"
)
# a capitalised name, hyphenated parts included (a term such as "XYZ-V" is one word)
_CAPWORD = re.compile(r"(?<![A-Za-z\-])[A-Z][A-Za-z]{2,}(?:-[A-Za-z0-9]+)*(?![A-Za-z0-9\-])")


_GENERATION = re.compile(r"第([一二三四五六七八九十]|\d+)代")
_ZH_DIGITS = {c: i for i, c in enumerate("一二三四五六七八九十", start=1)}


def generation_names(name: str) -> list[str]:
    """The English names of a generation numbered in Chinese ("第二代": "second-generation",
    "gen 2" ...; ``question.yaml`` ``generation_names``), or none."""
    m = _GENERATION.fullmatch(name)
    if m is None:
        return []
    n = int(m.group(1)) if m.group(1).isdigit() else _ZH_DIGITS[m.group(1)]
    forms, ordinals = cues().generation_names
    word = ordinals.get(n)  # past the listed ordinals only the numbered forms ("gen 12")
    return [f.format(ordinal=word, n=n) for f in forms if word or "{ordinal}" not in f]


def question_entities(question: str) -> list[list[str]]:
    """Seed entities the question names, each as its list of acceptable aliases.

    Vendors come from the glossary (with their aliases in every language); model numbers
    are taken as written; numbered products ("...三号") too.
    """
    from rag.evidence import AMOUNT_AFTER, NOT_ENTITY, alias_in
    from rag.glossary import VENDORS

    out: list[list[str]] = []
    low = normalize(question)
    out += [aliases for aliases in VENDORS.values() if any(alias_in(a, low) for a in aliases)]
    for m in MODEL_TOKEN.finditer(question):
        tok = m.group()
        if tok.isdigit() and AMOUNT_AFTER.match(question, m.end()):
            continue  # "100 billion", "30 万": an amount, not a model number
        if re.fullmatch(r"[A-Za-z]*\d+s", tok) and re.search(r"\d", tok[:-1]):
            tok = tok[:-1]  # a plural model number
        if not NOT_ENTITY.match(tok.lower()):
            out.append([tok])
    # a numbered generation is known by its English names too ("第二代": "second-generation")
    out += [[m.group(), *generation_names(m.group())] for m in ORDINAL.finditer(question)]
    return out


def specific_entities(question: str) -> list[list[str]]:
    """The most specific things the question is about: model numbers, else products, else
    vendors."""
    from rag.evidence import alias_in
    from rag.glossary import PRODUCTS, VENDORS

    low = normalize(question)
    models = [e for e in question_entities(question) if len(e) == 1 or ORDINAL.fullmatch(e[0])]
    products = [aliases for aliases in PRODUCTS.values() if any(alias_in(a, low) for a in aliases)]
    if models or products:
        return models + products
    return [aliases for aliases in VENDORS.values() if any(alias_in(a, low) for a in aliases)]


def unknown_names(question: str, known_words: set[str]) -> list[str]:
    """Capitalised names in the question that the corpus never mentions."""
    from rag.evidence import words
    from rag.glossary import TERMS, VENDORS
    from rag.textnorm import STOPWORDS

    glossary = {
        w.lower() for aliases in VENDORS.values() for a in aliases for w in re.split(r"[\s\-]+", a)
    }
    glossary |= {w.lower() for group in TERMS for t in group for w in re.split(r"[\s\-]+", t)}
    data = words()
    ignore = set(data["question_words"]) | set(data["common_caps"]) | set(data["months"])
    out = []
    first = re.match(r"\s*([A-Za-z]+)", question)
    for m in _CAPWORD.finditer(question):
        w, lw = m.group(), m.group().lower()
        if first is not None and m.start() == first.start(1):
            continue  # a capital at the start of the question is grammar, not a name
        if lw in ignore or lw in STOPWORDS or lw in glossary or lw in known_words:
            continue
        if lw.rstrip("s") in known_words or lw.rstrip("'s") in known_words:
            continue
        if "-" in lw and lw.split("-")[0] in known_words:
            continue  # a known name with a suffix ("X-based", "X-made")
        out.append(w)
    return out


def _one_per_span(question: str, hits: list[tuple[Any, int, int]]) -> list[tuple[Any, int, int]]:
    """Where several learned entities share a name, the one the name belongs to: the entity
    called exactly that, else the one most documents name."""
    by_span: dict[tuple[int, int], list[Any]] = {}
    for ent, s, e in hits:
        by_span.setdefault((s, e), []).append(ent)
    out = []
    for (s, e), ents in by_span.items():
        said = normalize(question[s:e]).replace(" ", "")
        best = max(
            ents,
            key=lambda x: (
                normalize(x.name).replace(" ", "") == said,
                len(getattr(x, "doc_ids", []) or []),
            ),
        )
        out.append((best, s, e))
    return out


def _entities(question: str, index: EntityIndex | None) -> list[QEntity]:
    """Learned entities first (longest alias match), then seed vendors and model numbers."""
    out: list[QEntity] = []
    if index is not None:
        for ent, s, e in _one_per_span(question, index.match_entities(question)):
            aliases = [ent.name, *[a for a in ent.aliases if a != ent.name]]
            out.append(
                QEntity(
                    question[s:e], aliases, ent.entity_id, ent.kind, getattr(ent, "vendor", None)
                )
            )
    for q in out:
        q.aliases += [v for v in _series_variants(q.aliases) if v not in q.aliases]
    for aliases in question_entities(question):
        low = {normalize(a) for a in aliases}
        # a model number the index knows joins that entity; a seed vendor group never
        # swallows a model number (a model is not another name for its vendor)
        merged = next((q for q in out if q.entity_id and _same(low, q, aliases)), None)
        if merged is not None:
            # a model number inside a learned name ("100" of "X100") is no name of its own
            inside = len(aliases) == 1 and normalize(aliases[0]) not in {
                normalize(x) for x in merged.aliases
            }
            merged.aliases += [] if inside else [a for a in aliases if a not in merged.aliases]
            merged.seeded = merged.seeded or len(aliases) > 1  # a glossary vendor group
            continue
        kind = "model" if len(aliases) == 1 or ORDINAL.fullmatch(aliases[0]) else "company"
        if kind == "model":
            out = [q for q in out if not _inside(question, q.text, aliases[0])]
        written = next((a for a in aliases if a in question), "")
        out.append(QEntity(aliases[0], list(aliases), None, kind, written=written))
    return _lines_with_numbers(question, out, index)


def _lines_with_numbers(
    question: str, found: list[QEntity], index: EntityIndex | None
) -> list[QEntity]:
    """A product line written right before a model number is one product ("Lyra 900": not
    the line and a number compared): the learned entity of the line's other names with that
    number ("天琴900") where the index knows one, else the two as one name."""
    out = list(found)
    # a bare number right after a learned line ("Gaudi 4", "昇腾 980") is a model number too,
    # though too short to be one alone
    bare = [
        QEntity(text=m.group(1), aliases=[m.group(1)], kind="model")
        for q in found
        if q.entity_id and q.kind == "product"
        for m in re.finditer(
            rf"{re.escape(q.text)}\s?(\d{{1,3}})(?![\d.%a-zA-Z年月日号亿万元个家款台颗片张])",
            question,
        )
        if not any(x.text == m.group(1) for x in found)
    ]
    for num in [q for q in found if q.kind == "model" and not q.entity_id] + bare:
        at = question.find(num.text)
        line = next(
            (
                q
                for q in out
                if q.entity_id
                and q.kind == "product"
                and at > 0
                and re.search(rf"{re.escape(q.text)}\s?$", question[:at])
            ),
            None,
        )
        if line is None:
            continue
        names = list(
            dict.fromkeys(f"{a}{sep}{num.text}" for a in line.aliases for sep in ("", " "))
        )
        written = question[question.rfind(line.text, 0, at) : at + len(num.text)]
        known = None
        if index is not None:
            hits = [
                ent
                for n in names
                for ent, s, e in index.match_entities(n)
                if s == 0 and e == len(n)
            ]
            known = hits[0] if hits else None
        if known is None and not _numbered_members(index, line):
            continue  # no numbered member known: the number may be one the reader missed
        if known is not None:
            aliases = [known.name, *[a for a in known.aliases if a != known.name], *names]
            vendor = getattr(known, "vendor", None)
            merged = QEntity(
                written, list(dict.fromkeys(aliases)), known.entity_id, known.kind, vendor
            )
        else:
            names = list(dict.fromkeys([written, *names]))  # refusals name it as written
            merged = QEntity(written, names, None, "model", line.vendor, written=written)
        out = [merged if q is line else q for q in out if q is not num]
    return out


def _numbered_members(index: EntityIndex | None, line: QEntity) -> bool:
    """The index knows a member of the product line by its name and a number ("X 800" of
    X): a number written after the line names another member."""
    entities = getattr(index, "entities", None)
    if entities is None:
        return False
    heads = [re.escape(normalize(a)) for a in line.aliases if a]
    rx = re.compile(rf"^(?:{'|'.join(heads)})\s?[a-z]*\d") if heads else None
    return rx is not None and any(
        rx.match(normalize(n))
        for e in entities()
        if e.entity_id != line.entity_id
        for n in [e.name, *e.aliases]
    )


def _series_variants(aliases: list[str]) -> list[str]:
    """A learned model name in the glossary's other names for its series: "<系列>100" is also
    "<Series> 100" when the glossary lists both as names of one product line."""
    from rag.glossary import PRODUCTS

    out: list[str] = []
    for name in aliases:
        m = re.fullmatch(r"(.+?)\s?([A-Za-z]?\d[\w\-+]*)", name.strip())
        if m is None:
            continue
        series, model = m.group(1), m.group(2)
        for group in PRODUCTS.values():
            if any(normalize(series) == normalize(g) for g in group):
                out += [f"{g} {model}" if g.isascii() else f"{g}{model}" for g in group]
    return [x for x in dict.fromkeys(out) if x not in aliases]


def _inside(question: str, learned: str, named: str) -> bool:
    """The question names something more specific around a learned name (a numbered
    product whose series the index knows): the learned entity is not what is asked."""
    i = question.find(named)
    j = question.find(learned)
    return (
        i >= 0
        and j >= 0
        and len(named) > len(learned)
        and i <= j
        and j + len(learned) <= i + len(named)
    )


def _same(low: set[str], learned: QEntity, seed: list[str]) -> bool:
    """A seed entity is this learned one: a vendor group when the learned company is called
    by one of its names; a model number when it is one of the learned names or inside one."""
    names = {normalize(a) for a in learned.aliases}
    if len(seed) > 1:
        return learned.kind == "company" and normalize(learned.aliases[0]) in low
    if low & names:
        return True
    # typed without its spaces or hyphens ("orionx1" for "Orion X1"): the span the learned
    # entity was matched on is this very token
    glued = {re.sub(r"[\s\-]+", "", n) for n in names | {normalize(learned.text)}}
    if {re.sub(r"[\s\-]+", "", m) for m in low} & glued:
        return True
    return any(
        re.search(rf"(?<![a-z0-9]){re.escape(m)}(?![a-z0-9])", n) for m in low for n in names
    )


def _evidence_attributes(question: str) -> list[str]:
    """The glossary's evidence groups the question triggers, less a group whose every cue
    lies inside a longer cue of another attribute: 显存带宽 asks for a bandwidth, and its
    显存 asks for no memory capacity."""
    from rag.glossary import ATTRIBUTES
    from rag.glossary import asked_attributes as glossary_attributes
    from rag.textnorm import CUE, mainland, term_rx

    question = mainland(question)
    low = normalize(question)
    c = cues()
    spans = [(k, s, e) for k, s, e in _longest_first(find_cues(low, c.attributes))]
    out = []
    for g in glossary_attributes(question):
        members = set(c.evidence_groups.get(g, ()))
        hits = [
            m.span() for cue in ATTRIBUTES[g][0] for m in term_rx(cue.lower(), CUE).finditer(low)
        ]
        inside = hits and all(
            any(
                s <= hs and he <= e and (e - s) > (he - hs) and k not in members
                for k, s, e in spans
            )
            for hs, he in hits
        )
        if not inside:
            out.append(g)
    return out


def is_followup(question: str) -> bool:
    """The question points back to an earlier turn ("它的...", "and its ...")."""
    low = normalize(question).strip()
    for p in cues().pointers:
        pn = normalize(p)
        if _is_latin(p):
            if re.match(rf"{re.escape(pn)}(?![a-z0-9])", low):
                return True
        elif low.startswith(pn) or (pn == "呢" and low.rstrip("?？ ").endswith("呢")):
            return True
    return any(
        re.search(rf"(?<![a-z0-9']){re.escape(p)}(?![a-z0-9'])", low)
        for p in cues().pointers_anywhere
    )


def conversation_turns(history: Iterable[Any] | None) -> list[tuple[str, str]]:
    """``(role, content)`` of each earlier turn, role ``user`` or ``assistant``.

    Turns may be ``{"role", "content"}`` dicts, LangChain messages or (user, assistant) pairs.
    """
    out: list[tuple[str, str]] = []
    for turn in history or []:
        if isinstance(turn, (list, tuple)) and len(turn) == 2:  # (user, assistant) pairs
            out += [("user", str(turn[0] or "")), ("assistant", str(turn[1] or ""))]
            continue
        role = getattr(turn, "type", None) or (turn.get("role") if isinstance(turn, dict) else None)
        content = getattr(turn, "content", None)
        if content is None and isinstance(turn, dict):
            content = turn.get("content")
        if isinstance(content, str) and role in ("user", "human", "assistant", "ai"):
            out.append(("user" if role in ("user", "human") else "assistant", content))
    return out


def needs_context(question: str, index: EntityIndex | None = None) -> bool:
    """The question points back to an earlier turn or names no entity of its own."""
    return is_followup(question) or not _entities(question, index)


def _sides(a: Analysis) -> list[QEntity]:
    """The products and models a question names (else its companies), less those that are
    an attribute's cue ("V9配备多少HBM4": HBM4 is the kind of memory asked about, not a second
    product)."""
    from rag.facts import attributes as vocabulary  # built for every ask anyway

    asked = [c for x in vocabulary().values() for c in x.cues]
    named = [e for e in a.entities if not cue_in(e.text, asked)]
    products = [e for e in named if e.kind in ("product", "model")]
    if products:
        return products
    # no product named: the companies are the sides ("A和B的估值"), less one that is the
    # vendor of another named ("Orion's Lyra unit": one side, not two)
    vendors = {e.vendor for e in named if e.vendor}
    return [e for e in named if e.kind == "company" and e.entity_id not in vendors]


def _round_as_condition(a: Analysis) -> None:
    """A round the question names is a condition, not what it asks ("B轮融资多少", "valued
    after its Series E"): what else it asks, or the round's amount where it asks how much."""
    from rag.facts import round_names

    if not round_names(a.question):
        return
    rest = [x for x in a.attributes if x != "funding_round"]
    if not rest and "quantity" not in a.intents:
        return
    a.attributes = rest or ["funding_amount"]
    a.broad_attributes.discard("funding_round")


def analyse(
    question: str, history: Iterable[Any] | None = None, index: EntityIndex | None = None
) -> Analysis:
    """Analyse a question; earlier user turns fill what a follow-up leaves out.

    Args:
        question: the question as typed.
        history: earlier turns as ``{"role", "content"}`` dicts or LangChain messages.
        index: the learned entities (``QA.factstore()``); without it only seed data is used.
    """
    attributes, broad = attribute_cues(question)
    intents = intents_of(question)
    events: list[str] = []
    if "when" not in intents:
        # a date's cue in a how-much question names the event the figure is of, not what is
        # asked ("上市首日涨幅多少": the first day's gain, not the listing date); so does one
        # in a list that asks a figure too ("which makers sampled X, and what bandwidth")
        from rag.facts import attributes as vocabulary  # built for every ask anyway

        dates = {k for k, v in vocabulary().items() if v.kind == "date"}
        figures = [x for x in attributes if x not in dates]
        if "quantity" in intents or ("list" in intents and figures):
            events = [x for x in attributes if x in dates and x not in broad]
            attributes = figures
            broad = {x for x in broad if x in attributes}
    a = Analysis(
        question=question,
        lang=lang_of(question),
        entities=_entities(question, index),
        attributes=attributes,
        broad_attributes=broad,
        intents=intents,
        period=period_of(question),
        evidence_attributes=_evidence_attributes(question),
        events=events,
    )
    # an evidence group of attributes an asked one subsumes is asked no more than they are
    # ("shipped samples": the shipments group's "shipped" is part of the sampling cue)
    gone = {x for att in attributes + events for x in cues().subsumes.get(att, ())}
    gone -= set(attributes)
    groups = cues().evidence_groups
    a.evidence_attributes = [
        g for g in a.evidence_attributes if not (set(groups.get(g, ())) and set(groups[g]) <= gone)
    ]
    a.figures = figures_of(question, a.entities)
    if "funding_round" in a.attributes:
        _round_as_condition(a)
    if a.attributes == ["funding_round"] and "quantity" in a.intents:
        a.attributes = ["funding_amount"]  # "这轮融资多少钱": how much, not which round
    if not a.attributes and a.figures and a.intent == "list":
        # "which chips are made on 3nm": the facts listed are of the figure's attribute
        from rag.facts import implied_attributes

        a.attributes = implied_attributes(question, [e.text for e in a.entities])
    from rag.facts import memory_types_in

    makers = cue_in(question, cues().maker_words)  # "HBM9 suppliers": its makers, not users
    if not a.attributes and a.intent == "list" and memory_types_in(question) and not makers:
        a.attributes = ["memory_type"]  # "which chips use SRAM": the memory type is the figure
    a.scopes = scoping_places(question, a.entities) + scoping_segments(question, a)
    a.scopes += scoping_variants(question, a.entities) + scoping_stacks(question)
    _items_asked(a, question, index)
    a.counted = "" if a.attributes else counted_word(question, a.entities)
    turns = conversation_turns(history)
    if turns:
        _asked_of(a, question, turns, index)
    return a


def _asked_of(
    a: Analysis, question: str, turns: Sequence[tuple[str, str]], index: EntityIndex | None
) -> None:
    """Fill what a follow-up leaves out (its subject, attribute, period) from earlier turns."""
    pointer = is_followup(question)
    # a place is no subject: "why did it stop being sold in China?" still asks of "it"
    places = [e for e in a.entities if e.kind == "place"]
    subject = len(places) < len(a.entities)
    for earlier in reversed([c for role, c in turns if role == "user"]):
        prev = analyse(earlier, None, index)
        if not subject and (
            prev.entities and (pointer or a.attributes or (len(question) < 40 and not places))
        ):
            a.entities = _inherited(prev.entities, a.attributes)
            a.entities += [e for e in places if e.text not in {x.text for x in a.entities}]
            subject = True
            a.followup = True
        if not a.attributes and prev.attributes and (pointer or a.entities):
            a.attributes = list(prev.attributes)
            a.followup = True
        if a.period is None and prev.period is not None and a.followup:
            a.period = prev.period
        if a.entities and a.attributes:
            break
    if not subject and pointer:  # "its power?" after an answer that named the product
        for earlier in reversed([c for role, c in turns if role == "assistant"]):
            named = _entities(earlier, index)
            if named:
                a.entities = [QEntity(**{**e.__dict__, "inherited": True}) for e in named]
                a.entities += places
                a.followup = True
                break


def _inherited(earlier: Sequence[QEntity], attributes: Sequence[str]) -> list[QEntity]:
    """The entities a follow-up takes from an earlier question: all of them, or its
    companies alone where every attribute asked is a company's ("TSMC的N2工艺..." then
    "它的投资计划": the company invests, not its process)."""
    from rag.facts import attributes as vocabulary

    vocab = vocabulary()
    companies = [e for e in earlier if e.kind == "company"]
    own = bool(attributes) and all(x in vocab and vocab[x].subject == "company" for x in attributes)
    return [
        QEntity(**{**e.__dict__, "inherited": True})
        for e in (companies if own and companies else earlier)
    ]


def _items_asked(a: Analysis, question: str, index: EntityIndex | None = None) -> None:
    """The intents a question asks by the items it names: several sides compared, one
    figure per item of a kind (a list), or the figure of each item of a company's."""
    if a.attributes and a.intent == "value" and len(_sides(a)) > 1:
        a.intents.add("compare")  # "A, B and C HBM capacity": the figure of each
    if a.attributes and a.intent in ("compare", "value") and cue_in(question, cues().per_item):
        vendors = {e.vendor for e in a.entities if e.vendor}
        items = [e for e in a.entities if not (e.kind == "company" and vendors)]
        items = [e for e in items if e.entity_id not in vendors or not e.entity_id]
        if not items or (len(items) == 1 and _a_line(items[0], index, question)):
            a.intents.add("list")  # "each Orion accelerator": one item named, a kind
    companies_only = bool(a.entities) and all(e.kind == "company" for e in a.entities)
    if a.attributes and a.intent == "value" and companies_only and _plural_asked(question, a):
        a.intents.add("list")  # "Orion card prices": the figure of each of its items
    kind = a.attributes and not a.entities and _names_kind(normalize(question))
    kind = kind or (a.attributes and not a.entities and _names_kind_zh(question))
    if kind and not is_followup(question):  # "valuations of inference chip start-ups"
        a.intents.add("list")


def _a_line(e: QEntity, index: EntityIndex | None, question: str = "") -> bool:
    """``e`` names several items: a company, a name the question calls a series ("织女X10
    系列", "the Orion family"), or a product line the learned entities hold members of: a
    longer name starting with its name ("Orion" of "Orion X10") or with its closing number
    ("X10PR" of "织女X10"); not "VX20" of "VX200", another number. "Each <one product>
    chip" asks the figure per unit, no list; without the learned entities a named item is
    taken for a line."""
    from rag.entities import compact_key

    learned = getattr(index, "entities", None)
    if e.kind == "company" or learned is None or cue_in(question, cues().series_words):
        return True
    names = {k for k in (compact_key(x) for x in [e.text, *e.aliases] if x) if len(k) >= 2}
    names |= {m.group() for n in names if (m := re.search(r"\d{2,}$", n)) and m.start() > 0}
    for other in learned():
        for k in (compact_key(x) for x in [other.name, *other.aliases] if x):
            for n in names:
                rest = k[len(n) :]
                if rest and k.startswith(n) and not (n[-1].isdigit() and rest[0].isdigit()):
                    return True
    return False


def scoping_places(question: str, entities: Sequence[QEntity]) -> list[QEntity]:
    """The places among ``entities`` that scope the figure asked: written right after a
    ``place_scope.before`` word ("在日本", "revenue in Japan") or right before an ``after``
    word ("中国区", "the China market"). A place named otherwise ("日本的芯片公司") scopes
    nothing."""
    after, before = cues().place_scope
    low = normalize(question)
    out = []
    for e in entities:
        if e.kind != "place" or e.inherited:
            continue
        at = low.find(normalize(e.text))
        if at < 0:
            continue
        head, tail = low[:at].rstrip(), low[at + len(normalize(e.text)) :].lstrip()
        if any(_ends_with_word(head, w) for w in before) or any(
            _starts_with_word(tail, w) for w in after
        ):
            out.append(e)
    return out


def scoping_segments(question: str, a: Analysis) -> list[QEntity]:
    """The business segments (``segment_scope``) that scope the figure asked: a segment's
    word written right before a cue of an asked attribute ("数据中心GPU收入", "gaming
    revenue"), not inside a name the question gives ("Orion Cloud"). Each is a scope of
    kind ``segment``, its words in both languages its aliases."""
    from rag.glossary import masked
    from rag.textnorm import mainland

    c = cues()
    low = masked(normalize(mainland(question)))
    asked = own_cue_attributes(a)
    starts = [s for k, s, _ in strongest_cues(low, c.attributes) if k in asked]
    names = [
        (i, i + len(n))
        for e in a.entities
        for n in {normalize(x) for x in [e.text, e.written, *e.aliases] if x}
        for i in [low.find(n)]
        if n and i >= 0
    ]
    out: list[QEntity] = []
    for group in c.segments:
        for word in group:
            spans = [
                (s, e)
                for s, e in _cue_spans(normalize(word), low)
                if not any(ns <= s and e <= ne for ns, ne in names)
                and any(0 <= cs - e <= c.segment_gap for cs in starts)
            ]
            if spans:
                out.append(QEntity(text=word, aliases=list(group), kind="segment"))
                break
    return out


def scoping_variants(question: str, entities: Sequence[QEntity]) -> list[QEntity]:
    """The product variants the question asks about: a ``variant_words`` word written right
    after a product it names ("Orion Ultra", "VX900 Pro"), where no name it knows already
    holds the word and no further name part (a model number: "RTX Pro 6000") follows it.
    Each is a scope of kind ``variant``, "<product> <variant>" spaced and glued its names."""
    words = cues().variant_words
    low = normalize(question)
    out: list[QEntity] = []
    for e in entities if words else ():
        if e.kind in ("company", "place", "segment") or e.inherited:
            continue
        names = {normalize(x) for x in [e.text, e.written, *e.aliases] if x}
        if any(re.search(rf"\b(?:{'|'.join(map(re.escape, words))})\b", n) for n in names):
            continue  # the name holds a variant word already ("Orion Ultra" is known)
        for n in sorted(names, key=len, reverse=True):
            m = re.search(
                rf"(?<![a-z0-9]){re.escape(n)}[ -]?([a-z]+)(?![a-z0-9])(\s*[a-z0-9-]*\d\w*)?", low
            )
            more = m and m.group(2) and not re.fullmatch(r"\s*(?:19|20)\d\d", m.group(2))
            if m and m.group(1) in words and not more:
                word = m.group(1).capitalize()
                text = f"{e.text} {word}"
                out.append(QEntity(text=text, aliases=[text, e.text + word], kind="variant"))
                break
    return out


@lru_cache(maxsize=1)
def _stack_patterns() -> tuple[re.Pattern[str], ...]:
    """One pattern per ``stack_forms`` spelling, the height its group 1 (built once)."""
    out = []
    for form in cues().stack_forms:
        head, _, tail = form.partition("{n}")
        edge = r"(?![a-z0-9])" if re.search(r"[a-z0-9]$", tail) else ""
        out.append(re.compile(rf"(?<![\d.]){re.escape(head)}(\d{{1,2}}){re.escape(tail)}{edge}"))
    return tuple(out)


datafiles.on_reload(_stack_patterns.cache_clear)


def _stack_spots(text: str) -> list[tuple[int, str]]:
    """Every stack height ``text`` writes, as (position in its normalised form, height), in
    the order of ``stack_forms``, then of position."""
    low = normalize(text)
    return [(m.start(), m.group(1)) for rx in _stack_patterns() for m in rx.finditer(low)]


def scoping_stacks(question: str) -> list[QEntity]:
    """The stack height a question names ("12层HBM3E", "12-high"): a scope of kind
    ``variant`` whose names are every ``stack_forms`` spelling of that number."""
    forms = cues().stack_forms
    out: list[QEntity] = []
    for _, n in _stack_spots(question):
        names = [f.replace("{n}", n) for f in forms]
        if not any(names[0] == q.text for q in out):
            out.append(QEntity(text=names[0], aliases=names, kind="variant", written=n))
    return out


def stack_near(text: str, value: str) -> str | None:
    """The stack height ("12" of "12-high") written nearest before ``value`` in ``text``,
    else the first after it; None when the text names none."""
    spots = _stack_spots(text)
    if not spots:
        return None
    at = normalize(text).find(normalize(value))
    before = [x for x in spots if at >= 0 and x[0] < at]
    return max(before)[1] if before else min(spots)[1]


def counted_word(question: str, entities: Sequence[QEntity] = ()) -> str:
    """What a how-much question counts or measures ("毛利率是多少": 毛利率, "有多少个员工":
    员工, "how many employees": employees, "how much on-chip SRAM": sram), or "": a noun beside
    an ``asked_quantity`` cue (Chinese: the one after it, past a measure word, else the one
    before it) that is no entity's name, stopword or cue of another kind."""
    from rag.textnorm import STOPWORDS, mainland

    c = cues()
    asks, skip, measures = c.asked_quantity
    low = normalize(mainland(question))
    names = [normalize(x) for e in entities for x in [e.text, e.written, *e.aliases] if x]
    others = [w for t in (c.intents, c.qualifiers) for ws in t.values() for w in ws]

    def usable(w: str) -> bool:
        return bool(
            w.strip()
            and w not in skip
            and w not in STOPWORDS
            and not re.fullmatch(r"[\W\d_]+", w)
            and not any(w in n or n in w for n in names)
            and not cue_in(w, others)
        )

    for cue in asks:
        for s, e in _cue_spans(cue, low):
            if _is_latin(cue):
                words = re.findall(r"[a-z][a-z-]*", low[e:])
                phrase: list[str] = []
                for w in words[:5]:
                    if w in STOPWORDS and phrase:
                        break
                    if usable(w):
                        phrase.append(w)  # a name ("how many <Product> chips") is passed over
                    if cue.endswith("many") and phrase:  # "how many <plural noun>"
                        break
                word = phrase[-1] if phrase else ""
            else:
                word = _han_noun_beside(low, s, e, skip, measures)
            if word and usable(word):
                return word
    return _asked_noun(low, usable, names)


# "what is the N of X", "what's X's N", "X's N?", "N of X?": the noun phrase asked
_WHAT_OF = re.compile(
    r"^(?:what|what's|whats)\s+(?:is|was|are|were)?\s*(?:the\s+)?(.+?)\s+(?:of|for|at|on)\s"
)
_POSSESSED = re.compile(r"(?:'s|’s|s')\s+([a-z][a-z \-]*?)\s*\??\s*$")
_BARE_OF = re.compile(r"^([a-z][a-z \-]*?)\s+of\s+\S")
# a question opening with a question word or an auxiliary: no bare "X N?"
_QUESTION_WORD = re.compile(
    r"\s*(?:what|where|who|whom|when|why|how|which|is|are|was|were|do|does|did|"
    r"can|could|will|would|has|have|had|should)\b"
)


def _asked_noun(low: str, usable: Callable[[str], bool], names: Sequence[str] = ()) -> str:
    """The noun an English what-question asks of its subject where no vocabulary attribute
    names it ("what is the die size of X": die; "X's clock speed?": clock): of the phrase's
    usable words, the first the lexicon translates, else its last; "X N?" after the last of
    the question's ``names`` too. None for an open noun (``open_nouns``: status, strategy
    ...) or a product kind ("X's flagship GPU": a name), which ask no figure."""
    from rag.lexicon import translations

    m = _WHAT_OF.match(low) or _POSSESSED.search(low) or _BARE_OF.match(low)
    phrase = m.group(1) if m else ""
    ends = [i + len(n) for n in names if n and (i := low.rfind(n)) >= 0]
    bare = not _QUESTION_WORD.match(low)
    if not phrase and ends and bare and low.rstrip().endswith("?"):
        phrase = low[max(ends) :].rstrip(" ?")  # "X clock speed?"
    words = [w for w in re.findall(r"[a-z][a-z\-]*", phrase) if w not in ("its", "their")]
    from rag.entities import cues as entity_cues

    kinds = {k.lower() for k in entity_cues().en_kinds}  # "X's flagship GPU": a name
    if not words or len(words) > 3 or any(w in cues().open_nouns or w in kinds for w in words):
        return ""
    words = [w for w in words if usable(w)]
    known = [w for w in words if translations(w)]
    return (known or words[-1:] or [""])[0]


def _han_noun_beside(
    low: str, s: int, e: int, skip: frozenset[str], measures: frozenset[str]
) -> str:
    """The noun a Chinese quantity cue at ``low[s:e]`` asks about: right after it (past a
    measure word: 多少个机柜, 多大规模), else right before it (past ``skip`` words: 毛利率是多少).
    A word the lexicon translates is a noun whatever jieba tags it (主频 is tagged 'b')."""
    import jieba.posseg as pseg

    from rag.lexicon import translations
    from rag.textnorm import load_jieba

    load_jieba()
    after = [(w, f) for w, f in pseg.lcut(low[e : e + 10]) if w.strip()]
    if after and (after[0][1] in ("q", "m", "mq") or after[0][0] in measures):
        after = after[1:]
    elif after and after[0][0][:1] in measures and len(after[0][0]) > 1:
        after[0] = (after[0][0][1:], "n")  # "张卡" read as one word: the card counted
    if after and after[0][1].startswith(("n", "vn")) and HAN_CHAR.match(after[0][0]):
        return after[0][0]
    before = [(w, f) for w, f in pseg.lcut(low[max(0, s - 12) : s]) if w.strip()]
    while before and before[-1][0] in skip:
        before.pop()
    if before and before[-1][1].startswith(("n", "vn", "x", "eng")):
        return before[-1][0]
    if before and HAN_CHAR.match(before[-1][0]) and translations(before[-1][0]):
        return before[-1][0]
    return ""


def _ends_with_word(text: str, cue: str) -> bool:
    """``text`` ends with ``cue``; a Latin cue as a whole word ("in", not the end of "main")."""
    if not _is_latin(cue):
        return text.endswith(cue)
    return bool(re.search(rf"(?<![a-z0-9]){re.escape(cue)}$", text))


def _starts_with_word(text: str, cue: str) -> bool:
    if not _is_latin(cue):
        return text.startswith(cue)
    return bool(re.match(rf"{re.escape(cue)}(?![a-z0-9])", text))


def other_script_names(a: Analysis, per_entity: int = 2) -> list[str]:
    """Learned names of the question's entities in the other script: the Chinese name of a
    company asked about in English (or by pinyin), the English name of one asked in Chinese.
    Retrieval adds them as keywords, so a question finds text written in the other language."""
    from rag.glossary import expand_query

    out: list[str] = []
    known = {normalize(x) for x in expand_query(normalize(a.question))}
    for e in a.entities:
        if not e.entity_id or e.seeded or known & {normalize(x) for x in e.aliases}:
            continue  # the glossary expands what it knows already
        if a.lang == "en":
            names = [x for x in e.aliases if HAN_CHAR.search(x)]
        else:  # English names as written (capitalised), not romanisations
            names = [x for x in e.aliases if not HAN_CHAR.search(x) and x != x.lower()]
        fresh = {normalize(x): x for x in reversed(names) if normalize(x) not in known}
        out += [x for x in list(fresh.values())[::-1] if x not in out][:per_entity]
    return out


def resolved_text(a: Analysis) -> str:
    """The question with what it inherited spelled out, for retrieval: the entities as the
    earlier turn wrote them, and its period ("英伟达 2025年上半年 净利润呢？")."""
    own = normalize(a.question)
    named = [e.written or e.text for e in a.entities if e.inherited]
    extra = [n for n in named if normalize(n) not in own][:4]
    if a.followup and a.period is not None:
        words = a.period.written or a.period.label
        if normalize(words) not in own:
            extra.append(words)
    return " ".join([*extra, a.question]) if extra else a.question


__all__ = [
    "ORDINAL",
    "PRECISION",
    "Analysis",
    "Period",
    "QEntity",
    "analyse",
    "asked_attributes",
    "conversation_turns",
    "counted_word",
    "generation_names",
    "needs_context",
    "other_script_names",
    "resolved_text",
    "scoping_places",
    "scoping_segments",
    "scoping_variants",
    "strongest_cues",
]
