"""One pathology report's full result, as the CLI writes it and the service returns it."""

from __future__ import annotations

from typing import Any

from corpora.records import OLDEST_AGE

from ..structured import extract_fields as extract_patient_fields
from .extract import extract, extract_specimens, review
from .fhir import pathology_bundle
from .staging import derived_stage


def report_result(
    doc_id: str, text: str, coder: Any = None, *, age_years: float | None = None
) -> dict[str, Any]:
    """`{"id", "fields", "derived_stage", "status", "reasons", "specimens"}` for one report (fields with
    evidence; see `extract`, `staging.derived_stage`, `review`, `extract_specimens`); with a trained
    `PathologyCoder` also `coded` (field -> value) and `coding` (`predict_explained`: score,
    alternatives, source and evidence per field, or why the report is withheld). `age_years`, the
    patient's age at the report where the caller knows it (an HL7 message's PID-7 and OBR-7 give it),
    else the age the report states ("52-year-old", `nlp_engine.structured`), is read by the derived
    stage of a thyroid carcinoma (90 for any age over 89)."""
    fields = extract(text)
    site = fields["primary_site"]
    if age_years is None and site is not None and str(site["value"]).startswith("C73"):
        stated = extract_patient_fields(text).get("age")
        age_years = None if stated is None else min(float(stated.value), OLDEST_AGE)
    known = fields if age_years is None else {**fields, "age_years": {"value": age_years}}
    row: dict[str, Any] = {
        "id": doc_id,
        "fields": fields,
        "derived_stage": derived_stage(known),
        **review(text, fields),
        "specimens": extract_specimens(text),
    }
    if coder is not None:
        (explained,) = coder.predict_explained([text], k=3, extracted=[fields])
        row["coded"] = {t: explained["fields"].get(t, {}).get("value") for t in coder.models_}
        row["coding"] = explained
    return row


def report_bundle(row: dict[str, Any]) -> dict[str, Any]:
    """The FHIR Bundle of a `report_result`: its fields, its codes, and which codes are to review."""
    review = row["coding"]["review"] if "coding" in row else ()
    return pathology_bundle(
        row["id"], row["fields"], row.get("coded"), review=review, derived_stage=row.get("derived_stage")
    )
