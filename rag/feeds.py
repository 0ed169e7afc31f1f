"""RSS/Atom feeds: follow them, pull their new items into the store, skip what was seen.

The feed list lives in the data directory (``feeds.json``): each feed's URL, title, HTTP
validators and the ids of the items already ingested. A pull fetches every feed
(conditionally: an unchanged feed answers 304 and costs nothing), parses it with
feedparser, and ingests each new item's link through ``rag.fetch`` (an item without a
link is ingested from the HTML content the feed carries). A failing feed or item is one
line in the report and the rest go on; an item that failed is tried again next pull.
The store is opened only when there is something new, so a pull with nothing new takes
well under a second. It does not discover feeds from a site's pages.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import ConfigError, LoadError, NotFoundError
from rag.fetch import DEFAULT_TIMEOUT, FEED_TYPES, fetch, is_url

if TYPE_CHECKING:
    from rag.qa import QA

FEEDS_FILE = "feeds.json"
MAX_SEEN = 5000  # item ids remembered per feed (a feed shows its latest few dozen)
_FEED_ACCEPT = {**FEED_TYPES, "text/plain": ".xml", "text/html": ".xml"}


@dataclass
class Feed:
    """One followed feed."""

    url: str
    title: str = ""
    added_at: float = 0.0
    last_pulled: float | None = None
    etag: str | None = None
    modified: str | None = None
    seen: list[str] = field(default_factory=list)
    last_error: str | None = None
    items: int = 0  # items ingested from it so far


@dataclass
class PullReport:
    """What one pull did: a line per problem or new item, and the counts."""

    lines: list[str] = field(default_factory=list)
    new: int = 0
    seen: int = 0
    failed: int = 0
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"{self.new} new, {self.seen} already seen, {self.failed} failed in {self.seconds:.1f}s"
        )


class FeedList:
    """The followed feeds, kept as JSON in the data directory."""

    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / FEEDS_FILE
        try:
            raw = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            raw = {}
        except (OSError, ValueError) as e:
            raise ConfigError(f"{self.path} is not readable JSON ({e}): fix or delete it") from e
        names = set(Feed.__dataclass_fields__)
        self.feeds = [
            Feed(**{k: v for k, v in f.items() if k in names}) for f in raw.get("feeds", [])
        ]

    def __iter__(self) -> Iterator[Feed]:
        return iter(self.feeds)

    def get(self, url: str) -> Feed | None:
        return next((f for f in self.feeds if f.url == url), None)

    def add(self, url: str, title: str = "") -> Feed:
        """Follow a feed (again: no change). Raises ConfigError for something not a URL."""
        url = url.strip()
        if not is_url(url):
            raise ConfigError(f"not a feed URL: {url!r} (it must start with http:// or https://)")
        feed = self.get(url)
        if feed is None:
            feed = Feed(url=url, title=title, added_at=time.time())
            self.feeds.append(feed)
            self.save()
        return feed

    def remove(self, url: str) -> None:
        """Stop following a feed (its stored articles stay). Raises NotFoundError."""
        feed = self.get(url.strip())
        if feed is None:
            raise NotFoundError(f"no feed {url!r}: 'rag feed list' shows the followed feeds")
        self.feeds.remove(feed)
        self.save()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        data = {"feeds": [asdict(f) for f in self.feeds]}
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), "utf-8")
        tmp.replace(self.path)


def parse_every(value: str) -> float:
    """``30m`` / ``2h`` / ``90s`` / ``1d`` as seconds. Raises ConfigError."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", value or "")
    if not m or float(m.group(1)) <= 0:
        raise ConfigError(f"not an interval: {value!r} (write 30m, 2h, 90s or 1d)")
    return float(m.group(1)) * {"": 60, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


@dataclass
class _Item:
    feed: Feed
    key: str
    link: str | None
    title: str
    html: str


def _item_key(entry: Any) -> str:
    key = entry.get("id") or entry.get("link")
    if key:
        return str(key)
    blob = f"{entry.get('title', '')}\n{entry.get('summary', '')}"
    return "sha:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def _entry_html(entry: Any) -> str:
    content = entry.get("content") or []
    body = content[0].get("value", "") if content else entry.get("summary", "")
    title = entry.get("title", "")
    return f"<html><head><title>{title}</title></head><body><article>{body}</article></body></html>"


def new_items(feed: Feed, report: PullReport, timeout: float) -> list[_Item]:
    """Fetch one feed and return its items not seen before; problems go to ``report``."""
    import feedparser

    try:
        got = fetch(
            feed.url,
            timeout=timeout,
            etag=feed.etag,
            last_modified=feed.modified,
            accept=_FEED_ACCEPT,
            max_bytes=10 * 2**20,
        )
    except LoadError as e:
        feed.last_error = str(e)
        report.failed += 1
        report.lines.append(f"feed {feed.url}: {e}")
        return []
    feed.last_pulled = time.time()
    if got.not_modified:
        feed.last_error = None
        return []
    parsed = feedparser.parse(got.data)
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        feed.last_error = "not an RSS or Atom feed"
        report.failed += 1
        report.lines.append(f"feed {feed.url}: not an RSS or Atom feed")
        return []
    feed.etag, feed.modified, feed.last_error = got.etag, got.last_modified, None
    feed.title = str(parsed.feed.get("title") or feed.title)
    seen = set(feed.seen)
    items = []
    for entry in parsed.entries:
        key = _item_key(entry)
        if key in seen:
            report.seen += 1
            continue
        link = entry.get("link")
        items.append(
            _Item(
                feed,
                key,
                str(link) if link and is_url(str(link)) else None,
                str(entry.get("title") or ""),
                _entry_html(entry),
            )
        )
    return items


def _mark_seen(feed: Feed, key: str) -> None:
    feed.seen.append(key)
    feed.items += 1
    if len(feed.seen) > MAX_SEEN:
        del feed.seen[: len(feed.seen) - MAX_SEEN]


def pull(
    feeds: FeedList,
    open_qa: Callable[[], QA],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Callable[[int, int, str], None] | None = None,
) -> PullReport:
    """Pull every feed: ingest new items, skip seen ones; returns the report.

    Args:
        feeds: the followed feeds (updated and saved).
        open_qa: opens the store; called only when there is a new item.
        timeout: seconds per HTTP request.
        progress: called as ``progress(done, total, what)`` while items are ingested.
    """
    t0 = time.perf_counter()
    report = PullReport()
    items: list[_Item] = []
    for feed in feeds:
        items += new_items(feed, report, timeout)
    if items:
        qa = open_qa()
        for n, item in enumerate(items):
            if progress is not None:
                progress(n, len(items), item.link or item.title)
            ing = (
                qa.ingest([item.link])
                if item.link
                else qa.ingest_bytes(f"{item.title[:60] or 'item'}.html", item.html.encode("utf-8"))
            )
            for stage, secs in ing.stage_seconds.items():
                report.stage_seconds[stage] = report.stage_seconds.get(stage, 0.0) + secs
            outcome = ing.files[0] if ing.files else None
            if outcome is None or outcome.status == "failed":
                report.failed += 1
                why = outcome.message if outcome else "nothing ingested"
                report.lines.append(f"item {item.link or item.title}: {why}")
                continue
            _mark_seen(item.feed, item.key)
            report.new += 1
            report.lines.append(f"{outcome.status}: {item.title or item.link}")
        if progress is not None:
            progress(len(items), len(items), "done")
    feeds.save()
    report.seconds = time.perf_counter() - t0
    return report


def feeds_table(data_dir: Path | str) -> list[list[Any]]:
    """Rows for the web chat's feed table: URL, title, items ingested, last pull, error."""
    rows = []
    for f in FeedList(data_dir):
        when = (
            time.strftime("%Y-%m-%d %H:%M", time.localtime(f.last_pulled)) if f.last_pulled else ""
        )
        rows.append([f.url, f.title, f.items, when, f.last_error or ""])
    return rows


def pull_status(qa: QA) -> Iterator[str]:
    """Pull every feed for the web chat: yields status HTML as items are ingested."""
    from html import escape

    feeds = FeedList(qa.settings.data_dir)
    if not feeds.feeds:
        yield '<div class="rag-status">No feeds yet: add a feed URL first.</div>'
        return
    yield f'<div class="rag-status">pulling {len(feeds.feeds)} feed(s) …</div>'
    import queue
    import threading

    events: queue.Queue[Any] = queue.Queue()

    def run() -> None:
        try:
            events.put(pull(feeds, lambda: qa, progress=lambda n, t, w: events.put((n, t, w))))
        except Exception as e:  # shown as one line, never a traceback
            events.put(e)

    threading.Thread(target=run, name="feed-pull", daemon=True).start()
    while True:
        got = events.get()
        if isinstance(got, tuple):
            n, total, what = got
            yield f'<div class="rag-status">ingesting {n + 1}/{total}: {escape(str(what))} …</div>'
            continue
        if isinstance(got, Exception):
            yield f'<div class="rag-status"><span class="rag-fail">{escape(str(got))}</span></div>'
            return
        lines = [
            f'<span class="{"rag-fail" if ln.startswith(("feed ", "item ")) else "rag-ok"}">'
            f"{escape(ln)}</span>"
            for ln in got.lines
        ]
        yield '<div class="rag-status">' + "<br>".join([*lines, escape(got.summary())]) + "</div>"
        return


def feeds_panel(qa: QA) -> Any:
    """The feeds section of the web chat's corpus tab; call inside a ``gr.Blocks``.

    Lists the feeds, adds and removes one, and pulls them all with progress. Returns the
    "Pull now" event, so the caller can refresh its document list after it.
    """
    import gradio as gr

    data_dir = qa.settings.data_dir
    headers = ["Feed", "Title", "Items", "Last pull", "Last error"]
    with gr.Accordion("Feeds (RSS/Atom)", open=False, elem_id="rag-feeds"):
        table = gr.Dataframe(
            value=feeds_table(data_dir),
            headers=headers,
            interactive=False,
            wrap=True,
            type="array",
            elem_id="rag-feed-table",
        )
        with gr.Row():
            url = gr.Textbox(label="Feed URL", placeholder="https://…/feed.xml", scale=3)
            add = gr.Button("Add feed", elem_id="rag-feed-add", scale=1)
            remove = gr.Button("Remove feed", elem_id="rag-feed-remove", scale=1)
            pull_btn = gr.Button("Pull now", variant="primary", elem_id="rag-feed-pull", scale=1)
        status = gr.HTML("", elem_id="rag-feed-status")

    def change(u: str, adding: bool) -> tuple[Any, str]:
        from html import escape

        from rag.errors import RagError

        try:
            feeds = FeedList(data_dir)
            if adding:
                feeds.add(u)
                msg = f"following {u.strip()}"
            else:
                feeds.remove(u)
                msg = f"no longer following {u.strip()} (its articles stay)"
        except RagError as e:
            return feeds_table(data_dir), f'<span class="rag-fail">{escape(str(e))}</span>'
        return feeds_table(data_dir), f'<span class="rag-ok">{escape(msg)}</span>'

    private: dict[str, Any] = {"api_visibility": "private"}  # programs use rag.web_api
    add.click(lambda u: change(u, True), url, [table, status], **private)
    remove.click(lambda u: change(u, False), url, [table, status], **private)
    return pull_btn.click(lambda: (yield from pull_status(qa)), None, status, **private).then(
        lambda: feeds_table(data_dir), None, table, **private
    )
