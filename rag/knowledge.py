"""The knowledge records learned from articles at ingest: entities and typed facts.

Types only (plain dataclasses with ``to_dict``/``from_dict`` for JSON and SQLite rows); the
extraction lives in ``rag.entities`` and ``rag.facts``, the storage in ``rag.factstore``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class Entity:
    """A company, product, model, place, person or organisation named by the text."""

    entity_id: str  # stable key: normalised canonical name (NFKC, simplified, lower-case)
    name: str  # display name as the text writes it
    kind: str  # company | product | model | place | person | org | other
    aliases: list[str] = field(default_factory=list)  # every name for it (zh/en/pinyin/trad)
    vendor: str | None = None  # entity_id of the company that makes/owns it, when the text says so
    doc_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Entity:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class Fact:
    """One typed figure (or date, or round) the text states about an entity, with its span."""

    fact_id: str  # stable hash of (doc_id, start, end, entity_id, attribute, value)
    entity_id: str
    entity: str  # display name
    attribute: str  # one id of the closed vocabulary in rag/data/attributes.yaml
    value: str  # as written in the text: "96GB", "700GB/s", "114.28元", "2025年3月"
    unit: str | None  # normalised unit: GB, GB/s, TB/s, TFLOPS, W, nm, CNY, USD, pct, date ...
    norm_value: float | None  # the value in the base unit of its dimension (bytes, FLOPS, CNY ...)
    qualifier: str | None  # official | planned | rumoured | target | estimate | None
    precision: str | None  # FP8/FP16/BF16/INT8/FP4 ... for compute
    period: str | None  # the date the figure applies to or was reported: YYYY, YYYY-MM, YYYY-MM-DD
    doc_id: str
    start: int  # sentence span: quote == document.text[start:end]
    end: int
    quote: str
    title: str = ""
    date: str | None = None  # document date
    source: str = ""
    lang: str = "zh"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Fact:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


KINDS = ("company", "product", "model", "place", "person", "org", "other")

__all__ = ["KINDS", "Entity", "Fact"]
