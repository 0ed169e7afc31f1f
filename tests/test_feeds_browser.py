"""The web chat's feeds panel in a real browser: add a feed, press "Pull now", see the
report, the feed table and the document list updated (Debian's Chromium via Playwright)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_feeds import feed_site  # noqa: F401  (the fixture: a local feed server)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"


def test_pull_now_in_the_browser(fake_qa, feed_site, tmp_path: Path) -> None:  # noqa: F811
    from playwright.sync_api import sync_playwright

    from rag.web import launch
    from tests.conftest import free_port

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: run scripts/install_browser.sh")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "x.md").write_text("---\ntitle: x\n---\nThe Falcon F3 has 96GB.\n", "utf-8")
    port = free_port()
    app = launch(qa=fake_qa, corpus=corpus, port=port, block=False)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_role("tab", name="Corpus").click()
            page.locator("#rag-feeds").click()
            page.get_by_label("Feed URL").fill(feed_site["url"])
            page.locator("#rag-feed-add").click()
            page.wait_for_selector("#rag-feed-status:has-text('following')", timeout=30_000)
            page.locator("#rag-feed-pull").click()
            page.wait_for_selector(
                "#rag-feed-status:has-text('3 new, 0 already seen, 0 failed')", timeout=120_000
            )
            page.wait_for_selector("#rag-feed-table:has-text('Chip feed')", timeout=30_000)
            page.wait_for_selector(
                "#rag-docs:has-text('Optical interconnect startup')", timeout=30_000
            )
            browser.close()
    finally:
        app.close()
    assert len(fake_qa.documents()) == 4
