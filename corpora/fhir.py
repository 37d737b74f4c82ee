"""FHIR R4 reader: report text from DiagnosticReport and DocumentReference resources, alone or in Bundles.

Resources are validated with `fhir.resources` (its R4B models, which read R4 reports). Text comes from
`DiagnosticReport.presentedForm` (text attachments, base64 decoded, encoding detected) or else its
`conclusion`, and from `DocumentReference.content[].attachment`. Ids are `FILE#Type/id`. Invalid JSON,
a resource that fails validation (reported by field path and count, never by value), another resource
type, or an attachment only reachable by URL is a record with an error; Bundle entries that are not
reports (Patient, Observation, ...) are passed over, but for the birth date of a Patient a report's
subject names (in the Bundle, or contained in the report: `#id`), which gives the patient's age at
the report (`age_years` in the metadata: from the report's effective date, else its issued or
document date; 90 for any age over 89).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.documentreference import DocumentReference
from pydantic import ValidationError

from nlp_engine.errors import NLPEngineError
from nlp_engine.textio import decode_bytes

from .records import InputRecord, age_years, text_sha256

REPORT_TYPES: dict[str, Any] = {"DiagnosticReport": DiagnosticReport, "DocumentReference": DocumentReference}


def _attachment_text(attachment: Any) -> tuple[str | None, str | None]:
    """`(text, None)` or `(None, reason)` for one attachment."""
    content_type = (attachment.contentType or "text/plain").split(";")[0].strip().lower()
    if not content_type.startswith("text/"):
        return None, f"attachment type {content_type} is not text"
    if attachment.data is None:
        return (
            None,
            "attachment has no inline data (a URL cannot be fetched offline)"
            if attachment.url
            else "attachment is empty",
        )
    try:
        text, _ = decode_bytes(bytes(attachment.data))
    except NLPEngineError as exc:
        return None, str(exc)
    return text, None


def _date(value: Any) -> date | None:
    """The date of a FHIR date, dateTime or instant (`1970-06-12`, `2023-06-10T09:30:00Z`); None for
    a partial date (`1970`, `1970-06`) or anything else."""
    try:
        return date.fromisoformat(str(value)[:10]) if isinstance(value, str) else None
    except ValueError:
        return None


def _report_date(resource: dict[str, Any]) -> date | None:
    """When a report's findings were made: the effective date or period start, else issued, else the
    DocumentReference's date."""
    period = resource.get("effectivePeriod")
    dates = (
        _date(resource.get("effectiveDateTime")),
        _date(period.get("start")) if isinstance(period, dict) else None,
        _date(resource.get("issued")),
        _date(resource.get("date")),
    )
    return next((d for d in dates if d is not None), None)


def _births(entries: list[Any], contained: bool = False) -> dict[str, date]:
    """The birth dates of a Bundle's Patients by the references that may name them (`Patient/id` and
    the entry's fullUrl), or with `contained` of a report's contained Patients (`#id`)."""
    births = {}
    for entry in entries:
        resource = (entry if contained else entry.get("resource")) if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") != "Patient":
            continue
        born = _date(resource.get("birthDate"))
        if born is None:
            continue
        if resource.get("id"):
            births[f"#{resource['id']}" if contained else f"Patient/{resource['id']}"] = born
        if not contained and entry.get("fullUrl"):
            births[str(entry["fullUrl"])] = born
    return births


def resource_to_record(
    resource: dict[str, Any],
    file_id: str,
    position: int,
    meta: dict[str, Any],
    births: dict[str, date] | None = None,
) -> InputRecord:
    kind = resource.get("resourceType")
    rid = resource.get("id") or f"entry{position}"
    doc_id = f"{file_id}#{kind}/{rid}"
    record_meta = {**meta, "resource_type": kind, "resource_id": resource.get("id")}
    model = REPORT_TYPES.get(str(kind))
    if model is None:
        return InputRecord(
            doc_id,
            None,
            record_meta,
            f"unsupported FHIR resource type {kind!r}; expected DiagnosticReport, DocumentReference or Bundle",
        )
    try:
        report = model.model_validate(resource)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in err["loc"]) for err in exc.errors()})[:5]
        return InputRecord(
            doc_id, None, record_meta, f"invalid FHIR {kind}: {exc.error_count()} error(s) at {fields}"
        )
    subject = getattr(report, "subject", None)
    if subject is not None and subject.reference:
        record_meta["subject"] = subject.reference
        known = {**(births or {}), **_births(resource.get("contained") or [], contained=True)}
        age = age_years(known.get(subject.reference), _report_date(resource))
        if age is not None:
            record_meta["age_years"] = age
    record_meta["status"] = report.status
    texts: list[str] = []
    reasons: list[str] = []
    attachments = (
        list(report.presentedForm or [])
        if isinstance(report, DiagnosticReport)
        else [c.attachment for c in report.content or [] if c.attachment is not None]
    )
    for attachment in attachments:
        text, reason = _attachment_text(attachment)
        if text is not None and text.strip():
            texts.append(text.strip())
        elif reason:
            reasons.append(reason)
    if (
        isinstance(report, DiagnosticReport)
        and report.conclusion
        and not any(report.conclusion in t for t in texts)
    ):
        texts.append(f"CONCLUSION: {report.conclusion}" if texts else report.conclusion)
    text = "\n\n".join(texts)
    if not text:
        return InputRecord(doc_id, None, record_meta, "; ".join(reasons) or f"{kind} has no text")
    record_meta["sha256"] = text_sha256(text)
    return InputRecord(doc_id, text, record_meta)


def read_fhir_text(text: str, *, file_id: str, meta: dict[str, Any]) -> Iterator[InputRecord]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        yield InputRecord(
            file_id, None, meta, f"invalid JSON at line {exc.lineno} column {exc.colno} ({exc.msg})"
        )
        return
    if not isinstance(data, dict) or "resourceType" not in data:
        yield InputRecord(file_id, None, meta, "not a FHIR resource (no resourceType)")
        return
    if data["resourceType"] != "Bundle":
        yield resource_to_record(data, file_id, 0, meta)
        return
    entries = data.get("entry") or []
    reports = [
        (position, entry["resource"])
        for position, entry in enumerate(entries)
        if isinstance(entry, dict)
        and isinstance(entry.get("resource"), dict)
        and entry["resource"].get("resourceType") in REPORT_TYPES
    ]
    if not reports:
        yield InputRecord(
            file_id,
            None,
            meta,
            f"Bundle of {len(entries)} entries holds no DiagnosticReport or DocumentReference",
        )
        return
    births = _births(entries)
    for position, resource in reports:
        yield resource_to_record(resource, file_id, position, {**meta, "bundle_id": data.get("id")}, births)
