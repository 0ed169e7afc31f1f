"""Round 13 mechanisms, each for a whole class of questions: parts of a year (a quarter, a half,
nine months) keep a figure to its own period, a "same period" sentence takes the year before
it, a who question naming a role is answered only by a quote naming that role, a name after
"twice the ... of" is what the subject is compared with, several products named together are
compared, "each <kind>" is a list, and what the top k lacks is looked for in the documents
naming the entity. Invented names throughout."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.entities import extract_entities
from rag.facts import extract_facts
from rag.question import analyse, period_of, subyear_parts
from rag.types import Document
from tests.test_answer_offline import ask, assert_abstained, make_doc


@pytest.mark.parametrize(
    ("question", "since", "until", "label"),
    [
        ("天琴科技2025年前三季度营收多少", "2025-01-01", "2025-09-30", "Q1-Q3 2025"),
        ("Lyra revenue in the first nine months of 2025", "2025-01-01", "2025-09-30", "Q1-Q3 2025"),
        ("Lyra revenue in the second quarter of 2025", "2025-04-01", "2025-06-30", "Q2 2025"),
        ("天琴科技2025年第三季度营收", "2025-07-01", "2025-09-30", "Q3 2025"),
    ],
)
def test_parts_of_a_year(question: str, since: str, until: str, label: str) -> None:
    p = period_of(question)
    assert p is not None and (p.since, p.until, p.label) == (since, until, label)


def test_nine_months_is_not_read_as_the_third_quarter() -> None:
    assert subyear_parts("前三季度营收46亿元，第三季度营收17亿元") == {(1, 9), (7, 9)}
    assert subyear_parts("2025年营收") == set()


LYRA_Q = (
    "天琴科技公布2026财年第二季度财报，季度营收为46.7亿元。"
    "对于第三季度，天琴科技给出的营收指引为54亿元左右。"
)


def test_a_quarter_asked_is_not_answered_by_other_quarters() -> None:
    ans = ask("天琴科技2026财年第四季度的营收指引是多少?", make_doc("ly", LYRA_Q))
    assert_abstained(ans, chinese=True)
    ok = ask("天琴科技2026财年第三季度的营收指引是多少?", make_doc("ly", LYRA_Q))
    assert not ok.abstained and "54亿元" in ok.text


LYRA_YEAR = (
    "天琴科技在2025年4月发布的年报显示，公司2024年实现营业收入10.5亿元，同比增长约60%。"
    "同期归属于母公司股东的净亏损为2.3亿元，亏损幅度明显收窄。"
)


def test_a_same_period_sentence_takes_the_year_before_it() -> None:
    ans = ask("天琴科技2024年的净亏损是多少?", make_doc("ly", LYRA_YEAR, date="2025-04-20"))
    assert not ans.abstained and "2.3亿元" in ans.text


LYRA_PEOPLE = (
    "天琴科技成立于2019年，总部位于上海。"
    "公司董事长为李明远，他此前曾在多家芯片公司任职。"
    "天琴科技的主力产品为天琴T1推理卡。"
)


def test_a_who_question_names_the_role_it_asks() -> None:
    ans = ask("天琴科技的CEO是谁?", make_doc("ly", LYRA_PEOPLE))
    assert_abstained(ans, chinese=True)
    ok = ask("天琴科技的董事长是谁?", make_doc("ly", LYRA_PEOPLE))
    assert not ok.abstained and "李明远" in ok.text


def test_a_name_after_a_multiple_of_is_the_one_compared_with() -> None:
    text = (
        "Vega Labs unveiled the Vega VX900 accelerator on March 3, 2025. "
        "Vega Labs said the VX900 offers twice the performance per watt of the VX800, and the "
        "inter-chip interconnect runs at 1.6TB/s bidirectional."
    )
    d = Document("v", "t", "test", "2025-03-03", "en", [], text)
    got = [f for f in extract_facts(d, extract_entities(d)) if f.attribute.endswith("bandwidth")]
    assert [(f.entity, f.value) for f in got] == [("VX900", "1.6TB/s")]


def test_products_named_together_are_compared_and_each_kind_is_a_list() -> None:
    assert analyse("VX900和VX800的显存容量").intent == "compare"
    assert analyse("VX900配备多少HBM4?").intent != "compare"  # HBM4: the memory asked about
    assert analyse("How much did each Chinese GPU startup raise in its IPO?").intent == "list"
    assert analyse("Compare the memory capacity of the VX900 and the VX800").intent == "compare"


def _write(path: Path, front: str, body: str) -> Path:
    path.write_text(f"---\n{front}\n---\n{body}\n", encoding="utf-8")
    return path


def test_a_fact_outside_the_top_k_is_found_in_a_document_naming_the_entity(
    fake_qa, tmp_path: Path
) -> None:
    """An English question, the figure only in a Chinese report: with k=1 the English story
    comes first, and the answer is looked for again in the documents that name the company."""
    en = _write(
        tmp_path / "en.md",
        "title: Lyra Technologies profits build\ndate: 2025-10-18\nlang: en",
        "Lyra Technologies (天琴科技), the Shanghai-based AI chip designer, reported its "
        "third-quarter results in October 2025. Lyra Technologies booked revenue for the "
        "first nine months of 2025 and said demand from cloud customers stayed strong.",
    )
    zh = _write(
        tmp_path / "zh.md",
        "title: 天琴科技年报\ndate: 2025-04-19\nlang: zh",
        "天琴科技在2025年4月发布的年报显示，公司2024年实现营业收入10.5亿元，同比增长约60%。"
        "天琴科技成立于2019年，创始人为李明远。",
    )
    fake_qa.ingest([en, zh])
    ans = fake_qa.ask("Lyra Technologies revenue in 2024?", k=1)
    assert not ans.abstained and "10.5" in ans.text, ans.text
    assert any(c.doc_id for c in ans.citations)


def test_a_figure_withheld_for_other_models_does_not_withhold_the_asked_ones() -> None:
    doc = make_doc(
        "vx",
        "Vega Labs has not published a full specification sheet for the VX800 or the VX810, so "
        "memory figures quoted in the market come from teardowns. "
        "Vega Labs said the VX960 will carry 288GB of HBM with 9.6TB/s of memory bandwidth.",
        lang="en",
    )
    ans = ask("How much HBM will the VX960 have?", doc)
    assert not ans.abstained and "288GB" in ans.text, ans.text
    withheld = ask("How much HBM does the VX800 have?", doc)
    assert withheld.abstained


def test_which_companies_list_the_makers_a_named_products_facts_name(fake_qa, tmp_path) -> None:
    """A list of the companies behind a product the question names: the product's own facts,
    each under the company its quote names nearest before the figure."""
    a = _write(
        tmp_path / "a.md",
        "title: Vega Labs samples HBM9\ndate: 2025-03-03\nlang: en",
        "Vega Labs said on March 3, 2025, that it had shipped samples of 12-high HBM9 to its "
        "major customers. The samples offer 48GB per stack.",
    )
    b = _write(
        tmp_path / "b.md",
        "title: Orion Memory follows with HBM9\ndate: 2025-06-10\nlang: en",
        "Orion Memory said on June 10, 2025 that it had shipped samples of 12-high HBM9 to key "
        "customers. The HBM9 samples put Orion Memory in the same generation as Vega Labs, "
        "which had shipped HBM9 samples in March 2025.",
    )
    fake_qa.ingest([a, b])
    ans = fake_qa.ask("Which companies have shipped HBM9 samples?")
    lines = [x for x in ans.text.splitlines() if x.startswith("- ")]
    assert any("Vega Labs" in x and "March" in x for x in lines), ans.text
    assert any("Orion Memory" in x and "June 10, 2025" in x for x in lines), ans.text
    assert not any("Orion Memory" in x and "March 2025" in x for x in lines), ans.text


def test_a_better_ranked_figure_outweighs_a_later_withholding_sentence() -> None:
    doc = make_doc(
        "ly",
        "2021年，第二代天琴芯片采用7nm工艺并实现量产。天琴科技没有公布新一代芯片的制程工艺和功耗。",
    )
    ans = ask("第二代天琴芯片采用什么制程?", doc)
    assert not ans.abstained and "7nm" in ans.text, ans.text


def test_customers_counted_with_a_measure_word_are_customers() -> None:
    d = Document(
        "ly", "t", "test", "2025-04-25", "zh", [],
        "天琴科技表示，天琴集群可以支持1000个客户同时做大模型精调。",
    )  # fmt: skip
    got = [f for f in extract_facts(d, extract_entities(d)) if f.attribute == "customers"]
    assert [f.value for f in got] == ["1000个"], [(f.attribute, f.value) for f in got]


def test_a_figure_the_question_states_must_be_in_the_quoted_paragraph() -> None:
    doc = make_doc(
        "ly",
        "传闻：天琴晶圆为客户提供的先进制程月产能约为2万片，明年有望翻倍。\n\n"
        "天琴晶圆的7nm工艺已经稳定量产。",
    )
    ans = ask("天琴晶圆5nm月产能多少?", doc)
    assert_abstained(ans, chinese=True)
    assert "5nm" in ans.text
    ok = ask("天琴晶圆先进制程月产能多少?", doc)
    assert not ok.abstained and "2万片" in ok.text
