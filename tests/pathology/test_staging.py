"""The AJCC 7 stage a report's own pT/pN/pM give at its organ (`staging.ajcc_stage`, `stage_group`)."""

from __future__ import annotations

import pytest

from nlp_engine.pathology import extract
from nlp_engine.pathology.staging import ajcc_stage, derived_stage, stage_group

COLON = "FINAL DIAGNOSIS: Colon, sigmoid, resection: adenocarcinoma, moderately differentiated. {tnm}"
LUNG = "FINAL DIAGNOSIS: Lung, right upper lobe, lobectomy: squamous cell carcinoma. {tnm}"
BLADDER = "FINAL DIAGNOSIS: Urinary bladder, cystectomy: invasive urothelial carcinoma. {tnm}"
BREAST = "FINAL DIAGNOSIS: Breast, left, mastectomy: invasive ductal carcinoma. {tnm}"
STOMACH = "FINAL DIAGNOSIS: Stomach, gastrectomy: adenocarcinoma, intestinal type. {tnm}"
OESOPHAGUS = "FINAL DIAGNOSIS: Esophagus, esophagectomy: squamous cell carcinoma. {tnm}"
CERVIX = "FINAL DIAGNOSIS: Cervix, radical hysterectomy: squamous cell carcinoma. {tnm}"
PANCREAS = "FINAL DIAGNOSIS: Pancreas, Whipple resection: ductal adenocarcinoma. {tnm}"
LIVER = "FINAL DIAGNOSIS: Liver, right lobectomy: hepatocellular carcinoma. {tnm}"
LARYNX = "FINAL DIAGNOSIS: Larynx, total laryngectomy: squamous cell carcinoma. {tnm}"
THYROID = "FINAL DIAGNOSIS: Thyroid, thyroidectomy: papillary carcinoma. {tnm}"
OESOPHAGUS_AT = "FINAL DIAGNOSIS: Esophagus, {where}, esophagectomy: squamous cell carcinoma, {grade}. {tnm}"
BARRETT = "FINAL DIAGNOSIS: Esophagus, distal, esophagectomy: adenocarcinoma, {grade}. {tnm}"
UTERUS = "FINAL DIAGNOSIS: Uterus, hysterectomy: endometrioid adenocarcinoma, FIGO grade 1. {tnm}"
OVARY = "FINAL DIAGNOSIS: Ovary, right, oophorectomy: high-grade serous carcinoma. {tnm}"


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
        (OESOPHAGUS, "pT3 pN1", "III"),  # past N0 the grade and location do not matter
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


@pytest.mark.parametrize(
    ("template", "tnm", "stage"),
    [
        (COLON, "pT3 pN0", "IIA"),
        (COLON, "pT4a pN0", "IIB"),
        (COLON, "pT4b pN0", "IIC"),
        (COLON, "pT4 pN0", "II"),  # T4a or T4b: only the main group
        (COLON, "pT2 pN1b", "IIIA"),
        (COLON, "pT3 pN1a", "IIIB"),
        (COLON, "pT1 pN2a", "IIIA"),
        (COLON, "pT3 pN2b", "IIIC"),
        (COLON, "pT3 pN2", "III"),  # N2a (IIIB) or N2b (IIIC)
        (COLON, "pT3 pN2. Lymph nodes: 8/20 positive.", "IIIC"),  # the count gives N2b
        (COLON, "pT3 pN0 pM1a", "IVA"),
        (COLON, "pT3 pN0 pM1b", "IVB"),
        (LUNG, "pT1a pN0", "IA"),
        (LUNG, "pT2a pN0", "IB"),
        (LUNG, "pT2b pN0", "IIA"),
        (LUNG, "pT2a pN1", "IIA"),
        (LUNG, "pT2b pN1", "IIB"),
        (LUNG, "pT3 pN0", "IIB"),
        (LUNG, "pT3 pN1", "IIIA"),
        (LUNG, "pT4 pN2", "IIIB"),
        (LUNG, "pT1a pN3", "IIIB"),
        (LUNG, "pT2 pN1. Tumor size: 6.0 cm.", "IIB"),  # T2 over 5 cm is T2b
        (LUNG, "pT2 pN1. Tumor size: 3.0 cm.", "IIA"),
        (BREAST, "pT1c pN1mi", "IB"),
        (BREAST, "pT1c pN1a", "IIA"),
        (BREAST, "pT2 pN0", "IIA"),
        (BREAST, "pT2 pN1(mi)", "IIB"),
        (BREAST, "pT2 pN2a", "IIIA"),
        (BREAST, "pT4b pN1", "IIIB"),
        (BREAST, "pT1 pN3a", "IIIC"),
        (PANCREAS, "pT3 pN0", "IIA"),
        (PANCREAS, "pT3 pN1", "IIB"),
        (PANCREAS, "pT2 pN0", "IB"),
        (PANCREAS, "pT3. Lymph nodes: 2/14 positive.", "IIB"),  # no pN: the count gives N1
        (LIVER, "pT3a pN0", "IIIA"),
        (LIVER, "pT3b pN0", "IIIB"),
        (LIVER, "pT4 pN0", "IIIC"),
        (LIVER, "pT2 pN1", "IVA"),
        (LIVER, "pT2 pN0 pM1", "IVB"),
        (LARYNX, "pT4a pN0", "IVA"),
        (LARYNX, "pT2 pN2b", "IVA"),
        (LARYNX, "pT4b pN0", "IVB"),
        (LARYNX, "pT2 pN3", "IVB"),
        (LARYNX, "pT2 pN0 pM1", "IVC"),
        (LARYNX, "pT3 pN0", "III"),
        (STOMACH, "pT1 pN0", "IA"),
        (STOMACH, "pT2 pN1", "IIA"),
        (STOMACH, "pT3 pN1", "IIB"),
        (STOMACH, "pT4a pN2", "IIIB"),
        (STOMACH, "pT4b pN3", "IIIC"),
        (STOMACH, "pT4 pN3", "IIIC"),  # T4a N3 and T4b N3 are both IIIC
        (STOMACH, "pT4 pN0", "III"),  # T4a N0 is IIB, T4b N0 IIIB: only the main group of neither
        (CERVIX, "pT1b1 pN0", "IB1"),
        (CERVIX, "pT1b2 pN0", "IB2"),
        (CERVIX, "pT2a2 pN0", "IIA2"),
        (CERVIX, "pT2b pN0", "IIB"),
        (CERVIX, "pT1b1 pN1", "IIIB"),
        (CERVIX, "pT3a pN0", "IIIA"),
        (THYROID, "pT2 pN0 pM1", None),  # stage II under 45 years: the report does not say
        (THYROID, "pT2 pN0", None),
        (LUNG, "pT2a. Lymph nodes: 2/9 positive.", None),  # N1 or N2 goes by station, not count
    ],
)
def test_ajcc_stage_with_its_substage(template: str, tnm: str, stage: str | None) -> None:
    fields = extract(template.format(tnm=tnm))
    assert fields["primary_site"] is not None
    assert ajcc_stage(fields) == stage
    assert stage_group(fields) == (None if stage is None else stage.rstrip("ABC12"))


def test_stated_nodes_win_over_the_count_and_no_positive_node_is_n0() -> None:
    fields = extract(PANCREAS.format(tnm="pT3 pN0. Lymph nodes: 1/12 positive."))
    assert fields["lymph_nodes_positive"]["value"] == 1
    assert ajcc_stage(fields) == "IIA"  # the report's own pN0
    assert ajcc_stage(extract(PANCREAS.format(tnm="pT3. Lymph nodes: 0/12."))) == "IIA"
    assert ajcc_stage(extract(PANCREAS.format(tnm="pT3 pNX"))) == "IIA"


def test_the_coder_sees_the_substage_beside_the_group() -> None:
    from nlp_engine.pathology.coder import _field_features

    features = _field_features(extract(COLON.format(tnm="pT3 pN1a")))
    assert features["__tnm_stage_group_III"] == features["__tnm_stage_IIIB"] == 1.0
    kidney = _field_features(extract("Kidney, nephrectomy: clear cell renal cell carcinoma. pT1a pN0"))
    assert [k for k in kidney if k.startswith("__tnm_stage")] == ["__tnm_stage_group_I"]  # no substages


def test_derived_stage_names_what_it_was_derived_from() -> None:
    text = PANCREAS.format(tnm="pT3 pNX. Lymph nodes: 2/14 positive.")
    derived = derived_stage(extract(text))
    assert derived is not None
    assert derived["value"] == "IIB" and derived["edition"] == "AJCC 7"
    assert text[derived["start"] : derived["end"]] == "pT3"
    assert derived["from"] == {"pT": "pT3", "pN": "pNx", "lymph_nodes_positive": 2}
    lung = derived_stage(extract(LUNG.format(tnm="pT2 pN0. Tumor size: 6.0 cm.")))
    assert lung is not None and lung["value"] == "IIA" and lung["from"]["tumor_size_mm"] == 60.0
    # the type, grade and location are named where the organ's groups read them
    oesophagus = derived_stage(extract(OESOPHAGUS_AT.format(where="middle third", grade="G2", tnm="pT3 pN0")))
    assert oesophagus is not None and oesophagus["value"] == "IIB"
    assert oesophagus["from"] == {
        "pT": "pT3",
        "pN": "pN0",
        "histologic_type": "8070/3",
        "grade": "G2",
        "primary_site": "C15.4",
    }
    # a stated colorectal N2 gets its letter from the count, which is then named too
    colon = derived_stage(extract(COLON.format(tnm="pT3 pN2. Lymph nodes: 8/20 positive.")))
    assert colon is not None and colon["value"] == "IIIC"
    assert colon["from"] == {"pT": "pT3", "pN": "pN2", "lymph_nodes_positive": 8}
    # an M1 stages as IV whatever the nodes: the count is not named
    metastatic = derived_stage(extract(PANCREAS.format(tnm="pT3 pM1. Lymph nodes: 2/14 positive.")))
    assert metastatic is not None and metastatic["value"] == "IV"
    assert metastatic["from"] == {"pT": "pT3", "pM": "pM1"}


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        # oesophagus, squamous: at N0 by grade (G1/GX against G2-3) and location (upper/middle third
        # against lower or unknown)
        (OESOPHAGUS_AT.format(where="middle third", grade="well differentiated", tnm="pT1 pN0"), "IA"),
        (OESOPHAGUS_AT.format(where="middle third", grade="moderately differentiated", tnm="pT1 pN0"), "IB"),
        (OESOPHAGUS_AT.format(where="lower third", grade="well differentiated", tnm="pT2 pN0"), "IB"),
        (OESOPHAGUS_AT.format(where="middle third", grade="well differentiated", tnm="pT2 pN0"), "IIA"),
        (OESOPHAGUS_AT.format(where="lower third", grade="poorly differentiated", tnm="pT3 pN0"), "IIA"),
        (OESOPHAGUS_AT.format(where="upper third", grade="poorly differentiated", tnm="pT3 pN0"), "IIB"),
        (OESOPHAGUS_AT.format(where="upper third", grade="low grade", tnm="pT3 pN0"), None),  # G1 or G2
        # adenocarcinoma: at N0 by grade alone; past N0 both types by T and N
        (BARRETT.format(grade="moderately differentiated", tnm="pT1 pN0"), "IA"),
        (BARRETT.format(grade="poorly differentiated", tnm="pT1 pN0"), "IB"),
        (BARRETT.format(grade="moderately differentiated", tnm="pT2 pN0"), "IB"),
        (BARRETT.format(grade="poorly differentiated", tnm="pT2 pN0"), "IIA"),
        (BARRETT.format(grade="G2", tnm="pT3 pN0"), "IIB"),
        (BARRETT.format(grade="G2", tnm="pT2 pN1"), "IIB"),
        (BARRETT.format(grade="G2", tnm="pT3 pN2"), "IIIB"),
        (BARRETT.format(grade="G2", tnm="pT4a pN0"), "IIIA"),
        (BARRETT.format(grade="G2", tnm="pT4a pN1"), "IIIC"),
        (BARRETT.format(grade="G2", tnm="pT2. Lymph nodes: 8/20 positive."), "IIIC"),  # 7+ nodes: N3
        (BARRETT.format(grade="G2", tnm="pT3. Lymph nodes: 2/20 positive."), "IIIA"),  # 1-2 nodes: N1
        (BARRETT.format(grade="G2", tnm="pT3 pN0 pM1"), "IV"),
        ("FINAL DIAGNOSIS: Esophagus, biopsy: neuroendocrine carcinoma. pT2 pN1", None),  # not this table
        # thyroid: by type, and by age for papillary and follicular carcinomas
        ("FINAL DIAGNOSIS: Thyroid, thyroidectomy: papillary carcinoma. pT1b pN0", "I"),  # any age
        ("FINAL DIAGNOSIS: Thyroid, thyroidectomy: anaplastic carcinoma. pT4a pN0", "IVA"),
        ("FINAL DIAGNOSIS: Thyroid, thyroidectomy: anaplastic carcinoma. pT4b pN1b", "IVB"),
        ("FINAL DIAGNOSIS: Thyroid, thyroidectomy: anaplastic carcinoma. pT4b pN0 pM1", "IVC"),
        ("FINAL DIAGNOSIS: Thyroid, thyroidectomy: medullary carcinoma. pT3 pN0", "II"),
        ("FINAL DIAGNOSIS: Thyroid, thyroidectomy: medullary carcinoma. pT2 pN1a", "III"),
        ("FINAL DIAGNOSIS: Thyroid, thyroidectomy: medullary carcinoma. pT2 pN1b", "IVA"),
        ("FINAL DIAGNOSIS: Thyroid, thyroidectomy: medullary carcinoma. pT2 pN1", None),  # N1a or N1b
        ("FINAL DIAGNOSIS: Thyroid, thyroidectomy: follicular carcinoma. pT3 pN0", None),  # age decides
        # corpus uteri and ovary: the FIGO stage, whose letters are the T's
        (UTERUS.format(tnm="pT1a pN0"), "IA"),
        (UTERUS.format(tnm="pT1b pN0 pMX"), "IB"),
        (UTERUS.format(tnm="pT2 pN0"), "II"),
        (UTERUS.format(tnm="pT3b pN0"), "IIIB"),
        (UTERUS.format(tnm="pT1b pN1"), "IIIC1"),
        (UTERUS.format(tnm="pT3a pN2"), "IIIC2"),
        (UTERUS.format(tnm="pT1b. Lymph nodes: 2/10 positive."), "IIIC"),  # pelvic or para-aortic
        (UTERUS.format(tnm="pT4 pN0"), "IVA"),
        (UTERUS.format(tnm="pT2 pN0 pM1"), "IVB"),
        ("FINAL DIAGNOSIS: Uterus, hysterectomy: leiomyosarcoma. pT1b pN1", "IIIC"),
        (OVARY.format(tnm="pT1c pN0"), "IC"),
        (OVARY.format(tnm="pT2a pNX"), "IIA"),
        (OVARY.format(tnm="pT3c pN0"), "IIIC"),
        (OVARY.format(tnm="pT3a pN1"), "IIIC"),
        (OVARY.format(tnm="pT3a. Lymph nodes: 1/10 positive."), "IIIC"),
        (OVARY.format(tnm="pT3b pN0 pM1"), "IV"),
        (OVARY.format(tnm="pT4 pN0"), None),  # no T4 at the ovary
    ],
)
def test_stages_that_read_the_type_grade_location_or_age(text: str, stage: str | None) -> None:
    fields = extract(text)
    assert fields["primary_site"] is not None and fields["histologic_type"] is not None
    assert ajcc_stage(fields) == stage


def test_a_thyroid_carcinoma_is_staged_by_age_where_the_caller_gives_it() -> None:
    fields = extract("FINAL DIAGNOSIS: Thyroid, thyroidectomy: papillary carcinoma. pT3 pN1a")
    assert ajcc_stage(fields) is None
    older = {**fields, "age_years": {"value": 52}}
    younger = {**fields, "age_years": {"value": 30}}
    assert ajcc_stage(older) == "III"
    assert ajcc_stage(younger) == "I"
    assert ajcc_stage({**younger, "pM": {"value": "pM1"}}) == "II"
    assert ajcc_stage({**older, "pM": {"value": "pM1"}}) == "IVC"
    derived = derived_stage(older)
    assert derived is not None and derived["from"]["age_years"] == 52


def test_a_uterine_t_of_the_1988_scheme_is_staged_in_its_edition() -> None:
    old = derived_stage(extract(UTERUS.format(tnm="pT1c pN0")))
    assert old is not None and (old["value"], old["edition"]) == ("IC", "AJCC 6")
    old_nodes = derived_stage(extract(UTERUS.format(tnm="pT2b pN1")))
    assert old_nodes is not None and (old_nodes["value"], old_nodes["edition"]) == ("IIIC", "AJCC 6")
    new = derived_stage(extract(UTERUS.format(tnm="pT1b pN0")))
    assert new is not None and (new["value"], new["edition"]) == ("IB", "AJCC 7")


PROSTATE = "CLINICAL HISTORY: {psa}\nFINAL DIAGNOSIS: Prostate, radical prostatectomy: acinar adenocarcinoma, {gleason}. {tnm}"


@pytest.mark.parametrize(
    ("psa", "gleason", "tnm", "stage"),
    [
        ("PSA value: 5.1", "Gleason score 3+3=6", "pT2a pN0", "I"),
        ("PSA value: 12.4 ng/mL", "Gleason score 3+3=6", "pT2a pN0", "IIA"),  # PSA 10-20
        ("PSA 6.8", "Gleason score 3+4=7", "pT2a pN0", "IIA"),
        ("PSA 6.8", "Gleason score 3+4=7", "pT2b pN0", "IIA"),
        ("PSA 26.6", "Gleason score 3+3=6", "pT2a pN0", "IIB"),  # PSA 20 or more
        ("PSA 6.8", "Gleason score 4+4=8", "pT2a pN0", "IIB"),
        ("PSA 6.8", "Grade Group 4", "pT2a pN0", "IIB"),  # the Grade Group where no score
        ("", "Gleason score 3+3=6", "pT2c pN0", "IIB"),  # T2c: whatever the PSA
        ("", "Gleason score 3+4=7", "pT2a pN0", "II"),  # IIA or IIB by the PSA
        ("", "Gleason score 3+3=6", "pT2a pN0", None),  # I, IIA or IIB by the PSA
        ("", "", "pT2a pN0", "I"),  # neither known: the table's "PSA X, Gleason X" row
        ("", "", "pT2b pN0", "IIA"),
        ("", "", "pT2 pN0", None),  # T2a (I), T2b (IIA) or T2c (IIB)
        ("PSA 5.0", "Gleason score 3+4=7", "pT3a pN0", "III"),
        ("PSA 5.0", "Gleason score 3+4=7", "pT3b pN1", "IV"),
        ("PSA 5.0", "Gleason score 3+4=7", "pT2c pN0 pM1b", "IV"),
    ],
)
def test_prostate_groups_by_gleason_and_psa(psa: str, gleason: str, tnm: str, stage: str | None) -> None:
    fields = extract(PROSTATE.format(psa=psa, gleason=gleason or "moderately differentiated", tnm=tnm))
    assert fields["primary_site"]["value"].startswith("C61")
    assert ajcc_stage(fields) == stage


def test_the_psa_is_read_from_the_history_and_named_where_it_staged() -> None:
    text = PROSTATE.format(psa="PSA value of 10 .64 nglml.", gleason="Gleason score 3+3=6", tnm="pT2a pN0")
    fields = extract(text)
    psa = fields["psa_ng_ml"]
    assert psa["value"] == 10.64 and text[psa["start"] : psa["end"]] == "PSA value of 10 .64 nglml"
    derived = derived_stage(fields)
    assert derived is not None and derived["value"] == "IIA"
    assert derived["from"] == {
        "pT": "pT2a",
        "pN": "pN0",
        "histologic_type": "8550/3",
        "gleason": "3+3=6",
        "psa_ng_ml": 10.64,
    }
    # an immunostain or a tumour-marker checkbox form is not a serum value
    in_brackets = extract("CLINICAL HISTORY: elevated PSA (7.2 ng/mL).")["psa_ng_ml"]
    assert in_brackets is not None and in_brackets["value"] == 7.2
    for stain in ("Tumour cells positive for PSA and prostein.", "PSA (1:500): positive", "PSA 0 Negative"):
        assert extract(stain)["psa_ng_ml"] is None, stain


def test_the_psa_is_a_fhir_observation_in_ng_per_ml() -> None:
    from nlp_engine.pathology.fhir import pathology_bundle

    text = PROSTATE.format(psa="PSA 6.8 ng/mL.", gleason="Gleason score 3+4=7", tnm="pT2a pN0")
    bundle = pathology_bundle("p1", extract(text))  # validated against the R4B models inside
    (psa,) = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
        and e["resource"]["code"]["coding"][0].get("code") == "2857-1"
    ]
    assert psa["valueQuantity"] == {
        "value": 6.8,
        "unit": "ng/mL",
        "system": "http://unitsofmeasure.org",
        "code": "ng/mL",
    }


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        (BLADDER.format(tnm="pTa pNX"), "0a"),  # non-invasive papillary
        (BLADDER.format(tnm="pTis pN0"), "0is"),
        (BLADDER.format(tnm="pTa pN1"), None),
        (COLON.format(tnm="pTis pN0"), "0"),
        # any node is IV in the renal pelvis (a kidney's T2 N1 would be III)
        ("FINAL DIAGNOSIS: Renal pelvis, nephroureterectomy: urothelial carcinoma. pT2 pN1", "IV"),
        ("FINAL DIAGNOSIS: Ureter, resection: urothelial carcinoma. pT2 pN0", "II"),
        ("FINAL DIAGNOSIS: Ureter, resection: urothelial carcinoma. pT1. Lymph nodes: 1/4 positive.", "IV"),
        ("FINAL DIAGNOSIS: Ureter, resection: urothelial carcinoma. pTa pN0", "0a"),
    ],
)
def test_urinary_tract_stage_zero_and_upper_tract(text: str, stage: str | None) -> None:
    fields = extract(text)
    assert ajcc_stage(fields) == stage
    assert stage_group(fields) == (None if stage is None else stage[0] if stage[0] == "0" else stage)


def test_pta_is_read_whole_and_not_from_words() -> None:
    assert extract(BLADDER.format(tnm="pTa pNX"))["pT"]["value"] == "pTa"
    assert extract("Bladder: urothelial carcinoma; pT and pN not assigned.")["pT"] is None
    # Ta is the urinary tract's alone: a kidney's "pTa" is OCR (pT1a), not a category
    assert extract("Kidney, nephrectomy: clear cell renal cell carcinoma. pTa pNX")["pT"] is None


def test_a_urothelial_carcinoma_read_at_the_prostate_is_not_staged_as_a_prostate_cancer() -> None:
    # a cystoprostatectomy whose site was read as the prostate: the bladder's tumour, not the prostate's
    text = "FINAL DIAGNOSIS: Prostate and bladder, cystoprostatectomy: urothelial carcinoma. pT2a pN0"
    fields = extract(text)
    fields["primary_site"] = {"value": "C61.9", "start": 0, "end": 1}
    assert fields["histologic_type"]["value"] == "8120/3"
    assert ajcc_stage(fields) is None


@pytest.mark.parametrize(
    ("tnm", "stage"),
    [
        ("pT1 pN0", "IA"),  # IA by both the stomach's table and the oesophagus's (G2)
        ("pT3 pN0", "II"),  # IIA (stomach) or IIB (oesophagus)
        ("pT4a pN2", "III"),  # IIIB or IIIC
        ("pT3 pN1", None),  # IIB (stomach) or IIIA (oesophagus): which, the report does not say
    ],
)
def test_the_cardia_is_staged_where_the_stomach_and_oesophagus_tables_agree(
    tnm: str, stage: str | None
) -> None:
    text = f"FINAL DIAGNOSIS: Stomach, cardia, gastrectomy: adenocarcinoma, moderately differentiated. {tnm}"
    fields = extract(text)
    assert fields["primary_site"]["value"] == "C16.0"
    assert ajcc_stage(fields) == stage
    # the body of the stomach is the stomach's table alone
    assert (
        ajcc_stage(extract(text.replace("cardia", "body")))
        == {"pT1 pN0": "IA", "pT3 pN0": "IIA", "pT4a pN2": "IIIB", "pT3 pN1": "IIB"}[tnm]
    )


def test_report_result_reads_the_age_the_thyroid_report_states() -> None:
    from nlp_engine.pathology.report import report_result

    text = (
        "CLINICAL HISTORY: 52-year-old woman with a thyroid nodule.\n"
        "FINAL DIAGNOSIS: Thyroid, total thyroidectomy: papillary carcinoma. pT3 pN1a"
    )
    stated = report_result("t", text)["derived_stage"]
    assert stated is not None and stated["value"] == "III" and stated["from"]["age_years"] == 52
    assert report_result("t", text, age_years=30)["derived_stage"]["value"] == "I"  # the caller's wins
    oldest = report_result("t", text.replace("52-year-old", "95-year-old"))["derived_stage"]
    assert oldest is not None and oldest["from"]["age_years"] == 90  # over 89: 90
    # no age stated: not derived (I under 45, III from 45)
    assert report_result("t", text.replace("52-year-old woman", "Woman"))["derived_stage"] is None
