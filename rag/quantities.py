"""Figures in text as values, so a statement's figure can be matched to a source's by value.

``quantities(text)`` reads every figure of a text: Arabic numbers with their scale word and
unit ("1.2TB/s", "600亿个", "$4.5 billion", "1.6万张"), Chinese numerals ("九十六GB",
"一万六千三百八十四", "百分之三十"), and, with ``source=True``, the number words a source may
use ("seven links", "six times", "翻一番", "January"). Each becomes a ``Quantity`` whose value
is in the base unit of its dimension, so ``supported(q, figures)`` holds for "1.2TB/s"
against "1200GB/s" and for "60 billion" against "600亿", and fails for 80GB against 96GB or
for 80GB against 80%.

A figure written with a decimal point and at least two significant digits may be a rounding
of the source's ("1.9 EFLOPS" for "1945P"); every other figure must be equal. A number glued
to a name ("X12", "A7", "v5p") is an identifier: it matches only the same digits.

The unit, scale and numeral tables are data (``rag/data/units.yaml``,
``rag/data/numerals.yaml``). ``written_in(figure, lang)`` writes an amount of money the
asker's way ("55亿美元" as "$5.5 billion"), the same value in the other language's scale
words. It does not convert currencies (no exchange rates), dates or bits to bytes, and it
does not decide what a figure refers to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rag import datafiles
from rag.lang import HAN_CHAR
from rag.textnorm import simplified

# dimensions that must agree when both sides have one (a byte figure never supports a byte rate)
STRICT = frozenset(
    [
        "bytes",
        "bytes_per_s",
        "bits",
        "bits_per_s",
        "flops",
        "ops",
        "watts",
        "metres",
        "hertz",
        "cny",
        "usd",
        "hkd",
        "pct",
    ]
)
_NUM = r"\d{1,3}(?:,\d{3})+(?!\d|,\d)(?:\.\d+)?|\d+(?:\.\d+)?"


@dataclass(frozen=True)
class Quantity:
    """One figure: ``value`` in base units, ``bare`` as written times its scale (no unit)."""

    raw: str
    value: float
    bare: float
    dim: str | None
    step: float = 0.0
    ident: bool = False


@dataclass(frozen=True)
class _Tables:
    units: dict[str, tuple[str, float]]
    units_lower: dict[str, tuple[str, float]]
    prefixes: dict[str, str]
    scales: dict[str, float]
    digits: dict[str, int]
    positions: dict[str, int]
    sections: dict[str, float]
    percent_prefix: str
    words: dict[str, tuple[float, str | None]]
    unit_re: re.Pattern[str]
    scale_re: re.Pattern[str]
    cn_re: re.Pattern[str]
    word_re: re.Pattern[str]
    decimal_point: str
    hedges: tuple[str, ...]
    period_re: re.Pattern[str]
    written: dict[str, Any]  # how an amount of money is written per language (written_in)


def _alternation(keys: list[str]) -> str:
    return "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))


@lru_cache(maxsize=1)
def tables() -> _Tables:
    """The unit and numeral tables, read once from ``rag/data``."""
    u = datafiles.load_yaml("units.yaml")
    n = datafiles.load_yaml("numerals.yaml")
    units = {str(k): (str(v[0]), float(v[1])) for k, v in u["units"].items()}
    words: dict[str, tuple[float, str | None]] = {}
    for k, v in n["words"].items():
        words[str(k).lower()] = (
            (float(v[0]), str(v[1])) if isinstance(v, list) else (float(v), None)
        )
    digit_chars = "".join(n["chinese_digits"])
    cn_chars = digit_chars + "".join(n["chinese_positions"]) + "".join(n["chinese_sections"])
    point = str(n["decimal_point"])
    latin_words = [w for w in words if w.isascii()]
    han_words = [w for w in words if not w.isascii()]
    return _Tables(
        units=units,
        units_lower={k.lower(): v for k, v in units.items()},
        prefixes={str(k): str(v) for k, v in u["prefixes"].items()},
        scales={str(k): float(v) for k, v in u["scales"].items()},
        digits={str(k): int(v) for k, v in n["chinese_digits"].items()},
        positions={str(k): int(v) for k, v in n["chinese_positions"].items()},
        sections={str(k): float(v) for k, v in n["chinese_sections"].items()},
        percent_prefix=str(n["percent_prefix"]),
        words=words,
        unit_re=re.compile(r"\s?(" + _alternation(list(units)) + ")", re.I),
        scale_re=re.compile(r"\s?(" + _alternation(list(u["scales"])) + ")"),
        cn_re=re.compile(
            f"[{re.escape(cn_chars)}]+(?:{re.escape(point)}[{re.escape(digit_chars)}]+"
            f"[{re.escape(''.join(n['chinese_sections']))}]*)?"
        ),
        word_re=re.compile(
            r"(?<![A-Za-z])("
            + _alternation(latin_words)
            + r")(?![A-Za-z])"
            + ("|(" + _alternation(han_words) + ")" if han_words else ""),
            re.I,
        ),
        decimal_point=point,
        hedges=tuple(sorted((str(h) for h in n["hedges"]), key=len, reverse=True)),
        period_re=re.compile("|".join(f"(?:{p})" for p in n["period_names"]), re.I),
        written=dict(u.get("written") or {}),
    )


def _after(text: str, pos: int, allow_bare_scale: bool) -> tuple[float, str | None, float, int]:
    """(scale, dim, unit factor, end) of the scale word and unit written at ``text[pos:]``."""
    t = tables()
    scale, end = 1.0, pos
    m = t.scale_re.match(text, pos)
    if m:
        word = m.group(1)
        latin_single = len(word) == 1 and word.isascii()
        if _word_end(text, m.end(), word) and (allow_bare_scale or not latin_single):
            scale, end = t.scales[word], m.end()
    m = t.unit_re.match(text, end)
    if m and _word_end(text, m.end(), m.group(1)):
        unit = m.group(1)
        dim, factor = t.units.get(unit) or t.units_lower[unit.lower()]
        if unit in t.units or len(unit) > 2:  # short units are case-sensitive (GB vs Gb)
            return scale, dim, factor, m.end()
    return scale, None, 1.0, end


def _word_end(text: str, end: int, word: str) -> bool:
    """A Latin unit or scale word must not run on into more letters ("GBX", "Mate")."""
    return not (
        word[-1].isascii()
        and word[-1].isalpha()
        and end < len(text)
        and text[end].isascii()
        and text[end].isalpha()
    )


def _step(raw: str, mult: float) -> float:
    """Half the last written digit, in base units, when the figure may be a rounding."""
    digits = raw.replace(",", "")
    if "." not in digits:
        return 0.0
    sig = len(digits.replace(".", "").lstrip("0"))
    decimals = len(digits.split(".")[1])
    return 0.5 * 10.0**-decimals * mult if sig >= 2 else 0.0


def _period(text: str, start: int, end: int) -> bool:
    """The number is part of a period name ("H1", "Q4", "FY2026", rag/data/numerals.yaml)."""
    lo, hi = start, end
    while lo > 0 and text[lo - 1].isascii() and text[lo - 1].isalnum():
        lo -= 1
    while hi < len(text) and text[hi].isascii() and text[hi].isalnum():
        hi += 1
    return bool(tables().period_re.fullmatch(text[lo:hi]))


def _hedged(text: str, start: int) -> bool:
    """A hedge word ("约", "about") right before the figure (a currency sign may sit between)."""
    before = text[max(0, start - 16) : start].rstrip()
    for sign in tables().prefixes:
        if before.endswith(sign):
            before = before[: -len(sign)].rstrip()
            break
    low = before.lower()
    # "about" must be a word of its own ("roundabout" is not a hedge); "约" need not
    return any(
        low.endswith(h)
        and (not h.isascii() or not h[0].isalpha() or not low[: -len(h)][-1:].isalpha())
        for h in tables().hedges
    )


def _last_digit(raw: str) -> float:
    """The place value of the last significant written digit ("42" -> 1, "2,000" -> 1000)."""
    digits = raw.replace(",", "")
    if "." in digits:
        return 10.0 ** -len(digits.split(".")[1])
    return 10.0 ** (len(digits) - len(digits.rstrip("0"))) if digits.strip("0") else 1.0


def _currency_before(text: str, start: int) -> str | None:
    for sign, dim in sorted(tables().prefixes.items(), key=lambda kv: -len(kv[0])):
        if text[max(0, start - len(sign) - 1) : start].strip().endswith(sign):
            return dim
    return None


def _arabic(text: str) -> list[Quantity]:
    out = []
    for m in re.finditer(_NUM, text):
        s, raw = m.start(), m.group()
        prev = text[s - 1] if s else ""
        if prev and ((prev.isascii() and prev.isalpha()) or prev in "._"):
            if _period(text, s, m.end()):
                continue  # "H1 2025", "Q4": a date, and the year beside it is the figure
            out.append(
                Quantity(raw.replace(",", ""), float(raw.replace(",", "")), 0, None, ident=True)
            )
            continue
        number = float(raw.replace(",", ""))
        cur = _currency_before(text, s)
        scale, dim, factor, _ = _after(text, m.end(), allow_bare_scale=cur is not None)
        if cur is not None and dim is None:
            dim = cur
        bare = number * scale
        step = _step(raw, scale * factor)
        if _hedged(text, s):
            step = max(step, min(_last_digit(raw) * scale * factor / 2, 0.05 * bare * factor))
        out.append(Quantity(raw.replace(",", ""), bare * factor, bare, dim, step))
    return out


def chinese_value(run: str) -> float:
    """The value of a Chinese numeral ("一万六千三百八十四" -> 16384, "二〇二五" -> 2025,
    "十一点七四亿" -> 1.174e9)."""
    t = tables()
    if t.decimal_point in run:
        whole, frac = run.split(t.decimal_point, 1)
        tail = frac.lstrip("".join(t.digits))
        digits = frac[: len(frac) - len(tail)]
        value = chinese_value(whole) + float("0." + "".join(str(t.digits[c]) for c in digits))
        for ch in tail:
            value *= t.sections[ch]
        return value
    if all(ch in t.digits for ch in run):
        return float("".join(str(t.digits[ch]) for ch in run))
    total, section, num = 0.0, 0.0, 0.0
    for ch in run:
        if ch in t.digits:
            num = t.digits[ch]
        elif ch in t.positions:
            section += (num or 1) * t.positions[ch]
            num = 0
        elif ch in t.sections:
            part = (section + num) or (0 if total else 1)
            total = (
                (total + part) * t.sections[ch]
                if t.sections[ch] > 1e4
                else total + part * t.sections[ch]
            )
            section = num = 0
    return total + section + num


def _chinese(text: str, source: bool) -> list[Quantity]:
    t = tables()
    out = []
    for m in t.cn_re.finditer(text):
        run = m.group()
        if not any(ch in t.digits for ch in run) and not source:
            continue  # "千亿参数", "万卡": an order of magnitude, not a figure
        pct = text[max(0, m.start() - len(t.percent_prefix)) : m.start()] == t.percent_prefix
        value = chinese_value(run)
        scale, dim, factor, _ = _after(text, m.end(), allow_bare_scale=False)
        if pct:
            dim, factor = "pct", 1.0
        counted = len(run) >= 2 and any(ch not in t.digits for ch in run)
        if not (source or pct or dim is not None or counted):
            continue  # "一款", "两家": words, not figures a source must repeat
        bare = value * scale
        out.append(Quantity(f"{value:g}", bare * factor, bare, dim))
    return out


def _words(text: str) -> list[Quantity]:
    t = tables()
    out = []
    for m in t.word_re.finditer(text):
        value, dim = t.words[m.group().lower()]
        scale, udim, factor, _ = _after(text, m.end(), allow_bare_scale=False)
        bare = value * scale
        out.append(Quantity(f"{value:g}", bare * factor, bare, dim or udim))
    return out


@lru_cache(maxsize=4096)
def _cached(text: str, source: bool) -> tuple[Quantity, ...]:
    prepared = simplified(text)
    found = _arabic(prepared) + _chinese(prepared, source)
    if source:
        found += _words(prepared)
    return tuple(found)


def quantities(text: str, *, source: bool = False) -> list[Quantity]:
    """Every figure in ``text``; ``source=True`` also reads number words ("seven", "翻一番")."""
    return list(_cached(text, source))


def _close(a: float, b: float, step: float) -> bool:
    return abs(a - b) <= max(step, 1e-9 * max(abs(a), abs(b)), 1e-12)


def supported(q: Quantity, figures: list[Quantity] | tuple[Quantity, ...]) -> bool:
    """True when some source figure equals ``q`` in value (or is what ``q`` rounds)."""
    for f in figures:
        if q.ident or f.ident:
            if q.ident and f.ident and q.raw == f.raw:
                return True
            continue
        if q.dim is not None and f.dim is not None and q.dim != f.dim:
            if q.dim in STRICT and f.dim in STRICT:
                continue
            if _close(q.bare, f.bare, 0.0):
                return True
            continue
        if q.dim is not None and q.dim == f.dim:
            if _close(q.value, f.value, q.step):
                return True
            continue
        if _close(q.bare, f.bare, q.step if q.dim is None else 0.0):
            return True
    return False


def unsupported(claim: str, source_texts: list[str]) -> list[str]:
    """The figures of ``claim`` (as written) that no text of ``source_texts`` supports."""
    figures: list[Quantity] = []
    for s in source_texts:
        figures += quantities(s, source=True)
    return [q.raw for q in quantities(claim) if not supported(q, figures)]


_OTHER_SCRIPT = {"en": HAN_CHAR, "zh": re.compile(r"[A-Za-z]{3,}")}


def _scaled(n: float) -> str:
    return f"{n:,.4f}".rstrip("0").rstrip(".")


def written_in(figure: str, lang: str) -> str:
    """``figure`` as an asker of ``lang`` writes it, where it is an amount of money whose scale
    word or currency is a word of the other language: "约55亿美元" -> "about $5.5 billion" for
    ``en``, "$4.5 billion" -> "45亿美元" for ``zh``. Other figures (96GB, 70%, a bare "10亿"
    that may be "10亿级", 1.6万张), ranges and anything not read as one amount come back as
    they are."""
    qs = quantities(figure)
    if len(qs) != 1 or qs[0].ident or not _OTHER_SCRIPT[lang].search(figure):
        return figure
    q, w = qs[0], tables().written
    if q.dim not in w["currencies"]:
        return figure
    hedges = {str(k): str(v) for k, v in w["hedges"][lang].items()}
    low = figure.strip().lower()
    hedge = next((h for h in sorted(hedges, key=len, reverse=True) if h in low), "")
    scales = [(float(s), str(wd)) for s, wd in w["scales"][lang]]
    scale, word = next(((s, wd) for s, wd in scales if abs(q.value) >= s), (1.0, ""))
    digits = re.search(r"\d[\d.,]*", figure)
    if scale == 1.0 and digits and not tables().scale_re.search(figure):
        n = digits.group()  # no scale either way: the number as the source writes it
    else:
        n = _scaled(q.value / scale) + (" " if lang == "en" and word else "") + word
    text = str(w["currencies"][q.dim][lang]).format(n=n)
    if not hedge:
        return text
    return f"{hedges[hedge]} {text}" if lang == "en" else f"{hedges[hedge]}{text}"


def describe(q: Quantity) -> dict[str, Any]:
    return {"raw": q.raw, "value": q.value, "dim": q.dim, "ident": q.ident}
