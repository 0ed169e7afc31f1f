"""Make real PDFs for the tests: Chromium (driven by Playwright) prints HTML with a CJK font.

Chromium's PDFs carry what PDF text layers carry in the wild: CID fonts, Kangxi-radical
code points for some characters, ligatures, line breaks inside sentences, running headers
and footers. Used by tests/test_pdf.py and scripts/measure_sources.py.
"""

from __future__ import annotations

import base64
import os
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("RAG_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STYLE = (
    "body{font-family:'Noto Sans CJK SC','Noto Sans',sans-serif;font-size:13px;line-height:1.6;"
    "margin:0}p{margin:0 0 10px 0}table{border-collapse:collapse;margin:8px 0}"
    "td,th{border:1px solid #333;padding:3px 8px}.page{break-after:page}"
)
HEADER = (
    '<div style="font-size:9px;width:100%;padding:0 40px;font-family:Noto Sans CJK SC">'
    "芯片行业深度研究 | 示例证券研究所</div>"
)
FOOTER = (
    '<div style="font-size:9px;width:100%;text-align:center;font-family:Noto Sans CJK SC">'
    '第 <span class="pageNumber"></span> 页 / 共 <span class="totalPages"></span> 页</div>'
)


def png(width: int = 400, height: int = 300) -> str:
    """A grey PNG as a data: URI (an image page with no text on it)."""
    row = b"\x00" + b"\x88" * width
    raw = zlib.compress(row * height)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", raw)
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(data).decode()


def html_page(body: str, title: str = "report", lang: str = "zh-CN") -> str:
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )


class Printer:
    """One Chromium, many PDFs."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser

    def pdf(self, html: str, path: Path, *, header_footer: bool = True) -> Path:
        page = self.browser.new_page()
        try:
            page.set_content(html, wait_until="load")
            page.pdf(
                path=str(path),
                format="A4",
                print_background=True,
                display_header_footer=header_footer,
                header_template=HEADER if header_footer else "<span></span>",
                footer_template=FOOTER if header_footer else "<span></span>",
                margin={"top": "60px", "bottom": "60px", "left": "50px", "right": "50px"},
            )
        finally:
            page.close()
        return path


@contextmanager
def printer() -> Iterator[Printer]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"Chromium is not installed at {CHROMIUM}: run scripts/install_browser.sh"
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield Printer(browser)
        finally:
            browser.close()
