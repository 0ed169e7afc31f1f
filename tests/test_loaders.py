"""Loaders: front matter, sidecars, HTML in any encoding, jammer elements, page chrome,
dates found in text, content-derived ids, and unreadable files reported by path."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from rag.errors import LoadError
from rag.loaders import content_id, decode_bytes, iter_files, load_bytes, load_file

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"

FRONT = """---
title: 昆仑芯P800万卡集群点亮
date: 2025-02-05
source: 新浪科技
url: https://example.com/p800
lang: zh
vendors: [kunlunxin, 百度]
---
# 万卡集群

2025年2月5日，百度智能云宣布点亮昆仑芯三代万卡集群，由一万张**P800**加速卡组成。

第二段：集群用于大模型训练。
"""

ZH_BODY = "台积电预计2025年资本开支为380亿至420亿美元，其中大部分将用于先进制程。董事长魏哲家表示客户对芯片的需求依然强劲。"
ZH_TRAD = "台積電預計2025年資本支出為380億至420億美元，其中大部分將用於先進製程。董事長魏哲家表示客戶對晶片的需求依然強勁。"


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


# -- text and markdown -------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".md", ".txt"])
def test_front_matter_fills_every_field(tmp_path: Path, suffix: str) -> None:
    doc = load_file(write(tmp_path / f"a{suffix}", FRONT)).document
    assert doc.title == "昆仑芯P800万卡集群点亮"
    assert doc.date == "2025-02-05"
    assert doc.source == "新浪科技"
    assert doc.url == "https://example.com/p800"
    assert doc.lang == "zh"
    assert doc.vendors == ["Kunlunxin", "Baidu"]  # canonical names
    assert "---" not in doc.text and "title:" not in doc.text
    assert doc.text.endswith("第二段：集群用于大模型训练。")
    assert doc.path == str(tmp_path / f"a{suffix}")


def test_markdown_marks_go_words_stay(tmp_path: Path) -> None:
    doc = load_file(write(tmp_path / "a.md", FRONT)).document
    assert doc.text.startswith("万卡集群\n\n2025年2月5日")
    assert "由一万张P800加速卡组成" in doc.text
    assert "#" not in doc.text and "**" not in doc.text


def test_sidecar_metadata(tmp_path: Path) -> None:
    write(tmp_path / "story.txt", ZH_BODY)
    write(
        tmp_path / "story.txt.meta.yaml",
        "title: 台积电资本开支\ndate: 2025-01-16\nsource: 法说会\nlang: zh\nvendors: [TSMC]\nurl: https://x.example/tsmc\n",
    )
    doc = load_file(tmp_path / "story.txt").document
    assert (doc.title, doc.date, doc.source, doc.vendors, doc.url) == (
        "台积电资本开支",
        "2025-01-16",
        "法说会",
        ["TSMC"],
        "https://x.example/tsmc",
    )
    assert doc.text == ZH_BODY


def test_without_metadata_title_date_lang_and_vendors_come_from_the_text(tmp_path: Path) -> None:
    zh = load_file(
        write(tmp_path / "zh.txt", "寒武纪发布半年报\n\n2025年8月26日晚间，寒武纪披露半年报。")
    ).document
    assert zh.title == "寒武纪发布半年报"
    assert zh.date == "2025-08-26"
    assert zh.lang == "zh"
    assert "Cambricon" in zh.vendors
    en = load_file(
        write(
            tmp_path / "en.md",
            "NVIDIA ships H200\n\nOn November 13, 2023, NVIDIA announced the H200 with 141GB of HBM3E.",
        )
    ).document
    assert en.date == "2023-11-13"
    assert en.lang == "en"
    assert "NVIDIA" in en.vendors
    undated = load_file(write(tmp_path / "u.txt", "No date in this text about GPUs.")).document
    assert undated.date is None
    assert undated.source == str(tmp_path / "u.txt")


def test_utf8_with_bom_keeps_front_matter_and_loses_the_bom(tmp_path: Path) -> None:
    doc = load_file(write(tmp_path / "bom.md", b"\xef\xbb\xbf" + FRONT.encode("utf-8"))).document
    assert doc.title == "昆仑芯P800万卡集群点亮"
    assert "\ufeff" not in doc.text


# -- encodings ---------------------------------------------------------------------------


def test_gbk_and_big5_without_any_declaration(tmp_path: Path) -> None:
    gbk = load_file(write(tmp_path / "gbk.txt", ZH_BODY.encode("gbk"))).document
    assert gbk.text == ZH_BODY
    big5 = load_file(write(tmp_path / "big5.txt", ZH_TRAD.encode("big5"))).document
    assert big5.text == ZH_TRAD
    second = "第二段：台积电同时表示，先进封装产能将继续扩充，以满足人工智能芯片客户的需求。"
    html = f"<html><body><article><p>{ZH_BODY}</p><p>{second}</p></article></body></html>"
    undeclared = load_file(write(tmp_path / "p.html", html.encode("gbk"))).document
    assert undeclared.text == f"{ZH_BODY}\n\n{second}"


@pytest.mark.parametrize(
    "declaration",
    [
        '<meta charset="gbk">',
        '<meta http-equiv="Content-Type" content="text/html; charset=gb2312" />',
    ],
)
def test_gbk_html_with_declared_charset(tmp_path: Path, declaration: str) -> None:
    html = (
        f"<html><head>{declaration}<title>台积电资本开支</title></head>"
        f"<body><div class='article-content'><p>{ZH_BODY}</p></div></body></html>"
    )
    doc = load_file(write(tmp_path / "g.html", html.encode("gbk"))).document
    assert doc.title == "台积电资本开支"
    assert doc.text == ZH_BODY
    assert doc.lang == "zh"


def test_utf8_html_page_metadata(tmp_path: Path) -> None:
    html = """<html><head><meta charset="utf-8"><title>Site | H200</title>
<meta property="og:title" content="NVIDIA announces H200">
<meta property="og:url" content="https://chips.example/h200">
</head><body><article><h1>NVIDIA announces H200</h1>
<time datetime="2023-11-13">Nov 13</time>
<p>The H200 carries 141GB of HBM3E with 4.8TB/s of bandwidth, NVIDIA said at SC23 in Denver.</p>
</article></body></html>"""
    doc = load_file(write(tmp_path / "h.html", html)).document
    assert doc.title == "NVIDIA announces H200"
    assert doc.date == "2023-11-13"
    assert doc.url == "https://chips.example/h200"
    assert "141GB of HBM3E with 4.8TB/s" in doc.text


def test_corpus_gbk_pages_decode() -> None:
    """The GBK pages of the corpus (one declared gbk, one gb2312) read as proper Chinese."""
    for name, phrase in (
        ("a21_huawei_cloudmatrix384.html", "384颗昇腾910C NPU和192颗鲲鹏CPU"),
        ("b26_tsmc_capex_cowos_2025.html", "2025年资本开支为380亿至420亿美元"),
    ):
        data = (CORPUS / "web" / name).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        assert phrase in load_file(CORPUS / "web" / name).document.text


def test_decode_bytes_reports_the_encoding() -> None:
    assert decode_bytes(ZH_BODY.encode("utf-8"))[1] == "utf-8"
    assert decode_bytes(b"\xef\xbb\xbf" + ZH_BODY.encode("utf-8"))[1] == "utf-8-sig"
    assert decode_bytes(ZH_BODY.encode("gbk"))[1] == "gb18030"
    assert decode_bytes(ZH_TRAD.encode("big5"))[1] in ("big5", "cp950")


# -- HTML: jammer elements and page chrome -------------------------------------------------


def test_jammer_elements_are_dropped_before_extraction(tmp_path: Path) -> None:
    html = """<html><head><meta charset="utf-8"></head><body>
<div id="postlist">
<table><tr><td class="pls">作者 发表于 2024-2-27</td><td class="t_f" id="postmessage_1">
<span style="display:none">$ b' ?. ^; f* |8 `" O5</span>1月29日上午,平头哥上线真武810E。<font class="jammer">, N* P( h0 Y) F: o</font><br />
<span style="display: none">- m+ h7 b6 c4 ^( o2</span>采用HBM2e内存,容量可达96GB,支持RISC-V。<font class="jammer">5 j; H1 [4 N6 f$ v1 K</font><br />
</td></tr></table></div></body></html>"""
    doc = load_file(write(tmp_path / "d.html", html)).document
    assert doc.text == "1月29日上午,平头哥上线真武810E。\n\n采用HBM2e内存,容量可达96GB,支持RISC-V。"


def test_corpus_discuz_page_has_no_jammer_left() -> None:
    page = CORPUS / "web" / "b27_samsung_hbm3e_12h.html"
    assert 'class="jammer"' in page.read_text(encoding="utf-8")
    doc = load_file(page).document
    assert "HBM3E 12H的单颗容量为36GB" in doc.text
    unit = r"(?:[ -;] [?-~]| [?-~])"
    for line in doc.text.split("\n"):
        assert not re.search(rf"(?:{unit}){{5,}}$|^(?:{unit}){{5,}}", line), line
    for chrome in ("点评", "hbm_watcher", "相关帖子", "Powered by", "签名", "立即注册"):
        assert chrome not in doc.text


def test_nav_footer_script_comments_and_sidebar_are_not_in_the_document() -> None:
    doc = load_file(CORPUS / "web" / "b25_nvidia_h200_sc23.html").document
    assert doc.title == "NVIDIA announces H200 GPU with 141GB of HBM3E"
    assert "The H200 carries 141GB of HBM3E with a memory bandwidth of 4.8TB/s." in doc.text
    for chrome in (
        "Newsletter",
        "We use cookies",
        "gtag",
        "dataLayer",
        "Related articles",
        "Most read",
        "gpu_fan88",
        "Join the discussion",
        "All rights reserved",
        "Privacy",
        "Share on X",
        "Tags:",
        "Advertisement",
    ):
        assert chrome not in doc.text, chrome
    gbk = load_file(CORPUS / "web" / "b26_tsmc_capex_cowos_2025.html").document
    for chrome in (
        "首页",
        "网友评论",
        "芯片老韩",
        "相关文章",
        "热门排行",
        "版权所有",
        "分享到",
        "_hmt",
    ):
        assert chrome not in gbk.text, chrome


def test_page_without_an_article_container_still_yields_its_paragraphs(tmp_path: Path) -> None:
    para = "Samsung said the HBM3E 12H stack holds 36GB and reaches 1,280GB/s of bandwidth."
    more = "Mass production of the 12-high stack is planned for the first half of the year."
    html = (
        f"<html><body><div class='menu'><ul><li><a href='/'>Home</a></li>"
        f"<li><a href='/about'>About</a></li></ul></div>"
        f"<div class='x'><div class='y'><p>{para}</p><p>{more}</p></div></div></body></html>"
    )
    doc = load_bytes(html.encode(), "p.html").document
    assert doc.text == f"{para}\n\n{more}"


# -- ids ----------------------------------------------------------------------------------


def test_doc_id_is_content_derived_and_stable(tmp_path: Path) -> None:
    data = FRONT.encode("utf-8")
    a = load_file(write(tmp_path / "one" / "a.md", data)).document
    b = load_file(write(tmp_path / "two" / "other name.md", data)).document
    assert a.doc_id == b.doc_id == hashlib.sha256(data).hexdigest()[:16] == content_id(data)
    assert load_file(tmp_path / "one" / "a.md").document.doc_id == a.doc_id
    changed = load_file(write(tmp_path / "c.md", data + b"\n")).document
    assert changed.doc_id != a.doc_id


def test_corpus_ids_match_the_bytes() -> None:
    ids = set()
    for path, reason in iter_files([CORPUS]):
        assert reason is None
        doc = load_file(path).document
        assert doc.doc_id == content_id(path.read_bytes())
        ids.add(doc.doc_id)
    assert len(ids) >= 41


# -- folders and failures -----------------------------------------------------------------


def test_iter_files_walks_folders_and_skips_sidecars_readmes_hidden(tmp_path: Path) -> None:
    write(tmp_path / "a.md", "x")
    write(tmp_path / "sub" / "deeper" / "b.html", "<p>x</p>")
    write(tmp_path / "sub" / "c.txt", "x")
    write(tmp_path / "sub" / "c.txt.meta.yaml", "title: c")
    write(tmp_path / "README.md", "readme")
    write(tmp_path / ".hidden.md", "x")
    write(tmp_path / ".git" / "d.md", "x")
    write(tmp_path / "image.png", b"\x89PNG")
    write(tmp_path / "paper.pdf", b"%PDF-1.4")
    found = sorted(str(p.relative_to(tmp_path)) for p, _ in iter_files([tmp_path]))
    assert found == ["a.md", "paper.pdf", "sub/c.txt", "sub/deeper/b.html"]
    missing = list(iter_files([tmp_path / "nope"]))
    assert missing == [(tmp_path / "nope", "no such file or folder")]


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.md", b"  \n\t \r\n", "empty"),
        ("zip.txt", b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 4, "binary"),
        ("paper.pdf", b"%PDF-1.7\n1 0 obj", "not a readable PDF"),
        ("doc.docx", b"PK\x03\x04", "not a readable .docx"),
        ("sheet.xlsx", b"PK\x03\x04", "unsupported file type .xlsx"),
        ("nobody.html", b"<html><head><title>t</title></head></html>", "no article text"),
        ("bad.md", b"---\ntitle: [unclosed\n---\nbody", "front matter is not valid YAML"),
    ],
)
def test_unreadable_inputs_raise_load_error_with_a_reason(
    name: str, data: bytes, reason: str
) -> None:
    with pytest.raises(LoadError) as err:
        load_bytes(data, name)
    assert reason in str(err.value)
    assert "\n" not in str(err.value)


def test_bad_files_are_reported_with_path_and_reason_and_the_rest_ingests(
    fake_qa, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    write(folder / "good1.md", FRONT)
    write(folder / "good2.txt", ZH_BODY)
    write(folder / "binary.txt", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8)
    write(folder / "paper.pdf", b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    (folder / "gone.md").symlink_to(folder / "does-not-exist.md")
    report = fake_qa.ingest([folder])
    by_name = {Path(f.path).name: f for f in report.files}
    assert by_name["good1.md"].status == by_name["good2.txt"].status == "added"
    failed = {Path(f.path).name: f.message for f in report.failures}
    assert set(failed) == {"binary.txt", "paper.pdf", "gone.md"}
    assert "binary" in failed["binary.txt"]
    assert "not a readable PDF" in failed["paper.pdf"]
    assert "cannot read" in failed["gone.md"]
    for f in report.failures:
        assert Path(f.path).parent == folder  # the path says which file
    assert len(fake_qa.documents()) == 2


# -- page types: the cleaned text against the real article text ---------------------------

PAGES = ROOT / "tests" / "fixtures" / "pages"
PAGE_CHROME = {
    "discuz_utf8": ["芯片老韩", "马上注册", "签名", "谢谢楼主", "Powered by", "查看"],
    "discuz_gbk": ["芯片老韩", "立即注册", "签名", "坐等实测", "Archiver"],
    "wechat_article": [
        "点击上方蓝字关注我们",
        "长按识别二维码",
        "阅读原文",
        "在看",
        "芯算观察编辑部",
        "2025-01-01 08:00",
        "图片来源",
        "END",
        "微信扫一扫",
        "预览时标签不可点",
    ],
    "big5_tw_news": ["記者林志明", "圖／", "廣告", "責任編輯", "相關新聞", "關鍵字", "著作權"],
    "big5_hk_news": ["本報記者", "本報記者攝", "廣告", "即時新聞", "版權所有", "標籤"],
    "gbk_portal_news": [
        "原标题",
        "责任编辑",
        "来源：",
        "资料图片",
        "网友评论",
        "分享到",
        "热点推荐",
    ],
    "en_tech_news": [
        "cookies",
        "Subscribe",
        "Photo: company handout",
        "Get the Chip Brief",
        "Read more",
        "Reporting by",
        "More from",
        "All rights reserved",
        "4 min read",
    ],
}


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def text_ratio(truth: str, got: str) -> float:
    import difflib

    return difflib.SequenceMatcher(None, squash(truth), squash(got), autojunk=False).ratio()


@pytest.mark.parametrize("name", sorted(PAGE_CHROME))
def test_page_type_fixture_gives_the_article_text(name: str) -> None:
    doc = load_file(PAGES / f"{name}.html").document
    truth = (PAGES / f"{name}.txt").read_text(encoding="utf-8")
    assert text_ratio(truth, doc.text) >= 0.995, doc.text
    for chrome in PAGE_CHROME[name]:
        assert chrome not in doc.text, chrome
    assert doc.title and doc.title not in doc.text.split("\n")[0]
    assert doc.lang == ("en" if name.startswith("en_") else "zh")


def test_page_type_metadata() -> None:
    en = load_file(PAGES / "en_tech_news.html").document
    assert en.title == "Optical interconnect startup raises $120 million for AI data centers"
    assert en.date == "2025-04-08"
    assert en.url == "https://siliconledger.example/2025/04/optics-startup-funding"
    wx = load_file(PAGES / "wechat_article.html").document
    assert wx.title == "国产推理卡密集发布，竞争进入新阶段" and wx.date == "2025-01-01"
    assert load_file(PAGES / "big5_tw_news.html").document.date == "2025-03-12"
    assert load_file(PAGES / "discuz_gbk.html").document.date == "2025-07-02"


@pytest.mark.parametrize("page", sorted((CORPUS / "web").glob("*.html")), ids=lambda p: p.name)
def test_corpus_page_gives_its_article_text(page: Path) -> None:
    truth_file = PAGES / "corpus" / f"{page.stem}.txt"
    if not truth_file.is_file():
        pytest.skip(f"no article text recorded for {page.name} in {truth_file.parent}")
    truth = truth_file.read_text(encoding="utf-8")
    assert text_ratio(truth, load_file(page).document.text) >= 0.995


@pytest.mark.parametrize("paste", sorted((CORPUS / "forum").glob("*.txt")), ids=lambda p: p.name)
def test_corpus_forum_paste_gives_its_article_text(paste: Path) -> None:
    clean = (ROOT / "tests" / "fixtures" / "forum_clean" / f"{paste.stem}.md").read_text("utf-8")
    truth = clean.split("---", 2)[2]
    assert text_ratio(truth, load_file(paste).document.text) >= 0.995


@pytest.mark.parametrize(
    ("text", "encoding"),
    [(ZH_BODY, "gbk"), (ZH_TRAD, "big5"), (ZH_TRAD, "big5hkscs"), ("寒武紀發布半年報", "big5")],
)
def test_narrowed_charset_normalizer_reads_short_cjk_texts(text: str, encoding: str) -> None:
    """An open charset-normalizer search reads short GBK as Korean; the narrowed one does not."""
    assert decode_bytes(text.encode(encoding))[0] == text


def test_a_single_byte_declaration_only_competes() -> None:
    """GBK pages declared iso-8859-1 exist; latin-1 decodes any bytes, so it must not win."""
    assert decode_bytes(ZH_BODY.encode("gbk"), "iso-8859-1") == (ZH_BODY, "gb18030")
    latin = "Café déjà vu: naïve résumés about chips"
    assert decode_bytes(latin.encode("cp1252"), "windows-1252")[0] == latin
