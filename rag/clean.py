"""Remove forum noise from pasted article text; keep every real character.

Discuz! pages hide "jammer" runs at line breaks (see ``rag.noise``) and wrap posts in
forum chrome (register prompts, ``|`` and ``×`` lines). This module strips both from
plain text. It does not parse HTML: ``rag.loaders`` drops jammer elements before
extracting text, then calls ``clean_text`` for anything that survived as text.
"""

from __future__ import annotations

import re

# One jammer unit is chr(32..59) + " " + chr(63..126). Copying may collapse the two
# spaces of a unit whose first character is itself a space, so " Y" is a unit too.
_UNIT = r"(?:[!-;] |  ?)[?-~]"
_TRAILING = re.compile(rf"(?:{_UNIT}){{5,}}$")
_LEADING = re.compile(rf"^(?:{_UNIT}){{5,}}")
_WHOLE = re.compile(rf"^\s*(?:{_UNIT}){{3,}}\s*$")

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


def strip_jammer(line: str) -> str:
    """Remove jammer runs touching either end of one line."""
    if _WHOLE.match(line):
        return ""
    line = _TRAILING.sub("", line)
    line = _LEADING.sub("", line)
    return line


def is_chrome(line: str) -> bool:
    """True for forum furniture lines that are not part of the post."""
    s = line.strip()
    return any(p.match(s) for p in _CHROME)


def looks_like_forum_paste(text: str) -> bool:
    """Heuristic: two or more lines carry jammer runs, or forum chrome is present."""
    hits = 0
    for line in text.split("\n"):
        s = line.rstrip()
        if not s:
            continue
        if is_chrome(s) and s not in ("|",):
            return True
        if _WHOLE.match(s) or _TRAILING.search(s) or _LEADING.match(s):
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
