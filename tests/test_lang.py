"""Script detection (``rag.lang``): what counts as a Han character, the two language checks,
and that no module writes a Han range of its own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag.lang import HAN, HAN_CHAR, HAN_RUN, detect_lang, is_chinese, lang_of

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "ch",
    ["中", "鿿", "㐀", "䶵", "豈", "𠀀", "𪜀"],  # URO ends, extension A, compatibility, ext. B, C
)
def test_every_han_block_is_han(ch: str) -> None:
    assert is_chinese(f"abc{ch}") and lang_of(ch) == "zh" and HAN_CHAR.fullmatch(ch)


@pytest.mark.parametrize("text", ["。，、", "カタカナ", "한국어", "ＡＢＣ", "䷀", "96GB HBM3e", ""])
def test_punctuation_kana_hangul_and_latin_are_not(text: str) -> None:
    assert not is_chinese(text) and lang_of(text) == "en"


def test_han_runs_and_the_class_body_build_patterns() -> None:
    assert HAN_RUN.findall("真武810E的HBM显存") == ["真武", "的", "显存"]
    assert re.findall(rf"[{HAN}]{{2}}\d+", "平头哥真武810") == ["真武810"]


def test_detect_lang_is_the_han_share_of_the_letters() -> None:
    assert detect_lang("平头哥发布真武810E芯片，采用HBM2e显存。") == "zh"
    assert detect_lang("Alibaba's T-Head (平头哥) launched a chip with HBM memory.") == "en"
    assert detect_lang("中abcd") == "zh"  # exactly a fifth: a document in Chinese
    assert detect_lang("中abcde") == "en"
    assert detect_lang("中文abcdef") == "zh"  # a quarter ...
    assert detect_lang("中文abcdef", 0.3) == "en"  # ... is not enough for a reply (rag doctor)
    assert detect_lang("2025 / 96 %") == "" and detect_lang("") == ""


def test_documents_get_the_language_they_were_always_given(tmp_path: Path) -> None:
    from rag.loaders import load_file

    zh = tmp_path / "zh.md"
    zh.write_text("平头哥发布真武810E，HBM2e显存96GB，片间互联带宽700GB/s。", encoding="utf-8")
    en = tmp_path / "en.md"
    en.write_text(
        "T-Head, Alibaba's chip unit (平头哥), showed a new accelerator.", encoding="utf-8"
    )
    nothing = tmp_path / "n.txt"
    nothing.write_text("2025-01-29 12:00", encoding="utf-8")
    langs = [load_file(p).document.lang for p in (zh, en, nothing)]
    assert langs == ["zh", "en", "en"]


def test_no_module_writes_its_own_han_range() -> None:
    own = re.compile(r"\\u4e00|\\u9fff|\\u3400|0x4e00|0x9fff", re.I)
    offenders = [
        f"{p.relative_to(ROOT)}:{i}"
        for top in ("rag", "evals")
        for p in sorted((ROOT / top).rglob("*.py"))
        if p.name != "lang.py"
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if own.search(line)
    ]
    assert offenders == []


def test_mainland_wording_of_a_taiwan_page() -> None:
    from rag.textnorm import mainland

    assert mainland("記憶體頻寬達到3.2TB/s,採用3奈米製程") == "内存带宽达到3.2TB/s,采用3纳米制程"
    assert mainland("HBM3E memory") == "HBM3E memory"  # no Han: as it is
