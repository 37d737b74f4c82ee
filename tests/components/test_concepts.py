from __future__ import annotations

import pickle

import pytest
import spacy
from spacy.language import Language

from nlp_engine.components.concepts import ICD10Concepts, label_for_code
from nlp_engine.errors import MissingResourceError


def codes(nlp: Language, text: str) -> list[tuple[str, str]]:
    return [(ent.text, ent.kb_id_) for ent in nlp(text).ents]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("History of DM2 and CHF.", [("DM2", "E11.9"), ("CHF", "I50.9")]),
        ("COPD exacerbation", [("COPD exacerbation", "J44.1")]),
        ("known COPD", [("COPD", "J44.9")]),
        ("s/p MI in 2015", [("MI", "I21.9")]),
        ("paroxysmal afib", [("paroxysmal afib", "I48.0")]),
        (
            "Type 2 diabetes mellitus without complications",
            [("Type 2 diabetes mellitus without complications", "E11.9")],
        ),
        # word order and case
        ("diabetes mellitus type 2", [("diabetes mellitus type 2", "E11.9")]),
        ("CONGESTIVE HEART FAILURE", [("CONGESTIVE HEART FAILURE", "I50.9")]),
        ("carcinoma of the prostate", [("carcinoma of the prostate", "C61")]),
        ("prostate carcinoma", [("prostate carcinoma", "C61")]),
        # plurals
        ("multiple kidney stones", [("kidney stones", "N20.0")]),
        ("liver metastases", [("liver metastases", "C78.7")]),
        # an ICD-10-CM title itself
        ("Essential (primary) hypertension", [("Essential (primary) hypertension", "I10")]),
        ("essential hypertension", [("essential hypertension", "I10")]),
    ],
)
def test_linking(clinical: Language, text: str, expected: list[tuple[str, str]]) -> None:
    assert codes(clinical, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "He walked 2 mi today.",  # case-sensitive abbreviation: "mi" is not MI
        "Other findings were discussed.",  # generic words alone are not concepts
        "The mass was excised.",
        # curated stop terms (vocab/icd10cm_stopterms.jsonl)
        "Mitotic activity is low. The fat pad was dissected. Pregnancies: 2.",
    ],
)
def test_no_false_concepts(clinical: Language, text: str) -> None:
    assert codes(clinical, text) == []


def test_candidates_are_ranked_with_titles(clinical: Language) -> None:
    ent = clinical("heart failure").ents[0]
    candidates = ent._.codes
    assert candidates[0]["code"] == ent.kb_id_ == "I50.9"
    assert candidates[0]["title"] == "Heart failure, unspecified"
    scores = [c["score"] for c in candidates]
    assert scores == sorted(scores, reverse=True)
    assert ent.label_ == "CONDITION"


def test_terms_do_not_cross_lines_or_punctuation(clinical: Language) -> None:
    assert codes(clinical, "heart, failure") == []
    assert codes(clinical, "chest\npain") == [("pain", "R52")]  # not "chest pain" across the line


def test_section_titles_are_not_concepts(clinical: Language) -> None:
    doc = clinical("HISTORY OF PRESENT ILLNESS: cough")
    assert [e.text for e in doc.ents] == ["cough"]


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("C61", "NEOPLASM"),
        ("D05.10", "NEOPLASM"),
        ("D64.9", "CONDITION"),
        ("R07.9", "FINDING"),
        ("Z17.0", "FACTOR"),
        ("S72.001A", "INJURY"),
    ],
)
def test_labels(code: str, label: str) -> None:
    assert label_for_code(code) == label


def test_serialization(clinical: Language, tmp_path) -> None:
    linker = clinical.get_pipe("icd10_concepts")
    assert isinstance(linker, ICD10Concepts)
    linker.to_disk(tmp_path / "linker")
    nlp = spacy.blank("en")
    fresh = nlp.add_pipe("icd10_concepts").from_disk(tmp_path / "linker")
    assert [e.kb_id_ for e in fresh(nlp.make_doc("COPD")).ents] == ["J44.9"]
    clone = pickle.loads(pickle.dumps(linker))
    assert [e.kb_id_ for e in clone(clinical.make_doc("CHF")).ents] == ["I50.9"]


def test_uninitialized_linker_says_so() -> None:
    nlp = spacy.blank("en")
    linker = nlp.add_pipe("icd10_concepts")
    with pytest.raises(MissingResourceError, match="initialize"):
        linker(nlp.make_doc("COPD"))


def test_missing_terms_file_is_a_clear_error() -> None:
    nlp = spacy.blank("en")
    linker = nlp.add_pipe("icd10_concepts")
    with pytest.raises(MissingResourceError, match="no-such-file"):
        linker.initialize(terms="vocab:no-such-file.tsv.gz")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ER+ (95%), PR-, HER2 3+", [("ER+", "Z17.0"), ("PR-", "Z17.22"), ("HER2 3+", "Z17.31")]),
        ("TNBC", [("TNBC", "Z17.421")]),
        # upper-case abbreviations from ICD titles match exact text only
        ("ada and amh in lower case", []),
        # an abbreviation shared by many codes names none of them
        ("BMI 32", []),
    ],
)
def test_receptor_status_and_abbreviations(
    clinical: Language, text: str, expected: list[tuple[str, str]]
) -> None:
    assert codes(clinical, text) == expected


def test_synoptic_fields_do_not_start_sections(pathology: Language) -> None:
    doc = pathology(
        "SYNOPTIC REPORT:\nProcedure: Excision\nHistologic type: Invasive ductal carcinoma\nCOMMENT: none"
    )
    assert [s.label_ for s in doc._.sections] == ["synoptic", "comment"]
    assert [(e.text, e[0]._.section) for e in doc.ents] == [("Invasive ductal carcinoma", "synoptic")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Elevated PSA (7.2 ng/mL).", [("Elevated PSA", "R97.20")]),
        # the test's name alone is not the finding "Elevated prostate specific antigen [PSA]"
        ("PSA 0.1 ng/mL. EKG normal.", []),
    ],
)
def test_test_names_are_not_findings(clinical: Language, text: str, expected: list[tuple[str, str]]) -> None:
    assert codes(clinical, text) == expected


def test_pickled_linker_needs_no_file(tmp_path) -> None:
    import shutil

    from nlp_engine.resources import resolve

    copy = tmp_path / "terms.tsv.gz"
    shutil.copyfile(resolve("vocab:icd10cm_terms.tsv.gz"), copy)
    nlp = spacy.blank("en")
    linker = nlp.add_pipe("icd10_concepts")
    linker.initialize(terms=str(copy))
    data = pickle.dumps(linker)
    copy.unlink()  # a worker on another machine has no such path
    clone = pickle.loads(data)
    assert [e.kb_id_ for e in clone(nlp.make_doc("COPD")).ents] == ["J44.9"]
    other = spacy.blank("en").add_pipe("icd10_concepts").from_bytes(linker.to_bytes())
    assert [e.kb_id_ for e in other(nlp.make_doc("CHF")).ents] == ["I50.9"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("urothelial (transitional cell) carcinoma", [("urothelial (transitional cell) carcinoma", "C67.9")]),
        ("(transitional cell) carcinoma", []),  # a window may not start inside parentheses
        ("-NO MALIGNANCY IDENTIFIED", [("MALIGNANCY", "C80.1")]),
    ],
)
def test_parentheses_and_list_dashes(clinical: Language, text: str, expected: list[tuple[str, str]]) -> None:
    assert codes(clinical, text) == expected


def test_dash_bullets_negate(pathology: Language) -> None:
    doc = pathology("FINAL DIAGNOSIS:\n-BENIGN URETER\n-NO UROTHELIAL DYSPLASIA OR MALIGNANCY IDENTIFIED\n")
    assert [(e.text, e._.negated) for e in doc.ents] == [("MALIGNANCY", True)]
