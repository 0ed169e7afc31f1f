"""A figure asked for one place ("revenue in Japan") is answered only by a quote naming that
place: the company's total is no answer for one of its markets. A real keyword store over a
tiny corpus, with the places learned at ingest."""

from __future__ import annotations

import pytest

from rag import QA
from rag.question import analyse


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> QA:
    from rag.config import Settings

    root = tmp_path_factory.mktemp("place")
    store = QA.open(root / "store", settings=Settings(retrieval="keyword"), embeddings="fake")
    folder = root / "in"
    folder.mkdir()
    (folder / "acme.md").write_text(
        "# Acme Semiconductor results\n\n"
        "Acme Semiconductor reported revenue of $2.1 billion for 2025, up 30% from a year "
        "earlier. The company opened a design centre in Japan last spring and hired 200 "
        "engineers there.\n",
        encoding="utf-8",
    )
    (folder / "borealis.md").write_text(
        "# Borealis Chips in Japan\n\n"
        "Borealis Chips said its revenue in Japan was $300 million in 2025, a fifth of its "
        "total. Borealis Chips makes power chips for cars.\n",
        encoding="utf-8",
    )
    assert store.ingest([folder]).failed == 0
    return store


def test_the_place_is_learned_and_read_as_the_scope(qa: QA) -> None:
    a = analyse("What was Acme Semiconductor's revenue in Japan?", None, qa.factstore())
    assert [e.kind for e in a.scopes] == ["place"], a.entities


def test_a_total_is_no_answer_for_one_market(qa: QA) -> None:
    ans = qa.ask("What was Acme Semiconductor's revenue in Japan?")
    assert ans.abstained, ans.text
    assert "Japan" in ans.text and "figure" in ans.text, ans.text
    # without the place, the total answers
    total = qa.ask("What was Acme Semiconductor's revenue in 2025?")
    assert not total.abstained and "2.1 billion" in total.text, total.text


def test_a_quote_naming_the_place_answers(qa: QA) -> None:
    ans = qa.ask("What was Borealis Chips' revenue in Japan?")
    assert not ans.abstained and "300 million" in ans.text, ans.text
