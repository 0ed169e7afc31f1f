"""Pure metric functions of the evaluation harness: no model, no store, no I/O.

Every function takes plain strings, lists and numbers, so each is unit-tested on small
hand-made cases (tests/test_eval_metrics.py). It does not score a case (``evals.case``),
aggregate records (``evals.aggregate``) or know any target (``evals.targets``). The
definitions, in short:

* **Text matching** (key facts, support): NFKC (full-width -> half-width), case-folded,
  with *all* whitespace removed from both sides before a substring test, so Chinese is
  compared character by character and ``"96 GB"`` matches ``"96GB"``. An alias whose first
  or last character is a Latin letter or digit must also sit on a token edge of the
  original text: nothing alphanumeric before it; after it, a figure may take a unit but no
  more digits (``"7"`` is not found in ``"700GB/s"``, ``"2.65"`` is in ``"2.65x"``) and a word
  only a plural ending (``"supernode"`` is in ``"supernodes"``, ``"no"`` not in ``"not"``).
  Chinese characters have no such edge test.
* **Retrieval** over a ranked passage list: each rank "covers" the gold items it matches
  (a gold document id at document level, a gold quote at evidence level). ``hit@k``: some
  gold item in the top k; ``recall@k``: share of gold items covered by the top k;
  ``MRR@10``: 1/rank of the first covering passage; ``nDCG@10``: binary gain for each
  passage that covers a *new* gold item, ideal = every gold item at its own top rank
  (capped at 1.0 when one passage covers several quotes).
* **Figures**: digit runs not glued to a preceding Latin letter (so ``H20`` or ``MI300X`` are
  names, not figures), thousands separators removed (``16,384`` -> ``16384``), trailing
  decimal zeros dropped (``19.60`` -> ``19.6``); ``[n]`` citation markers are never figures.
* **Statements** (ALCE-style): the answer is cut at sentence ends and after ``[n]`` markers;
  markers belong to the sentence they follow. A statement is *supported* by a set of quotes
  when all of its figures occur among the quotes' figures and it shares at least one token
  with them (Latin words, figures, or Han character bigrams).
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from rag.lang import HAN_CHAR, HAN_RUN

KS = (1, 3, 5, 10)

# -- text normalisation and key facts ---------------------------------------------------


def norm(text: str) -> str:
    """NFKC, case-folded text (whitespace kept)."""
    return unicodedata.normalize("NFKC", text or "").casefold()


def squeeze(text: str) -> str:
    """``norm`` with every whitespace character removed."""
    return "".join(ch for ch in norm(text) if not ch.isspace())


_PLURAL = {"s", "es"}


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def alias_in(alias: str, text: str) -> bool:
    """Whether ``alias`` occurs in ``text`` after normalising width, case and spacing."""
    a = squeeze(alias)
    if not a:
        return False
    full = norm(text)
    kept = [i for i, ch in enumerate(full) if not ch.isspace()]
    flat = "".join(full[i] for i in kept)
    start = flat.find(a)
    while start >= 0:
        s = kept[start]
        e = kept[start + len(a) - 1] + 1
        left_ok = right_ok = True
        if _is_word_char(a[0]) and s > 0:
            prev = full[s - 1]
            left_ok = not _is_word_char(prev) and not (
                a[0].isdigit() and prev in ".," and s > 1 and full[s - 2].isdigit()
            )
        if _is_word_char(a[-1]) and e < len(full):
            nxt = full[e]
            if a[-1].isdigit():  # a figure may take a unit ("2.65x") but not more digits
                right_ok = not nxt.isdigit() and not (
                    nxt in ".," and e + 1 < len(full) and full[e + 1].isdigit()
                )
            elif nxt.isascii() and nxt.isalpha():  # a word may take a plural ending only
                m = re.match(r"[a-z]+", full[e:])
                right_ok = m is not None and m.group() in _PLURAL
            else:
                right_ok = not nxt.isdigit()
        if left_ok and right_ok:
            return True
        start = flat.find(a, start + 1)
    return False


def key_facts_matched(key_facts: Sequence[Sequence[str]], text: str) -> list[bool]:
    """For each key-fact group, whether some alias of it occurs in ``text``."""
    return [any(alias_in(a, text) for a in group) for group in key_facts]


def key_facts_correct(key_facts: Sequence[Sequence[str]], text: str) -> bool:
    """All key-fact groups matched (a case without key facts is never "correct")."""
    matched = key_facts_matched(key_facts, text)
    return bool(matched) and all(matched)


# -- retrieval ---------------------------------------------------------------------------


def doc_coverage(ranked_doc_ids: Sequence[str], gold_doc_ids: Iterable[str]) -> list[set[str]]:
    """Per rank, the gold document ids that passage belongs to (at most one)."""
    gold = set(gold_doc_ids)
    return [({d} if d in gold else set()) for d in ranked_doc_ids]


def evidence_coverage(ranked_texts: Sequence[str], gold_quotes: Sequence[str]) -> list[set[str]]:
    """Per rank, the gold quotes that passage text contains verbatim."""
    return [{q for q in gold_quotes if q and q in t} for t in ranked_texts]


def retrieval_scores(
    coverage: Sequence[set[str]], n_gold: int, ks: Sequence[int] = KS, depth: int = 10
) -> dict[str, float]:
    """hit@k, recall@k, MRR@depth and nDCG@depth from per-rank coverage sets."""
    out: dict[str, float] = {}
    if n_gold <= 0:
        return out
    for k in ks:
        covered: set[str] = set().union(*coverage[:k]) if coverage[:k] else set()
        out[f"hit@{k}"] = 1.0 if covered else 0.0
        out[f"recall@{k}"] = len(covered) / n_gold
    rr = 0.0
    for i, c in enumerate(coverage[:depth]):
        if c:
            rr = 1.0 / (i + 1)
            break
    out[f"mrr@{depth}"] = rr
    seen: set[str] = set()
    dcg = 0.0
    for i, c in enumerate(coverage[:depth]):
        new = c - seen
        if new:
            dcg += len(new) / math.log2(i + 2)
            seen |= new
    idcg = sum(1.0 / math.log2(i + 2) for i in range(min(n_gold, depth)))
    out[f"ndcg@{depth}"] = min(1.0, dcg / idcg) if idcg else 0.0
    return out


# -- figures, statements, citations ------------------------------------------------------

MARKER = re.compile(r"\[(\d+(?:\s*[,，]\s*\d+)*)\]")
_FIGURE = re.compile(r"(?<![A-Za-z0-9.])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_LATIN = re.compile(r"[a-z][a-z0-9+\-]*[a-z0-9]|[a-z0-9]*\d[a-z0-9]*")
_STOP = {
    "the",
    "a",
    "an",
    "of",
    "to",
    "in",
    "on",
    "for",
    "and",
    "or",
    "is",
    "are",
    "was",
    "were",
    "be",
    "by",
    "with",
    "as",
    "at",
    "from",
    "that",
    "this",
    "it",
    "its",
    "than",
    "has",
    "have",
    "had",
    "said",
    "says",
    "will",
    "which",
    "who",
    "what",
    "not",
    "no",
    "up",
    "about",
    "into",
}
_ABBREV = {
    "u.s",
    "mr",
    "mrs",
    "dr",
    "inc",
    "co",
    "ltd",
    "corp",
    "no",
    "vs",
    "e.g",
    "i.e",
    "approx",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "st",
    "fig",
    "est",
    "u.k",
    "etc",
}


def strip_markers(text: str) -> str:
    """The text without ``[n]`` citation markers."""
    return MARKER.sub(" ", text)


def _norm_figure(raw: str) -> str:
    f = raw.replace(",", "")
    if "." in f:
        f = f.rstrip("0").rstrip(".")
    return f or "0"


def same_value(text: str, quotes: Sequence[str]) -> set[str]:
    """The figures of ``text`` (normalised as ``figures`` gives them) that a quote states in
    another scale or script: "8 billion yuan" against "80亿元" (``rag.quantities``)."""
    from rag.quantities import quantities, supported

    source = [q for quote in quotes for q in quantities(quote, source=True)]
    return {_norm_figure(q.raw) for q in quantities(text) if q.dim and supported(q, source)}


def figures(text: str) -> list[str]:
    """Normalised figures (numbers) in ``text``, markers excluded."""
    return [_norm_figure(m.group()) for m in _FIGURE.finditer(norm(strip_markers(text)))]


def content_tokens(text: str) -> set[str]:
    """Tokens for overlap tests: Latin words (no stopwords), figures, Han character bigrams."""
    low = norm(strip_markers(text))
    toks = {t for t in _LATIN.findall(low) if t not in _STOP and len(t) >= 2}
    toks |= set(figures(low))
    for run in HAN_RUN.findall(low):
        if len(run) == 1:
            toks.add(run)
        toks |= {run[i : i + 2] for i in range(len(run) - 1)}
    return toks


@dataclass
class Statement:
    text: str
    cites: list[int] = field(default_factory=list)


_CLOSE = "”’」』\"')）"
_OPEN = "“「『"
_END_ZH = "。！？!?\n"


def _is_sentence_end(text: str, i: int) -> bool:
    ch = text[i]
    if ch in _END_ZH:
        return True
    if ch != ".":
        return False
    j = i + 1
    while j < len(text) and text[j] in _CLOSE:
        j += 1
    if j < len(text) and not text[j].isspace() and not MARKER.match(text, j):
        return False  # "3.2GHz", "U.S.-made"
    word = re.search(r"([A-Za-z.]+)$", text[:i])
    if word:
        w = word.group(1).lower().strip(".")
        if w in _ABBREV or (len(w) == 1 and w.isalpha()):
            return False
    k = j
    while k < len(text) and text[k].isspace():
        k += 1
    return not (k < len(text) and text[k].islower())


def _has_content(s: str) -> bool:
    return any(ch.isalnum() for ch in s)


def split_statements(answer: str) -> list[Statement]:
    """Cut an answer into statements; each keeps the ``[n]`` markers that follow it."""
    out: list[Statement] = []
    cur: list[str] = []
    cites: list[int] = []
    depth = 0

    def close() -> None:
        nonlocal cur, cites
        s = "".join(cur).strip()
        if _has_content(s):
            out.append(Statement(s, cites))
        elif cites and out:
            out[-1].cites.extend(cites)
        cur, cites = [], []

    i = 0
    while i < len(answer):
        m = MARKER.match(answer, i)
        if m:
            nums = [int(x) for x in re.split(r"\s*[,，]\s*", m.group(1))]
            if _has_content("".join(cur)):
                cites.extend(nums)
                close()
            elif out:
                out[-1].cites.extend(nums)
            i = m.end()
            continue
        ch = answer[i]
        cur.append(ch)
        if ch in _OPEN:
            depth += 1
        elif ch in "”」』" and depth:
            depth -= 1
        if depth == 0 and _is_sentence_end(answer, i):
            # keep closing quotes with the sentence they end
            while i + 1 < len(answer) and answer[i + 1] in _CLOSE:
                i += 1
                cur.append(answer[i])
            close()
        i += 1
    close()
    return out


def supported(statement: str, quotes: Sequence[str]) -> bool:
    """All figures of ``statement`` occur in ``quotes`` (as written, or by value in another
    scale) and it shares a token or such a figure with them."""
    if not quotes:
        return False
    joined = "\n".join(quotes)
    same = same_value(statement, quotes)  # a figure in the other script's scale shares content
    if not set(figures(statement)) <= set(figures(joined)) | same:
        return False
    return bool(content_tokens(statement) & content_tokens(joined)) or bool(same)


@dataclass
class CitationScores:
    statements: int = 0
    supported_statements: int = 0
    pairs: int = 0
    precise_pairs: int = 0
    figures: int = 0
    ungrounded: list[str] = field(default_factory=list)
    detail: list[dict[str, object]] = field(default_factory=list)


def citation_scores(answer: str, quotes_by_n: dict[int, str]) -> CitationScores:
    """ALCE-style citation recall/precision and ungrounded figures of one answer.

    Args:
        answer: the answer text with ``[n]`` markers.
        quotes_by_n: the cited quote of each citation number.
    """
    res = CitationScores()
    for st in split_statements(answer):
        cited = [n for n in dict.fromkeys(st.cites)]
        qs = [quotes_by_n[n] for n in cited if n in quotes_by_n]
        ok = supported(st.text, qs)
        precise: list[int] = []
        for n in cited:
            if n not in quotes_by_n:
                continue
            alone = supported(st.text, [quotes_by_n[n]])
            others = [quotes_by_n[x] for x in cited if x != n and x in quotes_by_n]
            if alone or (ok and not supported(st.text, others)):
                precise.append(n)
        res.statements += 1
        res.supported_statements += int(ok)
        res.pairs += len(cited)
        res.precise_pairs += len(precise)
        res.detail.append({"text": st.text, "cites": cited, "supported": ok, "precise": precise})
    quote_figs = set(figures("\n".join(quotes_by_n.values())))
    answer_figs = figures(answer)
    res.figures = len(answer_figs)
    by_value = same_value(answer, list(quotes_by_n.values()))
    res.ungrounded = [f for f in answer_figs if f not in quote_figs and f not in by_value]
    return res


def citation_valid(quote: str, doc_text: str | None, start: int, end: int) -> bool:
    """``quote == doc_text[start:end]`` (a missing document is invalid)."""
    if doc_text is None or start < 0 or end > len(doc_text) or start > end:
        return False
    return doc_text[start:end] == quote


# -- aggregation -------------------------------------------------------------------------


def rate(num: float, den: float) -> float | None:
    """``num / den``, or None when there is nothing to divide."""
    return num / den if den else None


def mean(values: Iterable[float | None]) -> float | None:
    vals = [float(v) for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) with linear interpolation, as numpy's default."""
    vals = sorted(values)
    if not vals:
        return None
    pos = (len(vals) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(vals) - 1)
    return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)


# -- LLM judge replies -------------------------------------------------------------------


def _unit(v: float) -> float:
    if v > 1.0:
        v = v / 5.0 if v <= 5.0 else v / 10.0
    return max(0.0, min(1.0, v))


def parse_judge_reply(text: str) -> dict[str, float] | None:
    """Faithfulness and relevance (0-1) from a judge's reply; None if unreadable.

    Accepts a JSON object (bare or in a code fence) or ``name: value`` lines; scores above 1
    are read as 1-5 (or 1-10) scales and rescaled.
    """
    if not text:
        return None
    found: dict[str, float] = {}
    for m in re.finditer(r"\{[^{}]*\}", text, re.S):
        try:
            obj = json.loads(m.group())
        except ValueError:
            continue
        if isinstance(obj, dict):
            for k, v in obj.items():
                key = str(k).lower()
                for name in ("faithfulness", "relevance"):
                    if name in key and isinstance(v, (int, float)) and not isinstance(v, bool):
                        found[name] = _unit(float(v))
        if len(found) == 2:
            break
    if len(found) < 2:
        for name in ("faithfulness", "relevance"):
            m2 = re.search(rf"{name}\W{{0,5}}(\d+(?:\.\d+)?)", text, re.I)
            if m2 and name not in found:
                found[name] = _unit(float(m2.group(1)))
    return found if len(found) == 2 else None


# -- the answer's language ---------------------------------------------------------------------

# text the answer quotes or glosses: quotation marks of either script and brackets; a quote
# or the source-language name beside a translation may stay in the source's language
_PAIRS = {"“": "”", "‘": "’", "「": "」", "『": "』", "(": ")", "（": "）", "[": "]", "《": "》"}


def strip_quoted(text: str) -> str:
    """``text`` without its quoted and bracketed spans; nested pairs (a quoted sentence that
    itself quotes a name) are removed whole, straight double quotes pair up in order."""
    out: list[str] = []
    stack: list[str] = []
    in_straight = False
    for ch in text:
        if stack and ch == stack[-1]:
            stack.pop()
        elif ch in _PAIRS:
            stack.append(_PAIRS[ch])
        elif ch == '"' and not stack:
            in_straight = not in_straight
        elif not stack and not in_straight:
            out.append(ch)
            continue
        out.append(" ")
    return "".join(out)


# an English word: a letter then lower-case letters ("memory", "Zhenwu"); acronyms, units and
# model names (HBM2e, GB/s, MI325X, TFLOPS) belong to no language and are not counted
_EN_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][a-z]+(?![A-Za-z0-9])")


def text_language(text: str) -> str | None:
    """``"zh"`` or ``"en"``: the language of the answer's own (non-quoted) words, or None.

    Quoted and bracketed spans and ``[n]`` markers are dropped first. Han characters count as
    half a word each (a Chinese word is about two characters), English words one each; the
    larger side wins, a tie or nothing to count gives None.
    """
    own = strip_quoted(unicodedata.normalize("NFKC", text or ""))  # not case-folded:
    # capitals tell an acronym (HBM) from a word
    zh = len(HAN_CHAR.findall(own)) / 2
    en = len(_EN_WORD.findall(own))
    if zh == en:
        return None
    return "zh" if zh > en else "en"


def language_matches(answer: str, question_lang: str) -> bool:
    """The answer is in the question's language (an answer with no words of either passes)."""
    got = text_language(answer)
    return got is None or got == question_lang


# -- typed facts against hand-written gold ---------------------------------------------------------


def _field(obj: object, name: str) -> object:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def fact_value_equal(a_norm: object, a_value: object, b_norm: object, b_value: object) -> bool:
    """Equal normalised values (relative 1e-6), or equal value strings after NFKC/whitespace."""
    numbers = isinstance(a_norm, int | float) and isinstance(b_norm, int | float)
    if numbers and math.isclose(float(a_norm), float(b_norm), rel_tol=1e-6, abs_tol=1e-12):  # type: ignore[arg-type]
        return True
    return bool(a_value) and squeeze(str(a_value)) == squeeze(str(b_value or ""))


def fact_matches(
    extracted: object,
    gold: dict,
    name_norm: Callable[[str], str] = squeeze,
    extra_names: Iterable[str] = (),
) -> bool:
    """An extracted fact states a gold fact: same document and attribute, an entity name (its
    display name, id, or ``extra_names`` such as its aliases) among the gold entity's name and
    aliases, and an equal value."""
    if _field(extracted, "doc_id") != gold["doc_id"]:
        return False
    if _field(extracted, "attribute") != gold["attribute"]:
        return False
    gold_names = {name_norm(n) for n in [gold["entity"], *gold.get("entity_aliases", [])] if n}
    names = [_field(extracted, "entity"), _field(extracted, "entity_id"), *extra_names]
    if not {name_norm(str(n)) for n in names if n} & gold_names:
        return False
    return fact_value_equal(
        _field(extracted, "norm_value"),
        _field(extracted, "value"),
        gold.get("norm_value"),
        gold["value"],
    )


def fact_scores(
    extracted: Sequence[object],
    gold: Sequence[dict],
    name_norm: Callable[[str], str] = squeeze,
    aliases: dict[str, list[str]] | None = None,
) -> dict[str, object]:
    """Recall of the gold facts and precision of the extracted facts of the gold documents.

    A gold fact is recalled when some extracted fact matches it (:func:`fact_matches`); an
    extracted fact of a gold document is correct when it matches some gold fact. Extracted
    facts of other documents are ignored. ``aliases`` maps an entity id to its known names.
    """
    aliases = aliases or {}
    docs = {g["doc_id"] for g in gold}
    mine = [f for f in extracted if _field(f, "doc_id") in docs]

    def names(f: object) -> list[str]:
        return aliases.get(str(_field(f, "entity_id")), [])

    hit = [any(fact_matches(f, g, name_norm, names(f)) for f in mine) for g in gold]
    correct = [any(fact_matches(f, g, name_norm, names(f)) for g in gold) for f in mine]
    per_attr: dict[str, list[bool]] = {}
    for g, ok in zip(gold, hit, strict=True):
        per_attr.setdefault(g["attribute"], []).append(ok)
    return {
        "n_gold": len(gold),
        "n_gold_docs": len(docs),
        "n_extracted": len(mine),
        "recall": rate(sum(hit), len(gold)),
        "precision": rate(sum(correct), len(mine)),
        "recall_by_attribute": {a: rate(sum(v), len(v)) for a, v in sorted(per_attr.items())},
        "missed": [g for g, ok in zip(gold, hit, strict=True) if not ok],
        "wrong": [f for f, ok in zip(mine, correct, strict=True) if not ok],
    }
