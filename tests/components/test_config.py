"""Each component is created from config, with its settings honoured, as spaCy users build them."""

from __future__ import annotations

import spacy

from nlp_engine.components.concepts import ICD10Concepts
from nlp_engine.components.context import ClinicalContext
from nlp_engine.components.sections import ClinicalSections
from nlp_engine.components.sentences import ClinicalSentences
from nlp_engine.components.tokenizer import ClinicalTokenizer


def test_tokenizer_from_config() -> None:
    nlp = spacy.blank(
        "en", config={"nlp": {"tokenizer": {"@tokenizers": "nlp_engine.clinical_tokenizer.v1"}}}
    )
    assert isinstance(nlp.tokenizer, ClinicalTokenizer)
    assert [t.text for t in nlp("s/p 3+4=7")] == ["s/p", "3+4=7"]


def test_components_from_config() -> None:
    nlp = spacy.blank("en")
    assert isinstance(nlp.add_pipe("clinical_sentences"), ClinicalSentences)
    sections = nlp.add_pipe("clinical_sections", config={"groups": ["pathology"]})
    assert isinstance(sections, ClinicalSections) and sections.groups == ["pathology"]
    linker = nlp.add_pipe("icd10_concepts", config={"max_candidates": 2, "max_tokens": 4})
    assert isinstance(linker, ICD10Concepts) and (linker.max_candidates, linker.max_tokens) == (2, 4)
    context = nlp.add_pipe(
        "clinical_context", config={"max_scope": 3, "section_defaults": {"plan": "hypothetical"}}
    )
    assert isinstance(context, ClinicalContext)
    # spaCy merges dict settings into the defaults, so the family-history default stays.
    assert context.max_scope == 3
    assert context.section_defaults["plan"] == "hypothetical"
    assert context.section_defaults["family_history"] == "family"
    nlp.initialize()
    doc = nlp("FINAL DIAGNOSIS: congestive heart failure. No cough or fever or chills or rash.")
    assert [s.label_ for s in doc.spans["sections"]] == ["final_diagnosis"]
    ents = {e.text: e for e in doc.ents}
    assert len(ents["congestive heart failure"]._.codes) <= 2
    # max_scope=3 words: "rash" is too far from "No" to be negated, "cough" is not.
    assert ents["cough"]._.negated is True
    assert ents["rash"]._.negated is False


def test_max_tokens_limits_term_length() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("icd10_concepts", config={"max_tokens": 1})
    nlp.initialize()
    assert [e.text for e in nlp("congestive heart failure").ents] != ["congestive heart failure"]
