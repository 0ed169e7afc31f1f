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

from rag.citations import make_citation, neutralize_markers, sentence_spans
from rag.glossary import ATTRIBUTES, VENDORS, asked_attributes, evidence_has_attribute, expand_query
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
_ATTR_FIGURE = {
    "memory": re.compile(
        r"\d+(?:\.\d+)?\s*(?:GB|GiB|TB)(?!/s| of data)|\b(?:HBM\d?E?|GDDR\d|LPDDR\d)\b", re.I
    ),
    "bandwidth": re.compile(
        r"\d+(?:\.\d+)?\s*(?:TB/s|GB/s|Tbps|Gbps)|\d+(?:\.\d+)?\s*(?:TB|GB)\s+(?:of data\s+)?per second"
    ),
    "process": re.compile(r"(?:\d+(?:\.\d+)?\s*(?:nm|纳米)|\bN\d\w*|N\+\d|\b\dN[PA]?\b)"),
    "power": re.compile(r"\d+(?:\.\d+)?\s*(?:W|kW|瓦)\b"),
    "price": re.compile(
        r"(?:(?:HK)?\$\s?\d[\d,.]*\s*(?:billion|million|bn)?|\d[\d,.]*\s*(?:美元|港元|元|万元|亿元))"
    ),
    "compute": re.compile(r"\d+(?:\.\d+)?\s*(?:TFLOPS|PFLOPS|EFLOPS|TOPS|IPS|P)\b"),
    "shipments": re.compile(r"\d+(?:\.\d+)?\s*(?:万片|万张|万颗|万台|million|units)"),
    "funding": re.compile(r"\d+(?:\.\d+)?\s*(?:亿元|亿美元|亿|billion|million)"),
    "revenue": re.compile(r"\d+(?:\.\d+)?\s*(?:亿元|亿美元|亿|billion|million)"),
    "profit": re.compile(r"\d+(?:\.\d+)?\s*(?:亿元|亿美元|亿|billion|million)"),
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
    w: dict[str, float] = {}
    for t in tokenize(question):
        if t in _GENERIC:
            base = 0.3
        elif re.search(r"\d", t):
            base = 2.0
        elif _HAN.search(t):
            base = 1.0 + 0.3 * min(len(t), 4)
        else:
            base = 1.0 + 0.15 * min(len(t), 6)
        w[t] = max(w.get(t, 0.0), base)
    for m in re.finditer(r"(\d{1,2})\s*月", question):
        month = _MONTH_NAMES[int(m.group(1)) - 1] if 1 <= int(m.group(1)) <= 12 else None
        if month:
            w.setdefault(month, 0.8)
    for i, name in enumerate(_MONTH_NAMES):
        if re.search(rf"\b{name}", question, re.I):
            w.setdefault(f"{i + 1}月", 0.8)
    for alias in expand_query(normalize(question)):
        for t in tokenize(alias):
            if t not in w:
                w[t] = 0.6 if t not in _GENERIC else 0.2
    return w


def _score(text: str, weights: dict[str, float]) -> float:
    toks = set(tokenize(text))
    hit = sum(wt for t, wt in weights.items() if t in toks)
    return hit


_MODEL_TOKEN = re.compile(r"[A-Za-z]*\d+[A-Za-z]*(?:\+\d+)?")
_NOT_ENTITY = re.compile(
    r"^(?:(?:19|20)\d\d|\d{1,2}|q[1-4]|h[12]|fy\d+|fp\d+|int\d+|bf\d+|tf\d+|\d+(?:st|nd|rd|th)|"
    r"\d+(?:gb|tb|mb|nm|w|kw|gbps|tbps|x|k|m|b|bn|s|ms|gib|ghz|mhz|tops|tflops|pflops|yuan|usd))$"
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


def _figure_for(attrs: list[str], text: str) -> str | None:
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
    m = _UNIT_FIGURE.search(text)
    return m.group().strip() if m else None


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
        sc = _score(c, weights)
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
_ORDINAL = re.compile(r"第[一二三四五六七八九十\d]+[座代款个期号]|[一二三四五六七八九十]+号")


def specific_entities(question: str) -> list[list[str]]:
    """The most specific things the question is about: model numbers, else products, else vendors."""
    from rag.glossary import PRODUCTS

    low = normalize(question)
    models = [e for e in question_entities(question) if len(e) == 1]
    products = [aliases for aliases in PRODUCTS.values() if any(_alias_in(a, low) for a in aliases)]
    if models or products:
        return models + products
    return [aliases for aliases in VENDORS.values() if any(_alias_in(a, low) for a in aliases)]


def abstain_text(question: str, reason: str) -> str:
    if is_chinese(question):
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
    """
    zh_q = is_chinese(question)
    if not passages:
        return OfflineAnswer(
            abstain_text(
                question, "没有检索到相关资料。" if zh_q else "no source matches the question."
            ),
            [],
            True,
            ["no passages retrieved"],
        )
    weights = _weights(question)
    attrs = asked_attributes(question)
    evidence_all = "\n".join(p.text for p in passages)
    missing = missing_entities(question, evidence_all)
    if known_words:
        missing += [w for w in unknown_names(question, known_words) if w not in missing]
    if missing:
        what = "、".join(missing) if zh_q else ", ".join(missing)
        reason = f"资料中没有提到{what}。" if zh_q else f"no source mentions {what}."
        return OfflineAnswer(
            abstain_text(question, reason), [], True, [f"entity not in evidence: {missing}"]
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
                if evidence_has_attribute(a, text) and (
                    a not in _ATTR_FIGURE or _ATTR_FIGURE[a].search(text)
                ):
                    sc += 2.0
                    reasons.append(a)
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
            sc += RANK_PRIOR / (rank + 1)
            damp = 1.0 + 0.15 * math.log1p(max(0, len(text) - 60) / 60)
            cands.append(Candidate(rank, p.doc_id, s, e, text, sc / damp, reasons, lex / damp))
            pa = doc.text.rfind("\n", 0, s) + 1
            pb = doc.text.find("\n", e)
            contexts[(p.doc_id, s)] = normalize(
                doc.title + "\n" + doc.text[pa : len(doc.text) if pb < 0 else pb]
            )
    if not cands:
        return OfflineAnswer(
            abstain_text(
                question, "没有检索到相关资料。" if zh_q else "no source matches the question."
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
            c.score += (c.lex / best_lex * top_lex) if best_lex > 0 else 0.0
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
            abstain_text(question, reason),
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

    def about_all_kinds(c: Candidate) -> bool:
        # "三星HBM4": a sentence about Micron's HBM4 is not about Samsung's
        if entities and not about(c, entities):
            return False
        return not named_vendors or about(c, named_vendors)

    eligible = [c for c in cands if about_all_kinds(c)]
    if not eligible:
        what = "、".join(e[0] for e in entities) if zh_q else ", ".join(e[0] for e in entities)
        reason = f"资料中没有关于{what}的相关内容。" if zh_q else f"no passage is about {what}."
        return OfflineAnswer(
            abstain_text(question, reason), [], True, [f"no sentence about {what}"]
        )

    needed = [a for a in attrs if a not in ("date", "customers")]
    if "bandwidth" in needed and "memory" in needed:
        needed.remove("memory")  # "显存带宽" asks for bandwidth, not capacity
    asked_units = {u.lower() for u in _UNIT_ASKED.findall(question)}
    asked_precision = {p.lower() for p in _PRECISION.findall(question)}
    models = [e for e in entities if len(e) == 1 and re.search(r"\d", e[0])]

    def states_attribute(c: Candidate, a: str) -> bool:
        if a not in c.reasons or _UNDISCLOSED.search(c.text):
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
                t
                for t in _MODEL_TOKEN.findall(c.text)
                if not _NOT_ENTITY.match(t.lower())
                and not _TECH_TOKEN.match(t)
                and not any(t.lower() == m[0].lower() for m in models)
            ]
            if not named and others:
                return False  # the figure belongs to another model named in the sentence
        return True

    undisclosed_top = [
        c
        for c in eligible[:3]
        if _UNDISCLOSED.search(c.text)
        and any(evidence_has_attribute(a, c.text) or a in c.text.lower() for a in needed)
    ]
    if needed and undisclosed_top:
        reason = "资料明确表示该信息未公开。" if zh_q else "the sources say this was not disclosed."
        return OfflineAnswer(
            abstain_text(question, reason), [], True, ["evidence says undisclosed"]
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
                abstain_text(question, reason), [], True, [f"attribute absent: {a}"]
            )
        # one quote per entity the question compares, each carrying the attribute
        for ent in entities or [[]]:
            pick = next((c for c in with_attr if not ent or about(c, [ent])), None)
            if pick is not None and pick not in chosen:
                chosen.append(pick)
    if not chosen:
        if _UNDISCLOSED.search(eligible[0].text) and needed:
            reason = (
                "资料明确表示该信息未公开。" if zh_q else "the sources say this was not disclosed."
            )
            return OfflineAnswer(
                abstain_text(question, reason), [], True, ["evidence says undisclosed"]
            )
        chosen.append(eligible[0])
    # cover every entity a comparison names, then add near-best quotes that say something new
    for ent in entities:
        if not any(about(c, [ent]) for c in chosen):
            extra = next((c for c in eligible if about(c, [ent]) and c not in chosen), None)
            if extra is not None and len(chosen) < max_sentences:
                chosen.append(extra)
    top = chosen[0].score
    for c in eligible:
        if len(chosen) >= max_sentences:
            break
        if (
            c in chosen
            or c.score < EXTRA_RATIO * top
            or any(c.text in x.text or x.text in c.text for x in chosen)
        ):
            continue
        new_terms = set(tokenize(c.text)) - set().union(*(set(tokenize(x.text)) for x in chosen))
        if any(weights.get(t, 0) >= 0.6 for t in new_terms) or _UNIT_FIGURE.search(c.text):
            chosen.append(c)
    chosen.sort(key=lambda c: (c.passage_rank, c.start))

    citations: list[Citation] = []
    pieces: list[str] = []
    entity_tokens = {t for ent in entities for a in ent for t in tokenize(a)}
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
        )
        cit = make_citation(len(citations) + 1, doc, s, e, doc.text)
        citations.append(cit)
        # a "[7]" inside the article must not pose as one of our citations
        quote = neutralize_markers(cit.quote)
        if not zh_q and is_chinese(quote):
            fig = _figure_for(attrs, quote)
            lead = f"{fig} — " if fig else ""
            pieces.append(f"{lead}“{quote}” [{cit.n}]")
        elif zh_q:
            pieces.append(f"{quote}[{cit.n}]")
        else:
            pieces.append(f"{quote} [{cit.n}]")
    text = ("" if zh_q else " ").join(pieces)
    if not zh_q and all(is_chinese(c.quote) for c in citations):
        text = "From the Chinese source: " + text
    return OfflineAnswer(text, citations, False, [])


__all__ = ["STOPWORDS", "OfflineAnswer", "answer_offline", "is_chinese", "missing_entities"]
