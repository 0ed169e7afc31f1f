"""The question analyser: entities, attributes, intents, periods, follow-ups, in both languages."""

from __future__ import annotations

import pytest

from rag.question import analyse, asked_attributes, period_of


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("真武810E的显存容量是多少?", ["memory_capacity"]),
        ("What is the memory bandwidth of the H20?", ["memory_bandwidth"]),
        ("mem bw h20 vs 810e", ["memory_bandwidth"]),
        ("它的片间互联带宽呢?", ["interconnect_bandwidth"]),
        ("How fast is the chip-to-chip interconnect?", ["interconnect_bandwidth"]),
        ("What memory does the chip have?", ["memory_type", "memory_capacity"]),
        ("带宽多少", ["memory_bandwidth", "interconnect_bandwidth"]),
        ("How many wafers per month can the fab make?", ["capacity"]),
        ("寒武纪2025年营收多少", ["revenue"]),
    ],
)
def test_attributes_longest_cue_wins_and_families_expand(
    question: str, expected: list[str]
) -> None:
    assert asked_attributes(question) == expected


def test_intents_and_main_intent() -> None:
    assert analyse("Compare the memory bandwidth of A100 and H20").intent == "compare"
    assert analyse("真武810E和英伟达H20相比怎么样?").intent == "compare"
    assert analyse("Why did the company disclose the chip now?").intent == "why"
    assert analyse("哪些厂商在2025年完成了融资,分别融了多少?").intent == "list"
    assert analyse("What is the latest HBM4 sampling news?").intent == "latest"
    assert analyse("When did the chip launch?").intent == "when"
    assert analyse("What is the price?").intent == "value"


@pytest.mark.parametrize(
    ("question", "yesno"),
    [("这款芯片支持FP8吗?", True), ("它已经量产了么", True), ("该公司的定位是什么?", False),
     ("这个“一体化”具体指什么？", False), ("Is it shipping?", True)],
)  # fmt: skip
def test_a_question_ending_in_a_question_word_is_no_yes_no_question(
    question: str, yesno: bool
) -> None:
    """ "...是什么?" asks what: its final 么 ends a question word, not a yes/no particle."""
    assert ("yesno" in analyse(question).intents) is yesno


def test_language_follows_the_question_script() -> None:
    assert analyse("真武810E的功耗").lang == "zh"
    assert analyse("What is the 810E's power draw?").lang == "en"


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("寒武纪25年营收多少", "2025-01-01", "2025-12-31"),
        ("2025年第三季度净利润", "2025-07-01", "2025-09-30"),
        ("revenue in Q2 2024", "2024-04-01", "2024-06-30"),
        ("上半年2025营收", "2025-01-01", "2025-06-30"),
        ("shipments in March 2025", "2025-03-01", "2025-03-31"),
    ],
)
def test_periods(question: str, since: str, until: str) -> None:
    p = period_of(question)
    assert p is not None and (p.since, p.until) == (since, until)


def test_no_period_without_a_year() -> None:
    assert period_of("What is the H20's memory?") is None


def test_model_numbers_are_entities_of_their_own() -> None:
    names = analyse(
        "Compare the memory bandwidth of the NVIDIA H20 and the Zhenwu 810E"
    ).entity_names
    assert "H20" in names and any("810E" in n for n in names)


def test_followup_inherits_entities_and_attributes() -> None:
    history = [{"role": "user", "content": "真武810E的显存容量是多少?"}]
    a = analyse("它的片间互联带宽呢?", history)
    assert a.followup and any("810E" in n for n in a.entity_names)
    assert a.attributes == ["interconnect_bandwidth"]
    b = analyse("那H20呢?", history)
    assert "H20" in b.entity_names and b.attributes == ["memory_capacity"]


def test_followup_accepts_langchain_messages() -> None:
    from langchain_core.messages import AIMessage, HumanMessage

    history = [HumanMessage("What memory does the H20 have?"), AIMessage("96GB HBM3 [1]")]
    a = analyse("and its bandwidth?", history)
    assert "H20" in a.entity_names and a.lang == "en"


def test_a_period_beside_a_launch_word_marks_the_product() -> None:
    p = period_of("华为2019年发布的初代昇腾910算力是多少?")
    assert p is not None and p.of_entity
    p = period_of("What was the compute of the Ascend 910 launched in 2019?")
    assert p is not None and p.of_entity
    p = period_of("寒武纪2024年营收多少?")
    assert p is not None and not p.of_entity


def test_a_name_typed_without_its_spaces_is_the_learned_entity() -> None:
    """ "orionx1" (for "Orion X1") is the learned product, not a second, unknown model
    number that no source mentions."""
    from types import SimpleNamespace

    ent = SimpleNamespace(
        entity_id="orion x1", name="Orion X1", kind="product", vendor=None,
        aliases=["Orion X1", "猎户X1"], doc_ids=["d"],
    )  # fmt: skip

    class Index:  # the fact store matches names ignoring spaces, as here
        def match_entities(self, text: str) -> list[tuple[object, int, int]]:
            i = text.lower().find("orionx1")
            return [(ent, i, i + 7)] if i >= 0 else []

        def entities(self) -> list[object]:
            return [ent]

    a = analyse("orionx1 memory bandwidth?", None, Index())
    assert [(e.entity_id, e.kind) for e in a.entities] == [("orion x1", "product")]
    assert "猎户X1" in a.entities[0].aliases


def test_a_cue_inside_a_longer_cue_asks_for_the_longer_one_only() -> None:
    """显存带宽 asks for a bandwidth: its 显存 triggers no memory-capacity evidence group."""
    assert analyse("星河X9的显存带宽是多少?").evidence_attributes == ["bandwidth"]
    assert set(analyse("H20的显存和带宽").evidence_attributes) == {"bandwidth", "memory"}


def test_a_taiwan_question_is_read_in_mainland_wording() -> None:
    a = analyse("輝達H20的記憶體頻寬是多少?")
    assert a.attributes == ["memory_bandwidth"] and a.evidence_attributes == ["bandwidth"]
    assert analyse("寒武紀2024年淨利多少").attributes == ["profit"]


def test_a_year_ending_the_sentence_and_a_plural_cue_are_read() -> None:
    p = period_of("Which GPU makers listed in late 2025 and early 2026.")
    assert p is not None and (p.since, p.until) == ("2025-01-01", "2026-12-31")
    assert period_of("What changed in 2025.5?") is None  # a decimal, not a year
    assert "price" in analyse("List the IPO issue prices of the makers").attributes


def test_a_date_cue_in_a_how_much_question_names_the_event_not_the_asked_attribute() -> None:
    # "上市首日涨幅" is the first day's gain; "量产的...容量多大" the mass-produced part's capacity
    assert "listing_date" not in analyse("星河科技上市首日涨幅是多少?").attributes
    caps = analyse("星河科技量产的Orion X1单颗容量多大?")
    assert "mass_production_date" not in caps.attributes
    assert "memory_capacity" in caps.attributes
    # with no how-much cue, or with a when cue too, the date is what is asked
    assert "listing_date" in analyse("星河科技什么时候上市?").attributes
    both = analyse("When did Orion X1 enter mass production, and how much memory does it have?")
    assert "mass_production_date" in both.attributes


@pytest.mark.parametrize(
    ("question", "scoped"),
    [
        ("What was Orion's revenue in Arcadia?", True),
        ("Orion在阿卡迪亚的营收是多少?", True),
        ("Orion阿卡迪亚市场的营收是多少?", True),
        ("How big is the Arcadia market for Orion?", True),
        ("阿卡迪亚的芯片公司Orion营收多少?", False),  # a place named, not the figure's scope
        ("What did Orion earn, and is it based in Arcadia?", True),
        ("Which Arcadian firm is Orion's rival?", False),
    ],
)
def test_a_place_scopes_the_figure_only_beside_a_scope_word(question: str, scoped: bool) -> None:
    """A learned place is the asked figure's scope when a scope word of ``question.yaml``
    stands right before or after it; a Latin cue is a whole word."""
    from types import SimpleNamespace

    names = ("Arcadia", "阿卡迪亚")
    ent = SimpleNamespace(
        entity_id="arcadia", name="Arcadia", kind="place", vendor=None,
        aliases=list(names), doc_ids=["d"],
    )  # fmt: skip

    class Index:
        def match_entities(self, text: str) -> list[tuple[object, int, int]]:
            for n in names:
                i = text.find(n)
                if i >= 0 and not text[i + len(n) : i + len(n) + 1].isalpha():
                    return [(ent, i, i + len(n))]
                if i >= 0 and n == "阿卡迪亚":
                    return [(ent, i, i + len(n))]
            return []

    a = analyse(question, None, Index())
    assert [e.entity_id for e in a.scopes] == (["arcadia"] if scoped else []), a.entities


@pytest.mark.parametrize(
    ("question", "counted"),
    [
        ("星河芯片的毛利率是多少?", "毛利率"),
        ("星河芯片有多少个员工?", "员工"),
        ("这个集群由多少张卡组成?", "卡"),
        ("How many employees does Orion have?", "employees"),
        ("How much on-chip SRAM does the Orion X1 have?", "sram"),
        ("how many X1 chips in a rack", "chips"),  # the model number is passed over
        ("星河芯片的营收是多少?", ""),  # an attribute names it
        ("上市第一天涨了多少?", ""),  # a verb, not a noun, is measured
    ],
)
def test_a_how_much_question_without_an_attribute_names_what_it_counts(
    question: str, counted: str
) -> None:
    assert analyse(question).counted == counted


@pytest.mark.parametrize(
    ("question", "asked", "not_asked"),
    [
        ("What is the power efficiency of the Orion X1?", None, "power"),
        ("What is the computing power of the Orion X1?", "compute", "power"),
        ("Which companies were listed on the Entity List in 2023?", None, "listing_date"),
        ("When was Acme listed?", "listing_date", None),
        ("What is the power draw of the Orion X1?", "power", None),
    ],
)
def test_the_analyser_reads_a_masked_phrase_as_its_word(
    question: str, asked: str | None, not_asked: str | None
) -> None:
    """``attribute_masks`` (glossary_questions.yaml) hold for the analyser as for the
    glossary: "power efficiency" asks no power draw, "listed on the Entity List" no
    listing date, while the cue alone still asks it."""
    from rag.question import attribute_cues

    found = attribute_cues(question)[0]
    assert asked is None or asked in found, found
    assert not_asked is None or not_asked not in found, found


def test_a_numbered_generation_has_english_names() -> None:
    from rag.question import generation_names, question_entities

    assert "second-generation" in generation_names("第二代")
    assert "gen 12" in generation_names("第12代")
    assert generation_names("第二款") == []
    ents = question_entities("第一代Orion的功耗是多少?")
    assert ["第一代", *generation_names("第一代")] in ents, ents


def test_a_model_number_glued_to_another_name_is_another_model() -> None:
    from rag.sentences import _part_of

    text = "Lyra810 uses a 7nm process, and the Orion 810E a 5nm one."
    assert not _part_of(text, "810", 4, "orion 810e")  # "a810" is no part of the name
    assert _part_of(text, "810E", text.index("810E"), "orion 810e")


def test_a_date_asked_by_its_own_cue_is_the_only_date_asked() -> None:
    """ "when" asks every date until a date's own cue names one (question.yaml only_own); a
    content family such as memory keeps its members ("什么显存,容量多大": type and capacity)."""
    from rag.question import attribute_cues

    assert attribute_cues("When did the Orion X1 enter mass production?")[0] == [
        "mass_production_date"
    ]
    assert "launch_date" in attribute_cues("When did the Orion X1 come out?")[0]
    memory = attribute_cues("Orion X1配的是什么显存,容量多大?")[0]
    assert {"memory_type", "memory_capacity"} <= set(memory), memory
