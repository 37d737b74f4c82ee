"""Synoptic extraction from surgical pathology reports, tolerant of OCR noise, with evidence.

Every field is either `{"value", "start", "end", "text"}` (the character span it was read from, into
the text as given: nothing is rewritten, so evidence offsets stay exact) or `None`. OCR noise is met
in the patterns instead of by rewriting: `em`/`crn`/`rnm` are read as `cm`/`mm` next to numbers,
words broken by a hyphen and a line end are matched across it, `0` and `O` are both zero in `N0`/`M0`
and `l`/`I` are a one in `pTla`/`pNl`.
The one exception: a synoptic label glued to the value before it ("LungTumor size:",
"AdenocarcinomaHistologic grade:") is read with a space put before it, and every span is mapped back
to the text as given.

When a report states a field more than once (frozen section, then final diagnosis, then synoptic),
the mention in the synoptic or final-diagnosis part wins, else the last one; the others are kept
under `alternatives` so a reviewer can see a contradiction rather than have it resolved silently.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any, TypeVar

from . import icdo
from .offsets import Offsets

Field = dict[str, Any] | None

FIELDS = (
    "histologic_type",
    "primary_site",
    "pT",
    "pN",
    "pM",
    "stage",
    "grade",
    "gleason",
    "grade_group",
    "tumor_size_mm",
    "margins",
    "closest_margin_mm",
    "lymph_nodes_positive",
    "lymph_nodes_examined",
    "lymphovascular_invasion",
    "perineural_invasion",
    "extranodal_extension",
    "laterality",
    "er",
    "pr",
    "her2",
    "ki67_percent",
    "psa_ng_ml",
    "mmr",
    "msi",
    "idh",
    "codeletion_1p19q",
    "mgmt",
)

# as OCR prints them: "em", "crn", "ern", "ctn" for cm; "rnm", "mrn", "nun" for mm
_CM = r"(?:cm|em|crn|ern|ctn|cin|c\.m\.)"
_MM = r"(?:mm|rnm|mrn|nun|nm)"
_NUM = r"\d+(?:[.,]\d+)?"
# Where a report states its conclusions: a mention after one of these headers wins.
_FINAL = re.compile(
    r"(?im)^[^\S\n]*(?:final\s+(?:pathologic(?:al)?\s+)?diagnosis|diagnosis|synoptic|summary|"
    r"(?:cancer|tumou?r)\s+(?:case\s+)?summary|pathologic\s+stag\w*|ajcc)\b"
)
# OCR's "l" or "I" for a 1 in a TNM category ("pTla", "pNl", "pNIb", "pTlbNx", "pTlbl"), and "i"
# before a subcategory letter ("pTia"; after one too, "pTlbi", and alone before the N, "Ti Nx Mx"):
# only where the category ends there (or the next one follows glued, in capitals), so "pTis" stays in
# situ
_OCR_ONE = r"(?:[lI](?=[a-d]?[12lI]?(?![a-z0-9])|[a-d]i(?![a-z0-9]))|i(?=[a-d][12lI]?(?![a-z0-9])))"
# ... and for the M, the last category, only where no letter follows ("pT2 MICROSCOPIC" is no M1)
_OCR_ONE_ALONE = r"[lI](?=[a-d]?(?![A-Za-z0-9]))"
_TNM = re.compile(
    # the prefix in capitals too ("TNM STAGE: PT3b Nx MX"), before a T with a digit and no second
    # digit after it ("PT 12.5 seconds" is a prothrombin time, "DESCRI PTION" a word, "PTa-T3" a range)
    rf"(?<![A-Za-z0-9])(?P<tt>(?P<prefix>[yrm]?p|(?P<caps>(?-i:[YR]?P))(?=\s?T\s?[0-4]))\s?T\s?(?P<t>(?:[0-4]|{_OCR_ONE})"
    rf"(?:(?:[a-d]|[ \t][a-d](?![a-z]))(?:[12lI]|i(?![a-z]))?)?(?:\(m\))?|is|a(?![A-Za-z0-9])|x|X))(?(caps)(?![0-9]))"
    # (in capitals, "PNI" is perineural invasion, not an OCR'd pN1)
    rf"(?:[\s,;/]*(?P<nt>(?:[yr]?p|(?-i:[YR])?P(?!\s?NI(?![a-z])))?\s?N\s?(?P<n>(?:[0-3O]|{_OCR_ONE})[a-c]?(?:\(mi\)|mi(?![a-z]))?"
    r"(?:\((?:sn|i[+-]|mol[+-])\))?|x|X)))?"
    rf"(?:[\s,;/]*(?P<mt>[pP]?\s?M\s?(?P<m>(?:[01O]|{_OCR_ONE_ALONE})[a-d]?|x|X)))?",
)
# Without the "p": a T followed by an N ("T3a NO MX", OCR "NO" for N0; "T1b2/N0/MX", "TIa/N0/MX" as
# templates write them), or after staging words.
_TNM_BARE = re.compile(
    rf"(?:(?<![A-Za-z0-9])|(?<=TNM))(?P<tt>T\s?(?P<t>(?:[0-4]|{_OCR_ONE}|i(?=[ \t]+N[xX0-3O]))(?:[a-d][12lI]?)?|is|x|X))"
    r"(?:,\s?NOS)?[\s,;./]*"  # "T2,NOS N0 M0" (a table's), "TNMT2b N1"
    rf"(?P<nt>p?N\s?(?P<n>(?:[0-3O]|{_OCR_ONE})[a-c]?|x|X))(?=[^A-Za-z0-9]|M|$)"  # "T3aN2MX": glued
    r"(?:[\s,;./]*(?P<mt>M\s?(?P<m>[01Ol][a-d]?|x|X))(?![A-Za-z0-9]))?"
)
# a bare TNM on a line that says it is clinical (the history's, the clinical stage) is no pT, unless
# the pathology's result follows ("Clinical diagnosis: ... Histopathology result: SCC T4a N1 MO")
_CLINICAL = re.compile(r"(?i)\bclinical(?:ly)?\b(?!.*patholog)")
_CLINICAL_REACH = 200  # characters before the TNM on its line: a megabyte line stays linear
_T_STAGED = re.compile(
    # ... or under a label: "AJCC Staging: Tlb", "Pathological T T2a"
    r"(?:(?i:tnm|stag\w*|edition\)?|extent\s+of\s+invasion|primary\s+tumou?r|patholog\w*\s+T)[^\n]{0,30}?"
    # ... or on the line below the heading ("PRIMARY TUMOR (T)\nTumor involves both lobes (T2c)")
    r"|(?i:primary\s+tumou?r)(?:\s*\(p?T\))?[ \t]*(?::[ \t]*)?\n[^\n]{0,50}?)"
    r"(?<![A-Za-z0-9])(?P<tt>T\s?(?P<t>[0-4l][a-d]?|is|x|X))(?![A-Za-z0-9])"
)
_N_ALONE = re.compile(
    rf"(?<![A-Za-z0-9])(?P<nt>[yr]?p\s?N\s?(?P<n>(?:[0-3O]|{_OCR_ONE})[a-c]?|x|X))(?![A-Za-z0-9])"
)
# Without the "p", under a label that says what it is ("Lymph Node Stage (AJCC 7th Edition):\n N1b")
_N_STAGED = re.compile(
    r"(?:(?i:lymph\s+node\s+stage|regional\s+lymph\s+nodes\s+\(p?N\))[^:\n]{0,30}:\s*"
    r"|(?i:patholog\w*\s+N|node\s+status)[ \t]*(?::[ \t]*)?"  # "Pathological N N2", "Node status N2 (8/28)"
    # on the label's line: "Regional Lymph Nodes: N0: No regional lymph node metastasis"
    r"|(?i:regional\s+lymph\s+nodes?|lymph\s+node\s+involvement)[ \t]*:[ \t]*"
    # ... or on the line below the heading ("REGIONAL LYMPH NODES (N)\nNo regional lymph node metastasis (N0)")
    r"|(?i:regional\s+lymph\s+nodes)(?:\s*\(p?N\))?[ \t]*(?::[ \t]*)?\n[^\n]{0,60}?)"
    rf"(?<![A-Za-z0-9])(?P<nt>N\s?(?P<n>(?:[0-3O]|{_OCR_ONE})[a-c]?|x|X))(?![A-Za-z0-9])"
)
_M_ALONE = re.compile(
    rf"(?<![A-Za-z0-9])(?P<mt>p\s?M\s?(?P<m>(?:[01O]|{_OCR_ONE_ALONE})[a-d]?|x|X))(?![A-Za-z0-9])"
)
_STAGE = re.compile(
    r"(?i)\b(?:ajcc\s+)?(?:pathologic(?:al)?\s+)?(?:tnm\s+)?stage(?:\s*group(?:ing)?)?\s*(?:[:\-]\s*)?"
    r"(?P<stage>IV|III|II|I|0)(?P<sub>[ABC][12]?)?(?![A-Za-z])"
)
# OCR's stage numerals ("Stage Ill A", "stage lA", "Stage 11B") and Arabic ones ("Pathologic stage:
# 1"): only with a substage letter or after "AJCC"/"pathologic"/"TNM" ("fibrosis stage 3" of a liver
# is no AJCC stage)
_OCR_NUMERAL = r"(?-i:[Il1|]{1,3}|[1-4])"
_STAGE_OCR = re.compile(
    r"(?i)(?:\b(?:ajcc|pathologic(?:al)?|tnm)\s+(?:pathologic(?:al)?\s+)?(?:tnm\s+)?stage(?:\s*group(?:ing)?)?\s*(?:[:\-]\s*)?"
    rf"(?P<n>{_OCR_NUMERAL})(?:[ \t]?(?P<sub>(?-i:[ABC])[12]?))?|\bstage(?:\s*group(?:ing)?)?\s*(?:[:\-]\s*)?"
    rf"(?P<n2>{_OCR_NUMERAL})[ \t]?(?P<sub2>(?-i:[ABC])[12]?))(?![A-Za-z0-9])"
)
_GRADE_G = re.compile(r"(?<![A-Za-z0-9])G\s?(?P<g>[1-4X])(?![0-9])")
_GRADE_WORD = re.compile(
    # "Fuhrman nuclear grade: 2/4", "HISTOLOGIC GRADE (FUHRMAN NUCLEAR GRADE) : 1 OF 4", "FUHRMAN
    # NUCLEAR GRADE IS Ill OF IV" (OCR's "l" for "I"), "Fuhrman grade: 214" (OCR's "1" for "/"),
    # "FUHRMAN GRADING OF 3/4", "Grade .2"
    # (a Gleason grade, "Gleason grade 3+4", is no tumour grade)
    r"(?i)(?<!gleason\s)\b(?:(?:histologic(?:al)?|nuclear|tumou?r|fuhrman|who/isup|isup)\s+)?grad(?:e|ing)"
    # (a dot only right before the digit: "Grade of tumor: High grade.\n3. Depth" is no grade 3)
    r"(?:\s*\([^()\n]{0,40}\))?(?:\s+(?:is|of))?\s*(?:[:\-]\s*|\.(?=[ \t]?[1-4](?![.\d]))[ \t]?)?"
    r"(?P<g>[1-4]|IV|III|II|I|(?-i:Ill|Il|lI|ll))(?:\s*(?:of|out\s+of|/|·|1(?=[34]\b))\s*(?:[34]|IV|III))?(?![A-Za-z0-9]|\s*\+)"
)
_DIFFERENTIATED = re.compile(
    r"(?i)\b(?P<d>well|moderately|poorly|un)[\s\-]*differentiated\b|\b(?P<hl>high|low)[\s\-]+grade\b"
)
# precursor lesions graded high/low that are not the tumour: "high-grade PIN", "low grade dysplasia"
_PRECURSOR = re.compile(
    r"(?i)[\s,]*(?:prostatic\s+|squamous\s+|glandular\s+)?(?:intra-?epithelial|dysplas\w*|pin\b|"
    r"h?sil\b|cin\b|vin\b|ain\b|adenoma\w*)"
)
_GLEASON = re.compile(
    r"(?i)gleason(?:'s)?(?:\s*(?:score|grade|sum|pattern))?\s*(?:[:=]\s*)?(?P<a>[1-5])\s*\+\s*(?P<b>[1-5])"
    r"(?:\s*=\s*(?P<s>[2-9]|10))?"
)
_GRADE_GROUP = re.compile(r"(?i)\bgrade\s+group\s*(?:[:\-]\s*)?(?P<g>[1-5])\b")
# a dimension as OCR prints it too: "4 .6", "0. 6", "2 ,5"
_DIMENSION = r"\d+(?:[ \t]?[.,][ \t]?\d+)?"
_SIZE = re.compile(
    rf"(?i)(?P<a>{_DIMENSION})\s*(?:(?:x|\*)\s*(?P<b>{_DIMENSION})\s*)?(?:(?:x|\*)\s*(?P<c>{_DIMENSION})\s*)?"
    rf"(?P<unit>{_CM}|{_MM})(?![a-z])"
)
_SIZE_CONTEXT = re.compile(
    r"(?i)(?:tumou?r\s+size|size\s+of\s+(?:the\s+)?tumou?r|greatest\s+(?:dimension|diameter)|"
    r"largest\s+(?:dimension|diameter)|tumou?r\s+measur\w*|(?:mass|tumou?r|lesion|nodule|carcinoma)[^.\n]{0,40}?measur\w*|"
    r"(?:maxim(?:um|al)|max\.?)\s+(?:tumou?r\s+)?(?:dimension|diameter|size|extent)|diameter\s+of\s+(?:the\s+)?tumou?r|"
    r"tumou?r\s+(?:diameter|dimensions?))"
)
# a size label about something else than the tumour, close before it: lymph nodes, fibroids, cysts,
# tissue pieces, or several things "ranging" in size
_OTHER_THING = re.compile(
    r"(?i)\b(?:lymph\s*nodes?|nodes|leiomyom\w*|fibroids?|cysts?|fragments?|pieces?|cores?|ranging|range)\b"
)
_CLAUSE_END = re.compile(r"[.:;](?=\s)")
# a category's definition in a checklist ("pT2: Tumor more than 2 cm but not more than 4 cm")
_SIZE_LIMIT = re.compile(r"(?i)(?:more|less|greater|larger|smaller)\s+than\s*$|[<>≤≥]\s*$")
# how far along its line a size label's value may be (a report printed as one line of thousands of
# labels stays linear)
_SIZE_REACH = 200
# a second size label this close after one on its line belongs to the same statement
_ONE_STATEMENT = 60
# what may stand between a size and the label after it that makes it the label's value ("2.3 cm in
# greatest dimension", "(1.7 cm maximum dimension)"); not "4 cm in length. Tumor measures"
_SIZE_BEFORE_GAP = re.compile(r"[ \t\r\n,]*(?:in|at\s+its)?[ \t\r\n]*", re.I)
_TUMOUR_NOUN = r"(?:mass|tumou?r|nodule|lesion|neoplasm)"
# a size right after a tumour noun ("mass 4.2 x 3.5 cm", "mass (10.7 x 7.8 x 2.1 cm)", "nodule, 1.2 cm",
# "carcinoma (1.1 CM)", "tumor measuring 3 cm"), unless a distance or depth follows it
_NOUN_THEN_SIZE = re.compile(
    rf"(?i)\b(?:{_TUMOUR_NOUN}|\w*carcinoma)[ \t]*(?:[,(:][ \t]*)?(?:measuring[ \t]+)?(?=\d)"
)
_NOT_A_SIZE = re.compile(
    r"(?i)[ \t]*(?:\)[ \t]*)?(?:from|to|into|away|beyond|deep|thick|in\s+(?:thickness|depth)|of\s+(?:the\s+)?margin)\b"
)
# a size right before one, across at most three describing words ("a 5 x 4 x 3 cm, lobulated, exophytic
# mass"); not "1.5 cm from the tumor" or "24 cm segment of colon with a mass"
_SIZE_THEN_NOUN = re.compile(
    r"(?i)(?:[ \t]*(?:,[ \t]*)?(?!(?:from|to|of|in|into|away|beyond|at|with|and|or|the|a|an|margin|length|"
    rf"segment|specimen|portion|piece|fragment)\b)[a-z\-]+){{0,3}}[ \t]*(?:,[ \t]*)?{_TUMOUR_NOUN}\b"
)
_MARGIN_NEG = re.compile(
    r"(?i)\bmargins?\b[^.\n]{0,40}?\b(?:free|negative|uninvolved|clear|not\s+involved|"
    r"free\s+of\s+(?:tumou?r|carcinoma|malignancy))\b|\b(?:negative|uninvolved|clear)\s+(?:\w+\s+)?margins?\b|"
    r"\bmargins?\s+(?:involved|positive)[ \t]*(?:[:\-][ \t]*)?(?:no|none)\b"  # a label answered "No"
)
_MARGIN_POS = re.compile(
    r"(?i)\bmargins?\b[^.\n]{0,40}?\b(?:positive|involved)\b(?<!not\sinvolved)(?![ \t]*(?:[:\-][ \t]*)?(?:no|none|not)\b)|"
    r"\b(?:positive|involved)\s+(?:\w+\s+)?margins?\b"
)
_MARGIN_DISTANCE = re.compile(
    rf"(?i)(?P<d>{_NUM})\s*(?P<unit>{_CM}|{_MM})\s+(?:away\s+)?(?:from|to)\s+(?:the\s+)?(?:[a-z/\-]+\s+){{0,3}}margin|"
    # the label before the distance: "closest margin, 0.6 cm", "Distance from closest margin: 2 mm",
    # "closest approach is 0.1 cm", "the clearance being 2.5 cm"
    r"(?:\b(?:closest|nearest)\s+(?:[a-z/\-]+\s+){0,2}(?:margin|approach)\w*|\bdistance\s+(?:of\s+[a-z ]{0,30}?)?"
    r"(?:from|to)\s+(?:the\s+)?(?:closest|nearest)\s+(?:[a-z/\-]+\s+){0,2}margin\w*|\bclearance)"
    rf"[^.\n\d<>]{{0,30}}?(?P<d2>{_NUM})\s*(?P<unit2>{_CM}|{_MM})(?![a-z])"
)
# (a count starts at its bracket or where a run of blanks starts: from inside a long run, each start
# would read the rest of the run again)
_NODES_FRACTION = re.compile(r"(?i)(?:\(|(?<!\s))\s*(?P<pos>\d{1,3})\s*/\s*(?P<tot>\d{1,3})\s*\)?")
# Counts written as words ("one of eleven lymph nodes"): OCR'd reports spell them out as often as not.
_NUMBER_WORDS = {
    word: n
    for n, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
} | {"no": 0, "none": 0, "all": -1, "both": 2, "single": 1}
_COUNT = r"\d{1,3}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_NODES_OF = re.compile(
    rf"(?i)\b(?P<pos>{_COUNT})\s+(?:\(\d{{1,3}}\)\s+)?(?:out\s+)?\(?of\s+(?P<tot>{_COUNT})\)?\s+(?:\(\d{{1,3}}\)\s+)?"
    r"(?:\w+\s+){0,3}?(?:lymph\s*)?nodes?\b"
)
# "metastatic carcinoma in one lymph node", "two lymph node metastases", "four lymph nodes demonstrated
# tumour metastases": a positive count without the number examined
_NODES_POSITIVE = re.compile(
    rf"(?i)\b(?:metasta\w*|carcinoma|tumou?r)\s+(?:\w+\s+){{0,3}}?(?:to|in|involving)\s+(?P<pos>{_COUNT})\s+"
    r"(?:\w+\s+){0,2}?lymph\s*nodes?\b(?!\s+(?:out\s+)?of\b)"
    rf"|\b(?P<pos2>{_COUNT})[ \t]+(?:[A-Za-z]+[ \t]+){{0,2}}?lymph\s*nodes?\s+(?:\w+\s+){{0,2}}?"
    r"(?:metastas[ie]s|(?:are\s+|is\s+)?positive|(?:show|demonstrat|contain)\w*\s+(?:\w+\s+){0,2}?metasta\w*)"
)
# ... unless negated ("no tumour identified in twelve lymph nodes", "do not show metastases") or
# an AJCC definition on a template ("pN1: metastasis in 1 to 3 regional lymph nodes")
_NOT_POSITIVE = re.compile(r"(?i)\b(?:not?|without|negative|free)\b")
_NOT_POSITIVE_BEFORE = re.compile(
    r"(?i)\b(?:not?|without|negative|free)\b|\b(?:examined|identified|total)\W*$|\b[yp]?N[0-3X][a-c]?\b"
)
# "thirteen of thirteen lymph nodes, negative": the count is of the negative ones
_NEGATIVE_AFTER = re.compile(
    r"(?i)\W{0,3}(?:\w+\s+){0,2}?(?:negative|benign|free\s+of|without|with\s+no|no\s+(?:evidence|tumou?r|carcinoma|metasta))"
)
# "seven lymph nodes, negative for tumour": the number examined, none positive
_NODES_NEGATIVE = re.compile(
    rf"(?i)(?:\b|\()(?P<tot>{_COUNT})\)?\s+(?:\w+\s+){{0,2}}?lymph\s*nodes?[,;:]?\s+(?:\w+\s+){{0,2}}?"
    r"(?:negative|benign|free\s+of|with(?:out|\s+no)\s+(?:\w+\s+){0,2}?(?:tumou?r|carcinoma|metasta\w*|malignancy)|no\s+(?:\w+\s+){0,2}?(?:tumou?r|carcinoma|metasta\w*|malignancy))"
)
# synoptic counts: "Number of lymph nodes examined: 12", "Total number with metastasis: 0", "LYMPH
# NODES POSITIVE: 0"
# A bare "Number with metastasis: 3" / "NUMBE:R EXAMINED: 19" (`bare`) counts only under a lymph-node
# heading (`_BARE_KEY_REACH` characters before it).
_NODES_KEY = (
    r"(?:(?:number|no\.|\#)\s+of\s+(?:regional\s+)?(?:lymph\s*)?nodes?|total\s+number"
    r"(?:\s+of\s+(?:regional\s+)?(?:lymph\s*)?nodes?)?|(?P<bare>numbe:?r))\s+"
)
_BARE_KEY_REACH = 80


def _synoptic_count(words: str, before: str = "(?!)") -> re.Pattern[str]:
    """A synoptic count's label with `words` after the nodes ("Number of lymph nodes examined:") or
    `before` them ("Number of metastatic nodes:")."""
    return re.compile(
        rf"(?i)\b(?:{_NODES_KEY}(?:{words})[ \t]*(?:is|are|=)?|(?:regional\s+)?lymph\s*nodes?\s+(?:{words})[ \t]*:"
        rf"|(?:number|no\.|\#)\s+of\s+(?:{before})\s+(?:lymph\s*)?nodes?[ \t]*:)"
        r"[ \t]*[:\-]*[ \t]*(?P<n>\d{1,3})\b(?![.,]\d|\s*/|\s+of\b|\s*(?:cm|mm)\b)"
    )


_NODES_SYNOPTIC = (
    _synoptic_count(
        r"positive|involved(?:\s+by\s+\w+)?|with\s+(?:metasta\w*|tumou?r|carcinoma)(?:\s+\w+)?",
        before=r"metastatic|positive|involved",
    ),
    _synoptic_count(r"examined|recovered|identified|retrieved|harvested|submitted|found"),
)
_NODE_SENTENCE = re.compile(r"(?i)lymph\s*nodes?|nodes?\s*\(|\bLN\b")
# a pN with its count, the report's own total: "R0 pN2 24/29", "pN1(1/19)", "Node status N1 (7/19)"
_NODES_STAGED = re.compile(
    r"(?<![A-Za-z])[yp]?N[ \t]?(?:[0-3O]|[lI](?![a-z]))[a-c]?[ \t]*(?:\([ \t]*)?(?P<pos>\d{1,3})[ \t]*/[ \t]*(?P<tot>\d{1,3})(?![\d/])"
)
_INVASION = {
    "lymphovascular_invasion": r"(?:lympho[\s\-]?vascular|angiolymphatic|lymphatic|vascular|venous|LVI)(?:\s+space)?\s+invasion|\bLVI\b",
    "perineural_invasion": r"peri[\s\-]?neural\s+(?:invasion|infiltration)|\bPNI\b",
}
_ABSENT = r"(?:not\s+(?:identified|seen|present|detected)|absent|negative|none|no)"
# on the cue's line: "Extraprostatic extension: No\nPerineural invasion: Yes" is no negation
_NEGATED_BEFORE = r"(?:no|without|negative\s+for|absence\s+of)"
# what the CAP checklists call "cannot be determined", and the prose that says so
_UNCERTAIN_BEFORE = (
    r"(?:can\s*not|can't)\s+(?:be\s+)?(?:exclude|rule\s+out)d?|suspicious\s+for|(?:possible|questionable|"
    r"equivocal|focal\s+possible|probable)"
)
_UNCERTAIN_AFTER = (
    r"(?:indeterminate|equivocal|suspicious|(?:can\s*not|can't)\s+be\s+(?:determined|assessed|excluded|ruled\s+out)|"
    r"not\s+(?:able\s+to\s+be\s+)?(?:determined|assessed)|not\s+evaluable|unknown)"
)
_PRESENT = r"(?:present|identified|positive|seen|yes)"
_RECEPTOR = {
    # the abbreviations in capitals only: OCR's "Synchronous Pr :-I-" or a "pr" is no receptor; nor
    # is a sample barcode's ("TCGA-G2-AA3D-01A-PR")
    "er": r"\b(?:(?<!-)(?-i:ER)|estrogen\s+receptors?)\b",
    "pr": r"\b(?:(?<!-)(?-i:PR|PgR)|progesterone\s+receptors?)\b",
}
# Another receptor's (or marker's) cue: a receptor's value is read before the next one starts ("ER
# 90%, PR negative" says nothing against the ER).
_NEXT_CUE = (
    r"(?:\b(?:ER|PR|PgR|HER[\s\-]?2|estrogen|progesterone|ki[\s\-]?67|AR|p53|p16|MMR|MLH1|MSH[26]|PMS2|"
    r"HPV|EBV|EBER|ALK|ROS1|EGFR|albumin|kappa|lambda)\b)"
)
# What may stand between a cue and its value: no sentence end or other marker's cue, and one line
# break at most (OCR breaks "PR\npositive"), each line's part at most `reach` characters.
_UNTIL_NEXT = rf"(?:(?!{_NEXT_CUE})[^.\n]|\.(?=\d))"


def _gap(reach: int) -> str:
    return rf"{_UNTIL_NEXT}{{0,{reach}}}?(?:\n{_UNTIL_NEXT}{{0,{reach}}}?)?"


# A hormone receptor's status written as a sign right after it ("ER+/PR-", "ER(SP1)-", "PR: +")
_SIGN_AFTER = r"[ \t]*(?::[ \t]*)?(?P<s>[+\-])(?![\w+\-])"


def _value_before(cue: str, group: str = "b") -> str:
    """The status stated before the cue, in a list of up to five stains ("negative for estrogen
    receptor", "positive for CK7, ER and PR"), as `group`."""
    item = r"(?!(?:positive|negative|for)\b)[\w\-/]+(?:[ \t]*\([^()\n]{0,15}\))?"
    return rf"\b(?P<{group}>positive|negative)[ \t]+for[ \t]+(?:{item}[ \t]*(?:,|and|&)[ \t]*(?:and[ \t]+)?){{0,5}}{cue}"


# A receptor's name with its abbreviation after it ("Estrogen receptor (ER):"), and the receptors
# listed with it that share its value ("ER and PR are negative", "ER, PR positive")
_OWN_ABBREVIATION = (
    r"(?:[ \t]*\((?:ER|PR|PgR)\))?"
    r"(?:[ \t]*(?:and|&|/|,)[ \t]*(?:ER|PR|PgR|estrogen|progesterone)(?:[ \t]+receptors?)?){0,3}"
)
# HER2 as reported under ASCO/CAP: the immunohistochemistry score ("2+"), the in situ hybridisation
# result ("HER2 FISH: not amplified", "FISH for HER2: amplified"), and the status stated in words.
# An ISH of another target (HPV, EBER, albumin) is none of HER2's.
_HER2_CUE = r"\bHER[\s\-]?2(?:/neu)?"
_ISH = r"\b(?:FISH|[SCD]?ISH|in\s+situ\s+hybridi[sz]ation)\b"
_ISH_RESULT = r"(?P<v>not\s+amplified|non[\s\-]?amplified|amplified|negative|positive|equivocal)\b"
_HER2_ISH = re.compile(
    rf"(?i)(?:{_HER2_CUE}{_gap(40)}{_ISH}|{_ISH}[ \t]+(?:for|of)[ \t]+{_HER2_CUE})"
    rf"{_gap(40)}{_ISH_RESULT}"
)
_HER2_IHC = re.compile(
    rf"(?i){_HER2_CUE}{_gap(60)}(?<![\d.])(?P<v>[0-3])\s?\+|"
    rf"{_HER2_CUE}{_gap(60)}(?:\b(?:score|IHC)\s*(?:of\s*|:\s*)?\(?|\bnegative[ \t]*\((?:score[ \t]*)?)"
    r"(?P<v0>0)\b(?!\s*%)"
)
_HER2_WORD = re.compile(
    rf"(?i){_HER2_CUE}{_gap(60)}\b(?P<v>positive|negative|equivocal|not\s+amplified|amplified)\b"
    rf"|{_HER2_CUE}[ \t]*(?:\((?:IHC|FISH)\)[ \t]*)?(?P<sign>[+\-])(?![\w+\-])|"
    + _value_before(_HER2_CUE, group="before")
)
# An ISH result and an IHC score as the HER2 status (ASCO/CAP 2018): the ISH decides where stated.
_ISH_STATUS = {"amplified": "positive", "not amplified": "negative"}
_IHC_STATUS = {"0": "negative", "1+": "negative", "2+": "equivocal", "3+": "positive"}
# (not another marker's percent: "Ki-67: pending, ER 95%")
_KI67 = re.compile(
    rf"(?i)\bki[\s\-]?67\b(?:(?!{_NEXT_CUE})[^.\n%]){{0,40}}?(?P<v>\d{{1,3}})(?:\s*[-–]\s*(?P<hi>\d{{1,3}}))?\s*%"
)
# serum PSA as the clinical history states it ("PSA value: 9.77", "PSA 14", "PSA was 9.1", "PSA (7.2 ng/mL)",
# "PSA value of 10 .64 nglml"); a PSA immunostain ("PSA and prostein", "PSA (1:500)") has no number,
# and a tumour-marker checkbox form ("PSA o Negative o Positive", OCR "PSA 0 Negative") no value
_PSA = re.compile(
    r"(?i)\bpsa\b(?:\s+(?:values?|levels?))?(?:\s+(?:of|was|is|at|had\s+been))?\s*(?:[:=]\s*)?(?:\([ \t]*)?"
    r"(?P<v>\d{1,4}(?:\s?[.,]\s?\d{1,3})?)(?![\d:])(?!\s*(?:neg|pos))(?:\s*(?:ng|ug)\s*[/l]\s*m[l1])?"
)
# where a non-invasive papillary carcinoma is Ta: renal pelvis, ureter, bladder, urethra
_TA_SITES = ("C65", "C66", "C67", "C68")
_LATERALITY = re.compile(r"(?i)\b(?P<side>left|right|bilateral)\b")


def _span(match: re.Match[str], group: str | int = 0, value: Any = None) -> dict[str, Any]:
    start, end = match.span(group)
    return {"value": match.group(group) if value is None else value, "start": start, "end": end}


_FROZEN = re.compile(
    r"(?i)frozen\s+section|intra[\s\-]?operative\s+(?:consult\w*|diagnosis)|touch\s+(?:imprint|prep\w*)|\bFS[A-Z]?\d?\b"
)


# How far back on its line a mention looks for a frozen-section cue: a report printed as one line of
# thousands of TNM mentions would otherwise cost a scan of the whole line per mention.
_FROZEN_REACH = 400
# ... and how far back for the paragraph's header ("FROZEN SECTION DIAGNOSIS:" and a blank line)
_PARAGRAPH_REACH = 5000


def _line_start(text: str, start: int, reach: int) -> int:
    """Where the line holding `start` begins, but no more than `reach` characters back: a check of
    the line before each of thousands of mentions on one long line stays linear."""
    return max(text.rfind("\n", max(0, start - reach), start) + 1, start - reach)


def _frozen(text: str, start: int) -> bool:
    """A mention on a frozen-section / intraoperative line (or the paragraph such a header opens,
    within `_PARAGRAPH_REACH` characters): the permanent sections overrule it."""
    blank = text.rfind("\n\n", max(0, start - _PARAGRAPH_REACH), start)
    paragraph = blank + 2 if blank >= 0 else 0 if start <= _PARAGRAPH_REACH else None
    line = _line_start(text, start, _FROZEN_REACH)
    return bool(
        _FROZEN.search(text, line, start) or (paragraph is not None and _FROZEN.match(text, paragraph))
    )


def _choose(
    text: str,
    found: list[dict[str, Any]],
    rank: Callable[[Any], Any] | None = None,
    preferred: list[dict[str, Any]] | None = None,
) -> Field:
    """One mention for a field: the last one after a final/synoptic header, else the last one (with
    `rank`, the highest-ranked of those: a case's Gleason score is its worst part's); the others,
    when they disagree, are listed as `alternatives`. `preferred`: `_preferred(text, found)`, where
    the caller has it."""
    if not found:
        return None
    preferred = _preferred(text, found) if preferred is None else preferred
    if rank is not None:  # the last of the highest
        best = max(rank(f["value"]) for f in preferred)
        preferred = [f for f in preferred if rank(f["value"]) == best]
    chosen = dict(preferred[-1])
    chosen["text"] = text[chosen["start"] : chosen["end"]]
    others = sorted({str(f["value"]) for f in found} - {str(chosen["value"])})
    if others:
        chosen["alternatives"] = others
    return chosen


def _preferred(text: str, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The mentions `_choose` picks from: not on a frozen-section line (unless all are), and after the
    first final/synoptic header (where any is)."""
    finals = [m.end() for m in _FINAL.finditer(text)]
    considered = [f for f in found if not _frozen(text, f["start"])] or found
    return [f for f in considered if finals and f["start"] >= finals[0]] or considered


def _ocr_digits(category: str) -> str:
    """A TNM category's OCR'd digits as digits ("O" 0, "l" and "I" 1, "i" before or after a subcategory
    letter or alone 1) and its "X" as "x"."""
    category = re.sub(r"^i(?=[a-d]|$)", "1", re.sub(r"(?<=[a-d])i$", "1", category))
    return category.replace("O", "0").replace("l", "1").replace("I", "1").replace("X", "x")


# The T categories with a digit after the letter (the cervix's, AJCC 7: T1a1, T1b2, T2a1, ...): after
# any other ("pT3alb", "pT2clNO") an OCR'd "l" is no subcategory.
_T_WITH_DIGIT = re.compile(r"^(?:1[ab]|2a)[12]$")


def _t_category(written: str) -> str:
    """A written T category as a value (`_ocr_digits`), without a subcategory digit it cannot have."""
    category = _ocr_digits(written)
    if re.fullmatch(r"[0-4][a-d][12]", category) and not _T_WITH_DIGIT.match(category):
        return category[:-1]
    return category


# The AJCC classification prefix written before a "p": "y" after neoadjuvant therapy ("ypT1c ypN1a"),
# "r" for a recurrence ("rpT2").
_PREFIX = re.compile(r"(?i)([yr])(?=\s?p)")


def _prefixed(field: dict[str, Any], written: str, inherited: str | None = None) -> dict[str, Any]:
    """`field` with its AJCC prefix (`_PREFIX`) as `prefix` where `written` has one; a part written
    without its own "p" takes the T's (`inherited`: "ypT1c N1a" is post-therapy throughout)."""
    own = _PREFIX.match(written)
    prefix = own.group(1).lower() if own else None if written[:1] in "pP" else inherited
    return {**field, "prefix": prefix} if prefix else field


# The TNM fields, which may carry an AJCC prefix (`_prefixed`)
TNM_FIELDS = ("pT", "pN", "pM")


def with_prefix(field: dict[str, Any]) -> Any:
    """A field's value as a registry writes it: a pT/pN/pM with its AJCC prefix ("ypT1c"); a value
    without one (of the extracted fields, only the TNM's carry a `prefix`) as it is."""
    prefix = field.get("prefix")
    return f"{prefix}{field['value']}" if prefix else field["value"]


def _tnm(text: str, site: Field = None, positive: Field = None, examined: Field = None) -> dict[str, Field]:
    t_found, n_found, m_found = [], [], []
    for match in _TNM.finditer(text):
        # each part's own words are its evidence: "pT2c", "N1", "MX" of "pT2c N1 MX"
        # OCR's space before the subcategory: "pT1 b" is pT1b
        t = _prefixed(
            _span(match, "tt", "pT" + _t_category(re.sub(r"[ \t]", "", match.group("t")))), match.group("tt")
        )
        t_found.append(t)
        if match.group("n"):
            node = _span(match, "nt", "pN" + _ocr_digits(match.group("n")))
            n_found.append(_prefixed(node, match.group("nt"), t.get("prefix")))
        if match.group("m"):
            m_found.append(_span(match, "mt", "pM" + _ocr_digits(match.group("m"))))
    # a form listing the categories unticked states none of them: the report may state its own bare
    t_found, n_found = _checked(text, t_found), _checked(text, n_found)
    bare_t, bare_n, bare_m = [], [], []
    for match in _TNM_BARE.finditer(text):
        if _CLINICAL.search(text, _line_start(text, match.start(), _CLINICAL_REACH), match.start()):
            continue  # "Clinical History: The patient is a [ID] with T3N3M0 squamous cell carcinoma"
        bare_t.append(_span(match, "tt", "pT" + _t_category(match.group("t"))))
        bare_n.append(_span(match, "nt", "pN" + _ocr_digits(match.group("n"))))
        if match.group("m"):
            bare_m.append(_span(match, "mt", "pM" + _ocr_digits(match.group("m"))))
    if not t_found:
        t_found, n_found, m_found = bare_t, n_found + bare_n, m_found + bare_m
        bare_n = bare_m = []
        if not t_found:
            t_found = [
                _span(m, "tt", "pT" + _ocr_digits(m.group("t"))) for m in _unlisted(text, _T_STAGED, "tt")
            ]
    if not n_found:
        n_found = [
            _prefixed(_span(m, "nt", "pN" + _ocr_digits(m.group("n"))), m.group("nt"))
            for m in _N_ALONE.finditer(text)
        ]
    if not n_found:
        n_found = [_span(m, "nt", "pN" + _ocr_digits(m.group("n"))) for m in _unlisted(text, _N_STAGED, "nt")]
    # a T stated with its "p" and the N and M only bare: "pT3 ... AJCC stage: Stage IIB (T3 N1 MO)"
    n_found = n_found or bare_n
    if not m_found:
        m_found = [_span(m, "mt", "pM" + _ocr_digits(m.group("m"))) for m in _M_ALONE.finditer(text)]
    m_found = m_found or bare_m
    # an M checklist may list two categories ("pMX: Cannot be assessed", "pM1: Distant metastasis")
    t_found, n_found = _checked(text, t_found), _checked(text, n_found)
    m_found = _checked(text, m_found, minimum=_MIN_M_OPTIONS)
    if site is not None and len({f["value"] for f in t_found}) > 1:
        organs = icdo.organ_mentions(text)
        t_found, n_found, m_found = (
            _of_the_site(text, found, str(site["value"]), organs) for found in (t_found, n_found, m_found)
        )
    n = _choose(text, n_found)
    t_same: list[dict[str, Any]] = []
    m_same: list[dict[str, Any]] = []
    if n is not None and positive is not None and _against_count(str(n["value"]), positive, examined):
        # the report states another N that its own node count agrees with: a cystoprostatectomy's
        # prostate "pT2c, N0" beside the bladder's "pT4b, N1" and "(1/21)"
        agreeing = [
            f
            for f in n_found
            if _n_category(str(f["value"])) in _N_DIGITS
            and not _against_count(str(f["value"]), positive, examined)
        ]
        agreed = _choose(text, n_found, preferred=_preferred(text, agreeing)) if agreeing else None
        if agreed is not None:
            # ... and the T and M stated with that N are the tumour's too ("9. pTNM: pT4b,N1,MX")
            n = agreed
            line = text.rfind("\n", 0, n["start"]) + 1
            end = text.find("\n", n["end"])
            end = len(text) if end < 0 else end
            t_same = [f for f in t_found if line <= f["start"] < n["start"]]
            m_same = [f for f in m_found if n["end"] <= f["start"] < end]
    return {
        "pT": _choose(text, t_found, preferred=t_same or None),
        "pN": n,
        "pM": _choose(text, m_found, preferred=m_same or None),
    }


_N_DIGITS = ("N0", "N1", "N2", "N3")


def _n_category(value: str) -> str:
    """A pN value's category without prefix or subcategory: "pN1a" -> "N1", "ypNX" -> "NX"."""
    return re.sub(r"^[yrm]?p", "", value, flags=re.I).upper()[:2]


def _against_count(value: str, positive: dict[str, Any], examined: Field) -> bool:
    """Whether the N `value` says otherwise than the node count: N0 with positive nodes, N1-N3 with
    every counted node negative."""
    category, count = _n_category(value), positive["value"]
    if category == "N0":
        return bool(count > 0)
    return category in _N_DIGITS[1:] and count == 0 and examined is not None and examined["value"] > 0


# A checklist's option: the category, a colon, its definition ("pT4a:   Tumor invades larynx",
# "pN1: Regional lymph node metastasis"); ticked where a mark stands right before it ("X  pT4a:",
# "[x] pT2:", "v pT1:").
_OPTION = re.compile(r"[ \t]*:[ \t]*(?=[A-Z][a-z])")
_TICKED = re.compile(r"(?:(?<![A-Za-z])[xXvV✓✔]|\[[xX✓✔]\]|\([xX✓✔]\))[ \t]*$")
_MIN_OPTIONS = 3
_MIN_M_OPTIONS = 2


def _checked(text: str, found: list[dict[str, Any]], minimum: int = _MIN_OPTIONS) -> list[dict[str, Any]]:
    """`found` without a checklist's options that are not ticked: where the report lists the
    categories with their definitions (`minimum` or more), only a ticked one is a statement; the
    others, or all of them where none is ticked, are the form's wording."""
    options = [f for f in found if _OPTION.match(text, f["end"])]
    if len(options) < minimum:
        return found
    ticked = [f for f in options if _TICKED.search(text, max(0, f["start"] - 8), f["start"])]
    return [f for f in found if f not in options or f in ticked]


def _unlisted(text: str, pattern: re.Pattern[str], group: str) -> list[re.Match[str]]:
    """`pattern`'s matches in `text` but a form's unticked option on the line below the label
    ("PRIMARY TUMOR (T)\nTX: Cannot be assessed"): a label's pattern matches only the first of the
    options, too few for `_checked`. On the label's own line it is the answer ("Regional Lymph Nodes:
    NX: Cannot be assessed"). `group`: the category's own words."""
    return [
        m
        for m in pattern.finditer(text)
        if "\n" not in text[m.start() : m.start(group)]
        or not _OPTION.match(text, m.end())
        or _TICKED.search(text, max(0, m.start(group) - 8), m.start(group))
    ]


def _of_the_site(
    text: str, found: list[dict[str, Any]], site: str, organs: list[tuple[int, str]]
) -> list[dict[str, Any]]:
    """`found` without the mentions staged for another organ than the tumour's `site`: their line (else
    the line before) names organs, none of them the site's ("PROSTATE: pT2aN0MX" below "BLADDER:
    pT3bN2MX" in a cystoprostatectomy; "Prostate - adenocarcinoma, Gleason 4 + 3 = 7, pT2c"). All of
    `found` where every mention is. `organs`: `icdo.organ_mentions(text)`."""
    site_organ = icdo.organ(site)

    def named(lo: int, hi: int) -> set[str]:
        return {o for at, o in organs if lo <= at < hi}

    def elsewhere(start: int) -> bool:
        line = text.rfind("\n", 0, start) + 1
        end = text.find("\n", start)
        # the mention's own line decides where it names an organ, else the line before
        own = named(line, len(text) if end < 0 else end)
        above = named(text.rfind("\n", 0, line - 1) + 1, line) if line > 0 else set()
        return bool(own or above) and site_organ not in (own or above)

    kept = [f for f in found if not elsewhere(f["start"])]
    return kept or found


_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4}


def _grade(text: str) -> Field:
    found = []
    for match in _GRADE_G.finditer(text):
        found.append(_span(match, 0, "G" + match.group("g")))
    for match in _GRADE_WORD.finditer(text):
        g = match.group("g").upper().replace("L", "I")
        found.append(_span(match, 0, f"G{_ROMAN.get(g, g)}"))
    for match in _DIFFERENTIATED.finditer(text):
        if match.group("hl") and (
            _PRECURSOR.match(text, match.end())
            or _DENIED.search(text, max(0, match.start() - 60), match.start())
        ):
            continue  # "high-grade PIN", "no high-grade dysplasia": not the tumour's grade
        if match.group("d"):
            value = {"well": "G1", "moderately": "G2", "poorly": "G3", "un": "G4"}[match.group("d").lower()]
        else:
            value = "High Grade" if match.group("hl").lower() == "high" else "Low Grade"
        found.append(_span(match, 0, value))
    found.sort(key=lambda f: f["start"])
    return _choose(text, found)


def _size_mm(text: str, tumour_named: bool = True) -> Field:
    """The tumour's largest dimension in mm: from a size label's line ("Tumor size: 2.3 cm", "2.3 cm
    in greatest dimension", "Maximum tumor diameter: 55 mm"); where no label gives one and the report
    names a tumour type (`tumour_named`), a size written right beside a tumour noun ("an ulcerated
    mass 4.2 x 3.5 cm", "a 5 x 4 x 3 cm, lobulated mass", "nodule, 1.2 x 1.1 cm"), never a distance
    ("mass, 0.3 cm from the margin") or a depth ("the tumor invades 0.6 cm")."""
    found = []
    previous = -_ONE_STATEMENT  # where the last label that gave a size ended
    for context in _SIZE_CONTEXT.finditer(text):
        # the size sits on the context's line: right before it ("2.3 cm in greatest dimension, 1.0 cm
        # from the margin"), else after it ("Tumor size: 2.3 cm"), else the nearest before it; not
        # another thing's size at the line's start
        line_start = text.rfind("\n", 0, context.start()) + 1
        line_end = text.find("\n", context.end())
        line_end = len(text) if line_end < 0 else line_end
        if line_start <= previous and context.start() - previous < _ONE_STATEMENT:
            continue  # "Tumor size: 2.7 cm and 1.0 cm (greatest dimension)": the first label's
        match = _labelled_size(text, context.start(), line_start, line_end)
        if match is not None:
            found.append(_size_field(match))
            previous = context.end()
    found = [f for f in found if f["value"] > 0]  # OCR's "1 .0 cm" read as "0 cm"
    if not found and tumour_named:
        for noun in _NOUN_THEN_SIZE.finditer(text):
            match = _SIZE.match(text, noun.end())
            if match and not _NOT_A_SIZE.match(text, match.end()):
                found.append(_size_field(match))
        for match in _SIZE.finditer(text):
            if _SIZE_THEN_NOUN.match(text, match.end()):
                found.append(_size_field(match))
        found = sorted((f for f in found if f["value"] > 0), key=lambda f: f["start"])
    found = list({f["start"]: f for f in found}.values())  # one context line may be matched twice
    return _choose(text, found)


def _labelled_size(text: str, label: int, line_start: int, line_end: int) -> re.Match[str] | None:
    """The size a size label at `label` gives on its line (see `_size_mm`), or None."""
    # back to the sentence's start or a label's colon, across OCR's line breaks
    lo = max(label - 100, 0)
    lo = max([lo, *(m.end() for m in _CLAUSE_END.finditer(text, lo, label))])
    if _OTHER_THING.search(text, lo, label):
        return None  # "lymph nodes ranging\nfrom 0.4 to 1.9 cm in greatest dimension"
    # (the size right before may end the line above: "3.5 cm in\ngreatest diameter")
    near = list(islice(_SIZE.finditer(text, max(0, label - 40), label), _MAX_COUNTS))
    match: re.Match[str] | None
    if near and _SIZE_BEFORE_GAP.fullmatch(text, near[-1].end(), label):
        match = near[-1]
    else:
        match = _SIZE.search(text, label, min(line_end, label + _SIZE_REACH))
        if match and _NOT_A_SIZE.match(text, match.end()):  # "Tumor measures 1.4 cm from the margin"
            match = None
        if match is None:
            before = list(
                islice(_SIZE.finditer(text, max(line_start, label - _SIZE_REACH), label), _MAX_COUNTS)
            )
            match = before[-1] if before else None
    if match is None or _SIZE_LIMIT.search(text, max(0, match.start() - 20), match.start()):
        return None  # "pT2: Tumor more than 2 cm": a category's definition
    return match


def _size_field(match: re.Match[str]) -> dict[str, Any]:
    """A `_SIZE` match as a field: its largest number, in mm."""
    numbers = [
        float(re.sub(r"[ \t]", "", x).replace(",", "."))
        for x in (match.group("a"), match.group("b"), match.group("c"))
        if x
    ]
    factor = 1.0 if re.fullmatch(_MM, match.group("unit"), re.I) else 10.0
    return {"value": round(max(numbers) * factor, 1), "start": match.start(), "end": match.end()}


def _margins(text: str) -> tuple[Field, Field]:
    found = [_span(m, 0, "negative") for m in _MARGIN_NEG.finditer(text)]
    found += [_span(m, 0, "involved") for m in _MARGIN_POS.finditer(text)]
    found.sort(key=lambda f: f["start"])
    distances = []
    for match in _MARGIN_DISTANCE.finditer(text):
        number, unit = (
            (match.group("d"), match.group("unit")) if match.group("d") else match.group("d2", "unit2")
        )
        factor = 1.0 if re.fullmatch(_MM, unit, re.I) else 10.0
        distances.append(_span(match, 0, round(float(number.replace(",", ".")) * factor, 1)))
    closest = min(distances, key=lambda f: f["value"]) if distances else None
    if closest:
        closest = {**closest, "text": text[closest["start"] : closest["end"]]}
    return _choose(text, found), closest


# A report states a few dozen node counts at most: reading at most this many per pattern and sentence,
# and per report, keeps a pathological input (megabytes of "1/3") linear.
_MAX_COUNTS = 200
_MAX_STATEMENTS = 1000
# how many stations before it a total may add up
_SUMMARY_REACH = 20


def _count(word: str) -> int:
    word = word.lower()
    return int(word) if word.isdigit() else _NUMBER_WORDS[word]


def _node_counts(sentence: str) -> list[tuple[int | None, int | None, int, int]]:
    """`(positive, examined, start, end)` of each node count one sentence states, the same count
    written twice ("seven lymph nodes, negative (0/7)") once."""
    found: list[tuple[int | None, int | None, int, int]] = []
    taken: list[tuple[int, int]] = []

    near = [m.span() for m in _NODE_SENTENCE.finditer(sentence)]

    def add(pos: int | None, tot: int | None, match: re.Match[str]) -> None:
        if any(match.start() < e and s < match.end() for s, e in taken):
            return
        if not any(match.start() - 80 <= e and s <= match.end() + 80 for s, e in near):
            return  # a fraction far from any node word ("day 24/25") counts no nodes
        taken.append(match.span())
        found.append((pos, tot, *match.span()))

    for match in islice(_NODES_OF.finditer(sentence), _MAX_COUNTS):
        pos, tot = _count(match.group("pos")), _count(match.group("tot"))
        pos = tot if pos < 0 else pos  # "all of five"
        if 0 < tot <= 150 and pos <= tot:
            add(tot - pos if _NEGATIVE_AFTER.match(sentence, match.end()) else pos, tot, match)
    for match in islice(_NODES_POSITIVE.finditer(sentence), _MAX_COUNTS):
        pos = _count(match.group("pos") or match.group("pos2"))
        if pos > 0 and not (
            _NOT_POSITIVE.search(match.group())
            or _NOT_POSITIVE_BEFORE.search(sentence, max(0, match.start() - 40), match.start())
        ):
            add(pos, None, match)
    for match in islice(_NODES_NEGATIVE.finditer(sentence), _MAX_COUNTS):
        tot = _count(match.group("tot"))
        if tot > 0:
            add(0, tot, match)
    for match in islice(_NODES_FRACTION.finditer(sentence), _MAX_COUNTS):
        pos, tot = int(match.group("pos")), int(match.group("tot"))
        if "/" in match.group() and pos <= tot <= 150:
            add(pos, tot, match)
    found.sort(key=lambda f: f[2])
    # a positive count right before a fraction is the fraction's ("in two lymph nodes (0/2)")
    found = [
        f
        for f in found
        if f[1] is not None or not any(g[1] is not None and 0 <= g[2] - f[3] <= 40 for g in found)
    ]
    unique: list[tuple[int | None, int | None, int, int]] = []
    for count in found:  # the same count in words and in figures is one statement
        if not _repeats(unique, count, zeros=True):
            unique.append(count)
    return unique


_Count = TypeVar("_Count", bound=tuple[Any, ...])


def _repeats(kept: list[_Count], count: _Count, *, zeros: bool) -> bool:
    """Whether `count` (positive, examined, ...) states again one of `kept`: the same positive count
    with the same or an unstated number examined ("metastatic to one lymph node (1/7)"); where the old
    one gives no number examined, the new one takes its place. A count of no positive node
    repeats only with `zeros` (two stations may each be "0/3")."""
    for j, old in enumerate(kept):
        if old[0] == count[0] and (zeros or count[0]) and (old[1] == count[1] or None in (old[1], count[1])):
            if old[1] is None:
                kept[j] = count
            return True
    return False


def _lymph_nodes(text: str) -> tuple[Field, Field]:
    """Positive and examined nodes, summed over the stations and specimen parts: a synoptic count
    ("Number of lymph nodes examined: 12") where the report gives one, else the sum of the counts the
    lymph-node sentences state (`3/12`, `(0/8)`, `2 of 15 lymph nodes`, "one of eleven lymph nodes",
    "metastatic carcinoma in two lymph nodes", "seven lymph nodes, negative"), frozen-section ones
    only where nothing else states a count, the same count repeated (diagnosis and comment) once, and a
    summary sentence that equals the sum of the others taken alone. The evidence is the span from
    the first to the last statement counted (`spans` lists each)."""
    statements: list[tuple[int | None, int | None, int, int, bool]] = []
    for sentence in re.finditer(r"[^.\n]*(?:\n(?!\n)[^.\n]*)*", text):
        s = sentence.group()
        if not _NODE_SENTENCE.search(s):
            continue
        for pos, tot, start, end in _node_counts(s):
            start, end = sentence.start() + start, sentence.start() + end
            statements.append((pos, tot, start, end, _frozen(text, start)))
        if len(statements) >= _MAX_STATEMENTS:
            break
    statements = [s for s in statements if not s[4]] or statements
    counted: list[tuple[int | None, int | None, int, int, bool]] = []
    for statement in statements:
        pos, tot = statement[:2]
        # the same positive count again (diagnosis, then synoptic or comment) is one statement
        if _repeats(counted, statement, zeros=False):
            continue
        # a total after the two or more stations it adds up ("(1/10)", "(0/11)", then "(1/21)")
        adds_up, run = False, (0, 0)
        for back, c in enumerate(reversed(counted[-_SUMMARY_REACH:]) if pos and tot is not None else ()):
            if c[0] is None or c[1] is None:
                break
            run = (run[0] + c[0], run[1] + c[1])
            if back and run == (pos, tot):
                adds_up = True
                break
        if not adds_up:
            counted.append(statement)
    if len(counted) > 2:  # a summary before the stations it adds up
        total = (sum(c[0] or 0 for c in counted), sum(c[1] or 0 for c in counted))
        for i, (pos, tot, *_rest) in enumerate(counted):
            if pos and tot is not None and (pos, tot) == (total[0] - pos, total[1] - tot):
                counted = [counted[i]]
                break
    fields: list[Field] = [None, None]
    if counted:
        start, end = counted[0][2], max(c[3] for c in counted)
        evidence = {
            "start": start,
            "end": end,
            "text": text[start:end],
            "spans": [[c[2], c[3]] for c in counted],
        }
        for k in (0, 1):  # positive, examined: only where every statement counted gives it
            if all(c[k] is not None for c in counted):
                fields[k] = {"value": sum(c[k] or 0 for c in counted), **evidence}
    # a pN's count is the report's own total (the same one stated twice, once)
    staged: dict[tuple[int, int], re.Match[str]] = {}
    for m in islice(_NODES_STAGED.finditer(text), _MAX_STATEMENTS):
        pos, tot = int(m.group("pos")), int(m.group("tot"))
        if pos <= tot <= 150 and not _frozen(text, m.start()):
            staged.setdefault((pos, tot), m)
    if staged:
        lo, hi = min(m.start() for m in staged.values()), max(m.end() for m in staged.values())
        evidence = {
            "start": lo,
            "end": hi,
            "text": text[lo:hi],
            "spans": [list(m.span()) for m in staged.values()],
        }
        fields = [{"value": sum(c[k] for c in staged), **evidence} for k in (0, 1)]
    for k, pattern in enumerate(_NODES_SYNOPTIC):  # a synoptic count is the report's own total
        found = [
            m
            for m in islice(pattern.finditer(text), _MAX_STATEMENTS)
            if not _frozen(text, m.start())
            and not (
                m.group("bare")
                and not _NODE_SENTENCE.search(text, max(0, m.start() - _BARE_KEY_REACH), m.start())
            )
        ]
        # one synoptic block per specimen part (or per side of the neck): summed; the same count
        # reworded right after ("Number of nodes examined: 7", "LYMPH NODES EXAMINED: 7"): once
        kept = [
            m
            for i, m in enumerate(found)
            if not (i and m.group("n") == found[i - 1].group("n") and m.group() != found[i - 1].group())
        ]
        if kept:
            first, last = kept[0], kept[-1]
            fields[k] = {
                "value": sum(int(m.group("n")) for m in kept),
                "start": first.start(),
                "end": last.end(),
                "text": text[first.start() : last.end()],
                "spans": [list(m.span()) for m in kept],
            }
    return fields[0], fields[1]


def _invasion(text: str, cue: str) -> Field:
    """`present`, `absent` or `indeterminate` ("cannot exclude lymphovascular invasion", "LVI:
    indeterminate"): the words before the cue say it first, so "No lymphovascular invasion is
    identified" is absent, not the "invasion is identified" within it. A checklist's "(Select one)"
    states its ticked option ("x No"), else the one printed."""
    return _choose(text, _invasion_mentions(text, cue))


def _invasion_mentions(text: str, cue: str) -> list[dict[str, Any]]:
    """Every statement of `_invasion`'s, in text order."""
    before: list[dict[str, Any]] = []
    for match in _invasion_patterns(cue)[0].finditer(text):
        line = text.rfind("\n", 0, match.start()) + 1
        if "\n" in match.group("gap") and _LABEL_VALUE.search(text, line, match.start()):
            continue  # "Extraprostatic extension: No\nPerineural invasion: Yes": the No is the line above's
        before.append(_span(match, 0, "indeterminate" if match.group("u") else "absent"))
    after: list[dict[str, Any]] = []
    for match in _invasion_patterns(cue)[1].finditer(text):
        if any(b["start"] <= match.start() < b["end"] for b in before):
            continue  # the cue is the end of a phrase that already said it: "no LVI is identified"
        word = match.group("v")
        if match.group("select"):
            # the options end at the next label, within 80 characters
            label = text.find(":", match.end(), match.end() + 80)
            options_end = match.end() + 80 if label < 0 else label
            if ticked := _TICKED_VALUE.search(text, match.start("v"), options_end):
                word = ticked.group("v")
                match = ticked
        value = (
            "indeterminate"
            if re.fullmatch(_UNCERTAIN_AFTER, word, re.I)
            else "absent"
            if re.fullmatch(_ABSENT, word, re.I)
            else "present"
        )
        after.append(_span(match, 0, value))
    return sorted(before + after, key=lambda f: f["start"])


# Extranodal extension of a nodal metastasis (ENE: head and neck staging's N, NAACCR's SSDI): named as
# such, or as "extracapsular" where the phrase or its line or the line before names the nodes; the
# prostate's, an ovary's or a kidney's capsule is another extension ("extracapsular extension" of a
# prostatectomy is extraprostatic)
_ENE_CUE = (
    r"(?:extra[\s\-]?nodal|peri[\s\-]?nodal)\s+(?:tumou?r\s+)?(?:extension|spread|invasion)"
    r"(?:\s+(?:of|by)\s+tumou?r(?:\s+metastas[ie]s)?)?|(?-i:\bENE\b)|"
    r"extra[\s\-]?capsular\s+(?:extension|spread)\s+of\s+(?:nodal\s+tumou?r|(?:lymph\s+)?node\s+metastas[ie]s)"
)
_CAPSULAR_CUE = r"extra[\s\-]?capsular\s+(?:extension|spread)(?:\s+(?:of|by)\s+tumou?r)?"
_ENE_ANY = re.compile(r"(?i)extra[\s\-]?(?:nodal|capsular)|peri[\s\-]?nodal|(?-i:\bENE\b)")
_NODAL = re.compile(r"(?i)\blymph[\s\-]*nod|\bnod(?:e|es|al)\b")


# any node with extranodal extension makes the case's (AJCC): a report stating it node by node says
# "present" for one and "not identified" for another
_ENE_RANK = {"present": 2, "indeterminate": 1, "absent": 0}


def _extranodal(text: str) -> Field:
    """Extranodal extension: `present`, `absent` or `indeterminate`, each statement as `_invasion`
    reads it; present where any node's is."""
    if not _ENE_ANY.search(text):
        return None
    found = _invasion_mentions(text, _ENE_CUE)
    for mention in _invasion_mentions(text, _CAPSULAR_CUE):
        line = text.rfind("\n", 0, mention["start"])
        above = text.rfind("\n", 0, max(line, 0)) + 1
        end = text.find("\n", mention["end"])
        if _NODAL.search(text, above, len(text) if end < 0 else end) and all(
            f["start"] != mention["start"] for f in found
        ):
            found.append(mention)
    return _choose(text, sorted(found, key=lambda f: f["start"]), rank=_ENE_RANK.__getitem__)


@functools.lru_cache(maxsize=8)
def _invasion_patterns(cue: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The cue with its negation or doubt before it, and with its value after it."""
    return (
        re.compile(
            rf"(?i)\b(?:{_NEGATED_BEFORE}|(?P<u>{_UNCERTAIN_BEFORE}))(?P<gap>\s+(?:\w+\s+){{0,2}})(?:{cue})"
        ),
        re.compile(
            rf"(?i)(?:{cue})\s*(?:[:\-]\s*)?(?P<select>\(select\s+one\)\s*)?(?:is\s+|are\s+)?"
            rf"(?P<v>{_UNCERTAIN_AFTER}|{_ABSENT}|{_PRESENT})\b"
        ),
    )


# a label's value ending the line before ("Extracapsular extension: No"); a checklist's ticked option
_LABEL_VALUE = re.compile(r":[ \t]*$")
_TICKED_VALUE = re.compile(rf"(?i)(?<![A-Za-z])[xX][ \t]+(?P<v>{_UNCERTAIN_AFTER}|{_ABSENT}|{_PRESENT})\b")


@functools.lru_cache(maxsize=4)
def _receptor_patterns(cue: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A hormone receptor's status in words or signs ("ER: positive", "ER+/PR-"), and the share of
    cells stained ("Estrogen receptor: 95% of tumor cells"), each before the next receptor's cue."""
    return (
        re.compile(
            rf"(?i){cue}{_OWN_ABBREVIATION}{_gap(80)}\b(?P<v>positive|negative)\b|{cue}{_OWN_ABBREVIATION}{_SIGN_AFTER}|{_value_before(cue)}"
        ),
        re.compile(
            rf"(?i){cue}{_OWN_ABBREVIATION}{_gap(40)}(?P<lt><\s?)?(?<![\d.])(?P<pct>\d{{1,3}}(?:\.\d)?)\s?%"
        ),
    )


def _receptor(text: str, cue: str) -> Field:
    """ER or PR: `positive`/`negative` as stated, with the `percent` of cells stained where the same
    statement gives it; a percent alone gives the status by ASCO/CAP (1% or more: positive)."""
    if not re.search(rf"(?i){cue}", text):  # (a value before the cue is searched from common words)
        return None
    words, percents = _receptor_patterns(cue)
    found = []
    for match in words.finditer(text):
        word = match.group("v") or match.group("b")
        value = word.lower() if word else {"+": "positive", "-": "negative"}[match.group("s")]
        found.append(_span(match, 0, value))
    shares = []
    for match in percents.finditer(text):
        percent = float(match.group("pct"))
        if percent > 100:
            continue
        below = match.group("lt") is not None
        if below and percent > 1:
            continue  # "<5%": on either side of ASCO/CAP's 1%
        share = _span(match, 0, "negative" if below or percent < 1 else "positive")
        shares.append(share if below else {**share, "percent": percent})  # "<1%": negative
    # a statement in words wins where both are stated; its percent is the one its own words give
    field = _choose(text, found) or _choose(text, shares)
    if field is not None and "percent" not in field:
        within = [s for s in shares if "percent" in s and field["start"] <= s["start"] < field["end"]]
        if within:
            field["percent"] = within[-1]["percent"]
    return field


def _her2(text: str) -> Field:
    """HER2's status (`positive`, `negative`, `equivocal`) as ASCO/CAP reads it: the in situ
    hybridisation result where the report states one (`ish`: "amplified", "not amplified", or as
    positive/negative), else the immunohistochemistry score (`ihc`: 0 and 1+ negative, 2+ equivocal,
    3+ positive), else the status stated in words ("HER2: negative", "HER2-"); `ihc` and `ish` kept
    beside it where stated, other statuses stated under `alternatives` (not the equivocal 2+ an ISH
    resolved)."""
    if not re.search(rf"(?i){_HER2_CUE}", text):
        return None
    ish = _choose(text, [_span(m, 0, _ish_result(m.group("v"))) for m in _HER2_ISH.finditer(text)])
    ihc = _choose(
        text, [_span(m, 0, "0" if m.group("v0") else f"{m.group('v')}+") for m in _HER2_IHC.finditer(text)]
    )
    signs = {"+": "positive", "-": "negative"}
    stated = _choose(
        text,
        [
            _span(
                m,
                0,
                _status(_ish_result(word))
                if (word := m.group("v") or m.group("before"))
                else signs[m.group("sign")],
            )
            for m in _HER2_WORD.finditer(text)
        ],
    )
    deciding = ish or ihc
    if deciding is None:
        return stated
    field = {k: v for k, v in deciding.items() if k != "alternatives"}
    field["value"] = _status(str(deciding["value"]))
    stated_values = [
        str(v) for f in (ish, ihc, stated) if f for v in (f["value"], *(f.get("alternatives") or ()))
    ]
    others = {_status(v) for v in stated_values} - {field["value"]}
    if ish is not None:
        others.discard("equivocal")  # the 2+ that sent it to ISH: resolved, not a contradiction
        field["ish"] = ish["value"]
    if ihc is not None:
        field["ihc"] = ihc["value"]
    if others:
        field["alternatives"] = sorted(others)
    return field


def _status(value: str) -> str:
    """A HER2 statement as a status: an ISH result or an IHC score as ASCO/CAP reads it."""
    return _ISH_STATUS.get(value) or _IHC_STATUS.get(value) or value


# Mismatch repair proteins by immunohistochemistry (colorectal and endometrial carcinomas: Lynch
# syndrome screening): each protein's expression as stated, retained or lost, and the status they give.
_PROTEIN = r"(?:MLH-?[1lI]|MSH-?2|MSH-?6|PMS-?2)"  # (OCR's "MLHl")
# (four proteins: a list of more is no statement, and an unbounded one is read again from each name)
_PROTEINS = rf"(?P<list>{_PROTEIN}(?:[ \t]*(?:(?:,|and|&|/)[ \t]*)?(?:and[ \t]+)?{_PROTEIN}){{0,4}})"
_RETAINED = r"intact|retained|preserved|present|positive|normal|expressed"
_LOST = r"lost|loss|absen(?:t|ce)|deficient|negative|abnormal|not\s+(?:expressed|retained|intact|detected)"
# A statement about the gene, not the protein's expression ("MLH1 promoter methylation: present",
# "PMS2 germline testing negative"), or about the other proteins ("but")
_NOT_THE_PROTEIN = (
    r"\b(?:but|germline|mutations?|mutated|gene|genetic|methylat\w*|hypermethylat\w*|promoter|sequencing)\b"
)
# "MLH1: intact", "MLH1, MSH2, MSH6 and PMS2: intact nuclear expression", "MLH1 and PMS2 - loss"
_MMR_AFTER = re.compile(
    rf"(?i)\b{_PROTEINS}\b(?:[ \t]*\([^()\n]{{0,15}}\))?"
    rf"(?:(?!{_PROTEIN}|{_NOT_THE_PROTEIN})[^.;,\n]){{0,40}}?\b(?P<v>{_RETAINED}|{_LOST})\b"
)
# blanks between words, one line break among them
_WS = r"(?:[ \t]+|[ \t]*\n[ \t]*)"
# "loss of MLH1 and PMS2 expression", "intact nuclear expression of MLH1, MSH2, MSH6 and PMS2"; "no
# loss of ..." is retained
_MMR_BEFORE = re.compile(
    rf"(?i)(?P<no>\bno[ \t]+)?\b(?P<v>{_RETAINED}|{_LOST}){_WS}(?:of{_WS})?(?:nuclear{_WS})?"
    rf"(?:(?:expression|staining|immunoreactivity){_WS})?(?:(?:of|for|in){_WS})?(?:the{_WS})?{_PROTEINS}\b"
    rf"(?![ \t]*(?:\([^()\n]{{0,15}}\)[ \t]*)?{_NOT_THE_PROTEIN})"
)
# the status in words: "MMR proficient", "dMMR", "mismatch repair (MMR) protein status: deficient",
# "no loss of mismatch repair protein expression"
_MMR_WORDS = re.compile(
    r"(?i)\b(?P<abbr>[pd])MMR\b|"
    r"\b(?:mismatch[ \t]+repair|MMR)(?:[ \t]*\(MMR\))?(?:[ \t]+protein)?(?:[ \t]+(?:status|proteins|expression|"
    r"immunohistochemistry|IHC))?[ \t]*(?:[:\-][ \t]*)?(?:(?:is|are)[ \t]+)?(?P<w>proficient|deficient|intact|normal|abnormal)\b|"
    r"(?P<noloss>\bno[ \t]+loss[ \t]+of[ \t]+(?:nuclear[ \t]+)?(?:expression[ \t]+of[ \t]+)?(?:the[ \t]+)?"
    r"(?:mismatch[ \t]+repair|MMR)[ \t]+proteins?)"
)
_MSI = re.compile(
    r"(?i)\b(?:MSI[ \t]*[\-‑][ \t]*(?P<h>H|high)\b|(?P<hi>high)[ \t\-]+(?:level[ \t]+)?microsatellite[ \t]+instab\w*"
    r"|microsatellite[ \t]+instab\w*[ \t]*(?:[\-:(][ \t]*)?(?P<h2>high|MSI-H)|MSI[ \t]*[\-‑][ \t]*(?P<l>L|low)\b"
    r"|(?P<s>(?<![^\s(:,;])(?-i:MSS)\b|microsatellite[ \t\-]+stable))"  # ("mss": OCR's "mass")
)


# What each field's patterns need in a report before they run (they start on common words)
_MMR_CUE = re.compile(rf"(?i){_PROTEIN}|MMR|mismatch")
_MSI_CUE = re.compile(r"(?i)MSI|MSS|microsatellite")
_LOST_WORD = re.compile(rf"(?i){_LOST}")
# A sentence about such tumours in general, not this one: "genetic testing may be appropriate even in
# cases with microsatellite stable lesions", "In most tumors with loss of MLH1 and PMS2 staining"
_IN_GENERAL = re.compile(
    r"(?i)\b(?:(?:cases|tumou?rs|lesions|patients|carcinomas)\s+(?:with|showing)|if|whether)\b[^.\n]*$"
)


def _in_general(text: str, start: int) -> bool:
    """Whether the mention at `start` is in a sentence about tumours in general (`_IN_GENERAL`
    within the 60 characters before it)."""
    return _IN_GENERAL.search(text[max(0, start - 60) : start]) is not None


def _combined(text: str, value: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One field read from several statements (each protein's, gene's or arm's): `value`, the stretch
    from the first statement to the last, and each statement's own span under `spans`."""
    first, last = min(parts, key=lambda f: f["start"]), max(parts, key=lambda f: f["end"])
    return {
        "value": value,
        "start": first["start"],
        "end": last["end"],
        "text": text[first["start"] : last["end"]],
        "spans": [list(span) for span in sorted({(f["start"], f["end"]) for f in parts})],
    }


def _mmr(text: str) -> Field:
    """Mismatch repair status by immunohistochemistry: `deficient` where a protein's expression is
    stated lost, `proficient` where every protein stated is retained (or the report says so in words:
    "MMR proficient", "no loss of mismatch repair protein expression"), with each protein's
    expression under `proteins` ({"MLH1": "retained", ...}) and each statement under `spans`."""
    if not _MMR_CUE.search(text):  # (most reports: the patterns below start on common words)
        return None
    stated: dict[str, list[dict[str, Any]]] = {}
    for pattern in (_MMR_AFTER, _MMR_BEFORE):
        for match in pattern.finditer(text):
            if _in_general(text, match.start()):
                continue
            gone = bool(_LOST_WORD.fullmatch(match.group("v")))
            if pattern is _MMR_BEFORE and match.group("no"):
                gone = not gone  # "no loss of MLH1 ..."
            for protein in re.findall(_PROTEIN, match.group("list"), re.I):
                name = re.sub(r"[LI]$", "1", protein.upper().replace("-", ""))
                stated.setdefault(name, []).append(_span(match, 0, "lost" if gone else "retained"))
    proteins = {
        name: _choose(text, sorted(found, key=lambda f: f["start"])) for name, found in stated.items()
    }
    chosen = [f for f in proteins.values() if f is not None]
    if chosen:
        status = "deficient" if any(f["value"] == "lost" for f in chosen) else "proficient"
        field = _combined(text, status, chosen)
        field["proteins"] = {name: f["value"] for name, f in sorted(proteins.items()) if f is not None}
        return field
    words = []
    for match in _MMR_WORDS.finditer(text):
        word = (match.group("abbr") or match.group("w") or "").lower()
        status = (
            "proficient"
            if match.group("noloss") or word in ("p", "proficient", "intact", "normal")
            else "deficient"
        )
        words.append(_span(match, 0, status))
    return _choose(text, words)


def _msi(text: str) -> Field:
    """Microsatellite instability as stated: `MSI-H`, `MSI-L` or `MSS`."""
    if not _MSI_CUE.search(text):
        return None
    found = []
    for match in _MSI.finditer(text):
        if _in_general(text, match.start()):
            continue
        value = "MSS" if match.group("s") else "MSI-L" if match.group("l") else "MSI-H"
        found.append(_span(match, 0, value))
    return _choose(text, found)


# Glioma markers (WHO CNS: the integrated diagnosis; NAACCR's brain molecular markers): IDH mutation,
# by immunohistochemistry for the common IDH1 R132H protein or by sequencing; 1p/19q codeletion; MGMT
# promoter methylation. Each as the report states this tumour's result, never from a test's
# description ("Tumors with IDH1 or IDH2 mutations have ...", "patients with glioma containing a
# methylated MGMT promoter have been shown to benefit ...") or an order ("IDH1 antibody", "testing
# for IDH mutations has been ordered").
# (possessive blanks: a run of them is split one way only, or a long run is tried every way)
_IDH = r"(?:IDH|1DH)(?:[ \t]*+-{0,2}[ \t]*+(?P<gene>[12lIi])(?![A-Za-z0-9]))?"
_IDH_CUE = re.compile(r"(?i)(?:IDH|1DH)")
_R132H = r"(?:[ \t]*+\(?[ \t]*+-?[ \t]*+R[ \t]?[1lI][ \t]?3[ \t]?2[ \t]?H[ \t]*+\)?)"
# a statement of another marker ends the reach of IDH's value ("IDH-1, GFAP, p53 ... positive")
_OTHER_MARKER = r"\b(?:p53|GFAP|Ki[\s\-]?67|MIB|ATRX|NeuN|PTEN|EGFR|CD\d|synapto\w*|olig[\s\-]?2|neurofil\w*)"
_IDH_SEQUENCED = re.compile(
    # "IDH1 AND IDH2 MUTATIONS NOT DETECTED", "IDHI MUTATION DETECTED"
    rf"(?i)\b{_IDH}(?:[ \t]++(?:and|or)[ \t]++|[ \t]*+/[ \t]*+)?(?P<gene2>IDH[ \t]*+-?[ \t]*+2)?[ \t]++(?:point[ \t]++)?"
    r"mutations?[ \t]++(?:(?:is|are|was|were)[ \t]++)?(?P<not>not[ \t]++)?detected\b|"
    # "There is (no) evidence of IDH1 point mutation"
    rf"(?P<no>\bno[ \t]++)?\bevidence[ \t]++of[ \t]++{_IDH.replace('gene', 'gene3')}[ \t]++(?:point[ \t]++)?mutation|"
    # "Positive for IDH1 codon 132 c.394C>T p.Arg132Cys (R132C) mutation", "positive for IDHI -R132S mutation"
    # (OCR: "sitive", "colon" for codon, the line broken before "mutation")
    rf"\b(?P<v>(?:po)?sitive|negative)[ \t]++for[ \t]++{_IDH.replace('gene', 'gene4')}[ \t]*+"
    r"(?:co[dl]on[ \t]++\d+|-?[ \t]*+R[ \t]?1[ \t]?[37][ \t]?2[ \t]?[A-Z])(?:[^\n]|\n(?!\n)){0,60}?\bmutation|"
    # "A point mutation is detected in IDH1 by DNA sequencing"
    rf"\bmutation[ \t]++is[ \t]++detected[ \t]++in[ \t]*+{_IDH.replace('gene', 'gene5')}"
)
_IDH_STAINED = re.compile(
    # "IDH1 (R132H) stain is positive", "IDH-1 is negative", "IDHI-RI32H: Positive", "IDH1- negative"
    # (not "IDH1 and negative for p53": the value another marker's)
    rf"(?i)\b{_IDH}{_R132H}?(?P<gap>(?:(?!{_OTHER_MARKER})[^.\n]){{0,45}}?(?:\n(?:(?!{_OTHER_MARKER})[^.\n]){{0,20}}?)?)"
    r"\b(?P<v>positive|negative)\b"
    r"(?![ \t]++(?:for|with)\b)|"
    # "positive for IDH-1 (R132H)", "immunoreactive for IDH1", "not reactive with IDH1-R132H antiserum",
    # "positive with the antibodies against IDH-1"
    # "Negative immunostain for mutant IDH1-R132H protein", "positive for mutated isocitrate
    # dehydrogenase 1 (IDH1)"
    r"\b(?P<not>not[ \t]++)?(?P<w>positive|negative|immunoreactive|reactive)[ \t]++(?:(?:immuno)?stain(?:ing)?[ \t]++)?"
    r"(?:for|with)\s++(?:(?:the[ \t]++)?antibod(?:y|ies)[ \t]++(?:against|to)[ \t]++)?(?:the[ \t]++)?(?:(?:mutant|mutated)\s++)?"
    rf"(?:isocitrate\s++dehydrogenase[ \t\-]*[1I]?[ \t]*+\([ \t]*+)?{_IDH.replace('gene', 'gene2')}|"
    # "immunoexpression of R132H mutant IDH1", "a subset express R132H mutant IDH1"
    rf"\b(?:immuno)?express(?:ion|es|ed)?[ \t]*+(?:of[ \t]++)?(?:R132H[ \t]++mutant[ \t]++)?{_IDH.replace('gene', 'gene3')}"
)
# The WHO integrated diagnosis's own words: "Oligodendroglioma, IDH-mutant and 1p/19q-codeleted",
# "Glioblastoma, IDH-wildtype"
_IDH_NAMED = re.compile(
    rf"(?i)\b{_IDH}[ \t]*+-?[ \t]*+(?P<v>mutant|mutated|wild[ \t\-]?type)\b(?![ \t]++protein)"
)
# A sentence about gliomas in general or a test to come, not this tumour's result
_NOT_A_RESULT = re.compile(
    r"(?i)\b(?:commonly|usually|typically|often|frequently|would|will|pending|ordered|requested|"
    r"recommended|if|whether|tumou?rs|cases|patients|gliomas)\b[^.\n]*$"
)


def _a_result(text: str, start: int) -> bool:
    """Whether a statement at `start` is a result, not a sentence about gliomas in general or a test to
    come (`_NOT_A_RESULT` within its sentence, up to 80 characters before it)."""
    return _NOT_A_RESULT.search(text[max(0, start - 80) : start]) is None


def _results(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """`pattern`'s matches in `text` that state a result (`_a_result`)."""
    return (match for match in pattern.finditer(text) if _a_result(text, match.start()))


def _first_group(match: re.Match[str], names: tuple[str, ...]) -> str:
    """The first of the groups `names` that matched, lower-cased; "" where none did."""
    return next((match.group(g) for g in names if match.group(g)), "").lower()


def _idh(text: str) -> Field:
    """IDH status: `mutant` (the R132H stain positive, or a mutation found by sequencing), `wildtype`
    (sequencing found none) or `R132H-negative` (the stain negative and no sequencing stated: the stain
    sees the common IDH1 mutation only); the stain's result under `ihc`, sequencing's per gene under
    `sequencing` ({"IDH1": "mutant", "IDH2": "wildtype"}). Sequencing decides where both are stated."""
    if not _IDH_CUE.search(text):
        return None
    sequenced: dict[str, list[dict[str, Any]]] = {}
    for match in _results(_IDH_SEQUENCED, text):
        found = not (
            match.group("not") or match.group("no") or (match.group("v") or "").lower() == "negative"
        )
        groups = [g for g in ("gene", "gene3", "gene4", "gene5") if match.group(g)]
        tested = {"IDH2" if match.group(g) == "2" else "IDH1" for g in groups} or {"IDH1"}
        if match.group("gene2"):
            tested.add("IDH2")
        for gene in tested:
            sequenced.setdefault(gene, []).append(_span(match, 0, "mutant" if found else "wildtype"))
    sequencing_spans = [(f["start"], f["end"]) for found in sequenced.values() for f in found]
    stains = []
    for match in _results(_IDH_STAINED, text):
        if any(start < match.end() and match.start() < end for start, end in sequencing_spans):
            continue  # "positive for IDH1 codon 132 ... mutation": sequencing's result, not a stain's
        if "2" in (match.group("gene") or "", match.group("gene2") or "", match.group("gene3") or ""):
            continue  # the stain sees IDH1's R132H; an IDH2 statement is sequencing's
        word = (match.group("v") or match.group("w") or "").lower()
        if match.group("v") and re.search(
            r"(?i)\bmutation[ \t]++(?:testing|analysis|assay)", match.group("gap") or ""
        ):
            continue  # a sequencing test's heading, its result in `_IDH_SEQUENCED`
        positive = word != "negative" and not match.group("not")
        stains.append(_span(match, 0, "positive" if positive else "negative"))
    named = _choose(
        text,
        [
            _span(m, 0, "mutant" if m.group("v").lower().startswith("mut") else "wildtype")
            for m in _results(_IDH_NAMED, text)
        ],
    )
    genes = {gene: _choose(text, found) for gene, found in sequenced.items()}
    stain = _choose(text, stains)
    if not genes and stain is None and named is None:
        return None
    chosen = [f for f in (*genes.values(), stain, named) if f is not None]
    if genes:
        value = "mutant" if any(f["value"] == "mutant" for f in genes.values() if f) else "wildtype"
    elif named is not None:
        value = named["value"]
    else:
        value = "mutant" if stain and stain["value"] == "positive" else "R132H-negative"
    field = _combined(text, value, chosen)
    if stain is not None:
        field["ihc"] = stain["value"]
    if genes:
        field["sequencing"] = {gene: f["value"] for gene, f in sorted(genes.items()) if f}
        # per gene (IDH1 mutant beside IDH2 wildtype is no contradiction, nor a negative stain
        # beside a mutation the stain does not see, R132C); a positive stain against no mutation found is
        others = {str(a) for f in genes.values() if f for a in f.get("alternatives", ())}
        if value == "wildtype" and any(f["value"] == "positive" for f in stains):
            others.add("mutant")
    else:
        others = {"mutant" if f["value"] == "positive" else "R132H-negative" for f in stains}
        if named is not None:  # a negative stain beside a diagnosis naming the tumour IDH-wildtype agrees
            others = {str(a) for a in named.get("alternatives", ())} | (others - {"R132H-negative"})
    others -= {value}
    if others:
        field["alternatives"] = sorted(others)
    return field


# 1p/19q: the chromosome arms as OCR writes them ("lp", "1 p", "I 9q")
_1P = r"(?:[1lI][ \t]?p)(?:36)?"
_19Q = r"(?:[1lI][ \t]?9[ \t]?q)(?:13)?"
_ARM = rf"(?:{_1P}|{_19Q})"
_AND = r"[ \t]*+(?:/|,|and|&)?[ \t]*+(?:(?:chromosom\w*[ \t]++)?(?:arms?[ \t]++)?)?"
_CODELETION = re.compile(
    # "co-deletion of 1p/19q", "Negative for codeletion of chromosomal arms 1 p and 19q"
    rf"(?i)(?P<neg>\bnegative[ \t]++for[ \t]++|\bno[ \t]++|\bnot[ \t]++|\bwithout[ \t]++)?\bco-?\s*+deletion[ \t]++of[ \t]++"
    rf"(?:chromosom\w*[ \t]++)?(?:arms?[ \t]++)?{_1P}{_AND}{_19Q}|"
    # "1p, 19q LOH (codeletion): Positive"
    rf"\b{_1P}[ \t]*+[/,]?[ \t]*+{_19Q}[ \t]++(?:LOH[ \t]*+)?\(?[ \t]*+codel\w*[ \t]*+\)?[ \t]*+:[ \t]*+(?P<v>positive|negative)\b|"
    # "lp/19q NOT DELETED", "1p/19q: deleted", "demonstrate 1p19q deletion"
    rf"\b{_1P}[ \t]*+/?[ \t]*+{_19Q}[ \t]*+(?::[ \t]*+)?(?P<nd>not[ \t]++deleted|non-?deleted)\b|"
    rf"\b{_1P}[ \t]*+/[ \t]*+{_19Q}[ \t]*+:[ \t]*+(?P<d>deleted)\b|"
    # the WHO name: "Oligodendroglioma, IDH-mutant and 1p/19q-codeleted"
    rf"\b{_1P}[ \t]*+/[ \t]*+{_19Q}[ \t]*+[:\-]?[ \t]*+(?:(?P<nc>non-?codeleted|intact)|codeleted)\b|"
    # "the 1p/19q codeletion associated with oligodendroglioma was not present"
    rf"\b{_1P}[ \t]*+/?[ \t]*+{_19Q}[ \t]++codeletion\b[^.]{{0,50}}?\b(?:was|is)[ \t]++(?P<np>not[ \t]++)?(?:present|detected|identified)\b|"
    rf"\b(?:demonstrat\w*|show\w*|reveal\w*)\s++(?:a[ \t]++)?{_1P}[ \t]*+/?[ \t]*+{_19Q}\s++(?P<d2>deletion|loss)\b|"
    # "preservation of both chromosomes 1p and 19q", "loss of both chromosomes 1p and 19q"
    rf"\b(?P<both>preservation|loss)[ \t]++of[ \t]++both\s++chromosomes?\s++{_1P}\s++and\s++{_19Q}|"
    # "Negative for both 1p/19q loss", "negative for 1p,19q LOH"
    rf"\b(?P<w>negative|positive)[ \t]++for\s++(?:both[ \t]++)?{_1P}[ \t]*+[/,]?[ \t]*+{_19Q}[ \t]++(?:LOH|loss|deletion)\b|"
    # "showed LOH for 1p/19q", "allelic loss for chromosome segments lp and 19q" (not "LOH of 1p/19q is
    # requested", "1p/19q LOH testing")
    rf"\b(?:LOH|allelic[ \t]++loss|loss[ \t]++of[ \t]++heterozygosity)\s++(?:for|of|on)\s++(?:chromosom\w*\s++(?:segments|arms)\s++)?"
    rf"{_1P}\s*+(?:/|and|,)\s*+{_19Q}(?!\s*+(?:is|are|will|was|testing|analysis|studies|assay|FISH)\b)|"
    # "consistent with deletion of lp and 19q", "Assays failed to detect deletions of 1p and 19q loci",
    # "NO EVIDENCE OF LOH WAS DETECTED IN 1p OR IN 19q"
    rf"\b(?:consistent[ \t]++with|show\w*|demonstrat\w*)\s++(?:the[ \t]++)?(?P<d3>deletion)[ \t]++of\s++{_1P}\s++and\s++{_19Q}|"
    rf"\b(?P<failed>failed[ \t]++to[ \t]++detect)[ \t]++deletions?[ \t]++of\s++{_1P}\s++and\s++{_19Q}|"
    rf"\b(?P<noloh>no[ \t]++evidence[ \t]++of[ \t]++LOH)[ \t]++was[ \t]++detected[ \t]++in\s++{_1P}\s++or[ \t]++(?:in[ \t]++)?{_19Q}"
)
_ARM_STATED = re.compile(
    # "Allelic loss on chromosome arm 1p and chromosome arm 19q is NOT detected"
    rf"(?i)\ballelic[ \t]++loss[ \t]++on[ \t]++(?:chromosome[ \t]++)+(?:arm[ \t]++)?(?P<a1>{_ARM})"
    rf"(?:[ \t]++and[ \t]++(?:chromosome[ \t]++)+(?:arm[ \t]++)?(?P<a2>{_ARM}))?\s++is\s++(?P<not>not\s++)?detected\b|"
    # "There is no evidence of allelic loss on chromosome 1p"
    rf"(?P<no>\bno[ \t]++)?\bevidence[ \t]++of[ \t]++allelic[ \t]++loss[ \t]++on[ \t]++(?:chromosome[ \t]++)+(?:arm[ \t]++)?(?P<a3>{_ARM})\b|"
    # "NEGATIVE for chromosome 1p36 deletion", "Negative for the deletion of 1p"
    rf"\b(?P<v>positive|negative)[ \t]++for[ \t]++(?:chromosome[ \t]++(?P<a4>{_ARM})[ \t]++deletion|(?:the[ \t]++)?deletion[ \t]++of[ \t]++(?P<a5>{_ARM}))\b|"
    # "Chromosome 1p: Intact", "Chromosome 19q: NON-DELETED", "1p Deletion by FISH: Deleted"
    rf"\bchromosome[ \t]++(?P<a6>{_ARM})[ \t]*+:[ \t]*+(?P<s>intact|non-?deleted|not[ \t]++deleted|deleted|loss|lost)\b|"
    rf"\b(?P<a7>{_ARM})[ \t]++deletion[ \t]++by[ \t]++FISH[ \t]*+:[ \t]*+(?P<s2>not[ \t]++deleted|deleted)\b|"
    # "No deletion of chromosome arm 1p seen."
    rf"\b(?P<no2>no)[ \t]++deletion[ \t]++of[ \t]++chromosome[ \t]++(?:arm[ \t]++)?(?P<a8>{_ARM})\b"
)
_1P19Q_CUE = re.compile(r"(?i)[1lI][ \t]?9[ \t]?q")


def _arm(name: str) -> str:
    return "19q" if "9" in name else "1p"


def _codeletion_1p19q(text: str) -> Field:
    """1p/19q codeletion as stated: `codeleted` (both arms lost, or the report says so), `not codeleted`
    (either arm kept, or the report says so); each arm's state stated under `arms` ({"1p": "deleted",
    "19q": "intact"}). A test ordered, pending or described is none."""
    if not _1P19Q_CUE.search(text):
        return None
    joint = []
    for match in _results(_CODELETION, text):
        word = _first_group(match, ("v", "w", "both"))
        kept = any(match.group(g) for g in ("neg", "nd", "np", "nc", "failed", "noloh"))
        kept = kept or word in ("negative", "preservation")
        joint.append(_span(match, 0, "not codeleted" if kept else "codeleted"))
    stated: dict[str, list[dict[str, Any]]] = {}
    for match in _results(_ARM_STATED, text):
        state = (match.group("s") or match.group("s2") or match.group("v") or "").lower()
        lost = not (match.group("not") or match.group("no") or match.group("no2")) and state not in (
            "intact",
            "negative",
        )
        lost = lost and not state.startswith(("non", "not"))
        named = [match.group(g) for g in ("a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8") if match.group(g)]
        for arm in named:
            stated.setdefault(_arm(arm), []).append(_span(match, 0, "deleted" if lost else "intact"))
    arms = {arm: _choose(text, found) for arm, found in stated.items()}
    verdict = _choose(text, joint)
    both = None  # what the two arms stated give
    if len(arms) == 2:
        both = "codeleted" if all(f and f["value"] == "deleted" for f in arms.values()) else "not codeleted"
    if verdict is not None:
        value = verdict["value"]
    elif both is not None:
        value = both
    elif any(f and f["value"] == "intact" for f in arms.values()):
        value = "not codeleted"
    else:
        return None  # one arm lost, the other not stated
    chosen = [f for f in (verdict, *arms.values()) if f is not None]
    field = _combined(text, value, chosen)
    if arms:
        field["arms"] = {arm: f["value"] for arm in ("1p", "19q") if (f := arms.get(arm))}
    others = {str(a) for a in (verdict or {}).get("alternatives", ())}
    if verdict is not None and both is not None:
        others.add(both)
    others -= {value}
    if others:
        field["alternatives"] = sorted(others)
    return field


_MGMT = r"(?:MGMT)"
_MGMT_CUE = re.compile(r"(?i)MGMT")
_MGMT_METHYLATION = re.compile(
    # "NEGATIVE: No evidence of methylated MGMT promoter is detected", "Methylated MGMT promoter is detected"
    rf"(?i)(?P<no>\bno[ \t]++evidence[ \t]++of[ \t]++)?\bmethylated[ \t]++{_MGMT}[ \t]++promot[eo]r[ \t]++"
    r"(?:is|was)[ \t]++(?P<not>not[ \t]++)?detected\b|"
    # "MGMT PROMOTER METHYLATION IDENTIFIED", "The MGMT promoter methylation assay is negative"
    rf"\b{_MGMT}[ \t]++promot[eo]r[ \t]++methylation[ \t]*+(?:(?:assay|analysis|status|test(?:ing)?)[ \t]*+)?"
    r"(?::[ \t]*+)?(?:(?:is|was)[ \t]++)?(?P<v>not[ \t]++identified|not[ \t]++detected|identified|detected|"
    r"present|absent|positive|negative)\b|"
    # "positive for MGMT promoter methylation" (not "considered negative for ... when ...")
    rf"\b(?P<w>positive|negative)\s++for\s++{_MGMT}[ \t]++promot[eo]r[ \t]++methylation\b(?![ \t]*+\n?[ \t]*+\W*when)|"
    # "Methylated MGMT promoter: Positive.", "the presence of MGMT promotor methylation"
    rf"\bmethylated[ \t]++{_MGMT}[ \t]++promot[eo]r[ \t]*+:[ \t]*+(?P<x>positive|negative)\b|"
    # "The analyzed region of the MGMT promoter is UNMETHYLATED" (OCR: "UNMETYLATED"), "MGMT METHYLATION
    # ASSAY : GENE METHYLATION NOT DETECTED"
    rf"\b{_MGMT}[ \t]++(?:gene[ \t]++)?promot[eo]r[ \t]++(?:region[ \t]++)?(?:is|was)[ \t]++(?P<un>un)?meth?ylated\b|"
    rf"\b{_MGMT}[ \t]++methylation[ \t]++assay[ \t]*+:[ \t]*+(?:gene[ \t]++)?methylation[ \t]++(?P<not2>not[ \t]++)?detected\b|"
    rf"\b(?P<y>presence|absence)[ \t]++of[ \t]++{_MGMT}[ \t]++promot[eo]r[ \t]++methylation\b"
)


def _mgmt(text: str) -> Field:
    """MGMT promoter methylation as the report states its result: `methylated` or `unmethylated`
    (an immunostain for the MGMT protein is another test, not read)."""
    if not _MGMT_CUE.search(text):
        return None
    found = []
    for match in _results(_MGMT_METHYLATION, text):
        word = _first_group(match, ("v", "w", "x", "y"))
        absent = any(match.group(g) for g in ("no", "not", "not2", "un")) or word.startswith(
            ("not", "absen", "negative")
        )
        found.append(_span(match, 0, "unmethylated" if absent else "methylated"))
    return _choose(text, found)


def _ish_result(word: str) -> str:
    """An ISH result as one wording: "non-amplified", "not  amplified" -> "not amplified"."""
    word = re.sub(r"\s+", " ", word.lower())
    return "not amplified" if word.startswith("no") else word


def _simple(
    pattern: re.Pattern[str],
    convert: Callable[[re.Match[str]], Any],
    rank: Callable[[Any], Any] | None = None,
) -> Callable[[str], Field]:
    def run(text: str) -> Field:
        return _choose(text, [_span(m, 0, convert(m)) for m in pattern.finditer(text)], rank)

    return run


_stated_stage = _simple(_STAGE, lambda m: f"Stage {m.group('stage').upper()}{(m.group('sub') or '').upper()}")


def _ocr_stage(match: re.Match[str]) -> str:
    """An OCR'd or Arabic stage numeral as Roman ("Ill" III, "11" II, "4" IV) with its substage."""
    numeral = match.group("n") or match.group("n2")
    number = int(numeral) if numeral in ("2", "3", "4") else len(numeral)
    return f"Stage {'I' * number if number < 4 else 'IV'}{match.group('sub') or match.group('sub2') or ''}"


def _stage(text: str) -> Field:
    """The stage group as stated, in Roman numerals; else one OCR wrote otherwise (`_STAGE_OCR`)."""
    return _stated_stage(text) or _choose(
        text, [_span(m, 0, _ocr_stage(m)) for m in _STAGE_OCR.finditer(text)]
    )


# A case's Gleason score and Grade Group are its worst part's (AJCC stages prostate cancer by the
# highest): "A. right base: 3+4=7 ... C. left base: 3+3=6" is 3+4=7, whichever part is written last.
_gleason = _simple(
    _GLEASON,
    lambda m: f"{m.group('a')}+{m.group('b')}={m.group('s') or int(m.group('a')) + int(m.group('b'))}",
    lambda value: (int(value.split("=")[1]), int(value.split("+")[0])),
)
_grade_group = _simple(_GRADE_GROUP, lambda m: int(m.group("g")), lambda value: value)


def _ki67(text: str) -> Field:
    """Ki-67's percent of cells stained; where a range is stated ("30-40%") the value is its low end,
    and `range` holds both ends."""
    found = []
    for match in _KI67.finditer(text):
        low, high = int(match.group("v")), match.group("hi")
        field = _span(match, 0, low)
        if high is not None and low < int(high) <= 100:
            field["range"] = [low, int(high)]
        found.append(field)
    return _choose(text, found)


_psa = _simple(_PSA, lambda m: float(re.sub(r"\s", "", m.group("v")).replace(",", ".")))


def _laterality(text: str, site: Field = None) -> Field:
    """The side named (sides that disagree stay visible as `alternatives`, see `_choose`). The
    prostate, one gland of two lobes, is `Bilateral` where its final diagnosis names both sides (the
    registries' convention; its parts "A. right base ... C. left base" are one tumour's extent)."""
    found = [_span(m, 0, m.group("side").capitalize()) for m in _LATERALITY.finditer(text)]
    stated = _preferred(text, found)
    chosen = _choose(text, found, preferred=stated)
    if chosen is None or site is None or not str(site["value"]).startswith(_BOTH_LOBES):
        return chosen
    if {"Left", "Right"} <= {f["value"] for f in stated}:
        sides = [f for f in stated if f["value"] in ("Left", "Right")]
        return {**chosen, "value": "Bilateral", "spans": [[f["start"], f["end"]] for f in sides]}
    return chosen


# an unpaired organ whose laterality is the lobes the tumour involves
_BOTH_LOBES = ("C61",)


# A synoptic label glued to the value before it, as some checklist exports print them ("Tumor site:
# LungTumor size: 3.5 x 3.3 x 3.3 cmHistologic type: AdenocarcinomaHistologic grade: Moderately
# differentiatedTumor extent:"): a lower-case run, then a capitalised word that opens a "Label:" on the
# same line. No pattern can see a word end there.
_GLUED_LABEL = re.compile(r"(?<=[a-z]{2})(?=[A-Z][a-z]+(?:[ \t/\-]+[A-Za-z\-]+){0,4}[ \t]*:)")


def _unglued(text: str) -> tuple[str, Offsets | None]:
    """`text` with a space before every glued label (`_GLUED_LABEL`), and where each character of the
    result stood in `text` (an inserted space takes the offset of the label after it); None where
    nothing was glued."""
    cuts = [m.start() for m in _GLUED_LABEL.finditer(text)]
    if not cuts:
        return text, None
    parts: list[str] = []
    offsets = Offsets()
    last = size = 0
    for cut in cuts:
        parts += [text[last:cut], " "]
        size += cut - last
        offsets.jump(size, cut)  # the space stands where the label does
        offsets.jump(size + 1, cut)
        size += 1
        last = cut
    parts.append(text[last:])
    return "".join(parts), offsets


def _mapped(field: dict[str, Any], offsets: Offsets, text: str) -> dict[str, Any]:
    """A field read from the unglued text, its spans moved back to the text as given."""

    def span(start: int, end: int) -> list[int]:
        return [offsets[start], offsets[end - 1] + 1 if end > start else offsets[start]]

    start, end = span(field["start"], field["end"])
    moved = {**field, "start": start, "end": end, "text": text[start:end]}
    if "spans" in field:
        moved["spans"] = [span(s, e) for s, e in field["spans"]]
    return moved


def named_sites(text: str, fields: dict[str, Any]) -> list[tuple[int, int, str, str]]:
    """Every topography mention of a report (`icdo.named_sites`: start, end, ICD-O-3 code and where
    it stands against the histologic type `fields` holds, `extract`'s, the site labels and the final
    part)."""
    final = _FINAL.search(text)
    return icdo.named_sites(text, final.end() if final else None, fields.get("histologic_type"))


def extract(text: str) -> dict[str, Field]:
    """Synoptic fields of one pathology report (see `FIELDS`), each with its evidence span or None."""
    from ..textio import coerce_text

    text = coerce_text(text)
    spaced, offsets = _unglued(text)
    if offsets is None:
        return _extract(text)
    return {name: f and _mapped(f, offsets, text) for name, f in _extract(spaced).items()}


def _extract(text: str) -> dict[str, Field]:
    finals = [m.end() for m in _FINAL.finditer(text)]
    histology = icdo.histologic_type(text, finals[0] if finals else None)
    site = icdo.primary_site(text, finals[0] if finals else None, histology)
    positive, examined = _lymph_nodes(text)
    fields: dict[str, Field] = dict(_tnm(text, site, positive, examined))
    fields["histologic_type"], fields["primary_site"] = histology, site
    # Ta is the urinary tract's alone; elsewhere it is OCR (a kidney's "pTa" for pT1a)
    t, site = fields["pT"], fields["primary_site"]
    if t is not None and t["value"] == "pTa" and (site is None or site["value"][:3] not in _TA_SITES):
        fields["pT"] = None
    fields["stage"] = _stage(text)
    fields["grade"] = _grade(text)
    fields["gleason"] = _gleason(text)
    fields["grade_group"] = _grade_group(text)
    fields["tumor_size_mm"] = _size_mm(text, histology is not None)
    fields["margins"], fields["closest_margin_mm"] = _margins(text)
    fields["lymph_nodes_positive"], fields["lymph_nodes_examined"] = positive, examined
    for name, cue in _INVASION.items():
        fields[name] = _invasion(text, cue)
    fields["extranodal_extension"] = _extranodal(text)
    fields["laterality"] = _laterality(text, fields["primary_site"])
    for name, cue in _RECEPTOR.items():
        fields[name] = _receptor(text, cue)
    fields["her2"] = _her2(text)
    fields["ki67_percent"] = _ki67(text)
    fields["mmr"], fields["msi"] = _mmr(text), _msi(text)
    fields["idh"], fields["mgmt"] = _idh(text), _mgmt(text)
    fields["codeletion_1p19q"] = _codeletion_1p19q(text)
    fields["psa_ng_ml"] = _psa(text)
    for field in fields.values():
        if field is not None and "text" not in field:
            field["text"] = text[field["start"] : field["end"]]
    return {name: fields.get(name) for name in FIELDS}


_NO_TUMOUR = re.compile(
    r"(?i)\b(?:negative\s+for\s+(?:malignancy|carcinoma|tumou?r|neoplasm)|no\s+(?:evidence\s+of\s+)?"
    r"(?:residual\s+)?(?:malignancy|carcinoma|tumou?r|neoplasm)|benign)\b"
)


# fields whose disagreeing mentions need a reader (HER2: a status stated against its ISH or IHC result
# decides a therapy; an equivocal 2+ the ISH resolved is no disagreement; the glioma markers decide the
# integrated diagnosis: MGMT methylated in one block and not in another): other fields (a side named
# in a margin, a grade of a second lesion) disagree too often to flag
_REVIEWED = ("histologic_type", "pT", "pN", "pM", "stage", "her2", "idh", "codeletion_1p19q", "mgmt")


def node_conflict(fields: dict[str, Field]) -> str | None:
    """pN stated against the report's own node count, or None: pN0 with positive nodes counted, or
    pN1-pN3 with every counted node negative. Measured on the TCGA reports: the coder's pN was right
    for 19 of the 34 such reports (56%) against 82% of the others (docs/benchmarks.md)."""
    stated, positive, examined = (
        fields.get(k) for k in ("pN", "lymph_nodes_positive", "lymph_nodes_examined")
    )
    if not stated or not positive or not _against_count(str(stated["value"]), positive, examined):
        return None
    category, count = _n_category(str(stated["value"])), positive["value"]
    if category == "N0":
        return f"pN0 stated but {count} positive lymph node(s) counted (characters {positive['start']}-{positive['end']})"
    if examined:
        return (
            f"{category} stated but all {examined['value']} lymph nodes counted are negative "
            f"(characters {positive['start']}-{positive['end']})"
        )
    return None


def review(text: str, fields: dict[str, Field]) -> dict[str, Any]:
    """Why fields may be missing or doubtful: `{"status", "reasons"}` with status `ok`, `unreadable`
    (too little legible text: failed OCR), `no_tumour` (no histologic type named, with the benign or
    negative wording found, if any) or `review` (pT, pN, pM or stage stated with different values, or
    tumour types named that do not refine one another). Reasons name fields, values and offsets, never report text."""
    from ..textio import coerce_text, repair_nul_interleaved

    text = coerce_text(text)
    words = re.findall(r"[A-Za-z]{3,}", text)
    if len(words) < 8:
        why = (
            "NUL between the characters: UTF-16 text read as 8-bit (the readers repair it; "
            "nlp_engine.textio.repair_nul_interleaved)"
            if repair_nul_interleaved(text)[1]
            else "failed OCR or an empty report"
        )
        return {"status": "unreadable", "reasons": [f"only {len(words)} legible words: {why}"]}
    reasons = []
    status = "ok"
    if fields.get("histologic_type") is None:
        status = "no_tumour"
        negative = _NO_TUMOUR.search(text)
        reasons.append(
            "no histologic type named"
            + (
                f"; benign or negative wording at characters {negative.start()}-{negative.end()}"
                if negative
                else ""
            )
        )
    for name, field in fields.items():
        if name in _REVIEWED and field is not None and field.get("alternatives"):
            if status == "ok":
                status = "review"
            kind = "several tumour types named" if name == "histologic_type" else "stated differently"
            reasons.append(
                f"{name}: {kind} ({field['value']} chosen; also {', '.join(map(str, field['alternatives']))})"
            )
    conflict = node_conflict(fields)
    if conflict:
        status = "review" if status == "ok" else status
        reasons.append(f"pN: {conflict}")
    return {"status": status, "reasons": reasons}


# Words that name a malignancy (or its spread), and the cues that deny one in the words before it:
# a report naming none of them outside a negation gives the coder nothing to code from.
_MALIGNANT = re.compile(
    r"(?i)\b(?:\w*(?:carcinom|sarcom|lymphom|melanom|gliom|blastom|mesotheliom|seminom|astrocytom|"
    r"ependymom|germinom|myelom|leuka?emi|neoplas)\w*|malignan\w*|cancer\w*|metasta\w*|tumou?r\w*|"
    r"invasive|in\s+situ|\w*[ce][ae]r[ce][il1]n[o0](?:m|rn)\w*)\b"  # OCR: "eareinoma", "carcinorna"
)
_DENIED = re.compile(
    r"(?i)(?:negative\s+(?:for|of)|\bno\b|\bnot\b|without|free\s+of|absence\s+of|benign|rule\s+out|"
    r"\br/o\b|history\s+of|\bh/o\b|\?)[^.\n;]{0,40}$"
)


# fields only a tumour has: one of them stated makes a report codable even when OCR hid the type's name
_TUMOUR_FIELDS = ("histologic_type", "pT", "pN", "stage", "grade", "gleason", "tumor_size_mm")


def withheld(text: str, fields: dict[str, Field]) -> str | None:
    """Why a report must not be coded, or None: it is unreadable, or it states no histologic type, no
    tumour field (pT, pN, stage, grade, size) and no malignancy outside a negation (a benign report, a
    consent form). A coder's guess there would be invented from the template, so `PathologyCoder`
    leaves every field empty and gives this reason."""
    verdict = review(text, fields)
    if verdict["status"] == "unreadable":
        return str(verdict["reasons"][0])
    if any(fields.get(name) is not None for name in _TUMOUR_FIELDS):
        return None
    for match in _MALIGNANT.finditer(text):
        if not _DENIED.search(text, max(0, match.start() - 60), match.start()):
            return None
    return "no tumour type, stage, grade or size, and no malignancy named outside a negation: benign or not a tumour report"


# A specimen part's label at a line start: `A.`, `B:`, `C)`, `Part A`, `Specimen #2`, `Container B`,
# `FSA1` (frozen section of part A). Bare digits are list numbering, not parts.
_PART = re.compile(
    r"(?im)^[ \t]*(?:(?P<kind>part|specimen|container)(?:\s+#?|\s*#)\s*(?P<named>[A-Z]|\d{1,2})\b\s*[:.)\-]?"
    r"|(?P<frozen>FS)\s?(?P<fs>[A-Z])\d{0,2}\b\s*[:.)\-]?"
    r"|(?P<letter>[A-Z])\s*(?:[:.)\]]|\s-)(?=\s*[A-Za-z(]))"
)
# A line that opens another section ends a part's block.
_SECTION_LINE = re.compile(
    r"(?im)^[ \t]*(?:final\s+diagnosis|diagnosis|gross(?:\s+description)?|macroscop\w*|microscop\w*|"
    r"clinical\s+(?:history|details|information)|history|comment|synoptic|summary|"
    r"intra[\s\-]?operative\s+consult\w*|frozen\s+section\s+diagnosis|addendum)\b[^\n]{0,40}$"
)


def _part_blocks(text: str) -> list[tuple[str, int, int]]:
    """`(label, start, end)` for every specimen-part block, in text order (`FSA1` is part A)."""
    matches = list(_PART.finditer(text))
    if any(m.group("kind") for m in matches):
        # "Part 3:" names the parts; lettered lines inside are findings ("A. Ulcerated carcinoma")
        matches = [m for m in matches if m.group("kind") or m.group("frozen")]
    heads = [
        ((m.group("named") or m.group("fs") or m.group("letter")).upper(), m.start(), m.end())
        for m in matches
    ]
    if len({h[0] for h in heads}) < 2 and not any(m.group("kind") or m.group("frozen") for m in matches):
        return []  # one bare "A." is more likely a sentence than a list of parts
    blocks = []
    for i, (label, start, body) in enumerate(heads):
        end = heads[i + 1][1] if i + 1 < len(heads) else len(text)
        section = _SECTION_LINE.search(text, body, end)
        end = section.start() if section else end
        blocks.append((label, start, min(end, start + 3000)))
    return blocks


def _shifted(field: dict[str, Any], offset: int) -> dict[str, Any]:
    return {**field, "start": field["start"] + offset, "end": field["end"] + offset}


def extract_specimens(text: str) -> list[dict[str, Any]]:
    """Per specimen part (`A:`, `Part B`, `Container C`, `FSA1`): its label, a short description (the
    header line, e.g. `Lung, right upper lobe, lobectomy`), the blocks it spans in the report (a part
    is usually named in the specimen list, the gross and the diagnosis) and the synoptic fields read
    from those blocks, evidence offsets into the whole text. A value found in several blocks follows
    the case rules (`_choose`: frozen-section lines lose, the final part wins; the rest are
    `alternatives`). Empty when the report names no parts: then `extract(text)` is the whole story."""
    from ..textio import coerce_text

    text = coerce_text(text)
    parts: dict[str, list[tuple[int, int]]] = {}
    for label, start, end in _part_blocks(text):
        parts.setdefault(label, []).append((start, end))
    out = []
    for label, blocks in parts.items():
        candidates: dict[str, list[dict[str, Any]]] = {name: [] for name in FIELDS}
        for start, end in blocks:
            for name, field in extract(text[start:end]).items():
                if field is not None:
                    shifted = _shifted(field, start)
                    shifted.pop("alternatives", None)
                    candidates[name].append(shifted)
        fields = {name: _choose(text, found) for name, found in candidates.items()}
        first = text[blocks[0][0] : blocks[0][1]]
        lines = [line.strip() for line in _PART.sub("", first, count=1).splitlines()]
        description = next((line for line in lines if line), "")[:120]
        out.append(
            {
                "label": label,
                "description": description,
                "blocks": [[s, e] for s, e in blocks],
                "fields": fields,
            }
        )
    return out
