"""Typed facts read from sentences: attribute by the nearest cue, value and unit parsing,
qualifiers, precision, periods, the entity a figure belongs to, and exact spans.

The short articles are written for the test (fictional companies); the corpus files check
that every span is exact on real pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.entities import extract_entities
from rag.facts import attributes, extract_facts, find_dates, find_values
from rag.loaders import iter_files, load_file
from rag.types import Document

ROOT = Path(__file__).resolve().parent.parent


def facts_of(text: str, date: str = "2026-02-10", lang: str = "zh") -> list:
    d = Document("d1", "t", "test", date, lang, [], text)
    return extract_facts(d, extract_entities(d))


def one(facts: list, attribute: str):
    got = [f for f in facts if f.attribute == attribute]
    assert len(got) == 1, (attribute, [(f.entity, f.attribute, f.value) for f in facts])
    return got[0]


def test_vocabulary_is_the_closed_contract_list() -> None:
    assert set(attributes()) == {
        "memory_type", "memory_capacity", "memory_bandwidth", "interconnect_bandwidth",
        "data_rate", "compute", "power", "process_node", "transistors", "price", "funding_round",
        "funding_amount", "valuation", "investment", "capacity", "revenue", "profit",
        "shipments", "market_share", "customers", "units_deployed", "launch_date",
        "sampling_date", "mass_production_date", "listing_date",
    }  # fmt: skip
    for a in attributes().values():
        assert a.zh and a.en and a.cues


def test_nearest_cue_decides_memory_vs_interconnect_bandwidth() -> None:
    fs = facts_of(
        "据官网介绍,“银河100E”采用HBM3内存,容量为64GB,显存带宽为3.2TB/s,"
        "片间互联带宽达到800GB/s,功耗为350W,FP8算力达到1200 TFLOPS。"
    )
    assert {f.entity for f in fs} == {"银河100E"}
    assert one(fs, "memory_type").value == "HBM3"
    cap = one(fs, "memory_capacity")
    assert (cap.value, cap.unit, cap.norm_value) == ("64GB", "GB", 64e9)
    assert one(fs, "memory_bandwidth").norm_value == pytest.approx(3.2e12)
    assert one(fs, "interconnect_bandwidth").norm_value == pytest.approx(800e9)
    assert one(fs, "power").norm_value == 350
    comp = one(fs, "compute")
    assert (comp.precision, comp.norm_value) == ("FP8", pytest.approx(1.2e15))
    assert comp.qualifier == "official"  # 官网


def test_tb_and_gb_per_second_compare_by_normalised_value() -> None:
    a = one(facts_of("The X100 chip has 6TB/s of memory bandwidth.", lang="en"), "memory_bandwidth")
    b = one(
        facts_of("The X100 chip has 6000GB/s of memory bandwidth.", lang="en"), "memory_bandwidth"
    )
    assert a.norm_value == b.norm_value == 6e12
    assert (a.unit, b.unit) == ("TB/s", "GB/s")


def test_money_with_scales_currencies_ranges_and_losses() -> None:
    fs = facts_of(
        "2025年,星河微芯科技实现营业收入12.5亿元,归母净亏损为3.2亿元。\n\n"
        "星河微芯科技计划投资400亿至420亿美元扩产。"
    )
    rev = one(fs, "revenue")
    assert (rev.value, rev.unit, rev.norm_value, rev.period) == ("12.5亿元", "CNY", 1.25e9, "2025")
    assert one(fs, "profit").norm_value == pytest.approx(-3.2e8)  # a loss is negative
    inv = one(fs, "investment")
    assert (inv.value, inv.unit, inv.qualifier) == ("400亿至420亿美元", "USD", "planned")
    en = facts_of(
        "Lumen Compute, the chip startup, raised $1.5 billion in a Series C round.", lang="en"
    )
    amount = one(en, "funding_amount")
    assert (amount.entity, amount.norm_value, amount.unit) == ("Lumen Compute", 1.5e9, "USD")
    assert one(en, "funding_round").value == "Series C"


def test_qualifiers_rumoured_and_planned() -> None:
    fs = facts_of("据悉,星河微芯科技的银河100E出货量约为3万颗。")
    assert one(fs, "shipments").qualifier == "rumoured"
    en = facts_of("Lumen Compute reportedly shipped 20,000 units of the Prism chip.", lang="en")
    assert one(en, "shipments").qualifier == "rumoured"


def test_a_qualifier_said_after_a_figure_belongs_to_another_figure() -> None:
    # the plan is the prospectus's raise, not the issue price
    fs = facts_of("星河科技本次发行价格为88.88元/股,与招股书中的计划募资额基本一致。")
    assert one(fs, "price").qualifier is None
    # a plan said before the figure's clause still qualifies it
    fs = facts_of("星河科技计划明年推出银河200,该芯片采用3nm工艺。")
    assert one(fs, "process_node").qualifier == "planned"


def test_periods_relative_to_the_document_date() -> None:
    assert [d.norm for d in find_dates("去年9月发布", 2026)] == ["2025-09"]
    assert [d.norm for d in find_dates("2025年3月", 2026)] == ["2025-03"]
    assert [d.norm for d in find_dates("in Q3 2025", 2026)] == ["2025-07"]
    assert [d.norm for d in find_dates("the second half of 2025", 2026)] == ["2025-07"]
    assert [d.norm for d in find_dates("last year", 2026)] == ["2025"]
    assert [d.norm for d in find_dates("March 4, 2024", 2026)] == ["2024-03-04"]
    fs = facts_of("星河微芯科技的银河100E采用5nm工艺。", date="2026-02-10")
    assert one(fs, "process_node").period == "2026-02-10"  # no date in the sentence


def test_launch_date_goes_to_the_product_after_the_verb() -> None:
    fs = facts_of("2024年5月,星河微芯科技发布第一代推理卡云帆220。")
    f = one(fs, "launch_date")
    assert (f.entity, f.value, f.period, f.unit) == ("云帆220", "2024年5月", "2024-05", "date")


def test_entity_carries_from_the_previous_sentence() -> None:
    fs = facts_of(
        "The Prism X2 chip launched in May 2025. It carries 96GB of HBM3E memory.", lang="en"
    )
    assert one(fs, "memory_capacity").entity == "Prism X2"


def test_figures_without_a_cue_or_compared_with_are_not_facts() -> None:
    assert facts_of("星河微芯科技现有员工1024名,办公面积3000平方米。") == []
    fs = facts_of("星河微芯科技2025年营收为12亿元,比2024年的8亿元增长50%。")
    assert [f.value for f in fs if f.attribute == "revenue"] == ["12亿元"]


def test_value_parsing_keeps_bit_rates_apart_from_bandwidths() -> None:
    # a bit rate (a memory's pin speed) is no byte bandwidth: its own dimension, case kept
    assert [(v.unit, v.dim) for v in find_values("11Gbps")] == [("Gbps", "bitrate")]
    assert [(v.unit, v.dim) for v in find_values("11GB/s")] == [("GB/s", "bandwidth")]
    assert [(v.text, v.norm) for v in find_values("6.9万片")] == [("6.9万片", 69000.0)]


@pytest.mark.parametrize(
    "path",
    [p for p, reason in iter_files([ROOT / "corpus"]) if not reason][:20],
    ids=lambda p: p.name,
)
def test_every_span_is_exact_on_corpus_pages(path: Path) -> None:
    d = load_file(path).document
    for f in extract_facts(d, extract_entities(d)):
        assert f.quote == d.text[f.start : f.end]
        assert f.attribute in attributes()
        assert f.value and f.value in f.quote  # the value as the sentence writes it


def test_a_replaced_value_is_not_a_fact_but_its_replacement_is() -> None:
    fs = facts_of("机构将银河100E的2027年出货量预测从原先的约30万颗上调至50万颗。")
    assert [f.value for f in fs if f.attribute == "shipments"] == ["50万颗"]
    fs = facts_of("银河200E的推出时间从原定的2026年第一季度推迟到2026年第二季度。")
    assert [f.period for f in fs if f.attribute == "launch_date"] == ["2026-04"]


def test_each_compute_figure_takes_the_precision_written_next_to_it() -> None:
    fs = facts_of(
        "The Prism X2 chip is rated at 256 TFLOPS of FP16 compute and 512 TOPS of INT8.", lang="en"
    )
    got = {f.value: f.precision for f in fs if f.attribute == "compute"}
    assert got == {"256 TFLOPS": "FP16", "512 TOPS": "INT8"}


def test_a_reporting_source_and_investors_are_not_subjects() -> None:
    text = (
        "Lumen Compute unveiled the Prism X2 chip in May 2025.\n\n"
        "The Prism X2 chip ships this year. Bloomberg reported that the Prism X2 chip would be "
        "priced at $9,000."
    )
    fs = facts_of(text, lang="en")
    assert [(f.entity, f.value) for f in fs if f.attribute == "price"] == [("Prism X2", "$9,000")]
    fs = facts_of("星河微芯科技上市首日,中一签的投资者账面浮盈约2万元。")
    assert [f for f in fs if f.attribute == "investment"] == []


@pytest.mark.parametrize(
    ("text", "norm", "dim"),
    [
        ("a 600-watt part", 600.0, "power"),
        ("1.2 terabytes per second of bandwidth", 1.2e12, "bandwidth"),
        ("built on a 5-nanometer process", 5.0, "length"),
        ("算力达到每秒1000万亿次", 1.0e15, "compute"),
    ],
)
def test_units_spelled_out_are_read(text: str, norm: float, dim: str) -> None:
    got = [(v.norm, v.dim) for v in find_values(text)]
    assert (norm, dim) in got


def test_a_figure_is_of_the_period_written_before_it_not_of_the_report_date() -> None:
    from rag.entities import extract_entities
    from rag.types import Document

    text = (
        "星河科技股份有限公司(Galaxy Tech)是一家芯片公司。"
        "星河科技在2025年4月发布的年报显示,公司2024年实现营业收入11.74亿元。"
        "招股书显示,星河科技2022年、2023年和2024年的营收分别为1.89亿元、2.89亿元和5.40亿元。"
    )
    doc = Document("x", "t", "s", "2025-04-19", "zh", [], text)
    got = {(f.value, f.period) for f in extract_facts(doc, extract_entities(doc))}
    assert ("11.74亿元", "2024") in got  # not 2025-04, when the report came out
    assert {("1.89亿元", "2022"), ("2.89亿元", "2023"), ("5.40亿元", "2024")} <= got  # 分别


def test_an_issue_price_in_a_paragraph_naming_nobody_is_the_listed_companys() -> None:
    """ "本次发行价格为X元/股" opens a paragraph after the one naming the company: a price per
    share belongs to the company (attributes.yaml company_cues), as its raise does."""
    facts = facts_of(
        "2026年3月2日,星河科技在科创板挂牌上市,股票代码688999。\n\n"
        "本次发行价格为58.20元/股,实际募集资金总额约30亿元。"
    )
    price = one(facts, "price")
    assert price.entity == "星河科技" and price.value == "58.20元"
    assert one(facts, "funding_amount").entity == "星河科技"


def test_a_figure_in_us_or_hong_kong_dollars_written_out_is_a_currency() -> None:
    got = [
        (v.unit, v.norm)
        for v in find_values("about 165 billion US dollars, 6.6 billion U.S. dollars")
    ]
    assert got == [("USD", 165e9), ("USD", 6.6e9)]
    assert [(v.unit, v.norm) for v in find_values("55.8 billion Hong Kong dollars")] == [
        ("HKD", 55.8e9)
    ]


def test_a_transistor_count_written_after_the_word_is_read() -> None:
    """ "晶体管数量约为1850亿个": the count follows the word, its measure word bare; a bare
    "个" with no transistor cue in the clause is no transistor count."""
    fs = facts_of("VX900采用5nm工艺,晶体管数量约为1850亿个。")
    f = one(fs, "transistors")
    assert (f.entity, f.norm_value) == ("VX900", 1.85e11)
    assert not [f for f in facts_of("VX900集群部署了3万个。") if f.attribute == "transistors"]
