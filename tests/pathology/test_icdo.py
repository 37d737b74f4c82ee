from __future__ import annotations

import re

import pytest

from nlp_engine.pathology import extract, review, withheld
from nlp_engine.pathology.icdo import _REACH, _mentions, _top_level, vocabulary
from nlp_engine.textio import repair_nul_interleaved
from tests.conftest import shared_data


def coded(text: str) -> tuple[str | None, str | None]:
    fields = extract(text)
    histology, site = fields["histologic_type"], fields["primary_site"]
    for field in (histology, site):
        if field is not None:  # evidence is the text as written
            assert text[field["start"] : field["end"]] == field["text"]
    return (histology and histology["value"], site and site["value"])


@pytest.mark.parametrize(
    ("text", "histology", "site"),
    [
        # the specific term masks the general one inside it
        (
            "FINAL DIAGNOSIS: Kidney, left, nephrectomy: papillary renal cell carcinoma, 4 cm.",
            "8260/3",
            "C64.9",
        ),
        # one mention refines another: renal cell carcinoma ... clear cell type
        (
            "DIAGNOSIS: Kidney, right: renal cell carcinoma.\nSYNOPTIC: Histologic type: clear cell.",
            "8310/3",
            "C64.9",
        ),
        # a negated type does not count; the lobe refines the lung
        (
            "FINAL DIAGNOSIS: Lung, right upper lobe, lobectomy:\n- Invasive adenocarcinoma.\n"
            "- Negative for squamous cell carcinoma.",
            "8140/3",
            "C34.1",
        ),
        # a lobe of the brain is a subsite of the brain only
        ("DIAGNOSIS: Brain, left frontal lobe, resection: glioblastoma, WHO grade IV.", "9440/3", "C71.1"),
        # the prostate's bladder-neck margin does not make a bladder tumour
        (
            "FINAL DIAGNOSIS: Prostate, radical prostatectomy: acinar adenocarcinoma, Gleason 3+4=7.\n"
            "Bladder neck margin free of tumor.",
            "8550/3",
            "C61.9",
        ),
        # uterus NOS is refined by its endometrium
        (
            "FINAL DIAGNOSIS: Uterus, hysterectomy: endometrioid adenocarcinoma of the endometrium, FIGO 1.",
            "8380/3",
            "C54.1",
        ),
        # carcinoma in situ beside the invasive tumour is not the tumour; alone, it is coded with behaviour /2
        (
            "FINAL DIAGNOSIS: Breast, left: Ductal carcinoma in situ, solid type. Invasive ductal carcinoma, grade 2.",
            "8500/3",
            "C50.9",
        ),
        (
            "FINAL DIAGNOSIS: Breast, right, excision: ductal carcinoma in situ, high grade.",
            "8500/2",
            "C50.9",
        ),
        # OCR line break inside a term
        ("DIAGNOSIS: Colon, sigmoid, resection: mucinous adeno-\ncarcinoma.", "8480/3", "C18.7"),
        # the rectosigmoid and the rectum are parts of the colorectum: "colon" said more often does not
        # outvote them
        (
            "SPECIMEN: A. Rectosigmoid colon B. Proximal colon\nGROSS: The colon is 19 cm long; colon "
            "mucosa unremarkable.\nDIAGNOSIS: A. Rectosigmoid colon, segmental resection: adenocarcinoma.",
            "8140/3",
            "C19.9",
        ),
        (
            "DIAGNOSIS: Resected section of colon (rectum) with tumor-free margins: adenocarcinoma of the "
            "colon, moderately differentiated. Colon wall infiltrated.",
            "8140/3",
            "C20.9",
        ),
        # ... but a rectum named only in the history is not the site
        (
            "CLINICAL HISTORY: rectal bleeding.\nGROSS: a segment of colon, 20 cm.\n"
            "FINAL DIAGNOSIS: Colon, resection: adenocarcinoma.",
            "8140/3",
            "C18.9",
        ),
        # the synoptic line's answer outweighs a type named twice in boilerplate
        (
            "DIAGNOSIS: Lung, right upper lobe, excision:\nTumor Characteristics:\n1.Histologic type: "
            "Squamous cell carcinoma.\n2.Histologic grade: Grade II\nNOTE: We recommend determination of "
            "EGFR and KRAS mutation status in adenocarcinoma of lung. ALK rearrangements in adenocarcinoma "
            "of lung are associated with resistance to TKIs.",
            "8070/3",
            "C34.1",
        ),
        # ... on the next line too, past its adjectives
        (
            "Right lung, lobectomy.\nHISTOLOGIC TYPE:\nInvasive squamous cell carcinoma\nNote: "
            "adenocarcinoma and adenocarcinoma in situ excluded by stains; adenocarcinoma is less likely.",
            "8070/3",
            "C34.9",
        ),
        # a checklist lists every choice after its label: the first is not the answer
        (
            "Lung, left lower lobe: adenocarcinoma.\nType:\n1. Invasive squamous "
            "carcinoma\n2. Basaloid squamous carcinoma\n3. Invasive adenocarcinoma",
            "8140/3",
            "C34.3",
        ),
        # two tumours with a synoptic block each (a cystoprostatectomy): the label does not tip the balance
        (
            "Bladder and prostate, radical cystoprostatectomy: urothelial carcinoma.\na.\nTumor Type:\n"
            "Invasive urothelial carcinoma, NOS\nHistologic Grade:\nHigh grade\nb.\nTumor Type:\n"
            "Adenocarcinoma\nGleason's Grade: 3+3=6",
            "8120/3",
            "C67.9",
        ),
        # the subtype written after the type, with OCR's stray spaces
        (
            "Kidney and adrenal:\n1.Renal cell carcinoma ,papillary (chromophil) type, Fuhrman grade 2",
            "8260/3",
            "C64.9",
        ),
        (
            "Histologic tumor type/subtype: renal cell carcinoma, papillary subtype. Kidney.",
            "8260/3",
            "C64.9",
        ),
        ("Kidney, nephrectomy: renal cell carcinoma, chromophobe subtype.", "8317/3", "C64.9"),
        ("Site: Lung\nHistologic type: Papillary squamous cell carcinoma", "8052/3", "C34.9"),
        (
            "TUMOR SITE: Right upper lobe\nHISTOLOGIC TYPE: Non-small cell carcinoma with squamous features",
            "8070/3",
            "C34.1",
        ),
        # keratinizing or not, with the grade and the cell size written between
        (
            "CERVIX, RADICAL HYSTERECTOMY:\nSQUAMOUS CELL-CARCINOMA ,POORLY DIFFERENTIATED,\nKERATINIZING, 7.0 CM",
            "8071/3",
            "C53.9",
        ),
        (
            "Cervix: Invasive squamous cell carcinoma ,keratinizing large cell type, moderately differentiated",
            "8071/3",
            "C53.9",
        ),
        (
            "Histologic type: Squamous cell carcinoma, large cell, non-keratinizing\nSite: cervix",
            "8072/3",
            "C53.9",
        ),
        ("Tonsil: squamous cell carcinoma, poorly differentiated, non-keratinizing.", "8072/3", "C09.9"),
        # keratinizing as the words also say it: before "squamous carcinoma", keratinized, keratinization
        (
            "FLOOR OF MOUTH: INVASIVE, KERATINIZED SQUAMOUS CARCINOMA, MODERATELY DIFFERENTIATED",
            "8071/3",
            "C04.9",
        ),
        (
            "Cervix: squamous cell carcinoma with focal keratinization, poorly differentiated.",
            "8071/3",
            "C53.9",
        ),
        ("Tonsil: non-keratinizing squamous carcinoma.", "8072/3", "C09.9"),
        # an oligodendroglioma gone anaplastic is the anaplastic one (WHO grade III)
        (
            "Brain, left frontal: oligodendroglioma with early anaplastic\ntransformation (WHO grade III).",
            "9451/3",
            "C71.1",
        ),
        ("Brain, frontal lobe: anaplastic (grade 3) oligodendroglioma.", "9451/3", "C71.1"),
        # OCR's split word
        ("Colon, sigmoid: invasive, mucinous adeno carcinoma of the colon, G3.", "8480/3", "C18.7"),
        # the carcinosarcoma's other names
        ("(B) UTERUS, FALLOPIAN TUBES AND OVARIES:\nMIXED MALIGNANT MULLERIAN TUMOR.", "8950/3", "C55.9"),
        ("ENDOMETRIUM, HYSTERECTOMY:\n-MALIGNANT MIXED MUELLERIAN TUMOR OF ENDOMETRIUM", "8950/3", "C54.1"),
        # an endocervical adenocarcinoma is the cervix's, however often the hysterectomy names the uterus
        (
            "F. UTERUS, CERVIX, RADICAL HYSTERECTOMY:\nCERVIX:\n- INVASIVE ENDOCERVICAL ADENOCARCINOMA, "
            "CONVENTIONAL TYPE\nUTERUS: endometrium and myometrium with the uterine serosa intact.",
            "8384/3",
            "C53.9",
        ),
        # a part described as normal tissue names no site
        (
            "CERVIX, biopsy:\nAdenocarcinoma, well differentiated.\nENDOMETRIUM: inactive pattern.\n"
            "ENDOMETRIUM, curettage: weakly proliferative endometrium.\nENDOMETRIUM: atrophic endometrium.",
            "8140/3",
            "C53.9",
        ),
        (
            "1) Stomach, biopsy: adenocarcinoma.\n2) Esophagus, biopsy: esophageal squamous mucosa with no "
            "specific pathologic abnormality.\n3) Esophagus, distal, biopsy: esophageal mucosa, unremarkable.\n"
            "4) Esophagus, mid, biopsy: esophageal mucosa within normal limits.",
            "8140/3",
            "C16.9",
        ),
        # the type's sentence running on to the next line names the subsite, over the specimen's header
        (
            "DIAGNOSIS\n    Right colon, right hemicolectomy - Moderately differentiated\n    adenocarcinoma\n"
            "    of the cecum extending into the muscularis propria.",
            "8140/3",
            "C18.0",
        ),
        # a synoptic "Tumor site:" names it too; the appendix of a right colectomy is no subsite
        (
            "Final Diagnosis\nDistal ileum, appendix, and right colon (right colectomy):\nTumor characteristics:\n"
            "Tumor site: Cecum.\nHistologic type: Adenocarcinoma.\nAppendix: unremarkable. J - appendix.",
            "8140/3",
            "C18.0",
        ),
        # the lobe the tumour is said to be in outweighs lobes the gross description only measures
        (
            "DIAGNOSIS: Lung, left, pneumonectomy: squamous cell carcinoma.\nGROSS: The upper lobe "
            "measures 15 cm and the lower lobe 14 cm. The upper lobe is red. The upper lobe is dense.\n"
            "Sections disclose a 8 x 8 x 6 cm tumor in the left lower lobe. The lower lobe is spongy.",
            "8070/3",
            "C34.3",
        ),
        # laboratory boilerplate about a type in general is not the report's tumour
        (
            "A. Brain, left frontal lesion, excision: Oligodendroglioma (WHO Grade II).\nFDA COMMENT: EGFR "
            "is an attractive molecular target in glioblastoma. It is commonly expressed in glioblastoma.",
            "9450/3",
            "C71.1",
        ),
        # a mucinous adenocarcinoma named type first, and in Latin
        (
            "Colon, sigmoid, resection: Adenocarcinoma, mucinous, well-differentiated, 3 cm.",
            "8480/3",
            "C18.7",
        ),
        (
            "Microscopic description:\nColon, resection: Adenocarcinoma tubulare et mucinosum (G3).",
            "8480/3",
            "C18.9",
        ),
        # "mucinous" going on to something else is not the type
        ("Colon, sigmoid, resection: adenocarcinoma, mucinous features absent.", "8140/3", "C18.7"),
        # the endocervical types as OCR and the synoptic forms write them
        ("CERVIX, hysterectomy:\nAdenocarcinoma ,endocervical type, well differentiated.", "8384/3", "C53.9"),
        ("CERVIX, biopsy:\n- ADENOCARCINOMA FAVOR ENDOCERVICAL ORIGIN (SEE COMMENT)", "8384/3", "C53.9"),
        ("Biopsy of uterine cervix:\n-MUCINOUS ADENOCARCINOMA OF ENDOCERVICAL TYPE.", "8482/3", "C53.9"),
        ("Cervix, biopsy: poorly differentiated endocervical mucinous adenocarcinoma.", "8482/3", "C53.9"),
        ("Cervix, hysterectomy:\nHistologic type: Mucinous, endocervical type", "8482/3", "C53.9"),
        # the lung's growth patterns with words between them and the adenocarcinoma
        (
            "LUNG, LEFT UPPER LOBE, LOBECTOMY:\n-ADENOCARCINOMA ,MODERATELY DIFFERENTIATED ,ACINAR, 6.9 CM.",
            "8550/3",
            "C34.1",
        ),
        ("Left lung, pneumonectomy:\nAdenocarcinoma, predominantely acinar.", "8550/3", "C34.9"),
        ("Lung: the classification of the tumor is adenocarcinoma ,acinar (usual) type.", "8550/3", "C34.9"),
        (
            "LUNG, RIGHT UPPER LOBE, LOBECTOMY\n- ADENOCARCINOMA, SOLID PREDOMINANT (3.2 CM).",
            "8230/3",
            "C34.1",
        ),
        # the non-keratinizing type however the report words it
        (
            "Cervical biopsy:\nInvasive squamous cell carcinoma, nonkeratizing, poorly differentiated.",
            "8072/3",
            "C53.9",
        ),
        ("Invasive squamous cell carcinoma of uterine cervix ,non-keratinizing.", "8072/3", "C53.9"),
        ("Cervix biopsy:\nNon-keratinizing invasive squamous cell carcinoma.", "8072/3", "C53.9"),
        ("Lung: squamous non-keratinizing carcinoma of the lung, G2.", "8072/3", "C34.9"),
        (
            "Base of tongue: INVASIVE SQUAMOUS CELL CARCINOMA (4.4 CM), PREDOMINANTLY\nNON-KERATINIZING.",
            "8072/3",
            "C01.9",
        ),
        # the colon's parts as reports translated from German name them ("Sigma": the sigmoid)
        (
            "DIAGNOSIS:\nResected colon (sigma) with an ulcerated, moderately differentiated adenocarcinoma.",
            "8140/3",
            "C18.7",
        ),
        (
            "DIAGNOSIS:\nResected colon ascendens with a moderately differentiated adenocarcinoma.",
            "8140/3",
            "C18.2",
        ),
        # the pancreas's part written after the organ, not the procedure's usual part
        (
            "DIAGNOSIS:\nPancreas, body, distal pancreatectomy:\nDuctal adenocarcinoma, moderately differentiated.",
            "8500/3",
            "C25.1",
        ),
        (
            "DIAGNOSIS:\nDuctal adenocarcinoma\nTumor location: Pancreas (body)\nProcedure: distal pancreatectomy",
            "8500/3",
            "C25.1",
        ),
    ],
)
def test_histologic_type_and_site(text: str, histology: str, site: str) -> None:
    assert coded(text) == (histology, site)


def test_no_tumour_no_code_and_a_reason() -> None:
    text = (
        "SURGICAL PATHOLOGY REPORT\nFINAL DIAGNOSIS: Gallbladder, cholecystectomy: chronic cholecystitis "
        "with cholelithiasis. Negative for malignancy.\nGROSS: The gallbladder measures 8 cm and is opened "
        "to reveal green bile and several yellow stones; the mucosa is velvety and the wall is thin."
    )
    assert coded(text) == (None, None)
    verdict = review(text, extract(text))
    assert verdict["status"] == "no_tumour"
    start, end = map(int, re.search(r"characters (\d+)-(\d+)", verdict["reasons"][0]).groups())
    assert text[start:end] == "Negative for malignancy"
    assert "cholecystitis" not in " ".join(verdict["reasons"])  # reasons never quote the report


def test_review_statuses() -> None:
    assert review("x7#", extract("x7#"))["status"] == "unreadable"
    # UTF-16 read as 8-bit (10 real TCGA reports): unreadable as it stands, said why; repaired, it reads
    report = "DIAGNOSIS\n(A) LEFT KIDNEY: CHROMOPHOBE RENAL CELL CARCINOMA, 5.2 CM, CONFINED TO THE KIDNEY."
    broken = report.encode("utf-16-be").decode("latin-1")
    verdict = review(broken, extract(broken))
    assert verdict["status"] == "unreadable" and "UTF-16" in verdict["reasons"][0]
    assert "KIDNEY" not in " ".join(verdict["reasons"])
    repaired, _ = repair_nul_interleaved(broken)
    assert extract(repaired)["histologic_type"]["value"] == "8317/3"
    text = (
        "FROZEN SECTION: renal cell carcinoma, at least pT2.\n\nFINAL DIAGNOSIS: Kidney, left, nephrectomy: "
        "clear cell renal cell carcinoma, Fuhrman grade 2, 4.5 cm, pT1b. The renal vein margin is free of "
        "tumor; the adrenal gland is unremarkable and no other lesions are identified in the specimen."
    )
    fields = extract(text)
    assert fields["pT"]["value"] == "pT1b"  # the final diagnosis overrules the frozen section
    verdict = review(text, fields)
    assert verdict["status"] == "review" and verdict["reasons"] == [
        "pT: stated differently (pT1b chosen; also pT2)"
    ]
    # renal cell carcinoma then clear cell: a refinement, not a second tumour
    assert fields["histologic_type"]["value"] == "8310/3" and "alternatives" not in fields["histologic_type"]


def test_every_term_passes_its_own_prefilter() -> None:
    """The anchor words that skip a pattern on most reports must be in every plain term they stand for."""
    for name in ("morphology", "topography"):
        for entry in vocabulary(name):
            assert entry.pattern.flags & re.IGNORECASE
            for term in _top_level(
                entry.pattern.pattern[len("(?i)(?<![A-Za-z0-9])(?:") : -len(")(?![A-Za-z0-9])")]
            ):
                plain = term.replace(r"[\s\-]+", " ").replace(r"[\s\-]*", "-")
                if re.search(r"[\\()\[\]?*+{}]", plain):
                    continue
                assert entry.pattern.fullmatch(plain), (entry.code, plain)
                assert not entry.anchors or any(a in plain.lower() for a in entry.anchors), (
                    entry.code,
                    plain,
                )
                # patterns run only within _REACH characters of an anchor: terms must be far shorter
                assert len(plain) * 3 < _REACH, (entry.code, plain)


def test_scanning_near_anchors_finds_what_a_whole_text_scan_finds(monkeypatch) -> None:
    import nlp_engine.pathology.icdo as icdo

    filler = "The specimen is received fresh and serially sectioned to reveal tan cut surfaces. " * 12
    text = (
        f"{filler}FINAL DIAGNOSIS: Lung, left lower lobe, lobectomy:\n{filler}Invasive moderately "
        f"differentiated adeno-\ncarcinoma, acinar predominant; a second tumour at the base of the "
        f"tongue.{filler}Comment: squamous cell\ncarcinoma is not identified. Clear cell renal cell "
        "carcinoma, kidney."
    )
    windowed = {name: _mentions(text, vocabulary(name)) for name in ("morphology", "topography")}
    monkeypatch.setattr(icdo, "_windows", lambda lowered, anchors, places: [(0, len(lowered))])
    for name, found in windowed.items():
        assert len(found) >= 3, name
        assert found == _mentions(text, vocabulary(name)), name


def test_morphology_codes_exist_in_the_icdo3_table() -> None:
    table = shared_data("icdo3/DpheHistologySites.bsv")
    known = {
        line.split("|")[4] for line in table.read_text(encoding="utf-8").splitlines() if line.count("|") >= 5
    }
    codes = {entry.code for entry in vocabulary("morphology")}
    assert len(codes) >= 45
    assert codes <= known, sorted(codes - known)
    for entry in vocabulary("morphology"):
        assert set(entry.refines) <= codes  # refinements point at codes of the vocabulary
    sites = {entry.code for entry in vocabulary("topography")}
    assert all(re.fullmatch(r"C\d\d\.\d", code) for code in sites)


def test_ocr_dot_inside_a_word_is_joined_and_evidence_points_at_the_text() -> None:
    from nlp_engine.pathology.extract import extract

    text = "DIAGNOSIS: Lung, left lower lobe (wedge biopsy): poorly differentiated squamous cell car·cinoma."
    found = extract(text)["histologic_type"]
    assert found["value"] == "8070/3"
    assert text[found["start"] : found["end"]] == "squamous cell car·cinoma"


def test_a_code_written_in_the_report_is_taken_as_written() -> None:
    text = (
        "Floor of mouth, resection: squamous cell carcinoma, G2.\nTumor classification: M-8071/3, G2, "
        "pT2, pN0\nTopography: C04.9"
    )
    found = extract(text)
    histology, site = found["histologic_type"], found["primary_site"]
    assert (histology["value"], histology["text"], histology["written"]) == ("8071/3", "8071/3", True)
    assert histology["alternatives"] == ["8070/3"]  # what the words alone give
    assert (site["value"], site["text"], site["written"]) == ("C04.9", "C04.9", True)
    # a code the vocabulary does not hold (a benign /0, a stray number) is not taken
    for other in ("This is a non-malignant tumor, M8966/0.", "Accession 2011-8140/7; slide 9110/35"):
        histology = extract("Lung, lobectomy: adenocarcinoma.\n" + other)["histologic_type"]
        assert histology["value"] == "8140/3" and "written" not in histology


def test_labels_glued_to_the_value_before_them_are_read_with_exact_evidence() -> None:
    # a checklist export that prints no line break between its fields
    text = (
        "LUNG TISSUE CHECKLIST\nSpecimen type:  Pulmonectomy\nTumor site:  LungTumor size:  3.5 x 3.3 x 3.3 "
        "cmHistologic type:  AdenocarcinomaHistologic grade:  Moderately differentiatedTumor extent:  "
        "Visceral pleuraLymph nodes:  5/5 positive for metastasis (Intrathoracical 5/5)Margins:  Not specified"
    )
    found = extract(text)
    expected = {
        "histologic_type": ("8140/3", "Adenocarcinoma"),
        "primary_site": ("C34.9", "Lung"),
        "tumor_size_mm": (35.0, "3.5 x 3.3 x 3.3 cm"),
        "grade": ("G2", "Moderately differentiated"),
        "lymph_nodes_positive": (5, None),
    }
    for name, (value, words) in expected.items():
        field = found[name]
        assert field is not None and field["value"] == value, name
        assert text[field["start"] : field["end"]] == field["text"], name
        if words:
            assert field["text"] == words, name
    for start, end in found["lymph_nodes_positive"]["spans"]:
        assert "5/5" in text[start:end]


def test_papillary_chromophil_renal_cell_carcinoma() -> None:
    from nlp_engine.pathology.extract import extract

    found = extract("Left kidney, radical nephrectomy: Papillary (chromophil) renal cell carcinoma.")
    assert found["histologic_type"]["value"] == "8260/3"


@pytest.mark.parametrize(
    ("text", "withheld_because"),
    [
        ("Prostate, needle biopsies: benign prostatic tissue in all twelve cores. No carcinoma.", "benign"),
        (
            "Gallbladder, cholecystectomy: chronic cholecystitis with cholelithiasis. Negative for malignancy.",
            "benign",
        ),
        ("x7# ~~ 1lI", "legible"),
        # a tumour the histology patterns miss is still a tumour: named, staged, graded, or OCR-broken
        ("Lymph nodes, regional: metastatic carcinoma in two of eleven nodes examined today.", None),
        ("Right kidney, nephrectomy, 15 x 8 x 6 em; Fuhrman grade 1; the margins are negative here.", None),
        ("HISTOLOGIC TYPE: ,denoeareinoma, Nos. SITE: right middle lobe of the lung, lobectomy.", None),
        (
            "Colon, right, colectomy: the tumorapproaches within 0.6 cm of the radial margin of resection.",
            None,
        ),
    ],
)
def test_withheld_only_without_any_tumour(text: str, withheld_because: str | None) -> None:
    reason = withheld(text, extract(text))
    if withheld_because is None:
        assert reason is None
    else:
        assert reason is not None and withheld_because in reason


def test_a_part_that_holds_no_tumour_does_not_name_the_site() -> None:
    from nlp_engine.pathology.extract import extract

    text = (
        "RADICAL CYSTECTOMY:\nRIGHT DISTAL URETER (A):\nFROZEN SECTION DIAGNOSIS:\nFINAL DIAGNOSIS:\n"
        "-BENIGN URETER\nLEFT URETER (B):\nSegment of ureter, no tumor present.\n"
        "URINARY BLADDER (C):\nInvasive high grade urothelial carcinoma."
    )
    site = extract(text)["primary_site"]
    assert site["value"] == "C67.9" and "C66.9" in site["alternatives"]
    # a benign part is still a site where no other part names one
    only = extract("LEFT URETER (B):\nSegment of ureter, no tumor present.\nUrothelial carcinoma.")
    assert only["primary_site"]["value"] == "C66.9"


def test_uterine_cervix_is_the_cervix() -> None:
    from nlp_engine.pathology.extract import extract

    # the tumour's own line names its site more surely than the part's header
    text = "PART 10: UTERUS WITH BOTH PARAMETRIA -\nA. UTERINE CERVIX WITH INVASIVE SQUAMOUS CELL CARCINOMA."
    assert extract(text)["primary_site"]["value"] == "C53.9"


def test_a_type_of_one_organ_implies_its_site_where_none_is_named() -> None:
    from nlp_engine.pathology.extract import extract

    text = "Diagnosis\nAnaplastic astrocytoma WHO grade III. Proliferation index 7%."
    site = extract(text)["primary_site"]
    assert (site["value"], site["implied_by"]) == ("C71.9", "9401/3")
    assert text[site["start"] : site["end"]] == "Anaplastic astrocytoma"
    assert extract("Hepatocellular carcinoma, moderately differentiated.")["primary_site"]["value"] == "C22.0"
    # an adenocarcinoma could be anywhere: no site is invented
    assert extract("Adenocarcinoma, moderately differentiated.")["primary_site"] is None


def test_the_site_says_where_its_mention_was_read() -> None:
    from nlp_engine.pathology.extract import extract

    # the tumour's own line or its specimen header, the type's words for an implied site
    beside = extract("Breast, left, lumpectomy:\n - Invasive ductal carcinoma, 2.3 cm.")["primary_site"]
    assert (beside["value"], beside["read_from"]) == ("C50.9", "type")
    implied = extract("Diagnosis\nAnaplastic astrocytoma WHO grade III.")["primary_site"]
    assert (implied["value"], implied["read_from"]) == ("C71.9", "type")
    # a synoptic site label away from the type
    synoptic = (
        "SYNOPTIC REPORT\nHistologic type: squamous cell carcinoma\nGrade: 2\nTumor site: thyroid gland\n"
    )
    labelled = extract(synoptic)["primary_site"]
    assert (labelled["value"], labelled["read_from"]) == ("C73.9", "site_label")
    # a form in columns pads the label to the page's width and puts the value on the next line
    columns = (
        "DIAGNOSIS\n    1: Terminal ileum, appendix, and ascending colon; Resection\n       Tumor Type:"
        + " " * 20
        + "\n                 Adenocarcinoma"
        + " " * 40
        + "\n       Tumor Location:"
        + " " * 55
        + "\n"
        + " " * 17
        + "Hepatic flexure"
        + " " * 40
        + "\n"
    )
    padded = extract(columns)["primary_site"]
    assert (padded["value"], padded["read_from"], padded["text"]) == (
        "C18.3",
        "site_label",
        "Hepatic flexure",
    )
    # blanks alone, however many, do not make a label of an unrelated line's end
    far = "Tumor Location:\n" + " " * 300 + "\n" + columns.replace("Tumor Location:", "Tumor Notes:   ")
    assert extract(far)["primary_site"]["read_from"] != "site_label"
    # neither: the organ named most, here the benign ureters of a resection whose type names no organ
    ureters = (
        "FINAL DIAGNOSIS:\nA. Right distal ureter: benign ureter.\nB. Left distal ureter: benign ureter.\n"
        "C. Resection:\nSections show invasive urothelial carcinoma infiltrating the muscularis propria.\n"
    )
    elsewhere = extract(ureters)["primary_site"]
    assert (elsewhere["value"], elsewhere["read_from"]) == ("C66.9", "text")


COLON_PARTS = (
    "GROSS DESCRIPTION: The specimen is a segment of sigmoid colon.\nFINAL DIAGNOSIS:\n"
    "A. Colon, cecum, right hemicolectomy:\n - Adenocarcinoma, moderately differentiated.\n"
    "B. Appendix: no tumor.\nSYNOPTIC REPORT\nTumor site: cecum\n"
)


def test_every_named_site_says_where_it_stands() -> None:
    from nlp_engine.pathology.extract import extract, named_sites

    fields = extract(COLON_PARTS)
    named = [
        (COLON_PARTS[start:end], code, role) for start, end, code, role in named_sites(COLON_PARTS, fields)
    ]
    assert named == [
        ("sigmoid colon", "C18.7", "text"),  # the gross, before the final part
        ("Colon", "C18.9", "type"),  # the type's header line
        ("cecum", "C18.0", "type"),
        ("right hemicolectomy", "C18.2", "type"),
        ("Appendix", "C18.1", "final"),
        ("cecum", "C18.0", "site_label"),
    ]
    # with no histologic type, nothing stands beside it
    assert [role for *_, role in named_sites(COLON_PARTS, {})] == [
        "text",
        "final",
        "final",
        "final",
        "final",
        "site_label",
    ]


def test_a_type_keeps_to_the_organs_it_arises_in() -> None:
    from nlp_engine.pathology.extract import extract

    cystoprostatectomy = (
        "PROSTATE AND BLADDER, RADICAL CYSTOPROSTATECTOMY:\nPROSTATE: prostate with nodular hyperplasia.\n"
        "PROSTATE: involved by invasive high grade urothelial carcinoma (direct extension)."
    )
    assert extract(cystoprostatectomy)["primary_site"]["value"] == "C67.9"
    hysterectomy = (
        "UTERUS, RADICAL HYSTERECTOMY AND BILATERAL SALPINGO-OOPHORECTOMY:\n"
        "A. Invasive squamous cell carcinoma, poorly differentiated.\nB. Cervix: tumor size 3.1 cm."
    )
    assert extract(hysterectomy)["primary_site"]["value"] == "C53.9"
    # without the organ it keeps to, the usual vote: a squamous carcinoma of the lung is the lung's
    lung = "LUNG, RIGHT UPPER LOBE, LOBECTOMY:\nSquamous cell carcinoma, keratinizing."
    assert extract(lung)["primary_site"]["value"] == "C34.1"


def test_a_cholangiocarcinoma_of_the_liver_is_the_intrahepatic_bile_ducts() -> None:
    text = "FINAL DIAGNOSIS: Liver, segment 4, resection: cholangiocarcinoma, moderately differentiated."
    site = extract(text)["primary_site"]
    assert (site["value"], site["text"], site["implied_by"]) == ("C22.1", "Liver", "8160/3")
    assert site["alternatives"] == ["C22.0"]
    # a hepatocellular carcinoma stays the liver's; a cholangiocarcinoma elsewhere keeps its site
    assert (
        extract(text.replace("cholangiocarcinoma", "hepatocellular carcinoma"))["primary_site"]["value"]
        == "C22.0"
    )
    hilar = "FINAL DIAGNOSIS: Common bile duct, resection: cholangiocarcinoma."
    assert extract(hilar)["primary_site"]["value"] == "C24.0"


def test_the_sigmoid_and_rectum_as_one_specimen_are_the_rectosigmoid() -> None:
    for text in (
        "SPECIMEN: A. Sigmoid and upper rectum\nDIAGNOSIS: A. Adenocarcinoma, moderately differentiated.",
        "C. Sigmoid colon upper rectum, resection:\nInvasive adenocarcinoma.",
        "B. Rectum & sigmoid, low anterior resection:\nAdenocarcinoma, invades the muscularis propria.",
        "Rectosigmoidal resection material includes an adenocarcinoma of the colorectal type.",
    ):
        site = extract(text)["primary_site"]
        assert site["value"] == "C19.9", text
        assert text[site["start"] : site["end"]] == site["text"]
    # the sigmoid alone stays the sigmoid; a rectum apart from it (another part) is no junction
    assert extract("A. Sigmoid colon: adenocarcinoma.")["primary_site"]["value"] == "C18.7"
    apart = "A. Sigmoid colon: adenocarcinoma, 4 cm.\nB. Rectum, biopsy: benign mucosa."
    assert extract(apart)["primary_site"]["value"] == "C18.7"


def test_a_cervical_carcinoma_named_by_its_type_is_the_cervix() -> None:
    text = "C. UTERUS TUBES OVARIES AND CERVIX:\n-POORLY DIFFERENTIATED CERVICAL ADENOSQUAMOUS CARCINOMA"
    assert extract(text)["primary_site"]["value"] == "C53.9"
    # "cervical" of the neck's nodes is no cervix
    neck = "Neck dissection: squamous cell carcinoma metastatic to two cervical lymph nodes. Tonsil, left."
    assert extract(neck)["primary_site"]["value"] != "C53.9"


def test_laboratory_boilerplate_about_a_type_does_not_name_the_tumour() -> None:
    text = (
        "PATHOLOGICAL DIAGNOSIS:\nA. Brain, left frontal lesion, excision: Oligodendroglioma (WHO Grade II).\n"
        "TEST DESCRIPTION: The epidermal growth factor receptor (EGFR) is an attractive molecular target\n"
        "in. glioblastoma because it is amplified, overexpressed, and/or mutated in up to 40% of patients.\n"
        "Cell culture and in vivo models of glioblastoma have demonstrated EGFRvIII as defining\n"
        "prognostically distinct subgroups of glioblastomas."
    )
    assert extract(text)["histologic_type"]["value"] == "9450/3"


@pytest.mark.parametrize(
    ("text", "code", "evidence"),
    [
        ("LUNG, LEFT: MODERATELY DIFFERENTIATED ADENOCARCINOHA.", "8140/3", "ADENOCARCINOHA"),
        ("Bladder: invasive high grade urothellal carcinoma.", "8120/3", "urothellal carcinoma"),
        ("Lung, lobectomy: SOUAMOUS CELL CARCINOMA.", "8070/3", "SOUAMOUS CELL CARCINOMA"),
        ("Brain: oligoastrocitoma, WHO grade II.", "9382/3", "oligoastrocitoma"),
        ("Brain, right parietal: Aneplastic astrocytoma.", "9401/3", "Aneplastic astrocytoma"),
        # two letters OCR writes for one ("rn" or "l1" for "m", "cl" for "d"): the text is a letter
        # longer than the name, the evidence still exact
        ("Lung: ADENOCARCINOL1A, acinar predominant.", "8550/3", "ADENOCARCINOL1A, acinar"),
        ("Kidney: renal cell carcinoma, chrol1ophobe type.", "8317/3", "renal cell carcinoma, chrol1ophobe"),
        ("Colon: invasive aclenocarcinoma.", "8140/3", "aclenocarcinoma"),
        ("Colon: poorly differentiated mucinous adenocarcinorna.", "8480/3", "mucinous adenocarcinorna"),
        (
            "Lung: SQUARNOUS CELL CARCINORNA, keratinizing.",
            "8071/3",
            "SQUARNOUS CELL CARCINORNA, keratinizing",
        ),
        (
            "Uterus: endornetrioid adeno-\ncarcinorna of the endometrium.",
            "8380/3",
            "endornetrioid adeno-\ncarcinorna",
        ),
        ("Kidney: inferior cornified tissue, no tumor.", None, None),
        # real words a letter or two away from a tumour's name are left alone
        ("Skin: capillary hemangioma.", None, None),
        ("Appendix: carcinoid tumor.", None, None),
    ],
)
def test_words_of_a_tumours_name_as_ocr_misreads_them(
    text: str, code: str | None, evidence: str | None
) -> None:
    found = extract(text)["histologic_type"]
    if code is None:  # not read as "papillary" or "carcinoma"
        assert found is None
        return
    assert (found["value"], found["text"]) == (code, evidence)
    assert text[found["start"] : found["end"]] == evidence


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (
            "Brain, left frontal mass, excision: Grade 3 (of 4) fibrillary astrocytoma (WHO, grade III).",
            "9401/3",
        ),
        ("Brain, right frontal: oligodendroglioma \nWHO Grade (III) (see comment).", "9451/3"),
        ("Brain: astrocytoma.\nWHO GRADE:\nIII", "9401/3"),
        # the first grade stated is II: not anaplastic, whatever follows
        (
            "Brain: grade II astrocytoma. The features do not warrant classification as anaplastic grade III.",
            "9400/3",
        ),
        ("Brain: oligodendroglioma, WHO grade II.", "9450/3"),
        # a grade three lines further down is not the type's
        (
            "Brain: astrocytoma.\nMIB-1: 4%.\nComment: see note.\nAnother opinion called it grade III.",
            "9400/3",
        ),
        (
            "Lung, right upper lobe: Histological type: Adenocarcinoma; acinar and papillary patterns, with a\n"
            "smaller component of lepidic and solid.",
            "8255/3",
        ),
        ("LUNG, SEGMENTECTOMY: ADENOCARCINOMA, ACINAR AND SOLID TYPE, 2.1 CM.", "8255/3"),
        ("Lung: adenocarcinoma, mixed acinar (dominant component) &\nbronchioloalveolar types.", "8255/3"),
        # one pattern said to predominate is that pattern's code
        ("Lung: adenocarcinoma,\nacinar predominant (mixed acinar and micropapillary subtypes).", "8550/3"),
        # one pattern only; a renal cell carcinoma's papillary type with a solid variant
        ("Lung: adenocarcinoma with papillary features, 2.8 cm.", "8140/3"),
        ("Kidney: papillary renal cell carcinoma, solid variant.", "8260/3"),
    ],
)
def test_a_type_refined_by_the_words_beside_it(text: str, code: str) -> None:
    # a glioma of WHO grade III is the anaplastic one; an adenocarcinoma of several growth patterns,
    # none predominant, the adenocarcinoma with mixed subtypes
    found = extract(text)["histologic_type"]
    assert found["value"] == code
    assert text[found["start"] : found["end"]] == found["text"]  # the evidence is the type's own words


def test_a_report_on_one_endless_line_keeps_each_clauses_mentions_and_negations() -> None:
    from nlp_engine.pathology import icdo

    # OCR that lost every line break: each clause's negation and longest mention hold as on short lines
    text = "no adenocarcinoma; adenocarcinoma, acinar pattern; " * 500
    mentions = icdo._mentions(text, icdo.vocabulary("morphology"))
    assert [entry.code for _, _, entry in mentions] == ["8550/3"] * 500
    assert {text[start:end] for start, end, _ in mentions} == {"adenocarcinoma, acinar"}
    # a shorter mention starting before a longer one it overlaps gives way to it
    text = "Ovary: serous adenocarcinoma, acinar areas. " * 200
    mentions = icdo._mentions(text, icdo.vocabulary("morphology"))
    assert {text[start:end] for start, end, _ in mentions} == {"adenocarcinoma, acinar"}
    assert len(mentions) == 200
    # a cue in the clause before the mention negates it however far back its line starts
    assert icdo._mentions("x " * 5000 + "negative for adenocarcinoma", icdo.vocabulary("morphology")) == []


def test_specific_morphologies_are_the_types_no_other_entry_refines() -> None:
    from nlp_engine.pathology.icdo import GENERIC_MORPHOLOGY, names, specific_morphologies

    specific = specific_morphologies()
    assert {"8550/3", "8310/3", "8500/3", "8071/3"} <= specific  # acinar, clear cell, ductal, keratinizing
    # refined by those: adenocarcinoma NOS, renal cell carcinoma NOS, squamous cell carcinoma NOS
    assert not {"8140/3", "8312/3", "8070/3", GENERIC_MORPHOLOGY} & specific
    assert specific < set(names("morphology"))


def test_a_renal_cell_carcinoma_keeps_to_the_kidney() -> None:
    # a partial nephrectomy and a prostatectomy in one report: the prostate is named more often, but a
    # type named as the kidney's ("papillary renal cell carcinoma", 8260/3 like the thyroid's) is not it
    text = "A. LEFT KIDNEY MASS, PARTIAL NEPHRECTOMY:\n- Papillary renal cell carcinoma, Fuhrman nuclear grade 2.\n"
    text += "".join(
        f"{part}. PROSTATE, MARGIN {k}, PROSTATECTOMY:\n- Prostatic tissue with nodular hyperplasia.\n"
        for k, part in enumerate("BCDEF")
    )
    assert coded(text) == ("8260/3", "C64.9")
    # a papillary carcinoma not named as the kidney's goes where the report names it most
    assert coded(text.replace("renal cell carcinoma", "carcinoma")) == ("8260/3", "C61.9")
