"""Round 14 mechanisms, each for a whole class of questions: conditions a question sets that
every answer must meet (a funding round, a number format, a whole year, a place), dates that
state an event only with the event's word beside them, lists asked without a list word, and
companies compared side by side. Invented names throughout."""

from __future__ import annotations

from pathlib import Path

from rag.entities import extract_entities
from rag.evidence import states
from rag.facts import extract_facts, figure_periods, find_dates, round_names
from rag.question import analyse, period_of
from tests.test_answer_offline import ask, assert_abstained, make_doc
from tests.test_answer_reach import _write

LYRA_ROUNDS = (
    "Lyra Technologies raised $120 million in a Series C round in June 2023. "
    "In April 2025 the company closed a $693 million Series D round led by Orion Capital."
)


def test_a_round_is_one_key_in_either_language() -> None:
    assert round_names("in its Series B?") == round_names("完成7亿元B轮融资") == {"B"}
    assert round_names("同年完成3.4亿元Pre-A轮融资") == {"PRE-A"}
    assert round_names("a $693 million Series D round") == {"D"}
    assert round_names("no round here") == set()


def test_a_round_named_must_be_the_quoted_rounds() -> None:
    doc = make_doc("ly", LYRA_ROUNDS, lang="en")
    no = ask("How much did Lyra Technologies raise in its Series E?", doc)
    assert no.abstained and "Series E" in no.text, no.text
    ok = ask("How much did Lyra Technologies raise in its Series C?", doc)
    assert not ok.abstained and "$120 million" in ok.text, ok.text
    assert "$693 million" not in ok.text  # the other round's figure is no answer beside it


def test_a_round_named_in_chinese_is_a_condition_not_the_question() -> None:
    a = analyse("天琴科技B轮融资多少")
    assert a.attributes == ["funding_amount"]
    doc = make_doc(
        "ly",
        "2018年，天琴科技完成3.4亿元Pre-A轮融资。2020年6月，天琴科技完成7亿元B轮融资。",
    )
    ans = ask("天琴科技B轮融资多少", doc)
    assert not ans.abstained and "7亿元" in ans.text and "3.4亿元" not in ans.text, ans.text


def test_a_compute_figure_in_another_number_format_does_not_answer() -> None:
    doc = make_doc(
        "vx", "The Vega VX900 delivers about 296 TFLOPS of FP8 compute and has 96GB of HBM3.",
        lang="en",
    )  # fmt: skip
    assert ask("What is the VX900's FP4 performance?", doc).abstained
    ok = ask("What is the VX900's FP8 performance?", doc)
    assert not ok.abstained and "296" in ok.text


def test_a_whole_year_asked_is_not_answered_by_a_half() -> None:
    p = period_of("天琴科技2025年全年营收")
    assert p is not None and p.label == "FY 2025"
    doc = make_doc(
        "ly",
        "招股书显示，天琴科技2022年、2023年和2024年的营收分别为1.9亿元、2.9亿元和5.4亿元，"
        "2025年上半年营收为3.2亿元。",
    )
    assert_abstained(ask("天琴科技2025年全年营收多少?", doc), chinese=True)
    ok = ask("天琴科技2024年全年营收多少?", doc)
    assert not ok.abstained and "5.4亿元" in ok.text, ok.text


def test_a_part_of_no_year_is_answered_only_by_a_text_naming_it() -> None:
    p = period_of("天琴科技前三季度营收多少")
    assert p is not None and (p.since, p.label) == (None, "Q1-Q3")
    assert period_of("织女科技第三季收入") is not None  # a quarter written without 度
    assert period_of("天琴科技营收多少") is None
    doc = make_doc(
        "ly",
        "天琴科技2024年实现营业收入5.4亿元，同比增长30%。"
        "天琴科技前三季度实现营业收入6.1亿元，同比增长52%。",
    )
    ok = ask("天琴科技前三季度营收多少?", doc)
    assert not ok.abstained and "6.1亿元" in ok.text, ok.text
    only_year = make_doc("ly", "天琴科技2024年实现营业收入5.4亿元，同比增长30%。")
    assert_abstained(ask("天琴科技前三季度营收多少?", only_year), chinese=True)


def test_years_listed_before_respectively_pair_with_the_first_figures() -> None:
    text = (
        "天琴科技2022年、2023年和2024年的营收分别为1.9亿元、2.9亿元和5.4亿元，"
        "2025年上半年营收为3.2亿元。"
    )
    assert figure_periods(text, {"currency"}, "2026-01-08") == ["2022", "2023", "2024", "2025-01"]


def test_nine_months_are_a_fact_period_dated_by_their_last_month() -> None:
    assert [d.norm for d in find_dates("2025年前三季度营收", 2025)] == ["2025-09"]
    en = "For the first nine months of 2025, Lyra Technologies booked revenue of 4.6 billion yuan."
    assert [d.norm for d in find_dates(en, 2025)] == ["2025-09"]
    doc = make_doc("ly", en, lang="en", date="2025-10-18")
    revenue = [f for f in extract_facts(doc, extract_entities(doc)) if f.attribute == "revenue"]
    assert [f.period for f in revenue] == ["2025-09"]


def test_a_date_states_an_event_only_beside_its_word() -> None:
    assert states("listing_date", "天琴科技于2025年12月5日在科创板挂牌上市。")
    assert not states("listing_date", "天琴科技已于2025年启动上市辅导，辅导机构为某证券。")
    assert not states(
        "listing_date",
        "The IPO filing had shown one thing: Orion accounted for 87% of revenue in 2024.",
    )


def test_lists_asked_without_a_list_word() -> None:
    assert analyse("valuations of inference chip start-ups").intent == "list"
    made_on = analyse("list chips made on 3nm")
    assert made_on.intent == "list" and made_on.attributes == ["process_node"]
    # a name with "List" in it asks for no list
    assert "list" not in analyse("When was Lyra put on the US Entity List?").intents


def test_who_and_when_keeps_the_person_beside_the_date() -> None:
    doc = make_doc(
        "ly",
        "Lyra Technologies was founded in 2016 by Chen Mingyuan, a former university researcher. "
        "The company makes inference chips for data centres. "
        "Lyra Technologies listed on the STAR Market in July 2020.",
        lang="en",
    )
    ans = ask("Who founded Lyra Technologies and when did it go public?", doc)
    assert not ans.abstained and "Chen Mingyuan" in ans.text and "2020" in ans.text, ans.text


def _two_companies(tmp_path: Path) -> list[Path]:
    return [
        _write(
            tmp_path / "a.md",
            "title: 天琴科技完成新一轮融资\ndate: 2025-07-15\nlang: zh",
            "天琴科技(Lyra Technologies)完成新一轮融资，投后估值约100亿元。"
            "天琴科技的推理卡已在多家云厂商部署。",
        ),
        _write(
            tmp_path / "b.md",
            "title: 织女科技启动上市辅导\ndate: 2025-09-22\nlang: zh",
            "织女科技(Vega Labs)上市前估值约为200亿元。织女科技的训练芯片采用7nm工艺。",
        ),
    ]


def test_companies_named_side_by_side_are_compared(fake_qa, tmp_path: Path) -> None:
    fake_qa.ingest(_two_companies(tmp_path))
    a = analyse("天琴科技和织女科技的估值", None, fake_qa.factstore())
    assert a.intent == "compare", (a.entities, a.intents)
    ans = fake_qa.ask("天琴科技和织女科技的估值")
    assert "100亿元" in ans.text and "200亿元" in ans.text, ans.text


def test_a_place_no_source_about_the_subject_names(fake_qa, tmp_path: Path) -> None:
    orion = _write(
        tmp_path / "orion.md",
        "title: Orion AI expands in the Gulf\ndate: 2025-09-17\nlang: en",
        "In February 2025, Saudi Arabia committed $1.5 billion to expand Orion AI's inference "
        "capacity in the kingdom.",
    )
    fake_qa.ingest([orion, *_two_companies(tmp_path)])
    refused = fake_qa.ask("Did Lyra Technologies sell inference cards to Saudi Arabia?")
    assert refused.abstained, refused.text
    ok = fake_qa.ask("How much did Saudi Arabia commit to Orion AI?")
    assert not ok.abstained and "$1.5 billion" in ok.text, ok.text


def test_more_than_a_figure_is_the_subjects_own() -> None:
    doc = make_doc(
        "vx",
        "Vega Labs said on June 10, 2025 that it had shipped HBM9 samples to key customers. "
        "Vega Labs' HBM9 delivers more than 2.0TB/s of bandwidth per stack, faster than "
        "1.2TB/s for the previous generation.",
        lang="en",
    )
    got = {
        (f.entity, f.value)
        for f in extract_facts(doc, extract_entities(doc))
        if f.attribute == "memory_bandwidth"
    }
    assert ("HBM9", "2.0TB/s") in got, got
    assert not any(v == "1.2TB/s" for _, v in got), got  # 'faster than': compared with


def test_a_product_line_before_a_model_number_is_one_product(fake_qa, tmp_path: Path) -> None:
    doc = _write(
        tmp_path / "roadmap.md",
        "title: Vega Labs outlines its Lyra roadmap\ndate: 2025-09-18\nlang: en",
        "Vega Labs makes the Lyra accelerator family. The Lyra 800 is made on a 7nm process "
        "and entered mass production in 2024. Vega Labs said a successor will follow in 2026.",
    )
    fake_qa.ingest([doc])
    a = analyse("Which process node is the Lyra 900 made on?", None, fake_qa.factstore())
    assert a.intent != "compare" and any(e.text == "Lyra 900" for e in a.entities), a.entities
    ans = fake_qa.ask("Which process node is the Lyra 900 made on?")
    assert ans.abstained, ans.text  # the 7nm is the 800's
    ok = fake_qa.ask("Which process node is the Lyra 800 made on?")
    assert not ok.abstained and "7nm" in ok.text, ok.text


def test_a_compared_side_the_top_k_lacks_is_searched_for(fake_qa, tmp_path: Path) -> None:
    a = _write(
        tmp_path / "a.md",
        "title: 天琴科技递表港交所\ndate: 2025-07-02\nlang: zh",
        "天琴科技的DeepLyra10推理芯片采用14nm工艺，INT8算力为48 TOPS。"
        "天琴科技表示，DeepLyra10已进入规模商用，DeepLyra10的客户包括多家安防厂商。",
    )
    b = _write(
        tmp_path / "b.md",
        "title: 织女科技完成新一轮融资\ndate: 2025-07-15\nlang: zh",
        "织女科技此前推出的VX100云端推理芯片采用7nm工艺，INT8算力为200 TOPS。",
    )
    fake_qa.ingest([a, b])
    ans = fake_qa.ask("How does DeepLyra10 compare with VX100 in INT8 compute?", k=1)
    assert "48 TOPS" in ans.text and "200 TOPS" in ans.text, ans.text


def test_a_loss_says_so_and_a_profitable_list_keeps_profits(fake_qa, tmp_path: Path) -> None:
    from rag.question import sign_of

    assert sign_of("Which AI chip companies are profitable?") == 1
    assert sign_of("哪些AI芯片公司仍在亏损?") == -1
    assert sign_of("What was Lyra's net profit?") == 0
    docs = [
        _write(
            tmp_path / f"{name}.md",
            f"title: {name} results\ndate: 2025-08-29\nlang: zh",
            f"{name}发布2025年半年度报告。{text}",
        )
        for name, text in [
            ("天琴科技", "上半年归属于母公司股东的净利润为3.2亿元，同比扭亏。"),
            ("织女科技", "上半年归属于母公司股东的净亏损为1.5亿元，亏损同比收窄。"),
            ("河鼓科技", "上半年归属于母公司股东的净利润为2.1亿元，同比增长40%。"),
        ]
    ]
    fake_qa.ingest(docs)
    ans = fake_qa.ask("哪些AI芯片公司实现盈利?各自净利润多少?")
    assert "3.2亿元" in ans.text and "2.1亿元" in ans.text, ans.text
    assert "1.5亿元" not in ans.text, ans.text
    loss = fake_qa.ask("织女科技上半年净利润多少?")
    assert "1.5亿元(亏损)" in loss.text, loss.text  # the lead says it is a loss


def test_a_number_format_named_must_be_quoted() -> None:
    doc = make_doc(
        "ly",
        "天琴900支持FP8、MXFP8、MXFP4等低精度数据格式，FP8算力达到1 PFLOPS。"
        "天琴900将于2026年第四季度上市。",
    )
    assert ask("Does the Lyra 天琴900 support FP6?", doc).abstained
    ok = ask("天琴900支持FP8吗?", doc)
    assert not ok.abstained and "FP8" in ok.text, ok.text


def test_a_year_a_figure_is_compared_with_is_not_its_period() -> None:
    """ "营收将比2024年翻一番" is of a later year: no answer to "2024年营收" from a report of
    2025; "比2023年的7.09亿元" still gives 2023's figure."""
    from rag.evidence import compared_years

    assert compared_years("公司预计,2025年来自AI加速器的营收将比2024年翻一番。") == {2024}
    assert compared_years("revenue was higher than in fiscal 2024") == {2024}
    assert compared_years("2024年营收为5.4亿元。") == set()
    doc = make_doc(
        "ly",
        "天琴科技预计,2025年来自数据中心的营收将比2024年翻一番。天琴科技总部位于苏州。",
        date="2025-01-16",
    )
    assert_abstained(ask("天琴科技2024年营收多少?", doc), chinese=True)
    en = make_doc(
        "ly-en",
        "Lyra Technologies expects its AI revenue in 2025 to double compared with 2024. "
        "Lyra Technologies is based in Suzhou.",
        lang="en",
        date="2025-01-16",
    )
    assert_abstained(ask("What was Lyra Technologies' revenue in 2024?", en), chinese=False)
    ok = make_doc("ly2", "天琴科技2024年营收为5.4亿元,比2023年的2.9亿元增长86%。")
    got = ask("天琴科技2023年营收多少?", ok)
    assert not got.abstained and "2.9亿元" in got.text, got.text


def test_a_purpose_asked_is_answered_by_a_quote_giving_it() -> None:
    """ "将用于什么", "what will it use the proceeds for" ask a purpose, a kind of reason: the
    answer quotes the sentence saying what the money is for, not only how much it is."""
    doc = make_doc(
        "ly",
        "天琴科技的科创板上市申请获受理。招股书显示,天琴科技本次计划募集资金39亿元。"
        "天琴科技本次实际募集资金总额约42亿元,高于计划募集资金39亿元。"
        "织女科技同日获受理,计划募集资金30亿元,与天琴科技募集资金规模相近。"
        "天琴科技上一轮融资募集资金10亿元。天琴科技表示,募集资金将用于新一代推理芯片的研发。",
    )
    for q in ("天琴科技的募集资金将用于什么?", "What will 天琴科技 use its IPO proceeds for?"):
        got = ask(q, doc)
        assert not got.abstained and "推理芯片的研发" in got.text, (q, got.text)
