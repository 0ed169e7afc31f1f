"""A list asking for the users of a named thing ("which chips use HBM9?") draws on every
document naming it, however far down the ranking: over a real keyword store of invented
articles whose makers' stories outrank the chips' (the list depth cut to 2 passages)."""

from __future__ import annotations

import pytest

from rag import QA
from tests.conftest import keyword_store


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> QA:
    makers = {
        f"maker{i}.md": f"# Maker {i} ships HBM9\n\nMaker{i} Memory said its HBM9 chips use "
        f"HBM9 stacks; Maker{i} Memory ships HBM9 to chips makers.\n"
        for i in range(4)
    }
    return keyword_store(
        tmp_path_factory.mktemp("scope"),
        {
            **makers,
            "vx.md": "# Vega VX990\n\nThe VX990 accelerator carries 288GB of HBM9 memory.\n",
            "lx.md": "# Lyra LX700\n\nThe LX700 will carry 432GB of HBM9 memory.\n",
        },
    )


def test_every_document_naming_the_thing_is_drawn_on(
    qa: QA, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rag.qa

    monkeypatch.setattr(rag.qa, "LIST_DEPTH", 2)
    ans = qa.ask("Which chips use HBM9?")
    assert not ans.abstained, ans.text
    assert "VX990" in ans.text and "LX700" in ans.text, ans.text
