"""FHIR R4 output of a pathology report's synoptic fields: one `Bundle` (type `collection`) per report.

- a `DiagnosticReport` (LOINC 11526-1, pathology study) identifying the report, whose `result` lists
  the Observations;
- one `Observation` per extracted field of the cancer pathology panel, coded with LOINC where LOINC
  has the item (pT 21899-0, pN 21900-6, pM 21901-4, stage group 21902-2, tumour size 21889-1, nodes
  positive 21893-3 and examined 21894-1, Gleason score 35266-6, ER 16112-5, PR 16113-3, HER2
  48676-1), else with the field's name under `urn:nlp-engine:pathology-field`; the value as a
  `valueQuantity` (mm, UCUM), `valueInteger` (node counts) or `valueCodeableConcept` (the value as
  written), and a note with the evidence's character offsets (and disagreeing mentions, if any); the
  report lists them as its `result` (R4 allows no DiagnosticReport as an Observation's `derivedFrom`);
- one `Condition` for the tumour when a histologic type was found (or coded by a model): the ICD-O-3
  morphology (`http://terminology.hl7.org/CodeSystem/icd-o-3`) and, from a `PathologyCoder`, the
  ICD-10 code; `bodySite` the ICD-O-3 topography; `stage` pointing at the stage Observation;
- with `derived_stage`, a stage-group Observation for the AJCC stage the report's own pT/pN/pM give,
  its `method` naming the edition and its `derivedFrom` the pT/pN/pM Observations.

Ids are UUIDs derived from the report id, so the same input gives identical bundles on every run.
Validated against the R4B models of `fhir.resources`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from ..fhir import _REPORT_CODES, _VERIFICATION, DOCUMENT_ID_SYSTEM, LOINC, _codeable, _uuid, validate_bundle
from . import icdo
from .extract import with_prefix

ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
FIELD_SYSTEM = "urn:nlp-engine:pathology-field"
UCUM = "http://unitsofmeasure.org"
_LOINC = {
    "pT": ("21899-0", "Primary tumor.pathology [Class] Cancer"),
    "pN": ("21900-6", "Regional lymph nodes.pathology [Class] Cancer"),
    "pM": ("21901-4", "Distant metastases.pathology [Class] Cancer"),
    "stage": ("21902-2", "Stage group.pathology Cancer"),
    "tumor_size_mm": ("21889-1", "Size Tumor"),
    "lymph_nodes_positive": ("21893-3", "Regional lymph nodes positive [#] Specimen"),
    "lymph_nodes_examined": ("21894-1", "Regional lymph nodes examined [#] Specimen"),
    "gleason": ("35266-6", "Gleason score in Specimen Qualitative"),
    "er": ("16112-5", "Estrogen receptor [Interpretation] in Tissue"),
    "pr": ("16113-3", "Progesterone receptor [Interpretation] in Tissue"),
    "her2": ("48676-1", "HER2 [Interpretation] in Tissue"),
    "psa_ng_ml": ("2857-1", "Prostate specific Ag [Mass/volume] in Serum or Plasma"),
}
_CONDITION_FIELDS = ("histologic_type", "primary_site")
# What a stage derived from a prefixed TNM is
_KIND = {"y": "post-therapy (yp) ", "r": "recurrence (rp) "}


def _evidence_note(field: dict[str, Any]) -> str:
    note = f"nlp-engine: read from characters {field['start']}-{field['end']} of the report"
    if field.get("alternatives"):
        note += f"; other values stated: {', '.join(map(str, field['alternatives']))}"
    # what a marker's status was read from: HER2's IHC score and ISH result, ER/PR's share of cells,
    # IDH's R132H stain
    for key, label in (("ihc", "IHC"), ("ish", "ISH"), ("percent", "cells stained %")):
        if field.get(key) is not None:
            note += f"; {label} {field[key]}"
    # each part's own result: mismatch repair's proteins, IDH's genes sequenced, 1p/19q's arms
    for key, label in (("proteins", ""), ("sequencing", "sequencing: "), ("arms", "")):
        if field.get(key):
            note += "; " + label + ", ".join(f"{name} {state}" for name, state in field[key].items())
    return note


def _value(name: str, value: Any) -> dict[str, Any]:
    if name.endswith("_mm"):
        return {"valueQuantity": {"value": value, "unit": "mm", "system": UCUM, "code": "mm"}}
    if name.endswith("_ng_ml"):
        return {"valueQuantity": {"value": value, "unit": "ng/mL", "system": UCUM, "code": "ng/mL"}}
    if name.startswith("lymph_nodes_") or name in ("grade_group", "ki67_percent"):
        return {"valueInteger": int(value)}
    return {"valueCodeableConcept": {"text": str(value)}}


def pathology_bundle(
    report_id: str,
    fields: dict[str, Any],
    coded: dict[str, Any] | None = None,
    *,
    review: Collection[str] = (),
    derived_stage: dict[str, Any] | None = None,
    validate: bool = True,
) -> dict[str, Any]:
    """The Bundle for one report: `fields` from `extract`, `coded` (optional) one row of
    `PathologyCoder.predict`, `review` the coded fields a human coder should check (the Condition is
    then `provisional`, not `confirmed`), `derived_stage` the stage its pT/pN/pM give
    (`staging.derived_stage`): a stage-group Observation of its own, with the AJCC edition as its
    `method` and the Observations it was derived from as `derivedFrom`; the Condition's stage is the
    stated one where the report states one, else the derived one."""
    report_uuid = _uuid(report_id, "pathology-report")
    subject = {"display": "the patient of the source report"}
    source = {"reference": f"urn:uuid:{report_uuid}"}
    entries: list[dict[str, Any]] = []
    results = []
    stage_ref = None
    observed: dict[str, dict[str, str]] = {}  # field name -> reference to its Observation

    def add(key: str, code: dict[str, Any], note: str, **content: Any) -> dict[str, str]:
        """One Observation of the report (`content`: its value and any other elements), listed in the
        report's `result`; its reference."""
        obs_uuid = _uuid(report_id, "pathology-observation", key)
        observation = {
            "resourceType": "Observation",
            "id": obs_uuid,
            "status": "final",
            "category": [
                _codeable("http://terminology.hl7.org/CodeSystem/observation-category", "laboratory")
            ],
            "code": code,
            "subject": subject,
            **content,
            "note": [{"text": note}],
        }
        entries.append({"fullUrl": f"urn:uuid:{obs_uuid}", "resource": observation})
        results.append({"reference": f"urn:uuid:{obs_uuid}"})
        return {"reference": f"urn:uuid:{obs_uuid}"}

    for name, field in fields.items():
        if field is None or name in _CONDITION_FIELDS:
            continue
        code, display = _LOINC.get(name, (None, None))
        concept = _codeable(LOINC, code, display) if code else _codeable(FIELD_SYSTEM, name, text=name)
        # a TNM value as written with its AJCC prefix ("ypT1c": after neoadjuvant therapy)
        content = _value(name, with_prefix(field))
        if field.get("range"):  # Ki-67 stated as a range ("30-40%")
            low, high = ({"value": v, "unit": "%", "system": UCUM, "code": "%"} for v in field["range"])
            content = {"valueRange": {"low": low, "high": high}}
        observed[name] = add(name, concept, _evidence_note(field), **content)
    stage_ref = observed.get("stage")
    if derived_stage is not None:
        sources = [observed[name] for name in derived_stage["from"] if name in observed]
        kind = _KIND.get(str(derived_stage.get("prefix")), "")
        derived_ref = add(
            "derived_stage",
            _codeable(LOINC, *_LOINC["stage"]),
            "nlp-engine: derived (not stated) from "
            + ", ".join(f"{k} {v}" for k, v in derived_stage["from"].items()),
            method={
                "text": f"{derived_stage['edition']} {kind}stage group derived from the report's own TNM"
            },
            **({"derivedFrom": sources} if sources else {}),
            valueCodeableConcept={"text": str(derived_stage["value"])},
        )
        stage_ref = stage_ref or derived_ref
    condition = _condition(report_id, fields, coded or {}, subject, source, stage_ref, review)
    if condition is not None:
        entries.append({"fullUrl": f"urn:uuid:{condition['id']}", "resource": condition})
    report = {
        "resourceType": "DiagnosticReport",
        "id": report_uuid,
        "identifier": [{"system": DOCUMENT_ID_SYSTEM, "value": report_id}],
        "status": "final",
        "code": _codeable(LOINC, *_REPORT_CODES["pathology"]),
        "subject": subject,
        "result": results,
    }
    bundle = {
        "resourceType": "Bundle",
        "id": _uuid(report_id, "pathology-bundle"),
        "identifier": {"system": DOCUMENT_ID_SYSTEM, "value": report_id},
        "type": "collection",
        "entry": [{"fullUrl": source["reference"], "resource": report}, *entries],
    }
    if validate:
        validate_bundle(bundle)
    return bundle


def _condition(
    report_id: str,
    fields: dict[str, Any],
    coded: dict[str, Any],
    subject: dict[str, Any],
    source: dict[str, Any],
    stage_ref: dict[str, Any] | None,
    review: Collection[str] = (),
) -> dict[str, Any] | None:
    histology, site = fields.get("histologic_type"), fields.get("primary_site")
    morphology = coded.get("icd_o_3_histology") or (histology or {}).get("value")
    if not morphology:
        return None
    morph_names = icdo.names("morphology")
    # a code the coder was not sure enough of (below its review threshold) waits for a human
    checked = sorted(set(review) & {"icd_o_3_histology", "icd_o_3_site", "icd_10"})
    codings = [{"system": ICDO3, "code": morphology, **_display(morph_names.get(morphology))}]
    if coded.get("icd_10"):
        codings.append({"system": ICD10, "code": coded["icd_10"]})
    condition: dict[str, Any] = {
        "resourceType": "Condition",
        "id": _uuid(report_id, "pathology-condition"),
        "meta": {"tag": [{"system": "urn:nlp-engine", "code": "nlp-extracted", "display": "pathology"}]},
        "verificationStatus": _codeable(_VERIFICATION, "provisional" if checked else "confirmed"),
        "code": {"coding": codings, "text": (histology or {}).get("text") or morph_names.get(morphology)},
        "subject": subject,
        "evidence": [{"detail": [source]}],
        "note": [],
    }
    topography = coded.get("icd_o_3_site") or (site or {}).get("value")
    if topography:
        condition["bodySite"] = [
            {
                "coding": [
                    {
                        "system": ICDO3,
                        "code": topography,
                        **_display(icdo.names("topography").get(topography)),
                    }
                ]
            }
        ]
    if stage_ref:
        condition["stage"] = [{"assessment": [stage_ref]}]
    for field in (histology, site):
        if field:
            condition["note"].append({"text": _evidence_note(field)})
    if coded:
        condition["note"].append({"text": "nlp-engine: codes from a trained PathologyCoder where given"})
    if checked:
        condition["note"].append(
            {"text": f"nlp-engine: to review (below the coder's threshold): {', '.join(checked)}"}
        )
    if not condition["note"]:
        del condition["note"]
    return condition


def _display(name: str | None) -> dict[str, str]:
    return {"display": name} if name else {}
