"""Pattern detectors for structured PHI: dates, phone and pager numbers, e-mail, URLs, IP addresses,
identifiers (MRN, accession, specimen, SSN), ages over 89, ZIP codes, street addresses, and
facility names. Each yields `(start, end, label)`; names and free locations are `names.py`'s job.

Labels: DATE, PHONE, EMAIL, URL, IP, ID, SSN, AGE, ZIP, ADDRESS, LOCATION, NAME.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH_NUM = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:(?:19|20)\d{2}|'?\d{2})"
_ORD = r"(?:st|nd|rd|th)?"

DATE_PATTERNS = [
    # 7/22, 07/22/2019, 9/3/97, 7-22-2019, 7.22.19 (day <= 31, month <= 12; not a fraction of a dose)
    rf"(?<![\d/.])(?<!\d-){_MONTH_NUM}/{_DAY}(?:/(?:(?:19|20)\d{{2}}|\d{{2}}))?(?![\d/]|\.\d|-\d)",
    # month/two-digit year where the year cannot be a day: 8/87, 11/92
    rf"(?<![\d/.])(?<!\d-){_MONTH_NUM}/[3-9]\d(?![\d/])",
    # "the 11th", "March of 1993", month names alone (not "may" or "march", which are also words)
    r"(?<=\bthe\s)(?:[12]?\d|3[01])(?:st|nd|rd|th)\b",
    rf"\b{_MONTHS}\s+of\s+(?:19|20)\d{{2}}\b",
    r"\b(?:january|february|april|june|july|august|september|october|november|december|sept\.)(?!\w)",
    rf"(?<![\d/.\-]){_MONTH_NUM}-{_DAY}-(?:(?:19|20)\d{{2}}|\d{{2}})(?![\d\-])",
    rf"(?<![\d.]){_MONTH_NUM}\.{_DAY}\.(?:(?:19|20)\d{{2}}|\d{{2}})(?![\d.])",
    # two dates run together, "TREATMENTS 10/03/10/04"; a year after a dot, "11/21.93"
    rf"(?<![\d/.]){_MONTH_NUM}/{_DAY}/{_MONTH_NUM}/{_DAY}(?![\d/])",
    rf"(?<![\d/.]){_MONTH_NUM}/{_DAY}\.\d{{2}}(?![\d/.])",
    # "returned to OR on 7-8 for coiling": month-day after "on", not a range of litres or doses
    rf"(?<=\bon\s){_MONTH_NUM}-{_DAY}(?![\d\-])(?=\s+(?:for|to|at|and|with|when|after|in)\b|[,.;)])",
    # the 1980s
    r"(?<!\d)(?:19|20)\d0'?[sS]\b",
    # 2019-07-22
    r"(?<!\d)(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?!\d)",
    # July 22nd, 2019 / Jul 22 / July 2019
    rf"\b{_MONTHS}\.?\s+{_DAY}{_ORD}(?:,?\s+(?:19|20)\d{{2}})?\b",
    rf"\b{_MONTHS}\.?,?\s+(?:19|20)\d{{2}}\b",
    # 22nd of July 2019 / 22 July / 22-Jul-19
    rf"\b{_DAY}{_ORD}\s+(?:of\s+)?{_MONTHS}\b\.?(?:,?\s+(?:19|20)\d{{2}})?",
    rf"\b{_DAY}-{_MONTHS}-{_YEAR}\b",
    # month/year: 8/87, 10/2019
    rf"(?<![\d/.]){_MONTH_NUM}/(?:(?:19|20)\d{{2}})(?![\d/])",
    # holidays and named days that date a note
    r"\b(?:christmas|thanksgiving|easter|new year'?s(?: day| eve)?|halloween|memorial day|labor day|"
    r"independence day|july 4th|fourth of july)\b",
]
# Years alone: 1992, 2004, '92, 92' (two-digit years only with the apostrophe).
YEAR_PATTERNS = [
    r"(?<![\d.\-/])(?:19[0-9]{2}|20[0-4][0-9])(?!\d|[.\-/]\d|\s*(?:mg|mcg|ml|cc|units?|kcal|g)\b)",
    r"(?<![\w'])'(?P<value>\d{2})\b",  # the year is the digits: the apostrophe stays as written
    # "CVA 74'", not a range or a distance: "70-80'", "HOB 30'", "AMBULATED 30'"
    r"(?i)(?<![\d\-])(?<!\bhob\s)(?<!\bx\s)(?<!ambulated\s)(?<!walked\s)\b(?P<value>\d{2})'(?!\w)",
]
PHONE_PATTERNS = [
    # a number in parentheses with its digits grouped oddly: "(240444-1243)", "(301 273 45166)"
    r"(?<=\()\d{3}[\s.\-]?\d{3}[\s.\-]?\d{4,5}(?=\))",
    r"(?<!\d)(?<!\d-)(?:\+?1[\s.\-])?\(?\d{3}\)?[\s.\-]?\d{3}[\s.\-]\d{4}(?![\d\-])(?:\s*(?:x|ext\.?)\s*\d{1,5})?",
    r"(?i:\b(?:pager|beeper|pg|page|cell|phone|tel|fax|home|work|office|ph|call)\b\.?(?:[\s:#]|no\.?|number)*)"
    r"(?P<value>\d{3}[\s.\-]\d{4}|\d{4,7})(?!\d)",
]
EMAIL = r"\b[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+\b"
URL = r"\b(?:https?://|www\.)[^\s<>\"')]+"
IP = r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])"
SSN = r"(?<![\d\-])\d{3}-\d{2}-\d{4}(?![\d\-])"
ID_PATTERNS = [
    # MRN: 1234567, Acct #: A12345, Accession S19-12345, Policy #rg17, ref # 8336652, unit no 123
    r"(?i:\b(?:mrn|mr\s*#|medical\s+record(?:\s+(?:number|no\.?))?|acct|account|accession|specimen|"
    r"ref(?:erence)?|policy|unit\s*(?:no|number)|encounter|requisition|ssn|"
    r"social\s+security(?:\s+number)?|identifier|device|serial|license|insurance|member)\b\.?\s*(?:(?:#|no\.?|number)\s*)?(?:[:#]\s*)?)"
    r"(?P<value>(?=[\w\-]*\d)[A-Za-z]{0,4}[\-]?\d[\w\-]{2,})",
    # specimen / accession numbers: S19-12345, CH19-1234
    r"\b[A-Z]{1,3}\d{2}-\d{4,8}\b",
    r"#\s?(?P<value>(?=[\w\-]*\d)[A-Za-z]{1,4}\d{2,}|\d{6,})\b",
    # card and account numbers: 13-19 digits, alone or in groups of four
    r"(?<![\d\-])(?:\d{4}[ \-]){3}\d{1,7}(?![\d\-])",
    r"(?<![\d.\-])\d{9,19}(?![\d.\-])",
]
# "My name is Stephan Fenstermacher", "Name: Teresa Kreutzmann"
NAME_INTRO = r"(?:(?i:\bmy name is|\bname\s*:|\bnamed|\bi am|\bi'm|\bthis is)\s+)(?P<value>[A-Z][a-z][\w'\-]*(?:\s+[A-Z][a-z][\w'\-]*){0,2})"
AGE_PATTERN = (
    r"(?i)(?<![\d.])(?P<value>9\d|1[0-2]\d)(?:\s*|-)(?=(?:yo|y/o|y\.o\.?|y\.?\s?o\b|yr|yrs|year|years|"
    r"-year|y(?=\s)|m\b|f\b|male|female|man|woman|gentleman|lady|s/p)\b)"
)
ZIP = r"(?<=[a-z],\s[A-Z]{2}\s)\d{5}(?:-\d{4})?\b|(?i:\bzip(?:\s*code)?\s*(?::\s*)?)(?P<value>\d{5}(?:-\d{4})?)\b"
STREET_SUFFIX = (
    r"(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|ter|"
    r"circle|cir|highway|hwy|parkway|pkwy|square|sq)"
)
# "19 Clover St.", "1200 N. Charles Street Apt 4": capitalised words before the suffix (a suffix in
# full when the note is all capitals, where "CT" and "DR" are a scan and a doctor).
ADDRESS = (
    rf"\b\d{{1,6}}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-z'\-]+\s+){{1,3}}(?i:{STREET_SUFFIX})\b\.?"
    r"(?:\s*(?:Apt|Unit|Suite|#)\.?\s*\w+)?"
    r"|\b\d{1,6}\s+(?:[A-Z][A-Z'\-]+\s+){1,3}(?:STREET|AVENUE|ROAD|BOULEVARD|LANE|DRIVE|COURT|TERRACE|PLACE|HIGHWAY)\b"
)
FACILITY = (
    r"(?i:\b(?:[a-z][a-z'\-&]*\s+){1,3}"
    r"(?:hospital|hosp|medical\s+center|med\s+ctr|health\s+center|clinic|nursing\s+home|rehab(?:ilitation)?\s+center|"
    r"infirmary|sanitarium|hospice|medical\s+group|manor|memorial|regional|rehab)\b)"
    r"|\b(?:St\.|ST\.|Saint|SAINT)\s+[A-Z][A-Za-z\-]+(?:'[sS])?"
)


def _compile(patterns: list[str], flags: int = re.IGNORECASE) -> list[re.Pattern[str]]:
    return [re.compile(p, flags) for p in patterns]


_DETECTORS: list[tuple[str, list[re.Pattern[str]]]] = [
    ("EMAIL", _compile([EMAIL])),
    ("URL", _compile([URL])),
    ("IP", _compile([IP], 0)),
    ("SSN", _compile([SSN], 0)),
    ("PHONE", _compile(PHONE_PATTERNS, 0)),
    ("DATE", _compile(DATE_PATTERNS)),
    ("DATE", _compile(YEAR_PATTERNS, 0)),
    ("ID", _compile(ID_PATTERNS, 0)),
    ("AGE", _compile([AGE_PATTERN], 0)),
    ("ZIP", _compile([ZIP], 0)),
    ("ADDRESS", _compile([ADDRESS], 0)),
    ("LOCATION", _compile([FACILITY], 0)),
    ("NAME", _compile([NAME_INTRO], 0)),
]
# Facility words that are not names of a place when alone after "the"/"to" etc.
_GENERIC_FACILITY_HEADS = re.compile(
    r"(?i)^(?:the|this|that|a|an|to|at|from|in|of|and|or|for|with|by|via|home|outside|other|same|another|"
    r"his|her|their|our|your|local|nearby|previous|prior|transferred|transfer|admitted|discharged)\b"
)


_FACILITY_HEADS = re.compile(
    r"(?i)^(?:hospital|hosp|hospiatal|medical|center|med|ctr|health|clinic|nursing|home|rehabilitation|"
    r"infirmary|sanitarium|hospice|healthcare|group|manor)\.?$"
)


# Words that are part of a hospital's name however they are written ("from Sacred Heart memorial",
# "TRANSFERED FROM MEMORIAL HOSPITAL", "TAKEN TO LAUREL REGIONAL")
_FACILITY_NAME_WORDS = frozenset(
    """memorial general regional union university county adventist baptist methodist presbyterian
    lutheran mercy veterans children's""".split()
)


_FRACTIONS = frozenset(["1/2", "1/3", "2/3", "1/4", "3/4"])
# m/d without a year is a setting, a score or a ratio after these words or before these units
_SETTING_BEFORE = re.compile(
    r"(?i)(?:\b(?:psv|ps|peep|cpap|bipap|simv|imv|pain|q|ratio|score|strength|grade|murmur|sem|gtt|drip|"
    r"flowby|c/o)|(?<![a-z])x|@|\+|%)[\s,]*$"
)
# a weaning word a few words before: "weaning trial 5/5", "vent changed to 10/5" (not "vent via
# trach, placed 8/14": other words between make it a date again; setting names: `_VENT_BEFORE`)
_SETTING_CLAUSE = re.compile(
    r"(?i)\b(?:vent\w*|trial|weaning|mask)\b"
    r"(?:[\s,]+(?:increased|decreased|changed|weaned|back|down|up|to|on|of|at|trial|with|now|settings?))*[\s,]*$"
)
# units, scores and ventilator settings just after: "5/10 pain", "10/5 PEEP", "5/5 IPS/CPAP",
# "(10/5) c 40% fio2"
_SETTING_AFTER = re.compile(
    r"(?i)\)?\s*(?:%|pain|str\b|strength|way|amps?\b|hours?\b|hrs?\b|ns\b|\+|sem|murmur|peep|cm|fio2|"
    r"cp\b|bi-?pap|cpap|psv|i?ps\b|vent|[,\s]*(?:c|w|with)?\s*\d{2,3}\s*%)"
)


# a four-digit 24-hour time where a year could stand: "at 2000", "@ 1930", "1900-0700"
_TIME_BEFORE = re.compile(r"(?i)(?:\b(?:at|by|until|til|around|approx|aprox|due)|@|~|->|\d{4}\s?-)\s*$")
_TIME_AFTER = re.compile(r"(?i)\s?(?:-|->|to)\s?\d{4}\b|\s*(?:hrs?|h)\b")
# a pain score: "c/o CP, 5/10", "chest pressure 6/10", "HAD 3/10 INCISIONAL PAIN"
_PAIN_BEFORE = re.compile(
    r"(?i)\b(?:pain|cp|c/o|discomfort|pressure|angina|ache|headache|h/a|rated|severe)\b[^.\n]{0,20}$|#$"
)
_PAIN_AFTER = re.compile(r"(?i)\s*(?:\w+\s+)?(?:pain|angina|discomfort|cp)\b")
# ventilator settings: a setting's name earlier in the same sentence (not "vent" or "extubated", which
# are events with dates: "vent via trach (placed 8/14)") ("SETTINGS-40%, TV 400'S, RR 14-19,
# & 5/10", "cpap/ps mode decreased to 8/5"); a setting just after is `_SETTING_AFTER`
_VENT_BEFORE = re.compile(
    r"(?i)\b(?:cpap|bi-?pap|ps|ips|psv|peep|simv|imv|a/c|settings|tv|fio2)\b[^.\n]{0,40}$"
)


def _not_a_date(text: str, start: int, end: int) -> bool:
    value = text[start:end]
    if re.fullmatch(r"(?:[01]\d|2[0-3])[0-5]\d", value) and (
        _TIME_BEFORE.search(text[max(0, start - 12) : start]) or _TIME_AFTER.match(text, end)
    ):
        return True
    if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{2}", value) and text[end : end + 1] == "%":
        return True  # ventilator settings "10/5/50%": pressure support / PEEP / FiO2
    if not re.fullmatch(r"\d{1,2}/\d{1,2}", value):
        return False
    if value.endswith("/10") and (
        _PAIN_BEFORE.search(text[max(0, start - 30) : start]) or _PAIN_AFTER.match(text, end)
    ):
        return True
    return (
        value in _FRACTIONS
        or bool(_VENT_BEFORE.search(text[max(0, start - 50) : start]))
        or bool(_SETTING_BEFORE.search(text[max(0, start - 12) : start]))
        or bool(_SETTING_CLAUSE.search(text[max(0, start - 25) : start]))
        or bool(_SETTING_AFTER.match(text, end))
    )


def _facility_name(text: str, start: int, end: int, mixed: bool) -> tuple[int, int] | None:
    """The name part of a facility hit: walking back from "Hospital", the words that look like a
    name (capitalised in a mixed-case note; rare and not medical otherwise)."""
    from .lexicon import lexicons, zipf
    from .names import medical_words

    words = list(re.finditer(r"[\w'\-&.]+", text[start:end]))
    if re.match(r"(?i)(?:st|saint)\b", words[0].group()):
        # St. Mary's, St. Agnes: a saint's name, not "ST. ABGs" (sinus tachycardia, then a new sentence)
        saint = re.sub(r"(?i)'s$", "", words[-1].group()).lower()
        return (start, end) if saint in lexicons().first or words[-1].group().lower().endswith("'s") else None
    while words and _FACILITY_HEADS.match(words[-1].group()):
        words.pop()
    kept: list[re.Match[str]] = []
    for word in reversed(words):
        w = word.group()
        low = w.lower().strip(".")
        looks = (w[:1].isupper() if mixed else (zipf(low) < 4.0 and low not in medical_words())) or (
            low in _FACILITY_NAME_WORDS or low in lexicons().cities
        )
        if not looks or _GENERIC_FACILITY_HEADS.match(w):
            break
        kept.insert(0, word)
    if not kept or all(k.group().lower() == "rehab" for k in kept):
        return None  # "Baltimore Rehab" is a place; "TO REHAB" is not
    return start + kept[0].start(), start + kept[-1].end()


# Two-digit years in a past history: "PMH: CABG 81, Redo CABG 84, MI 81", "PMHX CVA in 94 and 00". Only
# on a history line, only after an event or "in", never after a vital sign or a lab.
_HISTORY_LINE = re.compile(r"(?im)^.*\b(?:pmh\w*|past\s+medical|p?hx|history)\b.*$")
_HISTORY_YEAR = re.compile(
    r"(?i)\b(?:mi|cabg|cva|tia|ptca|pci|stent|avr|mvr|dvt|pe|aaa|turp|cea|ca|chf|afib|surgery|repair|"
    r"replacement|resection|\w+ectomy|\w+plasty|in)\s+(?P<years>(?:19|20)?\d{2}(?:\s*(?:,|and|&)\s*\d{2}(?!\d))*)"
    r"(?!\d|-|'?s\b|\s*(?:%|mg|mcg|units?|cm|mm|hrs?|x\b|yo|y/o|years?|min|/|\.\d))"
)


def _history_years(text: str) -> Iterator[tuple[int, int, str]]:
    for line in _HISTORY_LINE.finditer(text):
        for match in _HISTORY_YEAR.finditer(line.group()):
            for year in re.finditer(r"\d{2,4}", match.group("years")):
                start = line.start() + match.start("years") + year.start()
                yield start, start + len(year.group()), "DATE"


def pattern_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """Every pattern hit in `text` as `(start, end, label)`; overlaps are resolved by the caller."""
    from .names import is_mixed_case

    mixed: bool | None = None
    for label, patterns in _DETECTORS:
        for pattern in patterns:
            for match in pattern.finditer(text):
                has_value = "value" in pattern.groupindex and match.group("value") is not None
                start, end = match.span("value") if has_value else match.span()
                if start == end:
                    continue
                if label == "DATE" and _not_a_date(text, start, end):
                    continue
                if label == "LOCATION":
                    if mixed is None:
                        mixed = is_mixed_case(text)
                    place = _facility_name(text, start, end, mixed)
                    if place is None:
                        continue
                    start, end = place
                yield start, end, label
    yield from _history_years(text)
