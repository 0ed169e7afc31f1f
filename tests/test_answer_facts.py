"""Fact-composed answers: one statement per entity in the asker's language, exact citations,
conflicts side by side, lists from every document, latest with what it replaced."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from rag.answer_facts import answer_from_facts, supported
from rag.question import analyse
from rag.types import Citation, Document

ZH = "平头哥发布真武810E。真武810E采用HBM2e内存,容量可达96GB。片间互联带宽达到700GB/s。"
EN = "The H20 ships with 96GB of HBM3. Its memory bandwidth is 4.0TB/s. It draws 400W."
EN2 = "A later report put the H20's memory bandwidth at 4.8TB/s."
FUND = "Acme Silicon raised $100 million in a Series B round in 2025."
FUND2 = "星河芯(Galaxy Core)于2025年完成5亿元B轮融资。"

DOCS = {
    d.doc_id: d
    for d in [
        Document("zh1", "真武810E发布", "x", "2025-01-29", "zh", [], ZH),
        Document("en1", "H20 specs", "y", "2024-03-01", "en", [], EN),
        Document("en2", "H20 update", "z", "2025-06-01", "en", [], EN2),
        Document("f1", "Acme raises", "w", "2025-04-01", "en", [], FUND),
        Document("f2", "星河芯融资", "v", "2025-05-01", "zh", [], FUND2),
    ]
}


def fact(
    doc_id: str, entity_id: str, entity: str, attribute: str, value: str, sentence: str, **kw: Any
) -> SimpleNamespace:
    text = DOCS[doc_id].text
    start = text.index(sentence)
    defaults = dict(unit=None, norm_value=None, qualifier=None, precision=None, period=None)
    defaults.update(kw)
    return SimpleNamespace(
        fact_id=f"{doc_id}:{start}:{attribute}",
        entity_id=entity_id,
        entity=entity,
        attribute=attribute,
        value=value,
        doc_id=doc_id,
        start=start,
        end=start + len(sentence),
        quote=sentence,
        title=DOCS[doc_id].title,
        date=DOCS[doc_id].date,
        source="",
        lang="zh",
        **defaults,
    )


ENTITIES = {
    "真武810e": SimpleNamespace(
        entity_id="真武810e",
        name="真武810E",
        kind="product",
        aliases=["真武810E", "Zhenwu 810E", "zhenwu 810e"],
        vendor="平头哥",
        doc_ids=["zh1"],
    ),
    "h20": SimpleNamespace(
        entity_id="h20",
        name="H20",
        kind="model",
        aliases=["H20"],
        vendor="nvidia",
        doc_ids=["en1", "en2"],
    ),
    "acme silicon": SimpleNamespace(
        entity_id="acme silicon",
        name="Acme Silicon",
        kind="company",
        aliases=["Acme Silicon"],
        vendor=None,
        doc_ids=["f1"],
    ),
    "星河芯": SimpleNamespace(
        entity_id="星河芯",
        name="星河芯",
        kind="company",
        aliases=["星河芯", "Galaxy Core", "xinghexin"],
        vendor=None,
        doc_ids=["f2"],
    ),
}
FACTS = [
    fact(
        "zh1",
        "真武810e",
        "真武810E",
        "memory_type",
        "HBM2e",
        "真武810E采用HBM2e内存,容量可达96GB。",
    ),
    fact(
        "zh1",
        "真武810e",
        "真武810E",
        "memory_capacity",
        "96GB",
        "真武810E采用HBM2e内存,容量可达96GB。",
        norm_value=96e9,
    ),
    fact(
        "zh1",
        "真武810e",
        "真武810E",
        "interconnect_bandwidth",
        "700GB/s",
        "片间互联带宽达到700GB/s。",
        norm_value=7e11,
    ),
    fact(
        "en1",
        "h20",
        "H20",
        "memory_capacity",
        "96GB",
        "The H20 ships with 96GB of HBM3.",
        norm_value=96e9,
    ),
    fact(
        "en1",
        "h20",
        "H20",
        "memory_bandwidth",
        "4.0TB/s",
        "Its memory bandwidth is 4.0TB/s.",
        norm_value=4e12,
        period="2024-03",
    ),
    fact(
        "en2",
        "h20",
        "H20",
        "memory_bandwidth",
        "4.8TB/s",
        "A later report put the H20's memory bandwidth at 4.8TB/s.",
        norm_value=4.8e12,
        period="2025-06",
    ),
    fact(
        "f1",
        "acme silicon",
        "Acme Silicon",
        "funding_amount",
        "$100 million",
        FUND,
        norm_value=1e8,
        period="2025",
    ),
    fact("f2", "星河芯", "星河芯", "funding_amount", "5亿元", FUND2, norm_value=5e8, period="2025"),
]


class Table:
    def facts(
        self, entity: str | None = None, attribute: str | None = None, **kw: Any
    ) -> list[Any]:
        return [f for f in FACTS if attribute in (None, f.attribute)]

    def entities(self) -> list[Any]:
        return list(ENTITIES.values())

    def match_entities(self, text: str) -> list[tuple[Any, int, int]]:
        out = []
        for e in ENTITIES.values():
            for a in sorted(e.aliases, key=len, reverse=True):
                i = text.lower().find(a.lower())
                if i >= 0:
                    out.append((e, i, i + len(a)))
                    break
        return out


def ask(question: str, passages: list[str] | None = None, history: list[Any] | None = None):
    table = Table()
    a = analyse(question, history, table)
    ps = [SimpleNamespace(doc_id=d) for d in (passages or [])]
    return answer_from_facts(a, table, ps, DOCS.__getitem__)  # type: ignore[arg-type]


def assert_exact(citations: list[Citation]) -> None:
    for c in citations:
        assert DOCS[c.doc_id].text[c.start : c.end] == c.quote


def test_english_question_over_chinese_fact_answers_in_english() -> None:
    out = ask("What memory does the Zhenwu 810E have?", ["zh1"])
    assert out is not None
    assert "96GB" in out.text and "HBM2e" in out.text and "Zhenwu 810E" in out.text
    assert (
        "容量" not in out.text.split("[")[0]
    )  # the statement is English; quotes stay in citations
    assert out.citations and out.citations[0].quote.startswith("真武810E采用")
    assert_exact(out.citations)


def test_chinese_question_answers_in_chinese() -> None:
    out = ask("真武810E的片间互联带宽是多少?", ["zh1"])
    assert out is not None
    assert out.text == "真武810E的片间互联带宽为700GB/s[1]。"


def test_compare_gives_both_sides_with_the_asked_attribute() -> None:
    out = ask("Compare the memory bandwidth of the H20 and the Zhenwu 810E", ["en1", "zh1"])
    # the 810E has no memory-bandwidth fact: the answer says so instead of citing another figure
    assert out is not None and "4.0TB/s" in out.text and "700GB/s" not in out.text
    assert "The sources give no memory bandwidth for" in out.text
    out = ask("Compare the memory capacity of the H20 and the Zhenwu 810E", ["en1", "zh1"])
    assert out is not None and out.text.count("96GB") == 2
    assert "H20" in out.text and "Zhenwu 810E" in out.text


def test_conflicting_figures_are_shown_side_by_side() -> None:
    out = ask("What is the H20's memory bandwidth?", ["en1", "en2"])
    assert out is not None
    assert "4.0TB/s" in out.text and "4.8TB/s" in out.text and len(out.citations) == 2


def test_latest_gives_the_newest_and_what_it_replaced() -> None:
    out = ask("What is the latest memory bandwidth figure for the H20?", ["en1", "en2"])
    assert out is not None
    assert out.text.index("4.8TB/s") < out.text.index("4.0TB/s")
    assert "replacing" in out.text


def test_list_question_gives_every_document() -> None:
    out = ask("Which companies raised funding in 2025, and how much?", ["f1"])
    assert out is not None
    # an English answer writes the Chinese text's 5亿元 as English money; the quote keeps it
    assert "$100 million" in out.text and "500 million yuan" in out.text
    assert "Galaxy Core" in out.text  # the English name the Chinese text gives in brackets
    assert_exact(out.citations)


def test_why_questions_are_left_to_sentences() -> None:
    assert ask("Why did the H20 get more memory bandwidth?", ["en1"]) is None


def test_followup_in_english_after_a_chinese_turn_stays_english() -> None:
    history = [{"role": "user", "content": "真武810E的显存容量是多少?"}]
    out = ask("and its interconnect bandwidth?", ["zh1"], history)
    assert out is not None and "700GB/s" in out.text and out.text.startswith("Zhenwu")


def test_every_figure_must_be_in_its_cited_span() -> None:
    c = Citation(1, "zh1", "t", "s", None, "片间互联带宽达到700GB/s。", 0, 5)
    assert supported("Zhenwu 810E: interconnect bandwidth 700GB/s [1].", [c], ["Zhenwu 810E"])
    assert not supported("Zhenwu 810E: interconnect bandwidth 900GB/s [1].", [c], ["Zhenwu 810E"])
    # by value in another scale: 5亿元 is 500 million yuan, not 500 million dollars
    f = Citation(1, "f2", "t", "s", None, FUND2, 0, len(FUND2))
    assert supported("Galaxy Core: funding amount 500 million yuan [1].", [f], ["Galaxy Core"])
    assert not supported("Galaxy Core: funding amount 600 million yuan [1].", [f], ["Galaxy Core"])
    assert not supported("Galaxy Core: funding amount $500 million [1].", [f], ["Galaxy Core"])


def test_lead_states_a_quoted_fact_in_the_askers_language() -> None:
    from rag.answer_facts import fact_leads

    table = Table()
    doc = DOCS["zh1"]
    s = doc.text.index("片间互联")
    cit = Citation(1, "zh1", doc.title, "", None, doc.text[s:], s, len(doc.text))
    a = analyse("How fast is the Zhenwu 810E interconnect?", None, table)
    # the quote does not give the model number, so the lead names no model
    assert fact_leads(a, table, [cit]) == "The interconnect bandwidth is 700GB/s [1]."
    named = Citation(1, "zh1", doc.title, "", None, doc.text[12:], 12, len(doc.text))
    assert fact_leads(a, table, [named]) == "Zhenwu 810E: interconnect bandwidth 700GB/s [1]."
    # a fact of another period than the one asked is never stated
    a = analyse("How fast was the Zhenwu 810E interconnect in 2019?", None, table)
    assert fact_leads(a, table, [named]) is None
    # a fact no quote carries is never stated
    a = analyse("What memory does the Zhenwu 810E have?", None, table)
    assert fact_leads(a, table, [cit]) is None


def test_list_mode_only_without_a_named_product() -> None:
    from rag.answer_facts import list_mode

    table = Table()
    assert list_mode(analyse("Which companies raised funding in 2025?", None, table))
    assert not list_mode(analyse("H20和真武810E的显存容量分别是多少?", None, table))


def test_relevant_facts_for_the_llm_prompt() -> None:
    from rag.answer_facts import relevant_facts

    table = Table()
    a = analyse("What memory does the Zhenwu 810E have?", None, table)
    got = relevant_facts(a, table, [SimpleNamespace(doc_id="zh1")])  # type: ignore[list-item]
    assert {f.attribute for f in got} == {"memory_type", "memory_capacity"}
    assert all(f.entity_id == "真武810e" for f in got)


def test_a_syndicated_story_says_who_else_reported_it(fake_qa, tmp_path) -> None:
    story = (
        "---\ntitle: Galaxy X1 launch\nsource: {src}\ndate: 2025-03-01\n---\n"
        "Galaxy Semi launched the Galaxy X1 accelerator on March 1, 2025. The Galaxy X1 carries "
        "64GB of HBM3 memory and draws 350W. Galaxy Semi said volume shipments start in the "
        "second half of the year, and that two cloud providers have signed up as customers.\n"
    )
    (tmp_path / "a.md").write_text(story.format(src="Outlet One"), encoding="utf-8")
    (tmp_path / "b.md").write_text(story.format(src="Outlet Two"), encoding="utf-8")
    fake_qa.ingest([tmp_path / "a.md", tmp_path / "b.md"])
    ans = fake_qa.ask("How much memory does the Galaxy X1 have?")
    assert not ans.abstained
    assert "also reported by Outlet" in ans.text


def test_the_llm_answerer_is_given_the_question_facts(tmp_path, monkeypatch) -> None:
    from langchain_core.language_models import FakeListChatModel

    import rag.answer_llm as answer_llm
    from rag import QA
    from rag.types import Answer, Final

    model = FakeListChatModel(responses=["unused"])
    qa = QA.open(tmp_path / "store", embeddings="fake", llm=model)
    (tmp_path / "x.md").write_text(
        "---\ntitle: X1\ndate: 2025-03-01\n---\nThe Galaxy X1 carries 64GB of HBM3 memory.\n",
        encoding="utf-8",
    )
    qa.ingest([tmp_path / "x.md"])
    seen: dict[str, Any] = {}

    def fake_stream(llm, question, resolved, passages, docs, **kw):
        seen["llm"], seen["facts"] = llm, kw["facts"]
        yield Final(Answer(question=question, text="ok", abstained=False))

    monkeypatch.setattr(answer_llm, "stream_llm_answer", fake_stream)
    qa.ask("How much memory does the Galaxy X1 have?", answerer="llm")
    assert seen["llm"] is model
    assert any(f.value == "64GB" for f in seen["facts"])


def test_a_list_line_names_the_products_maker() -> None:
    from rag.answer_facts import _with_vendor

    ents = {
        "x1": SimpleNamespace(
            entity_id="x1", name="Orion X1", kind="product", vendor="acme", aliases=[]
        ),
        "acme": SimpleNamespace(
            entity_id="acme", name="艾克米", kind="company", vendor=None, aliases=["艾克米", "Acme"]
        ),
    }
    f = SimpleNamespace(entity_id="x1", entity="Orion X1")
    assert _with_vendor("Orion X1", f, ents, "en") == "Orion X1 (Acme)"
    assert _with_vendor("Orion X1", f, ents, "zh") == "Orion X1(艾克米)"
    assert _with_vendor("Acme Orion X1", f, ents, "en") == "Acme Orion X1"  # said already


def test_a_list_shows_each_figure_an_entity_has_side_by_side() -> None:
    """Two sources giving one chip two bandwidths: the list shows both, each cited."""
    out = ask("List the memory capacity and memory bandwidth of each chip.", ["en1", "en2"])
    assert out is not None
    line = next(ln for ln in out.text.splitlines() if "H20" in ln)
    assert "4.0TB/s" in line and "4.8TB/s" in line, out.text
    assert len({c.doc_id for c in out.citations if c.doc_id in ("en1", "en2")}) == 2
    assert_exact(out.citations)


def test_one_date_written_two_ways_is_one_value() -> None:
    from rag.answer_facts import _distinct

    zh = SimpleNamespace(value="2024年3月", unit="date", period="2024-03", norm_value=None)
    en = SimpleNamespace(value="March 2024", unit="date", period="2024-03", norm_value=None)
    later = SimpleNamespace(value="2024年9月", unit="date", period="2024-09", norm_value=None)
    assert _distinct([zh, en, later]) == [zh, later]


def _cap(entity_id: str, value: str, attribute: str = "memory_capacity") -> SimpleNamespace:
    return SimpleNamespace(entity_id=entity_id, attribute=attribute, value=value)


def test_figures_a_question_states_are_read_with_their_bound() -> None:
    from rag.question import figures_of

    def read(q: str) -> list[tuple[float, str | None, str]]:
        return [(f.quantity.value, f.quantity.dim, f.bound) for f in figures_of(q)]

    assert read("Which memory makers make a 36GB 12-high HBM3E?") == [(36e9, "bytes", "eq")]
    assert read("哪些芯片显存在96GB以上?") == [(96e9, "bytes", "ge")]
    assert read("which chips draw less than 400 W?") == [(400.0, "watts", "le")]
    assert read("2025年融资的公司有哪些?") == []  # a year is a period, not a figure
    table = Table()
    a = analyse("真武810E和H20的显存容量各是多少?", None, table)
    assert a.figures == []  # "810E" is a model's name, not 810 exa-anything


def test_a_list_keeps_what_meets_the_figure_it_states() -> None:
    from rag.answer_facts import _meeting
    from rag.question import figures_of

    listed = {
        "a": {"memory_capacity": [_cap("a", "36GB"), _cap("a", "24GB")]},
        "b": {"memory_capacity": [_cap("b", "36 GB")], "memory_type": [_cap("b", "HBM3E")]},
        "c": {"memory_capacity": [_cap("c", "256GB")]},
        "d": {"memory_type": [_cap("d", "HBM3E")]},
    }
    eq = _meeting(listed, figures_of("Which makers make a 36GB HBM3E?"))
    assert set(eq) == {"a", "b"}
    assert [f.value for f in eq["a"]["memory_capacity"]] == ["36GB"]  # 24GB is not asked
    assert [f.value for f in eq["b"]["memory_type"]] == ["HBM3E"]  # no figure: kept beside
    ge = _meeting(listed, figures_of("哪些显存在30GB以上?"))
    assert set(ge) == {"a", "b", "c"} and [f.value for f in ge["a"]["memory_capacity"]] == ["36GB"]
    # a figure of a dimension no listed fact has says something else: the list stands
    assert _meeting(listed, figures_of("which chips draw under 400W?")) == listed


def test_a_list_of_one_makers_parts_of_a_kind_keeps_only_that_makers() -> None:
    """ "Which HBM3E parts does Hynix-like maker X make": another maker's chip that carries
    HBM3E is no item, nor is X's other product; "AMD's Instinct parts" keep every AMD part
    (Instinct is AMD's own line, AMD merely its vendor)."""
    from rag.answer_facts import _relates_all
    from rag.question import QEntity

    def ent(eid: str, kind: str, vendor: str | None = None) -> SimpleNamespace:
        return SimpleNamespace(
            entity_id=eid, name=eid.upper(), kind=kind, vendor=vendor, aliases=[eid.upper()]
        )

    ents = {e.entity_id: e for e in [
        ent("mx", "company"), ent("amd", "company"), ent("hbm9", "model"),
        ent("mx hbm9 12h", "product", "mx"), ent("mx hbm10", "product", "mx"),
        ent("z300", "model", "amd"), ent("zline", "product", "amd"),
    ]}  # fmt: skip

    def f(eid: str, quote: str) -> SimpleNamespace:
        return SimpleNamespace(entity_id=eid, entity=eid.upper(), quote=quote, doc_id="d")

    def q(eid: str) -> QEntity:
        e = ents[eid]
        return QEntity(e.name, list(e.aliases), eid, e.kind, e.vendor)

    maker_and_kind = [q("mx"), q("hbm9")]
    assert _relates_all(
        f("mx hbm9 12h", "MX HBM9 12H stacks hold 36GB of HBM9."), maker_and_kind, ents
    )
    assert not _relates_all(f("z300", "The Z300 carries 256GB of HBM9."), maker_and_kind, ents)
    assert not _relates_all(f("mx hbm10", "MX HBM10 holds 48GB."), maker_and_kind, ents)
    own_line = [q("amd"), q("zline")]
    assert _relates_all(f("z300", "The Z300 carries 256GB of memory."), own_line, ents)


def test_the_lead_states_the_actual_figure_unless_a_plan_is_asked(fake_qa, tmp_path) -> None:
    """Both the prospectus's planned raise and the actual one are quoted: the lead states
    the actual sum for "how much did it raise", the planned one when the plan is asked."""
    (tmp_path / "p.md").write_text(
        "---\ntitle: 织女科技科创板IPO获受理\ndate: 2025-07-01\nlang: zh\n---\n"
        "织女科技的科创板上市申请获受理。招股书显示,织女科技本次计划募集资金39.04亿元。\n",
        encoding="utf-8",
    )
    (tmp_path / "l.md").write_text(
        "---\ntitle: 织女科技科创板上市\ndate: 2025-12-17\nlang: zh\n---\n"
        "织女科技在科创板上市,实际募集资金总额约41.97亿元,高于招股书中计划的39.04亿元。\n",
        encoding="utf-8",
    )
    fake_qa.ingest([tmp_path / "p.md", tmp_path / "l.md"])
    actual = fake_qa.ask("织女科技IPO募资多少?")
    assert not actual.abstained and actual.text.split("[")[0].endswith("41.97亿元"), actual.text
    plan = fake_qa.ask("织女科技计划募资多少?")
    assert not plan.abstained and "39.04亿元" in plan.text.split("[")[0], plan.text
