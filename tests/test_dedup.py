"""Near-duplicate stories: the same story from two outlets is stored once with both
sources; an update with other figures, a short note and the same outlet's revision stay
apart; answers can say "also reported by"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.dedup import NUM_PERM, THRESHOLD, BandIndex, MinHash, also_reported, figures, minhash
from rag.types import Document

STORY = (Path(__file__).resolve().parent / "fixtures" / "pages" / "gbk_portal_news.txt").read_text(
    encoding="utf-8"
)


def md(title: str, source: str, body: str, url: str = "") -> str:
    return f"---\ntitle: {title}\nsource: {source}\nurl: {url}\n---\n{body}"


def syndicated(body: str) -> str:
    """Another outlet's copy: its own dateline and sign-off, half-width punctuation."""
    return "（本网讯）" + body.replace("，", ",").replace("。", ".") + "\n\n（本文转载自合作媒体）"


def _variants() -> list[str]:
    """Texts of every kind the index meets: a story, its copy, its update, short and mixed."""
    return [
        STORY,
        syndicated(STORY),
        STORY.replace("36", "48"),
        STORY[: len(STORY) // 2],
        "星河科技发布Orion X1加速卡，Xinghe said the card ships in 2026. " * 6,
        "abc",
        "",
    ]


def test_minhash_is_datasketch_affine32_hash_for_hash() -> None:
    """Signatures saved by the datasketch-based code (and by any other datasketch 2 user)
    stay valid: the same shingles give the same 128 hash values."""
    datasketch = pytest.importorskip("datasketch")
    from rag.dedup import SHINGLE, _normalised

    for text in _variants():
        norm = _normalised(text)
        shingles = [
            norm[i : i + SHINGLE].encode("utf-8") for i in range(max(1, len(norm) - SHINGLE + 1))
        ]
        ref = datasketch.MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32")
        ref.update_batch(shingles)
        ours = minhash(text)
        assert ours.hashvalues.dtype == np.uint32
        assert np.array_equal(ours.hashvalues, ref.hashvalues)
    empty = datasketch.MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32")
    assert np.array_equal(MinHash.of([]).hashvalues, empty.hashvalues)


def test_band_index_finds_what_datasketch_lsh_finds() -> None:
    datasketch = pytest.importorskip("datasketch")
    ref = datasketch.MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    assert (ref.b, ref.r) == (BandIndex.BANDS, BandIndex.ROWS)
    ours = BandIndex()
    sigs = {f"d{i}": minhash(t) for i, t in enumerate(_variants())}
    for key, mh in sigs.items():
        ours.insert(key, mh)
        ref.insert(
            key,
            datasketch.MinHash(
                num_perm=NUM_PERM, seed=1, hashvalues=mh.hashvalues, scheme="affine32"
            ),
        )
    for mh in sigs.values():
        q = datasketch.MinHash(
            num_perm=NUM_PERM, seed=1, hashvalues=mh.hashvalues, scheme="affine32"
        )
        assert ours.query(mh) == sorted(ref.query(q))
    ours.remove("d1")
    ref.remove("d1")
    assert "d1" not in ours and "d0" in ours
    assert ours.query(sigs["d0"]) == sorted(
        ref.query(
            datasketch.MinHash(
                num_perm=NUM_PERM, seed=1, hashvalues=sigs["d0"].hashvalues, scheme="affine32"
            )
        )
    )
    assert "d1" not in ours.query(sigs["d1"])


def test_copy_and_story_are_similar_and_an_unrelated_text_is_not() -> None:
    story, copy = minhash(STORY), minhash(syndicated(STORY))
    assert story.jaccard(copy) >= THRESHOLD
    assert story.jaccard(minhash(_variants()[4])) < 0.2
    assert MinHash(story.hashvalues).jaccard(story) == 1.0


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
