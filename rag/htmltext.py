"""Article text and metadata from an HTML page: our Discuz jammer removal, then trafilatura.

Discuz forums hide anti-copy "jammer" runs in ``<font class="jammer">`` and ``display:none``
spans; they are dropped here, before extraction, because no general extractor knows them.
Everything else (finding the article body among navigation, bylines, captions, follow
prompts, share bars, comments, related links; title, date, author, site, canonical URL) is
trafilatura's job. Lines that page templates put inside the body (WeChat follow prompts,
QR-code lines, captions, editor lines, ad labels) are listed in ``rag/data/page_chrome.yaml``
and dropped after extraction. Block elements become paragraphs separated by a blank line,
as in a cleaned forum paste. It does not decode bytes (``rag.loaders.decode_bytes``) nor remove
jammer runs that survive as text (``rag.clean``).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from rag import datafiles

# what a Discuz page hides from readers but leaves for copy-paste
JAMMER_SELECTORS = (
    "font.jammer",
    ".jammer",
    '[style*="display:none"]',
    '[style*="display: none"]',
    "[hidden]",
)
_DROP_FIRST = ("script", "style", "noscript", "template")
_CHROME_FILE = "page_chrome.yaml"


def drop_jammer(html: str) -> str:
    """The page without Discuz jammer elements (and anything hidden by inline style)."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    for sel in JAMMER_SELECTORS + _DROP_FIRST:
        for node in tree.css(sel):
            node.decompose()
    return _discuz_thread(tree) or tree.html or ""


def _discuz_thread(tree: Any) -> str | None:
    """A Discuz thread rebuilt as one article (the first post) and comments (the replies).

    Discuz lays a thread out in nested tables: the first post (``td.t_f``, lines ended
    by ``<br>``) sits beside the author column, replies below it. Left as tables, an
    extractor reads them as table rows. None when the page is not a Discuz thread.
    """
    cells = tree.css("td.t_f, div.t_f")
    if not cells:
        return None
    head = tree.head.html if tree.head is not None else ""
    posted = tree.css_first('[id^="authorposton"]') or tree.css_first(".authi")
    when = re.search(r"(20\d\d)-(\d{1,2})-(\d{1,2})", posted.text() if posted else "")
    if when:  # the first post's date, which the rebuilt page would otherwise lose
        y, m, d = (int(g) for g in when.groups())
        head = head.replace(
            "</head>", f'<meta name="date" content="{y:04d}-{m:02d}-{d:02d}"></head>', 1
        )
    subject = tree.css_first("#thread_subject")
    title = f"<h1>{subject.text(strip=True)}</h1>" if subject is not None else ""
    first = cells[0].inner_html or ""
    replies = "".join(f'<div class="comment">{c.inner_html or ""}</div>' for c in cells[1:])
    return (
        f"<html>{head}<body><article>{title}<div>{first}</div></article>"
        f'<div class="comments">{replies}</div></body></html>'
    )


@cache
def _chrome_patterns() -> list[re.Pattern[str]]:
    data = datafiles.load_yaml(_CHROME_FILE)
    groups = [v for k, v in data.items() if k != "version"]
    return [re.compile(p) for group in groups for p in group or []]


def drop_chrome_lines(text: str, title: str | None = None) -> str:
    """Drop template lines inside the body (``rag/data/page_chrome.yaml``) and a leading
    line that only repeats the title."""
    out = []
    for n, line in enumerate(text.split("\n")):
        s = line.strip()
        if s and any(p.match(s) for p in _chrome_patterns()):
            continue
        if n == 0 and title and _squash(s) == _squash(title):
            continue
        out.append(line)
    return "\n".join(out)


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


def _page_meta(doc: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for key in ("title", "date", "author", "sitename", "url"):
        value = getattr(doc, key, None)
        if value:
            meta["site" if key == "sitename" else key] = str(value).strip()
    return meta


def _paragraphs(text: str) -> str:
    """One block per line from trafilatura -> paragraphs separated by a blank line."""
    lines = [re.sub(r"[ \t\u3000\xa0]+", " ", ln).strip() for ln in text.split("\n")]
    return "\n\n".join(ln for ln in lines if ln)


def extract_html(raw_html: str, url: str | None = None) -> tuple[str, dict[str, Any]]:
    """Article text and page metadata (title, date, author, site, url) of one page.

    Args:
        raw_html: the decoded page.
        url: where the page came from, when known (helps trafilatura resolve metadata).

    Returns:
        ``(text, meta)``; ``text`` is empty when the page holds no article text.
    """
    import trafilatura

    html = drop_jammer(raw_html)
    if not html.strip():
        return "", {}
    doc = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        favor_precision=True,
        deduplicate=False,
        prune_xpath=["//nav"],  # a page of menus alone is not an article
    )
    meta = _page_meta(doc) if doc is not None else {}
    text = (getattr(doc, "text", None) or "") if doc is not None else ""
    if not text.strip():
        # too short for trafilatura's heuristics, or nested deeper than lxml parses
        text = _plain_text(html)
    return _paragraphs(drop_chrome_lines(text, meta.get("title"))), meta


_BLOCKS = re.compile(
    r"(?i)<br\s*/?>|</?(?:p|div|h[1-6]|li|tr|section|article|blockquote|table|ul|ol)\b[^>]*>"
)


def _plain_text(html: str) -> str:
    """Every text block of the page but navigation (lexbor parses any depth)."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    for node in tree.css("nav, header, footer, aside, form"):
        node.decompose()
    body = tree.body
    if body is None:
        return ""
    flat = _BLOCKS.sub("\n", re.sub(r"\s+", " ", body.html or ""))
    text = LexborHTMLParser(f"<body>{flat}</body>").body
    return text.text(deep=True, separator="") if text is not None else ""
