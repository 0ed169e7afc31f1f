"""The optional LLM judge: faithfulness and relevance of the non-abstained answers, graded by
the endpoint of ``RAG_LLM_*`` (skipped, with a note, when none is configured). It scores
nothing else and never changes a case's other scores.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from evals import metrics as M

JUDGE_SKIPPED = "LLM-judged metrics skipped: no RAG_LLM_BASE_URL configured"


JUDGE_PROMPT = """You grade one answer of a question-answering system over news articles.

Question: {question}

Cited evidence:
{evidence}

Answer: {answer}

Score two things between 0 and 1:
- faithfulness: every claim of the answer is supported by the cited evidence (1) or not at all (0);
- relevance: the answer addresses the question (1) or is off-topic (0).
Reply with JSON only, for example {{"faithfulness": 0.9, "relevance": 1.0}}."""


def make_judge_llm(env: dict[str, str] | None = None) -> Any:
    """A ChatOpenAI judge from ``RAG_LLM_*``, or None when no endpoint is configured."""
    env = dict(os.environ if env is None else env)
    url = env.get("RAG_LLM_BASE_URL")
    if not url:
        return None
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=url,
        model=env.get("RAG_LLM_MODEL") or "default",
        api_key=env.get("RAG_LLM_API_KEY") or "not-needed",  # type: ignore[arg-type]
        temperature=0,
        timeout=float(env.get("RAG_LLM_TIMEOUT") or 60),
        max_retries=1,
    )


def judge_records(
    llm: Any, records: Sequence[dict[str, Any]], limit: int | None = None
) -> dict[str, Any]:
    """Ask ``llm`` to grade the non-abstained answers; stores ``judge`` on each record."""
    todo = [r for r in records if not r["abstained"] and r.get("answer")]
    if limit:
        todo = todo[:limit]
    faith: list[float] = []
    rel: list[float] = []
    unreadable = errors = 0
    last_error = ""
    for r in todo:
        evidence = "\n".join(f"[{c['n']}] {c['quote']}" for c in r["citations"]) or "(none)"
        prompt = JUDGE_PROMPT.format(question=r["question"], evidence=evidence, answer=r["answer"])
        try:
            reply = llm.invoke(prompt)
        except Exception as e:
            errors += 1
            last_error = f"{type(e).__name__}: {e}"
            if errors >= 3 and not faith:
                break
            continue
        content = getattr(reply, "content", reply)
        parsed = M.parse_judge_reply(content if isinstance(content, str) else str(content))
        r["judge"] = parsed or {"unreadable": str(content)[:200]}
        if parsed is None:
            unreadable += 1
            continue
        faith.append(parsed["faithfulness"])
        rel.append(parsed["relevance"])
    return {
        "config": records[0]["config"] if records else None,
        "judged": len(faith),
        "asked": len(todo),
        "unreadable": unreadable,
        "errors": errors,
        "last_error": last_error,
        "faithfulness": M.mean(faith),
        "answer_relevance": M.mean(rel),
    }


def judge_run(first: list[dict[str, Any]], name: str, limit: int | None) -> dict[str, Any]:
    """The judge's grades of configuration ``name``'s records, or the note why it was skipped."""
    judge_llm = make_judge_llm()
    if judge_llm is None:
        return {"note": JUDGE_SKIPPED}
    judge = judge_records(judge_llm, first, limit=limit)
    judge["note"] = (
        f"LLM-judged metrics on config {name!r}: {judge['judged']} of "
        f"{judge['asked']} answers graded by {os.environ.get('RAG_LLM_MODEL') or 'the endpoint'}"
    )
    return judge
