"""Unit tests of the evaluation metrics on small hand-made cases with known values."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from evals import facts_eval as F
from evals import harness as H
from evals import judge as J
from evals import metrics as M
from evals import report as R
from evals import targets as T
from rag.retrieve import SearchResult
from rag.types import Answer, Citation, Document, Passage

# -- key facts ------------------------------------------------------------------------------


def test_alias_matching_normalises_width_case_and_spacing():
    assert M.alias_in("96 GB", "容量可达９６ＧＢ")  # full-width digits and letters
    assert M.alias_in("96GB", "容量可达 96　GB")  # ideographic space inside the figure
    assert M.alias_in("hbm2E", "采用HBM2e内存")
    assert M.alias_in("真武810E", "“真武 810E”是一款芯片")


def test_alias_needs_token_edges_for_latin_and_digits():
    assert M.alias_in("7", "supports 7 links")
    assert M.alias_in("7", "支持7个独立ICN链路")
    assert not M.alias_in("7", "700GB/s")
    assert not M.alias_in("5nm", "a 3.5nm node")
    assert not M.alias_in("no", "it was not sold")
    assert M.alias_in("No", "No. In Q2 it sold none")
    assert not M.alias_in("no", "in November")
    assert not M.alias_in("20", "the H20 chip")
    assert M.alias_in("2.65", "roughly 2.65x")  # a unit after a figure
    assert M.alias_in("96", "96GB")
    assert M.alias_in("supernode", "scales out via supernodes/clusters")  # plural
    assert M.alias_in("AI SoC", "graphics chips and AI SoCs")


def test_chinese_key_facts_are_matched_by_characters():
    facts = [["96GB", "96 GB"], ["HBM2e"]]
    # full-width letters/digits and full-width spaces in the answer
    assert M.key_facts_correct(facts, "真武810E采用ＨＢＭ２ｅ　显存，容量可达９６　ＧＢ。")
    assert M.key_facts_matched(facts, "容量可达96GB") == [True, False]
    assert not M.key_facts_correct(facts, "容量可达96GB")
    # a Chinese alias is found inside a run of Han characters (no whitespace tokenizer)
    assert M.key_facts_correct([["3万", "30,000"]], "百度已经点亮由3万张昆仑芯三代P800组成的集群")
    assert M.key_facts_correct([["量产体系"]], "在全球率先建立了HBM4的量 产 体 系")
    assert not M.key_facts_correct([], "anything")


# -- retrieval --------------------------------------------------------------------------------


def test_retrieval_scores_known_values():
    cov = M.doc_coverage(["x", "d1", "y", "d2", "d1"], ["d1", "d2"])
    assert cov == [set(), {"d1"}, set(), {"d2"}, {"d1"}]
    s = M.retrieval_scores(cov, 2)
    assert s["hit@1"] == 0.0 and s["hit@3"] == 1.0
    assert s["recall@3"] == 0.5 and s["recall@5"] == 1.0 and s["recall@10"] == 1.0
    assert s["mrr@10"] == 0.5
    ideal = 1 + 1 / math.log2(3)
    assert s["ndcg@10"] == pytest.approx((1 / math.log2(3) + 1 / math.log2(5)) / ideal)


def test_retrieval_scores_miss_and_no_gold():
    s = M.retrieval_scores([set()] * 10, 1)
    assert s["hit@10"] == 0.0 and s["mrr@10"] == 0.0 and s["ndcg@10"] == 0.0
    assert M.retrieval_scores([{"a"}], 0) == {}


def test_evidence_coverage_and_ndcg_cap():
    texts = ["采用HBM2e内存,容量可达96GB。支持7个独立ICN链路", "unrelated"]
    cov = M.evidence_coverage(texts, ["容量可达96GB", "支持7个独立ICN链路", "not there"])
    assert cov[0] == {"容量可达96GB", "支持7个独立ICN链路"} and cov[1] == set()
    s = M.retrieval_scores(cov, 2)
    assert s["hit@1"] == 1.0 and s["recall@1"] == 1.0 and s["ndcg@10"] == 1.0


# -- citations -------------------------------------------------------------------------------


def test_citation_validity_detects_offsets_that_do_not_match_the_quote():
    text = "真武810E采用HBM2e内存,容量可达96GB。"
    start = text.index("容量")
    assert M.citation_valid("容量可达96GB", text, start, start + 8)
    assert not M.citation_valid("容量可达96GB", text, start + 1, start + 9)  # shifted by one
    assert not M.citation_valid("容量可达96GB", text, start, start + 80)  # beyond the text
    assert not M.citation_valid("容量可达96GB", None, 0, 8)  # document missing


def test_figures_ignore_markers_and_model_names():
    assert M.figures("16,384张卡, H20 and MI300X, 19.60港元 [1] 3.2GHz") == ["16384", "19.6", "3.2"]
    assert M.figures("2025年9月12日") == ["2025", "9", "12"]


def test_ungrounded_number():
    res = M.citation_scores("96GB of HBM2e and 128 cores [1]", {1: "采用HBM2e内存,容量可达96GB"})
    assert res.figures == 2
    assert res.ungrounded == ["128"]
    assert res.statements == 1 and res.supported_statements == 0  # 128 is in no quote


def test_split_statements_at_markers_and_sentence_ends():
    st = M.split_statements(
        "The MI300X has 192GB. [1] It ships in 2023 [2][3]. Uncited claim here."
    )
    assert [(s.text, s.cites) for s in st] == [
        ("The MI300X has 192GB.", [1]),
        ("It ships in 2023", [2, 3]),
        ("Uncited claim here.", []),
    ]
    zh = M.split_statements("采用HBM2e内存,容量可达96GB[1]支持7个独立ICN链路。[2]")
    assert [(s.text, s.cites) for s in zh] == [
        ("采用HBM2e内存,容量可达96GB", [1]),
        ("支持7个独立ICN链路。", [2]),
    ]
    # a Chinese quote inside an English answer stays one statement; 3.2GHz is not a sentence end
    q = M.split_statements("3.2GHz — “主频最高3.2GHz。它采用5nm工艺” [1]")
    assert len(q) == 1 and q[0].cites == [1]


def test_citation_recall_and_precision():
    quotes = {1: "容量可达96GB", 2: "片间互联带宽达到700GB/s", 3: "与本题无关的句子"}
    res = M.citation_scores("Memory is 96GB [1][3]. Links run at 700GB/s [2]. It is fast.", quotes)
    assert res.statements == 3
    assert res.supported_statements == 2  # the uncited "It is fast." is unsupported
    assert res.pairs == 3 and res.precise_pairs == 2  # [3] supports nothing
    # a statement needing two quotes: each citation is necessary, so both are precise
    both = M.citation_scores("96GB and 700GB/s [1][2]", quotes)
    assert both.supported_statements == 1 and both.precise_pairs == 2


def test_percentile_and_rates():
    assert M.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert M.percentile([5.0], 95) == 5.0
    assert M.percentile([], 50) is None
    assert M.rate(1, 0) is None and M.rate(1, 4) == 0.25


# -- whole cases through the harness, with a stand-in QA -------------------------------------

DOC_ZH = Document(
    doc_id="dzh",
    title="真武",
    source="s",
    date=None,
    lang="zh",
    vendors=[],
    text="真武810E采用HBM2e内存,容量可达96GB。支持7个独立ICN链路。",
)
DOC_EN = Document(
    doc_id="den",
    title="MI300X",
    source="s",
    date=None,
    lang="en",
    vendors=[],
    text="The MI300X carries 192GB of HBM3 memory. It launched in December 2023.",
)


def _passage(doc: Document, start: int, end: int) -> Passage:
    return Passage(
        chunk_id=f"{doc.doc_id}:{start}",
        doc_id=doc.doc_id,
        title=doc.title,
        source="s",
        date=None,
        lang=doc.lang,
        vendors=[],
        start=start,
        end=end,
        text=doc.text[start:end],
    )


def _cite(n: int, doc: Document, quote: str, shift: int = 0) -> Citation:
    s = doc.text.index(quote) + shift
    return Citation(
        n=n,
        doc_id=doc.doc_id,
        title=doc.title,
        source="s",
        date=None,
        quote=quote,
        start=s,
        end=s + len(quote),
    )


class StubQA:
    """Answers from a table; enough of the QA surface for ``evaluate_case``."""

    def __init__(self, answers: dict[str, Answer], ranked: list[Passage]) -> None:
        self.answers = answers
        self.ranked = ranked
        self.docs = {d.doc_id: d for d in (DOC_ZH, DOC_EN)}

    def ask(self, question: str, history: Any = None, **kw: Any) -> Answer:
        return self.answers[question]

    def search(self, query: str, k: int, **kw: Any) -> SearchResult:
        return SearchResult(self.ranked[:k], {}, [])

    def document(self, doc_id: str) -> Document:
        return self.docs[doc_id]


def _case(cid: str, q: str, answerable: bool = True, **kw: Any) -> dict[str, Any]:
    row = {
        "id": cid,
        "question": q,
        "lang": "en",
        "category": "spec" if answerable else "negative",
        "answerable": answerable,
        "gold_doc_ids": [],
        "gold_quotes": [],
        "key_facts": [],
        "history": [],
        "answer": "",
    }
    row.update(kw)
    return row


@pytest.fixture
def scored() -> list[dict[str, Any]]:
    zh1 = _passage(DOC_ZH, 0, DOC_ZH.text.index("支持"))
    en1 = _passage(DOC_EN, 0, len(DOC_EN.text))
    ranked = [en1, zh1]
    good_q = "容量可达96GB"
    answers = {
        # correct, valid citation, cross-lingual (en question, zh gold doc)
        "q1": Answer(
            "q1",
            f"96GB — “{good_q}” [1]",
            False,
            [_cite(1, DOC_ZH, good_q)],
            [en1, zh1],
            {"embed": 0.01, "retrieve": 0.02, "answer": 0.01, "total": 0.03},
        ),
        # the citation's offsets are shifted: invalid; also states an ungrounded number (128)
        "q2": Answer(
            "q2",
            "The MI300X carries 192GB of HBM3 memory and 128 cores [1]",
            False,
            [_cite(1, DOC_EN, "The MI300X carries 192GB of HBM3 memory.", shift=1)],
            [en1],
            {"embed": 0.01, "retrieve": 0.02, "answer": 0.01, "total": 0.05},
        ),
        # a correct abstention on a negative
        "q3": Answer(
            "q3",
            "The corpus does not answer this.",
            True,
            [],
            [en1],
            {"embed": 0.01, "retrieve": 0.02, "answer": 0.01, "total": 0.04},
        ),
        # a false refusal
        "q4": Answer(
            "q4",
            "The corpus does not answer this.",
            True,
            [],
            [en1],
            {"embed": 0.01, "retrieve": 0.02, "answer": 0.01, "total": 0.02},
        ),
        # a negative that was answered anyway
        "q5": Answer(
            "q5",
            "It launched in December 2023 [1]",
            False,
            [_cite(1, DOC_EN, "It launched in December 2023.")],
            [en1],
            {"embed": 0.01, "retrieve": 0.02, "answer": 0.01, "total": 0.06},
        ),
    }
    qa = StubQA(answers, ranked)
    cases = [
        _case(
            "c1", "q1", gold_doc_ids=["dzh"], gold_quotes=[good_q], key_facts=[["96 GB", "96GB"]]
        ),
        _case(
            "c2", "q2", gold_doc_ids=["den"], gold_quotes=["192GB of HBM3"], key_facts=[["192GB"]]
        ),
        _case("c3", "q3", answerable=False, gold_doc_ids=["den"]),
        _case(
            "c4",
            "q4",
            gold_doc_ids=["den"],
            gold_quotes=["December 2023"],
            key_facts=[["December 2023"]],
        ),
        _case("c5", "q5", answerable=False),
    ]
    cfg = H.EvalConfig("stub", "fake")
    return [H.evaluate_case(qa, None, cfg, c) for c in cases]


def test_case_records(scored):
    c1, c2, c3, c4, c5 = scored
    assert c1["crosslingual"] is True and c2["crosslingual"] is False and c5["crosslingual"] is None
    assert c1["scores"]["key_fact_correct"] and c1["scores"]["support"] is True
    assert (
        c1["scores"]["doc_hit@1"] == 0.0
        and c1["scores"]["doc_hit@3"] == 1.0
        and c1["scores"]["doc_mrr@10"] == 0.5
    )
    assert c1["scores"]["evidence_hit@3"] == 1.0
    assert c1["citations"][0]["valid"] and not c2["citations"][0]["valid"]
    assert c2["scores"]["ungrounded_figures"] == ["128"]
    assert c1["failure"] is None and c3["failure"] is None
    assert c4["failure"].startswith("false abstention (gold evidence was retrieved)")
    assert c5["failure"] == "missing abstention"
    assert all(r["retrieval_consistent"] for r in scored)


def test_summary_of_case_records(scored):
    s = H.summarize(scored)
    assert s["n"] == 5 and s["n_answerable"] == 3 and s["n_negative"] == 2
    assert s["key_fact_accuracy"] == pytest.approx(2 / 3)
    assert s["negative_rejection"] == 0.5  # c3 abstained, c5 did not
    assert s["false_refusal"] == pytest.approx(1 / 3)  # c4
    assert s["citation_validity"] == pytest.approx(2 / 3)  # c2's citation is off by one
    assert s["citation_support"] == 1.0  # c1 and c2 quotes contain their key facts
    assert s["ungrounded_number_rate"] == pytest.approx(1 / 5)  # 128 among 96, 96, 192, 128, 2023
    assert s["latency_total_p50"] == pytest.approx(0.04)
    g = H.group_summaries(scored)
    assert g["crosslingual"]["cross-lingual"]["n"] == 1
    assert g["crosslingual"]["cross-lingual"]["doc_hit@5"] == 1.0
    assert H.flat_metrics(s, g)["crosslingual_doc_hit@5"] == 1.0
    assert set(g["category"]) == {"spec", "negative"}
    assert [f["id"] for f in R.failing_cases(scored)] == ["c4", "c5"]


# -- thresholds, ranking ---------------------------------------------------------------------


def test_thresholds_round_trip(tmp_path: Path):
    p = tmp_path / "RESULTS.md"
    p.write_text(
        '# x\n\n```json\n{"thresholds": {"key_fact_accuracy": {"min": 0.85}, '
        '"false_refusal": {"max": 0.1}}}\n```\n',
        encoding="utf-8",
    )
    th = T.read_thresholds(p, fallback=False)
    assert th == {"key_fact_accuracy": {"min": 0.85}, "false_refusal": {"max": 0.1}}
    assert T.check_thresholds({"key_fact_accuracy": 0.85, "false_refusal": 0.1}, th) == []
    fails = T.check_thresholds({"key_fact_accuracy": 0.84, "false_refusal": 0.2}, th)
    assert len(fails) == 2
    assert T.check_thresholds({}, th)[0].startswith("key_fact_accuracy: not measured")
    with pytest.raises(ValueError):
        T.read_thresholds(tmp_path / "missing.md", fallback=False)
    assert T.read_thresholds(tmp_path / "missing.md") == T.TARGETS


def test_rank_configs_orders_by_key_facts_then_abstention_then_hit():
    def row(name: str, kf: float, nr: float, fr: float, hit: float) -> dict[str, Any]:
        return {
            "name": name,
            "summary": {
                "key_fact_accuracy": kf,
                "negative_rejection": nr,
                "false_refusal": fr,
                "doc_hit@5": hit,
            },
        }

    rows = [
        row("a", 0.7, 0.9, 0.1, 0.9),
        row("b", 0.8, 0.5, 0.3, 0.8),
        row("c", 0.7, 0.9, 0.1, 0.95),
    ]
    assert R.rank_configs(rows) == ["b", "c", "a"]


# -- the LLM judge -----------------------------------------------------------------------------


def test_judge_skipped_without_endpoint():
    assert J.make_judge_llm({}) is None
    assert J.make_judge_llm({"RAG_LLM_BASE_URL": ""}) is None
    assert J.JUDGE_SKIPPED == "LLM-judged metrics skipped: no RAG_LLM_BASE_URL configured"


def test_parse_judge_reply():
    assert M.parse_judge_reply('{"faithfulness": 0.5, "relevance": 1}') == {
        "faithfulness": 0.5,
        "relevance": 1.0,
    }
    fenced = 'Sure.\n```json\n{"faithfulness": 4, "answer_relevance": 5}\n```'
    assert M.parse_judge_reply(fenced) == {"faithfulness": 0.8, "relevance": 1.0}
    assert M.parse_judge_reply("Faithfulness: 0.9\nRelevance: 0.7") == {
        "faithfulness": 0.9,
        "relevance": 0.7,
    }
    assert M.parse_judge_reply("I cannot grade this.") is None
    assert M.parse_judge_reply("") is None


def test_judge_records_with_a_fake_chat_model(scored):
    from langchain_core.language_models import FakeListChatModel

    llm = FakeListChatModel(
        responses=[
            '{"faithfulness": 1.0, "relevance": 0.5}',
            "no idea",
            '```json\n{"faithfulness": 0.0, "relevance": 1.0}\n```',
        ]
    )
    out = J.judge_records(llm, scored)
    assert out["asked"] == 3  # the non-abstained answers: c1, c2, c5
    assert out["judged"] == 2 and out["unreadable"] == 1
    assert out["faithfulness"] == 0.5 and out["answer_relevance"] == 0.75
    assert scored[0]["judge"] == {"faithfulness": 1.0, "relevance": 0.5}


# -- the whole command, cheaply: hash embedder, a few cases --------------------------------


@pytest.mark.slow
def test_main_writes_report_cases_charts_and_results(tmp_path: Path, monkeypatch, repo_root: Path):
    configs = {
        "default": H.EvalConfig("default", "fake", {}, "hash embedder, shipped retrieval"),
        "keyword": H.EvalConfig("keyword", "fake", {"mode": "keyword", "glossary": False}, "bm25"),
    }
    monkeypatch.setattr(H, "all_configs", lambda: configs)
    monkeypatch.delenv("RAG_LLM_BASE_URL", raising=False)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for rel in (
        "000_3b181778c37663fc.txt",
        "000_3b181778c37663fc.txt.meta.yaml",
        "articles/a02_thead_ppu_cctv.md",
        "articles/a03_thead_product_history.md",
    ):
        (corpus / Path(rel).name).write_bytes((repo_root / "corpus" / rel).read_bytes())
    results = tmp_path / "RESULTS.md"
    out = tmp_path / "out"
    code = H.main(
        [
            *("--limit", "3", "--data-dir", str(tmp_path / "stores"), "--out", str(out), "--quiet"),
            *("--corpus", str(corpus), "--write-results", "--results-path", str(results)),
            "--set-thresholds",
        ]
    )
    assert code == 0
    lines = (out / "cases.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 12  # 2 configs x 3 cases x (dev, heldout)

    recs = [json.loads(line) for line in lines]
    assert [r["set"] for r in recs].count("heldout") == 6
    rec = recs[0]
    assert {"question", "retrieved", "answer", "citations", "scores", "timings"} <= set(rec)
    assert len(rec["retrieved"]) == 10
    report = (out / "report.md").read_text(encoding="utf-8")
    for heading in (
        "Summary per configuration",
        "Per category",
        "Per language",
        "Cross-lingual",
        "Latency",
    ):
        assert f"## {heading}" in report
    assert J.JUDGE_SKIPPED in report
    assert "## Dev and held-out side by side" in report and "## Set `heldout`" in report
    assert "facts:" in report
    assert R.HELDOUT_NOTE in report or "Failing cases of `default` (0)" in report
    names = {"metrics.png", "category_key_facts.png", "latency.png"}
    assert {p.name for p in out.glob("*.png")} == names | {f"heldout_{n}" for n in names}
    every = T.read_all_thresholds(results, fallback=False)
    assert set(every) == {"dev", "heldout"}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for name in ("dev", "heldout"):
        flat = next(r for r in summary["sets"][name]["configs"] if r["name"] == "default")["flat"]
        assert T.check_thresholds(flat, every[name]) == []  # derived below the measured values
    assert "<!-- history -->" in results.read_text(encoding="utf-8")
    assert (tmp_path / "stores" / "fake").is_dir()


# -- the answer's language -------------------------------------------------------------------


def test_text_language_judges_the_answers_own_words():
    assert M.text_language("The Zhenwu 810E has 96GB of HBM2e memory [1].") == "en"
    assert M.text_language("真武810E采用HBM2e内存,容量可达96GB[1]") == "zh"
    # units, acronyms and model names belong to no language
    assert M.text_language("96GB HBM2e, 700GB/s [1]") is None
    # a quoted source sentence or a bracketed gloss does not make an English answer Chinese
    assert M.text_language("It has 96GB: “采用HBM2e内存,容量可达96GB” [1]") == "en"
    assert M.text_language("Revenue was 917 million yuan (9.17亿元) [1].") == "en"
    # an extractive answer that is only the Chinese sentence is Chinese
    assert M.text_language("据平头哥官网介绍,真武810E采用HBM2e内存[1]") == "zh"
    assert M.text_language("Groq融资7.5亿美元（$750 million）[1]") == "zh"
    assert M.text_language("") is None
    # a quoted sentence that itself quotes a name is dropped whole
    nested = "From the Chinese source: 400家 — “平头哥的“真武”PPU也在近年来走出阿里,服务了400多家客户” [1]"
    assert M.text_language(nested) == "en"
    assert M.strip_quoted("a “b “c” d” e (f (g) h) i").split() == ["a", "e", "i"]


def test_language_matches_counts_abstentions_and_figure_only_answers():
    assert M.language_matches("资料中没有提到。", "zh")
    assert not M.language_matches("资料中没有提到。", "en")
    assert M.language_matches("The corpus does not say.", "en")
    assert M.language_matches("96GB [1]", "en") and M.language_matches("96GB [1]", "zh")


def test_summary_reports_the_language_rate(scored):
    # q1 "96GB — “…” [1]" has no words of either language outside its quote (passes); q2, q3,
    # q4 and q5 are English answers to English questions
    assert H.summarize(scored)["answer_language_rate"] == 1.0
    rec = dict(scored[0], scores=dict(scored[0]["scores"], language_match=False))
    assert H.summarize([rec, *scored[1:]])["answer_language_rate"] == 0.8


# -- facts against gold ------------------------------------------------------------------------


def _fact(**kw: Any) -> SimpleNamespace:
    base = {
        "doc_id": "d1",
        "entity_id": "真武810e",
        "entity": "真武810E",
        "attribute": "memory_capacity",
        "value": "96GB",
        "norm_value": 9.6e10,
        "unit": "GB",
    }
    base.update(kw)
    return SimpleNamespace(**base)


GOLD = [
    {"doc_id": "d1", "entity": "真武810E", "entity_aliases": ["Zhenwu 810E", "810E"],
     "attribute": "memory_capacity", "value": "96GB", "norm_value": 9.6e10, "quote": "q"},
    {"doc_id": "d1", "entity": "真武810E", "entity_aliases": ["Zhenwu 810E"],
     "attribute": "interconnect_bandwidth", "value": "700GB/s", "norm_value": 7e11, "quote": "q"},
    {"doc_id": "d2", "entity": "台積電", "entity_aliases": ["TSMC", "台积电"],
     "attribute": "capacity", "value": "10萬片", "norm_value": 1e5, "quote": "q"},
]  # fmt: skip


def test_fact_matching_needs_doc_attribute_entity_and_value():
    g = GOLD[0]
    assert M.fact_matches(_fact(), g)
    assert M.fact_matches(_fact(entity="Zhenwu 810E", entity_id="zhenwu 810e"), g)
    assert not M.fact_matches(_fact(doc_id="d9"), g)
    assert not M.fact_matches(_fact(attribute="memory_bandwidth"), g)
    assert not M.fact_matches(_fact(entity="H20", entity_id="h20"), g)
    assert not M.fact_matches(_fact(value="80GB", norm_value=8e10), g)
    # equal normalised values in another spelling, or the same text without a normalised value
    assert M.fact_matches(_fact(value="96 GB", norm_value=96e9), g)
    assert M.fact_matches(_fact(value="96 GB", norm_value=None), g)
    # an alias the store knows for the extracted entity counts too
    assert M.fact_matches(_fact(entity="PPU", entity_id="ppu"), g, extra_names=["810E"])


def test_fact_scores_recall_precision_and_normalised_names():
    from evals.facts_eval import _entity_norm

    extracted = [
        _fact(),  # right
        _fact(attribute="interconnect_bandwidth", value="700 GB/s", norm_value=7e11),  # right
        _fact(attribute="power", value="400W", norm_value=400.0),  # not in the gold: wrong
        # the traditional-script name, normalised to simplified, matches the alias 台积电
        _fact(doc_id="d2", entity="台積電", entity_id="台积电", attribute="capacity",
              value="10萬片", norm_value=1e5),
        _fact(doc_id="other", attribute="power", value="1W", norm_value=1.0),  # not a gold doc
    ]  # fmt: skip
    s = M.fact_scores(extracted, GOLD, _entity_norm)
    assert s["n_gold"] == 3 and s["n_extracted"] == 4
    assert s["recall"] == 1.0 and s["precision"] == 0.75
    assert s["recall_by_attribute"] == {
        "capacity": 1.0,
        "interconnect_bandwidth": 1.0,
        "memory_capacity": 1.0,
    }
    low = M.fact_scores(extracted[:1], GOLD)
    assert low["recall"] == pytest.approx(1 / 3) and low["precision"] == 1.0
    assert [g["attribute"] for g in low["missed"]] == ["interconnect_bandwidth", "capacity"]
    assert M.fact_scores([], GOLD)["precision"] is None


def test_evaluate_facts_without_a_facts_method_says_so(tmp_path: Path):
    gold = tmp_path / "g.jsonl"
    gold.write_text("".join(json.dumps(g, ensure_ascii=False) + "\n" for g in GOLD), "utf-8")
    out = H.evaluate_facts(object(), gold)
    assert out["available"] is False and out["note"] == F.FACTS_UNAVAILABLE

    class WithFacts:
        def facts(self) -> list[Any]:
            return [_fact()]

    out = H.evaluate_facts(WithFacts(), gold)
    assert out["available"] and out["recall"] == pytest.approx(1 / 3) and out["precision"] == 1.0
    assert out["note"].startswith("facts: precision 1.000 at recall 0.333")


def test_the_shipped_facts_gold_loads_and_quotes_its_documents(repo_root: Path):
    from rag.loaders import load_file

    rows = F.load_facts_gold(repo_root / "evals" / "datasets" / "facts_gold.jsonl")
    assert len({r["source"] for r in rows}) >= 16 and len(rows) >= 150
    texts = {s: load_file(repo_root / s).document for s in {r["source"] for r in rows}}
    for r in rows:
        doc = texts[r["source"]]
        assert r["doc_id"] == doc.doc_id and r["quote"] in doc.text, r
        assert r["value"] in r["quote"], r


# -- thresholds per set -------------------------------------------------------------------------


def _run_with(flat_by_set: dict[str, dict[str, float]]) -> dict[str, Any]:
    return {
        "sets": {n: {"configs": [{"name": "default", "flat": f}]} for n, f in flat_by_set.items()},
        "thresholds": {},
    }


def test_thresholds_per_set_are_derived_below_the_measured_values(tmp_path: Path):
    run = _run_with(
        {
            "dev": {"key_fact_accuracy": 0.853, "false_refusal": 0.0, "citation_validity": 1.0},
            "heldout": {"key_fact_accuracy": 0.6, "answer_language_rate": 0.5},
        }
    )
    th = T.derive_thresholds(run, 0.03)
    assert th["dev"] == {
        "key_fact_accuracy": {"min": 0.82},
        "false_refusal": {"max": 0.03},
        "citation_validity": {"min": 1.0},
    }
    assert th["heldout"] == {
        "key_fact_accuracy": {"min": 0.57},
        "answer_language_rate": {"min": 0.47},
    }
    p = tmp_path / "RESULTS.md"
    p.write_text("x\n```json\n" + json.dumps({"thresholds": th}) + "\n```\n", encoding="utf-8")
    assert T.read_all_thresholds(p, fallback=False) == th
    assert T.read_thresholds(p, fallback=False, set_name="heldout") == th["heldout"]
    run["thresholds"] = th
    assert T.check_run(run) == []
    run["sets"]["heldout"]["configs"][0]["flat"]["key_fact_accuracy"] = 0.5
    assert T.check_run(run) == ["heldout: key_fact_accuracy = 0.500 < 0.57"]
    assert T.check_run({"sets": {"dev": {"configs": [{"name": "x", "flat": {}}]}}}) is None


def test_history_block_survives_a_rewrite(tmp_path: Path):
    p = tmp_path / "RESULTS.md"
    p.write_text("a\n<!-- history -->\n| before | 0.5 |\n<!-- /history -->\nb\n", "utf-8")
    assert R.read_history(p) == "| before | 0.5 |"
    assert R.read_history(tmp_path / "none.md") == ""


def test_a_figure_in_another_scale_is_grounded_by_value() -> None:
    """ "8 billion yuan" is grounded by a quote's 80亿元; 8 billion dollars is not."""
    from evals.metrics import citation_scores

    quote = "实际募集资金总额约80亿元。"
    ok = citation_scores(f"From the Chinese source: 8 billion yuan — “{quote}” [1]", {1: quote})
    assert ok.ungrounded == [] and ok.supported_statements == ok.statements == 1
    bad = citation_scores("The company raised $8 billion [1].", {1: quote})
    assert bad.ungrounded == ["8"] and bad.supported_statements == 0
