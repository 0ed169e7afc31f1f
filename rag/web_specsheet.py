"""The "Spec sheet" tab of the web chat: entities by attributes, from the facts store.

Each cell lists the values the articles give for one entity and attribute; a value opens
(``<details>``) its quote highlighted in its sentence's context, with the article's title and
date. A cell whose figures disagree (two articles, or a plan and a launch) is marked as a
conflict. The table can be filtered by entity and attribute and downloaded as CSV.

Rendering is plain functions (``spec_table``, ``render_spec_html``, ``spec_view``) so they are
tested without a browser; ``build_spec_tab`` only lays out the Gradio components. The table's
look is a file, ``rag/static/spec.css``, served with the chat's stylesheet by
``rag.web.page_assets``. It reads facts through ``QA.facts``; it does not extract or store
anything (``rag.facts``, ``rag.factstore``), and the other tabs are ``rag.web``'s.
"""

from __future__ import annotations

import os
import tempfile
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rag.errors import RagError
from rag.knowledge import Fact

if TYPE_CHECKING:
    from rag.qa import QA

ALL = "all attributes"
MAX_ROWS = 400


@dataclass
class SpecTable:
    """Facts laid out as rows (entities) by columns (attributes)."""

    entities: list[tuple[str, str]] = field(default_factory=list)  # (entity_id, display name)
    attributes: list[str] = field(default_factory=list)
    cells: dict[tuple[str, str], list[Fact]] = field(default_factory=dict)

    def conflict(self, entity_id: str, attribute: str) -> bool:
        """True when one entity's attribute has figures that disagree."""
        return len({_figure(f) for f in self.cells.get((entity_id, attribute), [])}) > 1


def _figure(f: Fact) -> str:
    if f.norm_value is not None:
        return f"{f.unit}:{f.norm_value:.6g}"
    return " ".join(f.value.lower().split())


def spec_table(facts: list[Fact], attribute_order: list[str]) -> SpecTable:
    """Group facts by entity and attribute; attributes in vocabulary order."""
    table = SpecTable()
    names: OrderedDict[str, str] = OrderedDict()
    used: set[str] = set()
    for f in sorted(facts, key=lambda f: (f.entity_id, f.attribute, f.period or "", f.doc_id)):
        names.setdefault(f.entity_id, f.entity)
        used.add(f.attribute)
        table.cells.setdefault((f.entity_id, f.attribute), []).append(f)
    table.entities = list(names.items())
    table.attributes = [a for a in attribute_order if a in used]
    return table


def _quote_html(qa: QA | None, f: Fact) -> str:
    from rag.web import esc, quote_context

    text = ""
    if qa is not None:
        try:
            text = qa.document(f.doc_id).text
        except RagError:
            text = ""
    if text[f.start : f.end] == f.quote:
        context = quote_context(text, f.start, f.end)
    else:
        context = f"<mark>{esc(f.quote)}</mark>"
    meta = " · ".join(esc(x) for x in (f.title, f.date or "undated", f.qualifier) if x)
    return f'<div class="rag-fact-quote">{context}</div><div class="rag-fact-meta">{meta}</div>'


def _cell_html(qa: QA | None, facts: list[Fact], conflict: bool) -> str:
    from rag.web import esc

    parts = []
    for f in facts:
        label = " ".join(x for x in (f.value, f.precision or "") if x)
        if f.qualifier and f.qualifier != "official":
            label += f" ({f.qualifier})"
        parts.append(
            f'<details id="rag-fact-{esc(f.fact_id)}"><summary>{esc(label)}</summary>'
            f"{_quote_html(qa, f)}</details>"
        )
    badge = '<div class="rag-conflict-badge">⚠ conflicting figures</div>' if conflict else ""
    cls = ' class="rag-conflict"' if conflict else ""
    return f"<td{cls}>{badge}{''.join(parts)}</td>"


def render_spec_html(qa: QA | None, facts: list[Fact]) -> str:
    """The spec sheet as one HTML table (escaped), or a line saying there is nothing yet."""
    from rag.facts import attributes
    from rag.web import esc

    vocab = attributes()
    if not facts:
        return '<div class="rag-empty">No facts match: ingest articles or widen the filter.</div>'
    table = spec_table(facts, list(vocab))
    head = "".join(f"<th>{esc(vocab[a].en)}<br>{esc(vocab[a].zh)}</th>" for a in table.attributes)
    rows = []
    for eid, name in table.entities[:MAX_ROWS]:
        cells = "".join(
            _cell_html(qa, table.cells[(eid, a)], table.conflict(eid, a))
            if (eid, a) in table.cells
            else "<td></td>"
            for a in table.attributes
        )
        rows.append(f"<tr><th>{esc(name)}</th>{cells}</tr>")
    more = len(table.entities) - MAX_ROWS
    note = (
        f'<div class="rag-empty">{more} more entities: filter to see them.</div>'
        if more > 0
        else ""
    )
    return (
        f"<table class='rag-spec'><thead><tr><th>entity</th>{head}"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>{note}"
    )


def spec_view(qa: QA, entity: str | None, attribute: str | None) -> tuple[str, str]:
    """The tab's handler: (table HTML, path of a CSV file of the same facts)."""
    from rag.factstore import facts_csv

    attr = None if not attribute or attribute == ALL else attribute
    facts = qa.facts(entity=(entity or "").strip() or None, attribute=attr)
    fd, path = tempfile.mkstemp(prefix="spec-sheet-", suffix=".csv")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
        out.write(facts_csv(facts))
    return render_spec_html(qa, facts), path


def build_spec_tab(qa: QA) -> None:
    """Add the "Spec sheet" tab to the ``gr.Blocks`` being built (call inside its ``with``)."""
    from rag.facts import attributes
    from rag.web import gradio_module

    gr = gradio_module()
    with gr.Tab("Spec sheet", id="specsheet") as tab:
        with gr.Row():
            entity = gr.Textbox(
                label="Entity (any name: 中文, English, pinyin, or a vendor)",
                elem_id="rag-spec-entity",
                scale=3,
            )
            attribute = gr.Dropdown(
                choices=[ALL, *attributes()],
                value=ALL,
                label="Attribute",
                elem_id="rag-spec-attribute",
                scale=2,
            )
            show = gr.Button("Show", variant="primary", elem_id="rag-spec-show", scale=1)
        download = gr.DownloadButton("Download CSV", elem_id="rag-spec-csv")
        sheet = gr.HTML("", elem_id="rag-spec-table")

        def view(e: str, a: str) -> Any:
            html, path = spec_view(qa, e, a)
            return html, gr.update(value=path)

        # page events stay private: programs use the named JSON endpoints (rag.web_api)
        for event in (show.click, entity.submit, attribute.change, tab.select):
            event(view, [entity, attribute], [sheet, download], api_visibility="private")


__all__ = ["SpecTable", "build_spec_tab", "render_spec_html", "spec_table", "spec_view"]
