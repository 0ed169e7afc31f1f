"""Read article files into cleaned ``Document`` records.

Handles ``.txt``, ``.md`` (optional YAML front matter), ``.html``/``.htm`` saved pages
(declared or undeclared encodings, GBK Discuz pages among them; the article is found by
``rag.htmltext``), ``.pdf`` (``rag.pdf``), ``.docx`` (``rag.office``) and folders,
recursively. Metadata may also sit beside a file as ``NAME.meta.yaml``. It does not chunk,
embed, fetch or store anything: see ``rag.chunking``, ``rag.fetch`` and ``rag.ingest``.
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
from rag.datafiles import parse_yaml
from rag.errors import LoadError
from rag.glossary import canonical_vendor, detect_vendors
from rag.htmltext import extract_html
from rag.lang import HAN_CHAR, detect_lang
from rag.types import Document

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
PDF_SUFFIXES = {".pdf"}
DOCX_SUFFIXES = {".docx"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | DOCX_SUFFIXES
META_SUFFIX = ".meta.yaml"
_MB = 1024 * 1024  # RAG_MAX_FILE_MB counts in MiB, as the ingest converts it
DEFAULT_MAX_BYTES = 20 * _MB

# the encodings a Chinese or English page arrives in; narrowing charset-normalizer to them
# makes it right on short texts, where an open search picks Korean or Cyrillic code pages
CANDIDATE_ENCODINGS = ["gb18030", "big5", "cp950", "big5hkscs", "utf_8", "cp1252"]
_SINGLE_BYTE = re.compile(r"^(iso-?8859|latin|l\d|windows-125|cp125|ascii|us-ascii|koi8)")
_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "big5": "cp950"}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)


@dataclass
class LoadedFile:
    """A file read and cleaned, ready to chunk."""

    document: Document
    raw_sha: str


def content_id(data: bytes) -> str:
    """Stable content-derived id: the first 16 hex digits of the SHA-256 of the file's bytes."""
    return hashlib.sha256(data).hexdigest()[:16]


def _looks_like_text(text: str) -> bool:
    """False for what a legacy codec makes of binary data: mostly symbols and controls."""
    sample = [c for c in text[:20000] if not c.isspace()]
    if not sample:
        return True
    odd = sum(
        1
        for c in sample
        if not (
            " " <= c <= "~"
            or HAN_CHAR.match(c)
            or "\u3000" <= c <= "\u303f"
            or "\uff00" <= c <= "\uffef"
            or "\u2010" <= c <= "\u2027"
            or c in "\u00b7\u00d7\u00b0\u00a9\u00ae"
            or (c.isalpha() and ord(c) < 0x250)
        )
    )
    return odd <= 0.05 * len(sample)


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode file bytes; returns (text, encoding). Raises LoadError for binary data.

    UTF-8 (with or without BOM) first, then the declared encoding when the bytes are valid
    in it; UTF-8 with a few invalid bytes keeps its text (each bad byte becomes U+FFFD);
    otherwise charset-normalizer chooses among GB18030, Big5/CP950, Big5-HKSCS, UTF-8 and
    CP1252. Text that decodes only to symbols and controls is binary.
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
    candidates = list(CANDIDATE_ENCODINGS)
    if declared:
        enc = declared.lower().replace("_", "-")
        enc = _ALIASES.get(enc, enc)
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            pass
        else:
            # a multi-byte declaration that decodes cleanly is right; a single-byte one
            # decodes anything (GBK pages declared latin-1 exist), so it only competes
            if _looks_like_text(text) and not _SINGLE_BYTE.match(enc):
                return text, enc
            candidates.insert(0, enc)
    loose = data.decode("utf-8", errors="replace")
    # a few broken bytes in otherwise valid UTF-8 (a truncated download, a bad paste)
    # cost only those bytes; GBK or Big5 read as UTF-8 breaks on almost every character
    n_bad = loose.count("\ufffd")
    few = n_bad <= max(8, len(loose) // 100) and len(candidates) == len(CANDIDATE_ENCODINGS)
    if few and _looks_like_text(loose.replace("\ufffd", "")):
        return loose, "utf-8 (invalid bytes replaced)"
    from charset_normalizer import from_bytes

    match = from_bytes(data, cp_isolation=list(dict.fromkeys(candidates))).best()
    if match is None:
        raise LoadError(
            "not a text file: cannot detect an encoding (tried UTF-8, GBK/GB18030, Big5)"
        )
    text = str(match)
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
        meta = parse_yaml(m.group(1)) or {}
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


def _vendors(meta_value: Any, text: str) -> list[str]:
    if isinstance(meta_value, str):
        meta_value = [v.strip() for v in re.split(r"[,，、]", meta_value) if v.strip()]
    if isinstance(meta_value, list) and meta_value:
        return [canonical_vendor(str(v)) or str(v) for v in meta_value]
    return list(detect_vendors(text[:50000]))  # names come early; a huge page costs no more


def read_sidecar(path: Path) -> dict[str, Any]:
    """Metadata from ``NAME.meta.yaml`` beside ``path``, if present."""
    side = path.with_name(path.name + META_SUFFIX)
    if not side.is_file():
        return {}
    try:
        meta = parse_yaml(side.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise LoadError(f"{side.name} is not valid YAML: {str(e).splitlines()[0]}") from e
    return meta if isinstance(meta, dict) else {}


def _body(data: bytes, suffix: str, meta: dict[str, Any], url: str | None) -> tuple[str, list[int]]:
    """Cleaned article text of one file (and page starts for a PDF); fills ``meta``."""
    if suffix in PDF_SUFFIXES:
        from rag.pdf import read_pdf

        pdf = read_pdf(data)
        for k, v in pdf.meta.items():
            meta.setdefault(k, v)
        # the PDF text is assembled already; cleaning could shift the page offsets
        return pdf.text, pdf.pages
    if suffix in DOCX_SUFFIXES:
        from rag.office import read_docx

        text, doc_meta = read_docx(data)
        for k, v in doc_meta.items():
            meta.setdefault(k, v)
        return clean_text(text), []
    if suffix in HTML_SUFFIXES:
        m = _META_CHARSET.search(data[:4096])
        text, _enc = decode_bytes(data, m.group(1).decode() if m else None)
        body, page_meta = extract_html(text, url)
        for k, v in page_meta.items():
            meta.setdefault(k, v)
        return clean_text(body), []
    text, _enc = decode_bytes(data)
    fm, body = split_front_matter(normalize_newlines(text))
    for k, v in fm.items():
        meta.setdefault(k, v)
    if suffix in (".md", ".markdown"):
        body = _markdown_to_text(body)
    return clean_text(body), []


def sniff_suffix(data: bytes, name: str) -> str:
    """The suffix that says how to read ``data``: magic bytes win over a misleading name."""
    suffix = Path(name).suffix.lower()
    if data[:5] == b"%PDF-":
        return ".pdf"
    if data[:4] == b"PK\x03\x04" and b"word/" in data[:65536] and suffix not in DOCX_SUFFIXES:
        return ".docx"
    return suffix


def load_bytes(
    data: bytes, name: str, *, source: str | None = None, meta: dict[str, Any] | None = None
) -> LoadedFile:
    """Turn one file's bytes into a cleaned Document (used for paths, uploads and URLs)."""
    suffix = sniff_suffix(data, name)
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(
            f"unsupported file type {suffix or '(none)'}: use .txt, .md, .html, .pdf or .docx"
        )
    if not data:
        raise LoadError("empty file")
    if not data.strip():
        raise LoadError("empty file (only whitespace)")
    meta = dict(meta or {})
    cleaned, pages = _body(data, suffix, meta, str(meta["url"]) if meta.get("url") else None)
    if not cleaned.strip():
        raise LoadError("no article text after cleaning (empty or only markup/noise)")
    title = str(meta.get("title") or "").strip()
    if not title:
        first = cleaned.split("\n", 1)[0].strip()
        title = first if len(first) <= 80 else Path(name).stem
    date = normalize_date(meta.get("date")) or find_date(cleaned)
    lang = str(meta.get("lang") or detect_lang(cleaned[:5000]) or "en")
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
        pages=pages,
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
                if p.suffix.lower() in SUPPORTED_SUFFIXES:
                    yield p, _link_problem(p)
