"""ConText assertion on spans a caller supplies: `classify(text, [(start, end), ...])`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from spacy.language import Language

from .components.context import ClinicalContext
from .errors import SpanError
from .pipeline import get_pipeline
from .textio import coerce_text


def classify(
    text: str | bytes,
    spans: Sequence[tuple[int, int]],
    pipeline: str | Language = "clinical",
) -> list[dict[str, Any]]:
    """Assertion status of each `(start_char, end_char)` span of `text`.

    Returns one dict per span, in order: `negated`, `uncertain`, `historical`, `hypothetical` (bool),
    `experiencer` (`"patient"|"family"|"other"`), and `triggers` (what fired). Spans that cut a
    token are widened to whole tokens. The concept linker does not run: only the spans given count.
    """
    clean = coerce_text(text)
    nlp, _ = get_pipeline(pipeline)
    context = next((proc for _, proc in nlp.pipeline if isinstance(proc, ClinicalContext)), None)
    if context is None:
        raise SpanError("the pipeline has no clinical_context component")
    for start, end in spans:
        if not (0 <= start < end <= len(clean)):
            raise SpanError(f"span ({start}, {end}) is empty or outside the text (length {len(clean)})")
    skip = [
        name for name, proc in nlp.pipeline if isinstance(proc, ClinicalContext) or name == "icd10_concepts"
    ]
    with nlp.select_pipes(disable=skip):
        doc = nlp(clean)
    targets = []
    for start, end in spans:
        span = doc.char_span(start, end, alignment_mode="expand")
        if span is None or len(span) == 0:
            raise SpanError(f"span ({start}, {end}) covers no token")
        targets.append(span)
    return context.assert_spans(doc, targets)
