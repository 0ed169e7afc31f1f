"""A quote stating another product's figure does not answer for the product it compares
with, over a real keyword store of invented articles: "reaches 7.0TB/s, 4 times the Lyra
L4's" is the L5's bandwidth, no figure of the L4, and a launch date said of one chip is no
date of the rival it is "positioned against"; a product named before the figure (a card and
the chip it carries) is still answered."""

from __future__ import annotations

import pytest

from rag import QA
from tests.conftest import keyword_store


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> QA:
    return keyword_store(
        tmp_path_factory.mktemp("others"),
        {
            "lyra.md": "# Lyra Labs unveils the Lyra L5\n\nLyra Labs unveiled the Lyra L5 "
            "accelerator on May 4, 2025. The Lyra L5 carries 150GB of HBM. Its HBM bandwidth "
            "reaches 7.0TB/s per chip, which Lyra Labs put at 4 times the Lyra L4's.\n\n"
            "## Rivals\n\nVega Labs launched its VX900 accelerator on June 2, 2025, positioning "
            "it against the Orion X10 in inference.\n",
            "zhinv.md": "# 织女科技天琴T9加速卡\n\n2024年3月,织女科技发布天琴T9加速卡,"
            "搭载的织女1.0芯片采用12nm工艺。\n",
        },
    )


def test_the_compared_products_figure_is_no_answer(qa: QA) -> None:
    for q in ("What is the memory bandwidth of the Lyra L4?", "Lyra L4的显存带宽是多少?"):
        ans = qa.ask(q)
        assert ans.abstained, ans.text
    ans = qa.ask("What is the memory bandwidth of the Lyra L5?")
    assert not ans.abstained and "7.0TB/s" in ans.text, ans.text


def test_another_chips_launch_date_is_no_answer(qa: QA) -> None:
    ans = qa.ask("When was the Lyra L5 launched?")
    assert not ans.abstained and "May 4, 2025" in ans.text.split("\n")[0], ans.text
    vega = qa.ask("When was the VX900 launched?")
    assert not vega.abstained and "June 2, 2025" in vega.text, vega.text
    for q in ("When was the Orion X10 launched?", "Orion X10是什么时候发布的?"):
        rival = qa.ask(q)
        assert rival.abstained, rival.text


def test_a_product_named_before_its_parts_figure_is_answered(qa: QA) -> None:
    ans = qa.ask("天琴T9用的什么工艺?")
    assert not ans.abstained and "12nm" in ans.text, ans.text
