"""FHIR R4 `Patient`, `Observation` and `Condition` resources -> one row per patient.

Columns: `patient_id`, `gender`, `age` (years at `as_of`, default today; from `birthDate`),
`deceased`, one column per Observation code with the patient's latest numeric value (`obs:<code>`,
the LOINC or other code, else the code's text), and one 0/1 column per Condition code
(`condition:<code>`, only confirmed or unverified conditions that are not refuted or entered in
error). Each resource is validated with `fhir.resources` (R4B); invalid ones are counted by type in
`table.attrs["invalid"]` and left out, never guessed at. Input: resources, Bundles, or a file or
folder of `.json` / `.ndjson`.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import TabularError


def _resources(source: Any) -> Iterator[dict[str, Any]]:
    if isinstance(source, str | Path):
        path = Path(source)
        files = sorted(path.rglob("*.json")) + sorted(path.rglob("*.ndjson")) if path.is_dir() else [path]
        for file in files:
            try:
                text = file.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise TabularError(f"{file.name}: not UTF-8 text (FHIR JSON must be UTF-8)") from None
            lines = text.splitlines() if file.suffix == ".ndjson" else [text]
            items = []
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    items.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    where = number if file.suffix == ".ndjson" else exc.lineno
                    raise TabularError(f"{file.name}: not valid JSON (line {where})") from None
            for item in items:
                yield from _resources([item])
        return
    for item in source:
        if isinstance(item, dict) and item.get("resourceType") == "Bundle":
            yield from _resources(entry.get("resource", {}) for entry in item.get("entry", []) or [])
        elif isinstance(item, dict):
            yield item


def _ref(reference: Any) -> str | None:
    ref = getattr(reference, "reference", None)
    return ref.split("/")[-1] if ref else None


def _code_key(concept: Any) -> str | None:
    for coding in getattr(concept, "coding", None) or []:
        if coding.code:
            return str(coding.code)
    text = getattr(concept, "text", None)
    return str(text) if text else None


def fhir_to_table(source: Iterable[dict[str, Any]] | str | Path, *, as_of: _dt.date | None = None) -> Any:
    """The patient-level table (see the module docstring) as a pandas DataFrame."""
    import pandas as pd
    from fhir.resources.R4B.condition import Condition
    from fhir.resources.R4B.observation import Observation
    from fhir.resources.R4B.patient import Patient
    from pydantic import ValidationError

    as_of = as_of or _dt.date.today()
    models: dict[str, Any] = {"Patient": Patient, "Observation": Observation, "Condition": Condition}
    rows: dict[str, dict[str, Any]] = {}
    latest: dict[tuple[str, str], str] = {}
    invalid: dict[str, int] = {}
    for raw in _resources(source):
        kind = raw.get("resourceType")
        model = models.get(str(kind))
        if model is None:
            continue
        try:
            resource = model.model_validate(raw)
        except ValidationError:
            invalid[str(kind)] = invalid.get(str(kind), 0) + 1
            continue
        if kind == "Patient":
            pid = str(resource.id)
            row = rows.setdefault(pid, {"patient_id": pid})
            row["gender"] = resource.gender
            birth = resource.birthDate
            if birth is not None:
                birth_date = birth if isinstance(birth, _dt.date) else _dt.date.fromisoformat(str(birth)[:10])
                row["age"] = round((as_of - birth_date).days / 365.25, 1)
            row["deceased"] = bool(resource.deceasedBoolean or resource.deceasedDateTime)
            continue
        subject = _ref(resource.subject)
        if not subject:
            invalid[str(kind)] = invalid.get(str(kind), 0) + 1
            continue
        pid = subject
        row = rows.setdefault(pid, {"patient_id": pid})
        key = _code_key(resource.code)
        if key is None:
            continue
        if kind == "Observation":
            quantity = resource.valueQuantity
            if (
                quantity is None
                or quantity.value is None
                or resource.status in ("entered-in-error", "cancelled")
            ):
                continue
            when = str(resource.effectiveDateTime or resource.issued or "")
            column = f"obs:{key}"
            if (pid, column) not in latest or when >= latest[(pid, column)]:
                latest[(pid, column)] = when
                row[column] = float(quantity.value)
        else:
            status = _code_key(resource.verificationStatus) if resource.verificationStatus else None
            if status in ("refuted", "entered-in-error"):
                continue
            row[f"condition:{key}"] = 1
    table = pd.DataFrame(list(rows.values()))
    condition_cols = [c for c in table.columns if c.startswith("condition:")]
    if condition_cols:
        table[condition_cols] = table[condition_cols].fillna(0).astype(int)
    table.attrs["invalid"] = invalid
    return table
