"""PDF reports: real PDFs printed by Chromium with a CJK font (two pages, running header and
footer, a table, an image-only page, a scanned-only file, encrypted files); the extracted
text is checked against the known text, page by page."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from rag.errors import LoadError
from rag.loaders import load_bytes
from rag.pdf import ENCRYPTED, SCANNED, fix_codepoints, read_pdf
from tests.pdfmaker import html_page, png, printer

pytestmark = pytest.mark.slow

ZH_P1 = [
    "本报告讨论国产AI加速芯片的最新进展。某厂商发布的新一代推理芯片采用自研架构，显存容量为96GB，片间互联带宽达到700GB/s，工艺和存储子系统均由公司自主设计，主要面向大模型推理和训练场景，目前已经在多个数据中心部署使用。",
    "从产业链角度看，高带宽内存、先进封装和高速互联是决定芯片实际性能的三个关键环节。长期来看，门槛最高的是软件生态，开发者需要完善的编译器、算子库和调试工具，才能把模型高效地迁移到新平台上。",
]
ZH_TABLE = [
    ["型号", "显存", "带宽"],
    ["推理卡甲", "96GB", "700GB/s"],
    ["推理卡乙", "64GB", "1.6TB/s"],
]
ZH_P2 = [
    "第二页讨论风险因素。先进制程产能受限可能影响交付节奏，客户验证周期较长也会推迟收入确认。若海外供应链出现变化，相关企业的毛利率可能承压。",
    "我们维持行业评级不变，建议关注在互联技术和软件工具链方面具备积累的龙头公司，以及为其提供高速连接器和电源模块的配套厂商。",
]
EN_LINES = [
    "The report argues that hyperscalers now design their own accel-",
    "erators for inference, because merchant parts are expensive and hard to buy in volume.",
]
EN_P2 = (
    "Memory bandwidth rather than raw compute limits the serving of large language models, so "
    "every new part is judged first by its high-bandwidth memory stacks and only then by its "
    "peak throughput figures, which vendors quote at low precision."
)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def cer(truth: str, got: str) -> float:
    """Character error rate: Levenshtein distance over the truth's length (no whitespace)."""
    a, b = squash(truth), squash(got)
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1] / max(1, len(a))


def table_html(rows: list[list[str]]) -> str:
    head = "".join(f"<th>{c}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows[1:])
    return f"<table><tr>{head}</tr>{body}</table>"


def zh_truth() -> str:
    rows = "\n".join(" | ".join(r) for r in ZH_TABLE)
    return "\n\n".join([*ZH_P1, rows, *ZH_P2])


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import pypdf

    out = tmp_path_factory.mktemp("pdfs")
    zh = (
        '<div class="page">'
        + "".join(f"<p>{p}</p>" for p in ZH_P1)
        + table_html(ZH_TABLE)
        + "</div><div>"
        + "".join(f"<p>{p}</p>" for p in ZH_P2)
        + "</div>"
    )
    en = '<div class="page"><p>' + "<br>".join(EN_LINES) + f"</p></div><div><p>{EN_P2}</p></div>"
    mixed = (
        f'<div class="page"><p>{ZH_P1[0]}</p></div>'
        f'<div class="page"><img src="{png(500, 600)}"></div>'
        f"<div><p>{ZH_P2[0]}</p></div>"
    )
    with printer() as pr:
        paths = {
            "zh": pr.pdf(html_page(zh, "芯片行业深度研究"), out / "zh.pdf"),
            "en": pr.pdf(html_page(en, "Accelerators", lang="en"), out / "en.pdf"),
            "mixed": pr.pdf(html_page(mixed), out / "mixed.pdf"),
            "scanned": pr.pdf(
                html_page(f'<img src="{png(600, 800)}">'), out / "scanned.pdf", header_footer=False
            ),
        }
    for name, user in (("locked", "secret"), ("owner_only", "")):
        writer = pypdf.PdfWriter(clone_from=str(paths["zh"]))
        writer.encrypt(user_password=user, owner_password="owner-secret", algorithm="AES-128")
        buf = io.BytesIO()
        writer.write(buf)
        paths[name] = out / f"{name}.pdf"
        paths[name].write_bytes(buf.getvalue())
    return paths


def test_codepoints_become_what_a_user_types() -> None:
    assert (
        fix_codepoints("芯⽚⼦系统第⼀⻚，ﬁnancial eﬃcient。")
        == "芯片子系统第一页，financial efficient。"
    )
    assert fix_codepoints("全角，标点。不变！") == "全角，标点。不变！"


def test_chinese_two_page_report_with_table(pdfs: dict[str, Path]) -> None:
    got = read_pdf(pdfs["zh"].read_bytes())
    assert cer(zh_truth(), got.text) <= 0.01, got.text
    assert not re.search("[\u2e80-\u2fdf\ufb00-\ufb4f]", got.text)  # radicals, ligatures
    assert "示例证券研究所" not in got.text and "共 2 页" not in got.text  # header, footer
    for row in ZH_TABLE:
        assert "\n" + " | ".join(row) + "\n" in got.text  # a table row is one line
    for p in ZH_P1 + ZH_P2:
        assert p in got.text  # each paragraph whole: line breaks inside it joined
    assert len(got.pages) == 2
    second = got.text.index(ZH_P2[0])
    assert got.pages[1] <= second and got.pages[1] > got.text.index(ZH_P1[1])


def test_english_hyphenation_and_broken_lines_are_joined(pdfs: dict[str, Path]) -> None:
    got = read_pdf(pdfs["en"].read_bytes())
    truth = f"{EN_LINES[0][:-1]}{EN_LINES[1]}\n\n{EN_P2}"
    assert cer(truth, got.text) <= 0.01, got.text
    assert "design their own accelerators for inference" in got.text
    assert EN_P2 in got.text  # wrapped lines joined with a space


def test_image_only_page_keeps_the_page_numbers_right(pdfs: dict[str, Path]) -> None:
    data = pdfs["mixed"].read_bytes()
    got = read_pdf(data)
    assert got.empty_pages == [2]
    doc = load_bytes(data, "mixed.pdf").document
    assert doc.page_at(doc.text.index(ZH_P1[0])) == 1
    assert doc.page_at(doc.text.index(ZH_P2[0])) == 3


def test_scanned_pdf_is_one_clear_line_and_the_batch_goes_on(
    fake_qa, pdfs: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(LoadError) as err:
        load_bytes(pdfs["scanned"].read_bytes(), "scan.pdf")
    assert str(err.value) == SCANNED == "scanned PDF: no text layer; OCR is not supported"
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "scan.pdf").write_bytes(pdfs["scanned"].read_bytes())
    (folder / "report.pdf").write_bytes(pdfs["zh"].read_bytes())
    (folder / "locked.pdf").write_bytes(pdfs["locked"].read_bytes())
    report = fake_qa.ingest([folder])
    by = {Path(f.path).name: f for f in report.files}
    assert by["report.pdf"].status == "added"
    assert by["scan.pdf"].message == SCANNED
    assert by["locked.pdf"].message == ENCRYPTED


def test_encrypted_pdfs(pdfs: dict[str, Path]) -> None:
    with pytest.raises(LoadError) as err:
        read_pdf(pdfs["locked"].read_bytes())
    assert str(err.value) == ENCRYPTED
    # restrictions without a user password do not stop reading
    assert cer(zh_truth(), read_pdf(pdfs["owner_only"].read_bytes()).text) <= 0.01


def test_chunks_and_citations_know_their_page(
    fake_qa, pdfs: dict[str, Path], tmp_path: Path
) -> None:
    from rag.citations import make_citation

    path = tmp_path / "report.pdf"
    path.write_bytes(pdfs["zh"].read_bytes())
    assert fake_qa.ingest([path]).added == 1
    doc = fake_qa.documents()[0]
    assert doc.title == "芯片行业深度研究" and doc.pages and len(doc.pages) == 2
    metas = fake_qa.store.chunks.get(include=["metadatas"])["metadatas"]
    assert {m["page"] for m in metas} == {1, 2}
    start = doc.text.index(ZH_P2[1])
    cit = make_citation(1, doc, start, start + len(ZH_P2[1]), doc.text)
    assert cit.page == 2 and cit.to_dict()["page"] == 2
    ans = fake_qa.ask("报告建议关注哪些公司？")
    pages = {c.page for c in ans.citations}
    assert ans.citations and pages <= {1, 2} and 2 in pages


def test_web_upload_takes_pdf_and_docx(fake_qa, pdfs: dict[str, Path], tmp_path: Path) -> None:
    from rag import web
    from tests.test_docx import make_docx

    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(pdfs["zh"].read_bytes())
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(pdfs["scanned"].read_bytes())
    word = tmp_path / "release.docx"
    word.write_bytes(make_docx())
    status = list(web.upload(fake_qa, [str(pdf), str(scan), str(word)]))[-1]
    assert "report.pdf: added" in status and "release.docx: added" in status
    assert f"scan.pdf: {SCANNED}" in status and "2 of 3 file(s) added" in status


def test_cli_ask_shows_the_page(pdfs: dict[str, Path], tmp_path: Path, capsys, monkeypatch) -> None:
    from rag.cli import main

    monkeypatch.setenv("RAG_EMBEDDINGS", "fake")
    d = ["--data-dir", str(tmp_path / "s")]
    assert main([*d, "ingest", "--quiet", str(pdfs["zh"])]) == 0
    capsys.readouterr()
    assert main([*d, "ask", "报告建议关注哪些公司？"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"\[1\] 芯片行业深度研究 \(undated, p\. 2\)", out), out


def test_running_heads_alternate_and_inner_lines_stay() -> None:
    from rag.pdf import drop_running_lines

    body = ["风险提示：行业竞争加剧。", "正文第{}页的内容各不相同，编号{}。"]
    pages = [
        [
            "示例证券研究所" if i % 2 else "芯片行业深度研究",
            body[0],
            body[1].format(i, i * 7),
            f"- {i} -",
        ]
        for i in range(1, 7)
    ]
    out = drop_running_lines(pages)
    # odd and even heads go (each on half the pages), page numbers go; the repeated
    # "风险提示" line right under the head goes too (it runs on from the edge) ...
    assert all("研究" not in ln and not ln.startswith("-") for lines in out for ln in lines)
    # ... but the same line inside the text of a page stays
    pages[0] = ["芯片行业深度研究", "引言段落。", body[0], "结语。", "- 1 -"]
    assert body[0] in drop_running_lines(pages)[0]
