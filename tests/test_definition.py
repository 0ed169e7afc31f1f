"""A question asking what something is ("X是什么?", "What is X?") is answered by the sentence
that says what it is ("X是一款...", "X, its ... accelerator"), over a real keyword store of
invented articles; a longer what-question asks more and gets no such weight."""

from __future__ import annotations

import pytest

from rag import QA
from rag.question import analyse
from rag.sentences import definition_names
from tests.conftest import keyword_store


def test_a_definition_question_names_its_term() -> None:
    assert analyse("天琴超节点是什么?").attributes == []  # 超节点 is no process node
    assert definition_names(analyse("天琴超节点是什么?"))
    assert definition_names(analyse("What is Orion?")) == ["Orion"]
    assert definition_names(analyse("What is the strategic logic of Vega absorbing Lyra?")) == []
    assert definition_names(analyse("Who is manufacturing Vega's new chip?")) == []


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> QA:
    return keyword_store(
        tmp_path_factory.mktemp("define"),
        {
            "zhinv.md": "# 织女科技天琴超节点\n\n天琴超节点采用液冷设计,整机功耗约80kW。"
            "天琴超节点的互联带宽为每秒3.2TB。天琴超节点在2025年5月的发布会上亮相。"
            "天琴超节点的售价约为1200万元。天琴超节点是一款由64颗织女X10芯片组成的AI计算集群。"
            "天琴超节点计划明年交付客户。\n",
            "vega.md": "# Vega Labs Orion\n\nEach Orion chip carries 96GB of HBM. Vega Labs "
            "unveiled Orion, its third-generation inference accelerator, on May 4, 2025. Orion "
            "ships to cloud customers this year.\n",
        },
    )


def test_the_sentence_saying_what_it_is_is_quoted(qa: QA) -> None:
    ans = qa.ask("天琴超节点是什么?")
    assert not ans.abstained and "是一款由64颗" in ans.text, ans.text
    ans = qa.ask("What is Orion?")
    assert not ans.abstained and "third-generation" in ans.text, ans.text
