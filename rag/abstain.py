"""Why an answer was refused, as named values, and the sentence that tells the asker so in
their language.

``Reason`` names every refusal of both answerers; ``refusal`` writes it as the lead-in and
the reason's sentence. The texts are data, ``rag/data/answer.yaml`` (``abstain``, read through
``rag.answer_facts.answer_words``). This module decides no refusal itself: the offline
answerer's gates (``rag.answer_offline``) and the LLM answerer (``rag.answer_llm``) do."""

from __future__ import annotations

from enum import StrEnum

from rag.answer_facts import answer_words


class Reason(StrEnum):
    """Every reason an answerer may refuse."""

    NO_PASSAGES = "no_passages"
    ENTITY_ABSENT = "entity_absent"
    WEAK_EVIDENCE = "weak_evidence"
    NOT_ABOUT = "not_about"
    UNDISCLOSED = "undisclosed"
    ATTRIBUTE_ABSENT = "attribute_absent"
    PERIOD_ABSENT = "period_absent"
    PLACE_ABSENT = "place_absent"  # a figure asked for a place, and no quote of it names it
    PART_ABSENT = "part_absent"  # what a how-much question counts ("员工"), and no quote says it
    NOBODY_NAMED = "nobody_named"  # a who question, and no quote names a person or body
    MODEL_REFUSED = "model_refused"  # the LLM said the sources do not answer
    UNVERIFIED = "unverified"  # no statement of the LLM's answer survived the checks


def reason_text(reason: Reason, lang: str, what: str = "") -> str:
    """The reason as a sentence in ``lang`` (``zh`` or ``en``)."""
    return str(answer_words()["abstain"][reason.value][lang]).format(what=what)


def abstain_text(reason_sentence: str, lang: str) -> str:
    """The whole refusal: a lead-in and the reason."""
    return str(answer_words()["abstain"]["lead"][lang]).format(reason=reason_sentence)


def refusal(reason: Reason, lang: str, what: str = "") -> str:
    """The whole refusal for ``reason`` in ``lang``: the lead-in and the reason's sentence."""
    return abstain_text(reason_text(reason, lang, what), lang)
