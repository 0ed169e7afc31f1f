"""A small English-Chinese word list of chip-industry news, for cross-lingual sentence scoring.

The glossary (``rag.glossary``) names vendors, products and the terms a query is expanded
with for retrieval. This list is wider and softer: the everyday words of the news itself
(said, plans, market, size, founder, regulator ...) and the people in it, so the offline
answerer can tell which sentence of a Chinese article answers an English question, and
the reverse, when the two share hardly any token. Each entry pairs English words with Chinese ones;
English words are matched by their stem (``summoned`` -> ``summon``).

The word list itself is data, ``rag/data/lexicon.tsv`` (one ``english<TAB>中文|中文`` row per
meaning), read once through ``rag.datafiles``; this module holds the stemmer and the lookups.
It does not expand retrieval queries (``rag.glossary``) or score sentences (``rag.sentences``
weighs the translations it returns).
"""

from __future__ import annotations

from functools import lru_cache

from rag import datafiles

LEXICON_FILE = "lexicon.tsv"


def _undouble(w: str) -> str:
    """shipp -> ship, plann -> plan (but call, pass, buzz stay)."""
    if len(w) >= 4 and w[-1] == w[-2] and w[-1] not in "aeiouylsz":
        return w[:-1]
    return w


def _strip_once(w: str) -> str:
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith("ing") and len(w) >= 6:
        return _undouble(w[:-3])
    if w.endswith("ed") and not w.endswith("eed") and len(w) >= 5:
        return _undouble(w[:-2])
    if w.endswith("es") and w[:-2].endswith(("ss", "x", "ch", "sh")):
        return w[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) >= 4:
        return w[:-1]
    return w


def stem(word: str) -> str:
    """A crude English stem, the same for a word's forms (``summoned`` and ``summon``
    -> ``summon``, ``prices`` and ``priced`` -> ``pric``); other text is returned lower-cased.
    Apply it once, to the word as written."""
    w = word.lower()
    if not w.isascii() or not w.isalpha():
        return w
    w = _strip_once(w)
    if w.endswith("e") and len(w) >= 4:
        w = w[:-1]
    return w


def _build() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    en_zh: dict[str, list[str]] = {}
    zh_en: dict[str, list[str]] = {}
    for row in datafiles.load_tsv(LEXICON_FILE):
        zh = [z.strip() for z in row.get("chinese", "").split("|") if z.strip()]
        # the English side lists words of one meaning ("sell sold selling") or the words
        # of one name; each word maps to the Chinese side
        words = row.get("english", "").split()
        if not words or not zh:
            raise datafiles.DataFileError(
                f"{datafiles.data_path(LEXICON_FILE)}: row {row!r} needs English and Chinese words"
            )
        for k in words:
            en_zh.setdefault(stem(k), []).extend(zh)
        for z in zh:
            zh_en.setdefault(z.lower(), []).extend(words)
    return (
        {k: tuple(dict.fromkeys(v)) for k, v in en_zh.items()},
        {k: tuple(dict.fromkeys(v)) for k, v in zh_en.items()},
    )


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """(English stem -> Chinese words, Chinese word -> English words), built on first use."""
    return _build()


def _reload() -> None:
    _tables.cache_clear()
    translations.cache_clear()


@lru_cache(maxsize=8192)
def translations(token: str) -> tuple[str, ...]:
    """Words of the other language for one token: an English word as written or already
    stemmed, a Chinese word as written."""
    t = token.lower()
    en_zh, zh_en = _tables()
    if t.isascii():
        return en_zh.get(t) or en_zh.get(stem(t), ())
    return zh_en.get(t, ())


datafiles.on_reload(_reload)


__all__ = ["stem", "translations"]
