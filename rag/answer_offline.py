"""The offline answerer: composes a short answer from the retrieved text itself.

It picks the sentences (or the clauses of a long sentence) that answer the question,
preferring figures with units for spec questions, dates for "when" and names for
"who/which", and puts ``[n]`` after each. English questions over Chinese evidence get
the extracted figure first, then the Chinese quote. It abstains, citing nothing, when
the evidence is weak, when an entity the question names is absent, or when the asked
attribute (price, power, process node ...) appears in none of the evidence.
No LLM is involved; nothing here is generated text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from rag.citations import make_citation, neutralize_markers, sentence_spans
from rag.glossary import (
    ATTRIBUTES,
    VENDORS,
    asked_attributes,
    evidence_has_attribute,
    matched_groups,
)
from rag.lexicon import stem, translations
from rag.textnorm import STOPWORDS, normalize, tokenize
from rag.types import Citation, Document, Passage

_HAN = re.compile(r"[\u4e00-\u9fff]")
_FIGURE = re.compile(
    r"(?:约|超过|达|近)?\$?\d+(?:[.,]\d+)*\s*(?:%|TB/s|GB/s|Gbps|Tbps|TB|GB|GiB|MB|nm|纳米|W|kW|瓦|TFLOPS|PFLOPS|"
    r"EFLOPS|TOPS|IPS|P|亿元|万元|亿美元|亿|万片|万张|万颗|万台|万|倍|billion|million|bn|层|-high|颗|张|片|家|个|年|月|日)?"
)
_UNIT_FIGURE = re.compile(
    r"\$?\d+(?:[.,]\d+)*\s*(?:%|TB/s|GB/s|Gbps|Tbps|TB|GB|GiB|nm|纳米|W|kW|瓦|TFLOPS|PFLOPS|EFLOPS|TOPS|IPS|"
    r"亿元|万元|亿美元|亿|万片|万张|万颗|万台|倍|billion|million|bn|-high|港元|元|颗|张|个|台|片|家|卡|层|"
    r"times|percent|chips|cards|GPUs|units|racks)"
)
_QUANTITY_Q = re.compile(
    r"多少|多大|几|多高|多快|how much|how many|how big|how large|how fast|what (?:is|was|are) the (?:size|amount|number|share)",
    re.I,
)
_WHY_Q = re.compile(
    r"为什么|为何|原因|逻辑|目的|意图|\bwhy\b|\breason|\blogic\b|\brationale\b|\bpurpose\b|\bmotive",
    re.I,
)
_CAUSAL = re.compile(
    r"因为|由于|为了|为避免|以便|有利于|意在|旨在|目的是|原因|从而|以此|受制于|考虑到|"
    r"\bbecause\b|\bdue to\b|in order to|so that|\baimed\b|to avoid|\bto reduce\b|\bto secure\b|\ballow",
    re.I,
)
_RECENCY_Q = re.compile(
    r"最新|最近|最终|目前|现在|实际|到底|latest|most recent|final|finally|actual|actually|currently|now\b|recent|so far|up to date",
    re.I,
)
_DATE = re.compile(
    r"(?:20\d\d\s*年(?:\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?)?|\d{1,2}\s*月\s*\d{1,2}\s*日|"
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2},?\s*20\d\d|"
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December)\s+20\d\d|"
    r"\b20\d\d\b|Q[1-4]\s*20\d\d)"
)
# a relative figure answers "how much compute / revenue" too: "half the raw compute of the
# B300", "AI accelerator revenue will double"
_RELATIVE = r"\bhalf\b|一半|翻一番|翻倍|\bdoubl(?:e|ed|es|ing)\b|\d+(?:\.\d+)?\s*(?:倍|times)\b"
_ATTR_FIGURE = {
    "memory": re.compile(
        r"\d+(?:\.\d+)?\s*(?:GB|GiB|TB)(?!/s| of data)|\b(?:HBM\d?E?|GDDR\d|LPDDR\d)\b", re.I
    ),
    "bandwidth": re.compile(
        r"\d+(?:\.\d+)?\s*(?:TB/s|GB/s|Tbps|Gbps)|\d+(?:\.\d+)?\s*(?:TB|GB)\s+(?:of data\s+)?per second|"
        r"每秒\s*\d+(?:\.\d+)?\s*(?:TB|GB)"
    ),
    "process": re.compile(r"(?:\d+(?:\.\d+)?\s*(?:nm|纳米)|\bN\d\w*|N\+\d|\b\dN[PA]?\b)"),
    "power": re.compile(r"\d+(?:\.\d+)?\s*(?:W|kW|瓦)\b"),
    "price": re.compile(
        r"(?:(?:HK)?\$\s?\d[\d,.]*\s*(?:billion|million|bn)?|\d[\d,.]*\s*(?:美元|港元|元|万元|亿元))"
    ),
    "compute": re.compile(r"\d+(?:\.\d+)?\s*(?:TFLOPS|PFLOPS|EFLOPS|TOPS|IPS|P)\b|" + _RELATIVE),
    "shipments": re.compile(r"\d+(?:\.\d+)?\s*(?:万片|万张|万颗|万台|million|units)"),
    "funding": re.compile(r"\d+(?:\.\d+)?\s*(?:亿元|亿美元|亿|billion|million)"),
    "revenue": re.compile(r"\d+(?:\.\d+)?\s*(?:亿元|亿美元|亿|billion|million)|" + _RELATIVE),
    "profit": re.compile(r"\d+(?:\.\d+)?\s*(?:亿元|亿美元|亿|billion|million)|" + _RELATIVE),
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
_GENERIC = {
    "芯片",
    "chip",
    "chips",
    "ai",
    "公司",
    "company",
    "产品",
    "product",
    "发布",
    "新",
    "new",
    "多少",
    "最新",
    "latest",
    "current",
    "目前",
    "现在",
    "report",
    "报道",
    "据",
    "according",
}
# words that name no entity, so their absence from the evidence does not matter
_QUESTION_WORDS = {
    "what",
    "which",
    "who",
    "when",
    "how",
    "does",
    "did",
    "is",
    "are",
    "the",
    "and",
    "its",
    "what's",
    "tell",
    "give",
    "compare",
    "list",
    "name",
    "why",
    "where",
    "was",
    "were",
    "has",
    "have",
    "do",
    "can",
    "will",
    "in",
    "on",
    "of",
    "for",
    "according",
    "between",
    "vs",
    "versus",
    "a",
    "an",
    "to",
    "by",
    "with",
    "per",
    "than",
    "more",
    "less",
    "it",
    "q1",
    "q2",
    "q3",
    "q4",
    "ai",
    "gpu",
    "cpu",
    "hbm",
    "ipo",
    "ceo",
    "cfo",
    "star",
    "ppu",
    "npu",
    "chinese",
    "china",
    "us",
    "u.s.",
    "english",
    "one",
    "two",
}


@dataclass
class Candidate:
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


@dataclass
class OfflineAnswer:
    text: str
    citations: list[Citation]
    abstained: bool
    notes: list[str]


def is_chinese(text: str) -> bool:
    return bool(_HAN.search(text))


RANK_PRIOR = 2.5
EXTRA_RATIO = 0.5
MIN_GAIN = 0.6  # least weight of new question concepts an extra quote must bring
MULTI_PART_RATIO = 0.35  # ... or down to this, when it answers an open part of the question
MULTI_PART_GAIN = 1.0  # (question concepts of at least this weight not yet covered)
ATTR_GAIN = 1.5  # the coverage credit of an asked attribute (a date, a price) not yet given
COVER_BONUS = 0.5  # extra credit per point of question concepts the chosen quotes miss
_MONTH_NAMES = [
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


def _weights(question: str) -> dict[str, float]:
    """Query term weights: rarer-looking tokens (figures, model numbers, long words) weigh more."""
    return _weighted_concepts(question)[0]


def _weighted_concepts(question: str) -> tuple[dict[str, float], dict[str, str]]:
    """Query term weights, and for each term the question word it stands for.

    A question word and its translations or aliases form one concept: a sentence that
    says 约谈 covers "summoned" as well as one that says "summoned" does.
    """
    w: dict[str, float] = {}
    concept: dict[str, str] = {}

    def put(key: str, weight: float, of: str, *, keep: bool = False) -> None:
        if keep and key in w:
            return
        if weight > w.get(key, 0.0) or key not in w:
            w[key] = weight
            concept.setdefault(key, of)

    for tok in tokenize(question):
        t = _key(tok)
        if tok in _GENERIC:
            base = 0.3
        elif re.search(r"\d", t):
            base = 2.0
        elif _HAN.search(t):
            base = 1.0 + 0.3 * min(len(t), 4)
        else:
            base = 1.0 + 0.15 * min(len(t), 6)
        put(t, base, t)
    # jieba's search mode gives a word and its parts (英特尔: 英特, 特尔): one concept
    han = [t for t in w if _HAN.search(t)]
    for t in han:
        whole = max((u for u in han if t in u and len(u) > len(t)), key=len, default=None)
        if whole is not None:
            concept[t] = concept[whole]
    for m in re.finditer(r"(\d{1,2})\s*月", question):
        month = _MONTH_NAMES[int(m.group(1)) - 1] if 1 <= int(m.group(1)) <= 12 else None
        if month:
            put(month, 0.8, month, keep=True)
    for i, name in enumerate(_MONTH_NAMES):
        if re.search(rf"\b{name}", question, re.I):
            put(f"{i + 1}月", 0.8, name, keep=True)
    asked = dict(w)
    for gi, (members, group) in enumerate(matched_groups(normalize(question))):
        # an alias stands for the question word of its group ("英伟达" for "nvidia")
        keys = (_key(t) for a in members for t in tokenize(a))
        of = next((concept[k] for k in keys if k in asked), f"group{gi}")
        for tok in (t for alias in group for t in tokenize(alias)):
            put(_key(tok), 0.6 if tok not in _GENERIC else 0.2, of, keep=True)
    # the same words in the other language ("summoned" -> 约谈, 规模 -> size), a little
    # lighter than the word itself
    for t, base in list(w.items()):
        if base < 0.6:
            continue
        for tr in translations(t):
            for tt in tokenize(tr):
                k = _key(tt)
                tw = 0.2 if tt in _GENERIC else round(0.7 * base, 3)
                if tw > w.get(k, 0.0):
                    w[k] = tw
                    concept[k] = concept.get(t, t)
    return w, concept


def _concepts_in(
    text: str, weights: dict[str, float], concept_of: dict[str, str]
) -> dict[str, float]:
    """The question's concepts ``text`` mentions, each with its best weight there."""
    toks = _token_set(text)
    out: dict[str, float] = {}
    for t, wt in weights.items():
        if t in toks:
            c = concept_of.get(t, t)
            if wt > out.get(c, 0.0):
                out[c] = wt
    return out


def _key(token: str) -> str:
    """The form a token is compared in: English words by stem, anything else as is."""
    return stem(token) if token.isascii() else token


@lru_cache(maxsize=8192)
def _token_set(text: str) -> frozenset[str]:
    """Comparison keys of a text's tokens; cached, since the sentence choice asks again for
    every candidate on every round."""
    return frozenset(_key(t) for t in tokenize(text))


def _score(text: str, weights: dict[str, float]) -> float:
    toks = _token_set(text)
    return sum(wt for t, wt in weights.items() if t in toks)


_MODEL_TOKEN = re.compile(r"[A-Za-z]*\d+[A-Za-z]*(?:\+\d+)?")
_NOT_ENTITY = re.compile(
    r"^(?:(?:19|20)\d\d|\d{1,2}|q[1-4]|h[12]|fy\d+|fp\d+|int\d+|bf\d+|tf\d+|\d+(?:st|nd|rd|th)|"
    r"\d+(?:gb|tb|mb|nm|w|kw|gbps|tbps|k|m|b|bn|s|ms|gib|ghz|mhz|tops|tflops|pflops|yuan|usd)|"
    r"\d{1,2}(?:\.\d)?x)$"  # "8x" is a multiplier, "910X" a model
)
_AMOUNT_AFTER = re.compile(
    r"\s*(?:billion|million|trillion|thousand|percent|%|亿|万|元|美元|个|张|颗|家|年|月|日|GB|TB|nm|W)",
    re.I,
)
_CAPWORD = re.compile(r"(?<![A-Za-z\-])[A-Z][A-Za-z]{2,}(?![A-Za-z])")
_COMMON_CAPS = set(_MONTH_NAMES) | {
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "besides",
    "according",
    "after",
    "before",
    "since",
    "between",
    "compared",
    "overall",
}


def question_entities(question: str) -> list[list[str]]:
    """Entities the question names, each as a list of acceptable aliases.

    Vendors and products come from the glossary (with their aliases in every language);
    model numbers (``810E``, ``MI400``, ``H20``) are taken as written.
    """
    out: list[list[str]] = []
    low = normalize(question)
    for aliases in VENDORS.values():
        if any(_alias_in(a, low) for a in aliases):
            out.append(aliases)
    for m in _MODEL_TOKEN.finditer(question):
        tok = m.group()
        if tok.isdigit() and _AMOUNT_AFTER.match(question, m.end()):
            continue  # "100 billion", "30 万": an amount, not a model number
        if re.fullmatch(r"[A-Za-z]*\d+s", tok) and re.search(r"\d", tok[:-1]):
            tok = tok[:-1]  # "H20s"
        if _NOT_ENTITY.match(tok.lower()):
            continue
        if any(tok.lower() == a.lower() for a in VENDORS.get("_", [])):
            continue
        out.append([tok])
    for m in _ORDINAL.finditer(question):
        out.append([m.group()])
    return out


def _alias_in(alias: str, low_text: str) -> bool:
    a = normalize(alias)
    if _HAN.search(a):
        return a in low_text
    plural = "s?" if a[-1:].isdigit() else ""  # "9000" also matches "9000s"
    return re.search(rf"(?<![a-z0-9]){re.escape(a)}{plural}(?![a-z0-9])", low_text) is not None


def missing_entities(question: str, evidence: str) -> list[str]:
    """Entities of the question that appear nowhere in the evidence text."""
    low = normalize(evidence)
    missing = []
    for aliases in question_entities(question):
        if not any(_alias_in(a, low) for a in aliases):
            missing.append(aliases[0])
    return missing


def unknown_names(question: str, known_words: set[str]) -> list[str]:
    """Capitalised names in the question that the corpus never mentions (e.g. "Cerebras")."""
    from rag.glossary import TERMS

    glossary = {
        w.lower() for aliases in VENDORS.values() for a in aliases for w in re.split(r"[\s\-]+", a)
    }
    glossary |= {w.lower() for group in TERMS for t in group for w in re.split(r"[\s\-]+", t)}
    out = []
    first = re.match(r"\s*([A-Za-z]+)", question)
    for m in _CAPWORD.finditer(question):
        w = m.group()
        lw = w.lower()
        if first is not None and m.start() == first.start(1):
            continue  # a capital at the start of the question is grammar, not a name
        if (
            lw in _QUESTION_WORDS
            or lw in STOPWORDS
            or lw in glossary
            or lw in known_words
            or lw in _COMMON_CAPS
        ):
            continue
        if lw.rstrip("s") in known_words or lw.rstrip("'s") in known_words:
            continue
        out.append(w)
    return out


def _figure_for(attrs: list[str], text: str, weights: dict[str, float] | None = None) -> str | None:
    for a in attrs:
        rx = _ATTR_FIGURE.get(a)
        if rx:
            m = rx.search(text)
            if m:
                return m.group().strip()
    if "date" in attrs:
        m = _DATE.search(text)
        if m:
            return m.group().strip()
    figures = list(_UNIT_FIGURE.finditer(text))
    if not figures:
        return None
    if weights and len(figures) > 1:
        # the figure of the clause that matches the question best ("how fast is the
        # interconnect": 700GB/s of "片间互联带宽达到700GB/s", not the 96GB before it)
        clauses = clause_spans(text, 0, len(text))

        def fit(m: re.Match[str]) -> float:
            cs, ce = next(((a, b) for a, b in clauses if a <= m.start() < b), (0, len(text)))
            return _score(text[cs:ce], weights)

        return max(figures, key=fit).group().strip()  # max keeps the first of equals
    return figures[0].group().strip()


_CLAUSE_BREAK = re.compile(r"[，,：:；;]")


def clause_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Clauses of one sentence (commas, colons); enumerations joined by 、 stay whole."""
    spans = []
    pos = start
    for m in _CLAUSE_BREAK.finditer(text, start, end):
        if (
            m.group() == ","
            and m.start() > 0
            and text[m.start() - 1].isdigit()
            and text[m.end() : m.end() + 1].isdigit()
        ):
            continue  # 1,000
        spans.append((pos, m.end()))
        pos = m.end()
    if pos < end:
        spans.append((pos, end))
    return [(a, b) for a, b in spans if b > a]


def _trim(
    doc_text: str,
    s: int,
    e: int,
    weights: dict[str, float],
    attrs: list[str],
    max_len: int,
    quantity: bool = False,
    concept_of: dict[str, str] | None = None,
) -> tuple[int, int]:
    """The best window of clauses of a long sentence, so the quote stays short.

    ``weights`` should leave out the entity the question is about: every clause of a spec
    sentence is about the chip; the clause to keep is the one carrying the asked attribute.
    """
    if e - s <= max_len:
        return s, e
    clauses = clause_spans(doc_text, s, e)
    if len(clauses) <= 1:
        return s, e
    scores = []
    for cs, ce in clauses:
        c = doc_text[cs:ce]
        sc = (
            sum(_concepts_in(c, weights, concept_of).values())
            if concept_of is not None
            else _score(c, weights)
        )
        if attrs and any(evidence_has_attribute(a, c) for a in attrs if a in ATTRIBUTES):
            sc += 2.5
        if _UNIT_FIGURE.search(c):
            sc += 1.0 if quantity else 0.3
        scores.append(sc)
    best = max(range(len(clauses)), key=lambda i: scores[i])
    lo = hi = best
    # grow towards neighbours that also carry query terms, while short enough
    while True:
        grown = False
        for cand in (lo - 1, hi + 1):
            if 0 <= cand < len(clauses) and scores[cand] > 0.5:
                ns = clauses[min(lo, cand)][0]
                ne = clauses[max(hi, cand)][1]
                if ne - ns <= max_len:
                    lo, hi = min(lo, cand), max(hi, cand)
                    grown = True
        if not grown:
            break
    qs, qe = clauses[lo][0], clauses[hi][1]
    while qe > qs and doc_text[qe - 1] in "，,、：: ":
        qe -= 1
    return qs, qe


_UNDISCLOSED = re.compile(
    r"没有公开|没有披露|未公开|未披露|没有公布|未公布|尚未公布|并未公开|没有透露|未透露|没有给出|未给出|不详|"
    r"not disclose|did not disclose|has not disclosed|have not disclosed|not published|has not published|"
    r"did not publish|no estimate|not revealed|did not reveal|has not revealed|undisclosed|did not give|"
    r"has not given|not specified|did not specify",
    re.I,
)
_ATTR_LABELS = {
    "price": ("售价/价格", "the price"),
    "power": ("功耗", "the power draw"),
    "process": ("制程工艺", "the process node"),
    "bandwidth": ("带宽", "the bandwidth"),
    "memory": ("显存/内存容量", "the memory capacity"),
    "compute": ("算力", "the compute performance"),
    "shipments": ("出货量", "shipments"),
    "funding": ("融资金额", "the funding amount"),
    "revenue": ("营收", "the revenue"),
    "profit": ("利润", "the profit"),
    "valuation": ("估值", "the valuation"),
    "transistors": ("晶体管数量", "the transistor count"),
    "yield": ("良率", "the yield"),
}
_TECH_TOKEN = re.compile(
    r"^(?:HBM\d*E?|GDDR\d+X?|LPDDR\d+X?|DDR\d|PCIe\d*|NVLink\d*|N\d+[PAE]?|FP\d+|INT\d+|BF\d+|\d+(?:GB|TB|nm|W|bit|MB|K|x))$",
    re.I,
)
_UNIT_ATTR = {
    "tflops": "compute",
    "pflops": "compute",
    "eflops": "compute",
    "tops": "compute",
    "ips": "compute",
    "tb/s": "bandwidth",
    "gb/s": "bandwidth",
    "gbps": "bandwidth",
    "gb": "memory",
    "tb": "memory",
    "nm": "process",
    "纳米": "process",
    "瓦": "power",
    "w": "power",
}
_UNIT_ASKED = re.compile(
    r"TFLOPS|PFLOPS|EFLOPS|TOPS|IPS|TB/s|GB/s|Gbps|GB|TB|nm|纳米|瓦|\bW\b", re.I
)
_PRECISION = re.compile(r"\b(?:FP\d+|INT\d+|BF\d+|TF\d+)\b", re.I)
# "第二代", "深算三号", "青鸟9号": a numbered product or generation is an entity of its own
_ORDINAL = re.compile(
    r"第[一二三四五六七八九十\d]+[座代款个期号]|[\u4e00-\u9fff]{0,2}[一二三四五六七八九十\d]+号"
)


_MODEL_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9$.,/])[A-Za-z]*\d+[A-Za-z]*(?:\+\d+)?(?![A-Za-z0-9]|[.,]\d)"
)


def other_model_tokens(text: str) -> list[tuple[str, int]]:
    """Tokens of ``text`` that look like model numbers (``B300``, ``910C``, ``昇腾910``).

    Not figures (``$6,500``, ``256 TFLOPS``, ``5nm``), versions (``v9``), years or
    precisions; a bare number counts only when glued to a name (``昇腾910``).
    """
    out = []
    for m in _MODEL_IN_TEXT.finditer(text):
        t = m.group()
        if _NOT_ENTITY.match(t.lower()) or _TECH_TOKEN.match(t):
            continue
        if t.isdigit():
            before = text[m.start() - 1 : m.start()]
            if not before or not (_HAN.match(before) or before.isalpha()):
                continue
            if _AMOUNT_AFTER.match(text, m.end()):
                continue
        elif len(t) < 3:
            continue  # "v9", "A7"
        out.append((t, m.start()))
    return out


def specific_entities(question: str) -> list[list[str]]:
    """The most specific things the question is about: model numbers, else products, else vendors."""
    from rag.glossary import PRODUCTS

    low = normalize(question)
    models = [e for e in question_entities(question) if len(e) == 1]
    products = [aliases for aliases in PRODUCTS.values() if any(_alias_in(a, low) for a in aliases)]
    if models or products:
        return models + products
    return [aliases for aliases in VENDORS.values() if any(_alias_in(a, low) for a in aliases)]


def _undisclosed_about(text: str, attribute: str) -> bool:
    """The text says this attribute was not disclosed: "没有公布售价", "did not disclose the
    price" (a clause that withholds shipments says nothing about the price before it)."""
    if not _UNDISCLOSED.search(text):
        return False

    def mentions(t: str) -> bool:
        return (
            attribute in ATTRIBUTES and evidence_has_attribute(attribute, t)
        ) or attribute in t.lower()

    clauses = [text[cs:ce] for cs, ce in clause_spans(text, 0, len(text))]
    if any(_UNDISCLOSED.search(c) and mentions(c) for c in clauses):
        return True
    # "has not published a spec sheet, so figures for memory capacity ... come from
    # teardowns": withheld unless another clause gives the figure
    rx = _ATTR_FIGURE.get(attribute)
    given = rx is not None and any(rx.search(c) and not _UNDISCLOSED.search(c) for c in clauses)
    return not given and mentions(text)


def _cue_near_figure(attribute: str, text: str) -> bool:
    """The attribute's word with its figure right after it ("发行价格为114.28元")."""
    rx = _ATTR_FIGURE.get(attribute)
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
            for fs in figures:
                if fs >= m.end() and fs - m.end() <= near:
                    return True
    return False


def _is_heading(text: str, s: int, e: int) -> bool:
    """A line of its own without a sentence end: a title or a subheading."""
    line_start = s == 0 or text[s - 1] == "\n"
    line_end = e >= len(text) or text[e : e + 1] in ("\n", "")
    body = text[s:e].rstrip()
    return line_start and line_end and body[-1:] not in '。.!?！？;；:：”")' and len(body) <= 100


def abstain_text(question: str, reason: str, lang: str | None = None) -> str:
    if (lang == "zh") if lang else is_chinese(question):
        return f"根据现有资料无法回答这个问题:{reason}"
    return f"The corpus does not answer this: {reason}"


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
    """
    zh_q = lang == "zh" if lang else is_chinese(question)
    _lang = "zh" if zh_q else "en"
    if not passages:
        return OfflineAnswer(
            abstain_text(
                question,
                "没有检索到相关资料。" if zh_q else "no source matches the question.",
                _lang,
            ),
            [],
            True,
            ["no passages retrieved"],
        )
    weights, concept_of = _weighted_concepts(question)
    attrs = asked_attributes(question)
    evidence_all = "\n".join(p.text for p in passages)
    missing = missing_entities(question, evidence_all)
    if known_words:
        missing += [w for w in unknown_names(question, known_words) if w not in missing]
    if missing:
        what = "、".join(missing) if zh_q else ", ".join(missing)
        reason = f"资料中没有提到{what}。" if zh_q else f"no source mentions {what}."
        return OfflineAnswer(
            abstain_text(question, reason, _lang), [], True, [f"entity not in evidence: {missing}"]
        )

    quantity = bool(_QUANTITY_Q.search(question))
    why = bool(_WHY_Q.search(question))
    recency = bool(_RECENCY_Q.search(question))
    # "latest" questions: the newer a document among those retrieved, the larger its bonus
    dates = sorted(
        {docs[p.doc_id].date or "" for p in passages if p.doc_id in docs and docs[p.doc_id].date}
    )
    newest = {d: (i + 1) / len(dates) for i, d in enumerate(dates)}
    cands: list[Candidate] = []
    seen: set[tuple[str, int]] = set()
    contexts: dict[tuple[str, int], str] = {}
    for rank, p in enumerate(passages):
        doc = docs.get(p.doc_id)
        if doc is None:
            continue
        # whole sentences of the document that overlap this passage
        lo = doc.text.rfind("\n", 0, p.start) + 1
        hi = doc.text.find("\n", p.end)
        hi = len(doc.text) if hi < 0 else hi
        for s, e in sentence_spans(doc.text, lo, hi):
            if e <= p.start or s >= p.end or (p.doc_id, s) in seen:
                continue
            seen.add((p.doc_id, s))
            text = doc.text[s:e]
            lex = _score(text, weights)
            sc = 0.0
            reasons = []
            for a in attrs:
                if (
                    evidence_has_attribute(a, text)
                    and (a not in _ATTR_FIGURE or _ATTR_FIGURE[a].search(text))
                    and (a != "date" or _DATE.search(text))  # "H20" holds "20", not a date
                ):
                    sc += 2.0
                    reasons.append(a)
                    if _cue_near_figure(a, text):
                        sc += 1.0  # "发行价格为114.28元", not "股价报829.90元,较发行价上涨"
            if _UNIT_FIGURE.search(text):
                sc += 1.0 if quantity else 0.3
            if why and _CAUSAL.search(text):
                sc += 1.5
            if "date" in attrs and _DATE.search(text):
                sc += 1.0
            if recency and doc.date:
                sc += 1.2 * newest.get(doc.date, 0.0)
            if _UNDISCLOSED.search(text):
                sc -= 1.0
            if _is_heading(doc.text, s, e):
                sc -= 1.5  # a headline names the topic; the sentences under it answer
            sc += RANK_PRIOR / (rank + 1)
            damp = 1.0 + 0.15 * math.log1p(max(0, len(text) - 60) / 60)
            cands.append(
                Candidate(rank, p.doc_id, s, e, text, sc / damp, reasons, lex / damp, damp)
            )
            pa = doc.text.rfind("\n", 0, s) + 1
            pb = doc.text.find("\n", e)
            contexts[(p.doc_id, s)] = normalize(
                doc.title + "\n" + doc.text[pa : len(doc.text) if pb < 0 else pb]
            )
    if not cands:
        return OfflineAnswer(
            abstain_text(
                question,
                "没有检索到相关资料。" if zh_q else "no source matches the question.",
                _lang,
            ),
            [],
            True,
            ["no sentences"],
        )
    # Lexical overlap is far lower across languages (an English question shares few tokens
    # with Chinese text), so each language's best sentence gets the same lexical credit and
    # retrieval rank and attribute evidence decide between them.
    top_lex = max(c.lex for c in cands)
    for lang_is_zh in (True, False):
        same = [c for c in cands if is_chinese(c.text) == lang_is_zh]
        best_lex = max((c.lex for c in same), default=0.0)
        for c in same:
            c.lex_scale = top_lex / best_lex if best_lex > 0 else 0.0
            c.score += c.lex * c.lex_scale
    cands.sort(key=lambda c: -c.score)
    if debug is not None:
        debug.extend(cands)
    dense_best = max((p.scores.get("dense", 0.0) for p in passages), default=0.0)
    lexical = _score(cands[0].text, {t: w for t, w in weights.items() if w >= 0.6})
    if lexical < min_score and dense_best < min_dense:
        reason = (
            "资料中没有足够相关的内容。"
            if zh_q
            else "nothing in the sources is close enough to the question."
        )
        return OfflineAnswer(
            abstain_text(question, reason, _lang),
            [],
            True,
            [f"weak evidence: lexical={lexical:.2f} dense={dense_best:.3f}"],
        )

    entities = specific_entities(question)
    qlow = normalize(question)
    named_vendors = [al for al in VENDORS.values() if any(_alias_in(a, qlow) for a in al)]

    def about(c: Candidate, ents: list[list[str]]) -> bool:
        ctx = contexts[(c.doc_id, c.start)]
        return any(any(_alias_in(a, ctx) for a in ent) for ent in ents)

    def names(c: Candidate, ent: list[str]) -> bool:
        low = normalize(c.text)
        return any(_alias_in(a, low) for a in ent)

    own_models = [e for e in entities if len(e) == 1 and not _TECH_TOKEN.match(e[0])]

    def about_all_kinds(c: Candidate) -> bool:
        # a sentence naming a product model the question names is about it ("Trainium2和
        # TPU v5p": the Trainium2 sentence need not be about Google)
        if any(names(c, m) for m in own_models):
            return True
        # "三星HBM4": a sentence about Micron's HBM4 is not about Samsung's
        if entities and not about(c, entities):
            return False
        return not named_vendors or about(c, named_vendors)

    eligible = [c for c in cands if about_all_kinds(c)]
    if not eligible:
        what = "、".join(e[0] for e in entities) if zh_q else ", ".join(e[0] for e in entities)
        reason = f"资料中没有关于{what}的相关内容。" if zh_q else f"no passage is about {what}."
        return OfflineAnswer(
            abstain_text(question, reason, _lang), [], True, [f"no sentence about {what}"]
        )

    needed = [a for a in attrs if a not in ("date", "customers")]
    if (
        "bandwidth" in needed
        and "memory" in needed
        and not re.search(r"容量|多大|capacity|how much (?:memory|hbm)", question, re.I)
    ):
        needed.remove("memory")  # "显存带宽" asks for bandwidth, not capacity
    asked_units = {u.lower() for u in _UNIT_ASKED.findall(question)}
    asked_precision = {p.lower() for p in _PRECISION.findall(question)}
    models = [e for e in entities if len(e) == 1 and re.search(r"\d", e[0])]

    def states_attribute(c: Candidate, a: str) -> bool:
        if a not in c.reasons or _undisclosed_about(c.text, a):
            return False
        low = c.text.lower()
        units = {u for u in asked_units if _UNIT_ATTR.get(u) == a}
        if units and not any(u in low for u in units):
            return False  # "多少GB" is not answered by "GDDR7", nor "TFLOPS" by "IPS"
        if a == "compute" and asked_precision and not any(p in low for p in asked_precision):
            return False
        if models:
            named = [m for m in models if _alias_in(m[0], normalize(c.text))]
            others = [
                pos
                for t, pos in other_model_tokens(c.text)
                if not any(t.lower() == m[0].lower() for m in models)
            ]
            fig = _ATTR_FIGURE[a].search(c.text) if a in _ATTR_FIGURE else None
            if not named and others and (fig is None or min(others) < fig.start()):
                # the figure belongs to another model named before it in the sentence
                # ("和H100的80GB比"); one named after it is a comparison ("priced at
                # $6,500, well below the $10,000 of the H20")
                return False
        return True

    undisclosed_top = [
        c for c in eligible[:3] if any(_undisclosed_about(c.text, a) for a in needed)
    ]
    if needed and undisclosed_top:
        reason = "资料明确表示该信息未公开。" if zh_q else "the sources say this was not disclosed."
        return OfflineAnswer(
            abstain_text(question, reason, _lang), [], True, ["evidence says undisclosed"]
        )
    chosen: list[Candidate] = []
    for a in needed:
        with_attr = [c for c in eligible if states_attribute(c, a)]
        if not with_attr:
            label = _ATTR_LABELS.get(a, (a, a))
            reason = (
                f"资料中没有给出{label[0]}。" if zh_q else f"the sources do not give {label[1]}."
            )
            return OfflineAnswer(
                abstain_text(question, reason, _lang), [], True, [f"attribute absent: {a}"]
            )
        # one quote per entity the question compares, each carrying the attribute; a
        # sentence naming the entity before one whose paragraph does
        for ent in entities or [[]]:
            pick = next((c for c in with_attr if not ent or names(c, ent)), None) or next(
                (c for c in with_attr if not ent or about(c, [ent])), None
            )
            if pick is not None and pick not in chosen:
                chosen.append(pick)
    if not chosen:
        if any(_undisclosed_about(eligible[0].text, a) for a in needed):
            reason = (
                "资料明确表示该信息未公开。" if zh_q else "the sources say this was not disclosed."
            )
            return OfflineAnswer(
                abstain_text(question, reason, _lang), [], True, ["evidence says undisclosed"]
            )
        chosen.append(eligible[0])
    # cover every entity a comparison names, then add near-best quotes that say something new
    for ent in entities:
        if not any(about(c, [ent]) for c in chosen):
            extra = next((c for c in eligible if about(c, [ent]) and c not in chosen), None)
            if extra is not None and len(chosen) < max_sentences:
                chosen.append(extra)
    # "三星和SK海力士...分别": each vendor a comparison names gets a sentence naming it,
    # one with a date when the question asks when
    if len(named_vendors) >= 2:
        for ent in named_vendors:
            if len(chosen) >= max_sentences or any(names(c, ent) for c in chosen):
                continue
            naming = [c for c in eligible if names(c, ent) and c not in chosen]
            if "date" in attrs:
                naming.sort(key=lambda c: not _DATE.search(c.text))
            if naming:
                chosen.append(naming[0])
    # then, greedily, the sentence that best answers what the chosen ones leave open: its
    # lexical credit counts only the question's concepts not yet covered
    top = chosen[0].score

    def stated(c: Candidate) -> set[str]:
        # an asked attribute is a concept too: the "when" of "who and when" is a date
        return {f"attr:{a}" for a in c.reasons}

    covered = set().union(*(_concepts_in(x.text, weights, concept_of) for x in chosen))
    covered |= set().union(*(stated(x) for x in chosen))
    while len(chosen) < max_sentences:
        best_c, best_val = None, 0.0
        for c in eligible:
            if c in chosen or any(c.text in x.text or x.text in c.text for x in chosen):
                continue
            if c.score < MULTI_PART_RATIO * top:
                continue
            found = _concepts_in(c.text, weights, concept_of)
            gain = sum(w for k, w in found.items() if k not in covered)
            gain += ATTR_GAIN * len(stated(c) - covered)
            if c.score < EXTRA_RATIO * top and gain < MULTI_PART_GAIN:
                continue  # weaker sentences only for a part of the question left open
            if gain < MIN_GAIN and not _UNIT_FIGURE.search(c.text):
                continue
            val = c.score + COVER_BONUS * gain / c.damp * c.lex_scale
            if best_c is None or val > best_val:
                best_c, best_val = c, val
        if best_c is None:
            break
        chosen.append(best_c)
        covered |= set(_concepts_in(best_c.text, weights, concept_of)) | stated(best_c)
    chosen.sort(key=lambda c: (c.passage_rank, c.start))

    citations: list[Citation] = []
    pieces: list[str] = []
    entity_tokens = {_key(t) for ent in entities for a in ent for t in tokenize(a)}
    clause_weights = {t: w for t, w in weights.items() if t not in entity_tokens}
    for c in chosen:
        doc = docs[c.doc_id]
        s, e = _trim(
            doc.text,
            c.start,
            c.end,
            clause_weights,
            attrs,
            110 if is_chinese(c.text) else 260,
            quantity,
            concept_of,
        )
        cit = make_citation(len(citations) + 1, doc, s, e, doc.text)
        citations.append(cit)
        # a "[7]" inside the article must not pose as one of our citations
        quote = neutralize_markers(cit.quote)
        if not zh_q and is_chinese(quote):
            fig = _figure_for(attrs, quote, clause_weights)
            lead = f"{fig} — " if fig else ""
            pieces.append(f"{lead}“{quote}” [{cit.n}]")
        elif zh_q:
            pieces.append(f"{quote}[{cit.n}]")
        else:
            pieces.append(f"{quote} [{cit.n}]")
    # Chinese pieces run together; a Latin-script quote keeps a space on each side
    text = ""
    for i, piece in enumerate(pieces):
        if i and not (zh_q and is_chinese(pieces[i - 1][:1]) and is_chinese(piece[:1])):
            text += " "
        text += piece
    if not zh_q and all(is_chinese(c.quote) for c in citations):
        text = "From the Chinese source: " + text
    return OfflineAnswer(text, citations, False, [])


__all__ = ["STOPWORDS", "OfflineAnswer", "answer_offline", "is_chinese", "missing_entities"]
