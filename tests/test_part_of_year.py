"""A quarter asked is answered by a figure of that quarter, over a real keyword store of an
invented report: the whole year's figure ("比2023年的3亿元") is no first-quarter figure, and
a report's title naming another year's quarter does not make it one."""

from __future__ import annotations

import pytest

from rag import QA
from rag.question import analyse, names_asked_part
from tests.conftest import keyword_store


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> QA:
    return keyword_store(
        tmp_path_factory.mktemp("quarters"),
        {
            "zhinv.md": "# 织女科技2024年营收5亿元,2025年一季度扭亏\n\n"
            "织女科技发布年报,公司2024年实现营业收入5亿元,比2023年的3亿元增长约67%。"
            "2025年一季度,织女科技实现营业收入2亿元。\n",
        },
    )


def test_the_part_named_decides() -> None:
    p = analyse("织女科技2023年一季度营收是多少?").period
    assert p is not None
    assert names_asked_part(p, "比2023年的3亿元增长约67%") is False
    assert names_asked_part(p, "2023年一季度营收1亿元") is True
    assert names_asked_part(p, "2025年一季度营收2亿元") is False
    year = analyse("织女科技2023年营收是多少?").period
    assert year is not None and names_asked_part(year, "比2023年的3亿元") is None


def test_a_whole_years_figure_is_no_quarters(qa: QA) -> None:
    ans = qa.ask("织女科技2023年一季度营收是多少?")
    assert ans.abstained, ans.text
    ans = qa.ask("织女科技2025年一季度营收是多少?")
    assert not ans.abstained and "2亿元" in ans.text, ans.text
    ans = qa.ask("织女科技2023年营收是多少?")
    assert not ans.abstained and "3亿元" in ans.text, ans.text


def test_the_whole_year_said_so_is_no_part() -> None:
    p = analyse("织女科技2024年全年营收多少?").period
    assert p is not None and names_asked_part(p, "2024年营收5亿元") is None
