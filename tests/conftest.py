from __future__ import annotations

import os
from pathlib import Path

import pytest
from spacy.language import Language

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import nlp_engine  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def shared_data(relative: str) -> Path:
    """Path into ../shared/data, skipping the test with a reason when it is absent."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"public dataset not available: {path}")
    return path


@pytest.fixture(scope="session")
def clinical() -> Language:
    return nlp_engine.load("clinical")


@pytest.fixture(scope="session")
def pathology() -> Language:
    return nlp_engine.load("pathology")


# A small hand-written coded corpus (fictional notes, our own text) for behaviour tests of the coder and
# the cohort tools.
_NOTES = [
    ("Patient with long-standing essential hypertension, on lisinopril. Blood pressure 160/95.", ["I10"]),
    ("Hypertension poorly controlled. Amlodipine added. No chest pain.", ["I10"]),
    ("Elevated blood pressure, known hypertension, follow up in clinic.", ["I10"]),
    ("History of hypertension, blood pressure today 150/90 on two agents.", ["I10"]),
    ("Type 2 diabetes mellitus, HbA1c 8.2%, metformin increased.", ["E11.9"]),
    ("Diabetes mellitus type 2 without complications, glucose 210, on metformin.", ["E11.9"]),
    ("Type 2 diabetes, diet controlled, HbA1c 6.9%.", ["E11.9"]),
    ("Known type 2 diabetic, sugars at home high, metformin and glipizide.", ["E11.9"]),
    ("Community acquired pneumonia of the right lower lobe, started ceftriaxone.", ["J18.9"]),
    ("Fever, productive cough, consolidation on chest x-ray consistent with pneumonia.", ["J18.9"]),
    ("Pneumonia treated with azithromycin, oxygen saturation 91% on room air.", ["J18.9"]),
    ("Chest radiograph shows left lower lobe pneumonia; admitted for antibiotics.", ["J18.9"]),
    ("Hypertension and type 2 diabetes, both stable, continue lisinopril and metformin.", ["I10", "E11.9"]),
    ("Diabetes mellitus type 2 and essential hypertension; HbA1c 7.4%, BP 148/92.", ["I10", "E11.9"]),
    ("Pneumonia in a patient with hypertension; ceftriaxone started, lisinopril held.", ["J18.9", "I10"]),
    ("Right lower lobe pneumonia; known type 2 diabetes with high glucose.", ["J18.9", "E11.9"]),
    ("Annual visit. No complaints. Examination normal.", []),
    ("Sprained ankle after a fall, ice and rest advised.", []),
]


@pytest.fixture(scope="session")
def coded_notes() -> tuple[list[str], list[list[str]]]:
    return [t for t, _ in _NOTES], [c for _, c in _NOTES]
