"""A why question is answered by a reason; a purpose ("主要用于AI训练", used for) answers only
a question that asks one ("用途", "use the money for"): over a real keyword store of
invented articles."""

from __future__ import annotations

import pytest

from rag import QA
from rag.evidence import gives_reason
from tests.conftest import keyword_store


def test_a_purpose_is_a_reason_only_where_one_is_asked() -> None:
    used = "织女X10主要用于AI训练和推理。"
    assert not gives_reason("织女科技为什么要合并天琴科技?", used)
    assert gives_reason("织女科技募集资金用途是什么?", used)
    assert gives_reason("Why did it merge?", "The merger was approved because rivals grew.")


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> QA:
    return keyword_store(
        tmp_path_factory.mktemp("reasons"),
        {
            "zhinv.md": "# 织女科技换股吸收合并天琴科技\n\n织女科技宣布换股吸收合并天琴科技。"
            "织女科技的X10芯片主要用于AI训练和推理,织女科技合并天琴科技后X10将继续出货。"
            "分析人士认为,合并之后,织女科技的芯片设计能力与天琴科技的整机业务将形成完整链条,"
            "有利于提供从芯片到集群的整体方案。\n",
            "zhinv-ipo.md": "# 织女科技科创板IPO\n\n织女科技计划募资30亿元,募集资金将用于新一代"
            "训练芯片的研发。\n",
        },
    )


def test_why_quotes_the_reason(qa: QA) -> None:
    ans = qa.ask("织女科技为什么要合并天琴科技?")
    assert not ans.abstained and "完整链条" in ans.text, ans.text


def test_a_purpose_asked_quotes_the_use(qa: QA) -> None:
    ans = qa.ask("织女科技IPO募集资金用途是什么?")
    assert not ans.abstained and "研发" in ans.text, ans.text
