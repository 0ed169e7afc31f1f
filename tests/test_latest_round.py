"""The latest funding round, over a real keyword store of invented articles: a newer raise
reported by its amount alone is the latest round, though only an older round has a name,
and a running total ("brings its total funding to", 累计融资) is no round's figure."""

from __future__ import annotations

import pytest

from rag import QA
from tests.conftest import keyword_store


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> QA:
    return keyword_store(
        tmp_path_factory.mktemp("rounds"),
        {
            "vega-2024.md": "# Vega Labs raises a Series B\n\nVega Labs said on March 4, 2024 "
            "that it had raised $100 million in a Series B round.\n",
            "vega-2025.md": "# Vega Labs raises $300 million\n\nVega Labs said on October 8, "
            "2025 that it had raised $300 million in new funding, which brings its total "
            "funding to $450 million.\n",
            "zhinv.md": "# 织女科技完成新一轮融资\n\n2023年5月,织女科技完成5亿元C轮融资。"
            "2025年6月,织女科技完成8亿元D轮融资。按公开报道统计,织女科技成立以来累计融资超过20亿元。\n",
        },
    )


def test_a_newer_raise_by_its_amount_is_the_latest_round(qa: QA) -> None:
    ans = qa.ask("What was Vega Labs' latest funding round?")
    lead = ans.text.split("\n")[0]
    assert not ans.abstained and "$300 million" in lead, ans.text
    assert "$450 million" not in lead, ans.text


def test_a_running_total_is_no_rounds_figure(qa: QA) -> None:
    ans = qa.ask("织女科技最新一轮融资多少钱?")
    lead = ans.text.split("\n")[0]
    assert not ans.abstained and "8亿元" in lead, ans.text
    assert "20亿元" not in lead, ans.text
    total = [f for f in qa.facts(attribute="funding_amount") if f.value == "20亿元"]
    assert [f.qualifier for f in total] == ["cumulative"]
