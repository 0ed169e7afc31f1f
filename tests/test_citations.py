"""The citation verifier's mechanisms: figures matched by value, clause-level statements,
names, quotations, uncited claims and the answer language."""

from __future__ import annotations

import pytest

from rag.citations import is_framing, names_in, quotations, statement_language, verify_generated
from rag.quantities import chinese_value, quantities, unsupported, written_in
from rag.types import Document, Passage

ZW_TEXT = (
    "1月29日上午,平头哥在官网上线一款名为“真武810E”的高端AI芯片。"
    "真武810E采用HBM2e内存,容量可达96GB。该芯片支持7个独立ICN链路,片间互联带宽达到700GB/s。"
)
MI_TEXT = (
    "AMD launched the Instinct MI325X on October 10, 2024. The MI325X carries 256GB of HBM3E "
    "memory with 6TB/s of bandwidth. Volume shipments were planned for the fourth quarter."
)


def _doc(doc_id: str, title: str, text: str, lang: str) -> Document:
    return Document(doc_id, title, "test", "2026-01-29", lang, [], text)


DOCS = {
    "zw": _doc("zw", "平头哥发布真武810E", ZW_TEXT, "zh"),
    "mi": _doc("mi", "AMD launches the MI325X", MI_TEXT, "en"),
}
PASSAGES = [
    Passage("zw#0", "zw", DOCS["zw"].title, "test", None, "zh", [], 0, len(ZW_TEXT), ZW_TEXT),
    Passage("mi#0", "mi", DOCS["mi"].title, "test", None, "en", [], 0, len(MI_TEXT), MI_TEXT),
]


def check(answer: str, lang: str | None = None, question: str = ""):
    return verify_generated(answer, PASSAGES, DOCS, lang=lang, question=question)


# -- figures by value -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("claim", "source"),
    [
        ("带宽1.2TB/s", "片间互联带宽达到1200GB/s。"),
        ("0.7TB/s of bandwidth", "带宽达到700GB/s"),
        ("容量九十六GB", "容量可达96GB"),
        ("共一万六千三百八十四张", "搭载16384张"),
        ("60 billion transistors", "集成600亿个晶体管"),
        ("380 billion yuan", "投入3800亿元"),
        ("$4.5 billion", "计提了45亿美元"),
        ("about 1.9 EFLOPS", "算力达到1945P"),
        ("约42亿元", "募资41.97亿元"),
        ("十一点七四亿元", "营收11.74亿元"),
        ("百分之七十", "占70%份额"),
        ("6倍", "six times the amount"),
        ("priced at $8,000", "between $6,500 and $8,000, well below"),
    ],
)
def test_a_figure_equal_in_value_is_supported(claim: str, source: str) -> None:
    assert unsupported(claim, [source]) == []


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        ("容量80GB", "容量可达96GB,提升80%"),  # 80 is there, but as a percentage
        ("900GB/s", "700GB/s"),
        ("2019年", "2020年"),
        ("1TB/s", "1200GB/s"),  # one significant digit: no rounding allowed
        ("96GB/s", "96GB"),  # a capacity is not a bandwidth
        ("约80GB", "96GB"),  # a hedge allows rounding, not a different figure
        ("约为3万元", "第三代MUSA架构"),  # a bare 3 does not support 30,000 yuan
        ("MI300X", "The MI325X carries 300 units"),  # a name's digits are matched as written
    ],
)
def test_a_different_figure_is_not_supported(claim: str, source: str) -> None:
    assert unsupported(claim, [source]) != []


def test_chinese_numerals_are_read() -> None:
    assert chinese_value("一万六千三百八十四") == 16384
    assert chinese_value("二〇二五") == 2025
    assert chinese_value("三千八百亿") == 3.8e11
    assert [q.dim for q in quantities("三年内")] == ["year"]
    assert quantities("一款芯片，两家公司") == []  # words, not figures


# -- statements -------------------------------------------------------------------------------
def test_a_wrong_clause_is_dropped_and_its_cited_neighbour_kept() -> None:
    v = check("真武810E采用HBM2e内存[1]，容量为80GB[1]。")
    assert v.text == "真武810E采用HBM2e内存[1]，"
    assert v.removed == ["容量为80GB。"]
    assert any("80" in n for n in v.notes)


def test_an_english_clause_after_markers_is_checked_on_its_own() -> None:
    v = check("The MI325X carries 256GB of HBM3E [2] and 8TB/s of bandwidth [2].")
    assert "256GB" in v.text and "8TB/s" not in v.text


def test_a_converted_unit_and_a_chinese_numeral_are_kept() -> None:
    v = check("真武810E的片间互联带宽为0.7TB/s[1]。容量可达九十六GB[1]。")
    assert "0.7TB/s[" in v.text and "九十六GB[" in v.text and not v.removed
    assert all(DOCS[c.doc_id].text[c.start : c.end] == c.quote for c in v.citations)


def test_a_paraphrased_quotation_is_dropped_and_a_verbatim_one_kept() -> None:
    v = check("平头哥称真武810E“内存容量最高可达96GB”[1]。")
    assert v.cited_statements == 0 and v.removed
    v = check("报道称“真武810E采用HBM2e内存,容量可达96GB”[1]。")
    assert v.cited_statements == 1
    assert quotations("他说“真武”很强") == []  # a short quoted name is not a quotation


def test_a_statement_naming_what_its_source_lacks_is_dropped() -> None:
    v = check("真武810E采用HBM4内存[1]。")
    assert not v.cited_statements and any("hbm4" in n for n in v.notes)
    assert names_in("Gaudi 3出自英特尔收购的Habana Labs团队") >= {"habana", "labs"}
    assert "96gb" not in names_in("容量96GB")  # a figure with its unit is checked as a figure


def test_a_true_statement_citing_the_wrong_passage_is_dropped() -> None:
    v = check("The MI325X carries 256GB of HBM3E [1].")
    assert not v.cited_statements
    v = check("The MI325X carries 256GB of HBM3E [2].")
    assert v.cited_statements == 1


def test_uncited_claims_are_dropped_and_framing_kept() -> None:
    v = check("根据资料，要点如下：\n- 容量可达96GB[1]。\n英伟达的CUDA生态仍是行业标准。")
    assert v.text.startswith("根据资料，要点如下：") and "CUDA" not in v.text
    assert v.removed == ["英伟达的CUDA生态仍是行业标准。"]
    assert is_framing("Here is a brief summary:") and not is_framing("HBM is made by Samsung.")
    assert is_framing("真武810E的显存：", question="真武810E配的是什么显存？")


def test_statements_in_the_other_language_are_counted_and_removed() -> None:
    v = check("The Zhenwu 810E has up to 96GB of HBM2e memory [1].", lang="zh")
    assert v.wrong_language == 1 and not v.cited_statements
    v = check("The Zhenwu 810E has up to 96GB of HBM2e memory [1].", lang="en")
    assert v.cited_statements == 1
    assert statement_language("真武810E采用HBM2e内存") == "zh"
    assert statement_language("96GB HBM2e") is None


def test_a_marker_to_no_source_removes_the_statement() -> None:
    v = check("真武810E的显存容量为96GB[7]。")
    assert not v.cited_statements and v.removed and any("[7]" in n for n in v.notes)


def test_one_clause_splitter_two_break_sets() -> None:
    from rag.citations import CLAUSE_BREAKS_LISTS_WHOLE, clause_spans

    text = "支持HBM、GDDR，售价1,000元；功耗300W"

    def parts(breaks: str) -> list[str]:
        return [text[s:e] for s, e in clause_spans(text, 0, len(text), breaks)]

    assert parts(CLAUSE_BREAKS_LISTS_WHOLE) == ["支持HBM、GDDR，", "售价1,000元；", "功耗300W"]
    assert [text[s:e] for s, e in clause_spans(text, 0, len(text))] == [
        "支持HBM、",
        "GDDR，",
        "售价1,000元；功耗300W",
    ]


@pytest.mark.parametrize(
    ("figure", "lang", "written"),
    [
        ("约55亿美元", "en", "about $5.5 billion"),
        ("37亿港元", "en", "HK$3.7 billion"),
        ("11.74亿元", "en", "1.174 billion yuan"),
        ("144.60港元", "en", "HK$144.60"),  # no scale: the digits as the source has them
        ("$4.5 billion", "zh", "45亿美元"),
        ("about $600 million", "zh", "约6亿美元"),
        ("96GB", "en", "96GB"),  # no language's word
        ("10亿", "en", "10亿"),  # a bare amount may be "10亿级": left alone
        ("1.6万张", "en", "1.6万张"),
        ("55亿美元", "zh", "55亿美元"),  # already the asker's way
    ],
)
def test_money_is_written_the_askers_way_and_keeps_its_value(
    figure: str, lang: str, written: str
) -> None:
    out = written_in(figure, lang)
    assert out == written
    assert not unsupported(out, [figure])  # the verifier reads both as one value
