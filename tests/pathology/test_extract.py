from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from nlp_engine.pathology import FIELDS, extract

REPORT = """SURGICAL PATHOLOGY REPORT
FROZEN SECTION: Carcinoma, at least pT1.
FINAL DIAGNOSIS:
A. Breast, left, lumpectomy: Invasive ductal carcinoma, Nottingham grade 2 (moderately differentiated).
Tumor size: 2.3 x 1.5 x 1.1 em (greatest dimension).
Margins are free of tumor; the carcinoma is 2 mm from the posterior margin.
Lymph nodes: 0/8 (axillary), 1/3 (sentinel).
Lymphovascular invasion: present. Perineural invasion: not identified.
Pathologic stage: pT2 pN1a pM0.
ER: positive (90%). PR negative. HER2: 2+ equivocal. Ki-67: 15%.
"""


def test_fields_with_exact_evidence() -> None:
    fields = extract(REPORT)
    assert set(fields) == set(FIELDS)
    values = {name: f["value"] for name, f in fields.items() if f is not None}
    assert values == {
        "histologic_type": "8500/3",  # infiltrating duct carcinoma, ICD-O-3
        "primary_site": "C50.9",
        "pT": "pT2",
        "pN": "pN1a",
        "pM": "pM0",
        "grade": "G2",
        "tumor_size_mm": 23.0,  # the largest dimension, OCR "em" read as cm
        "margins": "negative",
        "closest_margin_mm": 2.0,
        "lymph_nodes_positive": 1,  # summed over the stations
        "lymph_nodes_examined": 11,
        "lymphovascular_invasion": "present",
        "perineural_invasion": "absent",
        "laterality": "Left",
        "er": "positive",
        "pr": "negative",
        "her2": "equivocal",  # IHC 2+ and no ISH stated (ASCO/CAP)
        "ki67_percent": 15,
    }
    for field in fields.values():
        if field is not None:
            assert REPORT[field["start"] : field["end"]] == field["text"]
    # the frozen-section mention loses to the final diagnosis, and is kept as an alternative
    assert fields["pT"]["alternatives"] == ["pT1"]
    assert fields["gleason"] is None and fields["stage"] is None


@pytest.mark.parametrize(
    ("text", "field", "value", "evidence"),
    [
        # the negation before the cue decides, not the "invasion is identified" after it
        (
            "No lymphovascular invasion is identified.",
            "lymphovascular_invasion",
            "absent",
            "No lymphovascular invasion",
        ),
        ("There is no\nvascular invasion.", "lymphovascular_invasion", "absent", "no\nvascular invasion"),
        ("NO LYMPHOVASCULAR OR PERINEURAL INVASION IDENTIFIED", "perineural_invasion", "absent", None),
        ("Lymph-vascular invasion: Not present.", "lymphovascular_invasion", "absent", None),
        # a label's "No" on the line above is not this line's negation
        ("Extraprostatic extension: No\nPerineural invasion: Yes", "perineural_invasion", "present", None),
        # doubt is neither present nor absent
        (
            "Cannot exclude lymphovascular invasion in one focus.",
            "lymphovascular_invasion",
            "indeterminate",
            None,
        ),
        ("Lymphovascular invasion: Indeterminate", "lymphovascular_invasion", "indeterminate", None),
        (
            "Foci suspicious for angiolymphatic invasion are identified.",
            "lymphovascular_invasion",
            "indeterminate",
            None,
        ),
        ("Perineural invasion cannot be excluded.", "perineural_invasion", "indeterminate", None),
        # a checklist states its ticked option, not the first one printed
        (
            "Perineural invasion: (Select one)   Yes\nx No\n   Not evaluable\n",
            "perineural_invasion",
            "absent",
            "x No",
        ),
    ],
)
def test_invasion_is_present_absent_or_indeterminate(
    text: str, field: str, value: str, evidence: str | None
) -> None:
    found = extract(text)[field]
    assert found is not None and found["value"] == value
    assert text[found["start"] : found["end"]] == found["text"]
    if evidence is not None:
        assert found["text"] == evidence


@pytest.mark.parametrize("cue", ["Touch imprint", "Touch prep", "Intraoperative diagnosis", "Frozen section"])
def test_an_intraoperative_reading_loses_to_the_permanent_sections(cue: str) -> None:
    text = (
        "Breast, left, mastectomy: invasive ductal carcinoma, moderately differentiated.\n"
        f"{cue}: Carcinoma, poorly differentiated."
    )
    grade = extract(text)["grade"]
    assert grade["value"] == "G2" and grade["alternatives"] == ["G3"]


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("Maximum tumor diameter: 55 mm.", "55 mm"),
        ("Diameter of tumor: 16.5 cm.", "16.5 cm"),
        # no size label: a size right beside a tumour noun, in a report naming a tumour type
        ("Segment of colon, 24.0 cm in length, with an ulcerated mass 4.2 x 3.5 cm.", "4.2 x 3.5 cm"),
        ("A 5 x 4 x 3 cm, lobulated ,exophytic mass at the bladder neck.", "5 x 4 x 3 cm"),
        ("Endometrioid carcinoma forming a mass (10.7 x 7.8 x 2.1 cm).", "10.7 x 7.8 x 2.1 cm"),
        ("MODERATELY DIFFERENTIATED ADENOCARCINOMA (1.1 CM), INVASIVE OF PLEURA", "1.1 CM"),
        # the size right before a postfix label, not the distance after it or another thing's before
        ("Tumor, 2.3 cm in greatest dimension, 1.0 cm from the margin.", "2.3 cm"),
        ("The appendix measures 4 cm in length. Tumor measures 1.5 cm.", "1.5 cm"),
        ("The tumor measures 3.5 cm in\ngreatest diameter.", "3.5 cm"),
        # OCR's spaced decimals
        ("Tumor size: 4.8 x 4 .6 x 2.2 cm.", "4.8 x 4 .6 x 2.2 cm"),
        ("Greatest dimension: 1.3 x 0. 6 x 0.5 cm", "1.3 x 0. 6 x 0.5 cm"),
        # OCR's units: "ern" and "ctn" for cm, "mrn" and "nun" for mm
        ("Maximum dimension: 3.4 ern\nMinor dimension: 1.2 ern", "3.4 ern"),
        ("Squamous cell carcinoma, 57 nun in greatest dimension", "57 nun"),
        ("A subpleural tumour measuring 30 mrn in maximum diameter", "30 mrn"),
        # one line, one size: the label's, not a second one after it
        ("Tumor size: 2.7 cm and 1.0 cm (greatest dimension)", "2.7 cm"),
        # lymph nodes, tissue pieces and a checklist's category definitions are not the tumour
        ("Lymph nodes ranging\nfrom 0.4 to 1.9 cm in greatest dimension.", None),
        ("Three pieces, each 1.5 cm in greatest dimension.", None),
        ("pT2: Tumor more than 2 cm but not more than 4 cm in greatest dimension", None),
        # a distance, a depth or a thickness is no size; nor a segment of bowel
        ("Tumor measures 1.4 cm from the closest margin.", None),
        ("A firm mass, 0.3 cm from the stapled margin.", None),
        ("The tumor invades 0.6 cm into the myometrium.", None),
        ("The tumor forms a rim, 0.4 cm in thickness.", None),
        ("A 24.0 cm segment of colon with a polyp.", None),
    ],
)
def test_tumour_size_from_labels_and_beside_the_tumour(text: str, size: str | None) -> None:
    found = extract(f"Adenocarcinoma.\n{text}")["tumor_size_mm"]
    assert (found and found["text"]) == size


def test_a_size_beside_a_nodule_of_a_report_naming_no_tumour_type_is_none() -> None:
    text = "Thyroid, left lobe: nodular hyperplasia.\nA well-circumscribed nodule 1.2 x 1.0 cm."
    assert extract(text)["tumor_size_mm"] is None
    assert (
        extract(text.replace("nodular hyperplasia", "papillary carcinoma"))["tumor_size_mm"]["value"] == 12.0
    )


def test_a_size_label_outranks_a_size_beside_a_tumour_noun() -> None:
    text = "GROSS: a tan mass 4.0 x 3.0 cm.\nFINAL DIAGNOSIS: Invasive ductal carcinoma.\nTumor size: 2.3 cm"
    assert extract(text)["tumor_size_mm"]["value"] == 23.0
    assert extract(text.replace("Tumor size: 2.3 cm", ""))["tumor_size_mm"]["value"] == 40.0


def test_a_prostate_with_tumour_in_both_lobes_is_bilateral() -> None:
    text = (
        "CLINICAL HISTORY: left nodule.\nFINAL DIAGNOSIS:\nA. Prostate, right base, needle biopsy: adenocarcinoma, "
        "Gleason score 3+4=7.\nB. Prostate, left base, needle biopsy: adenocarcinoma, Gleason score 3+3=6."
    )
    side = extract(text)["laterality"]
    assert side["value"] == "Bilateral"
    assert [text[a:b] for a, b in side["spans"]] == ["right", "left"]
    # one side in the diagnosis: that side (the history's other side is no part of it)
    assert (
        extract(text.replace("B. Prostate, left base", "B. Prostate, right apex"))["laterality"]["value"]
        == "Right"
    )
    # where the final part names no side, the sides named elsewhere count, as for every field
    unsided = (
        "SPECIMEN: A. Prostate, right base. B. Prostate, left base.\nFINAL DIAGNOSIS:\nProstate, needle biopsies: "
        "adenocarcinoma, Gleason score 3+4=7."
    )
    assert extract(unsided)["laterality"]["value"] == "Bilateral"
    # a paired organ keeps its side: a kidney's "left renal vein" note does not make it bilateral
    kidney = "FINAL DIAGNOSIS: Right kidney, nephrectomy: clear cell renal cell carcinoma; left renal vein margin free."
    assert extract(kidney)["laterality"]["value"] != "Bilateral"


@pytest.mark.parametrize(
    ("text", "mm"),
    [
        ("Surgical margins are negative for tumor (closest margin, 0.6 cm).", 6.0),
        ("Distance of invasive carcinoma from closest margin: 0.9 mm", 0.9),
        ("Tumor is located 0.3 cm from\nlingual/medial submucosal margin, 0.2 cm from posterior margin", 2.0),
        ("The margins are free of tumor, the clearance being 2.5 cm.", 25.0),
        ("Negative but close (closest approach is 0.1 cm).", 1.0),
        # a checklist's question is no distance
        ("If margin is clear: is clearance >10mm: Yes", None),
    ],
)
def test_the_closest_margin_as_a_distance_or_under_its_label(text: str, mm: float | None) -> None:
    found = extract(text)["closest_margin_mm"]
    assert (found and found["value"]) == mm
    if found:
        assert text[found["start"] : found["end"]] == found["text"]


def test_a_margins_involved_label_answered_no_is_negative() -> None:
    assert extract("Margins Involved :No definitive margin involvement")["margins"]["value"] == "negative"
    assert extract("Margins: involved by carcinoma")["margins"]["value"] == "involved"
    # a receptor abbreviation is in capitals: OCR's "Synchronous Pr :-I-" states no PR
    assert extract("Nal/Synchronous Pr :-I-")["pr"] is None
    assert extract("ER: positive (90%). PR negative.")["pr"]["value"] == "negative"


def test_a_case_gleason_score_is_its_worst_part() -> None:
    text = (
        "CLINICAL HISTORY: Gleason 4+4=8 on outside review?\n"
        "FINAL DIAGNOSIS:\nA. Prostate, right base, needle biopsy: adenocarcinoma, Gleason score 3+4=7 "
        "(Grade Group 2).\nB. Prostate, left base, needle biopsy: adenocarcinoma, Gleason score 3+3=6 (Grade Group 1).\n"
        "C. Prostate, left apex, needle biopsy: adenocarcinoma, Gleason score 4+3 (Grade Group 3)."
    )
    fields = extract(text)
    # 4+3=7 outranks 3+4=7 (primary pattern 4); the history's 4+4=8 comes before the diagnosis
    assert fields["gleason"]["value"] == "4+3=7" and fields["gleason"]["text"] == "Gleason score 4+3"
    assert fields["gleason"]["alternatives"] == ["3+3=6", "3+4=7", "4+4=8"]
    assert fields["grade_group"]["value"] == 3
    # written last, the lower part no longer wins
    lower_last = text.replace("Gleason score 4+3 (Grade Group 3)", "Gleason score 3+3=6 (Grade Group 1)")
    fields = extract(lower_last)
    assert (fields["gleason"]["value"], fields["grade_group"]["value"]) == ("3+4=7", 2)


def test_prostate_and_ocr_noise() -> None:
    text = "DIAGNOSIS: Adenocarcinoma, Gleason score 4+3 (Grade Group 3).\nTNM: T3a NO MX. AJCC Stage IIIB."
    fields = extract(text)
    assert fields["gleason"]["value"] == "4+3=7"
    assert fields["grade_group"]["value"] == 3
    assert (fields["pT"]["value"], fields["pN"]["value"], fields["pM"]["value"]) == ("pT3a", "pN0", "pMx")
    assert fields["stage"]["value"] == "Stage IIIB"
    # each part's evidence is its own words, not the whole "T3a NO MX"
    assert [fields[k]["text"] for k in ("pT", "pN", "pM")] == ["T3a", "NO", "MX"]
    assert [text[fields[k]["start"] : fields[k]["end"]] for k in ("pT", "pN", "pM")] == ["T3a", "NO", "MX"]


def test_tnm_parts_have_their_own_spans() -> None:
    text = "Lung, lobectomy: adenocarcinoma.\nPathologic stage: ypT2a, pN1(sn) M0."
    fields = extract(text)
    assert fields["pT"]["value"] == "pT2a" and fields["pT"]["text"] == "ypT2a"
    assert fields["pN"]["value"] == "pN1(sn)" and fields["pN"]["text"] == "pN1(sn)"
    assert fields["pM"]["value"] == "pM0" and fields["pM"]["text"] == "M0"


@pytest.mark.parametrize(
    "text",
    [
        "Bladder and prostate, cystoprostatectomy: invasive urothelial carcinoma of the bladder.\n"
        "PATHOLOGIC TNM STAGE: BLADDER: pT3bN2MX\nPROSTATE: pT2aN0MX (AJCC-1997)\nCOMMENT: none",
        "SUMMARY\nBladder - urothelial carcinoma, Grade 3 pT3b pN2 pMx.\n"
        "Prostate - adenocarcinoma, bilateral, Gleason grade 4 + 3 = 7, pT2a\npN0 pMx",
    ],
)
def test_an_incidental_tumour_of_another_organ_does_not_give_the_tnm(text: str) -> None:
    # a cystoprostatectomy stages the incidental prostate cancer after the bladder's: the TNM is
    # the bladder's, the report's tumour
    fields = extract(text)
    assert fields["primary_site"]["value"].startswith("C67")
    assert (fields["pT"]["value"], fields["pN"]["value"]) == ("pT3b", "pN2")


@pytest.mark.parametrize(
    ("text", "pt"),
    [
        # the ticked option of a checklist that lists every category with its definition
        (
            "Primary Tumor (pT)\n___ pT1:    Tumor 2 cm or less\n___ pT2:    Tumor more than 2 cm\n"
            "X  pT4a:   Tumor invades larynx, deep muscle of tongue\n___ pT4b:   Tumor invades masticator space",
            "pT4a",
        ),
        # none ticked: the form's wording states no T (before, the last option was read)
        (
            "Liver: hepatocellular carcinoma.\nPrimary Tumor (pT)\npT1: Solitary tumor without vascular invasion\n"
            "pT2: Solitary tumor with vascular invasion\npT3: Multiple tumors more than 5 cm\n"
            "pT4: Tumor(s) with direct invasion of adjacent organs",
            None,
        ),
        # a stated T beside the unticked list is the statement
        (
            "Pathologic staging: pT2, pN0.\nPrimary Tumor (pT)\npT1: Solitary tumor without vascular invasion\n"
            "pT3: Multiple tumors more than 5 cm\npT4: Tumor(s) with direct invasion of adjacent organs",
            "pT2",
        ),
    ],
)
def test_a_checklist_states_only_its_ticked_option(text: str, pt: str | None) -> None:
    found = extract(text)["pT"]
    assert (found and found["value"]) == pt


def test_a_node_checklist_states_no_n() -> None:
    text = (
        "Liver: hepatocellular carcinoma.\nRegional Lymph Nodes (pN)\npNX: Cannot be assessed\n"
        "pNO: No regional lymph node metastasis\npN 1: Regional lymph node metastasis\nSpecify: Number examined"
    )
    assert extract(text)["pN"] is None


@pytest.mark.parametrize(
    ("text", "pm"),
    [
        # an M checklist lists two categories: unticked, neither is stated; ticked, the ticked one
        (
            "Distant Metastasis (pM)\npMX: Cannot be assessed\npM 1: Distant metastasis\n*Specify site(s)",
            None,
        ),
        ("Distant Metastasis (pM)\n X  pMX:    Cannot be assessed___ pM1:    Distant metastasis", "pMx"),
        # OCR's "l" for a 1, not a word in capitals after the T
        ("Distant metastasis :pMlb, omentum and peritoneum", "pM1b"),
        ("AJCC Classification (6th edition): pT3c N1 Ml.", "pM1"),
        ("The tumor measures 3.2 cm in greatest dimension, pT2 \nMICROSCOPIC DESCRIPTION", None),
    ],
)
def test_the_m_as_stated(text: str, pm: str | None) -> None:
    field = extract("Adenocarcinoma.\n" + text)["pM"]
    assert (field and field["value"]) == pm
    if field:
        assert field["text"].lower().startswith(("pm", "m"))


def test_a_report_printed_as_one_line_is_read_in_linear_time() -> None:
    # thousands of TNM mentions on one line: each looks back a bounded stretch for a frozen-section cue
    # (it scanned the whole line, quadratic: 7 s for this 30 KB text); the cue still counts nearby
    text = "pT1 b " * 5000 + "Frozen section: carcinoma, pT3; " + "x" * 500 + " final diagnosis pT2"
    fields = extract(text)
    assert fields["pT"]["value"] == "pT2" and "pT3" in fields["pT"]["alternatives"]


@pytest.mark.parametrize(
    ("text", "pt", "pn"),
    [
        (
            "we favor that the neoplasm was confined to the kidney and is therefore staged pT1 b.",
            "pT1b",
            None,
        ),
        ("PATHOLOGIC STAGE Summary\nFinal TNM: pT1 bNXMO", "pT1b", "pNx"),
        ("Kidney: renal cell carcinoma, pT1 and N0 by imaging.", "pT1", None),  # a word, not a subcategory
        ("pT3 b N1", "pT3b", "pN1"),
        # OCR's "l" or "I" for a 1: "pTla", "pNl", "pNIb" (a "pTis" stays in situ)
        ("PATHOLOGIC STAGE (AJCC 7th): pTla pNl", "pT1a", "pN1"),
        ("Final TNM: pTIb, pNIb, pMX", "pT1b", "pN1b"),
        ("Carcinoma in situ only: pTis pN0", "pTis", "pN0"),
        ("Pathologic TNM (AJCC 6th Edition ):pTibl NO MX", "pT1b1", "pN0"),  # the cervix's T1b1
        ("pTNM stage (AJCC 2010):pT2al NO.", "pT2a1", "pN0"),
        # OCR's "i" for the cervix's digit after the letter; "Ti" alone before its N
        ("The final stage of the tumor Is pTlbi/NO/MX", "pT1b1", "pN0"),
        ("PRIMARY TUMOR (pT)\npTlbi (IB1): Clinically visible lesion", "pT1b1", None),
        ("Pathologic stage: Stage I (Ti Nx Mx )", "pT1", "pNx"),
        ("Final stage: Tis N0 MX", "pTis", "pN0"),  # in situ stays in situ
        ("AJCC Pathologic Stage (2002, 6th Ed): pT2clNO", "pT2c", "pN0"),  # no T2c1: the "l" is noise
        ("TNM STAGE: PT3b Nx MX.", "pT3b", "pNx"),  # in capitals
        ("TNM STAGE: PT1 b NX MX.", "pT1b", "pNx"),
        # a label's T and N without their "p"
        ("Pathological T T2a\nPathological N N2\nClinical M MX", "pT2a", "pN2"),
        ("AJCC Staging:\nTlb pNx\nThis staging information is based on", "pT1b", "pNx"),
        ("Primary tumor: pT2, PNI: present", "pT2", None),  # perineural invasion, in capitals
        # a template's T, N and M between slashes, OCR'd digits and the cervix's digit too
        ("STAGE GROUPING\nThe final stage of the tumor is (AJCC/FIGO)T1b2/NO/MX", "pT1b2", "pN0"),
        ("The pathologic AJCC stage of the tumor is TIa/N0/MX", "pT1a", "pN0"),
        ("The pathologic AJCC stage of the tumor is T3a/Nl/MX", "pT3a", "pN1"),
        ("STAGE GROUPING\nT3c/NX/MX", "pT3c", "pNx"),
        # glued, the M right after the N
        ("F. PATHOLOGIC STAGE T2NxMx. .", "pT2", "pNx"),
        ("High grade muscle invasive urothelial cell carcinoma +CIS. T3aNOMx", "pT3a", "pN0"),
        ("S: Pathological stage TINIMX", "pT1", "pN1"),
        # a form listing the T categories unticked states none: the report's own bare TNM does
        (
            "Primary Tumor (pT)\npTX: Cannot be assessed\npT1: Solitary tumor with no vascular invasion\n"
            "pT2: Solitary tumor with vascular invasion\npT3: Multiple tumors more than 5 cm\n"
            "The tumor is classified as T2NX.",
            "pT2",
            "pNx",
        ),
        # a T with its "p", the N only bare elsewhere
        ("Primary tumor: pT3\nAJCC stage: Stage IIB (T3 N1 MO)\nOther organs:", "pT3", "pN1"),
        ("Pathological Staging (pTNM):      T 2c     N 0     M x\nMargins: pT2 disease", "pT2", "pN0"),
        # a table's "T2,NOS"; "TNM" glued before the T
        ("ALCSG Stage Histology Comments Slide URL\nII T2,NOS N0 M0 Tumour is adjacent", "pT2", "pN0"),
        ("Node status\nTNMT2b N1 (2/26) G3 RO", "pT2b", "pN1"),
        # an N under a label of its own line, without its "p"
        ("Primary Tumor: pT2a\nRegional Lymph Nodes: N0: No regional lymph node metastasis", "pT2a", "pN0"),
        ("Primary tumor: pT1b\nLymph Node Involvement: Nl: Ipsilateral hilar", "pT1b", "pN1"),
        ("TNM pT3 (perihilar)\nNode status N2 (8/28)", "pT3", "pN2"),
        # on the line below the heading; a form's unticked option there is none
        (
            "PRIMARY TUMOR (T)\nTumor involves both lobes (T2c)\nREGIONAL LYMPH NODES (N)\n"
            "No regional lymph node metastasis (NO)\nDISTANT METASTASIS",
            "pT2c",
            "pN0",
        ),
        ("PRIMARY TUMOR\nT2c\nREGIONAL LYMPH NODES\nNX\nDISTANT METASTASIS\nMX", "pT2c", "pNx"),
        ("PRIMARY TUMOR (T)\nTX: Cannot be assessed\nT0: No evidence of primary tumor", None, None),
        ("REGIONAL LYMPH NODES:\nNX: Cannot be assessed\nN0: No regional lymph node metastasis", None, None),
        (
            "BLOOD VESSEL INVASION: No.\nREGIONAL LYMPH NODES: NX: Cannot be assessed (none included).",
            None,
            "pNx",
        ),
        # a line that says it is clinical is not the pathologic stage, unless the pathology follows
        ("Clinical History: The patient is a [ID] with T3 N3 M0 squamous cell carcinoma", None, None),
        (
            "Clinical diagnosis (suspicion) Laryngeal carcinoma Histopathology result: SCC T4a N1 MO",
            "pT4a",
            "pN1",
        ),
        # an N without its "p" under a label that says it is the node stage
        (
            "Tumor Staging (AJCC 7th Edition):\npT3 (Tumor invades through the muscularis propria)\n"
            "Lymph Node Stage (AJCC 7th Edition):\nNIb (Metastasis in 2-3 regional lymph nodes)",
            "pT3",
            "pN1b",
        ),
    ],
)
def test_ocr_space_before_the_t_subcategory(text: str, pt: str, pn: str | None) -> None:
    fields = extract(text)
    assert (fields["pT"] and fields["pT"]["value"]) == pt
    assert (fields["pN"] and fields["pN"]["value"]) == pn
    if pt is not None:
        assert text[fields["pT"]["start"] : fields["pT"]["end"]] == fields["pT"]["text"]


@pytest.mark.parametrize(
    "text",
    [
        "Benign prostatic tissue. No carcinoma identified.",
        "x7#",  # failed OCR
        "Specimen A1-A3: cassettes T1-T3 submitted.",  # cassette labels are not T categories
        "Coagulation: PT 12.5 seconds, PTT 30 seconds.",  # a prothrombin time in capitals
        "GROSS DESCRI PTION:\nA: The specimen is received fresh.",  # a word broken by OCR
    ],
)
def test_no_tumour_means_no_invented_values(text: str) -> None:
    fields = extract(text)
    assert fields["pT"] is None and fields["pN"] is None and fields["tumor_size_mm"] is None
    assert fields["lymph_nodes_examined"] is None


def test_contradictions_are_visible() -> None:
    fields = extract("Right breast mass. Left axillary node. FINAL DIAGNOSIS: Right breast carcinoma.")
    assert fields["laterality"]["value"] == "Right" and fields["laterality"]["alternatives"] == ["Left"]


def test_extract_command(tmp_path: Path) -> None:
    import csv

    from typer.testing import CliRunner

    from nlp_engine.cli import app

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "r1.txt").write_text(REPORT)
    (tmp_path / "in" / "empty.txt").write_text("")
    result = CliRunner().invoke(
        app, ["pathology", "extract", str(tmp_path / "in"), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 1 and "empty.txt" in result.output  # reported, and the rest went on
    with open(tmp_path / "out" / "pathology.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["id"], r["pT"], r["lymph_nodes_examined"]) for r in rows] == [("r1.txt", "pT2", "11")]
    assert rows[0]["derived_stage"] == "IIB"  # breast pT2 pN1a, by the AJCC 7 table


def test_extract_command_stages_a_thyroid_carcinoma_by_the_hl7_messages_age(tmp_path: Path) -> None:
    import csv

    from typer.testing import CliRunner

    from nlp_engine.cli import app

    message = (
        "MSH|^~\\&|LAB|HOSP|EHR|HOSP|202401011200||ORU^R01|CTRL{n}|P|2.5\r"
        "PID|1||MRN{n}^^^HOSP||TEST^PATIENT||{born}|F\r"
        "OBR|1|PLC{n}|ACC{n}|88305^Surgical pathology|||20230610\r"
        "OBX|1|TX|22637-3^Final diagnosis||Thyroid, thyroidectomy: papillary carcinoma. pT3 pN1a||||||F\r"
    )
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "feed.hl7").write_text(
        message.format(n=1, born="19700612")
        + message.format(n=2, born="19950101")
        + message.format(n=3, born="")
    )
    result = CliRunner().invoke(
        app, ["pathology", "extract", str(tmp_path / "in"), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    with open(tmp_path / "out" / "pathology.csv", newline="") as handle:
        stages = {r["id"]: r["derived_stage"] for r in csv.DictReader(handle)}
    # 52 years at the report: III; 28: I; no date of birth: not derived
    assert stages == {"feed.hl7#CTRL1": "III", "feed.hl7#CTRL2": "I", "feed.hl7#CTRL3": ""}


def test_fhir_bundle_of_the_cancer_panel() -> None:
    from nlp_engine.pathology.fhir import pathology_bundle

    bundle = pathology_bundle("report-1", extract(REPORT))  # validated against the R4B models inside
    assert bundle == pathology_bundle("report-1", extract(REPORT))  # same input, same ids
    observations = {
        e["resource"]["code"]["coding"][0]["code"]: e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
    }
    assert observations["21889-1"]["valueQuantity"] == {
        "value": 23.0,
        "unit": "mm",
        "system": "http://unitsofmeasure.org",
        "code": "mm",
    }
    assert observations["21893-3"]["valueInteger"] == 1 and observations["21894-1"]["valueInteger"] == 11
    assert observations["21899-0"]["valueCodeableConcept"]["text"] == "pT2"
    # the frozen-section pT1 is not lost: the note names it
    assert "other values stated: pT1" in observations["21899-0"]["note"][0]["text"]
    (condition,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Condition"]
    assert condition["code"]["coding"] == [
        {
            "system": "http://terminology.hl7.org/CodeSystem/icd-o-3",
            "code": "8500/3",
            "display": "Infiltrating duct carcinoma, NOS",
        }
    ]
    assert condition["bodySite"][0]["coding"][0]["code"] == "C50.9"
    assert "stage" not in condition and "21902-2" not in observations  # the report states no stage group


SPECIMENS = """SPECIMENS:
A. Lung, right upper lobe, lobectomy
B. Lymph node, station 7
FROZEN SECTION DIAGNOSIS:
FSA1: Carcinoma, at least pT1.
FINAL DIAGNOSIS:
A. Lung, right upper lobe, lobectomy:
- Invasive adenocarcinoma, acinar predominant, tumor size 2.3 cm. pT1c.
B. Lymph node, station 7, excision:
- One lymph node, negative for carcinoma (0/1).
"""


def test_fields_per_specimen_part() -> None:
    from nlp_engine.pathology import extract_specimens

    parts = extract_specimens(SPECIMENS)
    assert [(p["label"], p["description"]) for p in parts] == [
        ("A", "Lung, right upper lobe, lobectomy"),
        ("B", "Lymph node, station 7"),
    ]
    a, b = (p["fields"] for p in parts)
    assert (a["histologic_type"]["value"], a["primary_site"]["value"]) == ("8550/3", "C34.1")
    # the frozen section's "at least pT1" (block FSA1, part A) loses to the final diagnosis
    assert a["pT"]["value"] == "pT1c" and a["pT"]["alternatives"] == ["pT1"]
    assert a["tumor_size_mm"]["value"] == 23.0 and a["lymph_nodes_examined"] is None
    # the node part: no tumour named (negated), its own node count
    assert b["histologic_type"] is None and (
        b["lymph_nodes_positive"]["value"],
        b["lymph_nodes_examined"]["value"],
    ) == (0, 1)
    for part in parts:  # evidence offsets point into the whole report
        for field in part["fields"].values():
            if field is not None:
                assert SPECIMENS[field["start"] : field["end"]] == field["text"]
    # "Part 2:" names the parts; lettered findings inside a part are not parts
    nested = "PART 1:\nKIDNEY, LEFT, NEPHRECTOMY -\nA. CLEAR CELL RENAL CELL CARCINOMA.\nB. MARGINS FREE.\nPART 2:\nADRENAL GLAND, LEFT -\nA. BENIGN ADRENAL.\n"
    assert [p["label"] for p in extract_specimens(nested)] == ["1", "2"]
    assert extract_specimens("A. Single sentence about a carcinoma.") == []


@pytest.mark.parametrize(
    ("text", "grade"),
    [
        ("Urothelial carcinoma, high grade, invasive into the muscularis propria.", "High Grade"),
        ("Tubular adenoma with low-grade dysplasia; adenocarcinoma, low grade, arising in it.", "Low Grade"),
        # a precursor lesion's grade, or a denied one, is not the tumour's
        ("Prostatic adenocarcinoma, Gleason 3+3=6, with high-grade PIN in other cores.", None),
        ("Colon, biopsy: tubular adenoma. No high-grade dysplasia is identified.", None),
        ("Cervix: high-grade squamous intraepithelial lesion (CIN 3).", None),
    ],
)
def test_high_and_low_grade_belong_to_the_tumour(text: str, grade: str | None) -> None:
    found = extract(text)["grade"]
    assert (found["value"] if found else None) == grade


def _nodes(text: str) -> tuple[int | None, int | None]:
    fields = extract(text)
    positive, examined = fields["lymph_nodes_positive"], fields["lymph_nodes_examined"]
    for field in (positive, examined):
        if field is not None:  # the evidence covers every statement counted, each span inside it
            assert text[field["start"] : field["end"]] == field["text"]
            assert all(field["start"] <= s < e <= field["end"] for s, e in field.get("spans", []))
    return (positive and positive["value"], examined and examined["value"])


@pytest.mark.parametrize(
    ("text", "counts"),
    [
        # stations in separate parts are summed (only the last part was counted before), counts in words
        (
            "A. Left pelvic lymph nodes, dissection:\n- Metastatic carcinoma in one of eleven lymph nodes (1/11).\n\n"
            "B. Right pelvic lymph nodes, dissection:\n- Seven lymph nodes, negative for tumor (0/7).\n",
            (1, 18),
        ),
        # a summary after the stations it adds up is not counted again
        (
            "A. Lymph nodes, left: one of ten lymph nodes positive (1/10).\nB. Lymph nodes, right: (0/11).\n"
            "Summary: lymph nodes (1/21).\n",
            (1, 21),
        ),
        # "thirteen of thirteen ... negative" counts negative nodes
        ("Lymph nodes: Thirteen (13) of thirteen (13) lymph nodes negative for neoplasm.\n", (0, 13)),
        # a positive count without the number examined
        ("Urothelial carcinoma metastatic to two lymph nodes, without extranodal extension.\n", (2, None)),
        # negated, or an AJCC definition on a template: no positive count
        ("No tumor identified in twelve lymph nodes.\n", (None, None)),
        (
            "pN1: Metastasis in 1 to 3 regional lymph nodes\npN2: Metastasis in 4 or more lymph nodes\n",
            (None, None),
        ),
        # a fraction far from the node words ("day 24/25") counts nothing
        (
            "LYMPH NODES, RIGHT OBTURATOR: (0/3)\n" + "x" * 120 + " SECRETORY ENDOMETRIUM (DAY 24/25)\n",
            (0, 3),
        ),
        # a synoptic count is the report's total; the examined number before "LYMPH NODES POSITIVE" is no
        # positive count
        ("Margins free of tumor LYMPH NODES EXAMINED: 35 LYMPH NODES POSITIVE: 0\n", (0, 35)),
        # one synoptic block per part: summed; "size of the largest node involved by tumor: 0.9 cm" is no count
        (
            "1. Left pelvic lymph nodes:\nNumber of lymph nodes examined: 8\n"
            "Number of lymph nodes with metastatic disease: 1\nSize of the largest lymph node involved by tumor: 0.9cm.\n"
            "2. Right pelvic lymph nodes:\nNumber of lymph nodes examined: 2\nNumber of lymph nodes with metastatic disease: 2\n",
            (3, 10),
        ),
        # a bare "Number with metastasis" under a lymph-node heading (OCR: "NUMBE:R")
        ("Lymph Nodes:\nNumber with metastasis: 3\nTotal number examined: 108\n", (3, 108)),
        ("LYMPH NODES: NUMBE:R WITH METASTASES: 1, NUMBE:R EXAMINED: 19.\n", (1, 19)),
        # ... and not under another one ("Number examined" of the blocks of a margin)
        ("Margins:\n" + "x" * 100 + "\nNumber examined: 4\n", (None, None)),
        # a pN with its count is the report's total, the same one stated twice once
        (
            "There are numerous regional l ymph node metastases\n(G3, pT3, L1, V1 local R0 pN2 24/29).\n",
            (24, 29),
        ),
        ("Tumor classification:\nICDO-DA M\n8140/3\nG2\npT3,\npN1(1/19),\nR 0.\n", (1, 19)),
        ("Node status N1 (7/19)\nTNM pT3 N1(7/19) RO\nTumor positive for p63, CK5/6\n", (7, 19)),
        (
            "Lymph nodes (0/36), with chronic lymphadenitis.\nThe tumor stage is: pT3, pN0 (0/36) pMX; G2, L0\n",
            (0, 36),
        ),
        # "Number of metastatic nodes:", and "one (of 6)" with the bracket before the "of"
        ("Lymph Nodes:\nNumber of nodes examined :15\nNumber of metastatic nodes:3\n", (3, 15)),
        (
            "Lymph nodes: one (of 6)\nintrapulmonary\nperibronchial lymph nodes is positive for metastatic tumor.\n",
            (1, 6),
        ),
        # "a single" node
        (
            "Lymph node, paracaval, excision: A single paracaval lymph node is positive for metastatic carcinoma.\n",
            (1, None),
        ),
        ("B. Lymph node, level 4, biopsy: A single lymph node is negative for malignancy.\n", (0, 1)),
        # a count in brackets: "Multiple (3) celiac artery lymph nodes are negative for tumor"
        (
            "A. Lymph nodes, celiac artery, excision: Multiple (3) celiac\nartery lymph nodes are negative for tumor.\n"
            "B. Lymph nodes, hepatoduodenal: (10)\nhepatoduodenal ligament lymph nodes are negative.\n",
            (0, 13),
        ),
        # "(7 of 21)" in brackets before the nodes
        ("Multiple (7 of 21) peripancreatic lymph nodes are positive for metastatic carcinoma.\n", (7, 21)),
        # the same count reworded right after is counted once
        (
            "Number of nodes examined: 7\nNumber of nodes involved: 0\nLYMPH NODES EXAMINED: 7\nLYMPH NODES POSITIVE: 0\n",
            (0, 7),
        ),
    ],
)
def test_lymph_node_counts(text: str, counts: tuple[int | None, int | None]) -> None:
    assert _nodes(text) == counts


def test_the_tnm_the_node_count_agrees_with_is_the_tumours() -> None:
    from nlp_engine.pathology.extract import node_conflict

    # a cystoprostatectomy: the bladder's checklist, then the incidental prostate carcinoma's
    text = (
        "Urinary bladder, radical cystoprostatectomy: invasive high grade urothelial carcinoma.\n"
        "8. Lymph nodes: Positive for tumor (1/21).\n9. pTNM: pT4b,N1,MX, R1.\n"
        "Prostate: adenocarcinoma, Gleason score 3+3=6.\n10. Proximal (basilar) Margin: N/A.\n"
        "11. Regional Lymph Nodes (right and left): Negative for prostate carcinoma\n(0/21).\n"
        "12. pTNM: pT2c,N0,MX.\n"
    )
    fields = extract(text)
    assert (fields["pT"]["value"], fields["pN"]["value"]) == ("pT4b", "pN1")
    assert fields["pT"]["alternatives"] == ["pT2c"] and fields["pN"]["alternatives"] == ["pN0"]
    assert text[fields["pN"]["start"] : fields["pN"]["end"]] == "N1"
    assert node_conflict(fields) is None
    # where no stated N agrees with the count, the stated one stands and goes to review
    alone = text.replace("9. pTNM: pT4b,N1,MX, R1.\n", "")
    assert extract(alone)["pN"]["value"] == "pN0" and node_conflict(extract(alone)) is not None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "Invasive urothelial carcinoma. Metastatic carcinoma in two of twelve lymph nodes (2/12).\n"
            "Pathologic stage: pT3 pN0.\n",
            "pN0 stated but 2 positive lymph node(s) counted",
        ),
        (
            "Invasive urothelial carcinoma. Twelve lymph nodes, negative for tumor (0/12).\n"
            "Pathologic stage: pT3 pN1.\n",
            "N1 stated but all 12 lymph nodes counted are negative",
        ),
        (
            "Invasive urothelial carcinoma. Twelve lymph nodes, negative for tumor (0/12).\nStage: pT3 pN0.\n",
            None,
        ),
    ],
)
def test_pn_against_the_node_count_goes_to_review(text: str, reason: str | None) -> None:
    from nlp_engine.pathology.coder import stated_differently
    from nlp_engine.pathology.extract import review

    fields = extract(text)
    verdict = review(text, fields)
    reasons = [r for r in verdict["reasons"] if r.startswith("pN:")]
    if reason is None:
        assert reasons == [] and verdict["status"] == "ok"
        assert stated_differently("pathologic_N", fields) is None
    else:
        assert verdict["status"] == "review" and reason in reasons[0]
        assert reason in (stated_differently("pathologic_N", fields) or "")
        assert "urothelial" not in reasons[0]  # reasons name values and offsets, not report text


@pytest.mark.parametrize(
    ("text", "site"),
    [
        (
            "LUNG TISSUE CHECKLIST\nSite: Right lung superior lobe\nHistologic type: squamous cell carcinoma\n",
            "C34.1",
        ),
        ("Lung, lingula, wedge resection: adenocarcinoma, 1.2 cm.\n", "C34.1"),
        ("Tumor site: Lung\nHistologic type: adenocarcinoma\nComments: Left- lower\n", "C34.3"),
        ("Site: Left lung inferior lobe\nHistologic type: adenocarcinoma\n", "C34.3"),
        # a node station named "right upper paratracheal" is no lobe
        ("Lung, resection: adenocarcinoma. Lymph node, right upper paratracheal (2R): negative.\n", "C34.9"),
    ],
)
def test_lung_lobes_as_checklists_write_them(text: str, site: str) -> None:
    assert extract(text)["primary_site"]["value"] == site


def test_megabytes_of_node_counts_are_read_in_linear_time() -> None:
    """A pathological input (hundreds of thousands of counts in one sentence, or in as many lines)
    is read, not hung on: summing and de-duplicating the statements was quadratic and worse before the
    caps. The counts read stay counts."""
    one_sentence = "(0/3) lymph nodes, one of two lymph nodes positive " * 20_000
    many_lines = "".join(f"Lymph nodes: {i % 50 + 1}/{i % 100 + 51}.\n" for i in range(20_000))
    for text in (one_sentence, many_lines):
        positive, examined = _nodes(text)
        assert isinstance(positive, int) and isinstance(examined, int) and 0 < positive <= examined


def test_a_line_of_thousands_of_tnm_mentions_is_read_in_linear_time() -> None:
    """One line of 20,000 bare TNMs after a clinical cue: each mention looks back a bounded reach for
    the cue and a frozen-section header (a scan to the line's start per mention was quadratic)."""
    fields = extract("Clinical stage " + "T1 N0 " * 20_000)
    assert (fields["pT"]["value"], fields["pN"]["value"]) == ("pT1", "pN0")


def test_fhir_bundle_carries_the_derived_stage_with_its_sources() -> None:
    from nlp_engine.pathology.fhir import pathology_bundle
    from nlp_engine.pathology.staging import derived_stage

    fields = extract(REPORT)  # states pT2 pN1a pM0 and no stage group
    assert fields["stage"] is None
    bundle = pathology_bundle("report-1", fields, derived_stage=derived_stage(fields))
    resources = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    staged = [
        r
        for r in resources.values()
        if r["resourceType"] == "Observation" and r["code"]["coding"][0]["code"] == "21902-2"
    ]
    assert len(staged) == 1 and staged[0]["valueCodeableConcept"]["text"] == "IIB"
    assert "AJCC 7" in staged[0]["method"]["text"]
    sources = sorted(
        resources[ref["reference"]]["code"]["coding"][0]["code"] for ref in staged[0]["derivedFrom"]
    )
    assert sources == ["21899-0", "21900-6", "21901-4"]  # pT, pN, pM (the stated pN, not the count)
    # R4 allows an Observation to be derived from Observations, not from the DiagnosticReport
    derived_from = [ref["reference"] for r in resources.values() for ref in r.get("derivedFrom", [])]
    assert derived_from and all(resources[ref]["resourceType"] == "Observation" for ref in derived_from)
    (condition,) = [r for r in resources.values() if r["resourceType"] == "Condition"]
    assert condition["stage"][0]["assessment"][0]["reference"] == f"urn:uuid:{staged[0]['id']}"
    # without it, no stage at all (the report states none)
    plain = pathology_bundle("report-1", fields)
    assert not any(
        e["resource"]["resourceType"] == "Observation"
        and e["resource"]["code"]["coding"][0]["code"] == "21902-2"
        for e in plain["entry"]
    )


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("Stage grouping: IIIA", "Stage IIIA"),
        # OCR's numerals and Arabic ones, with a substage or after AJCC / pathologic / TNM
        ("pT3 N1 M0, stage Ill A", "Stage IIIA"),
        ("Stage 11B", "Stage IIB"),
        ("stage lA", "Stage IA"),
        ("Pathologic stage: 1", "Stage I"),
        ("AJCC stage 4", "Stage IV"),
        # a liver's fibrosis stage, a bare Arabic numeral: no AJCC stage
        ("Background liver: fibrosis stage 3 (Batts-Ludwig).", None),
        ("Ishak stage 4", None),
    ],
)
def test_stage_as_stated(text: str, stage: str | None) -> None:
    field = extract("Adenocarcinoma.\n" + text)["stage"]
    assert (field and field["value"]) == stage
    if field:
        assert ("Adenocarcinoma.\n" + text)[field["start"] : field["end"]] == field["text"]


@pytest.mark.parametrize(
    ("text", "grade"),
    [
        ("Fuhrman nuclear grade: 2/4", "G2"),
        ("HISTOLOGIC GRADE (FUHRMAN NUCLEAR GRADE) : 1 OF 4", "G1"),
        ("B. FUHRMAN NUCLEAR GRADE IS Ill OF IV.", "G3"),  # OCR's "l" for "I"
        ("5. Nuclear grade: Fuhrman grade: 414.", "G4"),  # OCR's "1" for "/"
        ("THIRTY PERCENT NECROSIS, WITH FUHRMAN GRADING OF 3/4.", "G3"),
        ("HISTOLOGIC GRADE (FUHRMAN NUCLEAR GRADE) : renal carcinoma\nGrade .2\nEXTENT", "G2"),
        # a list's next number after a grade in words is no grade; a Gleason grade is no tumour grade
        ("2.Grade of tumor: High grade.\n3.Depth of invasion: muscularis propria", "High Grade"),
        ("Adenocarcinoma of prostate, Gleason grade 3+4=7.", None),
    ],
)
def test_grade_as_written(text: str, grade: str | None) -> None:
    field = extract("Carcinoma.\n" + text)["grade"]
    assert (field and field["value"]) == grade


def test_long_runs_of_blank_space_are_read_in_linear_time() -> None:
    """A tumour word followed by a long run of spaces, or a report padded with blank lines: the
    patterns that allowed an optional comma between two runs of blanks (`[ \\t]*,?[ \\t]*`) and the
    final-diagnosis header's `^\\s*` tried every split of the run (minutes for these texts); each run
    is now read once. The fields are read as before."""
    spaced = extract("Lung, lobectomy: adenocarcinoma" + " " * 100_000 + "in situ.")
    assert spaced["histologic_type"]["value"] == "8140/2"
    padded = extract("Lung, lobectomy: adenocarcinoma, 2.5 cm." + "\n" * 100_000 + "FINAL DIAGNOSIS: pT2a")
    assert padded["pT"]["value"] == "pT2a" and padded["histologic_type"]["value"] == "8140/3"


@pytest.mark.parametrize(
    "text, field, value",
    [
        ("Stage" + " " * 5_000 + "to follow. Pathologic stage: IIB", "stage", "Stage IIB"),
        ("AJCC stage" + " \n" * 3_000 + "pending; AJCC stage lll A", "stage", "Stage IIIA"),
        ("Gleason" + " " * 5_000 + "pattern not assessable. Gleason score 3+4=7", "gleason", "3+4=7"),
        ("Grade group" + " " * 120_000 + "pending. Grade group 2", "grade_group", 2),
        ("PSA" + " " * 5_000 + "unknown; PSA 9.1 ng/ml", "psa_ng_ml", 9.1),
        ("Lymph nodes (2/14)" + " \n" * 50_000, "lymph_nodes_examined", 14),
        (
            "Perineural invasion" + " " * 30_000 + "see comment. Perineural invasion: present",
            "perineural_invasion",
            "present",
        ),
        ("Tumor size: 2.5 cm" + " " * 30_000 + ") in greatest dimension.", "tumor_size_mm", 25.0),
        ("Margins involved" + " " * 120_000 + "see below. Margins: negative", "margins", "negative"),
    ],
)
def test_a_cue_before_a_long_run_of_blanks_is_read_in_linear_time(
    text: str, field: str, value: object
) -> None:
    """A label followed by a long run of blanks and no value: an optional mark between two or three
    runs of blanks (`stage\\s*(?:group)?\\s*[:\\-]?\\s*`, `[ \\t]*\\)?[ \\t]*`) tried every split of the
    run before giving up (over 30 s for each of these texts, minutes to hours for most), and a node
    count's leading `\\(?\\s*` rescanned the run from each of its characters; each run is now read
    once, and the value stated after it is read as before."""
    assert extract(text)[field]["value"] == value


def test_a_metastatic_deposit_is_not_read_as_the_primary() -> None:
    """Where the same type is named as a deposit first ("metastatic adenocarcinoma" of an ovary) and as
    the tumour after, its evidence is the primary's mention and the site is read beside that one (it
    was the first mention's: the ovary)."""
    text = (
        "FINAL DIAGNOSIS:\nA. Right ovary, oophorectomy:\n- Metastatic adenocarcinoma.\n"
        "B. Sigmoid colon, resection:\n- Invasive adenocarcinoma of the sigmoid colon, moderately "
        "differentiated, 4.0 cm.\n"
    )
    fields = extract(text)
    histology, site = fields["histologic_type"], fields["primary_site"]
    assert histology["value"] == "8140/3" and histology["start"] > text.index("Invasive")
    assert site["value"] == "C18.7"
    # with no other mention, a deposit's type is still the report's
    alone = extract("Liver, biopsy: metastatic adenocarcinoma, consistent with a colorectal primary.")
    assert alone["histologic_type"]["value"] == "8140/3"


def test_a_subsite_its_own_line_calls_benign_does_not_refine_the_site() -> None:
    """ "Bladder neck, biopsy: benign urothelium" names no subsite of the tumour: the site stays the
    organ's (it was the bladder neck's); a part of the organ its line does not call benign still
    refines it."""
    tumour = "FINAL DIAGNOSIS:\nA. Urinary bladder, cystectomy:\n- High grade invasive urothelial carcinoma, 3.0 cm.\n"
    benign = extract(tumour + "B. Bladder neck, biopsy: benign urothelium, negative for carcinoma.\n")
    assert benign["primary_site"]["value"] == "C67.9"
    involved = extract(tumour + "B. Bladder neck, biopsy: urothelial carcinoma in situ.\n")
    assert involved["primary_site"]["value"] == "C67.5"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # after neoadjuvant therapy: the N written with its own "yp" was not read at all
        (
            "Breast, partial mastectomy: residual invasive ductal carcinoma.\nPathologic stage: ypT1c ypN1a",
            {"pT": ("pT1c", "y"), "pN": ("pN1a", "y")},
        ),
        # an N written without its "p" is the T's classification's
        (
            "Rectum, low anterior resection: adenocarcinoma. Stage: ypT2 N0 M0",
            {"pT": ("pT2", "y"), "pN": ("pN0", "y"), "pM": ("pM0", None)},
        ),
        ("SYNOPTIC: YPT3 N1 MX", {"pT": ("pT3", "y"), "pN": ("pN1", "y")}),
        # the N alone, with its prefix
        ("Lymph nodes: ypN0 (0/12)", {"pT": None, "pN": ("pN0", "y")}),
        # a recurrence; an N with its own plain "p" is not the T's
        ("Recurrent carcinoma, rpT2 pN1", {"pT": ("pT2", "r"), "pN": ("pN1", None)}),
        ("Colon: adenocarcinoma, pT3 pN0", {"pT": ("pT3", None), "pN": ("pN0", None)}),
    ],
)
def test_the_ajcc_prefix_is_read_and_kept(text: str, expected: dict[str, Any]) -> None:
    fields = extract(text)
    for name, want in expected.items():
        got = fields[name]
        assert (got and (got["value"], got.get("prefix"))) == want, name


def test_a_post_therapy_tnm_reaches_the_stage_the_csv_and_fhir_with_its_prefix(tmp_path: Path) -> None:
    import csv

    from typer.testing import CliRunner

    from nlp_engine.cli import app
    from nlp_engine.pathology.fhir import pathology_bundle
    from nlp_engine.pathology.staging import derived_stage

    text = (
        "FINAL DIAGNOSIS: Left breast, partial mastectomy: residual invasive ductal carcinoma, 1.4 cm.\n"
        "Pathologic stage: ypT1c ypN1a"
    )
    fields = extract(text)
    stage = derived_stage(fields)
    assert stage is not None and stage["value"] == "IIA" and stage["prefix"] == "y"
    assert stage["from"] == {"pT": "ypT1c", "pN": "ypN1a"}  # named as written
    assert "prefix" not in (derived_stage(extract(text.replace("yp", "p"))) or {})
    bundle = pathology_bundle("report-1", fields, derived_stage=stage)
    observations = {
        r["code"]["coding"][0]["code"]: r
        for r in (e["resource"] for e in bundle["entry"])
        if r["resourceType"] == "Observation"
    }
    assert observations["21899-0"]["valueCodeableConcept"]["text"] == "ypT1c"
    assert observations["21900-6"]["valueCodeableConcept"]["text"] == "ypN1a"
    assert "post-therapy (yp) stage group" in observations["21902-2"]["method"]["text"]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "r1.txt").write_text(text)
    result = CliRunner().invoke(
        app, ["pathology", "extract", str(tmp_path / "in"), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    with open(tmp_path / "out" / "pathology.csv", newline="") as handle:
        (row,) = csv.DictReader(handle)
    assert (row["pT"], row["pN"], row["derived_stage"]) == ("ypT1c", "ypN1a", "IIA")


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        ("ER: Positive (90%, strong)", "er", {"value": "positive", "percent": 90.0}),
        (
            "Estrogen receptor: 95% of tumor cells with strong nuclear staining",
            "er",
            {"value": "positive", "percent": 95.0},
        ),
        ("Estrogen receptor (ER): Low positive (5%)", "er", {"value": "positive", "percent": 5.0}),
        ("ER: 0%", "er", {"value": "negative", "percent": 0.0}),
        ("PR: <1%", "pr", {"value": "negative"}),
        # another receptor's value is not this one's
        ("ER 90%, PR negative", "er", {"value": "positive", "percent": 90.0}),
        ("ER 90%, PR negative", "pr", {"value": "negative"}),
        ("Hormone receptors: ER+/PR-/HER2-", "pr", {"value": "negative"}),
        ("Hormone receptors: ER+/PR-/HER2-", "her2", {"value": "negative"}),
        # listed together, one value; the value before the stains
        ("ER and PR are negative in the solid component.", "er", {"value": "negative"}),
        (
            "The tumor cells are positive for CK7, ER and PR, and negative for HER2.",
            "pr",
            {"value": "positive"},
        ),
        (
            "The tumor cells are positive for CK7, ER and PR, and negative for HER2.",
            "her2",
            {"value": "negative"},
        ),
        ("PR\npositive (2-3+, 75%)", "pr", {"value": "positive"}),
        # the percent its own statement gives, also where the value stands before the stain
        (
            "Tumor is negative for estrogen receptor (0%) and positive for PR.",
            "er",
            {"value": "negative", "percent": 0.0},
        ),
        # HER2: the ISH decides an equivocal 2+; else the IHC score
        (
            "HER2 (IHC): 2+ equivocal; FISH not amplified (ratio 1.3)",
            "her2",
            {"value": "negative", "ihc": "2+", "ish": "not amplified"},
        ),
        (
            "HER2 immunostain 2+ (equivocal). HER2 FISH: amplified, ratio 2.6.",
            "her2",
            {"value": "positive", "ihc": "2+", "ish": "amplified"},
        ),
        ("HER2 IHC: 3+", "her2", {"value": "positive", "ihc": "3+"}),
        ("HER2: 1+ (negative)", "her2", {"value": "negative", "ihc": "1+"}),
        # a score of 0 given after the status
        ("HER2 by IHC is negative (0).", "her2", {"value": "negative", "ihc": "0"}),
        ("HER2: negative (score 0)", "her2", {"value": "negative", "ihc": "0"}),
        ("HER2 negative (0%)", "her2", {"value": "negative", "ihc": None}),  # a percent, no score
        (
            "HER2/neu by FISH: Amplified (HER2/CEP17 ratio 4.2)",
            "her2",
            {"value": "positive", "ish": "amplified"},
        ),
    ],
)
def test_receptor_status_as_asco_cap_reads_it(text: str, name: str, expected: dict[str, Any]) -> None:
    field = extract(text)[name]
    assert field is not None
    assert {k: field.get(k) for k in expected} == expected
    assert "alternatives" not in field  # an equivocal 2+ that an ISH resolved is no contradiction


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("p16 positive. HPV in situ hybridization: negative.", "her2"),  # an ISH of another target
        ("In situ hybridization for albumin is positive.", "her2"),
        ("TCGA-G2-AA3D-01A-PR Redacted\nTen lymph nodes negative", "pr"),  # a sample barcode
        ("These clones are used: ID5=ER PgR 636-=PR, A485=HER2. Stains were negative", "pr"),
        ("IHC ordered: VIMENTIN - ER(SP1)-\nCEA-", "er"),  # an order list's dash after a clone
        ("Ki-67: pending, ER 95%", "ki67_percent"),  # another marker's percent
    ],
)
def test_no_receptor_is_read_from_another_target_or_a_code(text: str, name: str) -> None:
    assert extract(text)[name] is None


def test_ki67_stated_as_a_range_keeps_both_ends() -> None:
    from nlp_engine.pathology.fhir import pathology_bundle

    field = extract("Breast, left: invasive ductal carcinoma. Ki-67: 30-40% of tumor nuclei.")["ki67_percent"]
    assert (field["value"], field["range"]) == (30, [30, 40])
    assert "range" not in extract("Ki-67 proliferation index 15%")["ki67_percent"]
    assert "range" not in extract("Ki-67: 40-30%")["ki67_percent"]  # not a range low to high
    bundle = pathology_bundle("r1", extract("Breast: invasive ductal carcinoma. Ki-67: 30-40%."))
    (ki67,) = [e["resource"] for e in bundle["entry"] if e["resource"]["code"].get("text") == "ki67_percent"]
    assert [ki67["valueRange"][end]["value"] for end in ("low", "high")] == [30, 40]
    assert ki67["valueRange"]["low"]["unit"] == "%" and "valueInteger" not in ki67


@pytest.mark.parametrize(
    "text, field, value",
    [
        ("ER" + " " * 100_000 + "pending. ER: positive", "er", "positive"),
        ("PR" + "\t" * 100_000 + "see below. PR: negative", "pr", "negative"),
        ("HER2" + " " * 100_000 + "pending. HER2 IHC: 3+", "her2", "positive"),
        ("ER" + " \n" * 50_000 + "ER 90%", "er", "positive"),
    ],
)
def test_a_receptor_cue_before_a_long_run_of_blanks_is_read_in_linear_time(
    text: str, field: str, value: object
) -> None:
    """A receptor's sign after its cue (`[ \t]*:?[ \t]*[+-]`: two runs of blanks with an optional
    colon between) tried every split of the run: 48 s for the first text. Read once now."""
    assert extract(text)[field]["value"] == value


ALL_RETAINED = {"MLH1": "retained", "MSH2": "retained", "MSH6": "retained", "PMS2": "retained"}
MLH1_PMS2_LOST = {"MLH1": "lost", "MSH2": "retained", "MSH6": "retained", "PMS2": "lost"}


@pytest.mark.parametrize(
    ("text", "value", "proteins"),
    [
        (
            "Mismatch Repair (MMR) Protein Expression: MLH1 retained, MSH2 retained, MSH6 retained, PMS2 retained",
            "proficient",
            ALL_RETAINED,
        ),
        (
            "MLH1: Loss of nuclear expression\nMSH2: Intact nuclear expression\nMSH6: Intact nuclear expression\n"
            "PMS2: Loss of nuclear expression",
            "deficient",
            MLH1_PMS2_LOST,
        ),
        # the status before the proteins; the words after a comma are another statement's
        (
            "Immunohistochemistry shows loss of MLH1 and PMS2 expression, with intact MSH2 and MSH6.",
            "deficient",
            MLH1_PMS2_LOST,
        ),
        ("No loss of nuclear expression of MLH1, MSH2, MSH6, PMS2.", "proficient", ALL_RETAINED),
        (
            "MLH1 (clone ES05): negative; MSH2 (G219-1129): positive; MSH6: positive; PMS2: negative",
            "deficient",
            MLH1_PMS2_LOST,
        ),
        ("MLH1 and PMS2 are lost but MSH2 and MSH6 are retained.", "deficient", MLH1_PMS2_LOST),
        # the status in words alone
        ("MMR: proficient (pMMR).", "proficient", None),
        ("The tumor is dMMR.", "deficient", None),
        ("Mismatch repair protein status: deficient", "deficient", None),
        ("COMMENT: Mismatch repair proteins are intact by immunohistochemistry.", "proficient", None),
    ],
)
def test_mismatch_repair_status_and_each_protein(
    text: str, value: str, proteins: dict[str, str] | None
) -> None:
    field = extract(text)["mmr"]
    assert field is not None and field["value"] == value
    assert field.get("proteins") == proteins
    for start, end in field.get("spans", [[field["start"], field["end"]]]):
        assert re.search(r"(?i)MLH|MSH|PMS|MMR|mismatch", text[start:end])


@pytest.mark.parametrize(
    "text",
    [
        "Mismatch repair immunohistochemistry: pending, will be reported in an addendum.",
        # the gene, not the protein's expression
        "MLH1 promoter hypermethylation: present. PMS2 germline testing negative.",
        # about such tumours in general
        "In most tumors with loss of MLH1 and PMS2 staining, the defect is caused by methylation.",
    ],
)
def test_no_mismatch_repair_status_where_none_is_stated(text: str) -> None:
    assert extract(text)["mmr"] is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("MSI testing: microsatellite stable (MSS).", "MSS"),
        ("MSI-H by PCR.", "MSI-H"),
        ("Tumor cells show high-level microsatellite instability.", "MSI-H"),
        ("Microsatellite instability: MSI-low", "MSI-L"),
    ],
)
def test_microsatellite_instability_as_stated(text: str, value: str) -> None:
    field = extract(text)["msi"]
    assert field is not None and field["value"] == value


@pytest.mark.parametrize(
    "text",
    [
        "Genetic testing may be appropriate even in cases with microsatellite stable lesions.",
        "POST-OP DIAGNOSIS: Malignant neoplasm mss.",  # OCR's "mass"
        "Uterus and cervix^cp_ 0-r3\n0 S.^^MSS\nco r p",  # OCR's noise
    ],
)
def test_no_microsatellite_status_where_none_is_stated(text: str) -> None:
    assert extract(text)["msi"] is None


def test_a_her2_status_stated_against_its_own_ish_goes_to_review() -> None:
    from nlp_engine.pathology import review

    text = (
        "FINAL DIAGNOSIS: Right breast, core biopsy: invasive ductal carcinoma, Nottingham grade 3.\n"
        "HER2: negative (1+).\nADDENDUM: HER2 FISH: amplified (HER2/CEP17 ratio 3.1)."
    )
    fields = extract(text)
    assert (fields["her2"]["value"], fields["her2"]["ihc"], fields["her2"]["ish"]) == (
        "positive",
        "1+",
        "amplified",
    )
    verdict = review(text, fields)
    assert verdict["status"] == "review"
    assert any(
        r.startswith("her2: stated differently (positive chosen; also negative)") for r in verdict["reasons"]
    )
    # an equivocal 2+ that the ISH resolved is no disagreement
    resolved = text.replace("negative (1+)", "2+ (equivocal)")
    assert review(resolved, extract(resolved))["status"] == "ok"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the R132H stain, after its name or before it, in the words reports use
        (
            "IDH1 (R132H) stain is positive in tumor cells, consistent with IDH1 mutation.",
            ("mutant", "positive"),
        ),
        ("IDH-1 is negative. p53 is positive in rare nuclei.", ("R132H-negative", "negative")),
        ("IDHI-RI32H: Positive.", ("mutant", "positive")),
        ("Neoplastic cells are immunoreactive for IDH1 but negative for p53.", ("mutant", "positive")),
        ("The neoplastic cells are not reactive with IDH1-R132H antiserum.", ("R132H-negative", "negative")),
        ("2. Negative immunostain for mutant IDH1-R132H protein", ("R132H-negative", "negative")),
        ("Tumor cells are positive for mutated\nisocitrate dehydrogenase 1 (IDH1).", ("mutant", "positive")),
        ("The IDH-1 stain is diffusely\npositive in the tumor.", ("mutant", "positive")),
        # a sentence about astrocytomas in general is no result; this one's stain is
        (
            "Astrocytoma WHO Grade 2 is commonly positive for IDH1.\nIDH-1 immunohistochemistry is negative "
            "in this case, so IDH1/IDH2 sequencing to detect a rarer mutation would, if positive, help.",
            ("R132H-negative", "negative"),
        ),
    ],
)
def test_idh_by_the_r132h_stain(text: str, expected: tuple[str, str]) -> None:
    field = extract(text)["idh"]
    assert (field["value"], field["ihc"]) == expected
    assert "sequencing" not in field and "alternatives" not in field


def test_idh_by_sequencing_decides_per_gene() -> None:
    wildtype = extract(
        "IDH1 MUTATION TESTING WITH REFLEX TO IDH2\nINTERPRETATION: NEGATIVE\nIDH1 AND IDH2 MUTATIONS NOT DETECTED\n"
    )["idh"]
    assert (wildtype["value"], wildtype["sequencing"]) == (
        "wildtype",
        {"IDH1": "wildtype", "IDH2": "wildtype"},
    )
    # a stain blind to a rarer mutation (R132C) beside sequencing that finds it: mutant, no contradiction
    text = (
        "IDH-1 (R132H) is negative. Pyrosequencing for IDH will be reported in an addendum.\nADDENDA:\n"
        "Result: Positive for IDH1 codon 132 c.394C>T p.Arg132Cys (R132C) mutation and negative for IDH2 codon "
        "172\nmutation by PCR and pyrosequencing."
    )
    fields = extract(text)
    field = fields["idh"]
    assert (field["value"], field["ihc"], field["sequencing"]) == (
        "mutant",
        "negative",
        {"IDH1": "mutant", "IDH2": "wildtype"},
    )
    assert "alternatives" not in field
    # each statement's own span, the stain's and each gene's
    assert [text[start:end] for start, end in field["spans"]][0] == "IDH-1 (R132H) is negative"
    assert len(field["spans"]) == 3
    # a positive stain against sequencing that finds nothing is a contradiction: review
    against = "IDH1 (R132H) stain is positive.\nADDENDUM: IDH1 AND IDH2 MUTATIONS NOT DETECTED."
    contradicted = extract(against)["idh"]
    assert (contradicted["value"], contradicted["alternatives"]) == ("wildtype", ["mutant"])
    from nlp_engine.pathology import review

    assert review(against, extract(against))["status"] != "ok"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Interpretation\nNEGATIVE: No evidence of methylated MGMT promoter is detected.", "unmethylated"),
        ("Interpretation\nLOW POSITIVE: Methylated MGMT promoter is detected.", "methylated"),
        (
            "Result:\nMGMT PROMOTER METHYLATION IDENTIFIED\nMethodology: methylation-specific PCR.",
            "methylated",
        ),
        ("Results:\nMGMT promoter methylation NOT identified.", "unmethylated"),
        ("The MGMT promoter methylation assay is negative (see below).", "unmethylated"),
        ("4. Methylated MGMT promoter: Positive.", "methylated"),
        ("RESULT:\nThe analyzed region of the MGMT promoter is UNMETHYLATED.", "unmethylated"),
        ("MGMT METHYLATION ASSAY : GENE METHYLATION NOT DETECTED.", "unmethylated"),
        ("Molecular studies show that the tumor is positive\nfor MGMT promoter methylation.", "methylated"),
    ],
)
def test_mgmt_promoter_methylation(text: str, value: str) -> None:
    assert extract(text)["mgmt"]["value"] == value


@pytest.mark.parametrize(
    "text",
    [
        # a test's description, an order, a protein stain (another test), a threshold
        "TEST DESCRIPTION: Patients with glioma containing a methylated MGMT promoter have been shown to benefit "
        "from therapy with alkylating agents. Tumors with IDH1 or\nIDH2 mutations\nhave a better outcome.",
        "MGMT promoter methylation analysis has been ordered and results will be issued in a separate report.\n"
        "Molecular testing for IDH mutations has been ordered. LOH of 1p/19q is requested.",
        "MGMT - NEGATIVE (5% OF TUMOR CELLS)\nPlease run IDH1 antibody.",
        "Comment: The specimen is considered negative for MGMT promoter methylation\nwhen the index is below 4.",
        "Confirmation by FISH testing for 1p19q deletion and EGFR amplification is highly recommended.",
        "IDH1 MUTATION TESTING WITH REFLEX TO IDH2\nPlease also run the IDHI antibody.",
    ],
)
def test_no_glioma_marker_from_descriptions_or_orders(text: str) -> None:
    fields = extract(text)
    assert (fields["idh"], fields["mgmt"], fields["codeletion_1p19q"]) == (None, None, None)


@pytest.mark.parametrize(
    ("text", "value", "arms"),
    [
        (
            "Conclusion: Diffuse oligoastrocytoma grade II WHO with co-\ndeletion of 1p/19q.",
            "codeleted",
            None,
        ),
        ("3. Negative for codeletion of chromosomal arms 1 p and 19q", "not codeleted", None),
        ("2. 1p, 19q LOH (codeletion): Positive.", "codeleted", None),
        ("IMMUNOFLUORESCENCE FOR 1p/19q FISH : lp/19q NOT DELETED.", "not codeleted", None),
        ("FISH demonstrates preservation of both\nchromosomes 1p and 19q.", "not codeleted", None),
        (
            "NEGATIVE: Allelic loss on chromosome arm 1p and chromosome arm 19q is NOT \ndetected.",
            "not codeleted",
            {"19q": "intact", "1p": "intact"},
        ),
        (
            "POSITIVE: Allelic loss on chromosome arm 19q is detected.\nThere is no evidence of allelic loss on "
            "chromosome 1p.",
            "not codeleted",
            {"19q": "deleted", "1p": "intact"},
        ),
        (
            "RESULTS:\nPOSITIVE for chromosome 1p36 deletion\nPOSITIVE for chromosome 19q13 deletion",
            "codeleted",
            {"1p": "deleted", "19q": "deleted"},
        ),
        (
            "1P/19Q DELETION BY FISH\n1p Deletion by FISH: Deleted\n19q Deletion by FISH: Deleted",
            "codeleted",
            {"1p": "deleted", "19q": "deleted"},
        ),
        (
            "Chromosome 1p: NON-DELETED\nChromosome 19q: NON-DELETED",
            "not codeleted",
            {"1p": "intact", "19q": "intact"},
        ),
        (
            "loss of heterozygosity on 19q, but not on lp. As such, the lp/19q codeletion\nassociated with "
            "oligodendroglioma was not present.",
            "not codeleted",
            None,
        ),
    ],
)
def test_1p19q_codeletion(text: str, value: str, arms: dict[str, str] | None) -> None:
    field = extract(text)["codeletion_1p19q"]
    assert (field["value"], field.get("arms")) == (value, arms)


@pytest.mark.parametrize(
    ("text", "idh", "codeletion"),
    [
        (
            "Brain, left frontal lobe: Oligodendroglioma, IDH-mutant and 1p/19q-codeleted, WHO grade 2.",
            "mutant",
            "codeleted",
        ),
        ("Glioblastoma, IDH-wildtype, WHO grade 4.", "wildtype", None),
        ("Astrocytoma, IDH-mutant, WHO grade 3. 1p/19q: intact (FISH).", "mutant", "not codeleted"),
    ],
)
def test_the_who_integrated_diagnosis_names_the_markers(text: str, idh: str, codeletion: str | None) -> None:
    fields = extract(text)
    assert fields["idh"]["value"] == idh
    assert (fields["codeletion_1p19q"] or {}).get("value") == codeletion
    # a negative R132H stain beside a diagnosis naming the tumour IDH-wildtype agrees with it
    agreed = extract("Glioblastoma, IDH-wildtype.\nIDH1 R132H stain is negative.")["idh"]
    assert (agreed["value"], agreed["ihc"], agreed.get("alternatives")) == ("wildtype", "negative", None)


def test_one_arm_lost_alone_decides_no_codeletion_status() -> None:
    assert extract("Allelic loss on chromosome arm 19q is detected.")["codeletion_1p19q"] is None


def test_mgmt_methylated_in_one_block_and_not_another_goes_to_review() -> None:
    from nlp_engine.pathology import review
    from nlp_engine.pathology.fhir import pathology_bundle

    text = (
        "FINAL DIAGNOSIS: Brain, left temporal, resection: glioblastoma, WHO grade IV.\n"
        "Block A2: POSITIVE - Methylated MGMT promoter is detected.\n"
        "Block A3: NEGATIVE - No evidence of methylated MGMT promoter is detected.\n"
        "IDH1 (R132H) stain is negative. Allelic loss on chromosome arm 1p and chromosome arm 19q is NOT detected."
    )
    fields = extract(text)
    assert (fields["mgmt"]["value"], fields["mgmt"]["alternatives"]) == ("unmethylated", ["methylated"])
    verdict = review(text, fields)
    assert verdict["status"] == "review"
    assert any(r.startswith("mgmt: stated differently") for r in verdict["reasons"])
    notes = {
        e["resource"]["code"].get("text"): e["resource"]["note"][0]["text"]
        for e in pathology_bundle("g1", fields)["entry"]
        if e["resource"]["resourceType"] == "Observation"
    }
    assert "IHC negative" in notes["idh"]
    assert "1p intact, 19q intact" in notes["codeletion_1p19q"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("IDH1" + " " * 100_000 + "positive", (None, None, None)),  # beyond the value's reach
        ("positive for" + " " * 100_000 + "IDH1", ("mutant", None, None)),
        ("co-" + " " * 100_000 + "deletion of 1p/19q", (None, None, "codeleted")),
        ("MGMT promoter methylation" + " " * 100_000 + "detected", (None, "methylated", None)),
        ("1p " * 30_000 + "19q", (None, None, None)),
    ],
)
def test_glioma_marker_cues_before_long_runs_are_read_in_linear_time(text: str, expected: tuple) -> None:
    """Each pattern's runs of blanks are bounded or read once: a quadratic scan of these texts would
    take minutes (no timing threshold here: the suite's time shows it)."""
    fields = extract(text)
    assert (
        tuple(f and f["value"] for f in (fields["idh"], fields["mgmt"], fields["codeletion_1p19q"]))
        == expected
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Lymph Nodes, Extranodal Extension: Present\nPathologic Staging (pTNM):", "present"),
        (
            "METASTATIC CARCINOMA IN TWO OF TWENTY-FOUR LYMPH NODES (2/24).\nB. NO EXTRANODAL EXTENSION PRESENT.",
            "absent",
        ),
        (
            "Number of regional lymph nodes involved: 3\nExtra-capsular extension of nodal tumor: Absent",
            "absent",
        ),
        ("EXTRACAPSULAR SPREAD OF LYMPH NODE METASTASES: Yes", "present"),
        (
            "The total number of metastatically-involved lymph nodes is 1\nExtranodal extension by tumor metastases is ABSENT.",
            "absent",
        ),
        (
            "Metastatic carcinoma in one of eight lymph nodes (1/8).\nb. Extracapsular extension is present.",
            "present",
        ),
        ("LYMPH NODES POSITIVE: 1\nEXTRANODAL EXTENSION: Indeterminate", "indeterminate"),
        ("SIZE OF METASTATIC FOCUS IS 4.0 MM; NEGATIVE FOR PERINODAL EXTENSION.", "absent"),
        ("Lymph nodes: 1/12. ENE: present.", "present"),
        # stated node by node: present where any node's is
        (
            "B. Left neck: carcinoma in one of thirteen lymph nodes (1/13).\nExtranodal extension is present.\n"
            "C. Right neck: carcinoma in two of nineteen lymph nodes (2/19).\nExtranodal extension is absent.",
            "present",
        ),
    ],
)
def test_extranodal_extension(text: str, value: str) -> None:
    assert extract(text)["extranodal_extension"]["value"] == value


@pytest.mark.parametrize(
    "text",
    [
        # the prostate's capsule, an ovary's: no node named on the line or the one above
        "THE CARCINOMA INVOLVES 40% OF THE EXAMINED PROSTATE VOLUME.\nTHE CARCINOMA SHOWS EXTRACAPSULAR EXTENSION: PRESENT.",
        "SEROUS ADENOCARCINOMA OF BOTH OVARIES (RIGHT 15.0 CM)\nExtracapsular extension: present, ovarian surface involved.",
        "Lymph nodes: see part B.\n\n\nProstate, radical prostatectomy:\nAdenocarcinoma.\nExtracapsular extension: present.",
        "Lymph nodes 0/3.\nPASTE THE G ene: present",  # OCR's "ene" is no abbreviation
    ],
)
def test_an_organs_capsule_is_no_extranodal_extension(text: str) -> None:
    assert extract(text)["extranodal_extension"] is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("extranodal extension" + " " * 100_000 + "present", "present"),
        ("no" + " " * 100_000 + "extranodal extension", "absent"),
        ("lymph nodes\nextracapsular" + " \n" * 50_000 + "extension present", "present"),
    ],
)
def test_extranodal_extension_cues_before_long_runs_are_read_in_linear_time(text: str, value: str) -> None:
    """Read once, not every split of the blanks (no timing threshold: the suite's time shows it)."""
    assert extract(text)["extranodal_extension"]["value"] == value
