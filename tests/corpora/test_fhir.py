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
