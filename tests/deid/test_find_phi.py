from __future__ import annotations

import pytest

from nlp_engine.deid import find_phi


def found(text: str) -> list[tuple[str, str]]:
    return [(s.label, text[s.start : s.end]) for s in find_phi(text)]


@pytest.mark.parametrize(
    "text, value",
    [
        ("Seen on 7/22 for follow up.", "7/22"),
        ("Admitted 07/22/2019 via ED.", "07/22/2019"),
        ("Surgery on July 22nd, 2019 went well.", "July 22nd, 2019"),
        ("Biopsy 22-Jul-19 showed carcinoma.", "22-Jul-19"),
        ("Follow up 2019-07-22.", "2019-07-22"),
        ("Echo 8/87 showed EF 20%.", "8/87"),
        ("s/p MI in 1992.", "1992"),
        ("s/p CABG '95.", "95"),  # the digits are the year; the apostrophe stays as written
        ("Drawn on the 11th.", "11th"),
        ("Treated in March of 1993.", "March of 1993"),
        ("Home for Christmas.", "Christmas"),
    ],
)
def test_dates_in_every_format(text: str, value: str) -> None:
    assert ("DATE", value) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Give 1/2 amp of D50.",
        "On PSV 10/5 overnight.",
        "Pain 3/10 at rest.",
        "RR 14-19, HR 80-90.",
        "BP 120/80, murmur 2/6.",
        "Glucose 1992 mg/dl is a typo but not a date.",
        "Pt. currently on 10/5/50%. Tolerating settings.",  # PS / PEEP / FiO2
        "Vent changed to CPAP .5% 5/5. Anticipate extubation.",
        "Cpap with flowby 6/2. Spont vols 500.",
        "Pt c/o 3/10 low back pain.",
        "Returned to cpap/ps 10/5 c 40% fio2.",
        "BP 84/40 at 2000, up to 91/50 at 2030.",  # 24-hour times, not years
        "Night shift 1900-0700 uneventful.",
        "PSV increased to 10/5 overnight to rest.",  # a ventilator word earlier in the clause
        "On weaning trial 5/5, VTs 400s.",
        "Had 8/10 CP, resistant to IV morphine.",
    ],
)
def test_clinical_numbers_are_not_dates(text: str) -> None:
    assert [label for label, _ in found(text) if label == "DATE"] == []


@pytest.mark.parametrize(
    "text, label, value",
    [
        ("Call 410-322-1419 with results.", "PHONE", "410-322-1419"),
        ("Pager: #54321", "PHONE", "54321"),
        ("Fax (410) 555-0134 today.", "PHONE", "(410) 555-0134"),
        ("Email jsmith@example.com for records.", "EMAIL", "jsmith@example.com"),
        ("See https://portal.example.org/x?id=1 for images.", "URL", "https://portal.example.org/x?id=1"),
        ("Device at 10.0.12.7 reported.", "IP", "10.0.12.7"),
        ("MRN: 1234567", "ID", "1234567"),
        ("Accession S19-12345 received.", "ID", "S19-12345"),
        ("SSN 123-45-6789 on file.", "SSN", "123-45-6789"),
        ("Pacemaker serial # PX88213 checked.", "ID", "PX88213"),
        ("98 yo gentleman s/p fall.", "AGE", "98"),
        ("Lives at 19 Clover St. with wife.", "ADDRESS", "19 Clover St."),
        ("Mail to Baltimore, MD 21201 please.", "ZIP", "21201"),
    ],
)
def test_structured_phi(text: str, label: str, value: str) -> None:
    assert (label, value) in found(text)


def test_ages_under_90_are_not_phi() -> None:
    assert found("72 yo woman with CHF.") == []


@pytest.mark.parametrize(
    "text, names",
    [
        ("Discussed with Dr. Healey and dr vasquez.", ["Healey", "vasquez"]),
        ("MR. EDWIN PRZYBYLO is an 83 yr old male.", ["EDWIN PRZYBYLO"]),
        ("Husband Rich Martino in to visit.", ["Rich Martino"]),
        ("Spoke with daughter Thelma by phone.", ["Thelma"]),
        ("Patricia Nolan, RN", ["Patricia Nolan"]),
        ("DAN A. FORMAN-LYONS, RRT", ["DAN A. FORMAN-LYONS"]),
        ("Drs Ferullo and Saeed in to see pt.", ["Ferullo", "Saeed"]),
        ("proxy is granddaughter: Irene Czyzewicz", ["Irene Czyzewicz"]),
    ],
)
def test_names_by_context(text: str, names: list[str]) -> None:
    assert [value for label, value in found(text) if label == "NAME"] == names


def test_names_that_are_words_need_context() -> None:
    # Will, Hope and Brown are names after a title, words elsewhere
    assert found("Will return tomorrow. There is hope. Brown sputum.") == []
    assert [v for label, v in found("Seen by Dr. Will Brown and Ms. Hope.") if label == "NAME"] == [
        "Will Brown",
        "Hope",
    ]
    assert found("MS: alert and oriented. Pt seen by PT today.") == []


def test_eponyms_and_clinical_shorthand_are_not_names() -> None:
    text = (
        "Prostatic adenocarcinoma, Gleason score 3+4=7. Hodgkin lymphoma. R radial Aline placed, wean Levo."
    )
    assert [label for label, _ in found(text) if label == "NAME"] == []


def test_places() -> None:
    assert ("LOCATION", "Calvert") in found("Transferred from Calvert Hospital on 7/23.")
    assert ("LOCATION", "Sacred Heart Memorial") in found("D/c'd to Sacred Heart Memorial today.")
    assert ("LOCATION", "St. Mary's") in found("Will transfer to St. Mary's tomorrow.")
    assert ("LOCATION", "Catonsville") in found("Pt married, lives in Catonsville with husband.")
    assert ("LOCATION", "GH") in found("Pt was transferred to GH on 7/23.")
    assert [
        label for label, _ in found("CV: NSR to ST. BP stable. Transferred to ICU.") if label == "LOCATION"
    ] == []


def test_upper_case_notes_and_placeholders_do_not_break_it() -> None:
    upper = (
        "RESP CARE: PT RECEIVED ON SIMV 14. Q. LANDER RRT\nSPOKE WITH DR RIZZO. DAUGHTER VERONICA IS PROXY."
    )
    names = [v for label, v in found(upper) if label == "NAME"]
    assert names == ["Q. LANDER", "RIZZO", "VERONICA"]
    placeholders = "Pt **NAME[AAA, BBB] seen [** 2019-07-22 **] by [**Doctor Last Name 123**]."
    spans = find_phi(placeholders)
    assert all(0 <= s.start < s.end <= len(placeholders) for s in spans)


def test_numbers_everywhere_and_long_notes() -> None:
    table = "\n".join(
        f"{i:02d}:00 HR {80 + i} BP {110 + i}/{60 + i} SpO2 9{i % 10}% K 4.{i % 10}" for i in range(24)
    )
    assert [label for label, _ in found(table) if label not in ("DATE",)] == []
    long_note = ("Seen by Dr. Healey on 7/22. Denies chest pain. " * 20000)[:900_000]
    spans = find_phi(long_note)
    assert len(spans) >= 2 * 18000 and spans[-1].end <= len(long_note)


def test_bytes_in_other_encodings() -> None:
    text = "Seen by Dr. Müller on 7/22 at the café."
    assert found(text.encode("cp1252").decode("cp1252")) == [("NAME", "Müller"), ("DATE", "7/22")]
    assert [(s.label, s.start) for s in find_phi(text.encode("cp1252"))] == [("NAME", 12), ("DATE", 22)]


@pytest.mark.parametrize(
    "text, label, value",
    [
        ("Plan: will transfer to Quartermain 2 today.", "LOCATION", "Quartermain"),
        ("PT IS 80 YO WOMAN ADMITTED TO QUARTERMAIN7 W/ CHF.", "LOCATION", "QUARTERMAIN7"),
        ("Elevations on EKG, medflight to GH for emergent cath.", "LOCATION", "GH"),
        ("TAKEN TO LAUREL REGIONAL WHERE CK'S WERE POSITIVE.", "LOCATION", "LAUREL REGIONAL"),
        ("Insulin drip following U Maryland scale.", "LOCATION", "U Maryland"),
        ("BP DROPPED. NP DJURIC MADE AWARE.", "NAME", "DJURIC"),
        ("Wean to extubate per dr williams-nuzzo tonight.", "NAME", "williams-nuzzo"),
        ("KEEP ROMERO FAMILY AWARE OF PLAN OF CARE.", "NAME", "ROMERO"),
        ("Spoke w/ physicians Dr. Foley. Remains full code.", "NAME", "Foley"),
        ("PMH: CABG 81, Redo CABG 84, HTN.", "DATE", "84"),
        ("HAD TREATMENTS 10/03/10/04 AND DUE FOR XRT.", "DATE", "10/03/10/04"),
        ("son and grandson visited today.(301 273 45166) both", "PHONE", "301 273 45166"),
    ],
)
def test_wards_hospital_initials_and_cued_names(text: str, label: str, value: str) -> None:
    assert (label, value) in found(text)


@pytest.mark.parametrize(
    "text, not_phi",
    [
        ("RESP: O2 AT 2L NP WITH SATS 96%.", "L"),  # nasal prongs, not a nurse practitioner's name
        ("BILATERAL EXPIRATORY WHEEZES. JON DEVAUX RRT", "WHEEZES"),  # a full stop ends the name
        ("Psych consult from Dr. Vasquez. Await PT eval.", "Await"),
        ("Monitor for changes in MS. Aspiration precautions.", "Aspiration"),
        ("pt c/o CP, 5/10, ECG done.", "5/10"),  # a pain score
        ("SETTINGS-40%, TV 400'S, RR 14-19, & 5/10. SATS OK.", "5/10"),  # ventilator settings
        ("A. SEPSIS | P. ANTIBX AS ORDERED", "ANTIBX"),  # SOAP letters are not initials
        ("ON COUMADIN 5MG QD, PROPOFOL 10 MCG/KG/MIN.", "COUMADIN"),  # a drug and its dose, not a ward
        ("HOB 30'. AMBULATED 30' WITH 2 ASSIST.", "30"),
    ],
)
def test_clinical_text_that_looks_like_phi(text: str, not_phi: str) -> None:
    assert not any(not_phi in value.split() or value == not_phi for _, value in found(text)), found(text)


def test_history_years_need_a_history_line_and_an_event() -> None:
    assert ("DATE", "94") in found("PMHX CVA in 94 and 00 affected (R) side.")
    assert not [v for _, v in found("hx of MI in his 30s, CA 19-9 pending.") if v in ("30", "19")]
    assert not [v for _, v in found("HR 81, BP 120/70 on arrival.") if v == "81"]


def test_a_full_date_near_a_ventilator_setting_is_still_a_date() -> None:
    # the pain-score and ventilator context only ever excuses a bare m/d, never a date with a year
    assert ("DATE", "7/22/2019") in found("On TV 400, seen 7/22/2019 in clinic.")


@pytest.mark.parametrize(
    "text, label, value",
    [
        (
            "Seen with Lopie Certusi cell" + " \n" * 20_000 + "410-322-14; cell 410-322-1419",
            "PHONE",
            "410-322-1419",
        ),
        ("Call pager" + " \n" * 20_000 + "4567 if needed.", "PHONE", "4567"),
        ("MRN" + " \n" * 20_000 + "1234567", "ID", "1234567"),
        ("Zip code" + " \n" * 40_000 + "unknown; zip 02139", "ZIP", "02139"),
    ],
)
def test_a_cue_before_a_long_run_of_blanks_is_read_in_linear_time(text: str, label: str, value: str) -> None:
    """A phone, pager, ID or ZIP label with a long run of blanks after it: the optional marks between
    runs of blanks (`\\s*#?\\s*[:\\-]?\\s*`, `(?:\\s*#|[\\s:#])*`, `\\s*:?\\s*`) tried every split of
    the run (from 40 s to hours for these texts); each run is now read once and the number is found."""
    assert (label, value) in found(text)
