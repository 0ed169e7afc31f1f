"""Chip glossary: vendor, product and term aliases across Chinese, English and pinyin.

Used to expand queries so English questions find Chinese text and the reverse, to tag
documents with vendors, and to tell which attribute (memory, bandwidth, price ...) a
question asks for. The knowledge itself is seed data in ``rag/data/glossary.yaml`` (and the
attribute masks in ``rag/data/glossary_questions.yaml``), read once by ``rag.datafiles``;
this module only builds lookups over it. Entities that single articles name are learned from
the text at ingest, not listed here. No retrieval logic here.

``VENDORS``, ``PRODUCTS``, ``TERMS`` and ``ATTRIBUTES`` are filled from the data at import
and refilled in place by ``rag.datafiles.reload()``, so modules that imported them see the
same objects.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from rag import datafiles
from rag.datafiles import DataFileError, string_list
from rag.lang import HAN_CHAR
from rag.textnorm import CUE, has_term

GLOSSARY_FILE = "glossary.yaml"
QUESTIONS_FILE = "glossary_questions.yaml"

# canonical vendor -> aliases: the company's names, then the names of its product lines
# (matched case-insensitively; Chinese as substrings)
VENDORS: dict[str, list[str]] = {}
# product lines (more specific than vendors): canonical -> aliases in every language
PRODUCTS: dict[str, list[str]] = {}
# groups of terms that mean the same thing; any member expands to the others
TERMS: list[list[str]] = []
# attributes a question can ask for: (question cues, evidence cues that must be present)
ATTRIBUTES: dict[str, tuple[list[str], list[str]]] = {}
_masks: list[re.Pattern[str]] = []  # one pattern, or none: phrases hiding an attribute cue
_mask_words: dict[str, str] = {}


def _entries(raw: dict[Any, Any], where: str, shape: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The (name, mapping) entries of one section of a data file; a non-mapping is an error."""
    for name, entry in raw.items():
        if not isinstance(entry, dict):
            raise DataFileError(f"{where}.{name}: expected {shape}")
        yield str(name), entry


def _vendors_and_products(
    data: dict[str, Any],
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    where = datafiles.data_path(GLOSSARY_FILE)
    raw_vendors = data.get("vendors")
    raw_products = data.get("products") or {}
    if not isinstance(raw_vendors, dict) or not isinstance(raw_products, dict):
        raise DataFileError(f"{where}: 'vendors' and 'products' must be mappings")
    vendors = {str(v): string_list(a, f"{where} vendors.{v}") for v, a in raw_vendors.items()}
    products: dict[str, list[str]] = {}
    for name, entry in _entries(raw_products, f"{where} products", "{aliases: [...], vendor: ...}"):
        aliases = string_list(entry.get("aliases"), f"{where} products.{name}.aliases")
        products[name] = aliases
        vendor = entry.get("vendor")
        if vendor is None:
            continue
        if vendor not in vendors:
            raise DataFileError(
                f"{where} products.{name}: vendor {vendor!r} is not under 'vendors'"
            )
        # naming a product line names its vendor: its aliases join the vendor's
        known = {a.lower() for a in vendors[vendor]}
        vendors[vendor] += [a for a in aliases if a.lower() not in known]
    return vendors, products


def _terms_and_attributes(
    data: dict[str, Any],
) -> tuple[list[list[str]], dict[str, tuple[list[str], list[str]]]]:
    where = datafiles.data_path(GLOSSARY_FILE)
    raw_terms, raw_attrs = data.get("terms"), data.get("attributes")
    if not isinstance(raw_terms, list) or not isinstance(raw_attrs, dict):
        raise DataFileError(f"{where}: 'terms' must be a list and 'attributes' a mapping")
    terms = [string_list(g, f"{where} terms[{i}]") for i, g in enumerate(raw_terms)]
    attributes: dict[str, tuple[list[str], list[str]]] = {}
    for name, entry in _entries(
        raw_attrs, f"{where} attributes", "{asked: [...], evidence: [...]}"
    ):
        attributes[name] = (
            string_list(entry.get("asked"), f"{where} attributes.{name}.asked"),
            string_list(entry.get("evidence"), f"{where} attributes.{name}.evidence"),
        )
    return terms, attributes


def _mask_pattern() -> tuple[list[re.Pattern[str]], dict[str, str]]:
    where = datafiles.data_path(QUESTIONS_FILE)
    raw = datafiles.load_yaml(QUESTIONS_FILE).get("attribute_masks") or {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise DataFileError(f"{where}: 'attribute_masks' must map phrases to words")
    words = {str(k).lower(): v for k, v in raw.items()}
    if not words:
        return [], {}
    alts = sorted(words, key=len, reverse=True)  # the longest phrase wins
    rx = "|".join(r"\s+".join(map(re.escape, p.split())) for p in alts)
    return [re.compile(rx)], words


def _load() -> None:
    """(Re)fill the module's tables from the data files, in place."""
    data = datafiles.load_yaml(GLOSSARY_FILE)
    vendors, products = _vendors_and_products(data)
    terms, attributes = _terms_and_attributes(data)
    masks, mask_words = _mask_pattern()
    VENDORS.clear()
    VENDORS.update(vendors)
    PRODUCTS.clear()
    PRODUCTS.update(products)
    TERMS[:] = terms
    ATTRIBUTES.clear()
    ATTRIBUTES.update(attributes)
    _masks[:] = masks
    _mask_words.clear()
    _mask_words.update(mask_words)
    for fn in (detect_vendors, expand_query, matched_groups, vendor_fingerprint):
        fn.cache_clear()


def tokenizer_words() -> list[str]:
    """Han-script aliases of every vendor, product and term: jieba keeps them whole."""
    groups = [*VENDORS.values(), *PRODUCTS.values(), *TERMS]
    return list(dict.fromkeys(a for g in groups for a in g if HAN_CHAR.search(a)))


@lru_cache(maxsize=1)
def vendor_fingerprint() -> str:
    """A short hash of the vendor table: document vendor tags were made with it."""
    blob = json.dumps(VENDORS, ensure_ascii=False, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


@lru_cache(maxsize=4096)
def detect_vendors(text: str) -> tuple[str, ...]:
    """Canonical vendor names mentioned in ``text``, in glossary order."""
    low = text.lower()
    return tuple(
        v for v, aliases in VENDORS.items() if any(has_term(low, a.lower()) for a in aliases)
    )


def canonical_vendor(name: str) -> str | None:
    """The canonical name for a vendor alias (a Chinese alias -> the English name the glossary lists first), or None."""
    low = name.strip().lower()
    for v, aliases in VENDORS.items():
        if low == v.lower() or any(low == a.lower() for a in aliases):
            return v
    return None


@lru_cache(maxsize=4096)
def expand_query(query: str) -> tuple[str, ...]:
    """Aliases of every vendor and term the query mentions, excluding what it already says."""
    seen: set[str] = set()
    out = []
    for group in expansion_groups(query):
        for t in group:
            if t.lower() not in seen:
                seen.add(t.lower())
                out.append(t)
    return tuple(out)


def expansion_groups(query: str) -> tuple[tuple[str, ...], ...]:
    """``expand_query`` kept by vendor or term group: the aliases of one thing together."""
    return tuple(kept for _, kept in matched_groups(query))


@lru_cache(maxsize=4096)
def matched_groups(query: str) -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
    """Each vendor or term group the query mentions: (every alias of the group, the aliases
    it expands the query with, i.e. the first ones the query does not already say)."""
    low = query.lower()
    groups: list[tuple[list[str], list[str]]] = []
    for aliases in VENDORS.values():
        if any(has_term(low, a.lower()) for a in aliases):
            groups.append((aliases, aliases[:4]))
    for group in TERMS:
        if any(has_term(low, t.lower()) for t in group if len(t) > 1):
            groups.append((group, group))
    out = []
    for members, expansion in groups:
        kept = tuple(t for t in expansion if t.lower() not in low)
        if kept:
            out.append((tuple(members), kept))
    return tuple(out)


def masked(low: str) -> str:
    """A lower-cased question with each ``attribute_masks`` phrase read as its word: "clock
    speed" holds the cue "speed" without asking for a bandwidth."""
    for rx in _masks:
        low = rx.sub(lambda m: _mask_words.get(re.sub(r"\s+", " ", m.group()), m.group()), low)
    return low


def asked_attributes(question: str) -> list[str]:
    """Attributes (``price``, ``power`` ...) the question asks for, by cue words."""
    low = masked(question.lower())
    return [
        a for a, (cues, _) in ATTRIBUTES.items() if any(has_term(low, c.lower(), CUE) for c in cues)
    ]


def evidence_has_attribute(attribute: str, text: str) -> bool:
    """True when ``text`` carries a cue for ``attribute`` (a price, a power figure ...)."""
    low = text.lower()
    return any(has_term(low, c.lower(), CUE) for c in ATTRIBUTES[attribute][1])


datafiles.on_reload(_load)
_load()
