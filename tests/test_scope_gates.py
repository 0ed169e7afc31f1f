"""Gates on what a figure is of, over a real keyword store of a tiny corpus (entities learned
at ingest): a figure asked for one place ("revenue in Japan") is answered only by a quote
naming that place (the company's total is no answer for one of its markets), and one asked
for a business segment ("gaming revenue", "数据中心收入") only by a quote naming it; a quantity the
attribute vocabulary has no name for ("how many employees", "毛利率是多少") only by a quote
saying what is counted."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import QA
from rag.question import analyse


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> QA:
    from rag.config import Settings

    root = tmp_path_factory.mktemp("place")
    store = QA.open(root / "store", settings=Settings(retrieval="keyword"), embeddings="fake")
    folder = root / "in"
    folder.mkdir()
    (folder / "acme.md").write_text(
        "# Acme Semiconductor results\n\n"
        "Acme Semiconductor reported revenue of $2.1 billion for 2025, up 30% from a year "
        "earlier. The company opened a design centre in Japan last spring and hired 200 "
        "engineers there.\n",
        encoding="utf-8",
    )
    (folder / "borealis.md").write_text(
        "# Borealis Chips in Japan\n\n"
        "Borealis Chips said its revenue in Japan was $300 million in 2025, a fifth of its "
        "total. Borealis Chips makes power chips for cars.\n",
        encoding="utf-8",
    )
    (folder / "cygnus.md").write_text(
        "# Cygnus Micro results\n\n"
        "Cygnus Micro reported revenue of $900 million for 2025 and plans a new fab. "
        "Cygnus Micro is still making a loss.\n\n"
        "## Markets\n\n"
        "Cygnus Micro said its revenue in Japan reached $120 million, and the rest of its "
        "sales came from the United States.\n",
        encoding="utf-8",
    )
    (folder / "orion.md").write_text(
        "# Orion Chips shows its new accelerator\n\n"
        "Orion Chips announced its new Orion accelerator on May 1, 2025. The new Orion "
        "accelerator is built on a 5nm process and runs at 1.5GHz. The first-generation Orion "
        "accelerator had 128MB of on-chip cache and 32GB of memory. The chip contains 256MB of "
        "on-chip cache. The first-generation Orion accelerator was made on a 7nm process.\n",
        encoding="utf-8",
    )
    (folder / "星河.md").write_text(
        "# 星河芯片发布年报\n\n星河芯片2025年营收为12亿元,同比增长40%。"
        "星河芯片2025年毛利率为55%,高于上年。星河芯片的总部位于苏州。\n",
        encoding="utf-8",
    )
    (folder / "lyra.md").write_text(
        "# Lyra Systems full-year results\n\n"
        "Lyra Systems reported revenue of $5.2 billion for 2025, up 18% from a year earlier. "
        "Lyra Systems said its gaming revenue was $1.3 billion in 2025.\n",
        encoding="utf-8",
    )
    assert store.ingest([folder]).failed == 0
    return store


def test_the_place_is_learned_and_read_as_the_scope(qa: QA) -> None:
    a = analyse("What was Acme Semiconductor's revenue in Japan?", None, qa.factstore())
    assert [e.kind for e in a.scopes] == ["place"], a.entities


def test_a_total_is_no_answer_for_one_market(qa: QA) -> None:
    ans = qa.ask("What was Acme Semiconductor's revenue in Japan?")
    assert ans.abstained, ans.text
    assert "Japan" in ans.text and "figure" in ans.text, ans.text
    # without the place, the total answers
    total = qa.ask("What was Acme Semiconductor's revenue in 2025?")
    assert not total.abstained and "2.1 billion" in total.text, total.text


def test_a_quote_naming_the_place_answers(qa: QA) -> None:
    ans = qa.ask("What was Borealis Chips' revenue in Japan?")
    assert not ans.abstained and "300 million" in ans.text, ans.text


def test_a_place_is_known_by_its_names_in_both_languages(qa: QA) -> None:
    """A Chinese question about the market an English article names: the place's entry in
    entities.yaml gives both names, so the quote for that market answers (not the total)."""
    ans = qa.ask("Cygnus Micro在日本的营收是多少?")
    assert not ans.abstained and "120" in ans.text, ans.text
    assert "900" not in ans.text.split("\n")[0], ans.text  # the lead is no total


def test_a_quantity_no_attribute_names_needs_a_quote_saying_it(qa: QA) -> None:
    """Employees are counted nowhere: the revenue and hiring figures are no answer. A
    gross margin is stated: it answers, though no attribute of the vocabulary names it."""
    staff = qa.ask("How many employees does Borealis Chips have?")
    assert staff.abstained and "employees" in staff.text, staff.text
    margin = qa.ask("星河芯片的毛利率是多少?")
    assert not margin.abstained and "55%" in margin.text, margin.text
    absent = qa.ask("Borealis Chips的毛利率是多少?")  # only 星河芯片's margin is given
    assert absent.abstained, absent.text


def test_what_a_question_counts_is_quoted_for_the_generation_asked(qa: QA) -> None:
    """The first generation's cache is no answer about the new part's, though that sentence
    names the product and the new part's does not."""
    ans = qa.ask("How much cache does the new Orion accelerator have?")
    assert not ans.abstained and "256MB" in ans.text, ans.text


def test_a_place_no_quoted_source_names_is_no_answer(qa: QA) -> None:
    """A place named without a scope word still constrains the answer: the Orion article
    never names the United States (another article does), so its clock speed is no answer
    about a United States version; without the place it answers."""
    a = analyse(
        "What is the clock speed of the United States version of the Orion accelerator?",
        None,
        qa.factstore(),
    )
    assert any(e.kind == "place" for e in a.entities) and not a.scopes, a.entities
    ans = qa.ask("What is the clock speed of the United States version of the Orion accelerator?")
    assert ans.abstained and "United States" in ans.text, ans.text
    plain = qa.ask("What is the clock speed of the Orion accelerator?")
    assert not plain.abstained and "1.5GHz" in plain.text, plain.text


def test_a_numbered_generation_is_found_under_its_english_names(qa: QA) -> None:
    """A Chinese question about 第一代 over an English article that says "first-generation":
    the generation is no missing name, and its own figure leads, not the new part's."""
    ans = qa.ask("第一代Orion accelerator用的什么工艺?")
    assert not ans.abstained and "7nm" in ans.text.split("。")[0], ans.text


def test_a_unit_asked_in_chinese_is_the_english_sources_unit(qa: QA) -> None:
    """几纳米 asks a process node in nm: an English quote giving "5nm" states it."""
    ans = qa.ask("新一代Orion accelerator是几纳米的?")
    assert not ans.abstained and "5nm" in ans.text.split("。")[0], ans.text


def test_a_yes_no_question_is_answered_by_the_attributes_word(qa: QA) -> None:
    """ "Is it profitable?" wants a yes or no: a quote saying the company still makes a loss
    answers, though it gives no figure; a company no quote says it of is refused."""
    ans = qa.ask("Is Cygnus Micro profitable?")
    assert not ans.abstained and "loss" in ans.text, ans.text
    none = qa.ask("Is Acme Semiconductor profitable?")
    assert none.abstained, none.text


def test_one_member_of_an_evidence_group_is_not_another(qa: QA, tmp_path: Path) -> None:
    """A memory bandwidth is asked: a sentence giving the chip-to-chip bandwidth states a
    bandwidth, but not the one asked (the longer cue 片间互联带宽 is the sentence's), so the
    question is refused; asked for the interconnect bandwidth, it answers."""
    from rag.config import Settings

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "lyra.md").write_text(
        "# 天琴芯片发布Lyra X2\n\n天琴芯片发布了Lyra X2加速卡。Lyra X2采用HBM3显存,容量96GB,"
        "片间互联带宽达到800GB/s。\n",
        encoding="utf-8",
    )
    store = QA.open(tmp_path / "s", settings=Settings(retrieval="keyword"), embeddings="fake")
    assert store.ingest([folder]).failed == 0
    memory = store.ask("Lyra X2的显存带宽是多少?")
    assert memory.abstained, memory.text
    link = store.ask("Lyra X2的片间互联带宽是多少?")
    assert not link.abstained and "800GB/s" in link.text, link.text


def test_a_compared_side_without_the_figure_gets_the_quote_saying_the_attribute(
    tmp_path: Path,
) -> None:
    """Memory bandwidths compared, one side's not given as a figure: that side is quoted by
    the sentence saying how its memory bandwidth compares, not by its interconnect figure."""
    from rag.config import Settings

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "lyra.md").write_text(
        "# 天琴芯片发布Lyra X2\n\n天琴芯片发布了Lyra X2加速卡。Lyra X2的片间互联带宽达到800GB/s。"
        "分析人士认为,Lyra X2的显存带宽略逊于Vega V9。\n",
        encoding="utf-8",
    )
    (folder / "vega.md").write_text(
        "# Vega V9 ships\n\nThe Vega V9 carries 96GB of HBM3 with 4.0TB/s of memory bandwidth. "
        "Vega Labs also showed the Vega V10, with 6.0TB/s of memory bandwidth.\n",
        encoding="utf-8",
    )
    store = QA.open(tmp_path / "s", settings=Settings(retrieval="keyword"), embeddings="fake")
    assert store.ingest([folder]).failed == 0
    ans = store.ask("Compare the memory bandwidth of the Vega V9 and the Lyra X2")
    assert not ans.abstained and "4.0TB/s" in ans.text, ans.text
    assert "略逊" in ans.text and "800GB/s" not in ans.text, ans.text
    assert "6.0TB/s" not in ans.text, ans.text  # a third model is neither side


def test_a_segment_before_the_attribute_scopes_the_figure(qa: QA) -> None:
    a = analyse("What was Lyra Systems' data-center revenue in 2025?", None, qa.factstore())
    assert [e.kind for e in a.scopes] == ["segment"], a.scopes
    # a segment not beside an asked attribute scopes nothing
    assert not analyse("Which gaming chips did Lyra Systems ship?", None, qa.factstore()).scopes


def test_a_company_total_is_no_answer_for_one_segment(qa: QA) -> None:
    """The segment named in a quote answers in either language; one no quote names is
    refused, though the company's total is stated."""
    ans = qa.ask("What was Lyra Systems' gaming revenue in 2025?")
    assert not ans.abstained and "1.3 billion" in ans.text, ans.text
    zh = qa.ask("Lyra Systems 2025年游戏业务营收多少?")
    assert not zh.abstained and "1.3" in zh.text, zh.text
    for q in (
        "What was Lyra Systems' data-center revenue in 2025?",
        "Lyra Systems的数据中心收入是多少?",
    ):
        refused = qa.ask(q)
        assert refused.abstained, refused.text
    total = qa.ask("What was Lyra Systems' revenue in 2025?")
    assert not total.abstained and "5.2 billion" in total.text, total.text


def test_a_followup_naming_only_a_place_still_asks_of_the_earlier_subject(qa: QA) -> None:
    """ "how many engineers did it hire in Japan?": Japan is a place, not the subject; and a
    company's attribute asked of "it" takes the company, not the product named with it."""
    store = qa.factstore()
    history = [{"role": "user", "content": "What was Acme Semiconductor's revenue in 2025?"}]
    a = analyse("How many engineers did it hire in Japan?", history, store)
    assert a.followup and "Acme Semiconductor" in a.entity_names, a.entities
    assert any(e.kind == "place" for e in a.entities), a.entities
    orion = [{"role": "user", "content": "When did Orion Chips announce its Orion accelerator?"}]
    b = analyse("What was its revenue in Japan?", orion, store)
    assert [e.kind for e in b.entities if e.inherited] == ["company"], b.entities
