"""Text normalisation and tokenisation shared by indexing and querying.

Full-width to half-width (NFKC), traditional to simplified Chinese (OpenCC), lower
case; jieba search-mode tokens for the keyword index. The glossary's names are added
to jieba's dictionary so ``平头哥`` or ``摩尔线程`` stay whole.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from typing import Any

_lock = threading.RLock()
_t2s: Any = None
_jieba_ready = False

STOPWORDS = set(
    "的 了 是 在 和 与 及 或 其 这 那 也 都 就 而 被 把 对 为 以 于 上 中 下 个 之 等 将 已 并 还 又 从 到 由 向 吗 呢 吧 啊 么 什么 哪些 哪个 哪 多少 怎么 如何 是否 有 没有 它 它们 他们 我们 你 我 请 问".split()  # noqa: SIM905
    + "the a an of to in on for and or is are was were be been by with as at from that this it its what which who whom how when where does do did has have had about than".split()  # noqa: SIM905
    + "into over per vs tell me please much many".split()  # noqa: SIM905
)
_TOKEN_OK = re.compile(r"[0-9a-z\u4e00-\u9fff]")


def _converter() -> Any:
    global _t2s
    if _t2s is None:
        with _lock:
            if _t2s is None:
                import opencc

                _t2s = opencc.OpenCC("t2s")
    return _t2s


def normalize(text: str) -> str:
    """Half-width, simplified, lower-case text of the same meaning."""
    text = unicodedata.normalize("NFKC", text)
    if re.search(r"[\u4e00-\u9fff]", text):
        text = _converter().convert(text)
    return text.lower()


def _jieba() -> Any:
    global _jieba_ready
    import jieba

    if not _jieba_ready:
        with _lock:
            if not _jieba_ready:
                import logging

                jieba.setLogLevel(logging.WARNING)
                from rag.glossary import TERMS, VENDORS

                for aliases in list(VENDORS.values()) + TERMS:
                    for a in aliases:
                        if re.search(r"[\u4e00-\u9fff]", a):
                            jieba.add_word(normalize(a), freq=20000)
                jieba.initialize()
                _jieba_ready = True
    return jieba


@lru_cache(maxsize=2048)
def _tokens_cached(text: str) -> tuple[str, ...]:
    return tuple(tokenize_uncached(text))


def tokenize_uncached(text: str) -> list[str]:
    """Keyword tokens of ``text``: normalised jieba search-mode words, stopwords dropped."""
    norm = normalize(text)
    out = []
    for tok in _jieba().lcut_for_search(norm):
        tok = tok.strip()
        if tok and tok not in STOPWORDS and _TOKEN_OK.search(tok):
            out.append(tok)
    return out


def tokenize(text: str) -> list[str]:
    """Cached ``tokenize_uncached`` for short texts such as queries."""
    if len(text) > 2000:
        return tokenize_uncached(text)
    return list(_tokens_cached(text))
