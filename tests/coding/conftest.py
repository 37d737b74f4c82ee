"""A small hand-written coded corpus (fictional notes, our own text) for the coder's behaviour tests."""

from __future__ import annotations

import pytest

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


@pytest.fixture(scope="session")
def fitted_coder(coded_notes: tuple[list[str], list[list[str]]]):  # type: ignore[no-untyped-def]
    from nlp_engine.coding import DiagnosisCoder

    texts, codes = coded_notes
    return DiagnosisCoder(inner_folds=3).fit(texts, codes)
