"""Split a cleaned document into overlapping chunks that know their offsets.

Paragraphs first, then Chinese and English sentence ends, sized for a 512-token
embedder (e5-small) with a small overlap. Uses LangChain's recursive splitter with
``add_start_index``; every chunk satisfies ``chunk.text == doc.text[start:end]`` and knows
its PDF page (``Document.page_at``). It does not clean text (``rag.clean``), tokenise for the
keyword index (``rag.textnorm``), embed or store chunks (``rag.ingest`` does that).
"""

from __future__ import annotations

import re

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.lang import HAN
from rag.types import Chunk, Document

# paragraph, line, then sentence ends (full- and half-width), then clauses, then words
SEPARATORS = [
    "\n\n",
    "\n",
    "。",
    "！",
    "？",
    "!",
    "?",
    "…",
    "；",
    ";",
    ". ",
    "，",
    ",",
    "、",
    " ",
    "",
]

# a token each: CJK punctuation and kana, Han, full-width forms
_HAN = re.compile(f"[\u3000-\u33ff{HAN}\uff00-\uffef]")


def approx_tokens(text: str) -> int:
    """Rough XLM-R token count: one per Han character, one per ~4 other characters."""
    han = len(_HAN.findall(text))
    return han + (len(text) - han + 3) // 4


def make_splitter(
    chunk_tokens: int = 300, overlap_tokens: int = 40
) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        separators=SEPARATORS,
        keep_separator="end",
        chunk_size=chunk_tokens,
        chunk_overlap=overlap_tokens,
        length_function=approx_tokens,
        add_start_index=True,
        strip_whitespace=True,
    )


def chunk_document(doc: Document, chunk_tokens: int = 300, overlap_tokens: int = 40) -> list[Chunk]:
    """Chunks of ``doc.text`` with character offsets into it."""
    splitter = make_splitter(chunk_tokens, overlap_tokens)
    chunks: list[Chunk] = []
    cursor = 0
    for i, lc_doc in enumerate(splitter.create_documents([doc.text])):
        text = lc_doc.page_content
        start = int(lc_doc.metadata.get("start_index", -1))
        if start < 0 or doc.text[start : start + len(text)] != text:
            # the splitter lost track (repeated text); find it from our own cursor
            start = doc.text.find(text, max(0, cursor - len(text)))
            if start < 0:
                start = doc.text.find(text)
        end = start + len(text)
        cursor = end
        chunks.append(
            Chunk(
                chunk_id=f"{doc.doc_id}:{i}",
                doc_id=doc.doc_id,
                index=i,
                start=start,
                end=end,
                text=text,
                page=doc.page_at(start),
            )
        )
    return chunks
