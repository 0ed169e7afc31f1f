"""The entities and facts of every stored document, in SQLite (``<data_dir>/facts.sqlite3``).

Safe for several processes: WAL journal, a connection per call, one short transaction per
document. Derived data: ``rag.qa.QA.factstore`` rebuilds it from what Chroma holds when the
file is missing or was built by other extraction rules (``fingerprint``). Entities are kept
per document and merged by id when read; ``match_entities`` finds the known names in a
question (Latin names on word boundaries; case, width, traditional/simplified and pinyin
spacing do not matter).

It does not extract anything (``rag.entities``, ``rag.facts``) or decide what a question
asks (the question analyser does).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rag.entities import compact_key
from rag.errors import StoreError
from rag.knowledge import Entity, Fact
from rag.textnorm import normalize

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS docs (doc_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS entities (
    entity_id TEXT, doc_id TEXT, name TEXT, kind TEXT, aliases TEXT, vendor TEXT,
    PRIMARY KEY (entity_id, doc_id));
CREATE TABLE IF NOT EXISTS aliases (alias TEXT, entity_id TEXT, doc_id TEXT);
CREATE INDEX IF NOT EXISTS aliases_alias ON aliases (alias);
CREATE INDEX IF NOT EXISTS aliases_doc ON aliases (doc_id);
CREATE TABLE IF NOT EXISTS facts (
    fact_id TEXT, doc_id TEXT, entity_id TEXT, attribute TEXT, period TEXT, body TEXT,
    PRIMARY KEY (doc_id, fact_id));
CREATE INDEX IF NOT EXISTS facts_entity ON facts (entity_id);
CREATE INDEX IF NOT EXISTS facts_attribute ON facts (attribute);
"""
_LATIN = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_DROP = frozenset(" \t\n-_·.・'’")


def data_fingerprint(version: str) -> str:
    """Hash of every ``rag/data`` file and the extractor version: what the facts depend on."""
    h = hashlib.sha256(version.encode())
    data = Path(__file__).resolve().parent / "data"
    for p in sorted(data.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(data).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


class FactStore:
    """Entities and facts per document, with alias lookup for questions."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._cat: _Catalog | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._conn() as c:
                c.execute("PRAGMA journal_mode=WAL")
                c.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as e:
            raise StoreError(f"cannot open the facts database {self.path}: {e}") from e

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            with conn:  # one transaction, committed (or rolled back) here
                yield conn
        finally:
            conn.close()

    def _bump(self, c: sqlite3.Connection) -> None:
        c.execute(
            "INSERT INTO meta VALUES ('generation', '1') ON CONFLICT(key) DO UPDATE "
            "SET value = CAST(value AS INTEGER) + 1"
        )

    def generation(self) -> str:
        """Changes whenever any process writes."""
        with self._conn() as c:
            row = c.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return row[0] if row else "0"

    # -- writes ------------------------------------------------------------------------------
    def replace_document(self, doc_id: str, entities: list[Entity], facts: list[Fact]) -> None:
        """Store a document's entities and facts, replacing what it had."""
        self.replace_documents([(doc_id, entities, facts)])

    def replace_documents(self, items: list[tuple[str, list[Entity], list[Fact]]]) -> None:
        """``replace_document`` for several documents in one transaction (an ingest writes
        a batch of documents at once: one commit, one sync, instead of one each)."""
        if not items:
            return
        with self._conn() as c:
            for doc_id, entities, facts in items:
                self._replace(c, doc_id, entities, facts)
            self._bump(c)

    def replace_documents_or_each(self, items: list[tuple[str, list[Entity], list[Fact]]]) -> int:
        """``replace_documents``, else one document at a time, so a document the database
        refuses never costs the others their facts; how many were not written."""
        try:
            self.replace_documents(items)
            return 0
        except Exception:
            lost = 0
            for item in items:
                try:
                    self.replace_documents([item])
                except Exception:
                    lost += 1
            return lost

    def _replace(
        self, c: sqlite3.Connection, doc_id: str, entities: list[Entity], facts: list[Fact]
    ) -> None:
        self._delete(c, doc_id)
        c.execute("INSERT OR REPLACE INTO docs VALUES (?)", (doc_id,))
        for e in entities:
            c.execute(
                "INSERT OR REPLACE INTO entities VALUES (?, ?, ?, ?, ?, ?)",
                (e.entity_id, doc_id, e.name, e.kind, json.dumps(e.aliases), e.vendor),
            )
            keys = {compact_key(a) for a in [e.name, e.entity_id, *e.aliases]}
            c.executemany(
                "INSERT INTO aliases VALUES (?, ?, ?)",
                [(k, e.entity_id, doc_id) for k in keys if len(k) >= 2],
            )
        c.executemany(
            "INSERT OR REPLACE INTO facts VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    f.fact_id,
                    doc_id,
                    f.entity_id,
                    f.attribute,
                    f.period or f.date or "",
                    json.dumps(f.to_dict(), ensure_ascii=False),
                )
                for f in facts
            ],
        )

    @staticmethod
    def _delete(c: sqlite3.Connection, doc_id: str) -> None:
        for table in ("docs", "entities", "aliases", "facts"):
            c.execute(f"DELETE FROM {table} WHERE doc_id = ?", (doc_id,))

    def delete_document(self, doc_id: str) -> None:
        """Forget a document's entities and facts."""
        with self._conn() as c:
            self._delete(c, doc_id)
            self._bump(c)

    def clear(self) -> None:
        """Forget everything (the fingerprint too)."""
        with self._conn() as c:
            for table in ("docs", "entities", "aliases", "facts"):
                c.execute(f"DELETE FROM {table}")
            c.execute("DELETE FROM meta WHERE key = 'fingerprint'")
            self._bump(c)

    def fingerprint(self) -> str | None:
        with self._conn() as c:
            row = c.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()
        return row[0] if row else None

    def set_fingerprint(self, fp: str) -> None:
        with self._conn() as c:
            c.execute("INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?)", (fp,))

    # -- reads -------------------------------------------------------------------------------
    def doc_ids(self) -> set[str]:
        with self._conn() as c:
            return {r[0] for r in c.execute("SELECT doc_id FROM docs")}

    def _rows(self) -> dict[str, Entity]:
        """Entities by id, each merged over the documents that name it."""
        with self._conn() as c:
            rows = c.execute(
                "SELECT entity_id, doc_id, name, kind, aliases, vendor FROM entities "
                "ORDER BY entity_id, doc_id"
            ).fetchall()
        merged: dict[str, Entity] = {}
        kinds: dict[str, Counter[str]] = {}
        vendors: dict[str, Counter[str]] = {}
        for eid, doc_id, name, kind, aliases, vendor in rows:
            e = merged.get(eid)
            if e is None:
                e = merged[eid] = Entity(eid, name, kind, [], None, [])
            e.doc_ids.append(doc_id)
            have = {a.lower() for a in e.aliases}
            e.aliases += [a for a in json.loads(aliases or "[]") if a.lower() not in have]
            kinds.setdefault(eid, Counter())[kind] += 1
            if vendor:
                vendors.setdefault(eid, Counter())[vendor] += 1
        for eid, e in merged.items():
            e.kind = kinds[eid].most_common(1)[0][0]
            if eid in vendors:
                e.vendor = vendors[eid].most_common(1)[0][0]
        return merged

    def _catalog(self) -> _Catalog:
        """The merged entities and the alias index, rebuilt when any process wrote."""
        gen = self.generation()
        cat = self._cat
        if cat is not None and cat.generation == gen:
            return cat
        with self._lock:
            if self._cat is None or self._cat.generation != gen:
                self._cat = _build_catalog(gen, self._rows())
            return self._cat

    def entities(self) -> list[Entity]:
        """Every entity, merged over the documents and languages that name it: two ids are
        one entity when one's name is the other's alias (``某芯100E`` and ``100E``)."""
        return list(self._catalog().merged.values())

    def resolve(self, name: str) -> set[str]:
        """Entity ids a name, id or alias refers to."""
        return set(self._catalog().amap.get(compact_key(name), ()))

    def facts(
        self,
        entity: str | None = None,
        attribute: str | None = None,
        vendors: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        doc_ids: set[str] | None = None,
    ) -> list[Fact]:
        """Facts matching every filter given. ``entity`` matches an entity's id, name or any
        alias, or the vendor of an entity (``T-Head`` gives its products' facts too);
        ``since``/``until`` compare the fact's period (else its document date) as
        ``YYYY[-MM[-DD]]`` prefixes. Facts carry their merged entity's id and name."""
        cat = self._catalog()
        allowed: set[str] | None = None
        if entity:
            allowed = cat.with_products(self.resolve(entity))
        if vendors:
            vids: set[str] = set()
            for v in vendors:
                vids |= self.resolve(v)
            by_vendor = cat.with_products(vids)
            allowed = by_vendor if allowed is None else allowed & by_vendor
        sql, args = "SELECT body, period FROM facts", []
        if attribute:
            sql, args = sql + " WHERE attribute = ?", [attribute]
        with self._conn() as c:
            rows = c.execute(sql, args).fetchall()
        out = []
        for body, period in rows:
            f = Fact.from_dict(json.loads(body))
            cid = cat.canon.get(f.entity_id, f.entity_id)
            if allowed is not None and cid not in allowed:
                continue
            if doc_ids is not None and f.doc_id not in doc_ids:
                continue
            if since and period and period[: len(since)] < since:
                continue
            if until and period and period[: len(until)] > until:
                continue
            if cid in cat.merged:
                f.entity_id, f.entity = cid, cat.merged[cid].name
            out.append(f)
        out.sort(key=lambda f: (f.entity_id, f.attribute, f.period or "", f.doc_id, f.start))
        return out

    # -- questions ---------------------------------------------------------------------------
    def match_entities(self, text: str) -> list[tuple[Entity, int, int]]:
        """Every known entity whose name or alias occurs in ``text``, with its span (offsets
        into ``text``); the longest name wins where two overlap."""
        cat = self._catalog()
        if not cat.amap:
            return []
        chars, where = _compact_with_offsets(text)
        comp = "".join(chars)
        out: list[tuple[Entity, int, int]] = []
        i = 0
        while i < len(comp):
            hit = None
            for n in cat.lengths:
                if i + n > len(comp):
                    continue
                key = comp[i : i + n]
                if key in cat.amap and _bounded(text, where, i, i + n, key):
                    hit = (key, n)
                    break
            if hit is None:
                i += 1
                continue
            key, n = hit
            s, e = where[i], where[i + n - 1] + 1
            out += [(cat.merged[cid], s, e) for cid in sorted(cat.amap[key])]
            i += n
        return out


@dataclass
class _Catalog:
    """Entities merged across ids, and the alias index over the merged ids."""

    generation: str
    canon: dict[str, str]  # entity id -> the id of the entity it is merged into
    merged: dict[str, Entity]
    amap: dict[str, set[str]]  # compact alias -> merged ids
    lengths: list[int]  # alias lengths, longest first

    def with_products(self, ids: set[str]) -> set[str]:
        """``ids`` and every entity whose vendor is one of them."""
        return ids | {e.entity_id for e in self.merged.values() if e.vendor in ids}


_KIND_GROUP = {"product": "p", "model": "p", "company": "c", "org": "c"}


def _keys(e: Entity) -> set[str]:
    keys = {compact_key(a) for a in [e.name, e.entity_id, *e.aliases]}
    return {k for k in keys if len(k) >= 2 and not k.isdigit()}  # a bare number names nothing


def _build_catalog(gen: str, ents: dict[str, Entity]) -> _Catalog:
    parent = {eid: eid for eid in ents}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    owners: dict[str, set[str]] = {}
    for eid, e in ents.items():
        for k in _keys(e):
            owners.setdefault(k, set()).add(eid)

    def kind(e: Entity) -> str:
        return _KIND_GROUP.get(e.kind, e.kind)

    for eid, e in sorted(ents.items()):
        names = {compact_key(e.name), compact_key(eid)}
        cands = {o for k in names for o in owners.get(k, ()) if o != eid}
        cands = {o for o in cands if kind(ents[o]) == kind(e)}
        makers = {ents[o].vendor for o in cands if ents[o].vendor} | ({e.vendor} - {None})
        if len(makers) > 1:
            continue  # the name is shared by two makers' products: it stays on its own
        for other in sorted(cands):
            parent[find(other)] = find(eid)
    groups: dict[str, list[Entity]] = {}
    for eid in ents:
        groups.setdefault(find(eid), []).append(ents[eid])
    canon: dict[str, str] = {}
    merged: dict[str, Entity] = {}
    for members in groups.values():
        head = max(members, key=lambda e: (len(e.doc_ids), len(e.name), e.entity_id))
        m = _merge(head, members)
        merged[m.entity_id] = m
        canon.update({e.entity_id: m.entity_id for e in members})
    for m in merged.values():
        if m.vendor:
            m.vendor = canon.get(m.vendor, m.vendor)
    amap: dict[str, set[str]] = {}
    for cid, m in merged.items():
        for k in _keys(m):
            amap.setdefault(k, set()).add(cid)
    return _Catalog(gen, canon, merged, amap, sorted({len(k) for k in amap}, reverse=True))


def _merge(head: Entity, members: list[Entity]) -> Entity:
    aliases: list[str] = []
    seen: set[str] = set()
    for e in [head, *members]:
        for a in [e.name, *e.aliases]:
            if a.lower() not in seen:
                seen.add(a.lower())
                aliases.append(a)
    vendors = Counter(e.vendor for e in members if e.vendor)
    kinds = Counter(e.kind for e in members)
    docs = sorted({d for e in members for d in e.doc_ids})
    vendor = vendors.most_common(1)[0][0] if vendors else None
    return Entity(head.entity_id, head.name, kinds.most_common(1)[0][0], aliases, vendor, docs)


def _compact_with_offsets(text: str) -> tuple[list[str], list[int]]:
    """Normalised characters of ``text`` without spaces/hyphens, and where each came from."""
    chars: list[str] = []
    where: list[int] = []
    whole = normalize(text)
    per_char = len(whole) == len(text)
    for i, ch in enumerate(text):
        n = whole[i] if per_char else normalize(ch)
        for c in n:
            if c in _DROP:
                continue
            chars.append(c)
            where.append(i)
    return chars, where


def _bounded(text: str, where: list[int], i: int, j: int, key: str) -> bool:
    """A Latin name must not start or end inside a longer Latin word of the text."""
    if key[0] in _LATIN:
        s = where[i]
        if s > 0 and text[s - 1].lower() in _LATIN:
            return False
    if key[-1] in _LATIN:
        e = where[j - 1] + 1
        if e < len(text) and text[e].lower() in _LATIN:
            return False
    return True


FACT_COLUMNS = (
    "entity",
    "attribute",
    "value",
    "unit",
    "norm_value",
    "qualifier",
    "precision",
    "period",
    "title",
    "date",
    "doc_id",
    "start",
    "end",
    "quote",
)


def facts_csv(facts: list[Fact]) -> str:
    """Facts as CSV text with a header row (``FACT_COLUMNS``), for the CLI and the web."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(FACT_COLUMNS)
    for f in facts:
        d = f.to_dict()
        w.writerow(["" if d[c] is None else d[c] for c in FACT_COLUMNS])
    return buf.getvalue()


__all__ = ["FACT_COLUMNS", "FactStore", "data_fingerprint", "facts_csv"]
