"""Resolve elliptical follow-up questions ("它的显存带宽呢?", "and its bandwidth?").

Offline, the entities (vendors, product names, model numbers) of the latest earlier turn
that named one are carried into a question that names none or points back with a
pronoun. With an LLM configured, ``rag.answer_llm`` can condense the question instead.
"""

from __future__ import annotations

import re
from typing import Any

from rag.evidence import AMOUNT_AFTER as _AMOUNT_AFTER
from rag.evidence import NOT_ENTITY as _NOT_ENTITY
from rag.glossary import VENDORS
from rag.question import MODEL_TOKEN as _MODEL_TOKEN
from rag.question import question_entities
from rag.textnorm import normalize

_POINTER = re.compile(
    r"^\s*(它|其|该|这款|这个|那款|那个|这家|那家|他们|它们|对方|同一|and\b|what about\b|how about\b|"
    r"its\b|it\b|they\b|their\b|and its\b|same\b|that chip\b|this chip\b|the chip\b)",
    re.I,
)
Turn = dict[str, Any]
# periods a follow-up inherits ("and the net profit?" after a question about H1 2025)
_PERIOD = re.compile(
    r"(?:20\d\d年)?(?:上半年|下半年|前三季度|第[一二三四]季度|[一二三四]季度|全年)|20\d\d年|"
    r"\b(?:first half|second half|first nine months|Q[1-4]|full year)(?: of)?(?: 20\d\d)?|\b20\d\d\b",
    re.I,
)


def _surface_entities(text: str) -> list[str]:
    """Entity strings as written in ``text``: vendor/product aliases and model numbers."""
    low = normalize(text)
    out: list[str] = []
    for aliases in VENDORS.values():
        for a in aliases:
            al = normalize(a)
            if re.search(r"[\u4e00-\u9fff]", al):
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
    # a Han product name glued to its model number ("真武810E") stays whole
    for m in re.finditer(r"[\u4e00-\u9fff]{1,4}[A-Za-z]*\d+[A-Za-z0-9]*", text):
        word = m.group()
        for o in list(out):
            if o in word and word not in out:
                out = [x for x in out if x not in word] + [word]
    return out


def _turns(history: list[Any] | None) -> list[Turn]:
    turns: list[Turn] = []
    for h in history or []:
        if isinstance(h, dict):
            turns.append({"role": h.get("role", "user"), "content": str(h.get("content", ""))})
        elif isinstance(h, (list, tuple)) and len(h) == 2:  # (user, assistant) pairs
            turns.append({"role": "user", "content": str(h[0] or "")})
            turns.append({"role": "assistant", "content": str(h[1] or "")})
    return turns


def needs_context(question: str) -> bool:
    """True when the question points back or names no entity of its own."""
    return bool(_POINTER.match(question)) or not question_entities(question)


def resolve_followup(question: str, history: list[Any] | None) -> str:
    """The question with the entities it refers back to made explicit."""
    turns = _turns(history)
    if not turns or not needs_context(question):
        return question
    for role in ("user", "assistant"):
        for turn in reversed(turns):
            if turn["role"] != role:
                continue
            ents = _surface_entities(turn["content"])
            if ents:
                mine = {e.lower() for e in _surface_entities(question)}
                carry = [e for e in ents if e.lower() not in mine][:4]
                if role == "user":
                    carry += [t for t in _PERIOD.findall(turn["content"]) if t not in question][:2]
                if carry:
                    return f"{' '.join(carry)} {question}"
                return question
    return question
