"""URLs: a real local HTTP server (pytest-httpserver) serves every page type, a redirect,
a 404, a slow response, a 60 MB body and a wrong content type; re-ingesting an unchanged
URL costs no embedding."""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug import Request, Response

from rag.fetch import FetchError, fetch, is_url

PAGES = Path(__file__).resolve().parent / "fixtures" / "pages"
CHARSETS = {
    "discuz_utf8": "utf-8",
    "discuz_gbk": "gbk",
    "wechat_article": "utf-8",
    "big5_tw_news": "big5",
    "big5_hk_news": "big5-hkscs",
    "gbk_portal_news": "gb2312",
    "en_tech_news": "utf-8",
}


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, squash(a), squash(b), autojunk=False).ratio()


@pytest.fixture
def site(httpserver):
    """Every fixture page at /pages/NAME.html, with its charset in the Content-Type."""
    for name, charset in CHARSETS.items():
        httpserver.expect_request(f"/pages/{name}.html").respond_with_data(
            (PAGES / f"{name}.html").read_bytes(), content_type=f"text/html; charset={charset}"
        )
    return httpserver


def test_is_url() -> None:
    assert is_url("https://a.example/x") and is_url("HTTP://a.example")
    assert not is_url("corpus/web") and not is_url("ftp://a.example/x")


@pytest.mark.parametrize("name", sorted(CHARSETS))
def test_every_page_type_by_url_gives_the_article_text(fake_qa, site, name: str) -> None:
    url = site.url_for(f"/pages/{name}.html")
    report = fake_qa.ingest([url])
    assert report.failed == 0, report.failures
    assert report.files[0].path == url and report.files[0].status == "added"
    doc = fake_qa.documents()[0]
    assert doc.source == url  # the URL is the source
    assert doc.url == url
    truth = (PAGES / f"{name}.txt").read_text(encoding="utf-8")
    assert ratio(truth, doc.text) >= 0.995


def test_redirect_is_followed_and_the_requested_url_is_the_source(fake_qa, httpserver) -> None:
    body = (PAGES / "en_tech_news.html").read_bytes()
    httpserver.expect_request("/old").respond_with_data(
        "", status=301, headers={"Location": httpserver.url_for("/new")}
    )
    httpserver.expect_request("/new").respond_with_data(body, content_type="text/html")
    report = fake_qa.ingest([httpserver.url_for("/old")])
    assert report.added == 1, report.failures
    doc = fake_qa.documents()[0]
    assert doc.source == httpserver.url_for("/old")
    assert doc.url == httpserver.url_for("/new")
    assert "co-packaged optics" in doc.text


def test_a_redirect_loop_is_one_line(httpserver) -> None:
    httpserver.expect_request("/loop").respond_with_data(
        "", status=302, headers={"Location": "/loop"}
    )
    with pytest.raises(FetchError, match="more than 5 redirects"):
        fetch(httpserver.url_for("/loop"))


def test_404_wrong_type_slow_and_huge_fail_in_one_line_and_the_batch_goes_on(fake_qa, site) -> None:
    def slow(_req: Request) -> Response:
        time.sleep(3)
        return Response("<html><body><p>late</p></body></html>", content_type="text/html")

    def huge(_req: Request) -> Response:
        def body() -> Iterator[bytes]:
            chunk = b"<p>" + b"x" * (1024 * 1024 - 7) + b"</p>\n"
            for _ in range(60):  # 60 MB, streamed without a Content-Length
                yield chunk

        return Response(body(), content_type="text/html")

    site.expect_request("/missing").respond_with_data("nope", status=404)
    site.expect_request("/logo.png").respond_with_data(b"\x89PNG....", content_type="image/png")
    site.expect_request("/slow").respond_with_handler(slow)
    site.expect_request("/huge").respond_with_handler(huge)
    site.expect_request("/declared-huge").respond_with_handler(
        lambda _req: Response(
            iter([b"x"]), content_type="text/html", headers={"Content-Length": str(60 * 2**20)}
        )
    )
    good = site.url_for("/pages/en_tech_news.html")
    urls = [site.url_for(p) for p in ("/missing", "/logo.png", "/huge")] + [good]
    t = time.perf_counter()
    report = fake_qa.ingest(urls)
    by = {f.path: f for f in report.files}
    assert by[good].status == "added"
    assert by[urls[0]].message == "HTTP 404 NOT FOUND"
    assert by[urls[1]].message.startswith("wrong content type image/png: expected")
    assert by[urls[2]].message == "body is over the 20 MB limit"
    for f in report.failures:
        assert "\n" not in f.message
    assert time.perf_counter() - t < 20
    with pytest.raises(FetchError, match=r"^timed out after 1s$"):
        fetch(site.url_for("/slow"), timeout=1.0)
    with pytest.raises(FetchError, match=r"^body is 60.0 MB, over the 20 MB limit$"):
        fetch(site.url_for("/declared-huge"))
    assert len(fake_qa.documents()) == 1


def test_unreachable_host_is_one_line() -> None:
    with pytest.raises(FetchError, match="cannot fetch"):
        fetch("http://127.0.0.1:9/nothing", timeout=2)


def test_unchanged_url_is_free_by_etag_and_by_text(fake_qa, httpserver) -> None:
    body = (PAGES / "wechat_article.html").read_bytes()
    hits = {"etag": 0, "304": 0}

    def with_etag(req: Request) -> Response:
        hits["etag"] += 1
        if req.headers.get("If-None-Match") == '"v1"':
            hits["304"] += 1
            return Response(status=304)
        return Response(body, content_type="text/html; charset=utf-8", headers={"ETag": '"v1"'})

    counter = {"n": 0}

    def changing_chrome(_req: Request) -> Response:
        # a page whose template changes (a view counter) while the article does not
        counter["n"] += 1
        page = body.replace(b"1.2\xe4\xb8\x87", str(counter["n"]).encode())
        return Response(page, content_type="text/html; charset=utf-8")

    httpserver.expect_request("/etag").respond_with_handler(with_etag)
    httpserver.expect_request("/plain").respond_with_handler(changing_chrome)
    urls = [httpserver.url_for("/etag"), httpserver.url_for("/plain")]
    first = fake_qa.ingest(urls)
    assert first.added == 1 and first.count("duplicate") == 1  # one story, two URLs
    second = fake_qa.ingest(urls)
    assert [f.status for f in second.files] == ["unchanged", "unchanged"]
    assert second.files[0].message == "not modified (HTTP 304)"
    assert second.files[1].message == "same text as stored"
    assert hits["304"] == 1
    assert second.stage_seconds["embed"] == 0.0
    doc = fake_qa.documents()[0]
    assert [a["source"] for a in doc.also] == [urls[1]]


def test_ingest_cli_takes_a_url(tmp_path: Path, site, capsys, monkeypatch) -> None:
    from rag.cli import main

    monkeypatch.setenv("RAG_EMBEDDINGS", "fake")
    url = site.url_for("/pages/big5_tw_news.html")
    assert main(["--data-dir", str(tmp_path / "s"), "ingest", "--quiet", url]) == 0
    assert "1 added" in capsys.readouterr().out
    assert main(["--data-dir", str(tmp_path / "s"), "ingest", "--quiet", url]) == 0
    assert "1 unchanged" in capsys.readouterr().out
