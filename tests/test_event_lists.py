"""A list that asks an event and a figure ("which makers sampled X, and what bandwidth did
each give") lists the items that had the event, each with its figure, over a real keyword
store: the event is the condition, not the figure shown alone; a maker that never had it
is no item, however well its figure matches."""

from __future__ import annotations

import pytest

from rag import QA
from rag.question import analyse
from tests.conftest import keyword_store


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> QA:
    return keyword_store(
        tmp_path_factory.mktemp("events"),
        {
            "vega.md": "# Vega Labs samples HBM9\n\nVega Labs said on March 3, 2025, that it had "
            "shipped samples of HBM9 to customers. Vega Labs' HBM9 delivers more than "
            "3.1TB/s of bandwidth per stack.\n",
            "orion.md": "# Orion Memory samples HBM9\n\nOrion Memory announced on June 9, 2025, "
            "that it had begun shipping samples of HBM9. Orion Memory's HBM9 delivers "
            "2.6TB/s of bandwidth per stack.\n",
            "zhinv.md": "# 织女HBM9通过客户验证\n\n织女科技表示,其HBM9的数据传输速度可达"
            "11Gbps。以2048位接口计算,单颗堆叠带宽约2.8TB/s。\n",
            "lyra.md": "# Lyra Memory plans HBM9\n\nLyra Memory said its HBM9 will deliver "
            "2.9TB/s of bandwidth per stack. Lyra Memory plans mass production of HBM9 in "
            "2033.\n",
        },
    )


def test_the_event_is_a_condition_and_the_maker_word_no_attribute() -> None:
    a = analyse(
        "Which memory makers have shipped HBM9 samples to customers, and what bandwidth did each give?"
    )
    assert a.events == ["sampling_date"]
    assert "customers" not in a.attributes and "memory_type" not in a.attributes
    assert "memory_bandwidth" in a.attributes
    when = analyse("When did the memory makers ship HBM9 samples?")
    assert when.events == [] and "sampling_date" in when.attributes


def test_items_are_those_that_had_the_event_each_with_its_figure(qa: QA) -> None:
    ans = qa.ask(
        "Which memory makers have shipped HBM9 samples to customers, and what bandwidth "
        "per stack did each give?"
    )
    assert not ans.abstained, ans.text
    lines = [x for x in ans.text.splitlines() if x.startswith("- ")]
    assert lines, ans.text
    vega = next(x for x in lines if "Vega" in x)
    orion = next(x for x in lines if "Orion" in x)
    assert "3.1TB/s" in vega and "March 3, 2025" in vega, ans.text
    assert "2.6TB/s" in orion and "June 9, 2025" in orion, ans.text
    assert "Lyra" not in ans.text and "2.9TB/s" not in ans.text, ans.text


def test_a_cue_inside_a_company_name_is_part_of_the_name() -> None:
    from rag.entities import extract_entities
    from rag.facts import extract_facts
    from rag.types import Document

    text = "Orion Memory said on June 9, 2025, that it had shipped samples of HBM9 to customers."
    doc = Document("d1", "Orion Memory samples HBM9", "test", None, "en", [], text)
    facts = extract_facts(doc, extract_entities(doc))
    assert [(f.attribute, f.value) for f in facts] == [("sampling_date", "June 9, 2025")]


def test_a_makers_own_part_is_one_of_the_generations_items(qa: QA) -> None:
    ans = qa.ask("各家HBM9的单颗带宽是多少?")
    assert not ans.abstained, ans.text
    assert "2.8TB/s" in ans.text and "3.1TB/s" in ans.text, ans.text
