"""Ingest progress counts chunks embedded, with a rate and an ETA: CLI bar, API, web upload."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag import QA
from rag.progress import ChunkMeter

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def test_on_chunks_counts_every_chunk_embedded(tmp_path: Path) -> None:
    qa = QA.open(tmp_path / "store", embeddings="fake")
    seen: list[tuple[int, int]] = []
    report = qa.ingest([CORPUS / "articles"], on_chunks=lambda d, t: seen.append((d, t)))
    chunks = sum(f.chunks for f in report.files)
    assert chunks > 20 and seen[-1] == (chunks, chunks)
    done = [d for d, _ in seen]
    assert done == sorted(done) and all(d <= t for d, t in seen)
    again: list[tuple[int, int]] = []
    qa.ingest([CORPUS / "articles"], on_chunks=lambda d, t: again.append((d, t)))
    assert again == []  # unchanged files embed nothing


def test_cli_bar_is_in_chunks_even_for_one_file(tmp_path: Path, capsys) -> None:
    qa = QA.open(tmp_path / "store", embeddings="fake")
    one = sorted((CORPUS / "articles").glob("*.md"))[0]
    qa.ingest([one], progress=True)
    err = capsys.readouterr().err
    assert "chunk" in err and "file" not in err.split("chunk")[0][-20:]


def test_meter_line_has_rate_and_eta() -> None:
    m = ChunkMeter()
    assert m.line() == "0/0 chunks"
    m(0, 100)
    m(25, 100)
    line = m.line()
    assert re.fullmatch(r"25/100 chunks · [\d.]+ chunks/s · ETA [\d.]+ (s|min)", line), line


@pytest.mark.slow
def test_web_upload_shows_chunks_embedded_while_it_runs(tmp_path: Path) -> None:
    from rag.web import upload

    qa = QA.open(tmp_path / "store")  # the real e5 embedder: the upload takes seconds
    big = tmp_path / "big.md"
    texts = [p.read_text("utf-8") for p in sorted((CORPUS / "articles").glob("*.md"))[:12]]
    big.write_text("\n\n".join(texts), "utf-8")
    calls: list[tuple[int, int]] = []

    def progress(pair, desc="", unit=""):
        calls.append(pair)
        assert unit == "chunks" and "chunks" in desc

    steps = list(upload(qa, [str(big)], progress))
    live = [s for s in steps if "embedding 1/1" in s]
    assert live and re.search(r"\d+/\d+ chunks", live[-1])
    assert calls and calls[-1][1] >= 20
    assert "big.md: added" in steps[-1] or "added" in steps[-1]
