"""A month named alone after a time preposition ("as early as September") is a date, of the
document's year as 9月 is, and a quote giving one states the event's date: over a real
keyword store of an invented article."""

from __future__ import annotations

import pytest

from rag import QA
from rag.facts import find_dates
from tests.conftest import keyword_store


def test_a_month_alone_is_a_date_and_may_the_verb_is_none() -> None:
    got = find_dates("Vega hoped to ship samples as early as September, though", 2025)
    assert [(d.text, d.norm) for d in got] == [("September", "2025-09")]
    assert [d.norm for d in find_dates("In May it said so", 2025)] == ["2025-05"]
    assert find_dates("they may ship soon", 2025) == []
    assert [d.norm for d in find_dates("on March 19, 2025", 2025)] == ["2025-03-19"]


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> QA:
    return keyword_store(
        tmp_path_factory.mktemp("month"),
        {
            "vega.md": "# Vega Labs readies the VX950\n\nVega Labs is developing the VX950 "
            "accelerator. Vega Labs hoped to send VX950 samples to customers as early as "
            "September, although approval was far from certain.\n",
        },
    )


def test_a_quote_with_the_month_answers_when(qa: QA) -> None:
    ans = qa.ask("When could Vega Labs ship VX950 samples?")
    assert not ans.abstained and "September" in ans.text, ans.text
