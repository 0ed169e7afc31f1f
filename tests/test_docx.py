"""Word files: a .docx made with python-docx (headings, paragraphs, a table) reads back
as its text in order, tables as rows; a damaged .docx is one line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from rag.errors import LoadError
from rag.loaders import load_bytes

HEADING = "燧原科技发布新一代训练芯片"
PARAS = [
    "2025年6月10日，燧原科技在上海发布新一代训练芯片，单卡配备64GB高带宽内存，互联带宽为每秒800GB。",
    "公司表示，新芯片已与多家云服务商完成适配测试，预计年底前实现批量供货。",
]
ROWS = [["指标", "上一代", "新一代"], ["显存", "32GB", "64GB"], ["互联带宽", "400GB/s", "800GB/s"]]


def make_docx(title: str | None = "新闻稿") -> bytes:
    import docx

    d = docx.Document()
    if title:
        d.core_properties.title = title
        d.core_properties.author = "公司公关部"
    d.add_heading(HEADING, level=1)
    d.add_paragraph(PARAS[0])
    table = d.add_table(rows=len(ROWS), cols=len(ROWS[0]))
    for r, row in enumerate(ROWS):
        for c, cell in enumerate(row):
            table.cell(r, c).text = cell
    d.add_paragraph(PARAS[1])
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_docx_paragraphs_headings_and_table_rows_in_order() -> None:
    doc = load_bytes(make_docx(), "release.docx").document
    rows = "\n".join(" | ".join(r) for r in ROWS)
    assert doc.text == f"{HEADING}\n\n{PARAS[0]}\n\n{rows}\n\n{PARAS[1]}"
    assert doc.title == "新闻稿"
    assert doc.date == "2025-06-10"  # from the text, not the file's creation stamp
    assert doc.lang == "zh" and "Enflame" in doc.vendors


def test_docx_without_title_takes_the_heading() -> None:
    assert load_bytes(make_docx(title=None), "r.docx").document.title == HEADING


def test_docx_under_another_name_is_still_read() -> None:
    assert PARAS[1] in load_bytes(make_docx(), "attachment.bin.docx").document.text


@pytest.mark.parametrize(
    "data",
    [b"PK\x03\x04broken", b"PK\x03\x04" + b"\x00" * 100, b"not a zip at all"],
)
def test_damaged_docx_is_one_line(data: bytes) -> None:
    with pytest.raises(LoadError) as err:
        load_bytes(data, "bad.docx")
    assert "not a readable .docx" in str(err.value) and "\n" not in str(err.value)


def test_docx_ingests_and_uploads(fake_qa, tmp_path: Path) -> None:
    (tmp_path / "r.docx").write_bytes(make_docx())
    assert fake_qa.ingest([tmp_path]).added == 1
    report = fake_qa.ingest_bytes("other.docx", make_docx(title="另一份"))
    assert report.added == 1
