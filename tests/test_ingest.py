"""Incremental ingest: unchanged files add nothing (fast), changed files replace their chunks,
removals and --prune delete, identical content is stored once, the summary counts right,
and the keyword index is rebuilt from Chroma alone."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from rag import QA
from rag.errors import NotFoundError
from rag.keyword import build_index
from rag.loaders import content_id

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SUMMARY = re.compile(
    r"^(\d+) added, (\d+) updated, (\d+) unchanged, (\d+) failed(?:, (\d+) skipped)?(?:, (\d+) removed)? in \d+\.\ds$"
)

A = "---\ntitle: 寒武纪半年报\ndate: 2025-08-26\n---\n寒武纪2025年上半年营收28.81亿元，同比增长4347.82%。\n"
B = "---\ntitle: Gaudi 3\ndate: 2024-04-09\n---\nIntel Gaudi 3 has 128GB of HBM2e and 3.7TB/s of bandwidth.\n"
C = "---\ntitle: 摩尔线程上市\ndate: 2025-12-05\n---\n摩尔线程在科创板上市，首日股价大涨。\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def chunk_doc_ids(qa: QA) -> list[str]:
    return [m["doc_id"] for m in qa.store.chunks.get(include=["metadatas"])["metadatas"]]


def assert_consistent(qa: QA) -> None:
    """Every stored chunk belongs to a listed document, which holds exactly n_chunks."""
    docs = {d.doc_id: d for d in qa.documents()}
    owners = chunk_doc_ids(qa)
    assert set(owners) <= set(docs), "orphan chunks"
    for doc_id, d in docs.items():
        assert owners.count(doc_id) == d.n_chunks > 0


def summary_counts(line: str) -> tuple[int, ...]:
    m = SUMMARY.match(line)
    assert m, line
    return tuple(int(g or 0) for g in m.groups())


def test_reingesting_the_unchanged_corpus_adds_nothing_and_is_fast(corpus_qa) -> None:
    before = {d.doc_id for d in corpus_qa.documents()}
    n_chunks = corpus_qa.store.counts()
    t = time.perf_counter()
    report = corpus_qa.ingest([CORPUS])
    elapsed = time.perf_counter() - t
    assert elapsed < 5.0, f"re-ingest took {elapsed:.1f}s"
    assert report.added == report.updated == report.failed == 0
    assert report.unchanged == len(report.files) == len(before) >= 41
    assert {f.status for f in report.files} == {"unchanged"}
    assert summary_counts(report.summary())[:4] == (0, 0, len(before), 0)
    assert {d.doc_id for d in corpus_qa.documents()} == before
    assert corpus_qa.store.counts() == n_chunks


def test_first_ingest_reports_each_file_and_the_summary_counts(fake_qa, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write(folder / "a.md", A)
    write(folder / "b.md", B)
    (folder / "empty.txt").write_bytes(b"")
    report = fake_qa.ingest([folder])
    assert sorted((Path(f.path).name, f.status) for f in report.files) == [
        ("a.md", "added"),
        ("b.md", "added"),
        ("empty.txt", "failed"),
    ]
    assert summary_counts(report.summary())[:4] == (2, 0, 0, 1)
    assert all(f.chunks >= 1 for f in report.files if f.status == "added")
    assert {f.doc_id for f in report.files if f.status == "added"} == {
        content_id(A.encode()),
        content_id(B.encode()),
    }
    assert_consistent(fake_qa)


def test_changed_file_replaces_its_old_chunks(fake_qa, tmp_path: Path) -> None:
    path = write(tmp_path / "a.md", A)
    fake_qa.ingest([path])
    old = content_id(A.encode())
    assert old in chunk_doc_ids(fake_qa)
    changed = A.replace("28.81亿元", "28.8亿元")
    write(path, changed)
    report = fake_qa.ingest([path])
    assert [(f.status, f.doc_id) for f in report.files] == [
        ("updated", content_id(changed.encode()))
    ]
    assert summary_counts(report.summary())[:4] == (0, 1, 0, 0)
    assert [d.doc_id for d in fake_qa.documents()] == [content_id(changed.encode())]
    assert old not in chunk_doc_ids(fake_qa)
    with pytest.raises(NotFoundError):
        fake_qa.document(old)
    assert "28.8亿元" in fake_qa.document(content_id(changed.encode())).text
    assert_consistent(fake_qa)


def test_same_content_under_two_paths_is_stored_once(fake_qa, tmp_path: Path) -> None:
    one = write(tmp_path / "one" / "a.md", A)
    two = write(tmp_path / "two" / "copy of a.md", A)
    report = fake_qa.ingest([one, two])
    assert sorted(f.status for f in report.files) == ["added", "duplicate"]
    assert summary_counts(report.summary())[:4] == (1, 0, 1, 0)
    docs = fake_qa.documents()
    assert len(docs) == 1
    assert chunk_doc_ids(fake_qa).count(docs[0].doc_id) == docs[0].n_chunks
    # editing one copy gives it its own document; the other copy keeps the old one
    write(two, A + "\n补充一句。\n")
    report = fake_qa.ingest([one, two])
    assert sorted(f.status for f in report.files) == ["unchanged", "updated"]
    assert {d.doc_id for d in fake_qa.documents()} == {
        content_id(A.encode()),
        content_id((A + "\n补充一句。\n").encode()),
    }
    assert_consistent(fake_qa)


def test_new_documents_share_store_writes_and_keep_their_own_outcomes(
    fake_qa, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Documents whose vectors are ready together go to Chroma in one write; a copy of one
    of them in the same batch is still a duplicate, and an empty file fails alone."""
    texts = [
        f"---\ntitle: 星河科技 {i}\n---\n星河科技第{i}代芯片Orion X{i}功耗{i}0瓦。\n"
        for i in range(12)
    ]
    files = [write(tmp_path / "in" / f"{i:02d}.md", t) for i, t in enumerate(texts)]
    copy = write(tmp_path / "in" / "zz copy of 03.md", texts[3])
    write(tmp_path / "in" / "05 empty.md", "")
    writes: list[int] = []
    real = fake_qa.store.write_documents

    def counting(items):  # type: ignore[no-untyped-def]
        writes.append(len(items))
        return real(items)

    monkeypatch.setattr(fake_qa.store, "write_documents", counting)
    report = fake_qa.ingest([tmp_path / "in"])
    by_path = {Path(f.path).name: f for f in report.files}
    assert [by_path[f.name].status for f in files] == ["added"] * 12
    assert by_path[copy.name].status == "duplicate"
    assert by_path["05 empty.md"].status == "failed"
    assert sum(writes) == 12 and len(writes) < 12, writes
    assert_consistent(fake_qa)
    assert {d.doc_id for d in fake_qa.documents()} == {content_id(t.encode()) for t in texts}


def test_remove_by_id_and_by_path(fake_qa, tmp_path: Path) -> None:
    a, b, c = (write(tmp_path / n, t) for n, t in (("a.md", A), ("b.md", B), ("c.md", C)))
    fake_qa.ingest([a, b, c])
    assert fake_qa.remove(content_id(A.encode())) == [content_id(A.encode())]
    assert fake_qa.remove(str(b)) == [content_id(B.encode())]
    assert [d.doc_id for d in fake_qa.documents()] == [content_id(C.encode())]
    assert set(chunk_doc_ids(fake_qa)) == {content_id(C.encode())}
    with pytest.raises(NotFoundError, match="rag docs"):
        fake_qa.remove("no-such-doc")
    # removed files come back as new when ingested again
    assert fake_qa.ingest([a]).added == 1


def test_prune_deletes_documents_whose_files_are_gone(fake_qa, tmp_path: Path) -> None:
    folder = tmp_path / "news"
    other = tmp_path / "other"
    write(folder / "a.md", A)
    gone = write(folder / "sub" / "b.md", B)
    write(other / "c.md", C)
    fake_qa.ingest([folder, other])
    gone.unlink()
    plain = fake_qa.ingest([folder])
    assert plain.removed == [] and len(fake_qa.documents()) == 3  # only --prune deletes
    report = fake_qa.ingest([folder], prune=True)
    assert report.removed == [content_id(B.encode())]
    assert summary_counts(report.summary()) == (0, 0, 1, 0, 0, 1)
    # documents from folders not named are left alone
    assert {d.doc_id for d in fake_qa.documents()} == {
        content_id(A.encode()),
        content_id(C.encode()),
    }
    assert_consistent(fake_qa)


def test_prune_keeps_a_document_another_path_still_holds(fake_qa, tmp_path: Path) -> None:
    write(tmp_path / "x" / "a.md", A)
    copy = write(tmp_path / "x" / "a copy.md", A)
    fake_qa.ingest([tmp_path / "x"])
    copy.unlink()
    assert fake_qa.ingest([tmp_path / "x"], prune=True).removed == []
    assert [d.doc_id for d in fake_qa.documents()] == [content_id(A.encode())]


def test_keyword_index_is_rebuilt_from_chroma_alone(tmp_path: Path) -> None:
    data = tmp_path / "store"
    qa = QA.open(data, embeddings="fake")
    qa.ingest(
        [write(tmp_path / "a.md", A), write(tmp_path / "b.md", B), write(tmp_path / "c.md", C)]
    )
    assert qa.search("寒武纪 营收", k=1, mode="keyword").passages[0].title == "寒武纪半年报"
    # a new process: nothing but the Chroma folder survives
    for child in data.iterdir():
        if child.name != "chroma":
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    fresh = QA.open(data, embeddings="fake")
    hits = fresh.search("寒武纪 营收", k=3, mode="keyword").passages
    assert hits and hits[0].title == "寒武纪半年报"
    assert hits[0].text == fresh.document(hits[0].doc_id).text[hits[0].start : hits[0].end]
    assert fresh.search("Gaudi HBM2e", k=1, mode="keyword").passages[0].title == "Gaudi 3"
    rebuilt = build_index(fresh.store, use_cache=False)
    assert len(rebuilt) == sum(d.n_chunks for d in fresh.documents())


def test_progress_callback_sees_every_file(fake_qa, tmp_path: Path) -> None:
    write(tmp_path / "in" / "a.md", A)
    write(tmp_path / "in" / "b.md", B)
    seen: list[tuple[int, int, str]] = []
    fake_qa.ingest(
        [tmp_path / "in"], progress=lambda n, total, path: seen.append((n, total, Path(path).name))
    )
    assert seen == [(0, 2, "a.md"), (1, 2, "b.md")]


def test_ingest_bytes_for_uploads(fake_qa) -> None:
    report = fake_qa.ingest_bytes("../../etc/upload.md", A.encode())
    assert [f.status for f in report.files] == ["added"]
    doc = fake_qa.document(content_id(A.encode()))
    assert doc.title == "寒武纪半年报"
    assert fake_qa.ingest_bytes("again.md", A.encode()).files[0].status == "duplicate"
    bad = fake_qa.ingest_bytes("x.pdf", b"%PDF-1.4")
    assert bad.failed == 1 and "not a readable PDF" in bad.failures[0].message
