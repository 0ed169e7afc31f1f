"""A memory generation compared across its makers, over a real keyword store of invented
articles: each maker is a side answered by its own figures (its quote or its report's title
names it), a date said more exactly is preferred, and a stack height asked ("12-high") takes
the date written next to that height, not the other part's in the same sentence."""

from __future__ import annotations

import pytest

from rag import QA
from rag.question import analyse
from tests.conftest import keyword_store


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> QA:
    return keyword_store(
        tmp_path_factory.mktemp("makers"),
        {
            "vega.md": "# Vega Labs samples HBM9\n\nVega Labs said on March 3, 2025, that it had "
            "shipped samples of HBM9 to customers. Vega Labs' HBM9 delivers more than 3.1TB/s "
            "of bandwidth per stack.\n",
            "vega-zh.md": "# Vega Labs送样HBM9\n\n这意味着Vega Labs在2025年3月向客户送样HBM9之后,"
            "已进入量产准备阶段。\n",
            "orion.md": "# Orion Memory samples HBM9\n\nOrion Memory announced on June 9, 2025, "
            "that it had begun shipping samples of HBM9. Orion Memory's HBM9 delivers 2.6TB/s "
            "of bandwidth per stack.\n",
            "lyra.md": "# Lyra Memory ramps HBM8\n\nLyra Memory became the first supplier to "
            "mass-produce 8-high HBM8 in March 2024 and 12-high HBM8 in September 2024.\n",
        },
    )


def test_each_maker_is_a_side_with_its_own_figures(qa: QA) -> None:
    ans = qa.ask(
        "Who sampled HBM9 first, Vega Labs or Orion Memory, and how do their per-stack "
        "bandwidths compare?"
    )
    assert not ans.abstained, ans.text
    lead = ans.text.split("\n")[0]
    for figure in ("March 3, 2025", "June 9, 2025", "3.1TB/s", "2.6TB/s"):
        assert figure in lead, ans.text


def test_a_stack_height_is_a_scope() -> None:
    scopes = analyse("When did Lyra Memory mass-produce 12-high HBM8?").scopes
    assert [(s.kind, s.written) for s in scopes] == [("variant", "12")]
    assert "12层" in scopes[0].aliases
    assert [s.written for s in analyse("Lyra Memory的12层HBM8什么时候量产?").scopes] == ["12"]
    assert analyse("What does the 2048-bit interface give HBM8?").scopes == []


def test_the_height_asked_takes_its_own_date(qa: QA) -> None:
    ans = qa.ask("When did Lyra Memory start mass production of 12-high HBM8?")
    assert not ans.abstained, ans.text
    lead = ans.text.split("\n")[0]
    assert "September 2024" in lead and "March 2024" not in lead, ans.text
