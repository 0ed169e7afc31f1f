"""Fetch articles by URL (httpx) and ingest them; re-ingesting an unchanged URL is free.

A fetch sends a User-Agent, follows a few redirects, gives up after a timeout (the whole
download, not just each read), refuses bodies over the size limit while they stream and
refuses content types that are not an article (HTML, PDF, .docx, text). What it learned
(ETag, Last-Modified, a hash of the cleaned text) is kept per URL in the data directory,
so the next ingest sends a conditional request and a 304, or the same text, costs no
embedding. The URL is the document's ``source``; HTML goes through ``rag.htmltext``, PDF
through ``rag.pdf``. It does not crawl links or run JavaScript.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from rag.errors import LoadError
from rag.types import FileOutcome

if TYPE_CHECKING:
    from rag.ingest import Ingestor

USER_AGENT = "chipnews-rag/0.1 (news question answering; +https://pypi.org/project/chipnews-rag/)"
DEFAULT_TIMEOUT = 20.0
MAX_REDIRECTS = 5
CACHE_FILE = "fetch_cache.json"
# what an article can arrive as, and how the loader should read it
ARTICLE_TYPES = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/pdf": ".pdf",
    "application/x-pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "text/plain": ".txt",
    "text/markdown": ".md",
}
FEED_TYPES = {
    "application/rss+xml": ".xml",
    "application/atom+xml": ".xml",
    "application/xml": ".xml",
    "text/xml": ".xml",
    "application/feed+json": ".json",
}


class FetchError(LoadError):
    """A URL could not be fetched as an article (one line: what happened)."""


@dataclass
class Fetched:
    """One HTTP response: the body, or ``not_modified`` for a 304."""

    url: str
    final_url: str
    status: int
    data: bytes = b""
    content_type: str = ""
    suffix: str = ""
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def is_url(value: str) -> bool:
    """True for an ``http://`` or ``https://`` address."""
    return value.lower().startswith(("http://", "https://"))


def _suffix(content_type: str, url: str, accept: dict[str, str]) -> str:
    mime = content_type.split(";")[0].strip().lower()
    if mime in accept:
        return accept[mime]
    if mime in ("application/octet-stream", "binary/octet-stream", ""):
        ext = Path(urlparse(url).path).suffix.lower()
        if ext in set(accept.values()) | {".htm", ".pdf", ".docx"}:
            return ext
    kinds = sorted({v.lstrip(".") for v in accept.values()})
    raise FetchError(f"wrong content type {mime or '(none)'}: expected {', '.join(kinds)}")


def _read_body(resp: Any, max_bytes: int, deadline: float, timeout: float) -> bytes:
    length = resp.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise FetchError(
            f"body is {int(length) / 2**20:.1f} MB, over the {max_bytes / 2**20:g} MB limit"
        )
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"body is over the {max_bytes / 2**20:g} MB limit")
        if time.monotonic() > deadline:
            raise FetchError(f"timed out after {timeout:g}s")
        chunks.append(chunk)
    return b"".join(chunks)


def fetch(
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = 20 * 2**20,
    etag: str | None = None,
    last_modified: str | None = None,
    accept: dict[str, str] | None = None,
) -> Fetched:
    """GET ``url`` within ``timeout`` seconds and ``max_bytes``. Raises FetchError.

    Args:
        url: an http(s) address.
        timeout: seconds for the whole request, download included.
        max_bytes: the largest body accepted.
        etag / last_modified: validators from an earlier fetch (a 304 comes back empty).
        accept: content types accepted, mapped to the suffix the loader reads them as.
    """
    import httpx

    accept = ARTICLE_TYPES if accept is None else accept
    headers = {"User-Agent": USER_AGENT, "Accept": ", ".join(accept) + ", */*;q=0.1"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = time.monotonic() + timeout
    try:
        with (
            httpx.Client(
                follow_redirects=True, max_redirects=MAX_REDIRECTS, timeout=timeout
            ) as client,
            client.stream("GET", url, headers=headers) as resp,
        ):
            final = str(resp.url)
            if resp.status_code == 304:
                return Fetched(url, final, 304, etag=etag, last_modified=last_modified)
            if resp.status_code >= 400:
                raise FetchError(f"HTTP {resp.status_code} {resp.reason_phrase}".strip())
            ctype = resp.headers.get("content-type", "")
            suffix = _suffix(ctype, final, accept)
            data = _read_body(resp, max_bytes, deadline, timeout)
            return Fetched(
                url,
                final,
                resp.status_code,
                data,
                ctype,
                suffix,
                resp.headers.get("etag"),
                resp.headers.get("last-modified"),
            )
    except FetchError:
        raise
    except httpx.TimeoutException as e:
        raise FetchError(f"timed out after {timeout:g}s") from e
    except httpx.TooManyRedirects as e:
        raise FetchError(f"more than {MAX_REDIRECTS} redirects") from e
    except httpx.InvalidURL as e:
        raise FetchError(f"not a valid URL: {e}") from e
    except httpx.HTTPError as e:
        raise FetchError(f"cannot fetch ({type(e).__name__}: {e})") from e


class FetchCache:
    """Per-URL validators and text hashes, kept as JSON in the data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / CACHE_FILE
        try:
            self.entries: dict[str, dict[str, Any]] = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            self.entries = {}

    def get(self, url: str) -> dict[str, Any]:
        return dict(self.entries.get(url) or {})

    def put(self, url: str, **entry: Any) -> None:
        self.entries[url] = {k: v for k, v in entry.items() if v is not None}

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.entries, ensure_ascii=False, indent=1), "utf-8")
        tmp.replace(self.path)


def _name(url: str, suffix: str) -> str:
    stem = Path(urlparse(url).path).stem or urlparse(url).netloc or "page"
    return f"{stem}{suffix}"


def text_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def ingest_url(
    ingestor: Ingestor,
    url: str,
    cache: FetchCache,
    by_path: dict[str, str],
    by_doc: dict[str, list[str]],
    stages: dict[str, float],
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> FileOutcome:
    """Fetch one URL and store it (or find it unchanged); never raises LoadError."""
    from rag.loaders import load_bytes

    stored = by_path.get(url)
    entry = cache.get(url) if stored else {}
    max_bytes = int(ingestor.settings.max_file_mb * 2**20)
    t = time.perf_counter()
    try:
        got = fetch(
            url,
            timeout=timeout,
            max_bytes=max_bytes,
            etag=entry.get("etag"),
            last_modified=entry.get("last_modified"),
        )
        if got.not_modified and stored:
            return FileOutcome(url, "unchanged", stored, message="not modified (HTTP 304)")
        loaded = load_bytes(
            got.data, _name(got.final_url, got.suffix), source=url, meta={"url": got.final_url}
        )
    except LoadError as e:
        return FileOutcome(url, "failed", message=str(e))
    except Exception as e:  # a loader bug must not end the batch
        return FileOutcome(url, "failed", message=f"{type(e).__name__}: {e}")
    finally:
        stages["fetch"] = stages.get("fetch", 0.0) + time.perf_counter() - t
    sha = text_sha(loaded.document.text)
    if stored and entry.get("text_sha") == sha:
        outcome = FileOutcome(url, "unchanged", stored, message="same text as stored")
    else:
        outcome = ingestor.store_loaded(loaded, url, by_path, by_doc, stages)
    if outcome.status != "failed":  # remember only what the store holds
        cache.put(
            url,
            etag=got.etag,
            last_modified=got.last_modified,
            text_sha=sha,
            fetched_at=time.time(),
        )
    return outcome


def ingest_urls(
    ingestor: Ingestor,
    urls: list[str],
    by_path: dict[str, str],
    by_doc: dict[str, list[str]],
    stages: dict[str, float],
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[FileOutcome]:
    """Fetch and store each URL in turn; one failure is reported and the rest go on."""
    cache = FetchCache(ingestor.settings.data_dir)
    outcomes = []
    try:
        for url in urls:
            outcomes.append(
                ingest_url(ingestor, url, cache, by_path, by_doc, stages, timeout=timeout)
            )
    finally:
        cache.save()
    return outcomes
