"""Learn the entities an article names: companies, products, model numbers, people, places.

Sources, all read from the text itself: names the text gives in brackets beside another
name (``某某科技(Some Tech)``, ``(下称X)``), quoted product names (``名为“X”的``), Chinese
company names by their suffix (科技, 股份 ...), model tokens (``X100``, ``AB12C``) and the
Chinese product line written before them, capitalised English company names with a cue
(``startup X``, ``X raised``), jieba person and organisation tags with a cue, and the
glossary as seed data. Each entity gets aliases (the other-language name, pinyin with and
without tones and spaces, traditional and simplified forms) and, where the text links them
(``某公司的某芯100``, ``Foo's X100``), the company that makes it.

Cue words live in ``rag/data/entities.yaml``; no name of a real company is written here.
It does not store anything (``rag.factstore``) or read figures (``rag.facts``).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rag.datafiles import load_yaml, on_reload
from rag.knowledge import Entity
from rag.lang import HAN, HAN_CHAR
from rag.textnorm import normalize
from rag.types import Document

_LATIN_EDGE = re.compile(r"[A-Za-z0-9]")
_COMPACT_DROP = re.compile(r"[\s\-_·.・'’]+")
# a model number; hyphenated parts that start with a capital or a digit belong to it
# ("Name3-Max-Pro", "Name-V3"), a lower-case one does not ("X100-based")
_MODEL = re.compile(
    r"(?<![A-Za-z0-9.\-])(?=[A-Za-z\-]*\d)(?=[0-9]*[A-Za-z])"
    r"[A-Za-z]{0,10}(?:-[A-Z][A-Za-z]{0,5}(?=\d))?-?\d+(?:\.\d+)?[A-Za-z]{0,3}\d{0,3}"
    r"(?:-(?:[A-Z][A-Za-z0-9]*|\d+[A-Za-z0-9]*))*(?![A-Za-z0-9])"
)
_TICKER = re.compile(r"\b\d{4,6}\.(?:HK|SH|SZ|TW)\b|\b[A-Z]{1,5}\.(?:O|N|US)\b")
_BRACKET = re.compile(r"[(（]([^()（）\n]{1,60})[)）]")
_QUOTED = re.compile(r"[“\"「『]([^”\"」』\n]{1,24})[”\"」』]")
_EN_NAME = re.compile(
    r"(?<![A-Za-z0-9\-])(?:[A-Z]|[a-z]-[A-Z])[A-Za-z0-9&\-]*(?:[ ](?:[A-Z][A-Za-z0-9&\-]*|&))*"
)
_lock = threading.Lock()
_converters: dict[str, Any] = {}


@dataclass(frozen=True)
class _Cues:
    """``entities.yaml`` compiled for use."""

    zh_suffixes: tuple[str, ...]
    en_suffixes: frozenset[str]
    places_prefix: tuple[str, ...]
    stop_words: frozenset[str]
    stop_chars: frozenset[str]
    generic: frozenset[str]
    kind_words: tuple[str, ...]
    product_intro: tuple[str, ...]
    alias_intro: tuple[str, ...]
    links_zh: tuple[str, ...]
    links_en: tuple[str, ...]
    pronouns: tuple[str, ...]  # a sentence's company, then "its X100" / "其X100"
    person_after: tuple[str, ...]
    person_before: tuple[str, ...]
    en_before: tuple[str, ...]
    en_after: tuple[str, ...]
    latin_stop: frozenset[str]
    model_exclude: re.Pattern[str]
    places: frozenset[str]
    place_groups: tuple[tuple[str, ...], ...]  # one place's names, first the id's
    not_after_suffix: tuple[str, ...]
    measure_chars: frozenset[str]
    legal_tails: tuple[str, ...]
    en_kinds: tuple[str, ...]
    product_acronym: re.Pattern[str]
    term_words: tuple[str, ...]
    zh_org_suffixes: tuple[str, ...]
    en_person_before: tuple[str, ...]
    en_org_suffixes: frozenset[str]


@lru_cache(maxsize=1)
def cues() -> _Cues:
    """The entity cue words, compiled once."""
    d = load_yaml("entities.yaml")

    def longest(key: str) -> tuple[str, ...]:
        return tuple(sorted(d.get(key) or [], key=len, reverse=True))

    return _Cues(
        zh_suffixes=longest("company_suffixes_zh"),
        en_suffixes=frozenset(s.lower().rstrip(".") for s in d.get("company_suffixes_en") or []),
        places_prefix=longest("place_prefixes"),
        stop_words=frozenset(d.get("name_stop_words") or []),
        stop_chars=frozenset(d.get("name_stop_chars") or []),
        generic=frozenset(d.get("generic_product_words") or []),
        kind_words=longest("product_kind_words"),
        product_intro=longest("product_intro"),
        alias_intro=longest("alias_intro"),
        links_zh=longest("vendor_links_zh"),
        links_en=longest("vendor_links_en"),
        pronouns=longest("vendor_pronouns"),
        person_after=tuple(d.get("person_after") or []),
        person_before=tuple(d.get("person_before") or []),
        en_before=tuple(s.lower() for s in d.get("en_company_before") or []),
        en_after=tuple(s.lower() for s in d.get("en_company_after") or []),
        latin_stop=frozenset(s.lower() for s in d.get("latin_stop") or []),
        model_exclude=re.compile(
            "(?:" + "|".join(d.get("model_exclude") or ["(?!)"]) + ")", re.IGNORECASE
        ),
        places=frozenset(n for g in _place_groups(d) for n in g),
        place_groups=_place_groups(d),
        not_after_suffix=tuple(d.get("not_after_company_suffix") or []),
        measure_chars=frozenset(d.get("measure_chars") or []),
        legal_tails=longest("legal_name_tails"),
        en_kinds=tuple(d.get("en_product_kinds") or []),
        product_acronym=re.compile(d.get("product_acronym") or "(?!)"),
        term_words=tuple(d.get("term_words") or []),
        zh_org_suffixes=tuple(d.get("zh_org_suffixes") or []),
        en_person_before=tuple(str(w).lower() for w in d.get("en_person_before") or []),
        en_org_suffixes=frozenset(str(w).lower() for w in d.get("en_org_suffixes") or []),
    )


# -- names, ids and aliases ------------------------------------------------------------------
def entity_key(name: str) -> str:
    """The normalised form of a name: NFKC, simplified, lower case, single spaces."""
    return " ".join(normalize(name).split())


def compact_key(name: str) -> str:
    """``entity_key`` without spaces, hyphens and dots: how aliases are matched."""
    return _COMPACT_DROP.sub("", entity_key(name))


def company_base(name: str) -> str:
    """A company name without its legal/sector suffixes and place prefix (上海某某科技 -> 某某)."""
    c = cues()
    base = re.sub(rf"[(（][{HAN}]{{2,4}}[)）]", "", name.strip())  # (北京) in a legal name
    changed = True
    while changed:
        changed = False
        for suf in (*c.zh_suffixes, *(c.legal_tails if base != name.strip() else ())):
            if base.endswith(suf) and len(base) - len(suf) >= 2:
                base, changed = base[: -len(suf)], True
                break
        words = base.split()
        if len(words) > 1 and words[-1].lower().rstrip(".,") in c.en_suffixes:
            base, changed = " ".join(words[:-1]).rstrip(","), True
    for pre in c.places_prefix:
        if base.startswith(pre) and len(base) - len(pre) >= 2 and HAN_CHAR.search(base[len(pre) :]):
            base = base[len(pre) :]
            break
    return base


def simplified(text: str) -> str:
    """``text`` in half-width simplified form with every offset kept (a character whose
    normal form is longer stays as it is), so spans found in it hold for ``text``."""
    import unicodedata

    out = unicodedata.normalize("NFKC", text)
    if len(out) != len(text):  # some character expands: normalise one by one
        chars = []
        for ch in text:
            n = unicodedata.normalize("NFKC", ch)
            chars.append(n if len(n) == 1 else ch)
        out = "".join(chars)
    if HAN_CHAR.search(out):
        simp = _opencc("t2s").convert(out)
        if len(simp) == len(out):
            out = simp
    return out


def _opencc(config: str) -> Any:
    with _lock:
        if config not in _converters:
            import opencc

            _converters[config] = opencc.OpenCC(config)
        return _converters[config]


def _traditional(text: str) -> str:
    return str(_opencc("s2t").convert(text))


def pinyin_forms(name: str) -> list[str]:
    """Pinyin spellings of a name's Chinese part, Latin parts kept: joined and spaced, with
    and without tone marks (``北京100`` -> ``beijing 100``, ``bei jing 100``, ``běijīng 100``)."""
    if not HAN_CHAR.search(name):
        return []
    from pypinyin import Style, lazy_pinyin

    simp = normalize(name)
    forms: list[str] = []
    for style in (Style.NORMAL, Style.TONE):
        joined: list[str] = []
        spaced: list[str] = []
        for part in re.split(rf"([{HAN}]+)", simp):
            if not part.strip():
                continue
            if HAN_CHAR.match(part):
                syl = lazy_pinyin(part, style=style)
                joined.append("".join(syl))
                spaced.append(" ".join(syl))
            else:
                joined.append(part.strip())
                spaced.append(part.strip())
        forms += [" ".join(joined), " ".join(spaced)]
    return list(dict.fromkeys(f for f in forms if f))


def make_aliases(name: str, extra: Iterable[str] = ()) -> list[str]:
    """Every name for an entity: the given ones, their simplified and traditional forms and
    pinyin; for a company also the name without its suffix."""
    return list(_aliases(name, tuple(extra)))


def _is_measure(text: str) -> bool:
    """A figure with a unit (3nm, 3纳米, 96 GB), by the unit table of rag/data/units.yaml."""
    from rag.quantities import tables

    m = re.fullmatch(r"\s*\d+(?:\.\d+)?\s*(\S+?)\s*", text)
    if m is None:
        return False
    unit = m.group(1).lower()
    # a one-letter Latin unit is a model suffix as often ("100E", "X9B")
    return unit in tables().units_lower and not (unit.isascii() and len(unit) < 2)


# The same names recur across an archive (glossary vendors, a company's products): 368 of
# the 1,008 calls over the corpus's 68 documents are distinct, and pinyin is most of a
# call's cost. Cleared with ``cues()`` when the data files are reloaded.
@lru_cache(maxsize=16384)
def _aliases(name: str, extra: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    names = [name, *extra]
    for n in list(names):
        base = company_base(n)
        if base != n:
            names.append(base)
    for n in names:
        n = n.strip()
        if not n or (n != name and _is_measure(n)):
            continue  # "3nm" beside a process's name says its size, it is no name of it
        out.append(n)
        if HAN_CHAR.search(n):
            out.append(normalize(n))
            out.append(_traditional(normalize(n)))
            out += pinyin_forms(re.sub(r"[(（][^)）]*[)）]", "", n))  # no pinyin for (北京)
    seen: set[str] = set()
    kept = []
    for a in out:
        if a.lower() not in seen and len(compact_key(a)) >= 2:
            seen.add(a.lower())
            kept.append(a)
    return tuple(kept)


on_reload(cues.cache_clear)  # edited entity data: new cue words, and aliases made with them
on_reload(_aliases.cache_clear)


# -- the collector ---------------------------------------------------------------------------
_KIND_RANK = {"company": 0, "product": 1, "model": 2, "org": 3, "person": 4, "place": 5}


@dataclass
class _Collector:
    """Entities of one document as they are found, merged by id."""

    doc_id: str
    found: dict[str, Entity] = field(default_factory=dict)
    by_alias: dict[str, str] = field(default_factory=dict)
    votes: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, name: str, kind: str, extra: Iterable[str] = (), eid: str | None = None) -> str:
        name = name.strip().strip("“”\"'「」")
        if kind == "company":
            eid = eid or self.by_alias.get(compact_key(company_base(name)))
            eid = eid or entity_key(company_base(name))
        eid = eid or self.by_alias.get(compact_key(name)) or entity_key(name)
        aliases = make_aliases(name, extra)
        ent = self.found.get(eid)
        if ent is None:
            ent = Entity(eid, name, kind, [], None, [self.doc_id])
            self.found[eid] = ent
        elif _KIND_RANK.get(kind, 9) < _KIND_RANK.get(ent.kind, 9) and ent.kind not in (
            "product",
            "model",
        ):
            ent.kind = kind
        have = {a.lower() for a in ent.aliases}
        ent.aliases += [a for a in aliases if a.lower() not in have]
        for a in ent.aliases:
            self.by_alias.setdefault(compact_key(a), eid)
        return eid

    def vote_vendor(self, product_id: str, vendor_id: str) -> None:
        if product_id != vendor_id:
            self.votes.setdefault(product_id, Counter())[vendor_id] += 1

    def result(self) -> list[Entity]:
        for pid, votes in self.votes.items():
            if pid in self.found and self.found[pid].kind in ("product", "model"):
                self.found[pid].vendor = votes.most_common(1)[0][0]
        return list(self.found.values())


# -- finding names in text -------------------------------------------------------------------
def _posseg(text: str, *, hmm: bool = False) -> list[tuple[str, str]]:
    """jieba's words and POS tags; ``hmm`` also guesses words the dictionary lacks (people's
    names), at the cost of some of its splits."""
    from rag.textnorm import load_posseg

    return [(w, f) for w, f in load_posseg().lcut(text, HMM=hmm)]


def _namey(flag: str) -> bool:
    return flag[:1] in ("n", "x", "j") or flag in ("eng", "nz", "vn", "an")


def name_before(
    text: str,
    end: int,
    max_chars: int = 8,
    stop: Iterable[str] = (),
    known: dict[str, str] | None = None,
) -> str | None:
    """The Chinese name that ends at ``end``: jieba words walked back until a word a name
    never holds (a verb, a particle, a stop word)."""
    c = cues()
    start = end
    while start > 0 and HAN_CHAR.match(text[start - 1]) and end - start < max(14, max_chars + 6):
        start -= 1
    if end - start < 2:
        return None
    extra_stop = set(stop)
    name = ""
    for w, flag in reversed(_posseg(text[start:end])):
        if w in c.stop_words or w in extra_stop or (len(w) == 1 and w in c.stop_chars):
            break
        if len(w) > 1 and not _namey(flag) and (name or compact_key(w) not in (known or {})):
            break  # (a known name next to the number may carry another jieba tag: a verb)
        if len(name) + len(w) > max_chars:
            break
        name = w + name
    return name if len(name) >= 2 else None


def _bracket_names(text: str, col: _Collector) -> None:
    """``中文名(English Name)``, ``English(中文)``, ``X(09988.HK,下称Y)``."""
    c = cues()
    for m in _BRACKET.finditer(text):
        inner = m.group(1).strip()
        parts = [p.strip() for p in re.split(r"[,，;；、]", inner) if p.strip()]
        extra: list[str] = []
        for p in parts:
            intro = next((i for i in c.alias_intro if p.startswith(i)), None)
            if intro and len(p) > len(intro):
                extra.append(p[len(intro) :].strip("“”\"'"))
            elif (
                _TICKER.fullmatch(p)
                or (
                    re.fullmatch(r"[A-Z][A-Za-z0-9&.\- ]{1,40}", p)
                    and p.lower() not in c.latin_stop
                )
                or (re.fullmatch(rf"[{HAN}]{{2,10}}", p) and p not in c.stop_words)
            ):
                extra.append(p)
        if not extra:
            continue
        before = text[max(0, m.start() - 40) : m.start()]
        if HAN_CHAR.search(before[-1:]):
            extra = [x for x in extra if not HAN_CHAR.search(x) or x not in parts]
            if not extra:
                continue
            name = _legal_name_before(text, m.start())
            if name and text[max(0, m.start() - len(name) - 1) : m.start() - len(name)].isdigit():
                continue  # 2纳米(N2): a size, not a name (see _bracket_measures)
            if name and not _generic(name):
                kind = _kind_of(name, extra)
                if kind != "company" or not _has_suffix(name):
                    kind = "other" if _term(name) else kind  # 片间互联(ICN): a term
                col.add(name, kind, extra, eid=_glossary_id(name, extra))
        else:
            en = re.search(r"([A-Z][A-Za-z0-9&\-]*(?: [A-Z][A-Za-z0-9&\-]*){0,3})\s*$", before)
            if (
                en
                and en.group(1).lower() not in c.latin_stop
                and any(HAN_CHAR.search(x) for x in extra)
            ):
                kind = _kind_of(en.group(1), extra)
                if re.fullmatch(r"[A-Z]{2,5}", en.group(1)) and not any(map(_has_suffix, extra)):
                    kind = "other"  # TSV(某某技术): an acronym explained, a term
                col.add(en.group(1), kind, extra)


def _legal_name_before(text: str, end: int, max_chars: int = 16) -> str | None:
    """The name before ``end``; a registered name with its city in brackets, 某某科技(北京)股份
    有限公司, is read whole."""
    c = cues()
    name = name_before(text, end, max_chars=max_chars) or ""
    if name and name not in c.zh_suffixes:
        return name
    cut = end - len(name)
    city = re.search(rf"[(（]([{HAN}]{{2,4}})[)）]$", text[max(0, cut - 8) : cut])
    if not city:
        return None
    head = name_before(text, cut - len(city.group()), max_chars=max_chars)
    return f"{head}{city.group()}{name}" if head else None


def _glossary_id(name: str, extra: list[str]) -> str | None:
    """The glossary vendor id of a name or any of its bracket names."""
    from rag import glossary

    for n in (name, company_base(name), *extra):
        v = glossary.canonical_vendor(n)
        if v:
            return entity_key(v)
    return None


def _has_suffix(name: str) -> bool:
    return any(name.endswith(s) and len(name) > len(s) for s in cues().zh_suffixes)


def _term(name: str) -> bool:
    """A technical term, not a name: 某某互联, 某某单元, 某某薄膜 (see ``term_words``)."""
    return any(w in name for w in cues().term_words)


def _generic(name: str) -> bool:
    c = cues()
    return name in c.generic or name in c.stop_words


def _kind_of(name: str, extra: Iterable[str] = ()) -> str:
    c = cues()
    words = [name, *extra]
    if any(w.endswith(s) for w in words for s in c.zh_suffixes if len(w) > len(s)):
        return "company"
    if any(w.split()[-1].lower().rstrip(".") in c.en_suffixes for w in words if w.split()):
        return "company"
    if _MODEL.search(name):
        return "product"
    if name in c.places:
        return "place"
    if any(name.endswith(s) for s in c.zh_org_suffixes):
        return "org"
    return "company"


def _quoted_products(text: str, col: _Collector) -> None:
    """``名为“X”的``, ``“X”芯片``, quoted names holding a model number."""
    c = cues()
    for m in _QUOTED.finditer(text):
        name = m.group(1).strip()
        if len(compact_key(name)) < 2 or _generic(name) or re.search(r"[，,。；;！!？?]", name):
            continue
        before = text[max(0, m.start() - 6) : m.start()]
        after = text[m.end() : m.end() + 6]
        intro = any(before.endswith(i) for i in c.product_intro)
        kind_after = any(after.startswith(k) for k in c.kind_words)
        has_model = bool(_MODEL.search(name)) and not _excluded_model(name)
        if (intro or kind_after or (has_model and HAN_CHAR.search(name))) and len(name) <= 16:
            col.add(name, "product")


def _zh_companies(text: str, col: _Collector) -> None:
    """Chinese company names by their suffix: ``壁仞科技``, ``沐曦股份``, ``某某集团``."""
    c = cues()
    for suf in c.zh_suffixes:
        for m in re.finditer(re.escape(suf), text):
            # the suffix must be a word of its own, not part of a longer word (硬科技)
            window = text[max(0, m.start() - 8) : m.end() + 2]
            offset = m.start() - max(0, m.start() - 8)
            if not _is_own_word(window, offset, len(suf)):
                continue
            if any(text.startswith(w, m.end()) for w in c.not_after_suffix):
                continue
            name = _legal_name_before(text, m.start(), max_chars=10)
            if not name or name in c.zh_suffixes or name + suf in c.zh_suffixes:
                continue  # 股份 + 有限公司 is a legal form, not a name
            if not _generic(name) and not _term(name):
                col.add(name + suf, "company", [name])


def _is_own_word(window: str, offset: int, length: int) -> bool:
    pos = 0
    for w, _ in _posseg(window):
        if pos == offset:
            return len(w) == length or (
                len(w) > length and w.startswith(window[offset : offset + length])
            )
        if pos < offset < pos + len(w):
            return False
        pos += len(w)
    return False


def _excluded_model(tok: str) -> bool:
    return bool(cues().model_exclude.fullmatch(tok))


_DIGIT_MODEL = re.compile(
    rf"(?<=[{HAN}])(?:\d{{3,5}}|\d\.\d|[一二三四五六七八九十]{{1,2}}号)(?![\d.%A-Za-z])"
)


def _model_tokens(text: str, col: _Collector) -> None:
    """Model numbers (``X100``, ``AB12C``) and the product line written before them (the
    line also before a bare number: 某某800)."""
    c = cues()
    hits = [(m.start(), m.group().strip("-"), False) for m in _MODEL.finditer(text)]
    hits += [(m.start(), m.group(), True) for m in _DIGIT_MODEL.finditer(text)]
    for start, tok, bare in sorted(hits):
        if not bare and (_excluded_model(tok) or tok.lower() in c.latin_stop):
            continue
        if re.fullmatch(r"[A-Za-z]+\d", tok) and len(tok) <= 2:
            continue
        if bare and text[start + len(tok) : start + len(tok) + 1] in c.measure_chars:
            continue  # 1024台, 2009年: a count or a year, not a model
        line = name_before(text, start, max_chars=4, stop=c.generic, known=col.by_alias)
        if line and (_generic(line) or any(line.endswith(g) for g in c.generic)):
            line = None
        if line and not (_proper(line, col) or compact_key(line + tok) in col.by_alias):
            line = None  # (a quoted name already known makes its line a name too)
        if line:  # a product line already known wins over the words before it (训练卡某某)
            line = next(
                (line[k:] for k in range(len(line) - 1) if compact_key(line[k:]) in col.by_alias),
                line,
            )
        if line is None and bare:
            continue
        if (
            bare
            and ("." in tok or "号" in tok)
            and (line is None or compact_key(line) not in col.by_alias)
        ):
            continue  # 某某2.0, 某某一号 only after a product line already known
        if line is None:
            en = re.search(r"([A-Z][A-Za-z]+) $", text[max(0, start - 20) : start])
            extra = (
                [f"{en.group(1)} {tok}"] if en and en.group(1).lower() not in c.latin_stop else []
            )
            _add_model(col, tok, "model", extra, [en.group(1)] if extra and en else [])
            continue
        vendor = _company_id(col, line)
        if vendor and _standard(tok):  # 某公司HBM4: that company's part of a standard many
            pid = col.add(line + tok, "product", [f"{line} {tok}"])  # make: not the standard
            col.vote_vendor(pid, vendor)
        elif vendor:  # 某公司X100: the company's own name before the number
            pid = col.add(tok, "model", [line + tok, f"{line} {tok}"])
            col.vote_vendor(pid, vendor)
        else:
            extra = [f"{line} {tok}"] if bare else [tok, f"{line} {tok}"]  # no bare "800" alias
            _add_model(col, line + tok, "product", extra, [line])


_PROPER_FLAGS = frozenset({"nr", "nrt", "nrfg", "nz", "ns", "nt", "x", "eng", "j"})


def _standard(tok: str) -> bool:
    """A memory or link standard written like a model number (HBM4, GDDR7, PCIe5): many
    companies make it, so a company's name before it names that company's part."""
    from rag.evidence import TECH_TOKEN

    if re.fullmatch(r"\d.*|N\d+[PAE]?|(?:FP|INT|BF|TF)\d+", tok, re.I):
        return False  # a figure, a process node or a number format is no standard part
    return bool(TECH_TOKEN.match(tok))


def _proper(line: str, col: _Collector) -> bool:
    """A product line is a name: known already, or jieba words that are proper nouns or
    single characters (an unknown name), never common words (国家出口)."""
    if compact_key(line) in col.by_alias:
        return True
    words = _posseg(line)
    known = [w for w, _ in words if compact_key(w) in col.by_alias]
    return all(len(w) == 1 or f in _PROPER_FLAGS or w in known for w, f in words)


def _add_model(col: _Collector, name: str, kind: str, extra: list[str], lines: list[str]) -> None:
    """Add a model; it inherits the vendor of the product line written before it."""
    pid = col.add(name, kind, extra)
    from rag import glossary

    for line in lines:
        lid = col.by_alias.get(compact_key(line))
        if lid and lid != pid and col.votes.get(lid):
            col.vote_vendor(pid, col.votes[lid].most_common(1)[0][0])
        elif lid and col.found[lid].kind == "company":
            col.vote_vendor(pid, lid)
    owner = glossary.canonical_vendor(name)
    if owner and entity_key(owner) in col.found:
        col.vote_vendor(pid, entity_key(owner))


def _spaced_models(text: str, col: _Collector) -> None:
    """``Gaudi 3``: a known English product line, a space and a generation number."""
    lines = [
        e
        for e in col.found.values()
        if e.kind == "product" and re.fullmatch(r"[A-Z][a-z]+", e.name)
    ]
    for e in lines:
        for m in re.finditer(rf"\b{re.escape(e.name)} (\d{{1,3}})(?![\d.,%A-Za-z])", text):
            pid = col.add(m.group(), "product", [m.group().replace(" ", "")])
            if e.vendor or col.votes.get(e.entity_id):
                vendor = e.vendor or col.votes[e.entity_id].most_common(1)[0][0]
                col.vote_vendor(pid, vendor)


def _company_id(col: _Collector, name: str) -> str | None:
    eid = col.by_alias.get(compact_key(name))
    if eid and col.found[eid].kind == "company":
        return eid
    return None


def _en_names(text: str, col: _Collector) -> None:
    """Capitalised English company names with a cue: a suffix, ``startup X``, ``X raised``."""
    c = cues()
    low = text.lower()
    for m in _EN_NAME.finditer(text):
        name = m.group().strip()
        words = name.split()
        while words and words[0].lower() in c.latin_stop:
            words = words[1:]
        if not words or len(words) > 4:
            continue
        name = " ".join(words)
        start = m.end() - len(name)
        if name.lower() in c.latin_stop or _MODEL.fullmatch(name) or len(name) < 3:
            continue
        if name in c.places or compact_key(name) in col.by_alias:
            continue
        before = low[max(0, start - 24) : start].rstrip()
        after = low[m.end() : m.end() + 40].lstrip(" ,")
        after = re.sub(
            r"^(?:(?:reportedly|also|now|recently|quietly|officially|has|have)\s+)+", "", after
        )
        suffix = words[-1].lower().rstrip(".") in c.en_suffixes and len(words) > 1
        cue = any(before.endswith(b) for b in c.en_before) or any(
            re.match(rf"{re.escape(a)}\b", after) for a in c.en_after
        )
        if not cue:  # apposition: "Foo, the Toronto-based chip company, ..."
            appos = re.match(r", (?:the|a|an) ([^,.;]{0,50})", low[m.end() : m.end() + 60])
            cue = bool(appos and set(appos.group(1).split()) & set(c.en_before))
        if not (suffix or cue):
            continue
        if len(words) == 1 and _common_word(name, text):
            continue
        if any(_MODEL.fullmatch(w) and not _excluded_model(w) for w in words):
            continue  # "X100 SXM": a product, read by the model-number rules
        col.add(name, _en_kind(words, before, c))


def _en_kind(words: list[str], before: str, c: _Cues) -> str:
    """company, or person after a title (CEO Foo Bar), or org for a ministry or agency."""
    if any(before.endswith(t) for t in c.en_person_before):
        return "person"
    if words[-1].lower() in c.en_org_suffixes:
        return "org"
    return "company"


def _common_word(name: str, text: str) -> bool:
    """A capitalised word the text also writes in lower case is a common word, not a name."""
    low = name.lower()
    return low != name and bool(re.search(rf"(?<![A-Za-z]){re.escape(low)}(?![A-Za-z])", text))


def _en_products(text: str, col: _Collector) -> None:
    """English product names: ``Foo chip``, ``Foo, a chip``, ``its next chip, Foo``, an
    xPU acronym, and the product line before a model number (``Foo p150a``)."""
    c = cues()
    kinds = "|".join(re.escape(k) for k in sorted(c.en_kinds, key=len, reverse=True))
    name = r"([A-Z][A-Za-z0-9\-]{2,}(?: [A-Z][A-Za-z0-9\-]+)?)"
    pats = [
        rf"{name} (?:{kinds})\b",
        rf"{name}, (?:a|an|the|its)(?: [a-z\-]+){{0,3}} (?:{kinds})\b",
        rf"\b(?:{kinds}),? (?:called |named |dubbed )?{name}(?=[,.;]| is| will| has)",
    ]
    found = [m.group(1) for p in pats for m in re.finditer(p, text)]
    found += [  # an xPU right after a name is its kind (“某某”PPU), not a name
        m.group()
        for m in re.finditer(rf"\b(?:{c.product_acronym.pattern})\b", text)
        if not re.search(rf"[{HAN}”」』\"]\s?$", text[max(0, m.start() - 2) : m.start()])
    ]
    for m in _MODEL.finditer(text):  # the line before a model number: "Foo p150a"
        if _excluded_model(m.group()):
            continue
        en = re.search(r"([A-Z][a-z][A-Za-z]+) $", text[max(0, m.start() - 20) : m.start()])
        if en:
            found.append(en.group(1))
    for n in found:
        words = n.split()
        while words and words[0].lower() in c.latin_stop:
            words = words[1:]
        n = " ".join(words)
        if not words or any(w.lower() in c.latin_stop for w in words) or "-based" in n:
            continue
        if n in c.places or _excluded_model(n) or _common_word(n, text):
            continue
        eid = col.by_alias.get(compact_key(n))
        if eid and col.found[eid].kind != "product":
            continue
        col.add(n, "product")


def _jieba_names(text: str, col: _Collector) -> None:
    """Persons: jieba person names (nr) next to a cue (``院长X表示``, ``X(化名)``); only the
    text around the cues is tagged, which keeps this cheap."""
    c = cues()
    before = "|".join(re.escape(w) for w in sorted(c.person_before, key=len, reverse=True))
    after = "|".join(re.escape(w) for w in sorted(c.person_after, key=len, reverse=True))
    for m in re.finditer(rf"(?:{before})([{HAN}]{{2,4}}?)(?:{after})", text):
        if compact_key(m.group(1)) not in col.by_alias:  # 董事长某某某表示: a title, a name, a verb
            col.add(m.group(1), "person")
    cue_rx = "|".join(re.escape(w) for w in (*c.person_before, *c.person_after))
    from rag.textnorm import load_posseg

    posseg = None
    for m in re.finditer(cue_rx, text):
        s = max(0, m.start() - 6)
        window = text[s : m.end() + 6]
        posseg = posseg or load_posseg()  # loaded only for a text with a person cue
        pos = s
        for w, flag in posseg.lcut(window):  # HMM on: unknown names are what it finds
            start, pos = pos, pos + len(w)
            if flag not in ("nr", "nrfg") or not 2 <= len(w) <= 4 or w in c.stop_words:
                continue
            if compact_key(w) in col.by_alias or any(
                e.kind == "person" and e.name.startswith(w) for e in col.found.values()
            ):
                continue  # known, or the start of a longer name found by the pattern
            nxt, prev = text[pos : pos + 6], text[max(0, start - 6) : start]
            if any(nxt.startswith(a) for a in c.person_after) or any(
                prev.endswith(b) for b in c.person_before
            ):
                col.add(w, "person")


def _place_groups(d: dict[str, Any]) -> tuple[tuple[str, ...], ...]:
    """``places`` of entities.yaml: a name, or a list of one place's names."""
    out = []
    for item in d.get("places") or []:
        names = [str(x) for x in item] if isinstance(item, list) else [str(item)]
        out.append(tuple(names))
    return tuple(out)


def _places(text: str, col: _Collector) -> None:
    """The places the text names, each with every name its ``places`` entry gives."""
    for names in cues().place_groups:
        said = next(
            (
                p
                for p in names
                if (p in text if HAN_CHAR.search(p) else re.search(rf"\b{re.escape(p)}\b", text))
            ),
            None,
        )
        if said is None:
            continue
        known = col.by_alias.get(compact_key(said))
        ent = col.found.get(known) if known is not None else None
        if ent is not None and ent.kind != "place":
            continue  # the name is another entity's already
        col.add(said, "place", names, eid=known or entity_key(names[0]))


def _seed_glossary(doc: Document, col: _Collector) -> None:
    """Vendors and product lines of the glossary that the text mentions (seed data)."""
    from rag import glossary

    products: dict[str, list[str]] = getattr(glossary, "PRODUCTS", {}) or {}
    product_aliases = {a.lower() for names in products.values() for a in names}
    vendors: dict[str, list[str]] = getattr(glossary, "VENDORS", {}) or {}
    text_low = doc.text.lower()
    for v in glossary.detect_vendors(doc.text):
        names = [
            a
            for a in vendors.get(v, [v])
            if a.lower() not in product_aliases and not _MODEL.fullmatch(a)
        ]
        shown = next((a for a in names if a.lower() in text_low), v)
        col.add(shown, "company", [v, *names], eid=entity_key(v))
    for p, names in products.items():
        hit = [a for a in names if _glossary_hit(text_low, a)]
        if hit:
            pid = col.add(hit[0], "product", [p, *names], eid=entity_key(p))
            owner = glossary.canonical_vendor(p)
            if owner and entity_key(owner) in col.found:
                col.vote_vendor(pid, entity_key(owner))


def _glossary_hit(text_low: str, alias: str) -> bool:
    a = alias.lower()
    if HAN_CHAR.search(a):
        return a in text_low
    return re.search(rf"(?<![a-z0-9]){re.escape(a)}(?![a-z0-9])", text_low) is not None


# -- mentions and vendor links ---------------------------------------------------------------
def surfaces(entity: Entity) -> list[str]:
    """The forms of an entity to look for in article text (name and aliases, no pinyin with
    tone marks)."""
    forms = [entity.name, *entity.aliases]
    return [f for f in dict.fromkeys(forms) if len(compact_key(f)) >= 2]


def mentions(text: str, entities: list[Entity]) -> list[tuple[int, int, Entity]]:
    """Every place ``text`` names one of ``entities``: (start, end, entity), longest first on
    overlaps, in text order. Latin forms match on word boundaries, case-insensitively."""
    rank = {"product": 0, "model": 1, "company": 2, "org": 3, "person": 4, "place": 5}
    by_first: dict[str, dict[str, Entity]] = {}
    for e in sorted(entities, key=lambda e: rank.get(e.kind, 9), reverse=True):
        for f in surfaces(e):
            low = f.lower()
            if len(low) == len(f):  # lower() keeps offsets for every form we look for
                by_first.setdefault(low[0], {})[low] = e
    ordered = {k: sorted(v.items(), key=lambda x: -len(x[0])) for k, v in by_first.items()}
    low = text.lower()
    if len(low) != len(text):
        return []
    out = []
    i, n = 0, len(low)
    while i < n:
        hit = None
        for form, ent in ordered.get(low[i], ()):
            j = i + len(form)
            if not low.startswith(form, i):
                continue
            if form[0] in _WORDCH and i > 0 and low[i - 1] in _WORDCH:
                continue
            if form[-1] in _WORDCH and j < n and low[j] in _WORDCH:
                continue
            hit = (i, j, ent)
            break
        if hit is None:
            i += 1
            continue
        out.append(hit)
        i = hit[1]
    return out


_WORDCH = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def _vendor_links(text: str, col: _Collector) -> None:
    """Company then product with only linking words between: ``某公司的某芯100``,
    ``某公司发布自研芯片某芯200``, ``Foo's X100``."""
    c = cues()
    found = mentions(text, list(col.found.values()))
    last_company: tuple[int, Entity] | None = None
    for s, e, ent in found:
        if ent.kind == "company":
            last_company = (e, ent)
            continue
        if ent.kind not in ("product", "model") or last_company is None:
            continue
        end, comp = last_company
        between = text[end:s]
        if (len(between) <= 16 and _is_link(between, c)) or _pronoun_link(between, c):
            col.vote_vendor(ent.entity_id, comp.entity_id)
    _line_vendors(col)


def _pronoun_link(between: str, c: _Cues) -> bool:
    """``Foo, the Toronto chip company, began selling its X100``: the possessive right before
    the product is the company's, where no sentence ends between them."""
    if re.search(r"[。！？；!?;]|\.\s", between) or len(between) > 200:
        return False
    tail = between.rstrip().lower()
    return any(
        tail.endswith(p) and (len(tail) == len(p) or not tail[-len(p) - 1].isalnum())
        for p in c.pronouns
    )


def _line_vendors(col: _Collector) -> None:
    """A model with no vendor of its own inherits one from its article: its product line's,
    where an alias writes the line before it ("Foo X100" of the Foo line) or the line's name
    ends with the number the model opens with; else that of its article's models of the same
    shape, where they all have one vendor."""
    for ent in list(col.found.values()):
        if ent.kind != "model" or col.votes.get(ent.entity_id):
            continue
        for alias in ent.aliases:
            head = alias.rsplit(" ", 1)[0] if " " in alias else ""
            lid = col.by_alias.get(compact_key(head)) if head else None
            if lid and lid != ent.entity_id and col.votes.get(lid):
                col.vote_vendor(ent.entity_id, col.votes[lid].most_common(1)[0][0])
                break
    # a model number that opens with a line's number ("700LT" of "Foo 700") is of its vendor
    lines = [e for e in col.found.values() if e.kind == "product" and col.votes.get(e.entity_id)]
    for ent in list(col.found.values()):
        digits = re.match(r"\d{2,}(?=[A-Za-z])", ent.name)
        if ent.kind != "model" or col.votes.get(ent.entity_id) or digits is None:
            continue
        owners = {
            col.votes[e.entity_id].most_common(1)[0][0]
            for e in lines
            if re.search(rf"(?<!\d){digits.group()}$", e.name)
        }
        if len(owners) == 1:
            col.vote_vendor(ent.entity_id, owners.pop())
    # a model number of the same shape as its article's other models ("X100" beside "X150")
    # is of their vendor, where they all have the same one
    shape = {
        e.entity_id: _model_shape(e.name)
        for e in col.found.values()
        if e.kind == "model" and not _standard(e.name)
    }
    for eid, key in shape.items():
        if col.votes.get(eid) or key is None:
            continue
        vendors = {
            col.votes[o].most_common(1)[0][0]
            for o, k in shape.items()
            if o != eid and k == key and col.votes.get(o)
        }
        if len(vendors) == 1:
            col.vote_vendor(eid, vendors.pop())


def _model_shape(name: str) -> str | None:
    """A model number's letters around its digits ("x150a": "x#a"), or None for no model."""
    m = re.fullmatch(r"([A-Za-z]*)\d+([A-Za-z]*)", name.strip())
    return (
        f"{m.group(1).lower()}#{m.group(2).lower()}" if m and (m.group(1) or m.group(2)) else None
    )


def _is_link(between: str, c: _Cues) -> bool:
    b = re.sub(r"[“”\"「」『』]", "", between)
    if not b.strip():
        return True
    if HAN_CHAR.search(b) and not re.search(r"[A-Za-z]", b):
        words = c.links_zh + tuple(sorted(c.generic, key=len, reverse=True))
        rest = b
        while rest:
            w = next((w for w in words if rest.startswith(w)), None)
            if w is None:
                return False
            rest = rest[len(w) :]
        return True
    return any(re.fullmatch(rf"{re.escape(lk)}(?: [A-Z][A-Za-z]+)? ?", b) for lk in c.links_en)


def extract_entities(doc: Document) -> list[Entity]:
    """The entities ``doc`` names, with aliases and vendors (see the module docstring)."""
    col = _Collector(doc.doc_id)
    original = doc.text
    if doc.title and doc.title not in original[:400]:
        original = doc.title + "\n" + original
    text = simplified(original)  # jieba and the cue words work on simplified text
    _seed_glossary(doc, col)
    _bracket_names(text, col)
    _zh_companies(text, col)
    _quoted_products(text, col)
    _model_tokens(text, col)
    _en_names(text, col)
    _en_products(text, col)
    _spaced_models(text, col)
    _jieba_names(text, col)
    _places(text, col)
    _vendor_links(text, col)
    _bracket_measures(text, col)
    found = col.result()
    if text != original:
        _display_names(found, text, original)
    return found


def _display_names(found: list[Entity], text: str, original: str) -> None:
    """Names as the article writes them (a Traditional page keeps its Traditional names)."""
    for e in found:
        i = text.find(e.name)
        if i >= 0 and original[i : i + len(e.name)] != e.name:
            e.name = original[i : i + len(e.name)]
            if e.name not in e.aliases:
                e.aliases.insert(0, e.name)


_MEASURE_BRACKET = re.compile(
    r"(\d+(?:\.\d+)?)\s?(nm|纳米|奈米)[(（]([A-Z]{1,2}\d{1,2}[A-Z]?)[)）]"
)


def _bracket_measures(text: str, col: _Collector) -> None:
    """A name given in brackets after a size: ``2纳米(N2)`` is the N2 process."""
    for m in _MEASURE_BRACKET.finditer(text):
        size = m.group(1)
        col.add(m.group(3), "product", [f"{size}nm", f"{size}纳米", f"{size}奈米", f"{size} nm"])


__all__ = [
    "compact_key",
    "company_base",
    "entity_key",
    "extract_entities",
    "make_aliases",
    "mentions",
    "pinyin_forms",
]
