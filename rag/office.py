"""Text of a Word (.docx) file: paragraphs, headings and tables as rows, in document order.

python-docx reads the body; each paragraph and heading is a paragraph of the text, each
table row one line (``cell | cell | cell``). Title and author come from the core
properties when set (not the creation stamp: templates carry old ones; the date is found
in the text). It does not read .doc (the old binary format), headers, footers, comments
or tracked changes.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from rag.errors import LoadError


def _rows(table: Any) -> list[str]:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = re.sub(r"\s+", " ", cell.text).strip()
            if not cells or text != cells[-1]:  # a merged cell repeats across its span
                cells.append(text)
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


def read_docx(data: bytes) -> tuple[str, dict[str, Any]]:
    """``(text, meta)`` of a .docx file's body. Raises LoadError when it cannot be read."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        raise LoadError("not a readable .docx file (is it an old .doc or damaged?)") from e
    except Exception as e:  # python-docx raises its own types for a missing main part
        raise LoadError(f"not a readable .docx file ({type(e).__name__})") from e
    blocks: list[str] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = re.sub(r"[ \t\u3000\xa0]+", " ", item.text).strip()
            if text:
                blocks.append(text)
        elif isinstance(item, Table):
            rows = _rows(item)
            if rows:
                blocks.append("\n".join(rows))
    props = document.core_properties
    meta: dict[str, Any] = {}
    if props.title:
        meta["title"] = props.title.strip()
    if props.author:
        meta["author"] = props.author.strip()
    return "\n\n".join(blocks), meta
