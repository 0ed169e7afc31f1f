"""One case through the public API: ``QA.ask`` at the default ``k``, then a ``k=10`` search of
the same resolved question, scored into the case's JSON record (answer, citations, retrieved
passages, every per-case score, the failure reason). It does not aggregate or report.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from evals import metrics as M

if TYPE_CHECKING:
    from evals.harness import EvalConfig, ReusingEmbeddings

RETRIEVAL_K = 10


def _doc(qa: Any, doc_id: str) -> Any:
    try:
        return qa.document(doc_id)
    except Exception:
        return None


def crosslingual(qa: Any, case: dict[str, Any]) -> bool | None:
    """True when no gold document is in the question's language (None without gold docs)."""
    langs = set()
    for d in case["gold_doc_ids"]:
        doc = _doc(qa, d)
        if doc is not None:
            langs.add(doc.lang)
    if not langs:
        return None
    return case["lang"] not in langs


def failure_reason(rec: dict[str, Any]) -> str | None:
    """Why a case failed under a configuration, in one phrase (None when it passed)."""
    s = rec["scores"]
    if rec.get("error"):
        return "error: " + rec["error"]
    if not rec["answerable"]:
        return None if rec["abstained"] else "missing abstention"
    if s["key_fact_correct"]:
        return None
    where = (
        "gold evidence was retrieved"
        if s["answer_evidence_hit"]
        else "gold doc retrieved, not the evidence passage"
        if s["answer_doc_hit"]
        else "retrieval miss"
    )
    if rec["abstained"]:
        return f"false abstention ({where})"
    if not s["answer_doc_hit"]:
        return "retrieval miss (no gold doc among the answer's passages)"
    if not s["answer_evidence_hit"]:
        return "evidence not retrieved (gold doc, wrong passage)"
    return "wrong sentence chosen (evidence retrieved, key facts not in the answer)"


def evaluate_case(
    qa: Any, emb: ReusingEmbeddings | None, cfg: EvalConfig, case: dict[str, Any]
) -> dict[str, Any]:
    """Ask, search with k=10, and score one case; returns its JSON record."""
    from rag.qa import clean_question

    rec: dict[str, Any] = {
        "config": cfg.name,
        "id": case["id"],
        "question": case["question"],
        "lang": case["lang"],
        "category": case["category"],
        "answerable": bool(case["answerable"]),
        "history": case["history"],
        "gold_doc_ids": case["gold_doc_ids"],
        "gold_quotes": case["gold_quotes"],
        "key_facts": case["key_facts"],
        "crosslingual": crosslingual(qa, case),
    }
    try:
        ans = qa.ask(case["question"], case["history"] or None, **cfg.overrides)
        asked = ans.resolved_question or clean_question(case["question"])
        ctx = emb.reusing() if emb is not None else contextlib.nullcontext()
        with ctx:
            result = qa.search(asked, RETRIEVAL_K, **cfg.overrides)
    except Exception as e:  # a crash in one case must not lose the run
        rec.update(
            {
                "error": f"{type(e).__name__}: {e}",
                "abstained": False,
                "answer": "",
                "citations": [],
                "retrieved": [],
                "timings": {},
            }
        )
        rec["scores"] = _empty_scores(rec)
        rec["failure"] = failure_reason(rec)
        return rec

    gold_docs = set(case["gold_doc_ids"])
    quotes = list(case["gold_quotes"])

    def span_text(p: Any) -> str:
        d = _doc(qa, p.doc_id)
        return d.text[p.start : p.end] if d is not None else p.text

    retrieved = result.passages
    ev_cov = M.evidence_coverage([span_text(p) for p in retrieved], quotes)
    doc_cov = M.doc_coverage([p.doc_id for p in retrieved], gold_docs)
    rec["resolved_question"] = ans.resolved_question
    rec["retrieved"] = _retrieved_records(retrieved, gold_docs, ev_cov)
    answer_ids = [p.chunk_id for p in ans.passages]
    rec["answer_passages"] = answer_ids
    rec["retrieval_consistent"] = answer_ids == [p.chunk_id for p in retrieved[: len(answer_ids)]]
    rec["answer"] = ans.text
    rec["abstained"] = bool(ans.abstained)
    rec["answer_lang"] = M.text_language(ans.text)
    rec["answerer"] = ans.answerer
    rec["notes"] = ans.notes
    rec["timings"] = {k: float(v) for k, v in ans.timings.items()}

    cits, quotes_by_n, cs = _citations(qa, ans)
    rec["citations"] = cits
    rec["statements"] = cs.detail
    s = _answer_scores(case, ans, cits, quotes_by_n, cs)
    if case["answerable"] and gold_docs:
        s.update({f"doc_{k}": v for k, v in M.retrieval_scores(doc_cov, len(gold_docs)).items()})
    if case["answerable"] and quotes:
        s.update({f"evidence_{k}": v for k, v in M.retrieval_scores(ev_cov, len(quotes)).items()})
    ans_docs = {p.doc_id for p in ans.passages}
    ans_texts = [span_text(p) for p in ans.passages]
    s["answer_doc_hit"] = bool(ans_docs & gold_docs)
    s["answer_evidence_hit"] = any(q in t for q in quotes for t in ans_texts)
    rec["scores"] = s
    rec["failure"] = failure_reason(rec)
    return rec


def _retrieved_records(
    retrieved: Sequence[Any], gold_docs: set[str], ev_cov: list[set[str]]
) -> list[dict[str, Any]]:
    return [
        {
            "rank": i + 1,
            "doc_id": p.doc_id,
            "chunk_id": p.chunk_id,
            "start": p.start,
            "end": p.end,
            "score": p.score,
            "scores": p.scores,
            "gold_doc": p.doc_id in gold_docs,
            "gold_quotes": sorted(ev_cov[i]),
        }
        for i, p in enumerate(retrieved)
    ]


def _citations(qa: Any, ans: Any) -> tuple[list[dict[str, Any]], dict[int, str], Any]:
    """The answer's citations with their validity, quotes by number, and citation scores."""
    cits = []
    for c in ans.citations:
        d = _doc(qa, c.doc_id)
        cits.append(
            {
                **c.to_dict(),
                "valid": M.citation_valid(c.quote, d.text if d else None, c.start, c.end),
            }
        )
    quotes_by_n = {c.n: c.quote for c in ans.citations}
    cs = M.citation_scores(ans.text, quotes_by_n) if not ans.abstained else M.CitationScores()
    return cits, quotes_by_n, cs


def _answer_scores(
    case: dict[str, Any],
    ans: Any,
    cits: list[dict[str, Any]],
    quotes_by_n: dict[int, str],
    cs: Any,
) -> dict[str, Any]:
    """Scores of the answer itself: key facts, abstention, language, citations."""
    s: dict[str, Any] = {}
    kf = (
        M.key_facts_matched(case["key_facts"], ans.text)
        if not ans.abstained
        else [False] * len(case["key_facts"])
    )
    s["key_facts_matched"] = kf
    s["key_fact_correct"] = (bool(kf) and all(kf)) if case["answerable"] else None
    s["abstained"] = bool(ans.abstained)
    s["language_match"] = M.language_matches(ans.text, case["lang"])
    s["citations"] = len(cits)
    s["valid_citations"] = sum(1 for c in cits if c["valid"])
    if case["answerable"] and not ans.abstained:
        s["support"] = M.key_facts_correct(case["key_facts"], "\n".join(quotes_by_n.values()))
    else:
        s["support"] = None
    s["statements"] = cs.statements
    s["supported_statements"] = cs.supported_statements
    s["citation_pairs"] = cs.pairs
    s["precise_pairs"] = cs.precise_pairs
    s["figures"] = cs.figures
    s["ungrounded_figures"] = cs.ungrounded
    return s


def _empty_scores(rec: dict[str, Any]) -> dict[str, Any]:
    s: dict[str, Any] = {
        "answer_doc_hit": False,
        "answer_evidence_hit": False,
        "key_facts_matched": [False] * len(rec["key_facts"]),
        "key_fact_correct": False if rec["answerable"] else None,
        "abstained": False,
        "language_match": None,
        "citations": 0,
        "valid_citations": 0,
        "support": None,
        "statements": 0,
        "supported_statements": 0,
        "citation_pairs": 0,
        "precise_pairs": 0,
        "figures": 0,
        "ungrounded_figures": [],
    }
    if rec["answerable"] and rec["gold_doc_ids"]:
        s.update({f"doc_{k}": v for k, v in M.retrieval_scores([], 1).items()})
    if rec["answerable"] and rec["gold_quotes"]:
        s.update({f"evidence_{k}": v for k, v in M.retrieval_scores([], 1).items()})
    return s
