from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

import nlp_engine
from nlp_engine.fhir import ICD10CM, FhirBundleWriter, document_to_bundle, validate_bundle

NOTE = (
    "HISTORY: History of breast cancer. Mother had colon cancer.\n"
    "ASSESSMENT: Possible pneumonia. No evidence of pulmonary embolism. Type 2 diabetes mellitus.\n"
    "Diabetes mellitus type 2, on metformin.\n"
    "PLAN: Return if chest pain develops."
)


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def conditions_by_code(bundle: dict) -> dict[str, dict]:
    return {r["code"]["coding"][0]["code"]: r for r in resources(bundle, "Condition")}


def test_conditions_carry_codes_assertions_and_evidence() -> None:
    doc = nlp_engine.process(NOTE, pipeline="clinical")
    statuses = {c.code: c.assertion.status for c in doc.concepts}
    assert statuses == {
        "C50.919": "historical",
        "C18.9": "family",
        "J18.9": "uncertain",
        "I26.99": "negated",
        "E11.9": "present",
        "R07.9": "hypothetical",
    }
    bundle = document_to_bundle(doc)
    validate_bundle(bundle)
    assert bundle["type"] == "collection"
    (report,) = resources(bundle, "DiagnosticReport")
    report_url = next(e["fullUrl"] for e in bundle["entry"] if e["resource"] is report)
    conditions = conditions_by_code(bundle)
    # Hypothetical (R07.9) and family (C18.9) mentions are not the patient's conditions.
    assert set(conditions) == {"C50.919", "J18.9", "I26.99", "E11.9"}
    verification = {code: c["verificationStatus"]["coding"][0]["code"] for code, c in conditions.items()}
    assert verification == {
        "C50.919": "confirmed",
        "J18.9": "unconfirmed",
        "I26.99": "refuted",
        "E11.9": "confirmed",
    }
    assert [code for code, c in conditions.items() if "clinicalStatus" in c] == ["E11.9"]
    for condition in conditions.values():
        assert condition["code"]["coding"][0]["system"] == ICD10CM
        assert condition["evidence"] == [{"detail": [{"reference": report_url}]}]
    # The two diabetes mentions are one Condition, with both offsets in its note.
    assert "2 mention(s)" in conditions["E11.9"]["note"][0]["text"]
    assert "no evidence of" in conditions["I26.99"]["note"][0]["text"]
    assert (
        conditions["E11.9"]["code"]["coding"][0]["display"]
        == "Type 2 diabetes mellitus without complications"
    )
    (history,) = resources(bundle, "FamilyMemberHistory")
    assert [c["code"]["coding"][0]["code"] for c in history["condition"]] == ["C18.9"]


def test_fhir_input_is_referenced_not_copied() -> None:
    doc = nlp_engine.process("Adenocarcinoma of the prostate.", pipeline="pathology")
    doc.metadata.update(
        {"resource_type": "DiagnosticReport", "resource_id": "rep-7", "subject": "Patient/p1"}
    )
    bundle = document_to_bundle(doc)
    validate_bundle(bundle)
    assert resources(bundle, "DiagnosticReport") == []
    (condition,) = resources(bundle, "Condition")
    assert condition["evidence"][0]["detail"] == [{"reference": "DiagnosticReport/rep-7"}]
    assert condition["subject"] == {"reference": "Patient/p1"}


def test_bundles_are_deterministic_and_invalid_ones_are_caught(tmp_path: Path) -> None:
    docs = nlp_engine.process([NOTE, "CHF."], ids=["a", "b"], pipeline="clinical")
    with FhirBundleWriter(tmp_path / "b.ndjson") as writer:
        for doc in docs:
            writer.write(doc)
    lines = (tmp_path / "b.ndjson").read_text().splitlines()
    assert len(lines) == 2
    assert [json.loads(line)["identifier"]["value"] for line in lines] == ["a", "b"]
    assert json.loads(lines[0]) == document_to_bundle(docs[0])  # same ids on every run
    broken = document_to_bundle(docs[1])
    del resources(broken, "Condition")[0]["subject"]
    with pytest.raises(ValidationError):
        validate_bundle(broken)
