"""Article text and metadata from an HTML page: our Discuz jammer removal, then trafilatura.

Discuz forums hide anti-copy "jammer" runs in ``<font class="jammer">`` and ``display:none``
spans; they are dropped here, before extraction, because no general extractor knows them.
Everything else (finding the article body among navigation, bylines, captions, follow
prompts, share bars, comments, related links; title, date, author, site, canonical URL) is
trafilatura's job. Block elements become paragraphs separated by a blank line, as in a
cleaned forum paste. It does not decode bytes (``rag.loaders.decode_bytes``) nor remove
jammer runs that survive as text (``rag.clean``).
"""

from __future__ import annotations

import re
from typing import Any

# what a Discuz page hides from readers but leaves for copy-paste
JAMMER_SELECTORS = (
    "font.jammer",
    ".jammer",
    '[style*="display:none"]',
    '[style*="display: none"]',
    "[hidden]",
)
_DROP_FIRST = ("script", "style", "noscript", "template")


def drop_jammer(html: str) -> str:
    """The page without Discuz jammer elements (and anything hidden by inline style)."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    for sel in JAMMER_SELECTORS + _DROP_FIRST:
        for node in tree.css(sel):
            node.decompose()
    _untable_posts(tree)
    return tree.html or ""


def _untable_posts(tree: Any) -> None:
    """Lift Discuz post cells (``td.t_f``) out of their layout tables.

    A Discuz post is lines ended by ``<br>`` in a table cell; left in the table, an
    extractor renders it as one table row and loses the line breaks.
    """
    from selectolax.lexbor import LexborHTMLParser

    done: set[int] = set()
    for cell in tree.css("td.t_f"):
        table = cell.parent
        while table is not None and table.tag != "table":
            table = table.parent
        if table is None or table.mem_id in done:
            continue
        done.add(table.mem_id)
        posts = "".join(
            f'<div class="t_f">{c.inner_html or ""}</div>' for c in table.css("td.t_f")
        )
        lifted = LexborHTMLParser(f"<div>{posts}</div>").css_first("div")
        if lifted is not None:
            table.replace_with(lifted)


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
    )
    meta = _page_meta(doc) if doc is not None else {}
    text = (getattr(doc, "text", None) or "") if doc is not None else ""
    if not text.strip():
        # too short for trafilatura's article heuristics: take whatever body text there is
        text = trafilatura.html2txt(html) or ""
    return _paragraphs(text), meta
