"""Chunks point into the document by offsets, stay under the embedder's limit, end at
sentence ends when a sentence fits, and overlap a little."""

from __future__ import annotations

import itertools
import re
from functools import lru_cache
from pathlib import Path

import pytest

from rag.chunking import approx_tokens, chunk_document
from rag.config import Settings
from rag.loaders import iter_files, load_file
from rag.types import Document

ROOT = Path(__file__).resolve().parent.parent
LIMIT = Settings().chunk_size
OVERLAP = Settings().chunk_overlap
# where a sentence may end: Chinese and English ends (half- and full-width), closing quotes
SENTENCE_END = re.compile(r"(?:[。！？!?；;…]|\.(?=\s|$))[”’\"')）]*$")


@lru_cache(maxsize=1)
def corpus_docs() -> list[Document]:
    return [load_file(p).document for p, _ in iter_files([ROOT / "corpus"])]


def doc(text: str, doc_id: str = "d0") -> Document:
    return Document(
        doc_id=doc_id, title="t", source="s", date=None, lang="zh", vendors=[], text=text
    )


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of every sentence in ``text``, by the same ends the chunker uses."""
    spans, start = [], 0
    for m in re.finditer(r"(?:[。！？!?；;…]|\.(?=\s))[”’\"')）]*|\n+", text):
        if m.end() > start:
            spans.append((start, m.end()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def test_every_corpus_chunk_is_its_slice_of_the_document() -> None:
    docs = corpus_docs()
    assert len(docs) >= 41
    total = 0
    for d in docs:
        chunks = chunk_document(d, LIMIT, OVERLAP)
        assert chunks, d.source
        for i, c in enumerate(chunks):
            assert c.text == d.text[c.start : c.end]
            assert c.text and c.text == c.text.strip()
            assert (c.chunk_id, c.doc_id, c.index) == (f"{d.doc_id}:{i}", d.doc_id, i)
        assert [c.start for c in chunks] == sorted(c.start for c in chunks)
        total += len(chunks)
    assert total > len(docs)  # long articles are split


def test_no_chunk_is_over_the_limit_and_the_text_is_covered() -> None:
    for d in corpus_docs():
        chunks = chunk_document(d, LIMIT, OVERLAP)
        covered = bytearray(len(d.text))
        for c in chunks:
            assert approx_tokens(c.text) <= LIMIT, (d.source, c.index)
            covered[c.start : c.end] = b"\x01" * (c.end - c.start)
        lost = "".join(ch for ch, k in zip(d.text, covered, strict=True) if not k)
        assert not lost.strip(), (d.source, lost[:80])


def test_limit_is_sized_for_a_512_token_embedder() -> None:
    assert LIMIT + OVERLAP < 512
    assert approx_tokens("真武810E采用HBM2e") == 5 + 2  # Han counts one each, other text ~4 chars
    assert approx_tokens("a" * 400) == 100


def test_corpus_chunks_end_at_sentence_ends() -> None:
    """Every corpus sentence fits in a chunk, so no chunk may end inside one."""
    for d in corpus_docs():
        for c in chunk_document(d, LIMIT, OVERLAP):
            if c.end == len(d.text) or d.text[c.end] == "\n":
                continue
            assert SENTENCE_END.search(c.text), (d.source, c.text[-40:], d.text[c.end : c.end + 20])


def test_long_chinese_paragraph_splits_at_sentence_ends_with_overlap() -> None:
    sent = [
        f"第{i}句说明昆仑芯P800集群的部署规模和显存容量为96GB，单卡功耗约400瓦。" for i in range(60)
    ]
    text = "".join(sent)  # one paragraph, ~2000 tokens
    d = doc(text)
    chunks = chunk_document(d, LIMIT, OVERLAP)
    assert len(chunks) >= 6
    starts = {s for s, _ in sentences(text)}
    ends = {e for _, e in sentences(text)}
    for a, b in itertools.pairwise(chunks):
        assert a.end in ends and b.start in starts  # whole sentences only
        assert b.start < a.end, "consecutive chunks of one paragraph overlap"
        assert approx_tokens(text[b.start : a.end]) <= OVERLAP
    for c in chunks:
        assert c.text == text[c.start : c.end]
        assert approx_tokens(c.text) <= LIMIT


def test_long_english_paragraph_splits_at_sentence_ends_with_overlap() -> None:
    text = " ".join(
        f"Sentence {i} says the MI325X carries 256GB of HBM3E at 6TB/s for inference."
        for i in range(80)
    )
    chunks = chunk_document(doc(text), LIMIT, OVERLAP)
    assert len(chunks) >= 4
    for a, b in itertools.pairwise(chunks):
        assert a.text.endswith("inference.")
        assert b.text.startswith("Sentence ")
        assert b.start < a.end
    assert chunks[-1].end == len(text)


def test_paragraphs_are_kept_whole_when_they_fit() -> None:
    paras = [f"第{i}段。" + "华为昇腾910C采用7nm工艺。" * 20 for i in range(6)]  # ~300 tokens each
    text = "\n\n".join(paras)
    chunks = chunk_document(doc(text), LIMIT, OVERLAP)
    para_spans = []
    pos = 0
    for p in paras:
        start = text.index(p, pos)
        para_spans.append((start, start + len(p)))
        pos = start + len(p)
    for c in chunks:
        inside = [s for s in para_spans if s[0] <= c.start and c.end <= s[1]]
        assert inside, "a chunk never straddles a paragraph break when paragraphs fit"


def test_sentence_longer_than_the_limit_is_cut_but_offsets_hold() -> None:
    text = "昇腾" * 700 + "。后面还有一句话。"
    chunks = chunk_document(doc(text), LIMIT, OVERLAP)
    assert len(chunks) >= 5
    for c in chunks:
        assert c.text == text[c.start : c.end]
        assert approx_tokens(c.text) <= LIMIT


def test_repeated_text_gets_the_right_offsets() -> None:
    para = "英伟达H20对华出口恢复，公司计提45亿美元费用。" * 12
    text = "\n\n".join([para, "中间的一段说明。", para, para])
    chunks = chunk_document(doc(text), LIMIT, OVERLAP)
    for c in chunks:
        assert c.text == text[c.start : c.end]
    assert len({c.start for c in chunks}) == len(chunks)


@pytest.mark.parametrize("text", ["短。", "x", "A single English sentence."])
def test_short_documents_are_one_chunk(text: str) -> None:
    chunks = chunk_document(doc(text), LIMIT, OVERLAP)
    assert [(c.start, c.end, c.text) for c in chunks] == [(0, len(text), text)]
