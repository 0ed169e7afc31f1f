"""Read article files into cleaned ``Document`` records.

Handles ``.txt``, ``.md`` (optional YAML front matter), ``.html``/``.htm`` saved pages
(declared or undeclared encodings, GBK Discuz pages among them) and folders, recursively.
Metadata may also sit beside a file as ``NAME.meta.yaml``. It does not chunk, embed or
store anything: see ``rag.chunking`` and ``rag.ingest``.
"""

from __future__ import annotations

import codecs
import datetime as dt
import errno
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rag.clean import clean_text, normalize_newlines
from rag.errors import LoadError
from rag.glossary import canonical_vendor, detect_vendors
from rag.types import Document

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES
META_SUFFIX = ".meta.yaml"
_MB = 1024 * 1024  # RAG_MAX_FILE_MB counts in MiB, as the ingest converts it
DEFAULT_MAX_BYTES = 20 * _MB

# frequent characters in real Chinese text, simplified and traditional; a wrong decoding
# of GBK as Big5 (or the reverse) produces rare characters instead
_COMMON = set(
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经"
    "十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严龙飞"
    "個們國來時為這說對會發動過產種後學經進實體機當點業與關開現從數問應長頭資邊總見計別較將組運農區決幹戰則處隊給門變條沒結義導壓誌勢濟階權證轉單風帶場車務萬積議聲報離華確師張馬節話溫傳許廣記須際驗連斷難礦專狀廠識屬圓調滿縣參紅細聽該鐵價嚴龍飛芯片晶"
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)


@dataclass
class LoadedFile:
    """A file read and cleaned, ready to chunk."""

    document: Document
    raw_sha: str


def content_id(data: bytes) -> str:
    """Stable content-derived id: the first 16 hex digits of the SHA-256 of the file's bytes."""
    return hashlib.sha256(data).hexdigest()[:16]


def _common_ratio(text: str) -> float:
    han = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    if not han:
        return 0.0
    return sum(1 for c in han if c in _COMMON) / len(han)


def _looks_like_text(text: str) -> bool:
    """False for what a legacy codec makes of binary data: rare Han characters, symbols."""
    sample = [c for c in text[:20000] if not c.isspace()]
    if not sample:
        return True
    odd = sum(
        1
        for c in sample
        if not (
            " " <= c <= "~"
            or "\u4e00" <= c <= "\u9fff"
            or "\u3000" <= c <= "\u303f"
            or "\uff00" <= c <= "\uffef"
            or "\u2010" <= c <= "\u2027"
            or c in "\u00b7\u00d7\u00b0\u00a9\u00ae"
            or (c.isalpha() and ord(c) < 0x250)
        )
    )
    if odd > 0.05 * len(sample):
        return False
    han = sum(1 for c in sample if "\u4e00" <= c <= "\u9fff")
    return han < 20 or _common_ratio(text[:20000]) >= 0.3


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode file bytes; returns (text, encoding). Raises LoadError for binary data.

    UTF-8 (with or without BOM) first. Otherwise the declared encoding, GB18030 and Big5
    compete on how common their Han characters are; then UTF-8 with a few invalid bytes
    keeps its text (each bad byte becomes U+FFFD); charset-normalizer decides what is
    left. Text that decodes only to symbols and rare characters is binary.
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "utf-16"
    if b"\x00" in data[:8192]:
        raise LoadError("binary data (NUL bytes), not a text file")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates: list[str] = []
    if declared:
        d = declared.lower().replace("_", "-")
        candidates.append("gb18030" if d in ("gb2312", "gbk", "gb18030", "x-gbk") else d)
    candidates += ["gb18030", "big5"]
    best: tuple[float, str, str] | None = None
    for enc in dict.fromkeys(candidates):
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        score = _common_ratio(text) + (0.05 if enc == candidates[0] and declared else 0.0)
        if best is None or score > best[0]:
            best = (score, text, enc)
    if best is not None and best[0] > 0.3 and _looks_like_text(best[1]):
        return best[1], best[2]
    loose = data.decode("utf-8", errors="replace")
    # a few broken bytes in otherwise valid UTF-8 (a truncated download, a bad paste)
    # cost only those bytes; GBK or Big5 read as UTF-8 breaks on almost every character
    n_bad = loose.count("\ufffd")
    if n_bad <= max(8, len(loose) // 100) and _looks_like_text(loose.replace("\ufffd", "")):
        return loose, "utf-8 (invalid bytes replaced)"
    from charset_normalizer import from_bytes

    match = from_bytes(data).best()
    if match is None:
        raise LoadError(
            "not a text file: cannot detect an encoding (tried UTF-8, GBK/GB18030, Big5)"
        )
    text = str(match)
    if best is not None and _common_ratio(text) <= best[0] and _looks_like_text(best[1]):
        return best[1], best[2]
    if not _looks_like_text(text):
        raise LoadError("not a text file: binary data or an unknown encoding")
    return text, match.encoding


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """YAML front matter (``---`` fenced) and the body after it."""
    if not text.startswith("---"):
        return {}, text
    m = re.match(r"^---[ \t]*\n(.*?)\n---[ \t]*(?:\n|$)", text, re.S)
    if not m:
        return {}, text
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as e:
        raise LoadError(f"front matter is not valid YAML: {str(e).splitlines()[0]}") from e
    if not isinstance(meta, dict):
        return {}, text
    return meta, text[m.end() :]


def _markdown_to_text(body: str) -> str:
    """Keep the words of light Markdown: heading marks and emphasis go, text stays."""
    lines = []
    for line in body.split("\n"):
        line = re.sub(r"^\s{0,3}#{1,6}\s+", "", line)
        line = re.sub(r"(\*\*|__)(.+?)\1", r"\2", line)
        line = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", line)
        lines.append(line)
    return "\n".join(lines)


_DATE_PATTERNS = [
    re.compile(r"(20\d\d|19\d\d)\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"),
    re.compile(r"(20\d\d|19\d\d)[-/.](\d{1,2})[-/.](\d{1,2})"),
]
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_EN_DATE = re.compile(
    r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+(\d{1,2}),\s*(20\d\d)"
)


def normalize_date(value: Any) -> str | None:
    """A date from metadata or text as ``YYYY-MM-DD`` (or ``YYYY-MM``/``YYYY``), else None."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    s = str(value).strip()
    for p in _DATE_PATTERNS:
        m = p.search(s)
        if m:
            y, mo, d = (int(x) for x in m.groups())
            try:
                return dt.date(y, mo, d).isoformat()
            except ValueError:
                return None
    m = _EN_DATE.search(s)
    if m:
        try:
            return dt.date(
                int(m.group(3)), _MONTHS[m.group(1).lower()[:3]], int(m.group(2))
            ).isoformat()
        except ValueError:
            return None
    m = re.fullmatch(r"(20\d\d)-(\d\d)", s)
    if m:
        return s
    m = re.fullmatch(r"(20\d\d)", s)
    return s if m else None


def find_date(text: str) -> str | None:
    """The first full date written in the text (Chinese or English style)."""
    return normalize_date(text[:3000])


def detect_lang(text: str) -> str:
    """``zh`` when Han characters make up a fair share of the letters, else ``en``."""
    sample = text[:5000]
    han = sum(1 for c in sample if "\u4e00" <= c <= "\u9fff")
    latin = sum(1 for c in sample if c.isascii() and c.isalpha())
    return "zh" if han and han * 2 >= latin * 0.5 else "en"


def _vendors(meta_value: Any, text: str) -> list[str]:
    if isinstance(meta_value, str):
        meta_value = [v.strip() for v in re.split(r"[,，、]", meta_value) if v.strip()]
    if isinstance(meta_value, list) and meta_value:
        return [canonical_vendor(str(v)) or str(v) for v in meta_value]
    return list(detect_vendors(text[:50000]))  # names come early; a huge page costs no more


def extract_html(raw_html: str) -> tuple[str, dict[str, Any]]:
    """Article text and page metadata from a saved HTML page.

    Jammer elements (``font.jammer``, hidden spans) are removed before extraction; the post
    body is taken from the article container when one exists, else from the block with the
    most paragraph text.
    """
    from selectolax.lexbor import LexborHTMLParser as HTMLParser

    tree = HTMLParser(raw_html)
    meta: dict[str, Any] = {}
    title_node = tree.css_first("title")
    if title_node is not None:
        meta["title"] = title_node.text(strip=True)
    for sel, key in (
        ('meta[property="og:title"]', "title"),
        ('meta[property="article:published_time"]', "date"),
        ('meta[name="date"]', "date"),
        ('meta[name="pubdate"]', "date"),
        ('meta[name="publishdate"]', "date"),
        ('meta[property="og:url"]', "url"),
        ('link[rel="canonical"]', "url"),
    ):
        node = tree.css_first(sel)
        if node is not None:
            value = node.attributes.get("content") or node.attributes.get("href")
            if (value and key not in meta) or (key == "title" and value):
                meta[key] = value
    time_node = tree.css_first("time[datetime]")
    if time_node is not None and "date" not in meta:
        meta["date"] = time_node.attributes.get("datetime")

    for sel in (
        "script",
        "style",
        "noscript",
        "template",
        "iframe",
        "svg",
        "form",
        "font.jammer",
        ".jammer",
        '[style*="display:none"]',
        '[style*="display: none"]',
        "[hidden]",
        "nav",
        "header",
        "footer",
        "aside",
        ".sidebar",
        ".comments",
        ".comment",
        ".related",
        ".nav",
        ".footer",
        ".header",
        ".breadcrumb",
        ".share",
        ".breadcrumbs",
        ".crumb",
        '[class*="share"]',
        ".tags",
        ".cookie-banner",
        ".ad",
        ".ad-slot",
        ".advert",
    ):
        for node in tree.css(sel):
            node.decompose()

    body = None
    # a post container is the post however short; a generic one must hold some text
    for sel, least in (
        ("article", 1),
        (".article-content", 1),
        (".post-content", 1),
        (".entry-content", 1),
        (".t_f", 1),
        ("#article", 1),
        ("#content", 50),
        (".content", 50),
        ("main", 50),
    ):
        cand = tree.css_first(sel)
        if cand is not None and len(cand.text(strip=True)) >= least:
            body = cand
            break
    if body is None:
        body = _densest_block(tree)
    if body is None:
        return "", meta
    h1 = tree.css_first("h1")
    if h1 is not None and "title" not in meta:
        meta["title"] = h1.text(strip=True)
    # block elements and <br> become paragraph breaks; the rest is inline text
    html = body.html or ""
    html = re.sub(r"[ \t\r\n\f]+", " ", html)  # source line breaks are spaces to a browser
    # a forum post is lines ended by <br>: each is a paragraph, as in a cleaned paste
    html = re.sub(r"(?i)<br\s*/?>", "\n\n", html)
    html = re.sub(
        r"(?i)</?(p|div|h[1-6]|li|tr|section|article|blockquote|table|ul|ol)\b[^>]*>", "\n\n", html
    )
    text = HTMLParser(f"<body>{html}</body>").body
    plain = text.text(deep=True, separator="") if text is not None else ""
    # inline whitespace collapses as a browser would; newlines we inserted survive
    lines = [re.sub(r"[ \t\u3000]+", " ", ln).strip() for ln in plain.split("\n")]
    return "\n".join(lines), meta


def _densest_block(tree: Any) -> Any:
    """The block whose paragraphs hold the most text (the page body if none has 50 chars).

    Each paragraph counts towards its nearest few ancestors only, so deeply nested or
    huge pages cost time in proportion to their size.
    """
    totals: dict[int, int] = {}
    nodes: dict[int, Any] = {}
    height: dict[int, int] = {}  # how far above a paragraph: among equal totals, the outermost
    for n, p in enumerate(tree.css("p")):
        if n >= 20000:
            break
        size = len(p.text(strip=True))
        node = p.parent
        for up in range(_BLOCK_DEPTH):
            if node is None or node.tag in ("body", "html", "-document"):
                break
            if node.tag in ("div", "td", "section"):
                key = node.mem_id
                totals[key] = totals.get(key, 0) + size
                nodes[key] = node
                height[key] = max(height.get(key, 0), up)
            node = node.parent
    if not totals or max(totals.values()) < 50:
        return tree.body or tree.root
    key = max(totals, key=lambda k: (totals[k], height[k]))
    return nodes[key]


_BLOCK_DEPTH = 6


def read_sidecar(path: Path) -> dict[str, Any]:
    """Metadata from ``NAME.meta.yaml`` beside ``path``, if present."""
    side = path.with_name(path.name + META_SUFFIX)
    if not side.is_file():
        return {}
    try:
        meta = yaml.safe_load(side.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise LoadError(f"{side.name} is not valid YAML: {str(e).splitlines()[0]}") from e
    return meta if isinstance(meta, dict) else {}


def load_bytes(
    data: bytes, name: str, *, source: str | None = None, meta: dict[str, Any] | None = None
) -> LoadedFile:
    """Turn one file's bytes into a cleaned Document (used for paths and uploads alike)."""
    suffix = Path(name).suffix.lower()
    if suffix == ".pdf" or data[:5] == b"%PDF-":  # a PDF under any name
        raise LoadError("PDF is not supported: save the article as .txt, .md or .html")
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(f"unsupported file type {suffix or '(none)'}: use .txt, .md or .html")
    if not data:
        raise LoadError("empty file")
    if not data.strip():
        raise LoadError("empty file (only whitespace)")
    meta = dict(meta or {})
    if suffix in HTML_SUFFIXES:
        m = _META_CHARSET.search(data[:4096])
        text, _enc = decode_bytes(data, m.group(1).decode() if m else None)
        body, page_meta = extract_html(text)
        for k, v in page_meta.items():
            meta.setdefault(k, v)
        cleaned = clean_text(body)
    else:
        text, _enc = decode_bytes(data)
        fm, body = split_front_matter(normalize_newlines(text))
        for k, v in fm.items():
            meta.setdefault(k, v)
        if suffix in (".md", ".markdown"):
            body = _markdown_to_text(body)
        cleaned = clean_text(body)
    if not cleaned.strip():
        raise LoadError("no article text after cleaning (empty or only markup/noise)")
    title = str(meta.get("title") or "").strip()
    if not title:
        first = cleaned.split("\n", 1)[0].strip()
        title = first if len(first) <= 80 else Path(name).stem
    date = normalize_date(meta.get("date")) or find_date(cleaned)
    lang = str(meta.get("lang") or detect_lang(cleaned))
    url = str(meta["url"]).strip() if meta.get("url") else None
    doc = Document(
        doc_id=content_id(data),
        title=title,
        source=str(meta.get("source") or source or name),
        date=date,
        lang=lang,
        vendors=_vendors(meta.get("vendors"), title + "\n" + cleaned),
        text=cleaned,
        url=url or None,
        path=source or name,
    )
    return LoadedFile(document=doc, raw_sha=doc.doc_id)


def load_file(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> LoadedFile:
    """Read and clean one file. Raises LoadError with the reason."""
    try:
        size = path.stat().st_size
    except OSError as e:
        raise LoadError(f"cannot read: {e.strerror or e}") from e
    if size > max_bytes:
        raise LoadError(
            f"file is {size / _MB:.1f} MB, over the {max_bytes / _MB:g} MB limit (RAG_MAX_FILE_MB)"
        )
    try:
        data = path.read_bytes()
    except OSError as e:
        raise LoadError(f"cannot read: {e.strerror or e}") from e
    return load_bytes(data, path.name, source=str(path), meta=read_sidecar(path))


def _link_problem(path: Path) -> str | None:
    """Why a symlink cannot be followed (a loop, or a missing target), else None."""
    if not path.is_symlink():
        return None
    try:
        path.resolve(strict=True)
    except RuntimeError:  # Python < 3.13 reports a loop this way
        return "cannot read: symlink loop"
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "cannot read: symlink loop"
        return f"cannot read: broken symlink ({e.strerror or e})"
    return None


def iter_files(paths: list[Path]) -> Iterator[tuple[Path, str | None]]:
    """Every candidate file under ``paths``: (path, None) or (path, reason it is skipped).

    Folders are walked recursively without following symlinked folders twice (loops end).
    Hidden files, sidecar metadata and README files inside folders are passed over.
    """
    seen_dirs: set[tuple[int, int]] = set()
    for root in paths:
        if not root.exists():
            yield root, _link_problem(root) or "no such file or folder"
            continue
        if root.is_file():
            yield root, None
            continue
        for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
            st = os.stat(dirpath)
            key = (st.st_dev, st.st_ino)
            if key in seen_dirs:
                dirnames[:] = []
                continue
            seen_dirs.add(key)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for fn in sorted(filenames):
                if (
                    fn.startswith(".")
                    or fn.endswith(META_SUFFIX)
                    or fn.lower() in ("readme.md", "readme.txt")
                ):
                    continue
                p = Path(dirpath) / fn
                if p.suffix.lower() in SUPPORTED_SUFFIXES or p.suffix.lower() == ".pdf":
                    yield p, _link_problem(p)
