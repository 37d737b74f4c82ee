from __future__ import annotations

import pickle

import pytest
import spacy
from spacy.language import Language

import nlp_engine.components.sentences  # noqa: F401 - registers the factory
from nlp_engine.components.tokenizer import ClinicalTokenizer


@pytest.fixture(scope="module")
def nlp() -> Language:
    nlp = spacy.blank("en")
    nlp.tokenizer = ClinicalTokenizer(nlp)
    nlp.add_pipe("clinical_sentences")
    return nlp


def sentences(nlp: Language, text: str) -> list[str]:
    return [s.text.strip() for s in nlp(text).sents if s.text.strip()]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dr. Smith saw the patient. He is well.", ["Dr. Smith saw the patient.", "He is well."]),
        ("Takes aspirin 81 mg q.d. He denies pain.", ["Takes aspirin 81 mg q.d.", "He denies pain."]),
        ("Approx. three cores were received.", ["Approx. three cores were received."]),
        (
            "He denies chest pain and\nshortness of breath at rest.",
            ["He denies chest pain and\nshortness of breath at rest."],
        ),
        ("Line one\n\nLine two", ["Line one", "Line two"]),
        (
            "FINAL DIAGNOSIS:\nA. Prostate, biopsy:\n   - Adenocarcinoma, Gleason 3+4=7\nB. Benign.",
            ["FINAL DIAGNOSIS:", "A. Prostate, biopsy:", "- Adenocarcinoma, Gleason 3+4=7", "B. Benign."],
        ),
        (
            "1. Hypertension.\n2. Diabetes mellitus.",
            ["1. Hypertension.", "2. Diabetes mellitus."],
        ),
        (
            "flaring up.,MEDICATIONS: , Her only medication is Allegra.,ALLERGIES: , None.",
            ["flaring up.,", "MEDICATIONS: ,", "Her only medication is Allegra.,", "ALLERGIES: ,", "None."],
        ),
        ("IMPRESSION: No acute disease. Follow up.", ["IMPRESSION:", "No acute disease.", "Follow up."]),
        # a wide gap before a capital after a lower-case word is a lost full stop ...
        (
            "Biopsies taken to R/O H pylori  The bulb was normal.",
            ["Biopsies taken to R/O H pylori", "The bulb was normal."],
        ),
        # ... but not a wrapped line's spacing before lower case, nor after a title
        ("Doppler negative   for DVT.", ["Doppler negative   for DVT."]),
        ("Seen by Dr.  Smith today.", ["Seen by Dr.  Smith today."]),
    ],
)
def test_clinical_sentence_boundaries(nlp: Language, text: str, expected: list[str]) -> None:
    assert sentences(nlp, text) == expected


def test_empty_and_whitespace(nlp: Language) -> None:
    assert list(nlp("").sents) == []
    assert len(list(nlp("   \n\n  ").sents)) >= 1


def test_component_pickles(nlp: Language) -> None:
    clone = pickle.loads(pickle.dumps(nlp.get_pipe("clinical_sentences")))
    doc = clone(nlp.make_doc("One. Two."))
    assert [s.text.strip() for s in doc.sents] == ["One.", "Two."]
