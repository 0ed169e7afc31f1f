"""Resolve elliptical follow-up questions ("它的显存带宽呢?", "and its bandwidth?").

Offline, the entities (vendors, product names, model numbers) of the latest earlier turn
that named one are carried into a question that names none or points back with a
pronoun. With an LLM configured, ``rag.answer_llm`` can condense the question instead.
The pronouns and period phrases are data (``rag/data/glossary_questions.yaml``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from rag import datafiles
from rag.evidence import AMOUNT_AFTER as _AMOUNT_AFTER
from rag.evidence import NOT_ENTITY as _NOT_ENTITY
from rag.glossary import VENDORS
from rag.lang import HAN, HAN_CHAR
from rag.question import MODEL_TOKEN as _MODEL_TOKEN
from rag.question import question_entities
from rag.textnorm import normalize

Turn = dict[str, Any]
QUESTIONS_FILE = "glossary_questions.yaml"


def _words(section: str, lang: str) -> list[str]:
    raw = datafiles.load_yaml(QUESTIONS_FILE).get(section) or {}
    where = f"{datafiles.data_path(QUESTIONS_FILE)} {section}.{lang}"
    return datafiles.string_list(raw.get(lang, []) if isinstance(raw, dict) else None, where)


def _alternation(words: list[str]) -> str:
    """Longest first, so that a phrase wins over the word it starts with; none matches nothing."""
    if not words:
        return "(?!)"
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(words pointing back at an earlier turn, reporting periods), from the data file."""
    zh, en = _words("pointers", "zh"), _words("pointers", "en")
    pointer = re.compile(rf"^\s*(?:{_alternation(zh)}|(?:{_alternation(en)})\b)", re.I)
    # periods a follow-up inherits ("and the net profit?" after a question about a half year)
    pzh, pen = _words("periods", "zh"), _words("periods", "en")
    period = re.compile(
        rf"(?:20\d\d年)?(?:{_alternation(pzh)})|20\d\d年|"
        rf"\b(?:{_alternation(pen)})(?: of)?(?: 20\d\d)?|\b20\d\d\b",
        re.I,
    )
    return pointer, period


datafiles.on_reload(_patterns.cache_clear)


def _surface_entities(text: str) -> list[str]:
    """Entity strings as written in ``text``: vendor/product aliases and model numbers."""
    low = normalize(text)
    out: list[str] = []
    for aliases in VENDORS.values():
        for a in aliases:
            al = normalize(a)
            if HAN_CHAR.search(al):
                if al in low:
                    out.append(a)
                    break
            elif re.search(rf"(?<![a-z0-9]){re.escape(al)}(?![a-z0-9])", low):
                out.append(a)
                break
    for m in _MODEL_TOKEN.finditer(text):
        tok = m.group().strip()
        if _NOT_ENTITY.match(tok.lower()) or (tok.isdigit() and _AMOUNT_AFTER.match(text, m.end())):
            continue
        if not any(tok.lower() in o.lower() or o.lower() in tok.lower() for o in out):
            out.append(tok)
    # a Han product name glued to its model number stays whole, not split into its parts
    for m in re.finditer(rf"[{HAN}]{{1,4}}[A-Za-z]*\d+[A-Za-z0-9]*", text):
        word = m.group()
        for o in list(out):
            if o in word and word not in out:
                out = [x for x in out if x not in word] + [word]
    return out


def turns(history: list[Any] | None) -> list[Turn]:
    """The history as ``{role, content}`` turns (messages or (user, assistant) pairs)."""
    out: list[Turn] = []
    for h in history or []:
        if isinstance(h, dict):
            out.append({"role": h.get("role", "user"), "content": str(h.get("content", ""))})
        elif isinstance(h, (list, tuple)) and len(h) == 2:  # (user, assistant) pairs
            out.append({"role": "user", "content": str(h[0] or "")})
            out.append({"role": "assistant", "content": str(h[1] or "")})
    return out


def needs_context(question: str) -> bool:
    """True when the question points back or names no entity of its own."""
    return bool(_patterns()[0].match(question)) or not question_entities(question)


def resolve_followup(question: str, history: list[Any] | None) -> str:
    """The question with the entities it refers back to made explicit."""
    earlier = turns(history)
    if not earlier or not needs_context(question):
        return question
    for role in ("user", "assistant"):
        for turn in reversed(earlier):
            if turn["role"] != role:
                continue
            ents = _surface_entities(turn["content"])
            if ents:
                mine = {e.lower() for e in _surface_entities(question)}
                carry = [e for e in ents if e.lower() not in mine][:4]
                if role == "user":
                    carry += [
                        t for t in _patterns()[1].findall(turn["content"]) if t not in question
                    ][:2]
                if carry:
                    return f"{' '.join(carry)} {question}"
                return question
    return question
