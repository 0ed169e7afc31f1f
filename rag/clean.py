"""Remove forum noise from pasted article text; keep every real character.

Discuz! pages hide "jammer" runs at line breaks (``tests/noise.py`` makes them for the tests)
and wrap posts in forum chrome (register prompts, ``|`` and ``×`` lines). This module strips both from
plain text. It does not parse HTML: ``rag.htmltext`` drops jammer elements before
extracting a page's text, and ``rag.loaders`` calls ``clean_text`` on every file's text for
anything that survived as text.
"""

from __future__ import annotations

import re

# One jammer unit is chr(32..59) + " " + chr(63..126). Copying may collapse the two
# spaces of a unit whose first character is itself a space, so " Y" is a unit too.
_UNIT = r"(?:[!-;] |  ?)[?-~]"
_UNIT_RE = re.compile(_UNIT)
_TRAILING = re.compile(rf"(?:{_UNIT}){{5,}}$")
_LEADING = re.compile(rf"^(?:{_UNIT}){{5,}}")
_WHOLE = re.compile(rf"^\s*(?:{_UNIT}){{3,}}\s*$")
# Discuz writes 5-15 units per jammer; a longer run at a line end includes real text
MIN_UNITS, MAX_UNITS = 5, 15
_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]")

_CHROME = [
    re.compile(p)
    for p in (
        r"^[|×\s]+$",
        r"^马上注册.{0,40}$",
        r"^您需要\s*登录\s*才可以下载或查看.{0,30}$",
        r"^本帖最后由\s*\S+\s*于\s*[\d\-: ]+\s*编辑$",
        r"^(发表于|发表于:)\s*[\d\-: ]+.{0,20}$",
        r"^(只看该作者|电梯直达|显示全部楼层|倒序浏览|阅读模式|使用道具|举报|回复|收藏|分享|楼主|沙发|板凳|\[复制链接\]|复制链接)$",
        r"^查看:\s*\d+\s*\|\s*回复:\s*\d+$",
        r"^(上一主题|下一主题|返回列表|快速回复|高级模式)(\s*\|.*)?$",
    )
]


def _unit_ends(text: str, pos: int = 0) -> list[int]:
    """Offsets after each jammer unit read from ``pos``; stops at the first non-unit."""
    ends: list[int] = []
    while True:
        m = _UNIT_RE.match(text, pos)
        if m is None:
            return ends
        pos = m.end()
        ends.append(pos)


def _keeps_last_char(real: str, c: str) -> bool:
    """Is ``c``, the jammer's first character, more likely the end of the real text?

    A jammer whose first unit is ``c Y`` reads the same as real text ending in ``c``
    followed by a collapsed space unit `` Y``. The forum never writes the second form
    more often than the first, so the character goes to the jammer unless the text
    plainly ends with it: a full stop after a word, or a bracket or quote it opened.
    """
    if c in ".!":
        # an English sentence ends here; a heading or a Chinese line does not end in "."
        words = real.split()
        return (
            bool(real)
            and (bool(_ASCII_ALNUM.match(real[-1])) or real[-1] in ")\"'%")
            and (len(words) > 15 or ". " in real)
        )
    if c == ")":
        return real.count("(") > real.count(")")
    if c == '"':
        return real.count('"') % 2 == 1
    return False


def _strip_trailing(line: str) -> str:
    """``line`` without the jammer run that ends it (the text's own last character kept)."""
    m = _TRAILING.search(line)
    if m is None:
        return line
    start = m.start()
    ends = _unit_ends(line, start)
    if not ends or ends[-1] != len(line):  # read another way by the regex: trust it
        return line[:start]
    # more units than Discuz writes: the first ones belong to the text
    bounds = [start, *ends[:-1]]
    while len(bounds) > MAX_UNITS:
        bounds = bounds[1:]
        start = bounds[0]
    run = line[start:]
    c = line[start]
    if (
        c != " "
        and run[1:2] == " "
        and run[2:3] != " "
        and "  " not in run  # a raw jammer cannot hold a collapsed unit
        and len(_unit_ends(run, 1)) >= MIN_UNITS
        and _keeps_last_char(line[:start], c)
    ):
        start += 1
    return line[:start]


def _strip_leading(line: str) -> str:
    """``line`` without the jammer run that starts it (at most 15 units)."""
    ends = _unit_ends(line)
    if len(ends) < MIN_UNITS:
        return line
    if len(ends) > MAX_UNITS:
        ends = ends[:MAX_UNITS]
    return line[ends[-1] :]


def strip_jammer(line: str) -> str:
    """Remove jammer runs touching either end of one line."""
    if _WHOLE.match(line):
        return ""
    return _strip_trailing(_strip_leading(line))


def is_chrome(line: str) -> bool:
    """True for forum furniture lines that are not part of the post."""
    s = line.strip()
    return any(p.match(s) for p in _CHROME)


def _jammer_runs(line: str) -> list[str]:
    """The jammer-like runs at the ends of one line (the whole line if it is one)."""
    if _WHOLE.match(line):
        return [line]
    runs = []
    m = _LEADING.match(line)
    if m:
        runs.append(m.group())
    m = _TRAILING.search(line)
    if m:
        runs.append(m.group())
    return runs


def _looks_random(run: str) -> bool:
    """Not a punctuated list such as ``see: a, b, c, d, e`` (units led by one separator)."""
    firsts = [m.group()[0] for m in _UNIT_RE.finditer(run)]
    top = max(set(firsts), key=firsts.count) if firsts else ""
    return not (bool(top) and top in ",;/|" and firsts.count(top) >= len(firsts) - 1)


def looks_like_forum_paste(text: str) -> bool:
    """Heuristic: forum chrome is present, or a jammer run touches a line end.

    Five or more ``x Y`` units in a row at a line end do not occur in prose, so one run
    is enough, unless it could be a punctuated list (``a, b, c, d, e``): that needs a
    second run somewhere in the text.
    """
    hits = 0
    for line in text.split("\n"):
        s = line.rstrip()
        if not s:
            continue
        if is_chrome(s) and s not in ("|",):
            return True
        for run in _jammer_runs(s):
            if _looks_random(run):
                return True
            hits += 1
            if hits >= 2:
                return True
    return False


def normalize_newlines(text: str) -> str:
    """Unix newlines, no trailing spaces, at most one blank line between paragraphs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = text.replace("\u200b", "").replace("\ufeff", "")
    lines = [ln.rstrip() for ln in text.split("\n")]
    out = "\n".join(lines).strip("\n")
    return re.sub(r"\n{3,}", "\n\n", out)


def clean_forum_text(text: str) -> str:
    """Clean a Discuz paste: drop chrome and jammer, one paragraph per line."""
    paragraphs = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.rstrip()
        if not line.strip() or is_chrome(line):
            continue
        line = strip_jammer(line).strip()
        if line and not is_chrome(line):
            paragraphs.append(line)
    return "\n\n".join(paragraphs)


def clean_text(text: str, *, forum: bool | None = None) -> str:
    """Clean article text; forum cleaning runs when ``forum`` or when the text looks pasted."""
    text = normalize_newlines(text)
    if forum is None:
        forum = looks_like_forum_paste(text)
    return clean_forum_text(text) if forum else text
