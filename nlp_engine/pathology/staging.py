"""The AJCC (7th edition, as the TCGA records) stage that a report's own pT, pN and pM give at its
primary site.

`ajcc_stage(extract(text))` -> the most specific stage the T, N and M determine at the organ
("IIA", "IIIB", "IB1"), else the main group ("III": a colon pT3 pN2 is IIIB or IIIC by N2a against
N2b), else None; `stage_group(...)` -> the main group alone: "0", "I", "II", "III", "IV" or None;
`derived_stage(...)` -> the stage as a result field with its evidence (`report_result` and the
CLI's `pathology extract` give it beside the stage the report states).

Derived for the organs whose grouping follows from T, N and M alone: colon, rectosigmoid and
rectum, lung, kidney, renal pelvis and ureter, bladder, breast, lip/oral cavity/pharynx/larynx,
liver, pancreas, stomach, and the cervix, corpus uteri and ovary (whose groups are the FIGO stages;
a uterine carcinoma's T1c, T2a or T2b is the AJCC 6 / FIGO 1988 scheme, and its stage says that
edition); and where the type, grade, location, PSA or age decide too: the prostate (at T1-T2 by the
Gleason score and the serum PSA the clinical history states), the oesophagus (squamous against
adenocarcinoma, G1-2 against G3, upper/middle against lower third, at N0; the cardia and
oesophagogastric junction where its table and the stomach's agree) and the thyroid
(anaplastic, medullary, or papillary/follicular by age: `age_years`, a field `report_result` adds
from the caller or the report's own "52-year-old"; without it only T1 N0 M0, stage I at any age). Other organs (the
brain, soft tissue, blood), types a table does not cover, and reports without a pT get None:
nothing is guessed. A missing or NX node category counts as N0, and a missing M as M0, as the stage
tables do for a pathological group; an M1 is stage IV (with the organ's letter) but for a papillary
or follicular thyroid carcinoma under 45 years; Tis N0 is stage 0 (0is in the urinary tract, whose
non-invasive papillary Ta N0 is 0a); a lung T2 without a or b gets its letter from the size
(`SIZE_T`), else counts as T2a (stage I at N0). `derived_stage` names every value a stage was read
from. `PathologyCoder` has the group and the stage among its extracted-field features (every
classifier sees them; stage gains from them: docs/benchmarks.md); the report's own stated stage,
where it has one, is `extract`'s `stage`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, NamedTuple

from .extract import TNM_FIELDS, with_prefix

_CATEGORY = re.compile(
    r"^[yrmc]?p?(?P<letter>[TNM])(?P<cat>is|a(?![a-z])|[0-4X])(?P<sub>[a-d]?)(?P<digit>[12]?)", re.IGNORECASE
)
_MAIN = re.compile(r"^(?:IV|III|II|I|0)")
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}

# AJCC 7 T categories by the largest tumour size in mm where the organ's T goes by size: (up to, T).
# The lung's T2 without a or b gets its letter here; the coder reads sizes as T by the same cuts.
SIZE_T: dict[str, tuple[tuple[float, str], ...]] = {
    "C34": ((20, "T1a"), (30, "T1b"), (50, "T2a"), (70, "T2b"), (float("inf"), "T3")),  # lung
    "C64": ((40, "T1a"), (70, "T1b"), (100, "T2a"), (float("inf"), "T2b")),  # kidney
    "C50": ((20, "T1"), (50, "T2"), (float("inf"), "T3")),  # breast
    "C73": ((20, "T1"), (40, "T2"), (float("inf"), "T3")),  # thyroid
    "C25": ((20, "T1"), (float("inf"), "T2")),  # pancreas
    "C53": ((40, "T1b1"), (float("inf"), "T1b2")),  # cervix
    "C0": ((20, "T1"), (40, "T2"), (float("inf"), "T3")),  # lip, oral cavity, oropharynx (C00-C09)
}
_LUNG_T2A_MM = next(limit for limit, t in SIZE_T["C34"] if t == "T2a")

# lip and oral cavity, oropharynx, hypopharynx, larynx (not the salivary glands, C07-C08, or the
# nasopharynx, C11, which group otherwise)
_HEAD_AND_NECK = {f"C{n:02d}" for n in (0, 1, 2, 3, 4, 5, 6, 9, 10, 12, 13, 14, 32)}
# renal pelvis, ureter, bladder: stage 0a (Ta) and 0is (Tis)
_URINARY = ("C65", "C66", "C67")
# colon, rectosigmoid, rectum: one table, one N by count, M1a/M1b
_COLORECTUM = ("C18", "C19", "C20")


@dataclass
class _Case:
    """What a derivation may read beyond the TNM (the histologic type, grade, site and age, for the
    organs whose groups depend on them), what it read, and the edition its stage belongs to."""

    fields: dict[str, Any]
    used: dict[str, Any]
    edition: str = "AJCC 7"

    def read(self, name: str) -> Any:
        """The value of field `name` (None where absent), named among what the stage came from."""
        field = self.fields.get(name)
        if field is None:
            return None
        self.used[name] = field["value"]
        return field["value"]

    def morphology(self) -> int | None:
        """The ICD-O-3 morphology number of the histologic type (8070 of `8070/3`), or None."""
        match = re.match(r"(\d{4})", str(self.read("histologic_type") or ""))
        return int(match.group(1)) if match else None


class _TNM(NamedTuple):
    t: int  # 1-4 (Tis is handled before the organ tables)
    t_sub: str  # "a".."d" or ""
    t_digit: str  # "1"/"2" (cervix T1b1) or ""
    n: int  # 0-3; NX and missing count as 0
    n_sub: str
    n_micro: bool  # pN1mi: micrometastases only
    n_counted: bool  # the N came from the count of positive nodes, not a stated pN
    case: _Case


def _category(field: dict[str, Any] | None, letter: str) -> tuple[str, str, str] | None:
    """The category (`"2"`, `"is"`, `"X"`), subcategory (`"a"`) and digit (`"1"` of T1b1) of a stated
    pT/pN/pM, or None."""
    if field is None:
        return None
    match = _CATEGORY.match(str(field["value"]))
    if match is None or match["letter"].upper() != letter:
        return None
    cat = match["cat"]
    return (cat.lower() if cat.lower() in ("is", "a") else cat.upper()), match["sub"].lower(), match["digit"]


def ajcc_stage(fields: dict[str, Any]) -> str | None:
    """The most specific AJCC stage `extract`'s fields determine (see the module docstring), or None."""
    return _derive(fields)[0]


def _derive(fields: dict[str, Any]) -> tuple[str | None, _Case]:
    """`ajcc_stage` and its `_Case`: the values it was derived from (stated pT/pN/pM; the
    positive-node count and the size where they gave the N or the T's letter; the histologic type,
    grade, site or age where the organ's groups read them) and the edition."""
    site = fields.get("primary_site")
    t = _category(fields.get("pT"), "T")
    if site is None or t is None or t[0] in ("X", "0"):  # T0: no primary to stage by
        return None, _Case(fields, {})
    used = {name: fields[name]["value"] for name in TNM_FIELDS if fields.get(name) is not None}
    case = _Case(fields, used)
    organ = str(site["value"])[:3]
    m = _category(fields.get("pM"), "M")
    if m is not None and m[0] == "1":
        return _metastatic(organ, m[1], case), case
    n = _nodes(fields, organ, used)
    if n is None:  # positive nodes whose N category the count does not give at this organ
        return None, case
    if t[0] in ("is", "a"):  # in situ; Ta, the urinary tract's non-invasive papillary carcinoma
        if n[0] or (t[0] == "a" and organ not in _URINARY):
            return None, case
        return ("0" + t[0] if organ in _URINARY else "0"), case
    micro = n[0] == 1 and "mi" in str(used.get("pN", "")).lower()
    t_sub = t[1]
    size = fields.get("tumor_size_mm")
    if organ == "C34" and t[0] == "2" and not t_sub and size is not None:  # lung T2a up to 5 cm
        t_sub = "a" if float(size["value"]) <= _LUNG_T2A_MM else "b"
        used["tumor_size_mm"] = size["value"]
    table = _cardia if str(site["value"]).startswith("C16.0") else _TABLES.get(organ)
    tnm = _TNM(int(t[0]), t_sub, t[2], n[0], n[1], micro, n[2], case)
    return (table(tnm) if table else None), case


# The N category a count of positive regional nodes gives, where the organ's N goes by count alone:
# (fewest positive nodes, category, subcategory), highest first. Lung (N1 against N2 by station) and
# head and neck (by size and side) are not here.
_N_BY_COUNT: dict[str, tuple[tuple[int, int, str], ...]] = {
    "colorectum": ((7, 2, "b"), (4, 2, "a"), (2, 1, "b"), (1, 1, "a")),
    "breast": ((10, 3, ""), (4, 2, ""), (1, 1, "")),
    "stomach": ((16, 3, "b"), (7, 3, "a"), (3, 2, ""), (1, 1, "")),
    "bladder": ((2, 2, ""), (1, 1, "")),
    "oesophagus": ((7, 3, ""), (3, 2, ""), (1, 1, "")),
    # N1 is any regional node: pancreas, liver, kidney, prostate, cervix, ovary; the corpus uteri's N1
    # (pelvic) against N2 (para-aortic) goes by station, which its table knows (n_counted)
    "any": ((1, 1, ""),),
}
_COUNTED = {
    **dict.fromkeys(_COLORECTUM, "colorectum"),
    "C50": "breast",
    "C16": "stomach",
    "C67": "bladder",
    "C15": "oesophagus",
    **dict.fromkeys(("C25", "C22", "C64", "C61", "C53", "C54", "C55", "C56", "C65", "C66"), "any"),
}


# What a count suggests at the head and neck, where the node's size and side decide the N (not the
# stage tables'): one node N1, more N2b (several ipsilateral, the most common reading).
_HEAD_AND_NECK_SUGGESTED = ((2, 2, "b"), (1, 1, ""))


def count_n(site: str, count: int) -> str | None:
    """The N category `count` positive regional nodes give at the ICD-O-3 `site` ("C18.7", 2 ->
    "N1b"; `_N_BY_COUNT`), N0 at none, and at the head and neck what the count suggests (one node
    N1, more N2b); None where the organ's N goes by station (lung) or the site has no table. For the
    coder's features, not the derived stage."""
    organ = site[:3]
    if count == 0:
        return "N0"
    table = _N_BY_COUNT.get(_COUNTED.get(organ, ""), ())
    if not table and organ in _HEAD_AND_NECK:
        table = _HEAD_AND_NECK_SUGGESTED
    return next((f"N{n}{sub}" for fewest, n, sub in table if count >= fewest), None)


def _nodes(fields: dict[str, Any], organ: str, used: dict[str, Any]) -> tuple[int, str, bool] | None:
    """The N category, subcategory and whether the count of positive nodes gave the category: as
    stated (a colorectal N2 without a or b gets its letter from the count), else from the count, else
    N0 (no nodes, or pNX, as the tables group it); None where nodes are positive but the count does
    not give the category. A count that gave the category or its letter goes into `used`."""
    stated = _category(fields.get("pN"), "N")
    positive = fields.get("lymph_nodes_positive")
    count = int(float(positive["value"])) if positive is not None else None
    table = _N_BY_COUNT.get(_COUNTED.get(organ, ""), ())
    if stated is not None and stated[0].isdigit():
        n, sub = min(int(stated[0]), 3), stated[1]
        if organ in _COLORECTUM and n == 2 and not sub and count is not None and count >= 4:
            sub = "b" if count >= 7 else "a"
            used["lymph_nodes_positive"] = count
        return n, sub, False
    if not count:
        return 0, "", False
    used["lymph_nodes_positive"] = count
    return next(((n, sub, True) for fewest, n, sub in table if count >= fewest), None)


def derived_stage(fields: dict[str, Any]) -> dict[str, Any] | None:
    """`ajcc_stage` as a result field: `{"value": "IIIB", "edition": "AJCC 7", "start", "end", "text",
    "from"}`, with the pT's span as its evidence and `from` naming the values it was derived from
    (`{"pT": "pT3", "pN": "pN1a"}`; the positive-node count and the size where they gave the N or the
    T's letter), and the pT's AJCC `prefix` where it has one (`"y"`: a post-therapy stage); None
    where not derived."""
    stage, case = _derive(fields)
    if stage is None:
        return None
    t = fields["pT"]
    derived = {
        "value": stage,
        "edition": case.edition,
        "start": t["start"],
        "end": t["end"],
        "text": t.get("text"),
        "from": case.used,
    }
    if not t.get("prefix"):
        return derived
    # a post-therapy ("ypT2 N1") or recurrence ("rpT2") classification gives a stage of that kind, and
    # its values are named as written ("ypT2")
    written = {
        name: with_prefix(fields[name]) if name in TNM_FIELDS else value for name, value in case.used.items()
    }
    return {**derived, "from": written, "prefix": t["prefix"]}


def main_group(stage: str) -> str:
    """The main group of a stage: `IIIB` -> `III`, `IVA` -> `IV`, `IB1` -> `I`."""
    match = _MAIN.match(stage)
    return match.group(0) if match else stage


def stage_group(fields: dict[str, Any]) -> str | None:
    """The main AJCC 7 stage group of `extract`'s fields (`ajcc_stage` without its letters), or None."""
    stage = ajcc_stage(fields)
    return main_group(stage) if stage else None


def _metastatic(organ: str, m_sub: str, case: _Case) -> str | None:
    """The stage of a distant metastasis (M1) at `organ`: IV, with its letter where the organ has one;
    at the thyroid IVC but for a differentiated carcinoma under 45 years (stage II), None where the
    age is not known."""
    if organ == "C73":
        kind = _thyroid_kind(case)
        if kind == "differentiated":
            age = case.read("age_years")
            return None if age is None else "IVC" if float(age) >= 45 else "II"
        return None if kind is None else "IVC"
    if organ in _COLORECTUM:
        return {"a": "IVA", "b": "IVB"}.get(m_sub, "IV")
    if organ in ("C22", "C53", "C54", "C55"):  # liver, cervix, uterus: IVA is a stage without metastasis
        return "IVB"
    if organ in _HEAD_AND_NECK:
        return "IVC"
    return "IV"


def _colorectum(s: _TNM) -> str:
    t4 = {"a": "4a", "b": "4b"}.get(s.t_sub, "4") if s.t == 4 else str(s.t)
    if s.n == 0:
        return {"1": "I", "2": "I", "3": "IIA", "4a": "IIB", "4b": "IIC"}.get(t4, "II")
    if s.n == 1:  # N1a, N1b, N1c
        return {"1": "IIIA", "2": "IIIA", "3": "IIIB", "4a": "IIIB", "4b": "IIIC"}.get(t4, "III")
    by_t = {  # N2a, N2b, N2 without a or b
        "a": {"1": "IIIA", "2": "IIIB", "3": "IIIB", "4a": "IIIC", "4b": "IIIC", "4": "IIIC"},
        "b": {"1": "IIIB", "2": "IIIB", "3": "IIIC", "4a": "IIIC", "4b": "IIIC", "4": "IIIC"},
        "": {"2": "IIIB", "4a": "IIIC", "4b": "IIIC", "4": "IIIC"},
    }
    return by_t.get(s.n_sub, by_t[""]).get(t4, "III")


def _lung(s: _TNM) -> str:
    t2b = s.t == 2 and s.t_sub == "b"
    if s.n == 3 or (s.t == 4 and s.n == 2):
        return "IIIB"
    if s.n == 2 or s.t == 4 or (s.t == 3 and s.n == 1):
        return "IIIA"
    if s.n == 1:
        return "IIB" if t2b or s.t == 3 else "IIA"
    if s.t == 3:
        return "IIB"
    if t2b:
        return "IIA"
    return "IA" if s.t == 1 else "IB"


def _kidney(s: _TNM) -> str:
    if s.t == 4:
        return "IV"
    return "III" if s.n or s.t == 3 else "I" if s.t == 1 else "II"


def _bladder(s: _TNM) -> str | None:
    if s.n or (s.t == 4 and s.t_sub == "b"):  # any node, or T4b, is IV
        return "IV"
    return {1: "I", 2: "II", 3: "III", 4: "III"}.get(s.t)


def _upper_urinary_tract(s: _TNM) -> str:  # renal pelvis and ureter: any node is IV
    if s.n or s.t == 4:
        return "IV"
    return _ROMAN[s.t]


def _breast(s: _TNM) -> str:
    if s.n == 3:
        return "IIIC"
    if s.t == 4:
        return "IIIB"
    if s.n == 2 or (s.t == 3 and s.n == 1):
        return "IIIA"
    if s.n == 1:
        if s.t == 1:
            return "IB" if s.n_micro else "IIA"
        return "IIB"
    return {1: "IA", 2: "IIA", 3: "IIB"}[s.t]


def _head_and_neck(s: _TNM) -> str:
    if s.n == 3 or (s.t == 4 and s.t_sub == "b"):
        return "IVB"
    if s.t == 4 or s.n == 2:
        return "IVA" if s.t_sub == "a" or s.t < 4 else "IV"
    if s.t == 3 or s.n == 1:
        return "III"
    return "I" if s.t == 1 else "II"


def _liver(s: _TNM) -> str:
    if s.n:
        return "IVA"
    if s.t == 3:
        return {"a": "IIIA", "b": "IIIB"}.get(s.t_sub, "III")
    return {1: "I", 2: "II", 4: "IIIC"}[s.t]


def _prostate(s: _TNM) -> str | None:
    """AJCC 7 prostate: III at T3, IV at T4 or N1; at T1-T2 N0 the prognostic group by the T's letter,
    the Gleason score (or Grade Group) and the serum PSA (`psa_ng_ml`, from the clinical history):
    the group every value they leave open gives, else the main group all of them share, else None.
    Neither known is the table's own "PSA X, Gleason X" row (T1-T2a I, T2b IIA, T2c IIB). For
    adenocarcinomas and squamous carcinomas (and a carcinoma not named more closely): a urothelial
    carcinoma in the prostate is staged as the urethra's, and one read at the prostate in a
    cystoprostatectomy is the bladder's."""
    code = s.case.morphology()
    if code is not None and code != 8010 and not _within(code, _GLANDULAR + _SQUAMOUS):
        return None
    if s.n or s.t == 4:
        return "IV"
    if s.t == 3:
        return "III"
    gleason = _gleason_level(s.case)
    psa = s.case.read("psa_ng_ml")
    letters = [s.t_sub] if s.t == 1 or s.t_sub in ("a", "b", "c") else ["a", "b", "c"]
    if gleason is None and psa is None:
        groups = {"I" if s.t == 1 or x == "a" else "IIA" if x == "b" else "IIB" for x in letters}
    else:
        psa_levels = [0 if float(psa) < 10 else 1 if float(psa) < 20 else 2] if psa is not None else [0, 1, 2]
        groups = {
            _prostate_group(s.t == 1 or x == "a", x == "b", x == "c", p, g)
            for x in letters
            for p in psa_levels
            for g in ([gleason] if gleason is not None else [0, 1, 2])
        }
    if len(groups) == 1:
        return groups.pop()
    mains = {main_group(g) for g in groups}
    return mains.pop() if len(mains) == 1 else None


def _gleason_level(case: _Case) -> int | None:
    """0 for a Gleason score of 6 or less, 1 for 7, 2 for 8 or more (from the score, else the Grade
    Group); None where the report gives neither."""
    gleason = case.read("gleason")
    if gleason is not None:
        total = int(str(gleason).rsplit("=", 1)[-1])
        return 0 if total <= 6 else 1 if total == 7 else 2
    group = case.read("grade_group")
    return None if group is None else 0 if int(group) == 1 else 1 if int(group) <= 3 else 2


def _prostate_group(t_low: bool, t2b: bool, t2c: bool, psa: int, gleason: int) -> str:
    """The AJCC 7 group of a T1-T2 N0 M0 prostate cancer: `t_low` T1 or T2a; PSA and Gleason as
    levels (PSA <10, 10-20, 20+; Gleason <=6, 7, 8+)."""
    if t2c or psa == 2 or gleason == 2:
        return "IIB"
    if t2b or gleason == 1:
        return "IIA"
    return "I" if t_low and psa == 0 else "IIA"


def _pancreas(s: _TNM) -> str:
    if s.t == 4:
        return "III"
    if s.n:
        return "IIB"
    return {1: "IA", 2: "IB", 3: "IIA"}[s.t]


# stomach: the group by T and N, T4a and T4b apart ("4" without a or b where both give one group)
_STOMACH = {
    "1": ("IA", "IB", "IIA", "IIB"),
    "2": ("IB", "IIA", "IIB", "IIIA"),
    "3": ("IIA", "IIB", "IIIA", "IIIB"),
    "4a": ("IIB", "IIIA", "IIIB", "IIIC"),
    "4b": ("IIIB", "IIIB", "IIIC", "IIIC"),
}


def _stomach(s: _TNM) -> str:
    if s.t < 4:
        return _STOMACH[str(s.t)][s.n]
    if s.t_sub in ("a", "b"):
        return _STOMACH[f"4{s.t_sub}"][s.n]
    a, b = _STOMACH["4a"][s.n], _STOMACH["4b"][s.n]
    return a if a == b else "III"


def _cervix(s: _TNM) -> str:  # the AJCC groups are the FIGO stages
    if s.t == 4:
        return "IVA"
    if s.n or (s.t == 3 and s.t_sub == "b"):
        return "IIIB"
    if s.t == 3:
        return "IIIA" if s.t_sub == "a" else "III"
    if s.t == 2 and s.t_sub == "b":
        return "IIB"
    roman = {1: "I", 2: "II"}[s.t]
    return roman + (s.t_sub.upper() + s.t_digit if s.t_sub in ("a", "b") else "")


# ICD-O-3 morphology ranges of the histologic groups the oesophagus, thyroid and uterus stage apart
_SQUAMOUS = (range(8050, 8090), range(8560, 8561))  # with adenosquamous: the worse-prognosis table
# adenocarcinomas, without the neuroendocrine tumours (8240-8249)
_GLANDULAR = (range(8140, 8240), range(8250, 8390), range(8480, 8560), range(8570, 8577))
_UNDIFFERENTIATED = range(8020, 8036)  # undifferentiated, anaplastic, giant and spindle cell
_THYROID_MEDULLARY = (8345, 8346, 8347, 8510)
_THYROID_DIFFERENTIATED = (
    range(8050, 8051),
    range(8260, 8261),
    range(8290, 8291),
    range(8330, 8336),
    range(8340, 8345),
    range(8350, 8351),
)
_UTERINE_SARCOMA = (range(8800, 8922), range(8930, 8936))


def _within(code: int | None, ranges: Any) -> bool:
    return code is not None and any(code in r for r in ranges)


def _oesophagus(s: _TNM) -> str | None:
    """AJCC 7 oesophagus (and oesophagogastric junction, C15): the groups past N0 by T and N alone;
    at N0 by the histologic type, grade (G1-2 against G3; a missing grade is GX) and, for a squamous
    T2-T3, location (upper and middle thoracic against lower). An undifferentiated carcinoma (or a
    G4) stages as a G3 squamous one; other types (neuroendocrine, sarcoma) are not staged here."""
    code = s.case.morphology()
    if code is not None and not _within(code, _SQUAMOUS + _GLANDULAR + (_UNDIFFERENTIATED,)):
        return None
    if s.n == 3 or (s.t == 4 and (s.n or s.t_sub == "b")):
        return "IIIC"
    if s.t == 4:  # T4a N0 is IIIA, T4b N0 IIIC
        return "IIIA" if s.t_sub == "a" else "III"
    if s.n == 2:
        return "IIIB" if s.t == 3 else "IIIA"
    if s.n == 1:
        return "IIIA" if s.t == 3 else "IIB"
    if code is None:  # N0: the group depends on the type
        return None
    grade = s.case.read("grade")
    undifferentiated = grade == "G4" or _within(code, (_UNDIFFERENTIATED,))
    high = undifferentiated or grade in ("G3", "High Grade")
    if undifferentiated or _within(code, _SQUAMOUS):  # staged as a (G3) squamous carcinoma
        if s.t == 1:
            return "IB" if high or grade == "G2" else None if grade == "Low Grade" else "IA"
        if grade == "Low Grade":  # G1 or G2, which part the squamous table apart
            return None
        upper = str(s.case.read("primary_site"))[:5] in ("C15.0", "C15.3", "C15.4")
        if high or grade == "G2":
            return "IIB" if upper else "IIA"
        return "IIA" if upper else "IB"
    if s.t == 3:
        return "IIB"
    if s.t == 1:
        return "IB" if high else "IA"
    return "IIA" if high else "IB"


def _cardia(s: _TNM) -> str | None:
    """The cardia and oesophagogastric junction (C16.0): AJCC 7 stages a tumour there with the
    oesophagus's table where it extends into the junction or the oesophagus, else with the
    stomach's, which the report seldom says; so the stage both give, else the main group both give,
    else None."""
    s.case.read("primary_site")
    stomach, oesophagus = _stomach(s), _oesophagus(s)
    if stomach == oesophagus:
        return stomach
    if stomach and oesophagus and main_group(stomach) == main_group(oesophagus):
        return main_group(stomach)
    return None


def _thyroid_kind(case: _Case) -> str | None:
    code = case.morphology()
    if _within(code, (_UNDIFFERENTIATED,)):
        return "anaplastic"
    if code in _THYROID_MEDULLARY:
        return "medullary"
    return "differentiated" if _within(code, _THYROID_DIFFERENTIATED) else None


def _thyroid(s: _TNM) -> str | None:
    """AJCC 7 thyroid by the histologic type: an anaplastic carcinoma is stage IV (IVA at T4a, IVB at
    T4b); a medullary one, or a papillary or follicular one at 45 years or more, by T and N (N1a
    against N1b by station, so a bare N1 decides only at T4); a papillary or follicular one under 45
    years is stage I. The age is the `age_years` field (`report_result` adds the caller's, else the
    report's own "52-year-old"); without it a differentiated carcinoma is staged only at T1 N0
    (stage I at any age)."""
    kind = _thyroid_kind(s.case)
    if kind is None:
        return None
    if kind == "anaplastic":
        return {"a": "IVA", "b": "IVB"}.get(s.t_sub, "IV") if s.t == 4 else "IV"
    if kind == "differentiated":
        age = s.case.read("age_years")
        if age is not None and float(age) < 45:
            return "I"
        if age is None:
            return "I" if s.t == 1 and s.n == 0 else None
    if s.t == 4:
        return {"a": "IVA", "b": "IVB"}.get(s.t_sub, "IV")
    if s.n:
        return {"a": "III", "b": "IVA"}.get(s.n_sub)
    if s.t == 3:
        return "II" if kind == "medullary" else "III"
    return {1: "I", 2: "II"}[s.t]


def _uterus(s: _TNM) -> str | None:
    """Corpus uteri (C54, C55): the FIGO stages, whose letters are the T's. A carcinoma's (and a
    carcinosarcoma's) T1c, T2a or T2b is the AJCC 6 (FIGO 1988) scheme, whose stage is then given with
    that edition; in AJCC 7 its pelvic N1 is IIIC1 and para-aortic N2 IIIC2; a sarcoma's N1, a count of
    positive nodes without a stated N, or an AJCC 6 N1 is IIIC."""
    code = s.case.morphology()
    sarcoma = _within(code, _UTERINE_SARCOMA)
    if not sarcoma and (s.t, s.t_sub) in ((1, "c"), (2, "a"), (2, "b")):
        s.case.edition = "AJCC 6"
    if s.t == 4:
        return "IVA"
    if s.n:
        if sarcoma or code is None or s.n_counted or s.case.edition == "AJCC 6":
            return "IIIC"
        return "IIIC1" if s.n == 1 else "IIIC2"
    return _figo(s)


def _ovary(s: _TNM) -> str | None:
    """Ovary (C56): the FIGO stages, whose letters are the T's; any regional node is IIIC."""
    if s.t == 4:  # no T4 at the ovary: its stage IV is the M1
        return None
    if s.n:
        return "IIIC"
    return _figo(s)


def _figo(s: _TNM) -> str:
    """The FIGO stage whose numeral and letter are the T's (T1c -> IC), at N0 M0."""
    return _ROMAN[s.t] + (s.t_sub.upper() if s.t_sub in ("a", "b", "c") else "")


_TABLES = {
    **dict.fromkeys(_COLORECTUM, _colorectum),
    **dict.fromkeys(_HEAD_AND_NECK, _head_and_neck),
    "C34": _lung,
    "C64": _kidney,
    "C67": _bladder,
    "C65": _upper_urinary_tract,
    "C66": _upper_urinary_tract,
    "C50": _breast,
    "C22": _liver,
    "C61": _prostate,
    "C25": _pancreas,
    "C16": _stomach,
    "C53": _cervix,
    "C15": _oesophagus,
    "C73": _thyroid,
    "C54": _uterus,
    "C55": _uterus,
    "C56": _ovary,
}
