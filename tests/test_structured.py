"""Age, sex and vital signs from note text, with evidence spans and unit conversion."""

from __future__ import annotations

import math

import pytest

from nlp_engine.structured import FIELDS, extract_fields, fields_table

NOTE = (
    "HISTORY: A 45-year-old African American woman with chest pain.\n"
    "VITAL SIGNS: BP 124/78, pulse 76, RR 20, temperature 98.6 F, O2 sat 97% on room air. "
    "Weight 130 pounds, height 5 feet 4 inches, BMI 22.3."
)


def test_every_field_with_its_span() -> None:
    fields = extract_fields(NOTE)
    values = {name: f.value for name, f in fields.items()}
    assert values == {
        "age": 45.0,
        "sex": "F",
        "systolic_bp": 124.0,
        "diastolic_bp": 78.0,
        "heart_rate": 76.0,
        "respiratory_rate": 20.0,
        "temperature_c": 37.0,
        "spo2": 97.0,
        "weight_kg": 59.0,
        "height_cm": 162.6,
        "bmi": 22.3,
    }
    assert NOTE[fields["sex"].start : fields["sex"].end] == "woman"
    assert NOTE[fields["systolic_bp"].start : fields["systolic_bp"].end] == "124"
    assert NOTE[fields["weight_kg"].start : fields["weight_kg"].end] == "Weight 130 pounds"


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("BP118/66.  HR83. T36.8C.", "heart_rate", 83.0),
        ("BP118/66.  HR83. T36.8C.", "temperature_c", 36.8),
        ("temperature is 98, pulse 76", "temperature_c", 36.7),  # a bare 98 is Fahrenheit by its range
        ("VITAL SIGNS:  Weight is 14.9 kg.", "weight_kg", 14.9),
        ("An 18-month-old boy with fever.", "age", 1.5),
        ("The patient is a 67 y/o male.", "age", 67.0),
        ("The patient is a 67 y/o male.", "sex", "M"),
        ("Sex: female", "sex", "F"),
        ("pulse oximetry of 98% on room air", "spo2", 98.0),
        ("Height: 180 cm.", "height_cm", 180.0),
    ],
)
def test_formats(text: str, field: str, value: float | str) -> None:
    assert extract_fields(text)[field].value == value


def test_implausible_values_are_dropped_not_clipped() -> None:
    fields = extract_fields("BP 12/300. Pulse 900. Temperature 120 F. Age 150.")
    assert not {"systolic_bp", "diastolic_bp", "heart_rate", "temperature_c", "age"} & set(fields)


def test_pulse_oximetry_is_not_a_heart_rate_and_pronouns_decide_sex_only_by_majority() -> None:
    fields = extract_fields("Pulse ox 95%. She said her husband and he drove.")
    assert "heart_rate" not in fields and fields["spo2"].value == 95.0
    assert "sex" not in fields  # two she/her against one he: too few to say
    assert extract_fields("She is tired; her cough woke her; he, her son, called.")["sex"].value == "F"


def test_table_has_every_field_as_a_column() -> None:
    table = fields_table([NOTE, "No vitals recorded."], ids=["a", "b"])
    assert list(table.columns) == ["id", *FIELDS]
    assert table.loc[0, "age"] == 45.0 and math.isnan(table.loc[1, "age"])
    assert table.loc[1, "sex"] is None
