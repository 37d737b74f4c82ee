"""FHIR R4 output: one `Bundle` (type `collection`) per processed document.

What a record system gets for each document:

- the source report: a reference to the input `DiagnosticReport`/`DocumentReference` when the input
  was FHIR (its id is kept in the metadata), else a `DiagnosticReport` in the bundle identifying the
  document (`identifier` = our document id; LOINC 11526-1 pathology study or 34109-9 note);
- one `Condition` per ICD-10-CM code and assertion found in the patient's own context, coded with
  `http://hl7.org/fhir/sid/icd-10-cm`, `verificationStatus` from the assertion (affirmed `confirmed`,
  negated `refuted`, uncertain `unconfirmed`), `clinicalStatus` `active` only for affirmed current
  mentions, `evidence.detail` pointing at the source report, and a note with the mentions' character
  offsets, section and ConText triggers; mentions of the same code and assertion are merged;
- one `FamilyMemberHistory` for affirmed family-history mentions (relationship `FAMMEMB`: the text
  rarely says which relative in a way worth coding).

Hypothetical mentions ("return if chest pain develops") and mentions about other people make no
resource: they assert nothing about the patient. Ids are UUIDs derived from the document id, so the
same input gives byte-identical bundles on every run and on every engine (local or Spark).
Validated against the R4B models of `fhir.resources` (R4B's Condition and DiagnosticReport are R4's).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from .results import Concept, Document

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
DOCUMENT_ID_SYSTEM = "urn:nlp-engine:document-id"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/nlp-engine/nlp-engine")
_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_ROLE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
_REPORT_CODES = {
    "pathology": ("11526-1", "Pathology study"),
    "clinical": ("34109-9", "Note"),
}


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))


def _codeable(system: str, code: str, display: str | None = None, text: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display:
        coding["display"] = display
    concept: dict[str, Any] = {"coding": [coding]}
    if text:
        concept["text"] = text
    return concept


def _subject(doc: Document) -> dict[str, Any]:
    meta = doc.metadata
    if isinstance(meta.get("subject"), str) and meta["subject"].startswith("Patient/"):
        return {"reference": meta["subject"]}
    if meta.get("patient_id"):
        return {"reference": f"Patient/{meta['patient_id']}"}
    return {"display": "the patient of the source report"}


def _verification(concept: Concept) -> str | None:
    """`confirmed`/`refuted`/`unconfirmed` for a mention about the patient; None for no resource."""
    assertion = concept.assertion
    if assertion.experiencer != "patient" or assertion.hypothetical:
        return None
    if assertion.negated:
        return "refuted"
    if assertion.uncertain:
        return "unconfirmed"
    return "confirmed"


def _mention_note(kind: str, mentions: list[Concept]) -> dict[str, str]:
    spans = ", ".join(f"{c.start}-{c.end}" + (f" in {c.section}" if c.section else "") for c in mentions[:20])
    if len(mentions) > 20:
        spans += f" and {len(mentions) - 20} more"
    triggers = sorted({str(t.get("literal", "")) for c in mentions for t in c.assertion.triggers} - {""})
    note = f"nlp-engine: {kind} from {len(mentions)} mention(s) at characters {spans}"
    if triggers:
        note += f"; assertion triggers: {', '.join(triggers)}"
    return {"text": note}


def document_to_bundle(doc: Document) -> dict[str, Any]:
    """The FHIR R4 `Bundle` (as JSON-ready dict) for one processed document."""
    entries: list[dict[str, Any]] = []
    subject = _subject(doc)
    kind, source_id = doc.metadata.get("resource_type"), doc.metadata.get("resource_id")
    if kind in ("DiagnosticReport", "DocumentReference") and source_id:
        source = {"reference": f"{kind}/{source_id}"}
    else:
        report_uuid = _uuid(doc.id, "report")
        code, display = _REPORT_CODES.get(doc.pipeline, _REPORT_CODES["clinical"])
        report: dict[str, Any] = {
            "resourceType": "DiagnosticReport",
            "id": report_uuid,
            "identifier": [{"system": DOCUMENT_ID_SYSTEM, "value": doc.id}],
            "status": "final",
            "code": _codeable(LOINC, code, display),
            "subject": subject,
        }
        entries.append({"fullUrl": f"urn:uuid:{report_uuid}", "resource": report})
        source = {"reference": f"urn:uuid:{report_uuid}"}

    groups: dict[tuple[str, str, bool], list[Concept]] = {}
    family: dict[str, list[Concept]] = {}
    for concept in doc.concepts:
        if concept.code is None:
            continue
        verification = _verification(concept)
        if verification is not None:
            current = verification == "confirmed" and not concept.assertion.historical
            groups.setdefault((concept.code, verification, current), []).append(concept)
        elif (
            concept.assertion.experiencer == "family"
            and not concept.assertion.negated
            and not concept.assertion.hypothetical
        ):
            family.setdefault(concept.code, []).append(concept)

    for (code, verification, current), mentions in groups.items():
        condition_uuid = _uuid(doc.id, "condition", code, verification, str(current))
        condition: dict[str, Any] = {
            "resourceType": "Condition",
            "id": condition_uuid,
            "meta": {"tag": [{"system": "urn:nlp-engine", "code": "nlp-extracted", "display": doc.pipeline}]},
            "verificationStatus": _codeable(_VERIFICATION, verification),
            "code": _codeable(ICD10CM, code, _title(mentions), mentions[0].text),
            "subject": subject,
            "evidence": [{"detail": [source]}],
            "note": [
                _mention_note(
                    "historical mention" if mentions[0].assertion.historical else verification, mentions
                )
            ],
        }
        if current:
            condition["clinicalStatus"] = _codeable(_CLINICAL, "active")
        entries.append({"fullUrl": f"urn:uuid:{condition_uuid}", "resource": condition})

    if family:
        history_uuid = _uuid(doc.id, "family-history")
        history = {
            "resourceType": "FamilyMemberHistory",
            "id": history_uuid,
            "status": "completed",
            "patient": subject,
            "relationship": _codeable(_ROLE, "FAMMEMB", "family member"),
            "condition": [
                {
                    "code": _codeable(ICD10CM, code, _title(mentions), mentions[0].text),
                    "note": [_mention_note("family history", mentions)],
                }
                for code, mentions in family.items()
            ],
        }
        entries.append({"fullUrl": f"urn:uuid:{history_uuid}", "resource": history})
    return {
        "resourceType": "Bundle",
        "id": _uuid(doc.id, "bundle"),
        "identifier": {"system": DOCUMENT_ID_SYSTEM, "value": doc.id},
        "type": "collection",
        "entry": entries,
    }


def _title(mentions: Iterable[Concept]) -> str | None:
    for concept in mentions:
        for candidate in concept.codes:
            if candidate.code == concept.code:
                return candidate.title
    return None


def validate_bundle(bundle: dict[str, Any]) -> None:
    """Raise `pydantic.ValidationError` unless `bundle` is a valid R4(B) Bundle with valid resources."""
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(bundle)


class FhirBundleWriter:
    """FHIR NDJSON: one Bundle per line (as in FHIR bulk data), one Bundle per document, each validated
    against the R4B models before it is written (about 1 ms a bundle)."""

    def __init__(self, path: str | Path, *, validate: bool = True) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.validate = validate
        self._tmp = self.path.with_name(self.path.name + ".tmp")
        self._handle: IO[str] = open(self._tmp, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def write(self, doc: Document) -> None:
        bundle = document_to_bundle(doc)
        if self.validate:
            validate_bundle(bundle)
        self._handle.write(json.dumps(bundle, ensure_ascii=False, separators=(",", ":")) + "\n")

    def close(self) -> None:
        self._handle.close()
        self._tmp.replace(self.path)

    def __enter__(self) -> FhirBundleWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
