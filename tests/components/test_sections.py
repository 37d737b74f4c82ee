from __future__ import annotations

import json
import pickle

import pytest
import spacy
from spacy.language import Language

from nlp_engine.components.sections import ClinicalSections, load_section_rules
from nlp_engine.errors import RuleFileError

PATH_REPORT = """SURGICAL PATHOLOGY REPORT
CLINICAL HISTORY:
Elevated PSA.
SPECIMEN: Prostate, needle biopsy.
GROSS DESCRIPTION:
Two cores.
MICROSCOPIC DESCRIPTION:
Infiltrating glands.
FINAL DIAGNOSIS:
Adenocarcinoma.
SYNOPTIC REPORT:
Procedure: Needle biopsy
Histologic type: acinar adenocarcinoma
Specimen laterality: left
COMMENT: Discussed with urology.
ADDENDUM:
PSA stain positive.
"""


def names(nlp: Language, text: str) -> list[str]:
    return [span.label_ for span in nlp(text)._.sections]


def test_pathology_sections(pathology: Language) -> None:
    assert names(pathology, PATH_REPORT) == [
        "clinical_history",
        "specimen",
        "gross",
        "microscopic",
        "final_diagnosis",
        "synoptic",
        "comment",
        "addendum",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CHIEF COMPLAINT: Cough.\nHPI: 3 days of cough.", ["chief_complaint", "history_of_present_illness"]),
        ("Past Medical History:\nHTN\nMedications:\nLisinopril", ["past_medical_history", "medications"]),
        (
            "ALLERGIES: NKDA\nFAMILY HISTORY: Mother with DM.\nSOCIAL HISTORY: No tobacco.",
            ["allergies", "family_history", "social_history"],
        ),
        (
            "REVIEW OF SYSTEMS: Negative.\nPHYSICAL EXAMINATION: Normal.\nLABS: WBC 7.",
            ["review_of_systems", "physical_exam", "labs"],
        ),
        (
            "IMAGING: CXR clear.\nASSESSMENT AND PLAN: Pneumonia.\nDISCHARGE DIAGNOSES: Pneumonia.",
            ["imaging", "assessment_and_plan", "discharge_diagnoses"],
        ),
        # MTSamples' flattened layout: line breaks became ", " after the headers.
        (
            "SUBJECTIVE:, Cough.,MEDICATIONS: , None.,ALLERGIES: , None.",
            ["history_of_present_illness", "medications", "allergies"],
        ),
        # A header word inside a sentence is not a header.
        ("The family history is unremarkable.", []),
        # A header alone on its line, without a colon, in capitals.
        ("FINAL DIAGNOSIS\nBenign.", ["final_diagnosis"]),
    ],
)
def test_note_sections(clinical: Language, text: str, expected: list[str]) -> None:
    assert names(clinical, text) == expected


def test_token_section_and_offsets(clinical: Language) -> None:
    doc = clinical("Intro line.\nFAMILY HISTORY: Mother with breast cancer.\nPLAN: Mammogram.")
    assert doc[0]._.section is None
    mother = next(t for t in doc if t.text == "Mother")
    assert mother._.section == "family_history"
    plan_token = next(t for t in doc if t.text == "Mammogram")
    assert plan_token._.section == "assessment_and_plan"
    span = doc._.sections[0]
    assert span.text.startswith("FAMILY HISTORY:")


def test_group_priority_changes_category() -> None:
    note_first = load_section_rules("vocab:section_rules.jsonl", ["note", "pathology"])
    path_first = load_section_rules("vocab:section_rules.jsonl", ["pathology", "note"])
    assert (note_first["diagnosis"], path_first["diagnosis"]) == ("assessment_and_plan", "final_diagnosis")


def test_unknown_keys_rejected(tmp_path) -> None:
    bad = tmp_path / "rules.jsonl"
    bad.write_text(
        json.dumps({"literal": "gross", "category": "gross", "group": "pathology", "colour": "red"}) + "\n"
    )
    with pytest.raises(RuleFileError, match="unknown keys"):
        load_section_rules(bad, ["pathology"])


def test_serialization_round_trips(clinical: Language, tmp_path) -> None:
    component = clinical.get_pipe("clinical_sections")
    assert isinstance(component, ClinicalSections)
    component.to_disk(tmp_path / "sections")
    nlp = spacy.blank("en")
    fresh = nlp.add_pipe("clinical_sections", config={"groups": ["pathology"]})
    fresh.from_disk(tmp_path / "sections")
    assert fresh.rules == component.rules and fresh.groups == component.groups
    from_bytes = nlp.add_pipe("clinical_sections", name="other").from_bytes(component.to_bytes())
    assert from_bytes.rules == component.rules
    clone = pickle.loads(pickle.dumps(component))
    doc = clone(clinical.make_doc("PLAN: rest."))
    assert [s.label_ for s in doc.spans["sections"]] == ["assessment_and_plan"]


def test_uninitialized_component_says_so() -> None:
    nlp = spacy.blank("en")
    component = nlp.add_pipe("clinical_sections")
    with pytest.raises(RuleFileError, match="initialize"):
        component(nlp.make_doc("PLAN: rest"))
