"""Unit tests of the offline (extractive) answerer on hand-built documents.

No model, no store: ``answer_offline`` is a pure function of the question, the retrieved
passages and their documents. The tests check what a user sees: the quotes, the ``[n]``
markers, the figure asked for, and when the answerer refuses.
"""

from __future__ import annotations

import re

import pytest

from rag.answer_offline import OfflineAnswer, answer_offline
from rag.lang import is_chinese
from rag.types import Document, Passage

# -- fixtures: short articles in the style of the corpus ----------------------------------

ZHENWU = (
    "1月29日上午，阿里巴巴集团全资芯片业务主体平头哥在官网悄然上线一款名为“真武810E”的高端AI芯片。"
    "据平头哥官网介绍，“真武810E”是一款AI训推一体芯片，采用自研并行计算架构和ICN片间互联技术，"
    "配合全栈自研软件栈，实现软硬结合，采用HBM2e内存，容量可达96GB，支持7个独立ICN链路，"
    "片间互联带宽达到700GB/s，可应用于AI训练、AI推理和自动驾驶。"
    "有业内人士透露，“真武”PPU的整体性能超过了英伟达A800和主流国产GPU，与英伟达H20相当。"
    "阿里表示，其已将“真武”PPU大规模用于千问大模型的训练和推理。"
)
# the long spec sentence of ZHENWU, as one string
ZHENWU_SPEC_SENTENCE = ZHENWU[ZHENWU.index("据平头哥官网介绍") : ZHENWU.index("自动驾驶。") + 5]

MI325X = (
    "AMD launched the Instinct MI325X accelerator in October 2024. "
    "The MI325X carries 256GB of HBM3E memory and 6TB/s of memory bandwidth. "
    "AMD said volume shipments begin in the fourth quarter."
)
B200 = (
    "Nvidia's B200 GPU pairs two dies in one package. "
    "Each B200 has 192GB of HBM3e memory. "
    "Nvidia said the chip would ship later in the year."
)
LAUNCH = (
    "平头哥成立于2018年，是阿里巴巴的全资芯片公司。"
    "2026年1月29日，平头哥在官网上线了真武810E芯片。"
    "该芯片面向AI训练和推理场景。"
)
SUMMONS_EN = (
    "Nvidia said its chips have no backdoors. "
    "The regulator that summoned Nvidia over the H20 was the Cyberspace Administration of China. "
    "The summons came on July 31, 2025. "
    "Analysts expect demand to stay strong."
)
SUMMONS_ZH = (
    "英伟达表示其芯片不存在后门。"
    "国家互联网信息办公室约谈了英伟达，要求其就H20芯片后门安全风险问题进行说明。"
    "约谈发生在2025年7月31日。"
    "分析人士认为需求依然强劲。"
)
UNDISCLOSED_ZH = (
    "平头哥在官网上线了真武810E芯片，采用HBM2e内存。平头哥没有公布售价，也未透露出货量。"
)
UNDISCLOSED_EN = "Nvidia did not disclose the price of the H20. The H20 has 96GB of HBM3 memory."
BRACKETS = "据行业媒体报道[7]，沐曦的曦云C600采用HBM3e显存，容量为144GB[8]。该芯片由沐曦自研。"


def make_doc(doc_id: str, text: str, *, lang: str = "zh", date: str = "2026-01-29") -> Document:
    return Document(
        doc_id=doc_id,
        title=f"title of {doc_id}",
        source="test",
        date=date,
        lang=lang,
        vendors=[],
        text=text,
    )


def make_passage(
    doc: Document, start: int = 0, end: int | None = None, dense: float = 0.85
) -> Passage:
    end = len(doc.text) if end is None else end
    return Passage(
        chunk_id=f"{doc.doc_id}:{start}",
        doc_id=doc.doc_id,
        title=doc.title,
        source=doc.source,
        date=doc.date,
        lang=doc.lang,
        vendors=doc.vendors,
        start=start,
        end=end,
        text=doc.text[start:end],
        scores={"dense": dense},
    )


def ask(question: str, *docs: Document, dense: float = 0.85, **kwargs) -> OfflineAnswer:
    """Answer over whole-document passages, best first in the order given."""
    passages = [make_passage(d, dense=dense) for d in docs]
    return answer_offline(question, passages, {d.doc_id: d for d in docs}, **kwargs)


def markers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\[(\d+)\]", text)]


def assert_well_formed(ans: OfflineAnswer, docs: dict[str, Document]) -> None:
    """Quotes are exact source spans, numbered 1..N, and every marker points to one."""
    assert not ans.abstained
    assert ans.citations
    assert [c.n for c in ans.citations] == list(range(1, len(ans.citations) + 1))
    for c in ans.citations:
        doc = docs[c.doc_id]
        assert c.quote == doc.text[c.start : c.end]
        assert c.title == doc.title and c.date == doc.date
    found = markers(ans.text)
    assert set(found) == {c.n for c in ans.citations}


def assert_abstained(ans: OfflineAnswer, *, chinese: bool) -> None:
    assert ans.abstained
    assert ans.citations == []
    assert markers(ans.text) == []
    assert is_chinese(ans.text) == chinese
    if chinese:
        assert ans.text.startswith("根据现有资料无法回答")
    else:
        assert ans.text.startswith("The corpus does not answer this")


# -- answers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "texts"),
    [
        ("真武810E配的是什么显存，容量多大？", [ZHENWU]),
        ("How much memory does the Zhenwu 810E have?", [ZHENWU]),
        ("Compare the HBM capacity of the MI325X and the B200.", [MI325X, B200]),
        ("Which regulator summoned Nvidia over the H20, and when?", [SUMMONS_EN]),
        ("哪个监管部门约谈了英伟达？是什么时候？", [SUMMONS_ZH]),
        ("平头哥什么时候上线了真武810E？", [LAUNCH]),
    ],
    ids=["spec-zh", "spec-en-over-zh", "compare-en", "multi-part-en", "multi-part-zh", "when-zh"],
)
def test_citations_are_exact_spans_and_markers_resolve(question: str, texts: list[str]) -> None:
    docs = {
        f"d{i}": make_doc(f"d{i}", t, lang="zh" if is_chinese(t) else "en")
        for i, t in enumerate(texts)
    }
    ans = ask(question, *docs.values())
    assert_well_formed(ans, docs)
    # short: at most three quotes, and never the whole evidence
    assert len(ans.citations) <= 3
    assert len(ans.text) < sum(len(t) for t in texts)


def test_spec_question_quotes_the_figure_sentence() -> None:
    doc = make_doc("zw", ZHENWU)
    ans = ask("真武810E配的是什么显存，容量多大？", doc)
    assert_well_formed(ans, {"zw": doc})
    assert len(ans.citations) == 1
    quote = ans.citations[0].quote
    assert "96GB" in quote and "HBM2e" in quote
    assert ans.text == f"{quote}[1]"  # Chinese: the marker follows the quote directly
    # the sentences around it answer nothing asked
    assert "A800" not in ans.text and "千问" not in ans.text and "1月29日" not in ans.text


def test_long_chinese_sentence_is_trimmed_to_the_figure_clauses() -> None:
    doc = make_doc("zw", ZHENWU)
    ans = ask("真武810E配的是什么显存，容量多大？", doc)
    cit = ans.citations[0]
    assert cit.quote == doc.text[cit.start : cit.end]
    assert cit.quote in ZHENWU_SPEC_SENTENCE
    assert len(cit.quote) < len(ZHENWU_SPEC_SENTENCE)
    assert "容量可达96GB" in cit.quote
    # the clauses about architecture and use cases are cut off, and no dangling comma is kept
    assert "自研并行计算架构" not in cit.quote
    assert "自动驾驶" not in cit.quote
    assert cit.quote[-1] not in "，,、"


def test_english_question_over_chinese_evidence_leads_with_the_figure() -> None:
    doc = make_doc("zw", ZHENWU)
    ans = ask("How much memory does the Zhenwu 810E have?", doc)
    assert_well_formed(ans, {"zw": doc})
    quote = ans.citations[0].quote
    assert is_chinese(quote) and "96GB" in quote
    assert ans.text == f"From the Chinese source: 96GB — “{quote}” [1]"


def test_the_lead_figure_is_the_one_the_question_asks_about() -> None:
    doc = make_doc("zw", ZHENWU)
    ans = ask("How fast is the Zhenwu 810E's chip-to-chip interconnect?", doc)
    assert_well_formed(ans, {"zw": doc})
    quote = ans.citations[0].quote
    assert "96GB" in quote and "700GB/s" in quote  # both figures quoted ...
    assert ans.text.startswith("From the Chinese source: 700GB/s — ")  # ... the asked one leads


def test_english_question_over_english_evidence() -> None:
    doc = make_doc("mi", MI325X, lang="en", date="2024-10-10")
    ans = ask("How much HBM does the MI325X have?", doc)
    assert_well_formed(ans, {"mi": doc})
    assert ans.citations[0].quote == (
        "The MI325X carries 256GB of HBM3E memory and 6TB/s of memory bandwidth."
    )
    assert ans.text.startswith(ans.citations[0].quote + " [1]")
    assert "From the Chinese source" not in ans.text


@pytest.mark.parametrize(
    "question",
    ["Compare the HBM capacity of the MI325X and the B200.", "MI325X和B200的HBM容量分别是多少？"],
    ids=["en", "zh"],
)
def test_comparison_cites_one_sentence_per_product(question: str) -> None:
    mi = make_doc("mi", MI325X, lang="en", date="2024-10-10")
    b2 = make_doc("b2", B200, lang="en", date="2024-03-18")
    ans = ask(question, mi, b2)
    assert_well_formed(ans, {"mi": mi, "b2": b2})
    by_doc = {c.doc_id: c.quote for c in ans.citations}
    assert set(by_doc) == {"mi", "b2"}
    assert "256GB" in by_doc["mi"] and "MI325X" in by_doc["mi"]
    assert "192GB" in by_doc["b2"] and "B200" in by_doc["b2"]
    assert "256GB" in ans.text and "192GB" in ans.text


@pytest.mark.parametrize(
    ("question", "lead"),
    [
        ("平头哥什么时候上线了真武810E？", ""),
        ("When did T-Head launch the Zhenwu 810E?", "From the Chinese source: 2026年1月29日 — "),
    ],
    ids=["zh", "en-over-zh"],
)
def test_when_question_quotes_the_dated_launch_sentence(question: str, lead: str) -> None:
    doc = make_doc("l", LAUNCH)
    ans = ask(question, doc)
    assert_well_formed(ans, {"l": doc})
    assert ans.citations[0].quote == "2026年1月29日，平头哥在官网上线了真武810E芯片。"
    assert ans.text.startswith(lead + ("“" if lead else "") + "2026年1月29日")
    # the founding year is a date too, but not the one asked for
    assert "2018" not in ans.text


@pytest.mark.parametrize(
    ("question", "text"),
    [
        ("Which regulator summoned Nvidia over the H20, and when?", SUMMONS_EN),
        ("Which regulator summoned Nvidia over the H20, and when?", SUMMONS_ZH),
        ("哪个监管部门约谈了英伟达？是什么时候？", SUMMONS_ZH),
    ],
    ids=["en-over-en", "en-over-zh", "zh-over-zh"],
)
def test_multi_part_question_covers_each_part(question: str, text: str) -> None:
    doc = make_doc("s", text, lang="zh" if is_chinese(text) else "en", date="2025-08-01")
    ans = ask(question, doc)
    assert_well_formed(ans, {"s": doc})
    quotes = [c.quote for c in ans.citations]
    who = [q for q in quotes if "Cyberspace Administration" in q or "国家互联网信息办公室" in q]
    when = [q for q in quotes if "July 31, 2025" in q or "2025年7月31日" in q]
    assert who and when
    assert who[0] != when[0]  # two sentences, one per part
    assert not any("backdoors" in q or "不存在后门" in q or "需求" in q for q in quotes)


def test_bracketed_numbers_in_the_article_are_not_citation_markers() -> None:
    doc = make_doc("br", BRACKETS, date="2025-12-01")
    for question in ("曦云C600的显存容量是多少？", "How much memory does the Xiyun C600 have?"):
        ans = ask(question, doc)
        assert not ans.abstained
        assert len(ans.citations) == 1
        cit = ans.citations[0]
        # the citation keeps the source text exactly ...
        assert "[7]" in cit.quote and cit.quote == doc.text[cit.start : cit.end]
        # ... but the answer shows the article's own brackets as (7), (8)
        assert markers(ans.text) == [1]
        assert "(7)" in ans.text and "(8)" in ans.text
        assert "144GB" in ans.text


def test_quotes_come_only_from_the_retrieved_passage() -> None:
    text = "第一段：英伟达H20的售价为1.2万美元。\n第二段：真武810E采用HBM2e内存，容量可达96GB。"
    doc = make_doc("d", text)
    start = text.index("第二段")
    ans = answer_offline("真武810E的显存容量多大？", [make_passage(doc, start=start)], {"d": doc})
    assert_well_formed(ans, {"d": doc})
    assert all(c.start >= start for c in ans.citations)
    assert "96GB" in ans.text and "1.2万美元" not in ans.text


# -- abstention ---------------------------------------------------------------------------


def test_abstains_in_chinese_when_the_asked_price_is_absent() -> None:
    ans = ask("真武810E的售价是多少？", make_doc("zw", ZHENWU))
    assert_abstained(ans, chinese=True)
    assert "售价" in ans.text
    assert "96GB" not in ans.text


def test_abstains_in_english_when_the_asked_price_is_absent() -> None:
    ans = ask("What is the price of the Zhenwu 810E?", make_doc("zw", ZHENWU))
    assert_abstained(ans, chinese=False)
    assert "price" in ans.text


def test_abstains_when_the_power_draw_is_absent_from_english_evidence() -> None:
    ans = ask("What is the power draw of the MI325X?", make_doc("mi", MI325X, lang="en"))
    assert_abstained(ans, chinese=False)
    assert "power" in ans.text


@pytest.mark.parametrize(
    ("question", "chinese"),
    [("真武920E的显存容量多大？", True), ("How much memory does the Zhenwu 920E have?", False)],
    ids=["zh", "en"],
)
def test_abstains_when_the_named_model_is_not_in_the_evidence(question: str, chinese: bool) -> None:
    ans = ask(question, make_doc("zw", ZHENWU))
    assert_abstained(ans, chinese=chinese)
    assert "920E" in ans.text  # says what it could not find
    assert "96GB" not in ans.text


@pytest.mark.parametrize(
    ("question", "text", "chinese"),
    [
        ("真武810E的售价是多少？", UNDISCLOSED_ZH, True),
        ("What is the price of the Zhenwu 810E?", UNDISCLOSED_ZH, False),
        ("What is the price of the H20?", UNDISCLOSED_EN, False),
        ("H20的售价是多少？", UNDISCLOSED_EN, True),
    ],
    ids=["zh-over-zh", "en-over-zh", "en-over-en", "zh-over-en"],
)
def test_abstains_when_the_evidence_says_not_disclosed(
    question: str, text: str, chinese: bool
) -> None:
    ans = ask(question, make_doc("u", text, lang="zh" if is_chinese(text) else "en"))
    assert_abstained(ans, chinese=chinese)
    assert ("未公开" in ans.text) if chinese else ("not disclosed" in ans.text)


def test_undisclosed_price_does_not_block_a_memory_answer() -> None:
    doc = make_doc("u", UNDISCLOSED_EN, lang="en")
    ans = ask("How much memory does the H20 have?", doc)
    assert_well_formed(ans, {"u": doc})
    assert ans.citations[0].quote == "The H20 has 96GB of HBM3 memory."


def test_abstains_without_passages() -> None:
    assert_abstained(answer_offline("真武810E的显存多大？", [], {}), chinese=True)
    assert_abstained(answer_offline("How big is the Zhenwu memory?", [], {}), chinese=False)


@pytest.mark.parametrize(
    ("question", "chinese"),
    [("量子计算的前景如何？", True), ("What is the outlook for quantum computing?", False)],
    ids=["zh", "en"],
)
def test_abstains_on_weak_evidence(question: str, chinese: bool) -> None:
    doc = make_doc("w", "今天天气很好，我们去公园散步。公园里有很多人。")
    ans = ask(question, doc, dense=0.3)
    assert_abstained(ans, chinese=chinese)


def test_abstains_on_a_name_the_corpus_never_mentions() -> None:
    doc = make_doc(
        "p", "摩尔线程发布了新款显卡MTT S80。MTT S80的售价为2999元，配备16GB GDDR6显存。"
    )
    known = {"mtt", "s80", "gddr6"}
    ans = ask("What is the price of the Cerebras WSE-3?", doc, known_words=known)
    assert_abstained(ans, chinese=False)
    assert "Cerebras" in ans.text
    # the same question about a product that is there is answered, figure first
    ans = ask("What is the price of the MTT S80?", doc, known_words=known)
    assert not ans.abstained
    # the figure in the asker's way of writing money; the quote keeps the source's
    assert ans.text.startswith("From the Chinese source: 2999 yuan — ")
    assert "2999元" in ans.text


# -- regressions ---------------------------------------------------------------------------


def test_price_answered_when_another_attribute_is_undisclosed() -> None:
    doc = make_doc("b", "真武810E的售价约为3万元，平头哥没有公布出货量。")
    ans = ask("真武810E的售价是多少？", doc)
    assert not ans.abstained
    assert "3万元" in ans.text


def test_abstains_when_a_model_ending_in_x_is_absent() -> None:
    ans = ask("Huawei Ascend 910X memory?", make_doc("h", "华为昇腾910C配备128GB HBM显存。"))
    assert ans.abstained


def test_chinese_question_over_english_quotes_keeps_them_apart() -> None:
    mi = make_doc("mi", MI325X, lang="en")
    b2 = make_doc("b2", B200, lang="en")
    ans = ask("MI325X和B200的HBM容量分别是多少？", mi, b2)
    assert "[1]Each" not in ans.text


# -- whole statements, hyphenated names, refusals in the asker's language ------------------
LEAD_IN = (
    "据星河芯官网介绍，“X1”是一款AI训推一体芯片，采用自研并行计算架构和片间互联技术，"
    "配合全栈自研软件栈，实现软硬结合，支持多种精度的混合计算与多机多卡的弹性扩展，"
    "可应用于AI训练、AI推理和自动驾驶等多种场景的大规模部署。"
    "业内人士认为，星河X1的整体性能与主流国产GPU相当。"
)
LEAD_IN_QUESTION = "星河芯官网介绍的X1怎么样?"


def test_a_lead_in_clause_is_never_quoted_alone() -> None:
    ans = ask(LEAD_IN_QUESTION, make_doc("lead", LEAD_IN))
    assert not ans.abstained
    for c in ans.citations:
        assert not c.quote.rstrip().endswith(("介绍", "介绍，", "介绍,")), c.quote


def test_a_hyphenated_term_is_one_name() -> None:
    doc = make_doc(
        "isa", "The Xingyun Nova core is built on the RISC-V instruction set.", lang="en"
    )
    ans = ask("Which chips use RISC-V?", doc, known_words={"risc-v", "xingyun", "nova"})
    assert not ans.abstained, ans.text


def test_refusal_follows_the_asker_not_the_resolved_text() -> None:
    doc = make_doc("zh", "星河芯发布了星河X1芯片。")
    ans = ask("星河X1 and its price?", doc, lang="en")
    assert ans.abstained and ans.text.startswith("The corpus does not answer this")


def test_a_known_name_with_a_suffix_is_known() -> None:
    from rag.question import unknown_names

    assert unknown_names("Did Galaxy-based servers win?", {"galaxy"}) == []
    assert unknown_names("Is the Nova RISC-V core out?", {"nova"}) == ["RISC-V"]


def test_chinese_question_over_english_source_quotes_it() -> None:
    ans = ask("MI325X的显存容量是多少?", make_doc("en", MI325X, lang="en"))
    assert not ans.abstained
    assert ans.text.startswith("据英文资料:256GB——“")
    assert "”[" in ans.text  # the English sentence is a quote, not the answer's own words


# -- gates of the analyser's attributes and periods ----------------------------------------
FAB = make_doc("fab", "星河晶圆厂2025年月产能达到5万片。该厂由星河集团投资建设,员工超过三千人。")
FAB_NO_CAPACITY = make_doc("fab2", "星河晶圆厂由星河集团投资建设,员工超过三千人。该厂位于上海。")


def test_an_attribute_without_a_legacy_group_must_be_stated() -> None:
    assert not ask("星河晶圆厂的月产能是多少?", FAB).abstained
    ans = ask("星河晶圆厂的月产能是多少?", FAB_NO_CAPACITY)
    assert ans.abstained and "产能" in ans.text


def test_a_period_question_needs_a_quote_of_that_period() -> None:
    assert not ask("星河晶圆厂2025年的月产能是多少?", FAB).abstained
    ans = ask("星河晶圆厂2023年的月产能是多少?", FAB)
    assert ans.abstained and "2023" in ans.text


REVENUE_YEARS = make_doc(
    "rev",
    "星河芯片2024年营收为12亿元,比2023年增长约60%。2022年,星河芯片在苏州建成研发中心。"
    "星河芯片2025年前三季度净利润为3亿元。",
    date="2025-10-30",
)


def test_the_period_belongs_to_the_quote_stating_the_figure() -> None:
    """Another quote naming the year does not make a figure of another year an answer."""
    assert not ask("星河芯片2024年营收多少?", REVENUE_YEARS).abstained
    ans = ask("星河芯片2022年净利润多少?", REVENUE_YEARS)
    assert ans.abstained and "2022" in ans.text
    # a report of the year asked states its figure against another year's: still that year's
    report = make_doc(
        "q3", "星河芯片前三季度净利润为3亿元,而2024年同期仍为亏损。", date="2025-10-30"
    )
    assert not ask("星河芯片2025年净利润多少?", report).abstained
    # a year that marks the product, not the figure, does not gate it
    launch = make_doc("l", "星河X1于2019年发布。星河X1的功耗为300W。", date="2025-01-01")
    assert not ask("2019年发布的星河X1功耗是多少?", launch).abstained


# an invented fabless company: revenue given only as a customer's share of it
SHARE_ONLY = make_doc(
    "share",
    "星河芯片成立于2019年,总部位于苏州。到2025年前三季度,最大客户在星河芯片营收中的占比超过60%。"
    "公司本次计划募集资金30亿元。",
)
NODE_NAME = make_doc(
    "node",
    "The Orion X1 accelerator packs 90 billion transistors. It is built on a custom TSMC 4NP process.",
    lang="en",
)
RELATIVE = make_doc(
    "rel",
    "The Orion X2 uses a single-die design and would deliver roughly half the raw compute of the X1.",
    lang="en",
)


def test_a_share_of_revenue_does_not_answer_how_much_revenue() -> None:
    """Every attribute asked by its own cue is checked, also where an evidence group of the
    question matched: 营收 beside a percentage is a share, not an amount."""
    ans = ask("星河芯片2025年前三季度营收多少?", SHARE_ONLY)
    assert ans.abstained and "营收" in ans.text
    assert not ask("星河芯片计划募资多少?", SHARE_ONLY).abstained


@pytest.mark.parametrize(
    ("question", "doc"),
    [
        ("Which process node is the Orion X1 built on?", NODE_NAME),
        ("How much compute does the Orion X2 deliver?", RELATIVE),
    ],
    ids=["node-name", "relative-figure"],
)
def test_a_value_written_as_a_name_or_relative_figure_answers(question: str, doc: Document) -> None:
    ans = ask(question, doc)
    assert not ans.abstained, ans.text
    assert_well_formed(ans, {doc.doc_id: doc})


FOUNDED = make_doc("fd", "星河芯片成立于2019年,总部位于苏州。星河芯片的首款芯片采用7nm工艺。")
FOUNDED_BY = make_doc("fb", "星河芯片成立于2019年,创始人张明远曾任职于英特尔。")


def test_a_who_question_needs_a_quote_naming_someone() -> None:
    ans = ask("星河芯片是谁创办的?", FOUNDED)
    assert ans.abstained and ans.reason is not None and ans.reason.value == "nobody_named"
    assert not ask("星河芯片是谁创办的?", FOUNDED_BY).abstained


class OneEntityIndex:
    """The learned-entity index of a store that knows one company, found by ``key``."""

    def __init__(self, name: str, aliases: list[str], doc_id: str, key: str) -> None:
        from types import SimpleNamespace

        self.ent = SimpleNamespace(
            entity_id=name, name=name, kind="company", vendor=None,
            aliases=aliases, doc_ids=[doc_id],
        )  # fmt: skip
        self.key = key

    def match_entities(self, text: str) -> list[tuple[object, int, int]]:
        i = text.lower().find(self.key)
        return [(self.ent, i, i + len(self.key))] if i >= 0 else []

    def entities(self) -> list[object]:
        return [self.ent]


def test_the_asked_company_under_another_name_is_not_someone_who_answers_a_who_question() -> None:
    """A Chinese question names 星河芯片, the English article calls it "Xinghe": that name
    is the company asked about, not a founder; a quote naming a founder still answers."""
    from rag.question import analyse

    index = OneEntityIndex("星河芯片", ["星河芯片", "xinghe", "xing he"], "fe", "星河芯片")
    set_up = make_doc("fe", "In 2019 Xinghe was set up, and its first chip used a 7nm process.")
    founded = make_doc("ff", "In 2019 Xinghe was founded by Zhang Mingyuan, a former engineer.")
    q = "星河芯片是谁创办的?"
    a = analyse(q, None, index)
    ans = ask(q, set_up, analysis=a)
    assert ans.abstained and ans.reason is not None and ans.reason.value == "nobody_named"
    assert not ask(q, founded, analysis=a).abstained


def test_a_learned_company_asked_by_a_name_the_glossary_lacks_is_the_subject() -> None:
    """ "Xinghe" (a pinyin the text never writes) names the learned 星河科技: a sentence of
    another company's article is not about it, however well it is retrieved."""
    from rag.question import analyse

    index = OneEntityIndex("星河科技", ["星河科技", "xinghe", "xing he"], "gx", "xinghe")
    other = make_doc("ot", "青云科技今日在科创板上市。本次发行价格为50.00元/股,募资20亿元。")
    own = make_doc("gx", "星河科技今日在科创板上市。星河科技本次发行价格为32.50元/股。")
    q = "What was the Xinghe IPO issue price?"
    a = analyse(q, None, index)
    passages = [make_passage(other), make_passage(own)]
    ans = answer_offline(q, passages, {d.doc_id: d for d in (other, own)}, analysis=a)
    assert not ans.abstained, ans.text
    assert "32.50" in ans.text and "50.00" not in ans.text


TW_PAGE = make_doc(
    "tw",
    "星河X9採用3奈米製程,記憶體頻寬達到3.2TB/s。星河科技第三季稅後淨利為新台幣120億元。",
)


@pytest.mark.parametrize(
    ("question", "figure"),
    [
        ("星河X9的显存带宽是多少?", "3.2TB/s"),
        ("What process node is the 星河X9 built on?", "3"),
        ("星河科技的净利润是多少?", "120"),
    ],
    ids=["bandwidth", "process", "profit"],
)
def test_a_taiwan_page_states_what_a_mainland_question_asks(question: str, figure: str) -> None:
    """頻寬, 奈米, 稅後淨利 are 带宽, 纳米 and net profit: the figure is given, not absent."""
    ans = ask(question, TW_PAGE)
    assert not ans.abstained, ans.text
    assert figure in ans.text
    assert_well_formed(ans, {"tw": TW_PAGE})


def test_the_figure_of_a_numbered_predecessor_is_not_the_products() -> None:
    """ "The previous-generation Orion 2 had 96GB" is no capacity of the Orion 3, though it
    names the series and the pronoun sentence with the right figure does not."""
    doc = make_doc(
        "o3",
        "Acme introduced the Orion 3 accelerator on April 9, 2026. "
        "Orion 3 is manufactured on a 5nm process. It carries 128GB of HBM2e memory. "
        "For comparison, the previous-generation Orion 2 had 96GB of HBM2e memory.",
        lang="en",
    )
    ans = ask("How much memory does the Orion 3 have?", doc, max_sentences=1)
    assert_well_formed(ans, {"o3": doc})
    assert any("128GB" in c.quote for c in ans.citations)


def test_a_name_with_a_quoted_part_or_written_without_its_space_is_the_name() -> None:
    """News quotes a product's brand (“星河”X1) and runs Han and Latin parts together
    (星河X1 for the learned "星河 X1"): both are the name, so its sentence is about it."""
    from rag.evidence import alias_in
    from rag.textnorm import normalize

    quoted = normalize("同样的,艾克米的“星河”X1也已服务了超400家客户。")
    assert alias_in("星河 X1", quoted) and alias_in("星河X1", quoted)
    assert alias_in("星河 X1", normalize("星河X1已量产"))
    assert not alias_in("Orion X1", normalize("orionx1"))  # Latin words keep their edges


def test_who_a_customer_is_is_answered_by_the_sentence_naming_it() -> None:
    """ "Who is its biggest customer?" asks for a name, not a count of customers: the sentence
    naming the customer answers it."""
    doc = make_doc(
        "c",
        "Orion Chips opened a design centre in Austin. Vega Labs is Orion Chips' most "
        "prominent customer and trains its models on the chips.",
        lang="en",
    )
    ans = ask("Who is Orion Chips' biggest customer?", doc)
    assert not ans.abstained and "Vega Labs" in ans.text, ans.text


def test_a_figure_compared_with_a_year_is_no_figure_of_that_year() -> None:
    """ "前三季度净利润为3亿元,而2024年同期仍为亏损" (a 2025 report) gives 2025's profit: no
    answer for 2024's loss. A fiscal year is the one the sentence names, not the report's."""
    report = make_doc(
        "q3", "星河芯片前三季度净利润为3亿元,而2024年同期仍为亏损。", date="2025-10-30"
    )
    assert not ask("星河芯片2025年净利润多少?", report).abstained
    ans = ask("星河芯片2024年亏了多少?", report)
    assert ans.abstained and "2024" in ans.text, ans.text
    fiscal = make_doc(
        "fy", "星河芯片发布2026财年第二季度财报,季度营收为46亿美元。", date="2025-08-27"
    )
    assert not ask("星河芯片2026财年第二季度营收多少?", fiscal).abstained
