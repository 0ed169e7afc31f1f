"""Tests of the knowledge files under rag/data/: loading, checking, fingerprint, rebuilds.

``rag.datafiles`` loads the YAML/TSV files once and fingerprints them with the tokenizer;
the store records the fingerprint and ``rag.keyword.build_index`` re-tokenizes the stored
chunk texts when it changes. These tests edit a copy of the data folder (``DATA_DIR``
pointed at it), against a real embedded Chroma store.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rag import datafiles, glossary, keyword, lexicon, textnorm
from rag.datafiles import DataFileError

# a made-up company: jieba cuts its name in two ("岚", "湖微") until the glossary names it
NAME = "岚湖微"
ARTICLE = (
    "# 岚湖微发布新加速卡\n\n"
    "2025年3月1日，岚湖微发布了一款用于推理的加速卡，采用先进封装。"
    "岚湖微表示，这款加速卡将在年内量产，首批客户来自数据中心。\n\n"
    "分析人士认为，岚湖微的新产品将与国产同类芯片竞争。"
)


def _original_files() -> list[str]:
    return sorted(p.name for p in datafiles.DATA_DIR.iterdir() if p.is_file())


@pytest.fixture
def data_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``DATA_DIR`` pointed at an editable copy; everything reloaded from it, and back."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # jieba's dictionary cache
    original = datafiles.DATA_DIR
    copy = tmp_path / "data"
    shutil.copytree(original, copy)
    datafiles.DATA_DIR = copy
    datafiles.reload()
    try:
        yield copy
    finally:
        datafiles.DATA_DIR = original
        datafiles.reload()


def _add_vendor(data_dir: Path) -> None:
    path = data_dir / "glossary.yaml"
    text = path.read_text(encoding="utf-8")
    assert "\nvendors:\n" in text
    path.write_text(
        text.replace("\nvendors:\n", f"\nvendors:\n  Lanhu: [Lanhu, {NAME}]\n", 1),
        encoding="utf-8",
    )
    datafiles.reload()


# -- the files ------------------------------------------------------------------------------


def test_every_data_file_declares_a_version_and_loads() -> None:
    names = _original_files()
    assert {"glossary.yaml", "glossary_questions.yaml", "lexicon.tsv", "stopwords.tsv"} <= set(
        names
    )
    for name in names:
        assert datafiles.file_version(name) >= 1, name
        assert datafiles.data_path(name).read_text(encoding="utf-8").startswith("#"), (
            f"{name} must be documented at its top"
        )


def test_loaded_tables_are_what_the_modules_use() -> None:
    assert glossary.canonical_vendor("平头哥") == "T-Head"
    assert "的" in textnorm.STOPWORDS and "the" in textnorm.STOPWORDS
    assert "约谈" in lexicon.translations("summoned")
    # a product line names its vendor; a bare model number is not a vendor alias
    assert glossary.detect_vendors("真武系列芯片") == ("T-Head",)
    assert not any("H20" in aliases for aliases in glossary.VENDORS.values())


def test_yaml_without_version_is_a_one_line_error(data_copy: Path) -> None:
    (data_copy / "glossary.yaml").write_text("vendors: {}\n", encoding="utf-8")
    datafiles.load_yaml.cache_clear()
    with pytest.raises(DataFileError, match="version") as e:
        datafiles.load_yaml("glossary.yaml")
    assert "\n" not in str(e.value)


def test_broken_yaml_names_the_file_and_line(data_copy: Path) -> None:
    (data_copy / "glossary_questions.yaml").write_text("version: 1\npointers: [a, b\n")
    datafiles.load_yaml.cache_clear()
    with pytest.raises(DataFileError, match=r"glossary_questions\.yaml line \d+"):
        datafiles.load_yaml("glossary_questions.yaml")


def test_tsv_rows_are_checked(data_copy: Path) -> None:
    path = data_copy / "lexicon.tsv"
    path.write_text("# version: 1\nenglish\tchinese\nsay said\t表示\none column only\n")
    datafiles.load_tsv.cache_clear()
    with pytest.raises(DataFileError, match=r"lexicon\.tsv line 4: 1 columns"):
        datafiles.load_tsv("lexicon.tsv")
    path.write_text("english\tchinese\nsay said\t表示\n")
    datafiles.load_tsv.cache_clear()
    with pytest.raises(DataFileError, match="version"):
        datafiles.load_tsv("lexicon.tsv")


def test_missing_file_and_wrong_shapes_are_data_file_errors(data_copy: Path) -> None:
    (data_copy / "stopwords.tsv").unlink()
    datafiles.load_tsv.cache_clear()
    with pytest.raises(DataFileError, match="cannot read data file"):
        datafiles.load_tsv("stopwords.tsv")
    path = data_copy / "glossary.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("vendor: T-Head", "vendor: Nobody", 1),
        encoding="utf-8",
    )
    datafiles.load_yaml.cache_clear()
    with pytest.raises(DataFileError, match="'Nobody' is not under 'vendors'"):
        glossary._load()
    with pytest.raises(DataFileError, match="list of non-empty strings"):
        datafiles.string_list([1, 2], "somewhere")


def test_an_edited_copy_changes_the_lookups(data_copy: Path) -> None:
    assert glossary.canonical_vendor(NAME) is None
    assert NAME not in textnorm.tokenize(ARTICLE)
    _add_vendor(data_copy)
    assert glossary.canonical_vendor(NAME) == "Lanhu"
    assert glossary.detect_vendors(ARTICLE) == ("Lanhu",)
    assert NAME in textnorm.tokenize(ARTICLE)  # jieba's dictionary was rebuilt with it
    stop = data_copy / "stopwords.tsv"
    stop.write_text(stop.read_text(encoding="utf-8") + "发布\tzh\n", encoding="utf-8")
    datafiles.reload()
    assert "发布" not in textnorm.tokenize(ARTICLE)


# -- the fingerprint ------------------------------------------------------------------------


def test_fingerprint_follows_the_bytes_of_every_data_file(data_copy: Path) -> None:
    first = datafiles.data_fingerprint()
    assert len(first) == 16 and first == datafiles.data_fingerprint()
    path = data_copy / "lexicon.tsv"
    original = path.read_bytes()
    path.write_bytes(original + "wafer fab\t晶圆厂\n".encode())
    datafiles.reload()
    changed = datafiles.data_fingerprint()
    assert changed != first
    path.write_bytes(original)
    datafiles.reload()
    assert datafiles.data_fingerprint() == first  # content, not mtime
    (data_copy / "glossary_extra.yaml").write_text("# new\nversion: 1\n")
    datafiles.reload()
    assert datafiles.data_fingerprint() not in (first, changed)  # a new file counts too


def test_fingerprint_follows_the_tokenizer_version(monkeypatch: pytest.MonkeyPatch) -> None:
    first = datafiles.data_fingerprint()
    monkeypatch.setattr(datafiles, "TOKENIZER_VERSION", datafiles.TOKENIZER_VERSION + 1)
    datafiles.data_fingerprint.cache_clear()
    try:
        assert datafiles.data_fingerprint() != first
    finally:
        monkeypatch.undo()
        datafiles.data_fingerprint.cache_clear()
    assert datafiles.data_fingerprint() == first


# -- the store notices ----------------------------------------------------------------------


def _notes(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


def _lanhu_store(tmp_path: Path):
    from rag import QA

    qa = QA.open(tmp_path / "store", embeddings="fake")
    report = qa.ingest_bytes("lanhu.md", ARTICLE.encode())
    assert report.failed == 0
    return qa


def test_changed_word_lists_retokenize_the_store(
    tmp_path: Path, data_copy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from rag import QA

    caplog.set_level(logging.WARNING, logger="rag.keyword")
    qa = _lanhu_store(tmp_path)
    before = qa.index()
    assert NAME not in before.vocab
    assert qa.store.made_with()["tokens_fp"] == datafiles.data_fingerprint()
    assert not _notes(caplog, "re-tokenized")  # tokens made with this data: read as stored

    _add_vendor(data_copy)
    query = textnorm.tokenize(f"{NAME}的加速卡量产")
    assert NAME in query
    after = QA.open(tmp_path / "store", embeddings="fake").index()  # as a new process would
    assert NAME in after.vocab
    assert set(query) <= set(after.vocab)  # query and index tokens agree again
    hits = after.keyword_search(query, 3)
    assert hits and NAME in after.texts[hits[0][0]]
    assert len(_notes(caplog, "re-tokenized 1 chunks")) == 1
    assert _notes(caplog, "saved them to the store")
    # the new tokens were written back, and the store knows what they were made with
    stored = list(qa.store.iter_chunk_meta(with_text=True))
    assert stored
    for _cid, meta in stored:  # exactly what this code makes of the text
        assert meta["tokens"].split() == textnorm.tokenize_uncached(meta["text"])
    assert qa.store.made_with()["tokens_fp"] == datafiles.data_fingerprint()
    # vendor tags cannot be remade from Chroma: the note names the command
    assert _notes(caplog, "rag reset --yes && rag ingest")

    # texts and vectors were left alone
    assert list(after.texts) == list(before.texts)
    assert before.dense is not None and after.dense is not None
    for lang, block in before.dense.blocks.items():
        assert np.array_equal(block, after.dense.blocks[lang])

    caplog.clear()
    keyword._noted.clear()
    again = QA.open(tmp_path / "store", embeddings="fake").index()
    assert NAME in again.vocab
    assert not _notes(caplog, "re-tokenized")  # nothing left to redo
    assert keyword._load(keyword._cache_path(qa.store), "no such key", 0) is None


def test_a_store_that_never_recorded_a_fingerprint_is_retokenized_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from rag import QA

    caplog.set_level(logging.WARNING, logger="rag.keyword")
    qa = _lanhu_store(tmp_path)
    # as a store made before fingerprints existed
    qa.store.record_made_with({"tokens_fp": "", "vendors_fp": ""})
    assert qa.store.made_with() == {}
    idx = QA.open(tmp_path / "store", embeddings="fake").index()
    assert len(idx) == 1
    assert len(_notes(caplog, "re-tokenized 1 chunks")) == 1
    assert not _notes(caplog, "rag reset")  # an unknown vendor table is adopted, not blamed
    assert qa.store.made_with() == {
        "tokens_fp": datafiles.data_fingerprint(),
        "vendors_fp": glossary.vendor_fingerprint(),
    }


def test_the_package_ships_every_data_file() -> None:
    """pyproject's package-data patterns cover every file under rag/data/, nested ones too."""
    import fnmatch
    import tomllib

    root = Path(__file__).resolve().parent.parent
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["rag"]
    for path in (root / "rag" / "data").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            rel = path.relative_to(root / "rag").as_posix()
            assert any(fnmatch.fnmatch(rel, p) for p in patterns), (rel, patterns)
    assert any(fnmatch.fnmatch("data/sub/x.yaml", p) for p in patterns)  # nested files too


def test_follow_up_words_come_from_the_data(data_copy: Path) -> None:
    from rag.question import analyse, needs_context, resolved_text

    history = [{"role": "user", "content": "英伟达 2025年上半年的营收是多少？"}]
    assert not needs_context("另外A100的功耗是多少")  # names its own entity, no pointer word
    assert resolved_text(analyse("净利润呢？", history)) == "英伟达 2025年上半年 净利润呢？"
    path = data_copy / "question.yaml"
    text = path.read_text(encoding="utf-8")
    assert "  zh: [它, " in text
    path.write_text(text.replace("  zh: [它, ", "  zh: [另外, 它, ", 1), encoding="utf-8")
    datafiles.reload()
    assert needs_context("另外A100的功耗是多少")


def test_a_glossary_entry_that_is_not_a_mapping_names_its_section(data_copy: Path) -> None:
    path = data_copy / "glossary.yaml"
    text = path.read_text(encoding="utf-8")
    for line, section, shape in (
        ("products:\n", "products", "aliases"),
        ("attributes:\n", "attributes", "asked"),
    ):
        path.write_text(text.replace(line, f"{line}  Broken: 7\n", 1), encoding="utf-8")
        datafiles.load_yaml.cache_clear()
        with pytest.raises(
            DataFileError, match=rf"glossary\.yaml {section}\.Broken: expected {{{shape}"
        ):
            glossary._load()
    path.write_text(text, encoding="utf-8")
    datafiles.load_yaml.cache_clear()
