"""Patient-level structured fields from note text: age, sex and vital signs, each with its evidence.

`extract_fields(text)` returns `{field: Field(value, start, end)}` for what the note states:

- `age` in years (`45-year-old`, `45 y/o`, `age 45`, `45 yo`; months and weeks of infants as
  fractions of a year: `18-month-old` -> 1.5);
- `sex` `"F"`/`"M"` from the demographic phrase (`a 45-year-old woman`, `Sex: male`), else from
  pronouns when they are consistent (`she`/`her` against `he`/`his`, a two-to-one majority);
- `systolic_bp`, `diastolic_bp` (mmHg, `BP 124/78`, `blood pressure of 124/78`), `heart_rate`
  (`pulse 76`, `HR 83`), `respiratory_rate`, `temperature_c` (Fahrenheit converted: `98.6 F`, a bare
  `temperature 98` read by its range), `spo2` (`O2 sat 98%`, `pulse oximetry of 98%`), `weight_kg`
  (pounds and kilograms), `height_cm` (inches, feet and inches, centimetres) and `bmi`.

Values outside physiological ranges are dropped, never clipped, so a lab number near a vital-sign word
is not taken for one. The first plausible mention of each field wins (the admission vitals in most
notes). `fields_table(texts)` gives one row per text as a pandas DataFrame (missing fields as NaN),
ready for `nlp_engine.tabular` or `nlp_engine.fusion`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

FIELDS = (
    "age",
    "sex",
    "systolic_bp",
    "diastolic_bp",
    "heart_rate",
    "respiratory_rate",
    "temperature_c",
    "spo2",
    "weight_kg",
    "height_cm",
    "bmi",
)
NUMERIC_FIELDS = tuple(f for f in FIELDS if f != "sex")


@dataclass(frozen=True)
class Field:
    value: float | str
    start: int
    end: int


_NUM = r"(\d{1,3}(?:\.\d+)?)"
_SEP = r"(?:\s*(?:is|was|of|at|:|=|-)\s*){0,3}\s*"
_RANGES: dict[str, tuple[float, float]] = {
    "age": (0, 120),
    "systolic_bp": (50, 260),
    "diastolic_bp": (20, 160),
    "heart_rate": (20, 250),
    "respiratory_rate": (4, 70),
    "temperature_c": (30, 44),
    "spo2": (50, 100),
    "weight_kg": (0.3, 350),
    "height_cm": (30, 230),
    "bmi": (10, 90),
}

_AGE = re.compile(
    rf"\b{_NUM}[\s-]*(?:(year|yr)s?|(month|mo)s?|(week|wk)s?)[\s-]*old\b"
    rf"|\b{_NUM}\s*(?:y/?o|yo|y\.o\.)(?![a-z])"
    rf"|\bage(?:d)?{_SEP}{_NUM}\b",
    re.IGNORECASE,
)
_SEX_PHRASE = re.compile(
    r"\b(?:year|yr|month|y/?o|yo)s?[\s-]*(?:old)?[\s,]+(?:(?:african|caucasian|hispanic|asian|white|black|"
    r"american|married|single|divorced|widowed|obese|pleasant|healthy|gravida|para|right|left|handed|[a-z]+-"
    r"handed)[\s,-]*){0,3}(woman|female|lady|girl|gentleman|man|male|boy)\b"
    r"|\b(?:sex|gender)\s*:\s*(female|male|f|m)\b",
    re.IGNORECASE,
)
_SHE = re.compile(r"\b(?:she|her|hers|herself)\b", re.IGNORECASE)
_HE = re.compile(r"\b(?:he|his|him|himself)\b", re.IGNORECASE)
_BP = re.compile(rf"\b(?:blood\s+pressure|b/?p){_SEP}(\d{{2,3}})\s*/\s*(\d{{2,3}})\b", re.IGNORECASE)
_HR = re.compile(rf"\b(?:heart\s+rate|pulse(?!\s+ox)|hr){_SEP}{_NUM}(?!\s*%)", re.IGNORECASE)
_RR = re.compile(rf"\b(?:respiratory\s+rate|respirations?|resp\.?|rr){_SEP}{_NUM}\b", re.IGNORECASE)
_TEMP = re.compile(
    rf"\b(?:temperature|temp\.?|t(?=\s*\d)|tmax){_SEP}{_NUM}\s*(?:degrees?\s*)?(°\s*)?([cf])?\b",
    re.IGNORECASE,
)
_SPO2 = re.compile(
    rf"\b(?:o2\s*sat(?:uration)?s?|oxygen\s+saturation|sao2|spo2|pulse\s+ox(?:imetry)?|sats?){_SEP}{_NUM}\s*%",
    re.IGNORECASE,
)
_WEIGHT = re.compile(
    rf"\b(?:weight|weighs|wt\.?){_SEP}{_NUM}\s*(pounds?|lbs?\.?|#|kilograms?|kg)\b", re.IGNORECASE
)
_HEIGHT = re.compile(
    rf"\b(?:height|ht\.?|stands){_SEP}(?:(\d)\s*(?:feet|foot|ft\.?|')\s*(\d{{1,2}}(?:\.\d+)?)?\s*"
    rf"(?:inches|inch|in\.?|\"|'')?|{_NUM}\s*(inches|inch|in\.?|cm|centimeters?|centimetres?)\b)",
    re.IGNORECASE,
)
_BMI = re.compile(rf"\b(?:bmi|body\s+mass\s+index){_SEP}{_NUM}", re.IGNORECASE)


def _in_range(name: str, value: float) -> bool:
    lo, hi = _RANGES[name]
    return lo <= value <= hi


def _age(match: re.Match[str]) -> float | None:
    number = match.group(1) or match.group(5) or match.group(6)
    value = float(number)
    if match.group(3):
        value /= 12
    elif match.group(4):
        value /= 52
    return round(value, 2)


def _temperature(match: re.Match[str]) -> float | None:
    value, unit = float(match.group(1)), (match.group(3) or "").lower()
    if unit == "f" or (not unit and value >= 80):
        value = (value - 32) * 5 / 9
    return round(value, 1)


def _weight(match: re.Match[str]) -> float | None:
    value, unit = float(match.group(1)), match.group(2).lower()
    return round(value if unit.startswith("k") else value * 0.45359237, 1)


def _height(match: re.Match[str]) -> float | None:
    if match.group(1):
        return round(float(match.group(1)) * 30.48 + float(match.group(2) or 0) * 2.54, 1)
    value, unit = float(match.group(3)), match.group(4).lower()
    return round(value if unit.startswith("c") else value * 2.54, 1)


_SINGLE: tuple[tuple[str, re.Pattern[str], Callable[[re.Match[str]], float | None]], ...] = (
    ("age", _AGE, _age),
    ("heart_rate", _HR, lambda m: float(m.group(1))),
    ("respiratory_rate", _RR, lambda m: float(m.group(1))),
    ("temperature_c", _TEMP, _temperature),
    ("spo2", _SPO2, lambda m: float(m.group(1))),
    ("weight_kg", _WEIGHT, _weight),
    ("height_cm", _HEIGHT, _height),
    ("bmi", _BMI, lambda m: float(m.group(1))),
)


def _sex(text: str) -> Field | None:
    match = _SEX_PHRASE.search(text)
    if match:
        word = (match.group(1) or match.group(2)).lower()
        value = "F" if word in ("woman", "female", "lady", "girl", "f") else "M"
        group = 1 if match.group(1) else 2
        return Field(value, match.start(group), match.end(group))
    she = [m for m in _SHE.finditer(text)]
    he = [m for m in _HE.finditer(text)]
    if len(she) >= 3 and len(she) >= 3 * len(he):
        return Field("F", she[0].start(), she[0].end())
    if len(he) >= 3 and len(he) >= 3 * len(she):
        return Field("M", he[0].start(), he[0].end())
    return None


def extract_fields(text: str) -> dict[str, Field]:
    """The fields the text states (see the module docstring), each with the span of its value."""
    found: dict[str, Field] = {}
    for name, pattern, convert in _SINGLE:
        for match in pattern.finditer(text):
            value = convert(match)
            if value is not None and _in_range(name, value):
                found[name] = Field(value, match.start(), match.end())
                break
    for match in _BP.finditer(text):
        systolic, diastolic = float(match.group(1)), float(match.group(2))
        if (
            _in_range("systolic_bp", systolic)
            and _in_range("diastolic_bp", diastolic)
            and systolic > diastolic
        ):
            found["systolic_bp"] = Field(systolic, match.start(1), match.end(1))
            found["diastolic_bp"] = Field(diastolic, match.start(2), match.end(2))
            break
    sex = _sex(text)
    if sex is not None:
        found["sex"] = sex
    return {name: found[name] for name in FIELDS if name in found}


def fields_table(texts: Sequence[str], ids: Sequence[Any] | None = None) -> Any:
    """One row per text with every field of `FIELDS` as a column (NaN where the text does not say)."""
    import pandas as pd

    rows = []
    for text in texts:
        fields = extract_fields(text)
        rows.append({name: fields[name].value if name in fields else None for name in FIELDS})
    table = pd.DataFrame(rows, columns=list(FIELDS))
    table[list(NUMERIC_FIELDS)] = table[list(NUMERIC_FIELDS)].astype(float)
    if ids is not None:
        table.insert(0, "id", list(ids))
    return table
