"""Generate Discuz! forum "jammer" noise the way the forum inserts it.

Discuz hides random text at line breaks (``<font class="jammer">`` before a break,
``<span style="display:none">`` after one) so that copied posts come out spoiled.
Each jammer is 5-15 units of ``chr(32..59) + " " + chr(63..126)``. This module
reproduces that for building realistic forum pastes in ``corpus/`` and for the
cleaner's property tests. It does not clean anything: see ``rag.clean``.
"""

from __future__ import annotations

import random

FORUM_HEADER = [
    "|",
    "|",
    "马上注册,结交更多好友,享用更多功能,让你轻松玩转社区。",
    "您需要 登录 才可以下载或查看,没有账号?立即注册",
    "×",
]
FORUM_FOOTER = ["|", "|"]


def jammer_unit(rng: random.Random) -> str:
    """One jammer unit: a character from 32..59, a space, a character from 63..126."""
    return chr(rng.randint(32, 59)) + " " + chr(rng.randint(63, 126))


def jammer(rng: random.Random, *, collapse_spaces: bool = False) -> str:
    """A jammer of 5-15 units; ``collapse_spaces`` mimics HTML whitespace collapsing."""
    text = "".join(jammer_unit(rng) for _ in range(rng.randint(5, 15)))
    if collapse_spaces:
        while "  " in text:
            text = text.replace("  ", " ")
    return text


def add_jammer(
    text: str,
    rng: random.Random,
    *,
    rate: float = 0.9,
    collapse_spaces: bool | None = None,
) -> str:
    """Insert jammer at line breaks of ``text``, before or after each break.

    Args:
        text: clean text whose paragraphs are separated by newlines.
        rng: random source, so pastes are reproducible.
        rate: probability that a given line break gets a jammer.
        collapse_spaces: force collapsed (True) or raw (False) spaces; random per jammer if None.
    """
    lines = text.split("\n")
    out = [lines[0]]
    for line in lines[1:]:
        if rng.random() < rate:
            collapse = rng.random() < 0.5 if collapse_spaces is None else collapse_spaces
            noise = jammer(rng, collapse_spaces=collapse)
            if rng.random() < 0.5:
                out[-1] += noise  # <font class="jammer"> just before the break
            else:
                line = noise + line  # <span style="display:none"> just after it
        out.append(line)
    return "\n".join(out)


def forum_paste(paragraphs: list[str], seed: int) -> str:
    """A post as copied from a Discuz page: forum chrome, jammer at every break."""
    rng = random.Random(seed)
    body = add_jammer("\n\n".join(paragraphs), rng)
    return "\n".join(FORUM_HEADER) + "\n" + body + "\n" + "\n".join(FORUM_FOOTER) + "\n"
