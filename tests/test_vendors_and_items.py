"""Round 15 mechanisms: a product's vendor learned from a possessive ("its Orion cards") and
from its siblings' model numbers, and a company's figures asked in the plural listed item by
item. Invented names throughout."""

from __future__ import annotations

from pathlib import Path

from rag.entities import extract_entities
from rag.question import analyse
from tests.test_answer_offline import ask, make_doc
from tests.test_answer_reach import _write

LYRA = (
    "Lyra Technologies, the Toronto-based chip start-up led by its founder, has begun selling "
    "its Orion accelerator cards to developers. The Orion X150 has 32GB of memory and sells "
    "for $1,399. The smaller X100 has 28GB and costs $999."
)


def _vendors(text: str) -> dict[str, str | None]:
    return {e.name: e.vendor for e in extract_entities(make_doc("ly", text))}


def test_a_possessive_makes_the_sentences_company_the_vendor() -> None:
    vendors = _vendors(LYRA)
    lyra = next(k for k in vendors if k.startswith("Lyra"))
    assert vendors["Orion"] is not None and vendors["Orion"] in lyra.lower(), vendors
    # the line's vendor passes to its model, and to a model number of the same shape
    assert vendors["X150"] == vendors["Orion"] == vendors["X100"], vendors


def test_a_possessive_across_a_sentence_end_links_nothing() -> None:
    vendors = _vendors("Lyra Technologies raised $50 million. Its Orion cards sell well.")
    assert vendors.get("Orion") is None, vendors


def test_a_companys_figure_asked_in_the_plural_lists_its_items(fake_qa, tmp_path: Path) -> None:
    fake_qa.ingest(
        [
            _write(
                tmp_path / "ly.md",
                "title: Lyra sells Orion cards\ndate: 2025-04-10\nlang: en",
                LYRA,
            )
        ]
    )
    a = analyse("Lyra card prices", None, fake_qa.factstore())
    assert a.intent == "list" and a.attributes == ["price"], (a.intents, a.attributes)
    ans = fake_qa.ask("Lyra card prices")
    assert "$999" in ans.text and "$1,399" in ans.text, ans.text
    assert analyse("Lyra card price", None, fake_qa.factstore()).intent != "list"


def test_which_chips_use_a_memory_type_lists_only_that_type(fake_qa, tmp_path: Path) -> None:
    body = (
        "Lyra Technologies' X100 carries 2GB of SRAM memory on the chip. "
        "Vega Labs' V900 uses 96GB of HBM3E memory. "
        "Deneb Systems' D700 uses 48GB of GDDR6 memory. "
        "Altair Labs' A500 carries 230MB of SRAM memory."
    )
    fake_qa.ingest(
        [_write(tmp_path / "m.md", "title: Three chips\ndate: 2025-04-10\nlang: en", body)]
    )
    a = analyse("Which chips use SRAM?", None, fake_qa.factstore())
    assert a.intent == "list" and a.attributes == ["memory_type"], (a.intents, a.attributes)
    ans = fake_qa.ask("Which chips use SRAM?")
    assert "X100" in ans.text and "A500" in ans.text, ans.text
    assert "V900" not in ans.text and "D700" not in ans.text, ans.text


def test_a_list_searches_again_with_the_attributes_name_in_the_other_language(
    fake_qa, tmp_path: Path, monkeypatch
) -> None:
    """An English list question over Chinese reports also searches with the asked
    attribute's Chinese name (上市时间): the dense ranking of an English question can leave
    every Chinese report out of the top passages (as on the shipped corpus)."""
    files = [
        _write(
            tmp_path / "zh1.md",
            "title: 天琴科技在科创板挂牌上市\ndate: 2025-12-05\nlang: zh",
            "2025年12月5日,天琴科技在上海证券交易所科创板挂牌上市,股票代码688001。",
        ),
        _write(
            tmp_path / "zh2.md",
            "title: 织女科技科创板上市\ndate: 2025-12-17\nlang: zh",
            "2025年12月17日,织女科技在科创板正式上市,股票代码688002。",
        ),
    ]
    fake_qa.ingest(files)
    asked: list[str] = []
    search = fake_qa.search

    def recording(query: str, *args, **kw):  # the real search, its queries recorded
        asked.append(query)
        return search(query, *args, **kw)

    monkeypatch.setattr(fake_qa, "search", recording)
    ans = fake_qa.ask("Which Chinese GPU companies listed in 2025?")
    assert any(q.endswith("上市时间") for q in asked), asked
    assert "2025年12月5日" in ans.text and "2025年12月17日" in ans.text, ans.text


ORION_950 = (
    "天琴科技发布“织女950”系列芯片。织女950系列分为两款：950PR计划在2026年第一季度推出，"
    "950DT计划在2026年第四季度推出。950PR搭载的内存容量为128GB。950DT搭载的内存容量为144GB。"
    "天琴科技的VX920搭载的内存容量为64GB。"
)


def test_a_model_opening_with_a_lines_number_is_of_the_lines_vendor() -> None:
    vendors = _vendors(ORION_950)
    assert vendors["950DT"] is not None and vendors["950DT"] == vendors["织女950"], vendors


def test_each_model_of_a_numbered_line_is_listed(fake_qa, tmp_path: Path) -> None:
    fake_qa.ingest(
        [_write(tmp_path / "o.md", "title: 织女950系列\ndate: 2025-09-18\nlang: zh", ORION_950)]
    )
    for q in ("天琴科技织女950系列各型号的内存容量", "Memory capacity of each 织女950 model"):
        ans = fake_qa.ask(q)
        assert "128GB" in ans.text and "144GB" in ans.text, (q, ans.text)
        assert "64GB" not in ans.text, (q, ans.text)  # the vendor's other line is no member


def test_chinese_kind_words_and_per_item_words_ask_lists(fake_qa, tmp_path: Path) -> None:
    fake_qa.ingest(
        [
            _write(
                tmp_path / "ly.md",
                "title: Lyra sells Orion cards\ndate: 2025-04-10\nlang: en",
                LYRA,
            )
        ]
    )
    store = fake_qa.factstore()
    assert analyse("Lyra的两款卡各多少钱", None, store).intent == "list"
    assert analyse("推理芯片创业公司的融资额", None, store).intent == "list"
    assert analyse("Lyra的卡多少钱", None, store).intent != "list"
    ans = fake_qa.ask("Lyra的两款卡各多少钱")
    assert "$999" in ans.text and "$1,399" in ans.text, ans.text


def test_a_latest_question_asking_no_figure_is_answered_by_the_reports_lead() -> None:
    doc = make_doc(
        "ly",
        "2025年9月12日,天琴科技宣布VX900芯片已完成开发并进入量产阶段。\n\n"
        "据天琴科技介绍,VX900芯片的数据通道数量为2048个,是上一代的两倍,能效提升40%以上。"
        "天琴科技表示,VX900芯片用于客户系统后,整体服务性能最多可提升69%。",
        date="2025-09-12",
    )
    ans = ask("天琴科技VX900芯片最新进展", doc)
    assert not ans.abstained and ans.text.startswith("2025年9月12日"), ans.text


def test_a_noun_no_attribute_names_must_be_said_with_a_figure() -> None:
    """ "What is the die size of X", "X clock speed?": no vocabulary attribute names the noun,
    so a quote saying it (or its lexicon word) with a figure answers, and nothing else."""
    assert analyse("What is the die size of the VX900?").counted == "die"
    assert analyse("VX900 clock speed?").counted == "clock"
    assert analyse("What is the status of the VX900?").counted == ""  # an open noun
    assert analyse("What is Lyra's flagship training GPU?").counted == ""  # a name is asked
    assert analyse("Where did the VX900 come from organisationally?").counted == ""
    doc = make_doc(
        "vx",
        "Lyra's VX900 carries 96GB of HBM3E memory and draws 700W. "
        "The VX900 is made on a 5nm process.",
        lang="en",
    )
    assert ask("What is the die size of the VX900?", doc).abstained
    assert ask("VX900 clock speed?", doc).abstained
    clocked = make_doc("vx", "The VX900 runs at a clock of 1.8GHz and draws 700W.", lang="en")
    ok = ask("VX900 clock speed?", clocked)
    assert not ok.abstained and "1.8GHz" in ok.text, ok.text
    unit_only = make_doc("vx", "The VX900 runs at 1.8GHz and draws 700W.", lang="en")
    ok = ask("What is the clock speed of the VX900?", unit_only)  # the unit says it
    assert not ok.abstained and "1.8GHz" in ok.text, ok.text


def test_who_with_a_comparative_compares() -> None:
    """ "A和B的估值谁高" compares two sides; "谁" alone asks for a person or company."""
    assert analyse("天琴科技和织女科技的估值谁高").intent == "compare"
    assert analyse("天琴科技的创始人是谁").intent == "who"


def test_a_list_of_one_entitys_own_figures_is_its_history(fake_qa, tmp_path: Path) -> None:
    """ "天琴科技历轮融资分别是多少": one entity, several figures of the asked attribute, each
    shown oldest first with the amount its sentence gives beside the round."""
    body = (
        "天琴科技成立于2018年3月，主营推理芯片。\n\n2019年，天琴科技完成3亿元A轮融资。\n\n"
        "天琴科技的推理卡已在多家云厂商部署。\n\n2020年6月，天琴科技完成7亿元B轮融资。\n\n"
        "2021年1月，天琴科技完成18亿元C轮融资，由织女资本领投。\n\n"
        "2023年底，天琴科技完成20亿元D轮融资。\n\n2024年，天琴科技完成25亿元E轮融资。"
    )
    fake_qa.ingest(
        [_write(tmp_path / "ly.md", "title: 天琴科技融资梳理\ndate: 2025-09-22\nlang: zh", body)]
    )
    for q in ("天琴科技历轮融资分别是多少", "列出天琴科技的融资轮次"):
        ans = fake_qa.ask(q)
        for want in ("A轮", "3亿元", "B轮", "7亿元", "C轮", "18亿元", "D轮", "20亿元", "E轮"):
            assert want in ans.text, (q, ans.text)
        assert ans.text.index("A轮") < ans.text.index("B轮") < ans.text.index("C轮"), ans.text


def test_a_list_of_a_lines_products_names_each_with_its_sentence(fake_qa, tmp_path: Path) -> None:
    body = (
        "天琴科技的产品分两条线，其中“织女”系列是加速卡。\n\n"
        "织女一号于2021年实现商业化，配备32GB HBM2显存。织女二号在2023年发布，性能提升100%。\n\n"
        "织女三号目前还在研发中，计划在2026年推出。"
    )
    fake_qa.ingest(
        [
            _write(
                tmp_path / "zn.md", "title: 天琴科技织女系列整理\ndate: 2025-10-30\nlang: zh", body
            )
        ]
    )
    a = analyse("织女有哪几代产品", None, fake_qa.factstore())
    assert a.intent == "list" and not a.attributes, (a.intents, a.attributes, a.entities)
    ans = fake_qa.ask("织女有哪几代产品")
    for name in ("织女一号", "织女二号", "织女三号"):
        assert name in ans.text, ans.text
    assert ans.citations and all(c.quote for c in ans.citations), ans.citations


def test_a_products_spec_sheet_gives_each_attribute_the_facts_hold(fake_qa, tmp_path: Path) -> None:
    body = (
        "Lyra Technologies' X100 carries 96GB of HBM3E memory with 4TB/s of bandwidth. "
        "Lyra said the X100 draws 700W and is made on a 5nm process.\n\n"
        "Lyra Technologies reported revenue of $120 million in 2024."
    )
    fake_qa.ingest(
        [_write(tmp_path / "x.md", "title: Lyra X100\ndate: 2025-04-10\nlang: en", body)]
    )
    ans = fake_qa.ask("What are the specs of the X100?")
    for want in ("96GB", "4TB/s", "700W", "5nm"):
        assert want in ans.text, ans.text
    assert "$120 million" not in ans.text, ans.text  # the company's figure is no spec


def test_a_makers_list_takes_the_maker_a_reports_title_names(fake_qa, tmp_path: Path) -> None:
    """ "各家HBM9的容量": a figure whose sentence names no company is the maker's whose report it
    is (the company its title names first)."""
    fake_qa.ingest(
        [
            _write(
                tmp_path / "v.md",
                "title: 织女科技HBM9传通过验证\ndate: 2025-10-23\nlang: zh",
                "据媒体报道，织女科技的HBM9已通过客户验证。\n\n12层堆叠的HBM9容量为48GB，单颗堆叠频宽约2.8TB/s。",
            ),
            _write(
                tmp_path / "l.md",
                "title: 天琴科技送样HBM9\ndate: 2025-06-10\nlang: zh",
                "天琴科技宣布已向客户送样HBM9，天琴科技的HBM9单颗容量为36GB。",
            ),
        ]
    )
    ans = fake_qa.ask("各家HBM9的容量")
    assert "48GB" in ans.text and "36GB" in ans.text, ans.text
    line = next(x for x in ans.text.splitlines() if "48GB" in x)
    assert "织女" in line, ans.text


def test_money_asked_of_a_round_is_its_amount_not_a_price() -> None:
    assert analyse("天琴科技C轮融资多少钱").attributes == ["funding_amount"]
    assert analyse("天琴科技这轮融资多少钱").attributes == ["funding_amount"]
    assert analyse("天琴科技现在估值多少钱").attributes == ["valuation"]
    assert analyse("天琴科技完成了哪一轮融资").attributes == ["funding_round"]
    assert analyse("天琴科技发行价多少钱").attributes == ["price"]


def test_listed_on_an_exchange_asks_listing_dates_scoped_to_its_place(
    fake_qa, tmp_path: Path
) -> None:
    fake_qa.ingest(
        [
            _write(
                tmp_path / "hk.md",
                "title: 天琴科技登陆港交所\ndate: 2026-01-02\nlang: zh",
                "2026年1月2日,天琴科技在香港联合交易所主板挂牌上市。",
            )
        ]
    )
    a = analyse("哪些公司在港交所上市了？", None, fake_qa.factstore())
    assert a.intent == "list" and a.attributes == ["listing_date"], (a.intents, a.attributes)
    assert [e.entity_id for e in a.entities if e.kind == "place"] == ["香港"], a.entities
    assert analyse("有哪些GPU公司在科创板上市了").attributes == ["listing_date"]


def test_a_comparison_of_latest_figures_gives_each_sides_newest(fake_qa, tmp_path: Path) -> None:
    body_a = (
        "Lyra Technologies said on September 17, 2025 that it had raised $750 million at a "
        "post-money valuation of $6.9 billion. The valuation is more than double the "
        "$2.8 billion Lyra was valued at in August 2024."
    )
    body_b = "Vega Labs said on September 30, 2025 that it closed a round at a valuation of $8.1 billion."
    fake_qa.ingest(
        [
            _write(tmp_path / "a.md", "title: Lyra raises\ndate: 2025-09-17\nlang: en", body_a),
            _write(tmp_path / "b.md", "title: Vega raises\ndate: 2025-09-30\nlang: en", body_b),
        ]
    )
    ans = fake_qa.ask("Compare the latest valuations of Lyra Technologies and Vega Labs")
    lead = ans.text.splitlines()[0]
    assert "$6.9 billion" in lead and "$8.1 billion" in lead, ans.text
    # the newest figure is said as the one in force, the older as what it replaced
    assert "replacing $2.8 billion" in lead, ans.text
