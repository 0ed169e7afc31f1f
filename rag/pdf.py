"""Text of a PDF report, page by page, as a reader would type it.

pdfplumber (over pdfminer.six) reads the text layer, CID fonts included, and finds ruled
tables, which are kept as rows (``cell | cell | cell``). Lines repeated at the top or the
bottom of every page (running headers, footers, page numbers) are dropped; words split by a
hyphen at a line end and sentences broken across lines are joined; paragraphs are separated
by a blank line. CJK radicals, compatibility ideographs and ligatures that PDF text layers
carry (``⼦``, ``⻚``, ``ﬁ``) become the ordinary characters. The start of every page in the
text is kept, so chunks and citations can say "p. N".

It does not do OCR: a PDF without a text layer is refused with one clear line, and so is an
encrypted PDF that needs a password. pypdf is used only to test for encryption (see
``docs/sources.md`` for why pdfplumber reads the text).
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from rag.errors import LoadError
from rag.lang import HAN, HAN_CHAR

SCANNED = "scanned PDF: no text layer; OCR is not supported"
ENCRYPTED = "encrypted PDF: it needs a password; save an unprotected copy and ingest that"
_TABLE = "\x00"  # marks a table row among the lines until the text is assembled
_RADICALS = Path(__file__).resolve().parent / "data" / "cjk_radicals.tsv"
# code points NFKC maps to what a user types: Kangxi radicals, compatibility ideographs,
# ligatures and presentation forms (not the full-width punctuation of Chinese text)
_NFKC = re.compile("[\u2f00-\u2fdf\uf900-\ufaff\ufb00-\ufb4f\U0002f800-\U0002fa1f]")
_SUPPLEMENT = re.compile("[\u2e80-\u2eff]")  # CJK Radicals Supplement: NFKC leaves them
_PAGE_NUMBER = re.compile(
    r"(?i)^[\s\-–—]*(?:第\s*\d+\s*页(?:\s*[/，,]?\s*共\s*\d+\s*页)?|page\s+\d+(?:\s+of\s+\d+)?"
    r"|\d+\s*/\s*\d+|\d+)[\s\-–—]*$"
)
_SENTENCE_END = tuple("。！？!?.；;：:…”」』）)")
_HYPHENATED = re.compile(r"[A-Za-z] ?[-\u2010\u2011\u00ad]$")  # "accel-" / "accel ‐" at a line end
# characters two Latin ones wide: radicals, CJK punctuation and kana, Han, full-width forms
_CJK = re.compile(f"[\u2e80-\u33ff{HAN}\uff00-\uffef]")


@dataclass
class PdfText:
    """A PDF's text with the offset where each page starts."""

    text: str
    pages: list[int] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    empty_pages: list[int] = field(default_factory=list)


@cache
def _radical_table(simplified: bool) -> dict[int, str]:
    table: dict[int, str] = {}
    for line in _RADICALS.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or "\t" not in line:
            continue
        radical, ideograph, when = line.split("\t")[:3]
        if when == "all" or simplified:
            table[ord(radical)] = ideograph
    return table


def _is_traditional(text: str) -> bool:
    """True when OpenCC's traditional-to-simplified conversion changes many characters."""
    from rag.textnorm import t2s

    han = HAN_CHAR.findall(text[:5000])
    if not han:
        return False
    sample = "".join(han)
    changed = sum(a != b for a, b in zip(sample, t2s(sample), strict=False))
    return changed > 0.03 * len(han)


def fix_codepoints(text: str, traditional: bool | None = None) -> str:
    """Radicals, compatibility ideographs and ligatures -> the characters a user types.

    A radical stands for the ideograph whose glyph the font shares with it; where the
    simplified and traditional forms differ (``⼾``: 户 or 戶), the text's own script
    decides (``traditional``, guessed from the text when None).
    """
    if _SUPPLEMENT.search(text) or _NFKC.search(text):
        if traditional is None:
            traditional = _is_traditional(text)
        table = _radical_table(not traditional)
        text = _SUPPLEMENT.sub(lambda m: m.group().translate(table), text)
        text = _NFKC.sub(
            lambda m: table.get(ord(m.group())) or unicodedata.normalize("NFKC", m.group()), text
        )
    return text


def _open_checked(data: bytes) -> None:
    """Raise LoadError for a PDF that cannot be read without a password, or not a PDF."""
    import pypdf
    from pypdf.errors import PdfReadError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError(ENCRYPTED)
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as e:
        raise LoadError(f"not a readable PDF: {str(e).splitlines()[0] if str(e) else e}") from e
    except Exception as e:  # pypdf raises a few others on broken files
        if "crypt" in type(e).__name__.lower() or "password" in str(e).lower():
            raise LoadError(ENCRYPTED) from e
        raise LoadError(f"not a readable PDF: {type(e).__name__}") from e


def _text_lines(region: Any) -> list[str]:
    text = region.extract_text(x_tolerance=1.5, y_tolerance=3) or ""
    return [ln.strip() for ln in text.split("\n") if ln.strip()]


def _page_lines(page: Any) -> list[str]:
    """A page's lines top to bottom; each ruled table row becomes one marked line."""
    x0, top, x1, bottom = page.bbox
    lines: list[str] = []
    try:
        # a ruled table needs lines or boxes; a page of text alone skips the search
        ruled = page.objects.get("line") or page.objects.get("rect")
        tables = sorted(page.find_tables(), key=lambda t: t.bbox[1]) if ruled else []
    except Exception:  # a malformed drawing must not cost the page its text
        tables = []
    y = top
    for t in tables:
        t_top, t_bottom = max(t.bbox[1], y), min(t.bbox[3], bottom)
        if t_top > y:
            lines += _text_lines(page.crop((x0, y, x1, t_top)))
        for row in t.extract():
            cells = [re.sub(r"\s+", " ", c or "").strip() for c in row]
            if any(cells):
                lines.append(_TABLE + " | ".join(cells))
        y = max(y, t_bottom)
    if y < bottom:
        lines += _text_lines(page.crop((x0, y, x1, bottom)) if tables else page)
    return lines


def _running_key(line: str) -> str:
    return re.sub(r"\d+", "#", line.replace(" ", ""))


def drop_running_lines(pages: list[list[str]], edge: int = 3) -> list[list[str]]:
    """Drop page numbers and lines repeated at the top or bottom of many pages.

    Only the lines at a page's edges count, and only as far as they run on from the edge
    (a header block, a footer block): a line inside the text is never dropped.
    """
    n = len(pages)
    counts: dict[str, int] = {}
    for lines in pages:
        for key in {_running_key(ln) for ln in lines[:edge] + lines[-edge:]}:
            counts[key] = counts.get(key, 0) + 1
    least = max(2, int(0.4 * n + 0.5))  # odd and even pages may carry different heads

    def running(ln: str) -> bool:
        if ln.startswith(_TABLE):
            return False
        return (n >= 2 and counts.get(_running_key(ln), 0) >= least) or bool(_PAGE_NUMBER.match(ln))

    out = []
    for lines in pages:
        top = 0
        while top < min(edge, len(lines)) and running(lines[top]):
            top += 1
        bottom = len(lines)
        while bottom > max(top, len(lines) - edge) and running(lines[bottom - 1]):
            bottom -= 1
        out.append(lines[top:bottom])
    return out


def _width(line: str) -> int:
    return len(line) + len(_CJK.findall(line))  # a CJK character is two Latin ones wide


def _separator(prev: str, cur: str, full: float) -> str:
    """What goes between two consecutive lines: nothing, a space, or a paragraph break."""
    if prev.startswith(_TABLE) != cur.startswith(_TABLE):
        return "\n\n"
    if prev.startswith(_TABLE):
        return "\n"
    if _HYPHENATED.search(prev) and cur[:1].islower():
        return "\b"  # a hyphenated word: drop the hyphen and join
    short = _width(prev) < 0.8 * full
    if short or (prev.endswith(_SENTENCE_END) and _width(prev) < 0.95 * full):
        return "\n\n"
    if _CJK.match(prev[-1]) or _CJK.match(cur[0]):
        return ""
    return " "


def assemble(pages: list[list[str]]) -> tuple[str, list[int]]:
    """Join the lines of every page into paragraphs; returns (text, page start offsets)."""
    widths = sorted(_width(ln) for lines in pages for ln in lines if not ln.startswith(_TABLE))
    full = float(widths[int(0.9 * (len(widths) - 1))]) if widths else 1.0
    parts: list[str] = []
    starts: list[int] = []
    size = 0
    prev: str | None = None
    for lines in pages:
        first = True
        for ln in lines:
            if prev is not None:
                sep = _separator(prev, ln, full)
                if sep == "\b":
                    cut = _HYPHENATED.search(parts[-1])
                    keep = cut.start() + 1 if cut else len(parts[-1])
                    size -= len(parts[-1]) - keep
                    parts[-1] = parts[-1][:keep]
                    sep = ""
                parts.append(sep)
                size += len(sep)
            if first:
                starts.append(size)
                first = False
            piece = ln.removeprefix(_TABLE)
            parts.append(piece)
            size += len(piece)
            prev = ln
        if first:  # a page without text starts where the next one does
            starts.append(size)
    return "".join(parts), starts


def read_pdf(data: bytes) -> PdfText:
    """The text of a PDF with the start offset of every page. Raises LoadError."""
    import pdfplumber

    _open_checked(data)
    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # FontBBox warnings on CID fonts
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            meta = {k.lower(): v for k, v in (pdf.metadata or {}).items() if isinstance(v, str)}
            raw = [_page_lines(p) for p in pdf.pages]
    except LoadError:
        raise
    except Exception as e:
        if "password" in type(e).__name__.lower():
            raise LoadError(ENCRYPTED) from e
        raise LoadError(f"not a readable PDF: {type(e).__name__}") from e
    if not any(raw):
        raise LoadError(SCANNED)
    # each page decides its script (a report may quote a Taiwanese source on one page)
    scripts = [_is_traditional("".join(lines)) for lines in raw]
    raw = [
        [fix_codepoints(ln, trad) for ln in lines] for lines, trad in zip(raw, scripts, strict=True)
    ]
    pages = drop_running_lines(raw)
    text, starts = assemble(pages)
    out_meta: dict[str, Any] = {}
    title = str(meta.get("title") or "").strip()
    if title and not re.fullmatch(r"(?i)(untitled|microsoft word.*|.*\.(docx?|pdf))", title):
        out_meta["title"] = fix_codepoints(title)
    if meta.get("author"):
        out_meta["author"] = str(meta["author"]).strip()
    return PdfText(
        text=text,
        pages=starts,
        meta=out_meta,
        empty_pages=[i + 1 for i, lines in enumerate(pages) if not lines],
    )
