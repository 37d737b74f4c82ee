from __future__ import annotations

import base64
import json
from pathlib import Path

from corpora.readers import iter_records


def b64(text: str, encoding: str = "utf-8") -> str:
    return base64.b64encode(text.encode(encoding)).decode()


REPORT = {
    "resourceType": "DiagnosticReport",
    "id": "rep1",
    "status": "final",
    "code": {"text": "Surgical pathology"},
    "subject": {"reference": "Patient/p1"},
    "conclusion": "Prostatic adenocarcinoma.",
    "presentedForm": [
        {
            "contentType": "text/plain",
            "data": b64("FINAL DIAGNOSIS: Prostatic adenocarcinoma, Gleason 3+4=7."),
        }
    ],
}
DOCREF = {
    "resourceType": "DocumentReference",
    "id": "doc1",
    "status": "current",
    "subject": {"reference": "Patient/p2"},
    "content": [
        {
            "attachment": {
                "contentType": "text/plain; charset=windows-1252",
                "data": b64("Seen at the café. Denies chest pain.", "cp1252"),
            }
        }
    ],
}


def records(folder: Path) -> dict[str, tuple[str | None, str | None]]:
    return {r.id: (r.text, r.error) for r in iter_records(folder)}


def test_reports_documents_and_bundles(tmp_path: Path) -> None:
    (tmp_path / "report.json").write_text(json.dumps(REPORT))
    only_conclusion = {k: v for k, v in REPORT.items() if k != "presentedForm"} | {"id": "rep2"}
    bundle = {
        "resourceType": "Bundle",
        "id": "b1",
        "type": "collection",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "p2"}},
            {"resource": DOCREF},
            {"resource": only_conclusion},
        ],
    }
    (tmp_path / "bundle.json").write_text(json.dumps(bundle))
    got = records(tmp_path)
    # a conclusion not already in the presented form is added as its own section
    assert got["report.json#DiagnosticReport/rep1"] == (
        "FINAL DIAGNOSIS: Prostatic adenocarcinoma, Gleason 3+4=7.\n\nCONCLUSION: Prostatic adenocarcinoma.",
        None,
    )
    assert got["bundle.json#DocumentReference/doc1"] == ("Seen at the café. Denies chest pain.", None)
    assert got["bundle.json#DiagnosticReport/rep2"] == ("Prostatic adenocarcinoma.", None)
    assert len(got) == 3  # the Patient entry is not a document


def test_bad_fhir_inputs_are_records_with_reasons(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"resourceType": "DiagnosticReport", ')
    (tmp_path / "patient.json").write_text(
        json.dumps({"resourceType": "Patient", "id": "p1", "name": [{"family": "Secretname"}]})
    )
    (tmp_path / "invalid.json").write_text(json.dumps({**REPORT, "subject": "Secretvalue"}))
    by_url = {
        **DOCREF,
        "id": "doc9",
        "content": [{"attachment": {"contentType": "text/plain", "url": "http://x/y"}}],
    }
    (tmp_path / "url.json").write_text(json.dumps(by_url))
    (tmp_path / "plain.json").write_text("[1, 2]")
    got = records(tmp_path)
    assert got["broken.json"][1].startswith("invalid JSON")  # type: ignore[union-attr]
    assert "unsupported FHIR resource type 'Patient'" in (got["patient.json#Patient/p1"][1] or "")
    reason = got["invalid.json#DiagnosticReport/rep1"][1] or ""
    assert (
        reason.startswith("invalid FHIR DiagnosticReport") and "subject" in reason and "Secret" not in reason
    )
    assert "URL" in (got["url.json#DocumentReference/doc9"][1] or "")
    assert got["plain.json"][1] == "not a FHIR resource (no resourceType)"


def test_the_patients_age_at_the_report_from_a_bundle(tmp_path: Path) -> None:
    dated = REPORT | {"effectiveDateTime": "2023-06-10T09:30:00Z"}
    issued = REPORT | {"id": "rep2", "issued": "2024-07-01T08:00:00+02:00"}
    other = REPORT | {
        "id": "rep3",
        "subject": {"reference": "urn:uuid:7d1e"},
        "effectiveDateTime": "2023-06-10",
    }
    undated = REPORT | {"id": "rep4"}
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "p1", "birthDate": "1970-06-12"}},
            {"fullUrl": "urn:uuid:7d1e", "resource": {"resourceType": "Patient", "birthDate": "1920-01-01"}},
            *({"resource": r} for r in (dated, issued, other, undated)),
        ],
    }
    (tmp_path / "bundle.json").write_text(json.dumps(bundle))
    (tmp_path / "alone.json").write_text(json.dumps(dated))  # no Patient: no age
    ages = {r.id: r.metadata.get("age_years") for r in iter_records(tmp_path)}
    assert ages == {
        "bundle.json#DiagnosticReport/rep1": 52,  # the day before the 53rd birthday
        "bundle.json#DiagnosticReport/rep2": 54,  # from issued
        "bundle.json#DiagnosticReport/rep3": 90,  # 103: over 89, 90 (Safe Harbor)
        "bundle.json#DiagnosticReport/rep4": None,  # no date on the report
        "alone.json#DiagnosticReport/rep1": None,
    }
    # a Patient contained in the report, named `#id`
    contained = dated | {
        "contained": [{"resourceType": "Patient", "id": "pt", "birthDate": "1960-01-31"}],
        "subject": {"reference": "#pt"},
    }
    (tmp_path / "contained.json").write_text(json.dumps(contained))
    ages = {r.id: r.metadata.get("age_years") for r in iter_records(tmp_path)}
    assert ages["contained.json#DiagnosticReport/rep1"] == 63
