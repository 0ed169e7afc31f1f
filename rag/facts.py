"""Read typed facts from article sentences: entity, attribute, value, unit, qualifier, period.

Per sentence (``rag.citations.sentence_spans``, so ``quote == document.text[start:end]``):
figures with units (``96GB``, ``700GB/s``, ``60亿元``, ``$1.5 billion``, ranges, 亿/万/billion
scales), memory-type tokens, funding rounds and dates. Each figure gets the attribute whose
cue is nearest to it in its clause (else its sentence), the entity the attribute's subject
rule picks among the entities the sentence names (else the previous sentence or heading),
the qualifier its clause states (计划/预计/传闻/reportedly ...), the precision written next to a
compute figure, and the period it applies to (a date in the sentence, relative years
resolved against the document date, else the document date).

Precision over recall: a figure with no cue for any attribute, or with no entity, is not a
fact. The vocabulary, cues and units are data (``rag/data/attributes.yaml``). It does not
find entities (``rag.entities``) or store facts (``rag.factstore``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rag.citations import clause_spans, sentence_spans
from rag.datafiles import load_yaml
from rag.entities import mentions, simplified
from rag.knowledge import Entity, Fact
from rag.types import Document

EXTRACTOR_VERSION = "15"
_SUBJECT_KINDS = ("company", "product", "model", "org")
# a memory product (an HBM generation) is the subject of its own capacity or bandwidth, not of compute
_MEMORY_SUBJECT_ATTRS = frozenset(
    {"memory_capacity", "memory_bandwidth", "data_rate", "process_node", "shipments", "capacity"}
)
_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ]
    )
    for m in names
}
_MON = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ZH_NUM = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_ORD = {"first": 1, "second": 2, "third": 3, "fourth": 4}
_DATE_PATTERNS = [
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月(?:\s*(?P<d>\d{1,2})\s*日)?"),
    re.compile(
        r"(?P<y>\d{4})\s*年(?:(?P<nine>前三季度)|(?:第|的)?(?P<q>[一二三四1-4])季度?|(?P<h>上|下)半年|底|末|初)?"
    ),
    re.compile(
        r"(?P<rel>去年|今年|明年|前年|同年|当年|本年)(?:(?P<m>\d{1,2})月(?:(?P<d>\d{1,2})日)?"
        r"|(?P<nine>前三季度)|第?(?P<q>[一二三四])季度?|(?P<h>上|下)半年|底|末|初)?"
    ),
    # nine months from January (dated by September, see _month_of)
    re.compile(r"(?P<nine>前三季度|前三个季度)"),
    re.compile(
        r"(?i)\b(?:the\s+)?(?P<nine>first\s+(?:nine\s+months|three\s+quarters))\s+of\s+(?:fiscal\s+)?(?P<y>\d{4})\b"
    ),
    re.compile(r"(?<![\d年])(?P<m>\d{1,2})月(?:(?P<d>\d{1,2})日)?"),
    re.compile(
        rf"(?i)\b(?P<mon>{_MON})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})\b"
    ),
    re.compile(rf"(?i)\b(?P<mon>{_MON})\.?\s+(?:of\s+)?(?P<y>\d{{4}})\b"),
    re.compile(r"(?i)\bQ(?P<q>[1-4])\s*(?:of\s+)?(?:FY|fiscal\s+)?'?(?P<y>\d{4}|\d{2})\b"),
    # a month named alone after a time preposition ("as early as September"): of the
    # document's year, as 9月 is; capitalised, so "may" the verb is none
    re.compile(
        r"(?:(?<=\bin )|(?<=\bIn )|(?<=\bby )|(?<=as early as )|(?<=\bfrom )|(?<=\buntil )"
        r"|(?<=\bsince )|(?<=\bearly )|(?<=\blate )|(?<=mid-)|(?<=\bend of ))"
        r"(?P<mon>January|February|March|April|May|June|July|August|September|October"
        r"|November|December)\b(?![\s.,]*\d)"
    ),
    re.compile(
        r"(?i)\b(?:the\s+)?(?P<qw>first|second|third|fourth)[\s-]+quarter\s+of\s+(?:fiscal\s+)?"
        r"(?P<y>\d{4})\b"
    ),
    re.compile(
        r"(?i)\b(?:the\s+)?(?P<hw>first|second)\s+half\s+of\s+(?P<y>\d{4})\b|\bH(?P<h>[12])\s*(?P<y2>\d{4})\b"
    ),
    re.compile(r"(?i)\b(?P<rel>last year|this year|next year|the same year)\b"),
    re.compile(
        r"(?i)(?<![\d.$,])\b(?:in|by|from|since|until|during|early|late|mid-)?\s*(?P<y>(?:19|20)\d{2})\b(?![\d%.,年])(?!\s?-?(?:bits?|位|个|pins?)(?![a-z]))"
    ),
]


@dataclass(frozen=True)
class Attr:
    """One attribute of the vocabulary (``rag/data/attributes.yaml``)."""

    id: str
    zh: str
    en: str
    kind: str
    dims: tuple[str, ...]
    subject: str
    default: bool
    cues: tuple[str, ...]
    company_cues: tuple[str, ...] = ()  # cues that make a company the subject (每股: a share)


@dataclass(frozen=True)
class _Unit:
    unit: str
    factor: float
    dim: str
    needs_cue: bool


@dataclass(frozen=True)
class _Spec:
    attrs: dict[str, Attr]
    units: tuple[_Unit, ...]
    value_rx: re.Pattern[str]
    scales: dict[str, float]
    currency: dict[str, str]
    qualifiers: tuple[tuple[str, tuple[str, ...]], ...]
    qualifier_rx: tuple[tuple[str, re.Pattern[str]], ...]
    precision_rx: re.Pattern[str]
    rel_years: dict[str, Any]
    memory_rx: re.Pattern[str]
    round_rx: re.Pattern[str]
    cue_attrs: dict[str, tuple[str, ...]]
    negative: dict[str, frozenset[str]]
    date_blockers: tuple[str, ...]
    reporting_after: tuple[str, ...]
    respectively: tuple[str, ...]
    negations: tuple[str, ...]
    before_other: tuple[str, ...]
    after_other: tuple[str, ...]
    bounds_before: tuple[str, ...]  # "more than": a bound, though it ends with "than"
    name_after_other: tuple[str, ...]
    multiple_of: re.Pattern[str]  # "twice the ... of" right before a name: compared with
    technology_after: tuple[str, ...]
    superseded: tuple[str, ...]
    anaphora: tuple[str, ...]


def _cue_pattern(cue: str) -> str:
    pat = re.escape(cue)
    if re.match(r"[A-Za-z0-9]", cue):
        pat = r"(?<![A-Za-z0-9])" + pat
    if re.search(r"[A-Za-z0-9]$", cue):
        pat += r"(?![A-Za-z0-9])"
    return pat


def _qualifier_pattern(cue: str) -> str:
    """Latin qualifier cues match whole words; Chinese ones anywhere."""
    if re.search(r"[a-z]", cue):
        return rf"(?<![a-z]){re.escape(cue)}(?![a-z])"
    return re.escape(cue)


def _top_level_alts(rx: str) -> list[str]:
    """``a|b(c|d)|e`` -> ``[a, b(c|d), e]``."""
    out, depth, cur = [], 0, ""
    for ch in rx:
        depth += (ch in "([" and 1) or (-1 if ch in ")]" else 0)
        if ch == "|" and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    return [*out, cur]


def _bounded_alt(alt: str) -> str:
    """A Latin unit must not run into a following letter (``GB`` is not ``GBX``)."""
    return f"(?:{alt})(?![A-Za-z])" if re.search(r"[A-Za-z]\??$", alt) else f"(?:{alt})"


@lru_cache(maxsize=1)
def spec() -> _Spec:
    """``attributes.yaml`` compiled once."""
    d = load_yaml("attributes.yaml")
    attrs = {
        k: Attr(
            k,
            v.get("zh", k),
            v.get("en", k),
            v.get("kind", "quantity"),
            tuple(v.get("dims") or ()),
            v.get("subject", "any"),
            bool(v.get("default", False)),
            tuple(sorted((str(c) for c in v.get("cues") or ()), key=len, reverse=True)),
            tuple(str(c).lower() for c in v.get("company_cues") or ()),
        )
        for k, v in (d.get("attributes") or {}).items()
    }
    units = tuple(
        _Unit(u["unit"], float(u["factor"]), u["dim"], bool(u.get("needs_cue"))) for u in d["units"]
    )
    unit_alt = "|".join(
        f"(?P<u{i}>(?-i:{'|'.join(_bounded_alt(a) for a in _top_level_alts(u['re']))}))"
        for i, u in enumerate(d["units"])
    )
    scales = {str(k).lower(): float(v) for k, v in (d.get("scales") or {}).items()}
    scale_alt = "|".join(re.escape(s) for s in sorted(scales, key=len, reverse=True))
    currency = {str(k): str(v) for k, v in (d.get("currency_prefix") or {}).items()}
    cur_alt = "|".join(re.escape(c) for c in sorted(currency, key=len, reverse=True))
    value_rx = re.compile(
        rf"(?P<cur>{cur_alt})?\s?(?<![A-Za-z0-9.,])(?P<num>{_NUM})"
        rf"(?:\s?(?:{scale_alt})?\s?(?:-|–|~|～|至|到|to)\s?(?:{cur_alt})?(?P<num2>{_NUM}))?"
        rf"(?P<approx>多|余|\+)?\s?(?P<scale>{scale_alt})?\s?(?:{unit_alt})?",
        re.IGNORECASE,
    )
    cue_attrs: dict[str, list[str]] = {}
    for a in attrs.values():
        for c in a.cues:
            cue_attrs.setdefault(c.lower(), []).append(a.id)
    for c in d.get("not_cues") or ():  # 投资者 holds 投资 but names no attribute
        cue_attrs[str(c).lower()] = []
    return _Spec(
        attrs=attrs,
        units=units,
        value_rx=value_rx,
        scales=scales,
        currency=currency,
        qualifiers=tuple(
            (q, tuple(str(c).lower() for c in cs)) for q, cs in (d.get("qualifiers") or {}).items()
        ),
        qualifier_rx=tuple(
            (str(q), re.compile("|".join(_qualifier_pattern(str(c).lower()) for c in cs)))
            for q, cs in (d.get("qualifiers") or {}).items()
        ),
        precision_rx=re.compile(
            r"(?<![A-Za-z0-9])(?:"
            + "|".join(sorted(map(str, d.get("precisions") or ["FP8"]), key=len, reverse=True))
            + r")(?![A-Za-z0-9])",
            re.I,
        ),
        rel_years=dict(d.get("relative_years") or {}),
        memory_rx=re.compile(rf"(?<![A-Za-z0-9])(?:{d['memory_types']})(?![A-Za-z0-9])"),
        round_rx=re.compile(rf"(?<![A-Za-z0-9])(?:{d['funding_rounds']})", re.I),
        cue_attrs={k: tuple(v) for k, v in sorted(cue_attrs.items(), key=lambda kv: -len(kv[0]))},
        date_blockers=tuple(str(w).lower() for w in d.get("date_blockers") or ()),
        reporting_after=tuple(str(w).lower() for w in d.get("reporting_after") or ()),
        respectively=tuple(str(w).lower() for w in d.get("respectively") or ()),
        anaphora=tuple(str(w).lower() for w in d.get("anaphora") or ()),
        negations=tuple(str(w).lower() for w in d.get("negations") or ()),
        before_other=tuple(str(w).lower() for w in d.get("not_the_subjects_before") or ()),
        after_other=tuple(str(w).lower() for w in d.get("not_the_subjects_after") or ()),
        bounds_before=tuple(str(w).lower() for w in d.get("bounds_before") or ()),
        name_after_other=tuple(str(w).lower() for w in d.get("compared_name_after") or ()),
        multiple_of=_multiple_of(d.get("multiple_of") or []),
        technology_after=tuple(str(w).lower() for w in d.get("technology_after") or ()),
        superseded=tuple(str(w).lower() for w in d.get("superseded_before") or ()),
        negative={
            a: frozenset(str(c).lower() for c in cs)
            for a, cs in (d.get("negative_cues") or {}).items()
        },
    )


def _multiple_of(words: list[Any]) -> re.Pattern[str]:
    """ "twice the ... of" ending right before a name: a multiple, up to 40 characters of one
    clause, then "of (the)"."""
    alts = "|".join(re.escape(str(w).lower()) for w in words) or "\x00"
    return re.compile(rf"\b(?:{alts})\b[^,;.，。；]{{0,40}}\bof(?: the)?\s*$")


def attributes() -> dict[str, Attr]:
    """The closed attribute vocabulary, by id."""
    return spec().attrs


# -- values ----------------------------------------------------------------------------------
@dataclass
class _Value:
    start: int
    end: int
    text: str
    unit: str | None
    norm: float | None
    dim: str
    needs_cue: bool = False


def _number(s: str) -> float:
    return float(s.replace(",", ""))


def implied_attributes(text: str, names: Sequence[str] = ()) -> list[str]:
    """The attributes the figures of ``text`` are with no cue ("chips made on 3nm": process
    node), each its dimension's ``default`` attribute; a figure inside one of ``names`` (a
    model number) is none."""
    out: list[str] = []
    for v in find_values(text):
        if any(v.text in n for n in names):
            continue
        with_dim = [a.id for a in spec().attrs.values() if v.dim in a.dims]
        defaults = [a.id for a in spec().attrs.values() if v.dim in a.dims and a.default]
        pick = defaults if len(defaults) == 1 else with_dim if len(with_dim) == 1 else []
        out += [x for x in pick if x not in out]
    return out


def memory_types_in(text: str) -> set[str]:
    """The memory technologies ``text`` names (``memory_types`` of attributes.yaml), each
    upper-cased with no spaces ("HBM3E", "SRAM")."""
    return {re.sub(r"\s", "", m.group()).upper() for m in spec().memory_rx.finditer(text)}


def is_memory_type(value: str, named: set[str]) -> bool:
    """A memory type fact's value is one of ``named``, or a stack of it ("HBM3E 12H")."""
    v = re.sub(r"\s", "", value).upper()
    return any(re.fullmatch(rf"{re.escape(t)}(?:\d{{1,2}}-?H(?:I|IGH)?)?", v) for t in named)


def round_rx() -> re.Pattern[str]:
    """The pattern of funding round names (``funding_rounds`` of attributes.yaml)."""
    return spec().round_rx


def round_names(text: str) -> set[str]:
    """The funding rounds ``text`` names, each by one key whatever its language ("Series B"
    and "B轮": "B"; "Pre-A轮": "PRE-A"; a named round such as 天使轮 by its own name)."""
    out = set()
    for m in spec().round_rx.finditer(text):
        raw = m.group()
        pre = "PRE-" if re.match(r"(?i)pre", raw) else ""
        letter = re.search(r"(?<![A-Za-z])[A-Ha-h](?![a-z])", raw[3:] if pre else raw)
        word = re.sub(r"(?i)^pre-?|轮$|\s*round$", "", raw).strip().upper()
        out.add(pre + (letter.group().upper() if letter else word))
    return out


def find_values(text: str) -> list[_Value]:
    """Figures with a unit (or a currency sign) in ``text``, with normalised values."""
    sp = spec()
    out = []
    for m in sp.value_rx.finditer(text):
        last = m.lastgroup or ""
        unit_i = int(last[1:]) if last.startswith("u") and last[1:].isdigit() else None
        cur = m.group("cur")
        if unit_i is None and not cur:
            continue
        scale = sp.scales.get((m.group("scale") or "").lower(), 1.0)
        u = sp.units[unit_i] if unit_i is not None else None
        if u is not None and u.dim != "currency" and cur:
            continue
        if u is None or (cur and u.dim == "currency"):
            unit, factor, dim, needs = sp.currency[cur], 1.0, "currency", False
            if u is not None:
                factor = u.factor
        else:
            unit, factor, dim, needs = u.unit, u.factor, u.dim, u.needs_cue
        start = m.start() if cur else m.start("num")
        raw = text[start : m.end()].rstrip()
        if not m.group("scale") and unit_i is None:
            pass
        norm = _number(m.group("num")) * scale * factor
        if dim == "percent":
            norm = _number(m.group("num"))
        out.append(_Value(start, start + len(raw), raw, unit, norm, dim, needs))
    return out


# -- dates -----------------------------------------------------------------------------------
@dataclass
class _Date:
    start: int
    end: int
    text: str
    norm: str


def _month_of(m: re.Match[str]) -> int | None:
    g = m.groupdict()
    if g.get("nine"):
        return 9  # nine months are dated by their last: they sum the quarters before
    if g.get("m"):
        return int(g["m"])
    if g.get("mon"):
        return _MONTHS.get(g["mon"].lower().rstrip("."))
    q = g.get("q") or (str(_ORD[g["qw"].lower()]) if g.get("qw") else None)
    if q:
        return (_ZH_NUM.get(q, 1) - 1) * 3 + 1
    h = g.get("h") or ({"first": "1", "second": "2"}.get((g.get("hw") or "").lower()))
    if h:
        return 1 if h in ("上", "1") else 7
    return None


def find_dates(text: str, doc_year: int | None, last_year: int | None = None) -> list[_Date]:
    """Date expressions in ``text``, normalised to YYYY, YYYY-MM or YYYY-MM-DD; relative years
    (去年, last year, 同年) resolved against the document year and the last year named."""
    sp = spec()
    found: list[_Date] = []
    taken: list[tuple[int, int]] = []
    for rx in _DATE_PATTERNS:
        for m in rx.finditer(text):
            s, e = m.span()
            while s < e and text[s].isspace():
                s += 1
            if any(s < te and ts < e for ts, te in taken):
                continue
            g = m.groupdict()
            year: int | None = None
            y = g.get("y") or g.get("y2")
            if y:
                year = int(y) if len(y) == 4 else 2000 + int(y)
            elif g.get("rel"):
                off = sp.rel_years.get(g["rel"].lower(), sp.rel_years.get(g["rel"]))
                base = last_year if off == "same" else doc_year
                shift = 0 if off in ("same", None) else int(off)
                year = base + shift if base else None
            else:
                year = doc_year
            if year is None or not 1990 <= year <= 2100:
                continue
            month = _month_of(m)
            if month is not None and not 1 <= month <= 12:
                continue
            norm = f"{year:04d}"
            if month:
                norm += f"-{month:02d}"
                if g.get("d") and 1 <= int(g["d"]) <= 31:
                    norm += f"-{int(g['d']):02d}"
            lead = re.match(r"(?i)(?:the\s+|同年|当年)", text[s:e])
            if lead and e - s > lead.end():  # "the second half of", "同年9月": the date itself
                s += lead.end()
            taken.append((s, e))
            found.append(_Date(s, e, text[s:e].strip(), norm))
            if y:
                last_year = year
    return sorted(found, key=lambda d: d.start)


# -- cues, subjects, qualifiers ------------------------------------------------------------
@dataclass
class _Cue:
    start: int
    end: int
    attrs: tuple[str, ...]
    word: str = ""


@lru_cache(maxsize=1)
def _cue_regex() -> re.Pattern[str]:
    """Every cue in one pattern, longest first, for the rare text whose lower case changes
    its length (compiled on first need: its per-cue boundaries take ~50 ms to compile, a
    third of a cold ``rag ask``'s data loading)."""
    return re.compile("|".join(_cue_pattern(c) for c in spec().cue_attrs), re.I)


def _cues(text: str) -> list[_Cue]:
    """Every attribute cue in ``text``, leftmost-longest, Latin cues on word boundaries (a
    plain scan: one regex of every cue cost most of the extraction time)."""
    sp = spec()
    low = text.lower()
    if len(low) != len(text):
        return [
            _Cue(m.start(), m.end(), sp.cue_attrs.get(m.group().lower(), ()), m.group().lower())
            for m in _cue_regex().finditer(text)
        ]
    hits: list[tuple[int, int, str]] = []
    for cue in sp.cue_attrs:  # longest first
        i = low.find(cue)
        while i >= 0:
            j = i + len(cue)
            if not (
                (cue[0] in _WORDISH and i > 0 and low[i - 1] in _WORDISH)
                or (cue[-1] in _WORDISH and j < len(low) and low[j] in _WORDISH)
            ):
                hits.append((i, j, cue))
            i = low.find(cue, i + 1)
    hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
    out: list[_Cue] = []
    end = -1
    for i, j, cue in hits:
        if i >= end:
            out.append(_Cue(i, j, sp.cue_attrs[cue], cue))
            end = j
    return out


_WORDISH = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def _distance(c: _Cue, s: int, e: int) -> int:
    if c.end <= s:
        return s - c.end
    if c.start >= e:
        return int((c.start - e) * 1.5) + 1
    return 0


def _pick_attr(
    cues: list[_Cue], v_s: int, v_e: int, clause: tuple[int, int], candidates: list[str]
) -> str | None:
    """The attribute whose cue is nearest the figure, in its clause first."""
    got = _pick_cue(cues, v_s, v_e, clause, candidates)
    return got[0] if got else None


def _pick_cue(
    cues: list[_Cue], v_s: int, v_e: int, clause: tuple[int, int], candidates: list[str]
) -> tuple[str, str] | None:
    """(attribute, cue word) of the cue nearest the figure, in its clause first."""
    best: tuple[int, str, str] | None = None
    for c in cues:
        hit = [a for a in c.attrs if a in candidates]
        if not hit:
            continue
        inside = clause[0] <= c.start and c.end <= clause[1]
        d = _distance(c, v_s, v_e) + (0 if inside else 1000)
        if not inside and c.start > v_e:
            continue
        if best is None or d < best[0]:
            best = (d, hit[0], c.word)
    if best is not None:
        return best[1], best[2]
    defaults = [a for a in candidates if spec().attrs[a].default]
    return (defaults[0], "") if len(defaults) == 1 else None


_Mention = tuple[int, int, Entity]


def _is_memory(e: Entity) -> bool:
    return bool(spec().memory_rx.fullmatch(e.name))


def _subject(
    rule: str,
    ments: list[_Mention],
    pos: int,
    clause: tuple[int, int],
    carry: list[_Mention],
    memory_ok: bool = True,
    anaphora: bool = False,
) -> Entity | None:
    """The entity a figure at ``pos`` belongs to, by the attribute's subject rule; the
    previous sentence's subject when this one names none that fits."""
    ms = [m for m in ments if m[2].kind in _SUBJECT_KINDS and not (m[0] <= pos < m[1])]
    in_clause = [m for m in ms if clause[0] <= m[0] < clause[1]]
    before = [m for m in ms if m[1] <= pos]
    prods = [m for m in before if m[2].kind in ("product", "model") and not _is_memory(m[2])]
    comps = [m for m in before if m[2].kind == "company"]
    c_prods = [m for m in carry if m[2].kind in ("product", "model") and not _is_memory(m[2])]
    c_comps = [m for m in carry if m[2].kind == "company"]
    memory = [m for m in before if _is_memory(m[2])]
    if not memory_ok:
        memory = []
    c_memory = [m for m in carry if _is_memory(m[2])] if memory_ok else []
    if rule == "product":
        pick = prods[-1:] or c_prods[:1] or memory[-1:] or c_memory[:1] or comps[-1:]
        pick = pick or c_comps[:1]
    elif rule == "product_only":
        pick = prods[-1:] or c_prods[:1]
    elif rule == "here":  # what this sentence names, product first, before any carried one
        pick = prods[-1:] or comps[:1] or c_prods[:1] or c_comps[:1]
    elif rule == "company":
        first = [m for m in in_clause if m[2].kind == "company" and m[1] <= pos]
        if anaphora and c_comps:  # "the company ..." is the previous sentence's subject
            first = c_comps[:1]
        pick = first[:1] or comps[:1] or (c_comps[:1] if not prods else []) or prods[-1:]
        orgs = [m for m in before if m[2].kind == "org"]
        pick = pick or c_prods[:1] or orgs[:1]
    else:
        first = [m for m in in_clause if m[1] <= pos and m[2].kind != "org" and m not in memory]
        pick = first[:1] or prods[-1:] or comps[-1:] or c_prods[:1] or c_comps[:1]
    return pick[0][2] if pick else None


def _head(text: str, after: list[_Mention]) -> Entity:
    """The object of a verb: the first name after it, unless that name only modifies a later
    one (推出对标X架构的芯片Y -> Y: a 的 stands between them)."""
    cur = after[0]
    for nxt in after[1:]:
        gap = text[cur[1] : nxt[0]]
        if "的" not in gap or re.search(r"[,，。;；、]", gap):
            break
        cur = nxt
    return cur[2]


def _date_subject(
    text: str,
    rule: str,
    ments: list[_Mention],
    pos: int,
    region: tuple[int, int],
    cue_end: int,
) -> Entity | None:
    """For a date: the product (or company) its clause region names, the one after the cue
    first (``2019年12月,X发布Y``: Y), else the one nearest the date, else the sentence's
    nearest product before the clause. A date is not carried over from another sentence."""
    kinds = ("product", "model") if rule == "product" else ("company",)
    near = [m for m in ments if region[0] <= m[0] < region[1] and m[2].kind in kinds]
    # a memory product is the subject of its own dates only when nothing else is named
    near = [m for m in near if not _is_memory(m[2])] or near
    if rule == "product":
        after = [m for m in near if m[0] >= cue_end]
        if after:
            return _head(text, after)
    if near:
        return min(near, key=lambda m: abs(m[0] - pos))[2]
    # the clause names none: the nearest product before it, not a family ("the X series")
    subject = [
        m
        for m in ments
        if m[1] <= region[0]
        and m[2].kind in kinds
        and not re.match(r"\s*(?:series|family|系列|家族)", text[m[1] : m[1] + 8], re.I)
    ]
    return subject[-1][2] if subject and rule == "product" else None


def _precision(text: str, clause: tuple[int, int], vs: int, ve: int) -> list[str]:
    """The number format written nearest a compute figure in its clause (FP8算力, at INT8)."""
    found = list(spec().precision_rx.finditer(text, clause[0], clause[1]))
    found.sort(key=lambda m: m.start() - ve if m.start() >= ve else (vs - m.end()) * 1.2)
    return [m.group() for m in found[:1]]


def _superseded(text: str, start: int) -> bool:
    """从原定的X推迟到Y, 从原先的X上调至Y: X is the value Y replaced."""
    before = text[max(0, start - 12) : start].lower().rstrip()
    before = re.sub(r"(?:约|大约|近|about|around|roughly)\s*$", "", before).rstrip()
    return any(before.endswith(w) for w in spec().superseded)


_SOURCE_EN = re.compile(
    r"\s+(?:reported|reports|said|says|wrote|writes|told|cited)\b[^.;]{0,40}?\bthat\b", re.I
)


def _source(text: str, start: int, end: int) -> bool:
    """A name that reports the figure (据X报道, X reported that ...) is its source."""
    m = _SOURCE_EN.match(text, end)
    if m and not re.match(
        r"\s+(?:it|its|they|their|we|the company)\b", text[m.end() : m.end() + 16], re.I
    ):
        return True  # ("X said that it raised": X speaks of itself and stays the subject)
    before, after = text[max(0, start - 3) : start], text[end : end + 6]
    return before.endswith(("据", "援引")) and after.startswith(
        ("报道", "消息", "称", "数据", "援引")
    )


def _compared(text: str, start: int, end: int) -> bool:
    """A name right after 比/较/than (or before 相比, 的基础上) is what the subject is compared
    with, and one before 封装/架构/process a technology it uses: neither is the subject."""
    sp = spec()
    before = text[max(0, start - 16) : start].lower().rstrip()
    after = text[end : end + 8].lower()
    after = after.lstrip()
    if sp.multiple_of.search(text[max(0, start - 60) : start].lower()):
        return True
    return any(before.endswith(w) for w in sp.before_other) or any(
        after.startswith(w) for w in (*sp.name_after_other, *sp.technology_after)
    )


def _other_figure(text: str, vs: int, ve: int) -> bool:
    """A figure something is compared with (较3纳米, than 3nm), a milestone (突破100万片) or
    a class (10纳米级) is not a value of the subject."""
    sp = spec()
    before = text[max(0, vs - 20) : vs].lower().rstrip()
    after = text[ve : ve + 8].lower()
    # the marker may stand before the period it compares with: 比2023年的7.09亿元
    before = _COMPARED_PERIOD.sub("", before).rstrip()
    if any(before.endswith(w) for w in sp.bounds_before):
        return False  # "more than 2TB/s": a bound of the subject's own figure
    if any(before.endswith(w) for w in sp.before_other) or any(
        after.startswith(w) for w in sp.after_other
    ):
        return True
    # the compared thing's own figure after a 的: 高于JEDEC标准规定的8Gbps
    held = re.search(r"([^\d，,。；;、\s]{1,14})的$", before)
    lead = held.group(1)[:4] if held else ""
    return any(w in lead for w in sp.before_other if len(w) > 1)


_COMPARED_PERIOD = re.compile(
    r"\s*(?:\d{4}\s*年?|去年|上年|上一年|前一年|last year|a year earlier|the year before)"
    r"\s*(?:同期)?\s*(?:的|'s)?$"
)


def _named_after(text: str, ve: int, ments: list[_Mention]) -> Entity | None:
    """``$2 billion Foo was valued at``: a company right after the figure, then a verb."""
    for m in ments:
        verb = re.match(r"\s+(?:was|is|had been|has been|were)\b", text[m[1] : m[1] + 12])
        if 0 < m[0] - ve <= 2 and m[2].kind == "company" and verb:
            return m[2]
    return None


def _anaphora_before(low: str, mention_ends: list[int]) -> bool:
    """True when ``the company``/``该公司`` stands before the figure with no name after it."""
    last = max((low.rfind(w) for w in spec().anaphora), default=-1)
    return last >= 0 and all(end <= last for end in mention_ends)


def _qualifier(text: str) -> str | None:
    """The first qualifier (in data order) whose cue the text holds."""
    low = text.lower()
    for q, rx in spec().qualifier_rx:
        if rx.search(low):
            return q
    return None


def _fact_id(doc_id: str, s: int, e: int, eid: str, attr: str, value: str) -> str:
    return hashlib.sha1(f"{doc_id}|{s}|{e}|{eid}|{attr}|{value}".encode()).hexdigest()[:16]


# -- per sentence ----------------------------------------------------------------------------
@dataclass
class _Ctx:
    doc: Document
    text: str  # the document text, half-width and simplified, offsets kept
    doc_year: int | None
    last_year: int | None
    carry: list[_Mention]
    heading: list[_Mention]
    recent: list[_Mention]  # the last company a sentence was about (for "the company")
    main: list[_Mention] = field(default_factory=list)  # the company the article names most


def _clause_of(text: str, s: int, e: int, pos: int) -> tuple[int, int]:
    for cs, ce in clause_spans(text, s, e):
        if cs <= pos < ce:
            return cs, ce
    return s, e


def event_clauses(text: str) -> list[str]:
    """The clauses of ``text`` holding a date that may be an event's: none with a
    ``date_blockers`` word (a filing or a tutoring period before a listing, a founding)."""
    blockers = spec().date_blockers
    # any year stands in for the document's: a month named alone (9月, "as early as
    # September") is a date here too, only where it stands matters
    dates = find_dates(text, 2000)
    clauses = clause_spans(text, 0, len(text)) if dates else []
    out = []
    for d in dates:
        cs, ce = next(((s, e) for s, e in clauses if s <= d.start < e), (0, len(text)))
        if not any(w in text[cs:ce].lower() for w in blockers):
            out.append(text[cs:ce])
    return out


def _make(ctx: _Ctx, s: int, e: int, ent: Entity, attr: str, value: str, **kw: Any) -> Fact:
    doc = ctx.doc
    return Fact(
        fact_id=_fact_id(doc.doc_id, s, e, ent.entity_id, attr, value),
        entity_id=ent.entity_id,
        entity=ent.name,
        attribute=attr,
        value=value,
        unit=kw.get("unit"),
        norm_value=kw.get("norm"),
        qualifier=kw.get("qualifier"),
        precision=kw.get("precision"),
        period=kw.get("period"),
        doc_id=doc.doc_id,
        start=s,
        end=e,
        quote=doc.text[s:e],
        title=doc.title,
        date=doc.date,
        source=doc.source,
        lang=doc.lang,
    )


def _sentence_facts(ctx: _Ctx, s: int, e: int, ments: list[_Mention]) -> list[Fact]:
    text = ctx.text
    sent = text[s:e]
    dates = find_dates(sent, ctx.doc_year, ctx.last_year)
    years = [int(d.norm[:4]) for d in dates]
    if years:
        ctx.last_year = years[-1]
    carry = ctx.carry or ctx.heading
    cues = [_Cue(c.start + s, c.end + s, c.attrs, c.word) for c in _cues(sent)]
    # a cue inside a company's name is part of the name ("Orion Memory", 长江存储), no cue
    names = [(m[0], m[1]) for m in ments if m[2].kind in ("company", "org")]
    cues = [c for c in cues if not any(ns <= c.start and c.end <= ne for ns, ne in names)]
    period = next((d.norm for d in dates), None) or (ctx.doc.date or None)
    out: list[Fact] = []
    out += _quantity_facts(ctx, s, e, ments, cues, dates, period, carry)
    out += _date_facts(ctx, s, e, ments, cues, dates, carry)
    out += _token_facts(ctx, s, e, ments, cues, period, carry)
    seen: set[tuple[str, str, str]] = set()
    kept = []
    for f in out:
        key = (f.entity_id, f.attribute, f.value)
        if key not in seen:
            seen.add(key)
            kept.append(f)
    return kept


def _value_periods(
    text: str, s: int, values: list[Any], dates: list[_Date], default: str | None
) -> list[str | None]:
    """The period of each figure of a sentence: the nearest date before it in its clause,
    else after it in its clause, else the nearest before it in the sentence, else the
    document's date; a date right before a reporting verb (发布/显示 ...) is no figure's
    period. A "分别" list of as many periods as figures pairs them in order."""
    sp = spec()
    sent = text[s:]
    own = [
        d
        for d in dates
        if not sent[d.end : d.end + 4].lstrip().lower().startswith(sp.reporting_after)
    ]
    lead = [d for d in own if d.end <= values[0].start] if values else []
    if (
        len(lead) > 1
        and len(values) >= len(lead)
        and any(w in sent[: values[len(lead) - 1].end].lower() for w in sp.respectively)
    ):
        # "2022年、2023年和2024年的营收分别为A、B和C，2025年上半年为D": the dates before the
        # first figure pair with as many figures in order; the figures after them keep theirs
        head = [d.norm for d in lead]
        rest = _value_periods(text, s, values[len(lead) :], own[len(lead) :], default)
        return head + rest
    out: list[str | None] = []
    for v in values:
        cs, ce = _clause_of(text, s, s + len(sent), v.start + s)
        cs, ce = cs - s, ce - s
        before = [d for d in own if cs <= d.start and d.end <= v.start]
        after = [d for d in own if v.end <= d.start and d.end <= ce]
        anywhere = [d for d in own if d.end <= v.start]
        pick = (before or [])[-1:] or after[:1] or anywhere[-1:]
        out.append(pick[0].norm if pick else default)
    return out


def figure_periods(text: str, dims: set[str], doc_date: str | None) -> list[str | None]:
    """The period of each figure of one of ``dims`` a sentence states, read as facts are (the
    nearest date in its clause, a compared period passed over, else the document's date)."""
    values = [v for v in find_values(text) if v.dim in dims]
    year = int(doc_date[:4]) if doc_date and re.match(r"\d{4}", doc_date) else None
    return _value_periods(text, 0, values, find_dates(text, year), doc_date or None)


def _quantity_facts(
    ctx: _Ctx,
    s: int,
    e: int,
    ments: list[_Mention],
    cues: list[_Cue],
    dates: list[_Date],
    period: str | None,
    carry: list[_Mention],
) -> list[Fact]:
    sp = spec()
    text = ctx.text
    out = []
    values = find_values(text[s:e])
    periods = _value_periods(text[:e], s, values, dates, ctx.doc.date or None)
    for v, v_period in zip(values, periods, strict=True):
        vs, ve = v.start + s, v.end + s
        if _other_figure(text, vs, ve) or _superseded(text, vs):
            continue
        if any(m[0] <= vs < m[1] or m[0] < ve <= m[1] for m in ments):
            continue  # a number inside a name (a model number), not a figure
        cands = [a.id for a in sp.attrs.values() if v.dim in a.dims]
        clause = _clause_of(text, s, e, vs)
        got = _pick_cue(cues, vs, ve, clause, cands)
        if got is None or (
            # a unit read only beside a cue: the cue of an attribute of its kind, in its clause
            v.needs_cue and (not got[1] or not any(clause[0] <= c.start < clause[1] for c in cues))
        ):
            continue
        attr, word = got
        norm = v.norm
        if norm is not None and word in sp.negative.get(attr, ()):
            norm = -norm
        ana = _anaphora_before(text[s:vs].lower(), [m[1] - s for m in ments if m[1] <= vs])
        after = _named_after(text, ve, ments)
        rule = sp.attrs[attr].subject
        if word.lower() in sp.attrs[attr].company_cues:
            rule = "company"  # an issue price per share is the listed company's
        pool = carry
        if ana and rule == "company" and not any(m[2].kind == "company" for m in carry):
            pool = ctx.recent
        elif rule == "company" and not carry and not ments:
            pool = ctx.main  # a paragraph that names nobody goes on about the article's company
        ent = _subject(rule, ments, vs, clause, pool, attr in _MEMORY_SUBJECT_ATTRS, ana)
        if after is not None and rule == "company":
            ent = after
        if ent is None:
            continue
        clause_text = text[clause[0] : clause[1]]
        prec = _precision(text, clause, vs, ve) if attr == "compute" else []
        # a qualifier of the figure's own clause, else one said before it ("计划明年推出,
        # 功耗为..."): a cue after it qualifies another figure ("发行价格为X元,
        # 与招股书中的计划募资额一致" is no planned price)
        qualifier = _qualifier(clause_text) or _qualifier(text[s : clause[0]])
        out.append(
            _make(
                ctx,
                s,
                e,
                ent,
                attr,
                ctx.doc.text[vs:ve],
                unit=v.unit,
                norm=norm,
                qualifier=qualifier,
                precision=prec[0].upper() if prec else None,
                period=v_period,
            )
        )
    return out


def _date_facts(
    ctx: _Ctx,
    s: int,
    e: int,
    ments: list[_Mention],
    cues: list[_Cue],
    dates: list[_Date],
    carry: list[_Mention],
) -> list[Fact]:
    sp = spec()
    text = ctx.text
    date_attrs = [a.id for a in sp.attrs.values() if a.kind == "date"]
    out = []
    for d in dates:
        ds, de = d.start + s, d.end + s
        clause = _date_region(text, s, e, ds, de, cues)
        near = [c for c in cues if clause[0] <= c.start < clause[1]]
        attr = _pick_attr(near, ds, de, clause, date_attrs)
        if attr is None or not re.search(r"\d", d.text):
            continue
        if any(w in text[clause[0] : clause[1]].lower() for w in sp.date_blockers):
            continue
        if _in_range(text, ds, de):
            continue  # 2025年底到2026年初: a span, not the date of one event
        if _superseded(text, ds):
            continue
        mine = [c for c in near if attr in c.attrs]  # the cue nearest the date is its verb
        cue_end = min(mine, key=lambda c: abs(c.start - ds)).end if mine else ds
        ent = _date_subject(text, sp.attrs[attr].subject, ments, ds, clause, cue_end)
        if ent is None and attr in ("launch_date", "listing_date"):
            ent = _date_subject(text, "company", ments, ds, clause, cue_end)
        if ent is None:
            continue
        if attr in ("launch_date", "listing_date"):  # 上市: a product launches, a company lists
            attr = "listing_date" if ent.kind in ("company", "org") else "launch_date"
            cue_ok = any(attr in c.attrs for c in near)
            if not cue_ok:
                continue
        clause_text = text[clause[0] : clause[1]]
        for one in _conjoined(text, ments, ent, clause):
            out.append(
                _make(
                    ctx,
                    s,
                    e,
                    one,
                    attr,
                    ctx.doc.text[ds:de].strip(),
                    unit="date",
                    qualifier=_qualifier(clause_text),
                    period=d.norm,
                )
            )
    return out


def _conjoined(
    text: str, ments: list[_Mention], ent: Entity, region: tuple[int, int]
) -> list[Entity]:
    """``ent`` and the products joined to it by 和/与/、/and (某芯100与某芯200):
    a date said of a list holds for each item."""
    from rag.entities import cues as entity_cues

    generic = sorted(entity_cues().generic, key=len, reverse=True)
    same = [m for m in ments if region[0] <= m[0] < region[1] and m[2].kind == ent.kind]
    idx = next((i for i, m in enumerate(same) if m[2].entity_id == ent.entity_id), None)
    if idx is None:
        return [ent]
    keep = {idx}
    for step in (-1, 1):
        i = idx
        while 0 <= i + step < len(same):
            a, b = sorted((same[i], same[i + step]))
            gap = text[a[1] : b[0]]
            for g in generic:
                gap = gap.replace(g, "")
            if not _CONJ.fullmatch(gap):
                break
            i += step
            keep.add(i)
    return list({same[i][2].entity_id: same[i][2] for i in sorted(keep)}.values())


_CONJ = re.compile(r"\s*(?:和|与|及|以及|、|,|，|/|and|&)\s*")


def _merge_inside(spans: list[tuple[int, int]], ds: int, de: int) -> list[tuple[int, int]]:
    """Clauses with the clause breaks inside ``[ds, de)`` removed."""
    out: list[tuple[int, int]] = []
    for cs, ce in spans:
        if out and ds < cs < de:
            out[-1] = (out[-1][0], ce)
        else:
            out.append((cs, ce))
    return out


_RANGE_LINK = re.compile(r"\s*(?:到|至|-|–|~|to|through|until)\s*", re.IGNORECASE)


def _in_range(text: str, ds: int, de: int) -> bool:
    after = _RANGE_LINK.match(text, de)
    if after and _DATE_HINT.match(text, after.end()):
        return True
    before = text[max(0, ds - 12) : ds]
    return bool(
        re.search(r"(?:\d{4}\s*年?\S{0,3}|\d{1,2}月)\s*(?:到|至|-|–|~|to|through)\s*$", before)
    )


def _date_region(text: str, s: int, e: int, ds: int, de: int, cues: list[_Cue]) -> tuple[int, int]:
    """The clause of a date; a date that opens its sentence as a topic (``2019年7月,X发布Y``)
    reaches over the next clauses, up to the first one with a cue."""
    spans = _merge_inside(clause_spans(text, s, e), ds, de)  # "May 2, 2024" is one date
    idx = next((i for i, (cs, ce) in enumerate(spans) if cs <= ds < ce), None)
    if idx is None:
        return s, e
    cs, ce = spans[idx]
    if any(cs <= c.start < ce for c in cues):
        return cs, ce
    rest = re.sub(r"[\s,，、:：的上午下晚间初底年月日]", "", text[cs:ds] + text[de:ce])
    reported = _REPORTED.search(text[cs:ds]) and not text[de:ce].strip(" ,，")
    if len(rest) > 6 and not reported:  # the clause says more than when: it is not a topic
        return cs, ce
    for j in range(idx + 1, min(idx + 4, len(spans))):
        if _DATE_HINT.search(text, spans[j][0], spans[j][1]):
            break  # the next clause has its own date
        ce = spans[j][1]
        if any(spans[j][0] <= c.start < spans[j][1] for c in cues):
            break
    return cs, ce


# "X said on DATE, that ...": the date of what the next clause reports
_REPORTED = re.compile(r"(?:said|announced|reported|disclosed|宣布|表示|披露)\s*(?:on\s*)?$", re.I)
_DATE_HINT = re.compile(r"\d{4}\s*年|\d{1,2}月|\b(?:19|20)\d{2}\b")


def _token_facts(
    ctx: _Ctx,
    s: int,
    e: int,
    ments: list[_Mention],
    cues: list[_Cue],
    period: str | None,
    carry: list[_Mention],
) -> list[Fact]:
    """Memory types (采用某种HBM内存) and funding rounds (B轮融资)."""
    sp = spec()
    text = ctx.text
    out = []
    for rx, attr in ((sp.memory_rx, "memory_type"), (sp.round_rx, "funding_round")):
        for m in rx.finditer(text, s, e):
            clause = _clause_of(text, s, e, m.start())
            cued = attr == "funding_round" or any(  # a round names itself (B轮, Series C)
                attr in c.attrs
                and clause[0] <= c.start < clause[1]
                and not (m.start() <= c.start < m.end())
                for c in cues
            )
            if not cued or _negated(text[max(clause[0], m.start() - 14) : m.start()]):
                continue
            pool = [x for x in ments if not (x[0] <= m.start() < x[1])]
            ent = _subject(sp.attrs[attr].subject, pool, m.start(), clause, carry)
            if ent is None or _is_memory(ent):
                continue
            out.append(
                _make(
                    ctx,
                    s,
                    e,
                    ent,
                    attr,
                    ctx.doc.text[m.start() : m.end()].strip(),
                    qualifier=_qualifier(text[clause[0] : clause[1]]),
                    period=period,
                )
            )
    return out


def _negated(before: str) -> bool:
    """``instead of HBM``, ``而非HBM``: the token is what the subject does not have."""
    low = before.lower()
    return any(low.rstrip().endswith(w) for w in spec().negations)


def _is_heading(text: str, s: int, e: int) -> bool:
    line = text[s:e]
    return "\n" not in line and len(line) <= 40 and not re.search(r"[。！？!?.;；]$", line)


def extract_facts(doc: Document, entities: list[Entity]) -> list[Fact]:
    """Every typed fact ``doc`` states about ``entities`` (see the module docstring)."""
    text = simplified(doc.text)
    year = int(doc.date[:4]) if doc.date and re.match(r"\d{4}", doc.date) else None
    all_ments = mentions(text, entities)
    by_id = {e.entity_id: e for e in entities}
    ctx = _Ctx(doc, text, year, year, [], [], [], _main_company(all_ments))
    facts: list[Fact] = []
    prev_end = 0
    for s, e in sentence_spans(doc.text):
        ments = [
            m
            for m in all_ments
            if s <= m[0]
            and m[1] <= e
            and not _compared(text, m[0], m[1])
            and not _source(text, m[0], m[1])
        ]
        heading = _is_heading(text, s, e) and not spec().value_rx.search(text[s:e])
        if "\n\n" in text[prev_end:s] and not heading:
            ctx.carry = []  # a new paragraph: only its heading carries over
        if heading:
            ctx.heading = [m for m in ments if m[2].kind in _SUBJECT_KINDS]
            ctx.carry = []
        else:
            new = _sentence_facts(ctx, s, e, ments)
            facts += new
            _remember(ctx, s, ments, [by_id[f.entity_id] for f in new if f.entity_id in by_id])
        prev_end = e
    return facts


def _main_company(ments: list[_Mention]) -> list[_Mention]:
    """The company an article names most often (the first named of equals), if any."""
    counts: dict[str, int] = {}
    first: dict[str, _Mention] = {}
    for m in ments:
        if m[2].kind == "company":
            counts[m[2].entity_id] = counts.get(m[2].entity_id, 0) + 1
            first.setdefault(m[2].entity_id, m)
    if not counts:
        return []
    best = max(counts, key=lambda i: (counts[i], -first[i][0]))
    return [first[best]]


def _remember(ctx: _Ctx, s: int, ments: list[_Mention], used: list[Entity]) -> None:
    """What the next sentence may refer back to: the subjects just used, then the rest."""
    used_ids = list(dict.fromkeys(e.entity_id for e in used))
    first = [(s, s, next(e for e in used if e.entity_id == i)) for i in used_ids]
    rest = [m for m in ments if m[2].kind in _SUBJECT_KINDS and m[2].entity_id not in used_ids]
    carry = first + rest
    if carry:
        ctx.carry = carry
    companies = [m for m in carry if m[2].kind == "company"]
    if companies:
        ctx.recent = companies[:1]


__all__ = [
    "EXTRACTOR_VERSION",
    "Attr",
    "attributes",
    "extract_facts",
    "find_dates",
    "find_values",
    "is_memory_type",
    "memory_types_in",
]
