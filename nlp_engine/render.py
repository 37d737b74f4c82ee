"""displaCy HTML rendering of a processed report: sections, concepts with codes, and assertions."""

from __future__ import annotations

from spacy import displacy
from spacy.tokens import Doc, Span

from .components.sections import TITLE_KEY

RENDER_KEY = "nlp_engine_render"
STATUS_COLORS = {
    "present": "#7aecec",
    "negated": "#ff9561",
    "uncertain": "#feca74",
    "historical": "#c887fb",
    "hypothetical": "#bfe1d9",
    "family": "#e4e7d2",
    "other": "#e4e7d2",
    "SECTION": "#dddddd",
}


def _status(ent: Span) -> str:
    if ent._.negated:
        return "negated"
    if ent._.hypothetical:
        return "hypothetical"
    if ent._.uncertain:
        return "uncertain"
    if ent._.historical:
        return "historical"
    return ent._.experiencer if ent._.experiencer != "patient" else "present"


def render_html(doc: Doc, title: str = "nlp_engine report") -> str:
    """A standalone HTML page; concept labels read `CODE status`, section headers `SECTION name`."""
    spans = []
    colors = {}
    for header in doc.spans.get(TITLE_KEY, []):
        label = f"SECTION {header.label_}"
        spans.append(Span(doc, header.start, header.end, label=label))
        colors[label] = STATUS_COLORS["SECTION"]
    for ent in doc.ents:
        status = _status(ent)
        label = f"{ent.kb_id_} {status}"
        spans.append(Span(doc, ent.start, ent.end, label=label))
        colors[label] = STATUS_COLORS.get(status, "#dddddd")
    doc.spans[RENDER_KEY] = spans
    html = displacy.render(doc, style="span", options={"spans_key": RENDER_KEY, "colors": colors}, page=True)
    del doc.spans[RENDER_KEY]
    return str(html).replace("<title>displaCy</title>", f"<title>{title}</title>", 1)
