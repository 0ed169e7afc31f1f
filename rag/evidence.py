"""What a sentence of evidence says: figures, dates, model numbers, withheld figures, clauses.

Pure functions over text, used by the sentence extractor (``rag.sentences``), its renderer
and the analyser's entity checks. Figure and unit patterns are mechanisms (how figures are
written); word lists come from ``rag/data/sentences.yaml``. Nothing here reads a question's
intent or chooses sentences.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from rag import datafiles
from rag.citations import CLAUSE_BREAKS_LISTS_WHOLE as LISTS_WHOLE
from rag.citations import clause_spans
from rag.glossary import ATTRIBUTES, evidence_has_attribute
from rag.lang import HAN, HAN_CHAR, is_chinese
from rag.question import ORDINAL
from rag.textnorm import CUE, has_term, mainland, normalize, simplified, term_pattern

DATA_FILE = "sentences.yaml"

FIGURE = re.compile(
    r"\$?\d+(?:[.,]\d+)*\s*(?:%|TB/s|GB/s|Gbps|Tbps|TB|GB|GiB|nm|纳米|W|kW|瓦|TFLOPS|PFLOPS|EFLOPS|TOPS|IPS|"
    r"亿元|万元|亿美元|亿|万片|万张|万颗|万台|倍|billion|million|bn|-high|港元|元|颗|张|个|台|片|家|卡|层|"
    r"times|percent|chips|cards|GPUs|units|racks)"
)
DATE = re.compile(
    r"(?:20\d\d\s*年(?:\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?)?|\d{1,2}\s*月\s*\d{1,2}\s*日|"
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2},?\s*20\d\d|"
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December)\s+20\d\d|"
    r"\b20\d\d\b|Q[1-4]\s*20\d\d)"
)
# a relative figure answers "how much compute / revenue" too ("half the compute", 翻一番)
_RELATIVE = r"\bhalf\b|一半|翻一番|翻倍|\bdoubl(?:e|ed|es|ing)\b|\d+(?:\.\d+)?\s*(?:倍|times)\b"
_MONEY = r"\d+(?:\.\d+)?\s*(?:亿元|亿美元|亿|billion|million)"
ATTR_FIGURE = {
    "memory": re.compile(
        r"\d+(?:\.\d+)?\s*(?:GB|GiB|TB)(?!/s| of data)|\b(?:HBM\d?E?|GDDR\d|LPDDR\d)\b", re.I
    ),
    "bandwidth": re.compile(
        r"\d+(?:\.\d+)?\s*(?:TB/s|GB/s|Tbps|Gbps)|\d+(?:\.\d+)?\s*(?:TB|GB)\s+(?:of data\s+)?per second|"
        r"每秒\s*\d+(?:\.\d+)?\s*(?:TB|GB)"
    ),
    # a node name stands beside Han text too ("以N4工艺量产": no word boundary there)
    "process": re.compile(
        r"(?:\d+(?:\.\d+)?\s*(?:nm|纳米)|(?<![A-Za-z0-9])N\d[A-Za-z0-9]*|N\+\d"
        r"|(?<![A-Za-z0-9])\dN[PA]?(?![A-Za-z0-9]))"
    ),
    "power": re.compile(r"\d+(?:\.\d+)?\s*(?:W|kW|瓦)\b"),
    "price": re.compile(
        r"(?:(?:HK)?\$\s?\d[\d,.]*\s*(?:billion|million|bn)?|\d[\d,.]*\s*(?:美元|港元|元|万元|亿元))"
    ),
    "compute": re.compile(r"\d+(?:\.\d+)?\s*(?:TFLOPS|PFLOPS|EFLOPS|TOPS|IPS|P)\b|" + _RELATIVE),
    "shipments": re.compile(r"\d+(?:\.\d+)?\s*(?:万片|万张|万颗|万台|million|units)"),
    "funding": re.compile(_MONEY),
    "revenue": re.compile(_MONEY + "|" + _RELATIVE),
    "profit": re.compile(_MONEY + "|" + _RELATIVE),
    "valuation": re.compile(r"\d+(?:\.\d+)?\s*(?:亿元|亿美元|亿|billion|million|trillion)"),
    "transistors": re.compile(
        r"\d+(?:\.\d+)?\s*(?:亿|万亿|billion|million|trillion)?\s*个?\s*(?:晶体管|transistors)",
        re.I,
    ),
    "yield": re.compile(
        r"(?:良率|yield)[^。.;；]{0,20}\d+(?:\.\d+)?\s*%|\d+(?:\.\d+)?\s*%[^。.;；]{0,12}(?:良率|yield)",
        re.I,
    ),
}
# technology names written like model numbers (HBM3E, N3P, FP8, 96GB) that name no product
TECH_TOKEN = re.compile(
    r"^(?:HBM\d*E?|GDDR\d+X?|LPDDR\d+X?|DDR\d|PCIe\d*|NVLink\d*|N\d+[PAE]?|FP\d+|INT\d+|BF\d+|\d+(?:GB|TB|nm|W|bit|MB|K|x))$",
    re.I,
)
NOT_ENTITY = re.compile(
    r"^(?:(?:19|20)\d\d|\d{1,2}|q[1-4]|h[12]|fy\d+|fp\d+|int\d+|bf\d+|tf\d+|\d+(?:st|nd|rd|th)|"
    r"\d+(?:gb|tb|mb|nm|w|kw|gbps|tbps|k|m|b|bn|s|ms|gib|ghz|mhz|tops|tflops|pflops|yuan|usd)|"
    r"\d{1,2}(?:\.\d)?x)$"  # "8x" is a multiplier, a digit run with a letter suffix a model
)
AMOUNT_AFTER = re.compile(
    r"\s*(?:billion|million|trillion|thousand|percent|%|亿|万|元|美元|个|张|颗|家|年|月|日|GB|TB|nm|W)",
    re.I,
)
_MODEL_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9$.,/])[A-Za-z]*\d+[A-Za-z]*(?:\+\d+)?(?![A-Za-z0-9]|[.,]\d)"
)


def words() -> dict[str, Any]:
    """The word lists of ``rag/data/sentences.yaml`` (read once by ``rag.datafiles``)."""
    return datafiles.load_yaml(DATA_FILE)


@lru_cache(maxsize=8)
def cue_pattern(name: str) -> re.Pattern[str]:
    """One pattern for a cue list of the data file, searched in raw text ignoring case
    (``rag.textnorm.CUE``: Latin cues on letter boundaries, ``reason*`` a prefix)."""
    parts = [term_pattern(str(cue), CUE, prefix=True) for cue in words()[name]]
    return re.compile("|".join(parts), re.I)


datafiles.on_reload(cue_pattern.cache_clear)


def defines(names: list[str], text: str) -> bool:
    """``text`` says what one of ``names`` is: a ``definition_after`` word right after the
    name ("X是一款", "X, its seventh-generation TPU") or a ``definition_before`` word right
    before it ("名为X", "called X")."""
    low = text.lower()
    after = [str(w).lower() for w in words().get("definition_after") or []]
    before = [str(w).lower() for w in words().get("definition_before") or []]
    for name in names:
        n = name.lower()
        i = low.find(n) if len(n) > 1 else -1
        while i >= 0:
            rest, head = low[i + len(n) :], low[:i].rstrip("“\"'")
            rest = rest.lstrip("”\"'")
            if any(rest.startswith(w) for w in after) or any(head.endswith(w) for w in before):
                return True
            i = low.find(n, i + 1)
    return False


def gives_reason(question: str, text: str) -> bool:
    """``text`` gives a reason (``causal``), or a purpose (``purpose``: 用于, to fund) where
    ``question`` asks one (``question.yaml`` ``purpose_words``)."""
    from rag.question import cue_in, cues

    if cue_pattern("causal").search(text):
        return True
    return bool(cue_in(question, cues().purpose_words)) and bool(
        cue_pattern("purpose").search(text)
    )


_HAN_SPACE = re.compile(rf"(?<=[{HAN}]) +| +(?=[{HAN}])")
_QUOTE_MARKS = re.compile(r"[“”‘’「」『』《》\"']")


@lru_cache(maxsize=8192)
def _unquoted(low_text: str) -> str:
    """The text without quotation marks: news quotes a name's part (“星河”X1, “猎户”900)."""
    return _QUOTE_MARKS.sub("", low_text)


@lru_cache(maxsize=16384)
def _alias_terms(alias: str) -> tuple[str, ...]:
    """The normalised alias, and it without spaces between Han and Latin parts ("星河 x1" is
    written "星河x1" too) where that differs."""
    term = normalize(alias)
    glued = _HAN_SPACE.sub("", term)
    return (term,) if glued == term else (term, glued)


def names_place(place: Any, text: str) -> bool:
    """``text`` names the place (a ``rag.question.QEntity``) by any of its names, in either
    script, Taiwan or Hong Kong wording read as mainland wording."""
    low = normalize(mainland(text))
    return any(alias_in(x, low) for x in [place.text, *place.aliases])


def alias_in(alias: str, low_text: str) -> bool:
    """``alias`` occurs in normalised text: Han as a substring, Latin on word edges; a name
    written with its first part in quotation marks (“星河”X1) counts."""
    terms = _alias_terms(alias)
    if any(has_term(low_text, t, plural=True) for t in terms):  # "9000" also matches "9000s"
        return True
    bare = _unquoted(low_text)
    return bare != low_text and any(has_term(bare, t, plural=True) for t in terms)


def other_model_tokens(text: str) -> list[tuple[str, int]]:
    """Tokens of ``text`` that look like model numbers, with their offsets.

    Not figures (``$6,500``, ``256 TFLOPS``, ``5nm``), versions (``v9``), years or
    precisions; a bare number counts only when glued to a name (a Han or Latin word).
    """
    out = []
    for m in _MODEL_IN_TEXT.finditer(text):
        t = m.group()
        if NOT_ENTITY.match(t.lower()) or TECH_TOKEN.match(t):
            continue
        if t.isdigit():
            before = text[m.start() - 1 : m.start()]
            if not before or not (HAN_CHAR.match(before) or before.isalpha()):
                continue
            if AMOUNT_AFTER.match(text, m.end()):
                continue
        elif len(t) < 3:
            continue  # "v9", "A7"
        out.append((t, m.start()))
    out += [(m.group(), m.start()) for m in ORDINAL.finditer(text)]  # "...二号", "第三代"
    return sorted(out, key=lambda x: x[1])


def undisclosed_about(text: str, attribute: str) -> bool:
    """The text says this attribute was withheld ("没有公布售价", "did not disclose the price");
    a clause withholding one figure says nothing about another before it."""
    rx_withheld = cue_pattern("undisclosed")
    if not rx_withheld.search(text):
        return False

    def mentions(t: str) -> bool:
        return (
            attribute in ATTRIBUTES and evidence_has_attribute(attribute, t)
        ) or attribute in t.lower()

    clauses = [text[cs:ce] for cs, ce in clause_spans(text, 0, len(text), LISTS_WHOLE)]
    if any(rx_withheld.search(c) and mentions(c) for c in clauses):
        return True
    # "has not published a spec sheet, so figures ... come from teardowns": withheld unless
    # another clause gives the figure
    rx = ATTR_FIGURE.get(attribute)
    given = rx is not None and any(rx.search(c) and not rx_withheld.search(c) for c in clauses)
    return not given and mentions(text)


def _group_attributes(group: str) -> list[Any]:
    """The fact vocabulary's attributes (``rag.facts.Attr``) of a glossary evidence group."""
    from rag.facts import attributes
    from rag.question import cues

    vocab = attributes()
    return [vocab[m] for m in cues().evidence_groups.get(group, ()) if m in vocab]


def group_has_value(group: str, text: str) -> bool:
    """``text`` holds a figure in a unit of the glossary evidence group's attributes, as the
    fact reader finds figures (``rag/data/units.yaml``: "1,000 watts", "1.2千瓦", "5000万元")."""
    from rag.facts import find_values

    dims = {d for x in _group_attributes(group) for d in x.dims}
    return bool(dims) and any(v.dim in dims for v in find_values(text))


def group_has_cue(group: str, text: str) -> bool:
    """``text`` has a cue the fact reader knows for one of the evidence group's attributes
    (``rag/data/attributes.yaml``: 功率, "draws", 用电 for a power figure)."""
    from rag.question import cue_in

    low = text.lower()
    return any(cue_in(low, x.cues) for x in _group_attributes(group))


def cue_near_figure(attribute: str, text: str) -> bool:
    """The attribute's word with its figure right after it (a price word, then the price)."""
    rx = ATTR_FIGURE.get(attribute)
    if rx is None:
        return False
    low = text.lower()
    near = 8 if is_chinese(text) else 25
    figures = [m.start() for m in rx.finditer(text)]
    for cue in ATTRIBUTES[attribute][1]:
        c = cue.lower()
        if len(c) < 2:
            continue
        for m in re.finditer(re.escape(c), low):
            if any(fs >= m.end() and fs - m.end() <= near for fs in figures):
                return True
    return False


def is_heading(text: str, s: int, e: int) -> bool:
    """A line of its own without a sentence end: a title or a subheading."""
    line_start = s == 0 or text[s - 1] == "\n"
    line_end = e >= len(text) or text[e : e + 1] in ("\n", "")
    body = text[s:e].rstrip()
    return line_start and line_end and body[-1:] not in '。.!?！？;；:：”")' and len(body) <= 100


def figure_for(
    attrs: list[str], text: str, fit: Any = None, clauses: list[tuple[int, int]] | None = None
) -> str | None:
    """The figure of ``text`` that answers the asked attributes: its own pattern first, then
    a date for "when", else the unit figure of the clause ``fit`` scores best."""
    for a in attrs:
        rx = ATTR_FIGURE.get(a)
        m = rx.search(text) if rx else None
        if m:
            return m.group().strip()
    if "date" in attrs:
        m = DATE.search(text)
        if m:
            return m.group().strip()
    figures = list(FIGURE.finditer(text))
    if not figures:
        return None
    if fit is not None and len(figures) > 1:
        spans = clauses or clause_spans(text, 0, len(text), LISTS_WHOLE)

        def clause_fit(m: re.Match[str]) -> float:
            cs, ce = next(((a, b) for a, b in spans if a <= m.start() < b), (0, len(text)))
            return float(fit(text[cs:ce]))

        return max(figures, key=clause_fit).group().strip()  # max keeps the first of equals
    return figures[0].group().strip()


def states(attribute: str, text: str) -> bool:
    """``text`` states ``attribute`` of the fact vocabulary: one of its cues and a value of
    its kind (a figure in one of its units, a date, a memory type, a funding round)."""
    from rag.facts import attributes, event_clauses, find_values, spec
    from rag.question import cue_in, cues

    attr = attributes().get(attribute)
    if attr is None:
        return False
    text = mainland(simplified(text))  # a traditional page's 億 is a 亿, its 頻寬 a 带宽
    low = text.lower()
    if not cue_in(low, attr.cues):
        return False
    if attr.kind == "date":
        # a cue in the clause of an event's date ("启动上市辅导" dates no listing; "the IPO
        # filing had shown ...: ... in 2024" dates no IPO)
        return any(cue_in(c.lower(), attr.cues) for c in event_clauses(text))
    if attr.kind == "text":
        rx = spec().memory_rx if attribute == "memory_type" else spec().round_rx
        return bool(rx.search(text))
    if any(v.dim in attr.dims for v in find_values(text)):
        return True
    # a value written as a name ("4NP") or relative to another ("half the compute", 翻一番)
    groups = cues().evidence_groups
    return any(
        attribute in members and g in ATTR_FIGURE and ATTR_FIGURE[g].search(text) is not None
        for g, members in groups.items()
    )


_YEAR_IN_TEXT = re.compile(r"(?<!\d)(20\d\d)(?!\d)|(?<!\d)(\d\d)\s*年")


def compared_years(text: str) -> set[int]:
    """The years ``text`` names only as what a figure is compared with: right after a
    ``not_the_subjects_before`` word ("比2024年翻一番", "up from 2024", "than in 2024")."""
    from rag.facts import spec

    low = text.lower()
    out = set()
    for m in _YEAR_IN_TEXT.finditer(low):
        head = low[max(0, m.start() - 16) : m.start()].rstrip()
        head = re.sub(r"(?:\b(?:in|the|of|fiscal|fy)\s*)+$", "", head).rstrip()
        if any(head.endswith(w) for w in spec().before_other):
            y = m.group(1) or m.group(2)
            out.add(int(y) if len(y) == 4 else 2000 + int(y))
    return out


def years_in(text: str) -> set[int]:
    """The years a text names (2025, 2025年, 25年)."""
    out = set()
    for m in _YEAR_IN_TEXT.finditer(text):
        y = m.group(1) or m.group(2)
        out.add(int(y) if len(y) == 4 else 2000 + int(y))
    return out
