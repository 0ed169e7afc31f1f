"""A product's variant is not the product, and an English possessive is not a word: over a
real keyword store of a tiny corpus (entities learned at ingest), "the VX900 Max" is
answered only by a quote naming that variant (the base model's figure is no answer for
it), while "the VX900 Ultra" a quote names is answered; "the VX900's memory" is asked of
the VX900, its "'s" no term that a "GB/s" figure would match."""

from __future__ import annotations

import pytest

from rag import QA
from rag.question import analyse, scoping_variants
from rag.textnorm import tokenize
from tests.conftest import keyword_store


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> QA:
    return keyword_store(
        tmp_path_factory.mktemp("variant"),
        {
            "vega.md": (
                "# Vega Labs ships the VX900 accelerator\n\n"
                "Vega Labs began shipping its VX900 accelerator in March 2025. The VX900 carries "
                "96GB of HBM3 memory. Each VX900 links to its peers at 700GB/s.\n\n"
                "## Next year\n\n"
                "Vega Labs said the VX900 Ultra, due in 2026, will carry 144GB of HBM3E memory.\n"
            ),
            "lyra.md": (
                "# Lyra Systems results\n\n"
                "Lyra Systems reported revenue of $5.2 billion for 2025. Lyra Systems said its Lyra "
                "Pro 6000 workstation card sold out in the first quarter.\n"
            ),
            "nova.md": (
                "# Vega Labs expands its Nova line\n\n"
                "Vega Labs sells Nova accelerators. The Nova 100 has 16GB of memory and the Nova 200 "
                "has 32GB of memory. Vega Labs said Nova chips are made on a 5nm process.\n"
            ),
        },
    )


def test_a_possessive_is_no_keyword() -> None:
    assert "s" not in tokenize("What is the VX900's memory capacity?")
    assert "s" not in tokenize("What is the VX900’s memory capacity?")
    assert "s" in tokenize("700GB/s")  # a unit keeps its letters


def test_the_possessive_asks_the_products_figure(qa: QA) -> None:
    ans = qa.ask("What is the VX900's memory capacity?")
    assert not ans.abstained and "96GB" in ans.text, ans.text
    assert not ans.text.startswith("700GB/s"), ans.text


def test_a_variant_word_after_a_product_scopes_the_answer(qa: QA) -> None:
    a = analyse("How much memory does the VX900 Max have?", None, qa.factstore())
    assert [(e.kind, e.text) for e in a.scopes] == [("variant", "VX900 Max")], a.scopes
    # the start of a longer name is no variant: "Pro 6000" continues the name
    b = analyse("When did the Lyra Pro 6000 sell out?", None, qa.factstore())
    assert not scoping_variants(b.question, b.entities), b.entities
    # nor a variant the learned name holds already
    c = analyse("How much memory will the VX900 Ultra have?", None, qa.factstore())
    assert not [e for e in c.scopes if e.text.lower() != "vx900 ultra"], c.scopes


def test_the_base_models_figure_is_no_answer_for_a_variant(qa: QA) -> None:
    for q in ("How much memory does the VX900 Max have?", "VX900 Pro的显存容量是多少?"):
        refused = qa.ask(q)
        assert refused.abstained, refused.text
    ultra = qa.ask("How much memory will the VX900 Ultra have?")
    assert not ultra.abstained and "144GB" in ultra.text, ultra.text
    base = qa.ask("How much memory does the VX900 have?")
    assert not base.abstained and "96GB" in base.text, base.text


def test_each_unit_of_one_product_is_no_list(qa: QA) -> None:
    """ "each VX900 chip" is one product's figure per unit; "each Nova chip" asks of a line
    the learned entities hold members of (Nova 100, Nova 200), one figure per member."""
    one = analyse("How much memory does each VX900 chip have?", None, qa.factstore())
    assert "list" not in one.intents, one.intents
    ans = qa.ask("How much memory does each VX900 chip have?")
    assert not ans.abstained and "96GB" in ans.text, ans.text
    line = analyse("How much memory does each Nova chip have?", None, qa.factstore())
    assert "list" in line.intents, line.intents
    listed = qa.ask("How much memory does each Nova chip have?")
    assert "16GB" in listed.text and "32GB" in listed.text, listed.text
