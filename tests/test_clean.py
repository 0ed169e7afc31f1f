"""Forum-noise cleaning: the seed keeps its real text and loses every jammer and chrome line;
jammer inserted by the generator (``tests/noise.py``) into clean paragraphs is removed exactly."""

from __future__ import annotations

import random
import re
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from rag.clean import clean_text, looks_like_forum_paste, strip_jammer
from rag.lang import is_chinese
from rag.loaders import load_file, split_front_matter
from tests.noise import FORUM_FOOTER, FORUM_HEADER, add_jammer, forum_paste, jammer

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "000_3b181778c37663fc.txt"
FORUM_CLEAN = ROOT / "tests" / "fixtures" / "forum_clean"

# written here from FACTS.md, independently of rag.clean: a unit is chr(32..59) + " " +
# chr(63..126); collapsing whitespace turns a unit that starts with a space into " Y"
UNIT = r"(?:[ -;] [?-~]| [?-~])"
JAMMER_AT_END = re.compile(rf"(?:{UNIT}){{5,}}$")
JAMMER_AT_START = re.compile(rf"^(?:{UNIT}){{5,}}")
JAMMER_LINE = re.compile(rf"^\s*(?:{UNIT}){{3,}}\s*$")

REAL_TOKENS = ["09988.HK", "ICN(Inter-Chip-Network)", "700GB/s", "RISC-V", "GPT-5.2", "78563 IPS"]
CHROME = [*FORUM_HEADER, *FORUM_FOOTER]


@lru_cache(maxsize=1)
def seed_raw() -> str:
    return SEED.read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def seed_clean() -> str:
    return clean_text(seed_raw())


def raw_jammer_runs(raw: str) -> list[str]:
    """Every jammer run in the raw seed: whole lines, and runs touching a line end."""
    runs = []
    for line in raw.split("\n"):
        if JAMMER_LINE.match(line):
            runs.append(line.strip())
            continue
        for rx in (JAMMER_AT_END, JAMMER_AT_START):
            m = rx.search(line)
            if m:
                runs.append(m.group())
    return runs


# -- the seed -----------------------------------------------------------------------------


def test_seed_is_a_forum_paste_and_keeps_every_real_token() -> None:
    assert looks_like_forum_paste(seed_raw())
    text = seed_clean()
    for token in REAL_TOKENS:
        assert token in text, token
    # tokens that jammer touched on the page come back whole
    assert "1月29日上午,阿里巴巴集团(09988.HK,下称阿里)" in text
    assert "采用HBM2e内存,容量可达96GB,支持7个独立ICN链路,片间互联带宽达到700GB/s" in text
    assert "2019年7月,平头哥交出第一颗RISC-V处理器芯片玄铁910。" in text
    assert "其峰值性能达78563 IPS,峰值能效达500 IPS/W" in text
    assert "该模型的性能媲美GPT-5.2、Gemini 3 Pro。" in text
    assert text.startswith("大厂“造芯”有了进展。\n\n1月29日上午")
    assert text.endswith("融资金额为60亿元。")


def test_seed_loses_every_jammer_unit_and_chrome_line() -> None:
    raw, text = seed_raw(), seed_clean()
    runs = raw_jammer_runs(raw)
    assert len(runs) > 50  # the seed is full of them; the regex must find them
    for jam in ("5 j; H1 [4 N6 f$ v1 K", "0 a6 @6 K$ k- `% M. M0 g0 y"):
        assert jam in raw
        assert jam not in text
    for run in runs:
        assert run not in text, run
    for line in text.split("\n"):
        assert not JAMMER_AT_END.search(line), line
        assert not JAMMER_AT_START.search(line), line
        assert not JAMMER_LINE.match(line), line
        assert line.strip() not in CHROME, line
    for chrome in ("马上注册", "您需要 登录", "×"):
        assert chrome in raw
        assert chrome not in text
    # every paragraph is real prose: no paragraph is left empty or made of noise
    paragraphs = text.split("\n\n")
    real_lines = [ln for ln in raw.split("\n") if is_chinese(ln) and ln.strip() not in CHROME]
    assert len(paragraphs) == len(real_lines) == 39
    assert all(p.strip() == p and p for p in paragraphs)


def test_loaded_seed_document_is_the_cleaned_text() -> None:
    doc = load_file(SEED).document
    assert doc.text == seed_clean()
    assert doc.date == "2026-01-29"
    assert doc.lang == "zh"


# -- the forum pastes in the corpus -----------------------------------------------------


def clean_fixture(path: Path) -> tuple[dict, str]:
    meta, body = split_front_matter(path.read_text(encoding="utf-8"))
    paragraphs = [p.strip() for p in body.strip().split("\n\n") if p.strip()]
    return meta, "\n\n".join(paragraphs)


FORUM_NAMES = sorted(p.stem for p in FORUM_CLEAN.glob("*.md"))


def test_there_are_forum_pastes_to_check() -> None:
    assert len(FORUM_NAMES) >= 5


@pytest.mark.parametrize("name", FORUM_NAMES)
def test_forum_paste_cleans_back_to_its_original(name: str) -> None:
    _meta, original = clean_fixture(FORUM_CLEAN / f"{name}.md")
    paste_path = ROOT / "corpus" / "forum" / f"{name}.txt"
    paste = paste_path.read_text(encoding="utf-8")
    assert paste != original and looks_like_forum_paste(paste)
    assert clean_text(paste) == original
    assert load_file(paste_path).document.text == original


# -- property: generator noise comes off exactly ---------------------------------------

_AMBIGUOUS_EDGE = re.compile(r"^[!-;] [?-~]|[!-;] [?-~]$")


def _paragraph_pool() -> list[str]:
    pool: list[str] = []
    for path in sorted(FORUM_CLEAN.glob("*.md")):
        pool += clean_fixture(path)[1].split("\n\n")
    for path in sorted((ROOT / "corpus" / "articles").glob("*.md")):
        pool += [ln for ln in load_file(path).document.text.split("\n") if ln.strip()]
    return pool


REAL_PARAGRAPHS = _paragraph_pool()

_HAN = "平头哥在官网上线一款名为真武的高端芯片采用自研并行计算架构和片间互联技术配合全栈软件"
generated_paragraphs = (
    st.builds(
        lambda head, middle, tail: head + middle + tail,
        st.sampled_from(
            ["1月29日", "2019年7月,", "09988.HK", "700GB/s", "78563 IPS", "7个", "2025年", ""]
        ),
        st.text(
            alphabet=_HAN + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789,。",
            min_size=1,
            max_size=40,
        ),
        st.sampled_from(
            ["RISC-V", "810E", "HBM3E", "ICN(Inter-Chip-Network)", "PPU", "玄铁910", "。", ""]
        ),
    )
    .map(str.strip)
    .filter(bool)
)

paragraphs_strategy = st.lists(
    st.one_of(st.sampled_from(REAL_PARAGRAPHS), generated_paragraphs), min_size=1, max_size=6
)


def test_paragraph_pool_has_no_ambiguous_edges() -> None:
    """A paragraph that itself starts or ends with an ``x Y`` unit cannot be told apart
    from jammer by anyone; the pool must not contain one (else the property is unfair)."""
    assert len(REAL_PARAGRAPHS) > 250
    assert not [p for p in REAL_PARAGRAPHS if _AMBIGUOUS_EDGE.search(p)]


def _insertions(paragraphs: list[str], body: str) -> list[tuple[str, str, str]]:
    """(leading jammer, paragraph, trailing jammer) for each paragraph line of ``body``."""
    clean_lines = "\n\n".join(paragraphs).split("\n")
    paste_lines = body.split("\n")
    assert len(clean_lines) == len(paste_lines)
    out = []
    for clean, pasted in zip(clean_lines, paste_lines, strict=True):
        if not clean:
            continue
        k = pasted.find(clean)
        while not re.fullmatch(rf"(?:{UNIT})*", pasted[:k]):
            k = pasted.find(clean, k + 1)
        out.append((pasted[:k], clean, pasted[k + len(clean) :]))
    return out


def _undecidable(paragraphs: list[str], body: str) -> bool:
    """The one case where the generator makes the same text from two clean inputs.

    A paragraph ending in a character from 33..59 (``.``, ``)``, a digit), followed by a
    collapsed jammer whose first unit is a space (`` Y``), reads exactly like the
    paragraph without that character followed by a jammer starting with ``c Y``. The
    cleaner settles it by what text usually looks like (tested below); the property
    leaves these out.
    """
    for _lead, par, trail in _insertions(paragraphs, body):
        if trail and "!" <= par[-1] <= ";" and trail[0] == " " and trail[1:2] != " ":
            return True
    return False


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    paragraphs=paragraphs_strategy,
    rng=st.randoms(use_true_random=False),
    collapse=st.sampled_from([None, True, False]),
    rate=st.sampled_from([0.9, 1.0]),
)
@example(
    paragraphs=["1月29日上午,平头哥上线真武810E", "支持RISC-V", "GPT-5.2发布"],
    rng=random.Random(0),
    collapse=True,
    rate=1.0,
)
def test_add_jammer_then_clean_gives_the_paragraphs_back(paragraphs, rng, collapse, rate) -> None:
    clean = "\n\n".join(paragraphs)
    paste = add_jammer(clean, rng, rate=rate, collapse_spaces=collapse)
    assume(not _undecidable(paragraphs, paste))
    assert clean_text(paste) == clean


@settings(max_examples=300, deadline=None)
@given(paragraphs=paragraphs_strategy, seed=st.integers(0, 2**32 - 1))
def test_forum_paste_then_clean_gives_the_paragraphs_back(paragraphs, seed) -> None:
    clean = "\n\n".join(paragraphs)
    paste = forum_paste(paragraphs, seed)
    body = paste.split("\n", len(FORUM_HEADER))[-1].rsplit("\n", len(FORUM_FOOTER) + 1)[0]
    assume(not _undecidable(paragraphs, body))
    assert looks_like_forum_paste(paste)
    assert clean_text(paste) == clean


def test_property_covers_jammer_touching_digits_and_letters() -> None:
    """The generator does put jammer against digits and letters (the property is not vacuous)."""
    rng = random.Random(7)
    touching = 0
    for _ in range(200):
        paste = add_jammer("\n\n".join(["支持RISC-V", "1月29日上午发布"]), rng, rate=1.0)
        touching += bool(re.search(r"[?-~]1月29日|RISC-V[!-;] ", paste))
    assert touching > 50


# -- the undecidable edge, settled by what text looks like -------------------------------


def test_sentence_final_period_survives_a_collapsed_jammer() -> None:
    sentence = "NVIDIA said systems with the H200 would ship from the second quarter of 2024. AWS was first."
    noise = " ?5 j; H1 [4 N6 f"  # a collapsed jammer whose first unit is a space
    assert strip_jammer(sentence + noise) == sentence


def test_period_that_opens_a_jammer_after_a_heading_goes() -> None:
    assert strip_jammer("支持RISC-V" + ". X5 j; H1 [4 N6 f") == "支持RISC-V"
    assert strip_jammer("真武810E" + ", X5 j; H1 [4 N6 f") == "真武810E"


def test_closing_bracket_kept_only_when_the_text_opened_it() -> None:
    assert (
        strip_jammer("ICN(Inter-Chip-Network)" + " ?5 j; H1 [4 N6 f") == "ICN(Inter-Chip-Network)"
    )
    assert strip_jammer("真武PPU" + ") X5 j; H1 [4 N6 f") == "真武PPU"


def test_jammer_touching_digits_and_letters_on_both_sides() -> None:
    assert strip_jammer("0 a6 @6 K$ k- `% M. M0 g0 y1月29日上午") == "1月29日上午"
    assert strip_jammer("发布了RISC-V处理器5 j; H1 [4 N6 f$ v1 K") == "发布了RISC-V处理器"
    assert strip_jammer("78563 IPS! f: [4 Z( f% \\8 d' T& s1 c") == "78563 IPS"


def test_plain_articles_are_left_alone() -> None:
    text = "Line one about the H100.\nA list: a, b, c, d, e, f\n\nThird paragraph."
    assert not looks_like_forum_paste(text)
    assert clean_text(text) == text


@pytest.mark.parametrize("seed", range(20))
def test_every_generated_jammer_alone_on_a_line_is_dropped(seed: int) -> None:
    rng = random.Random(seed)
    for collapse in (False, True):
        line = jammer(rng, collapse_spaces=collapse)
        assert strip_jammer(line) == ""
