"""The Chroma store: records round-trip, visibility only with a record, orphan clean-up,
deletes that leave nothing behind, generations readers can watch. (Searching what it holds:
tests/test_search.py.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.config import settings_from_env
from rag.errors import NotFoundError
from rag.store import Store
from rag.types import Chunk, Document

DIM = 8


def make_store(tmp_path: Path, embedder_id: str = "test:8") -> Store:
    return Store(settings_from_env(data_dir=tmp_path / "store"), embedder_id)


def make_doc(
    doc_id: str, text: str, *, date: str | None = "2025-01-16", lang: str = "zh", n: int = 2
) -> tuple[Document, list[Chunk], np.ndarray]:
    d = Document(
        doc_id=doc_id,
        title=f"title {doc_id}",
        source="src",
        date=date,
        lang=lang,
        vendors=["TSMC", "NVIDIA"],
        text=text,
        url="https://x.example/" + doc_id,
    )
    step = max(1, len(text) // n)
    chunks = []
    for i in range(n):
        s, e = i * step, (len(text) if i == n - 1 else (i + 1) * step)
        chunks.append(Chunk(f"{doc_id}:{i}", doc_id, i, s, e, text[s:e]))
    rng = np.random.default_rng(abs(hash(doc_id)) % 2**32)
    vecs = rng.normal(size=(n, DIM)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return d, chunks, vecs


def put(
    store: Store, doc_id: str, text: str = "台积电资本开支380亿至420亿美元。CoWoS产能再翻倍。", **kw
) -> Document:
    d, chunks, vecs = make_doc(doc_id, text, **kw)
    store.write_document(d, chunks, vecs, ["tok"] * len(chunks), [f"/corpus/{doc_id}.md"])
    return d


def test_document_round_trips_with_every_field(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    d = put(store, "aaaa", n=3)
    got = store.document("aaaa")
    assert (
        got.doc_id,
        got.title,
        got.source,
        got.date,
        got.lang,
        got.vendors,
        got.text,
        got.url,
    ) == (d.doc_id, d.title, d.source, d.date, d.lang, d.vendors, d.text, d.url)
    assert got.n_chunks == 3
    assert got.path == "/corpus/aaaa.md"
    stored = store.chunks.get(where={"doc_id": "aaaa"}, include=["metadatas", "documents"])
    assert len(stored["ids"]) == 3
    for meta, text in zip(stored["metadatas"], stored["documents"], strict=True):
        assert d.text[meta["start"] : meta["end"]] == text


def test_documents_newest_first_and_without_text_on_request(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    put(store, "old", date="2023-11-13")
    put(store, "new", date="2026-01-29")
    put(store, "undated", date=None)
    assert [d.doc_id for d in store.documents()] == ["new", "old", "undated"]
    assert all(d.text == "" for d in store.documents(with_text=False))


def test_unknown_document_is_not_found(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    with pytest.raises(NotFoundError, match="rag docs"):
        store.document("nope")


def test_delete_document_leaves_no_chunk(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    put(store, "keep")
    put(store, "gone")
    store.delete_document("gone")
    assert [d.doc_id for d in store.documents()] == ["keep"]
    assert store.chunks.get(where={"doc_id": "gone"})["ids"] == []
    assert store.counts() == (2, 1)


def test_chunks_without_a_record_are_invisible_and_cleaned_up(tmp_path: Path) -> None:
    """What a killed ingest leaves: chunks written, record not. Nobody sees them; they go."""
    store = make_store(tmp_path)
    put(store, "whole")
    _d, chunks, vecs = make_doc("half", "写到一半就被杀掉的文档。", n=2)
    store.chunks.upsert(
        ids=[c.chunk_id for c in chunks],
        embeddings=vecs,
        documents=[c.text for c in chunks],
        metadatas=[
            {
                "doc_id": "half",
                "index": c.index,
                "start": c.start,
                "end": c.end,
                "date": 0,
                "lang": "zh",
                "tokens": "",
            }
            for c in chunks
        ],
    )
    assert [d.doc_id for d in store.documents()] == ["whole"]
    assert store.counts() == (4, 1)
    assert store.delete_orphan_chunks() == 2
    assert store.counts() == (2, 1)
    assert store.delete_orphan_chunks() == 0


def test_generation_moves_on_every_change_and_reset_empties(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    g0 = store.generation()
    put(store, "a")
    g1 = store.generation()
    store.delete_document("a")
    g2 = store.generation()
    assert g0 < g1 < g2
    put(store, "b")
    before = store.identity()
    store.reset()
    assert store.documents() == []
    assert store.identity() != before


def test_a_second_store_object_sees_the_same_data(tmp_path: Path) -> None:
    put(make_store(tmp_path), "shared")
    other = make_store(tmp_path)
    assert [d.doc_id for d in other.documents()] == ["shared"]


def test_making_a_client_leaves_the_overrides_checks_as_they_were(tmp_path: Path) -> None:
    """The client is made with ``@override``'s signature checks off (a third of a cold
    start); afterwards the package's decorators are its own again, for everyone else."""
    import subprocess
    import sys

    import overrides

    from rag.store import make_client

    before = overrides.override, overrides.overrides
    make_client(settings_from_env(data_dir=tmp_path))
    assert (overrides.override, overrides.overrides) == before
    # in a fresh process chromadb is imported inside the block: it works, its methods are
    # still marked (EnforceOverrides reads the mark), and the checks are back after
    code = (
        "import overrides, sys\n"
        "from rag.config import settings_from_env\n"
        "from rag.store import make_client\n"
        "c = make_client(settings_from_env(data_dir=sys.argv[1]))\n"
        "c.get_or_create_collection('probe').add(ids=['a'], embeddings=[[1.0, 0.0]])\n"
        "from chromadb.api.rust import RustBindingsAPI\n"
        "assert RustBindingsAPI.heartbeat.__override__\n"
        "assert overrides.override.__module__ == 'overrides.overrides'\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "fresh")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.stdout.strip() == "ok", done.stderr[-2000:]


def test_inside_the_block_override_only_marks_and_outside_it_checks_again() -> None:
    from overrides import EnforceOverrides

    from rag.store import _unchecked_overrides

    class Base(EnforceOverrides):
        def run(self, a: int) -> int:
            return a

    def subclass() -> type:
        import overrides

        class Sub(Base):
            @overrides.override
            def run(self, a: int, b: int) -> int:  # an incompatible signature
                return a + b

        return Sub

    with _unchecked_overrides():
        assert subclass().run.__override__  # marked, not checked
    with pytest.raises(TypeError):
        subclass()  # the package's own check is back
