"""The AJCC 7 stage group a report's own pT/pN/pM give at its organ (`staging.stage_group`)."""

from __future__ import annotations

import pytest

from nlp_engine.pathology import extract
from nlp_engine.pathology.staging import stage_group

COLON = "FINAL DIAGNOSIS: Colon, sigmoid, resection: adenocarcinoma, moderately differentiated. {tnm}"
LUNG = "FINAL DIAGNOSIS: Lung, right upper lobe, lobectomy: squamous cell carcinoma. {tnm}"
BLADDER = "FINAL DIAGNOSIS: Urinary bladder, cystectomy: invasive urothelial carcinoma. {tnm}"
BREAST = "FINAL DIAGNOSIS: Breast, left, mastectomy: invasive ductal carcinoma. {tnm}"
STOMACH = "FINAL DIAGNOSIS: Stomach, gastrectomy: adenocarcinoma, intestinal type. {tnm}"


@pytest.mark.parametrize(
    ("template", "tnm", "group"),
    [
        (COLON, "pT2 pN0", "I"),
        (COLON, "pT3 pN0", "II"),
        (COLON, "pT3 pN1b", "III"),
        (COLON, "pT4a pN0 pM1a", "IV"),
        (COLON, "pTis pN0", "0"),
        (COLON, "pT3 pNX", "II"),  # no nodes: grouped as N0
        (LUNG, "pT2a pN0", "I"),
        (LUNG, "pT2b pN0", "II"),
        (LUNG, "pT1b pN1", "II"),
        (LUNG, "pT3 pN1", "III"),
        (LUNG, "pT1a pN2", "III"),
        (BLADDER, "pT3a pN0", "III"),
        (BLADDER, "pT2b pN1", "IV"),
        (BLADDER, "pT4b pN0", "IV"),
        (BREAST, "pT1c pN0", "I"),
        (BREAST, "pT2 pN1a", "II"),
        (BREAST, "pT3 pN1", "III"),
        (STOMACH, "pT3 pN1", None),  # grouped by T and N sums: not derived here
        (COLON, "pTX pN1", None),
        (COLON, "", None),  # no pT
    ],
)
def test_stage_group_from_the_reports_own_tnm(template: str, tnm: str, group: str | None) -> None:
    fields = extract(template.format(tnm=tnm))
    assert fields["primary_site"] is not None
    assert stage_group(fields) == group


def test_no_site_no_group() -> None:
    fields = extract("Adenocarcinoma, pT3 pN1.")
    fields["primary_site"] = None
    assert stage_group(fields) is None
    assert stage_group({}) is None


def test_the_coder_explains_a_stage_by_the_derived_group_at_the_pt() -> None:
    from nlp_engine.pathology.coder import _field_features, _term_span

    text = COLON.format(tnm="pT3 pN1b")
    fields = extract(text)
    assert _field_features(fields)["__tnm_stage_group_III"] == 1.0
    start, end = _term_span(text, "__tnm_stage_group_III", fields)
    assert text[start:end] == "pT3"
