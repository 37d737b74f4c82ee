from __future__ import annotations

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from nlp_engine.parallel import DocumentFailure, iter_results
from nlp_engine.results import Document


@Language.component("test_explodes_on_boom")
def _explodes(doc: Doc) -> Doc:
    if "BOOM" in doc.text:
        raise ValueError(f"cannot handle {doc.text!r}")  # a third-party error quoting the text
    return doc


def test_a_failing_document_is_isolated_and_its_text_not_reported() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("test_explodes_on_boom")
    items = [("a", "fine", {}), ("b", "patient John BOOM", {"path": "b.txt"}), ("c", "also fine", {})]
    results = list(iter_results(items, nlp, batch_size=2))
    assert [type(r) for r in results] == [Document, DocumentFailure, Document]
    failure = results[1]
    assert isinstance(failure, DocumentFailure)
    assert failure.id == "b" and failure.metadata == {"path": "b.txt"}
    assert failure.reason == "processing failed: ValueError"
    assert "John" not in failure.reason
