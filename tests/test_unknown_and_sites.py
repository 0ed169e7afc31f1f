"""Three ways a question asks what the corpus does not give, over a real keyword store of
invented articles: a number after a known line naming an unknown member ("Nova 4" where
only Nova 2 and Nova 3 are written), a listing asked as "list on the stock market" of a
company no source says listed, and a site's figure ("the Arizona fab's capacity") no quote
about that site gives; a node name beside Han text ("以N4工艺量产") is still a process."""

from __future__ import annotations

import pytest

from rag import QA
from rag.evidence import states
from rag.question import analyse
from tests.conftest import keyword_store


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> QA:
    return keyword_store(
        tmp_path_factory.mktemp("unknown"),
        {
            "nova.md": "# Vega Labs expands its Nova line\n\nVega Labs sells Nova accelerators. "
            "The Nova 3 carries 128GB of HBM3E memory. The previous Nova 2 had 96GB of HBM2e "
            "memory.\n",
            "lyra.md": "# Lyra Systems raises $300 million\n\nLyra Systems said it had raised "
            "$300 million in a Series C round led by Orion Capital.\n",
            "fab.md": "# Vega Foundry expands\n\nVega Foundry's first Arizona fab began volume "
            "production on its N4 process in 2024. Separately, Vega Foundry said its Taiwan "
            "2nm capacity would reach 40,000 wafers per month by the end of 2025.\n",
        },
    )


def test_an_unknown_member_of_a_known_line_is_not_in_the_corpus(qa: QA) -> None:
    names = [
        e.text for e in analyse("What memory does the Nova 4 use?", None, qa.factstore()).entities
    ]
    assert "Nova 4" in names, names
    ans = qa.ask("What memory does the Nova 4 use?")
    assert ans.abstained and "Nova 4" in ans.text, ans.text
    ok = qa.ask("What memory does the Nova 3 use?")
    assert not ok.abstained and "128GB" in ok.text, ok.text


def test_list_on_the_stock_market_asks_a_listing(qa: QA) -> None:
    assert analyse("When did Lyra Systems list on the stock market?").attributes == ["listing_date"]
    assert (
        "listing_date" not in analyse("Which firms were put on the Entity List in May?").attributes
    )
    assert qa.ask("When did Lyra Systems list on the stock market?").abstained


def test_a_sites_figure_needs_a_quote_about_the_site(qa: QA) -> None:
    ans = qa.ask("How many wafers per month can Vega Foundry's Arizona fab produce?")
    assert ans.abstained, ans.text
    assert states("process_node", "第一座晶圆厂已在2024年第四季度开始以N4工艺量产。")
