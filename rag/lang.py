"""Which script a text is written in: the one Han character class and the language checks.

``HAN`` is the body of a regular-expression character class (CJK Unified Ideographs, their
extensions A to H and the compatibility ideographs); every pattern in the package that looks
for Chinese characters is built from it, so they all agree on what a Han character is.

Two questions are asked of a text, on purpose with different answers:

- ``is_chinese`` / ``lang_of``: does it contain a Han character at all? A question, a
  sentence or a quote with one Chinese word in it is Chinese; the answer follows it.
- ``detect_lang``: is it *mostly* Chinese? A document or a model's reply is ``zh`` when
  Han characters make a large enough share of its letters (Chinese news quotes English
  names; an English article may name a Chinese company in Han script).

This module does not normalise or tokenise text (``rag.textnorm``), convert traditional to
simplified Chinese, or hold the refusal texts (``rag.abstain``).
"""

from __future__ import annotations

import re

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U000323af"
HAN_CHAR = re.compile(f"[{HAN}]")
HAN_RUN = re.compile(f"[{HAN}]+")
_LATIN = re.compile(r"[A-Za-z]")


def is_chinese(text: str) -> bool:
    """True when ``text`` contains a Han character."""
    return bool(HAN_CHAR.search(text))


def lang_of(text: str) -> str:
    """``zh`` when ``text`` contains a Han character, else ``en``."""
    return "zh" if HAN_CHAR.search(text) else "en"


def detect_lang(text: str, min_share: float = 0.2) -> str:
    """The main language of ``text`` by the share of Han characters among its letters.

    Args:
        text: the text (callers pass a sample of a long document).
        min_share: the share of Han characters among Han and Latin letters from which the
            text is Chinese; a document needs 0.2, the doctor asks a reply for 0.3.

    Returns:
        ``zh``, ``en`` (Latin letters, too few Han characters), or ``""`` (no letters).
    """
    han = len(HAN_CHAR.findall(text))
    latin = len(_LATIN.findall(text))
    if han and han >= min_share * (han + latin):
        return "zh"
    return "en" if latin else ""


__all__ = ["HAN", "HAN_CHAR", "HAN_RUN", "detect_lang", "is_chinese", "lang_of"]
