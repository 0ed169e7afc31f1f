"""Near-duplicate stories: the same story from two outlets is stored once with both
sources; an update with other figures, a short note and the same outlet's revision stay
apart; answers can say "also reported by"."""

from __future__ import annotations

from pathlib import Path

from rag.dedup import also_reported, figures
from rag.types import Document

STORY = (Path(__file__).resolve().parent / "fixtures" / "pages" / "gbk_portal_news.txt").read_text(
    encoding="utf-8"
)


def md(title: str, source: str, body: str, url: str = "") -> str:
    return f"---\ntitle: {title}\nsource: {source}\nurl: {url}\n---\n{body}"


def syndicated(body: str) -> str:
    """Another outlet's copy: its own dateline and sign-off, half-width punctuation."""
    return "（本网讯）" + body.replace("，", ",").replace("。", ".") + "\n\n（本文转载自合作媒体）"


def test_figures_ignore_dates_and_small_numbers() -> None:
    assert figures("2025年6月18日，容量达到36GB，速率提升50%，售价1,299元") == {"36", "50", "1299"}


def test_same_story_from_two_outlets_is_stored_once_with_both_sources(
    fake_qa, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.md").write_text(md("国产高带宽内存送样", "华夏资讯网", STORY), encoding="utf-8")
    (folder / "b.md").write_text(
        md("高带宽内存新品送样", "芯闻日报", syndicated(STORY), "https://xinwen.example/hbm"),
        encoding="utf-8",
    )
    report = fake_qa.ingest([folder])
    assert [f.status for f in report.files] == ["added", "duplicate"]
    docs = fake_qa.documents()
    assert len(docs) == 1
    story = docs[0]
    assert story.source == "华夏资讯网"
    assert story.also == [
        {
            "source": "芯闻日报",
            "url": "https://xinwen.example/hbm",
            "title": "高带宽内存新品送样",
            "path": str(folder / "b.md"),
        }
    ]
    assert also_reported(story) == "另见 芯闻日报"
    assert also_reported(story, "en") == "also reported by 芯闻日报"
    # re-ingesting changes nothing and adds no second entry
    again = fake_qa.ingest([folder])
    assert [f.status for f in again.files] == ["unchanged", "duplicate"]
    assert len(fake_qa.documents()[0].also) == 1
    # the answer cites the one story; the sources panel says who else ran it
    from rag import web

    ans = fake_qa.ask("企业预计什么时候实现小批量供货？")
    assert ans.citations and {c.doc_id for c in ans.citations} == {story.doc_id}
    html = web.render_citation(fake_qa, ans.citations[0], 1)
    assert "另见 芯闻日报" in html


def test_other_figures_short_notes_and_revisions_stay_separate(fake_qa, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.md").write_text(md("送样", "甲", STORY), encoding="utf-8")
    updated = STORY.replace("36GB", "48GB")  # an update: another figure, another story
    (folder / "b.md").write_text(md("送样更新", "乙", updated), encoding="utf-8")
    note = "某存储芯片企业宣布新一代高带宽内存已送样。"
    (folder / "c.md").write_text(md("短讯", "丙", note), encoding="utf-8")
    (folder / "d.md").write_text(md("短讯二", "丁", note + "详情待公布。"), encoding="utf-8")
    report = fake_qa.ingest([folder])
    assert [f.status for f in report.files] == ["added"] * 4
    # the same file edited (a typo fixed) replaces itself; it is not "another outlet"
    (folder / "a.md").write_text(
        md("送样", "甲", STORY.replace("据介绍", "据悉")), encoding="utf-8"
    )
    assert [f.status for f in fake_qa.ingest([folder / "a.md"]).files] == ["updated"]
    assert all(not d.also for d in fake_qa.documents())


def test_removing_the_story_lets_the_copy_stand_alone(fake_qa, tmp_path: Path) -> None:
    a, b = tmp_path / "a.md", tmp_path / "b.md"
    a.write_text(md("送样", "甲", STORY), encoding="utf-8")
    b.write_text(md("送样", "乙", syndicated(STORY)), encoding="utf-8")
    fake_qa.ingest([a, b])
    (story,) = fake_qa.documents()
    fake_qa.remove(story.doc_id)
    assert [f.status for f in fake_qa.ingest([b]).files] == ["added"]
    assert fake_qa.documents()[0].source == "乙"


def test_also_reported_names_outlets_hosts_or_titles() -> None:
    doc = Document("x", "t", "s", None, "en", [], "text")
    assert also_reported(doc) == ""
    doc.also = [
        {"source": "https://www.chipnews.example/a/1", "title": "One"},
        {"source": "Reuters"},
        {"source": "/home/u/saved/story.html", "title": "Saved copy"},
        {"source": "Reuters"},
    ]
    assert also_reported(doc) == "also reported by chipnews.example, Reuters, Saved copy"
