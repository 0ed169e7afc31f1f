"""Entities learned from article text: bracket names, quoted products, company suffixes, model
numbers, English names, vendors, and aliases (pinyin, traditional/simplified).

The articles here are written for the test about companies no data file names, so every
entity must come from the text itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.entities import compact_key, extract_entities, mentions, pinyin_forms, simplified
from rag.loaders import load_file
from rag.types import Document

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "000_3b181778c37663fc.txt"

ZH = (
    "国产芯片公司星河微芯科技(Galaxy Microchip,下称星河)今天发布了一款名为“银河100E”的推理芯片。\n\n"
    "星河微芯的银河100E采用HBM3内存,容量为64GB。公司创始人、董事长林远航表示,产品已送样。\n\n"
    "此前,星河推出过训练卡云帆220,采用7nm工艺。"
)
EN = (
    "Lumen Compute, the Oslo-based chip startup, raised $300 million in a Series B round.\n\n"
    "Its Prism accelerator carries 48GB of HBM3E. The company also ships the Prism P2 card."
)


def doc(text: str, lang: str = "zh", date: str = "2026-02-10", title: str = "t") -> Document:
    return Document("d1", title, "test", date, lang, [], text)


def by_name(ents: list, name: str):
    key = compact_key(name)
    for e in ents:
        if key in {compact_key(a) for a in [e.name, e.entity_id, *e.aliases]}:
            return e
    raise AssertionError(f"{name} not found in {[e.name for e in ents]}")


@pytest.fixture(scope="module")
def zh_entities() -> list:
    return extract_entities(doc(ZH))


def test_bracket_name_gives_company_with_english_short_and_pinyin_aliases(zh_entities) -> None:
    e = by_name(zh_entities, "星河微芯科技")
    assert e.kind == "company"
    names = {a.lower() for a in e.aliases}
    assert "galaxy microchip" in names
    assert "星河" in names  # the (下称X) short name
    assert "xinghe weixin" in names or "xing he wei xin" in names
    assert "xingheweixin" in names
    assert any("ī" in a or "é" in a for a in names)  # with tone marks too
    assert e.entity_id == "星河微芯"  # the id drops the legal/sector suffix


def test_quoted_product_with_its_vendor(zh_entities) -> None:
    p = by_name(zh_entities, "银河100E")
    assert p.kind in ("product", "model")
    assert p.vendor == by_name(zh_entities, "星河微芯").entity_id
    assert {"100E", "yinhe 100e"} <= {a for a in p.aliases} | {a.lower() for a in p.aliases}


def test_product_line_before_a_bare_number_and_a_person_with_a_cue(zh_entities) -> None:
    by_name(zh_entities, "云帆220")
    person = by_name(zh_entities, "林远航")
    assert person.kind == "person"


def test_units_precisions_and_counts_are_not_models(zh_entities) -> None:
    names = {compact_key(a) for e in zh_entities for a in [e.name, *e.aliases]}
    for token in ("64gb", "7nm", "hbm364gb"):
        assert token not in names


def test_english_company_by_apposition_and_products_by_kind_words() -> None:
    ents = extract_entities(doc(EN, lang="en"))
    assert by_name(ents, "Lumen Compute").kind == "company"
    assert by_name(ents, "Prism").kind == "product"
    assert by_name(ents, "Prism P2").kind == "product"
    assert not any(e.name in ("Its", "The", "Oslo-based") for e in ents)


def test_traditional_page_keeps_its_names_and_gets_simplified_ids() -> None:
    trad = "國產晶片公司星河微芯科技(Galaxy Microchip)發布了名為「銀河100E」的推理晶片。"
    ents = extract_entities(doc(trad))
    company = by_name(ents, "Galaxy Microchip")
    assert company.entity_id == "星河微芯"
    product = by_name(ents, "银河100E")  # found by the simplified form
    assert "銀河100E" in product.aliases or product.name == "銀河100E"


def test_simplified_keeps_offsets() -> None:
    text = "台積電２奈米（N2）製程"
    out = simplified(text)
    assert len(out) == len(text)
    assert out.startswith("台积电2奈米(N2)")


def test_pinyin_forms_keep_latin_parts() -> None:
    forms = pinyin_forms("银河100E")
    assert "yinhe 100e" in forms and "yin he 100e" in forms


def test_seed_article_entities_and_mentions_are_exact() -> None:
    d = load_file(SEED).document
    ents = extract_entities(d)
    chip = by_name(ents, "Zhenwu 810E")
    assert chip.vendor == by_name(ents, "平头哥").entity_id
    assert by_name(ents, "H20").vendor == by_name(ents, "英伟达").entity_id
    for s, e, ent in mentions(d.text, ents):
        written = d.text[s:e].lower()
        assert written in {a.lower() for a in [ent.name, *ent.aliases]}


def test_a_company_before_a_memory_standard_names_its_part_not_the_standard() -> None:
    """星河科技HBM4 is that company's HBM4, not another name of the standard many make: the
    standard keeps its own name only, the company's part gets the company as vendor."""
    text = (
        "星河科技(Xinghe Tech)是一家存储芯片公司。星河科技HBM4已向客户送样，单颗容量为36GB。"
        "另一家厂商也在开发HBM4。"
    )
    ents = extract_entities(doc(text))
    part = by_name(ents, "星河科技HBM4")
    vendor = next(e for e in ents if e.entity_id == part.vendor)
    assert vendor.kind == "company" and vendor.name.startswith("星河")
    assert all("星河" not in a for e in ents if e.name == "HBM4" for a in e.aliases)


def test_hyphenated_model_names_are_whole_and_a_lower_case_suffix_is_not_part() -> None:
    """ "Orion3-Max-Pro" and "Nova-V3" are one name each; "X100-based" names X100."""
    ents = extract_entities(
        doc("星河实验室发布了旗舰模型Orion3-Max-Pro,对标Nova-V3。X100-based servers follow.")
    )
    names = {e.name for e in ents}
    assert {"Orion3-Max-Pro", "Nova-V3", "X100"} <= names
    assert "Orion3" not in names and "X100-based" not in names


def test_aliases_are_cached_and_a_data_reload_forgets_them() -> None:
    from rag import datafiles, entities

    first = entities.make_aliases("星河芯片科技有限公司", ["Xinghe"])
    first.append("mutated by a caller")
    again = entities.make_aliases("星河芯片科技有限公司", ["Xinghe"])
    assert "mutated by a caller" not in again  # each caller gets its own list
    assert entities._aliases.cache_info().currsize > 0
    datafiles.reload()
    assert entities._aliases.cache_info().currsize == 0
    assert entities.make_aliases("星河芯片科技有限公司", ["Xinghe"]) == again


def test_a_place_gets_the_names_its_entry_gives_in_both_languages() -> None:
    """entities.yaml lists a place's names together: an English article's "the US" is the
    place a Chinese question calls 美国, one entity under both names."""
    ents = extract_entities(
        doc("Orion Chips said its revenue in the US rose, while sales in Japan fell.", lang="en")
    )
    places = {e.entity_id: {a.lower() for a in e.aliases} for e in ents if e.kind == "place"}
    us = next(names for names in places.values() if "us" in names)
    assert {"美国", "united states"} <= us, places
    assert any("日本" in names and "japan" in names for names in places.values()), places


def test_a_figure_beside_a_name_is_no_alias_of_it() -> None:
    """ "3nm(N3P)": the bracket names the process, the figure is its size; a question about
    "3nm chips" must not read as one about that process."""
    from rag.entities import make_aliases

    assert make_aliases("N3P", ["3nm", "3纳米", "96 GB"]) == ["N3P"]
    assert "H100" in make_aliases("Hopper", ["H100"])
