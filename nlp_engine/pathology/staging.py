"""The AJCC (7th edition, as the TCGA records) anatomic stage group that a report's own pT, pN and pM
give at its primary site: `stage_group(extract(text))` -> "0", "I", "II", "III", "IV" or None.

Only the main group (no A/B/C), for the organs whose grouping follows from T, N and M alone: colon,
rectosigmoid and rectum, lung, kidney, bladder, breast, lip/oral cavity/pharynx/larynx, liver,
prostate (anatomic, without PSA and Gleason) and pancreas. Other organs (stomach, oesophagus,
thyroid with its age rule, the FIGO-staged gynaecological sites, the brain) and reports without a pT
get None: nothing is guessed. A missing or NX node category counts as N0, as the stage tables do for
a pathological group. `PathologyCoder` has the group among its extracted-field features (every
classifier sees it; stage gains from it: docs/benchmarks.md); the report's own stated stage, where it
has one, is `extract`'s `stage`.
"""

from __future__ import annotations

import re
from typing import Any

_CATEGORY = re.compile(r"^[yrmc]?p?(?P<letter>[TNM])(?P<cat>is|[0-4X])(?P<sub>[a-d]?)", re.IGNORECASE)

# lip and oral cavity, oropharynx, hypopharynx, larynx (not the salivary glands, C07-C08, or the
# nasopharynx, C11, which group otherwise)
_HEAD_AND_NECK = {f"C{n:02d}" for n in (0, 1, 2, 3, 4, 5, 6, 9, 10, 12, 13, 14, 32)}


def _category(field: dict[str, Any] | None, letter: str) -> tuple[str, str] | None:
    """The category (`"2"`, `"is"`, `"X"`) and subcategory (`"a"`) of a stated pT/pN/pM, or None."""
    if field is None:
        return None
    match = _CATEGORY.match(str(field["value"]))
    if match is None or match["letter"].upper() != letter:
        return None
    cat = match["cat"]
    return (cat.lower() if cat.lower() == "is" else cat.upper()), match["sub"].lower()


def stage_group(fields: dict[str, Any]) -> str | None:
    """The main AJCC 7 stage group of `extract`'s fields (see the module docstring), or None."""
    site = fields.get("primary_site")
    t = _category(fields.get("pT"), "T")
    if site is None or t is None or t[0] in ("X", "0"):  # T0: no primary to stage by
        return None
    m = _category(fields.get("pM"), "M")
    if m is not None and m[0] == "1":
        return "IV"
    n = _category(fields.get("pN"), "N")
    nodes = int(n[0]) if n is not None and n[0].isdigit() else 0
    if t[0] == "is":
        return "0" if nodes == 0 else None
    organ = str(site["value"])[:3]
    return _group(organ, int(t[0]), t[1], nodes)


def _group(organ: str, t: int, sub: str, n: int) -> str | None:
    """The main group at `organ` (ICD-O-3 topography category) for T `t` (subcategory `sub`), N `n`."""
    if organ in ("C18", "C19", "C20"):  # colon and rectum
        return "III" if n else "I" if t <= 2 else "II"
    if organ == "C34":  # lung: T2a N0 is IB, T2b N0 IIA
        if n >= 2 or t == 4:
            return "III"
        if n == 1:
            return "II" if t <= 2 else "III"
        return "I" if t == 1 or (t == 2 and sub in ("", "a")) else "II"
    if organ == "C64":  # kidney
        if t == 4:
            return "IV"
        return "III" if n or t == 3 else "I" if t == 1 else "II"
    if organ == "C67":  # bladder: any node, or T4b, is IV
        if n or (t == 4 and sub == "b"):
            return "IV"
        return {1: "I", 2: "II", 3: "III", 4: "III"}.get(t)
    if organ == "C50":  # breast
        if t == 4 or n >= 2:
            return "III"
        if n == 1:
            return "II" if t <= 2 else "III"
        return "I" if t == 1 else "II"
    if organ in _HEAD_AND_NECK:
        if t == 4 or n >= 2:
            return "IV"
        return "III" if t == 3 or n == 1 else "I" if t == 1 else "II"
    if organ == "C22":  # liver
        return "IV" if n else {1: "I", 2: "II", 3: "III", 4: "III"}.get(t)
    if organ == "C61":  # prostate, anatomic
        if n or t == 4:
            return "IV"
        return {2: "II", 3: "III"}.get(t)
    if organ == "C25":  # pancreas
        if t == 4:
            return "III"
        return "II" if n or t == 3 else "I"
    return None
