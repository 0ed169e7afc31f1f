"""A memory's data rate (Gbps) is its own attribute, over a real keyword store of invented
articles: "速度多少" after a name asks it, the compared standard's figure is none of the
subject's, one maker's part of a memory generation is answered by that maker's figure only,
and a question asking the data rate is not answered with the product's other memory facts."""

from __future__ import annotations

import pytest

from rag import QA
from rag.question import analyse
from tests.conftest import keyword_store


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> QA:
    return keyword_store(
        tmp_path_factory.mktemp("rate"),
        {
            "zhinv.md": "# 织女科技完成HBM9开发\n\n织女科技宣布完成HBM9开发。"
            "织女科技表示,其HBM9的运行速度为12Gbps,高于JEDEC标准规定的9Gbps。\n",
            "orion.md": "# Orion Memory ships HBM9\n\nOrion Memory began shipping HBM9 in "
            "May 2025. Orion Memory's HBM9 delivers 3.2TB/s of bandwidth per stack.\n",
            "vega.md": "# Vega Labs ships the VX900\n\nThe VX900 carries 96GB of HBM3 memory "
            "and 3.3TB/s of memory bandwidth.\n",
        },
    )


def test_a_one_member_family_asked_how_much_is_its_own_cue() -> None:
    a = analyse("织女科技HBM9速度多少?")
    assert a.attributes == ["data_rate"] and not a.broad_attributes
    assert analyse("推理速度提升了多少?").broad_attributes == {"data_rate"}


def test_the_subjects_rate_not_the_standards(qa: QA) -> None:
    for q in ("织女科技HBM9速度多少?", "What is the data rate of 织女科技's HBM9?"):
        ans = qa.ask(q)
        assert not ans.abstained and "12Gbps" in ans.text.split("\n")[0], ans.text
    facts = qa.facts(attribute="data_rate")
    assert [f.value for f in facts] == ["12Gbps"]


def test_another_makers_part_is_no_answer(qa: QA) -> None:
    ans = qa.ask("Orion Memory的HBM9传输速率是多少?")
    assert "12Gbps" not in ans.text, ans.text


def test_other_memory_facts_do_not_answer_the_data_rate(qa: QA) -> None:
    ans = qa.ask("What is the data rate of the VX900's memory?")
    assert ans.abstained, ans.text
