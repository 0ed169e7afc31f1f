"""Text normalisation and tokenisation shared by indexing and querying.

Full-width to half-width (NFKC), traditional to simplified Chinese (OpenCC), lower
case; jieba search-mode tokens for the keyword index. The glossary's Han-script names are
added to jieba's dictionary so company and product names stay whole. The stopwords are data
(``rag/data/stopwords.tsv``, read through ``rag.datafiles``); what the tokens depend on is
summed up by ``rag.datafiles.data_fingerprint()``, which the store records. It does not
decide a text's language (``rag.lang``), expand queries (``rag.glossary``) or stem English
words (``rag.lexicon``).
"""

from __future__ import annotations

import hashlib
import importlib
import io
import os
import pickle
import re
import threading
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from rag import datafiles
from rag.lang import HAN, HAN_CHAR

_lock = threading.RLock()
_t2s: Any = None
_jieba_ready = False

STOPWORDS_FILE = "stopwords.tsv"
# filled from the data file at import, refilled in place by rag.datafiles.reload()
STOPWORDS: set[str] = set()


def _load_stopwords() -> None:
    words = {row["word"].lower() for row in datafiles.load_tsv(STOPWORDS_FILE) if row.get("word")}
    STOPWORDS.clear()
    STOPWORDS.update(words)


_TOKEN_OK = re.compile(f"[0-9a-z{HAN}]")
_POSSESSIVE = re.compile(r"(?<=[0-9a-z])['’]s(?![0-9a-z])")  # an English possessive's "'s"


def _converter() -> Any:
    global _t2s
    if _t2s is None:
        with _lock:
            if _t2s is None:
                import opencc

                _t2s = opencc.OpenCC("t2s")
    return _t2s


def t2s(text: str) -> str:
    """Traditional Chinese characters as simplified ones (OpenCC ``t2s``), nothing else."""
    return str(_converter().convert(text))


_tw2sp: Any = None


@lru_cache(maxsize=8192)
def mainland(text: str) -> str:
    """``text`` in mainland simplified wording (OpenCC ``tw2sp``: 頻寬 -> 带宽, 奈米 -> 纳米,
    記憶體 -> 内存), for testing what a sentence says; lengths change, so never for offsets."""
    global _tw2sp
    if not HAN_CHAR.search(text):
        return text
    if _tw2sp is None:
        with _lock:
            if _tw2sp is None:
                import opencc

                _tw2sp = opencc.OpenCC("tw2sp")
    return str(_tw2sp.convert(unicodedata.normalize("NFKC", text)))


def simplified(text: str) -> str:
    """Half-width, simplified text of the same meaning, case kept (units such as Gbps/GBps
    differ by case)."""
    text = unicodedata.normalize("NFKC", text)
    if HAN_CHAR.search(text):
        text = t2s(text)
    return text


def normalize(text: str) -> str:
    """Half-width, simplified, lower-case text of the same meaning."""
    return simplified(text).lower()


def load_jieba() -> Any:
    """jieba, its dictionary loaded with the glossary's Han-script names (once per process)."""
    global _jieba_ready
    import jieba

    if not _jieba_ready:
        with _lock:
            if not _jieba_ready:
                import logging

                jieba.setLogLevel(logging.WARNING)
                from rag.glossary import tokenizer_words

                words = [normalize(a) for a in tokenizer_words()]
                if not _load_dictionary(jieba, words):
                    for w in words:
                        jieba.add_word(w, freq=20000)
                    jieba.initialize()
                    _save_dictionary(jieba, words)
                _jieba_ready = True
    return jieba


def _dictionary_cache(jieba: Any, words: list[str]) -> Path:
    """Where jieba's prefix dictionary, glossary words added, is kept between runs."""
    return _cache_file(jieba, "jieba-", words)


def _cache_file(jieba: Any, prefix: str, words: Sequence[str] = ()) -> Path:
    """A cache file of what jieba reads from its dictionary (and ``words``), named by a key
    of jieba's version, the dictionary file and the words: any of them changed, a new one."""
    src = Path(jieba.dt.dictionary or Path(jieba.__file__).parent / "dict.txt")
    st = src.stat()
    key = hashlib.sha256(
        "\n".join(
            [jieba.__version__, str(src), str(st.st_size), str(st.st_mtime_ns), *words]
        ).encode()
    ).hexdigest()[:16]
    from rag.config import cache_dir

    return cache_dir() / f"{prefix}{key}.pickle"


def _write_cache(path: Path, value: Any, prefix: str) -> None:
    """Pickle ``value`` to ``path`` atomically and prune older ``prefix*`` files; a
    read-only cache directory only costs the faster start."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        return
    from rag.config import prune_cache

    prune_cache(path, prefix)  # the files of an older glossary or jieba


def _load_dictionary(jieba: Any, words: list[str]) -> bool:
    """Load the cached prefix dictionary: 0.4 s, where jieba's own cache takes 1.2 s (that is
    most of a cold ``rag ask``). False when there is none or it cannot be read."""
    try:
        with _dictionary_cache(jieba, words).open("rb") as f:
            freq, total = pickle.load(f)
    except Exception:  # missing, truncated or from another version: rebuild it
        return False
    if not isinstance(freq, dict) or not isinstance(total, int):
        return False
    jieba.dt.FREQ, jieba.dt.total, jieba.dt.initialized = freq, total, True
    return True


def _save_dictionary(jieba: Any, words: list[str]) -> None:
    try:
        path = _dictionary_cache(jieba, words)
    except OSError:
        return
    _write_cache(path, (jieba.dt.FREQ, jieba.dt.total), "jieba-")


_posseg_ready = False


def load_posseg() -> Any:
    """``jieba.posseg`` over ``load_jieba``'s dictionary (once per process).

    Importing it reads jieba's 349k-line dict.txt for the word tags: 0.27 s alone and up to
    0.65 s beside the embedder, the largest one-time cost of an ingest's entity extraction.
    The tags are kept in the cache directory like the prefix dictionary and read from there
    (0.16 s); the import then reads no dictionary lines (a tag table of jieba's own making
    either way: ``tests/test_lexicon_glossary.py`` compares the two)."""
    global _posseg_ready
    jieba = load_jieba()
    if not _posseg_ready:
        with _lock:
            if not _posseg_ready:
                _import_posseg(jieba)
                _posseg_ready = True
    return importlib.import_module("jieba.posseg")


def _import_posseg(jieba: Any) -> None:
    import sys

    if "jieba.posseg" in sys.modules:  # imported by someone else: its tags are read already
        return
    path: Path | None = None
    try:
        path = _cache_file(jieba, "posseg-")
        with path.open("rb") as f:
            tags = pickle.load(f)
    except Exception:  # missing, truncated or another version's: jieba reads dict.txt
        tags = None
    if isinstance(tags, dict) and tags:
        jieba.dt.get_dict_file = io.BytesIO  # an instance attribute: the import reads nothing
        try:
            posseg = importlib.import_module("jieba.posseg")
        finally:
            del jieba.dt.get_dict_file
        posseg.dt.word_tag_tab = tags
        return
    posseg = importlib.import_module("jieba.posseg")
    if path is not None:
        _write_cache(path, posseg.dt.word_tag_tab, "posseg-")


# -- a term in text: one matcher for aliases and cue words ---------------------------------
ALIAS = "alias"
"""Names (companies, products, model numbers): a term with no Han character is a whole word
whose edges are Latin letters *and digits*, so "h20" is not found in "h200" nor "9000" in
"19000"; a Han term is a substring (Chinese has no word edges)."""
CUE = "cue"
"""Words of a cue list: a term with a Latin letter is a whole word whose edges are letters
only, so a unit after a figure counts ("nm" in "5nm", "w" in "700w"); Han, digit and symbol
cues ("%", "20") are substrings."""
_EDGES = {ALIAS: "a-z0-9", CUE: "a-z"}
_LATIN = re.compile("[A-Za-z]")


def term_pattern(
    term: str, kind: str = ALIAS, *, prefix: bool = False, plural: bool = False
) -> str:
    """The regular expression (source) that finds ``term`` as ``kind`` says.

    The term is matched as written: callers pass it in the form of the text they search
    (normalised, lower case, or raw text searched with ``re.I``).

    Args:
        term: the alias or cue.
        kind: ``ALIAS`` or ``CUE`` (which terms are whole words, and what their edges are).
        prefix: a trailing ``*`` makes the word a prefix ("reason*": reasons, reasoning).
        plural: an alias ending in a digit also matches with an ``s`` ("9000" in "9000s").
    """
    star = prefix and term.endswith("*")
    body = term[:-1] if star else term
    pat = re.escape(body)
    whole = not HAN_CHAR.search(body) if kind == ALIAS else bool(_LATIN.search(body))
    if not whole:
        return pat
    edge = _EDGES[kind]
    if plural and body[-1:].isdigit():
        pat += "s?"
    return rf"(?<![{edge}]){pat}" + ("" if star else rf"(?![{edge}])")


@lru_cache(maxsize=16384)
def term_rx(
    term: str, kind: str = ALIAS, *, prefix: bool = False, plural: bool = False, flags: int = 0
) -> re.Pattern[str]:
    """``term_pattern`` compiled, once per term."""
    return re.compile(term_pattern(term, kind, prefix=prefix, plural=plural), flags)


def has_term(
    text: str, term: str, kind: str = ALIAS, *, prefix: bool = False, plural: bool = False
) -> bool:
    """``term`` occurs in ``text`` as ``kind`` says (see ``term_pattern``); case as given."""
    body = term[:-1] if prefix and term.endswith("*") else term
    if body not in text:  # the common case costs a substring test, no pattern
        return False
    return term_rx(term, kind, prefix=prefix, plural=plural).search(text) is not None


@lru_cache(maxsize=2048)
def _tokens_cached(text: str) -> tuple[str, ...]:
    return tuple(tokenize_uncached(text))


def tokenize_uncached(text: str) -> list[str]:
    """Keyword tokens of ``text``: normalised jieba search-mode words, stopwords dropped."""
    norm = _POSSESSIVE.sub("", normalize(text))  # "VX900's": no "s" token to match "GB/s"
    out = []
    for tok in load_jieba().lcut_for_search(norm):
        tok = tok.strip()
        if tok and tok not in STOPWORDS and _TOKEN_OK.search(tok):
            out.append(tok)
    return out


def tokenize(text: str) -> list[str]:
    """Cached ``tokenize_uncached`` for short texts such as queries."""
    if len(text) > 2000:
        return tokenize_uncached(text)
    return list(_tokens_cached(text))


def _reload() -> None:
    """Data files changed: new stopwords, and jieba's dictionary rebuilt on next use."""
    global _jieba_ready
    with _lock:
        _load_stopwords()
        _tokens_cached.cache_clear()
        if _jieba_ready:
            import jieba

            jieba.dt.initialized = False  # the next add_word or load starts from jieba's own
            _jieba_ready = False


datafiles.on_reload(_reload)
_load_stopwords()
