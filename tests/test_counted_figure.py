"""A how-much question no attribute names ("主频是多少", "what is the clock speed") is
answered only by a quote giving a figure of what it asks, over a real keyword store: the
word alone ("raised the clock frequency") says not how much, and a word jieba tags as no
noun (主频) is still what the question asks when the lexicon knows it."""

from __future__ import annotations

import pytest

from rag import QA
from rag.question import counted_word
from tests.conftest import keyword_store


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> QA:
    return keyword_store(
        tmp_path_factory.mktemp("counted"),
        {
            "vega.md": (
                "# Vega Labs ships the VX900 accelerator\n\n"
                "Vega Labs began shipping its VX900 accelerator in March 2025. The VX900 carries "
                "96GB of HBM3 memory. For the VX900, Vega Labs widened the matrix units and raised "
                "the clock frequency over the previous generation.\n"
            ),
            "天琴.md": (
                "# 织女科技发布天琴处理器\n\n织女科技发布服务器处理器天琴T8。天琴T8采用5nm工艺,"
                "单颗芯片有96个核心,主频最高3.0GHz。\n"
            ),
        },
    )


def test_a_word_the_lexicon_knows_is_the_counted_noun() -> None:
    assert counted_word("天琴T8的主频是多少?") == "主频"
    assert counted_word("天琴T8主频多少") == "主频"


def test_the_word_without_a_figure_is_no_answer(qa: QA) -> None:
    for q in ("What is the clock speed of the VX900?", "VX900的主频是多少?"):
        refused = qa.ask(q)
        assert refused.abstained, refused.text


def test_a_figure_of_what_is_asked_answers(qa: QA) -> None:
    for q in ("天琴T8的主频是多少?", "What is the clock speed of the 天琴T8?"):
        ans = qa.ask(q)
        assert not ans.abstained and "3.0GHz" in ans.text, ans.text
