"""Comparisons over a real keyword store of invented articles: with no period asked, what
changes over time (a valuation) is compared at each side's newest figure, and a side whose
cited quotes miss one asked attribute the fact table has is completed from the facts."""

from __future__ import annotations

import pytest

from rag import QA
from tests.conftest import keyword_store


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> QA:
    return keyword_store(
        tmp_path_factory.mktemp("compare"),
        {
            "orion-2023.md": "# Orion Labs valuation\n\nOrion Labs was valued at $1.2 "
            "billion in May 2023, when it raised $200 million in a Series C round. The Orion "
            "Labs valuation made it one of the most valuable start-ups.\n",
            "orion-2025.md": "# Orion Labs raises $400 million\n\nOrion Labs said on June 3, 2025 "
            "that it had raised $400 million at a post-money valuation of $5.5 billion.\n",
            "lyra.md": "# Lyra Systems closes a Series F\n\nLyra Systems said on July 9, 2025 that "
            "it had closed a $700 million Series F round at a post-money valuation of $7.1 "
            "billion.\n",
            "vx900.md": "# Vega VX900 specifications\n\nThe VX900 carries 96GB of HBM3 memory. "
            "Each VX900 links to its peers at 700GB/s of interconnect bandwidth.\n",
            "nova.md": "# LX500 versus VX900\n\nWith 80GB of HBM3 memory, the LX500 has "
            "less memory than the VX900.\n\n## Links\n\nLyra Systems said the LX500 links to "
            "its peers at 900GB/s of interconnect bandwidth.\n",
        },
    )


def test_a_changing_figure_is_compared_at_its_newest(qa: QA) -> None:
    ans = qa.ask("compare Orion Labs and Lyra Systems valuations")
    assert not ans.abstained, ans.text
    lead = ans.text.split("\n")[0]
    assert "$5.5 billion" in lead and "$7.1 billion" in lead, ans.text
    assert "$1.2 billion" not in lead, ans.text


def test_a_side_missing_an_asked_attribute_is_completed_from_facts(qa: QA) -> None:
    ans = qa.ask("how does the VX900 compare with the LX500 on memory and interconnect?")
    assert not ans.abstained, ans.text
    for figure in ("96GB", "700GB/s", "80GB", "900GB/s"):
        assert figure in ans.text, ans.text
