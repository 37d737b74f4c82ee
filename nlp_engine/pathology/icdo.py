"""Histologic type and primary site of a pathology report, coded to ICD-O-3, with evidence.

The vocabularies are `vocab/icdo3_morphology.tsv` (morphology codes such as `8140/3` with their
terms and the codes each refines) and `vocab/icdo3_topography.tsv` (topography codes such as `C34.1`).

Histologic type: every mention of a term (the words of tumours' names as OCR misreads them,
"ADENOCARCINOHA", "urothellal", read as written right: `_ocr_words`), overlapping mentions resolved to the longest, mentions in a
negated phrase on their line dropped (`negative for carcinoma`, `no residual tumor`), mentions in a
sentence about a type in general dropped where others remain (laboratory boilerplate: "EGFR is an
attractive target in glioblastoma"). Each code then scores its mentions (twice over in the
final-diagnosis or synoptic part; 4 more, once, where a synoptic label such as "Histologic type:"
names it) plus the scores of the codes it refines, so `renal cell carcinoma ... histologic type: clear cell` is coded 8310/3 (clear cell
refines renal cell carcinoma) and a lone `carcinoma` does not outvote `adenocarcinoma`. The evidence
is the chosen code's first mention in the final part, else its first one, passing over mentions named
as a deposit ("metastatic adenocarcinoma") where another remains. Carcinoma in situ beside an
invasive tumour is left out; a report with only in situ disease gets the morphology with behaviour
/2 (`8500/2`).

Primary site: the organ (three-character topography category) named most, counting the line of the
chosen histologic type (with the next line where the sentence runs on: "adenocarcinoma\n of the
cecum") and a synoptic "Tumor site:" five times, its specimen header (the line before) three times
and the final part twice; then the most named subsite of that organ (`upper lobe` refines lung only
where the organ is the lung; the type's own sentence or a site label seven times, the header three;
not a subsite whose own line calls it benign away from the type, "Bladder neck, biopsy: benign
urothelium"), else the organ's own code (a cholangiocarcinoma of the liver: the intrahepatic bile ducts, C22.1,
`_TYPE_SUBSITE`). The appendix refines the colon only there: a right hemicolectomy
always holds one. The colon, rectosigmoid and rectum (C18, C19.9,
C20.9) count as one organ, the colorectum, in which the rectosigmoid and rectum are subsites, named
in the final part or beside the tumour (a "rectal bleeding" in the history is no site):
"Rectosigmoid colon, resection" is C19.9 however often the gross says "colon", and so is a specimen
naming the sigmoid and the rectum as one ("Sigmoid colon and upper rectum"). A site named in a
part that says it holds no tumour ("RIGHT DISTAL URETER: benign ureter", "ENDOMETRIUM: inactive
pattern") counts only where no other is named. A type that arises in some organs only keeps to them where the report names one: a
urothelial carcinoma is the urinary tract's (not the prostate of a cystoprostatectomy), a squamous
carcinoma or an endocervical adenocarcinoma the cervix's rather than the corpus's or an ovary's (a
radical hysterectomy). A report
that names no site but a type found in one organ only (a glioma, a hepatocellular carcinoma, a renal
cell carcinoma) gets that organ's code, with the type's words as evidence and `implied_by` naming
the type. The site says where its mention was read (`read_from`): `type` (the type's line, the one
before it, or the type's own words for an implied site), `site_label` (a synoptic "Tumor site:"), or
`text` (elsewhere: the organ named most, as the ureters of a cystectomy may be); a site written as a
code (below) has `written: True` instead. A report with no
tumour mention gets no histologic type and no site is invented.

An ICD-O-3 code written in the report ("M-8071/3", "ICD-O-3 ... 8140/3", "C34.1") is its coder's
own answer: where the vocabulary holds it, the last one written is the value (`written: True`), the
code the words give an alternative (so `review` shows a disagreement).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from ..resources import open_text
from .offsets import Offsets

GENERIC_MORPHOLOGY = "8010/3"
_NEGATED = re.compile(
    r"(?i)\b(?:no|not|negative\s+for|without|free\s+of|absence\s+of|rule\s+out|r/o|"
    r"no\s+evidence\s+of|no\s+residual|uninvolved\s+by|history\s+of)\b[^.;:\n]*$"
)


@dataclass(frozen=True)
class Entry:
    code: str
    name: str
    pattern: re.Pattern[str]
    refines: tuple[str, ...] = ()
    # a word every mention contains, per term, or () when some term has none: a cheap test on the
    # lower-cased text that skips the pattern for most reports
    anchors: tuple[str, ...] = ()


def _compile(terms: str) -> re.Pattern[str]:
    alternatives = [t.strip().replace("-", r"[\s\-]*").replace(" ", r"[\s\-]+") for t in _top_level(terms)]
    # a term ends where a word ends, or where OCR glued the next label to it in camel case
    # ("Histologic type:  AdenocarcinomaHistologic grade:", "Tumor site:  LungTumor size:")
    return re.compile(
        r"(?i)(?<![A-Za-z0-9])(?:"
        + "|".join(alternatives)
        + r")(?:(?![A-Za-z0-9])|(?-i:(?<=[a-z])(?=[A-Z][a-z])))"
    )


def _top_level(terms: str) -> list[str]:
    """The `|`-separated alternatives outside any group."""
    parts, depth, current, escaped = [], 0, "", False
    for char in terms:
        if not escaped:
            depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "|" and depth == 0 and not escaped:
            parts.append(current)
            current = ""
        else:
            current += char
        escaped = char == "\\" and not escaped
    return [*parts, current]


def _anchors(terms: str) -> tuple[str, ...]:
    anchors = []
    for term in _top_level(terms):
        # drop groups (innermost first), classes, escapes and optional characters: what is left occurs
        # in every mention of the term
        required, reduced = "", re.sub(r"\\.", " ", term.lower())
        while reduced != required:
            required, reduced = reduced, re.sub(r"\((?:\?(?:<?[=!]|:))?[^()]*\)[?*]?", " ", reduced)
        required = re.sub(r"\[[^\]]*\][?*]?|.[?*]", " ", required)
        words = re.findall(r"[a-z]{3,}", required)
        if not words:
            return ()
        anchors.append(max(words, key=len))
    return tuple(anchors)


@cache
def vocabulary(name: str) -> tuple[Entry, ...]:
    """The entries of `vocab/icdo3_<name>.tsv` (`morphology` or `topography`)."""
    entries = []
    with open_text(f"vocab:icdo3_{name}.tsv") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if not line or line.startswith("#") or line.startswith("code\t"):
                continue
            code, label, terms, *rest = line.split("\t")
            refines = tuple(c for c in (rest[0].split(",") if rest else []) if c)
            entries.append(Entry(code, label, _compile(terms), refines, _anchors(terms)))
    return tuple(entries)


@cache
def names(name: str) -> dict[str, str]:
    """Code -> preferred name for one vocabulary."""
    return {entry.code: entry.name for entry in vocabulary(name)}


@cache
def _by_code(name: str) -> dict[str, Entry]:
    return {entry.code: entry for entry in vocabulary(name)}


@cache
def specific_morphologies() -> frozenset[str]:
    """The histologic types of the vocabulary no other entry refines (acinar adenocarcinoma 8550/3,
    not adenocarcinoma NOS 8140/3, which it refines; carcinoma NOS is refined by all): a report naming
    one says more about the tumour than one naming a broad type."""
    entries = vocabulary("morphology")
    broad = {code for entry in entries for code in entry.refines} | {GENERIC_MORPHOLOGY}
    return frozenset(entry.code for entry in entries) - broad


# a word broken at a line end (`adeno-\ncarcinoma`), or by an OCR dot inside it (`car·cinoma`, `mar•gin`)
_BROKEN = re.compile(r"(?<=[A-Za-z])(?:-[ \t]*\r?\n[ \t]*|[·•])(?=[a-z])")


def _join_broken_words(text: str) -> tuple[str, Offsets | None]:
    """`text` with words broken by a hyphen at a line end or an OCR dot joined (`adeno-\\ncarcinoma`,
    `car·cinoma`), and where each character of the result stood in `text` (None: nothing joined), so
    evidence points at the text as given."""
    if not _BROKEN.search(text):
        return text, None
    parts: list[str] = []
    offsets = Offsets()
    last = size = 0
    for match in _BROKEN.finditer(text):
        parts.append(text[last : match.start()])
        size += match.start() - last
        offsets.jump(size, match.end())
        last = match.end()
    parts.append(text[last:])
    return "".join(parts), offsets


# The words of tumours' names that OCR misreads most ("ADENOCARCINOHA", "Urothellal", "SOUAMOUS",
# "oligoastrocitoma"): a word of the same length differing from one of them in at most two letters
# (one, for a word under nine letters), each a letter OCR confuses with the right one (`_OCR_CLASSES`),
# is read as that word. The text keeps its length, so every offset stays exact; real words that differ
# otherwise ("capillary" for "papillary", "urothelium", "carcinoid", "sarcomatous") are left alone.
_HEAD_WORDS = (
    "adenocarcinoma carcinoma squamous oligodendroglioma astrocytoma glioblastoma urothelial keratinizing "
    "papillary hepatocellular cholangiocarcinoma endometrioid mucinous transitional oligoastrocytoma "
    "adenosquamous leiomyosarcoma chromophobe carcinosarcoma sarcomatoid serous anaplastic"
).split()
_OCR_CLASSES = ("il1t!|y", "mnh", "oaecdq0", "uv")
_CONFUSED = {(a, b) for group in _OCR_CLASSES for a in group for b in group}
_LONG_WORD = re.compile(r"[A-Za-z][A-Za-z0-9!|]{5,}")


def _misread(word: str, head: str) -> bool:
    """Whether `word` (in lower case) is `head` as OCR misread it (see `_HEAD_WORDS`)."""
    budget, differ = (2 if len(head) >= 9 else 1), 0
    for a, b in zip(word, head, strict=True):
        if a != b:  # most words stop at their first letter
            if (a, b) not in _CONFUSED or differ == budget:
                return False
            differ += 1
    return differ > 0


@cache
def _heads_by_length() -> dict[int, tuple[str, ...]]:
    heads: dict[int, list[str]] = {}
    for head in _HEAD_WORDS:
        heads.setdefault(len(head), []).append(head)
    return {n: tuple(h) for n, h in heads.items()}


# Two letters OCR writes for one ("adenocarcinorna", "adenocarcinol1a", "endol1etrioid",
# "aclenocarcinoma"): a word that is one of `_HEAD_WORDS` (or one as `_misread` allows) once each such
# pair is read as its letter is that word
_SPLIT_LETTERS = {"rn": "m", "l1": "m", "ni": "m", "cl": "d"}


def _split_read(word: str, heads: dict[int, tuple[str, ...]]) -> tuple[str, str] | None:
    """The head word `word` (in lower case) is with one kind of `_SPLIT_LETTERS` pair read as its
    letter, and that pair; None where it is none."""
    for pair, letter in _SPLIT_LETTERS.items():
        if pair in word:
            read = word.replace(pair, letter)
            head = next((h for h in heads.get(len(read), ()) if h == read or _misread(read, h)), None)
            if head is not None:
                return head, pair
    return None


def _ocr_words(text: str) -> tuple[str, Offsets | None]:
    """`text` with the misread words of tumours' names read right (`_HEAD_WORDS`; two letters read as
    one, `_SPLIT_LETTERS`), and where each character of the result stood in `text` (None: the same
    length, every offset its own)."""
    heads = _heads_by_length()
    parts: list[str] = []
    moved: list[tuple[int, str, str]] = []  # where a pair was read as one letter: (start, word, pair)
    last = 0
    for match in _LONG_WORD.finditer(text):
        word = match.group().lower()  # once, not once per head of its length
        head = next((h for h in heads.get(len(word), ()) if _misread(word, h)), None)
        if head is None:
            found = _split_read(word, heads)
            if found is not None:
                head = found[0]
                moved.append((match.start(), word, found[1]))
        if head is not None:
            parts += [text[last : match.start()], head]
            last = match.end()
    if not parts:
        return text, None
    read = "".join(parts) + text[last:]
    if not moved:
        return read, None
    offsets = Offsets()
    dropped = 0  # characters of `text` left out before this point: one per pair read as a letter
    for start, word, pair in moved:
        at = 0
        while at < len(word):  # the letter read from a pair stands at the pair's first
            if word[at : at + 2] == pair:
                dropped += 1
                offsets.jump(start + at + 2 - dropped, start + at + 2)
                at += 2
            else:
                at += 1
    return read, offsets


# How far a term can reach either side of its anchor word; every vocabulary term is far shorter.
_REACH = 200
_WORD_CHAR = re.compile(r"[A-Za-z0-9]")


def _windows(lowered: str, anchors: tuple[str, ...], places: dict[str, list[int]]) -> list[tuple[int, int]]:
    """The stretches of the text where a term with one of `anchors` can match: `_REACH` characters
    either side of each anchor's occurrence, merged, ending where a word ends (so the term's closing
    word boundary is tested against the real next character). Scanning only these is what keeps 111
    patterns affordable on long reports; the results are those of a scan of the whole text."""
    spans: list[tuple[int, int]] = []
    for anchor in anchors:
        if anchor not in places:
            at, found = lowered.find(anchor), []
            while at >= 0:
                found.append(at)
                at = lowered.find(anchor, at + 1)
            places[anchor] = found
        spans.extend((at - _REACH, at + len(anchor) + _REACH) for at in places[anchor])
    spans.sort()
    merged: list[tuple[int, int]] = []
    for lo, hi in spans:
        lo = max(0, lo)
        while hi < len(lowered) and _WORD_CHAR.match(lowered, hi):
            hi += 1
        hi = min(hi, len(lowered))
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


@lru_cache(maxsize=4)
def _readable(text: str) -> tuple[str, Offsets | None]:
    """`text` as the vocabularies read it: broken words joined (`_join_broken_words`) and misread words
    of tumours' names read right (`_ocr_words`, two letters for one too), with each character's offset
    in `text` (None: every offset its own); kept for the few texts last read (the histology and the
    site read the same report one after the other)."""
    joined, offsets = _join_broken_words(text)
    read, moved = _ocr_words(joined)
    if moved is not None:
        moved.then = offsets
        offsets = moved
    return read, offsets


def _mentions(text: str, entries: tuple[Entry, ...]) -> list[tuple[int, int, Entry]]:
    """Non-overlapping mentions (the longest wins), in text order, without negated ones."""
    joined, offsets = _readable(text)
    lowered = joined.lower()
    places: dict[str, list[int]] = {}  # anchor word -> where it occurs, found once per text
    found = []
    for e in entries:
        if e.anchors and len(lowered) == len(joined):  # (lowering "İ" makes two characters)
            windows = _windows(lowered, e.anchors, places)
        else:
            windows = [(0, len(joined))]
        for lo, hi in windows:
            for m in e.pattern.finditer(joined, lo, hi):
                found.append(
                    (offsets[m.start()], offsets[m.end() - 1] + 1, e) if offsets else (m.start(), m.end(), e)
                )
    found.sort(key=lambda f: (f[0] - f[1], f[0]))
    # the kept mentions in text order: a longer one first, a shorter one kept where it overlaps none
    # (its neighbours in that order are the only ones it could overlap)
    starts: list[int] = []
    kept: list[tuple[int, int, Entry]] = []
    for start, end, entry in found:
        at = bisect_right(starts, start)
        if (at and kept[at - 1][1] > start) or (at < len(kept) and kept[at][0] < end):
            continue
        starts.insert(at, start)
        kept.insert(at, (start, end, entry))
    return [f for f in kept if not _negated(text, f[0])]


# How far before a mention its negation cue is looked for (`_negated`): the cue must be in the
# mention's clause anyway; a report OCR'd as one endless line is not read back to its start per mention.
_NEGATION_REACH = 2000


def _negated(text: str, start: int) -> bool:
    """Whether a negation cue (`_NEGATED`) stands in the clause before `start`: after the last "." ";"
    ":" or line end before it, within `_NEGATION_REACH` characters."""
    low = max(0, start - _NEGATION_REACH)
    clause = max(text.rfind(stop, low, start) for stop in ".;:\n") + 1
    # `search(text, pos, endpos)` anchors `$` at endpos: a cue before the mention, nothing between
    return _NEGATED.search(text, max(clause, low), start) is not None


def _field(text: str, mention: tuple[int, int, Entry], alternatives: list[str]) -> dict[str, Any]:
    start, end, entry = mention
    field: dict[str, Any] = {
        "value": entry.code,
        "name": entry.name,
        "start": start,
        "end": end,
        "text": text[start:end],
    }
    if alternatives:
        field["alternatives"] = alternatives
    return field


def _ancestors(code: str, by_code: dict[str, Entry]) -> set[str]:
    """The codes `code` refines, transitively (carcinoma, NOS for all)."""
    out, todo = {GENERIC_MORPHOLOGY}, list(by_code[code].refines)
    while todo:
        parent = todo.pop()
        if parent not in out:
            out.add(parent)
            todo.extend(by_code[parent].refines)
    return out - {code}


# A sentence about a tumour type in general, not this report's tumour: laboratory boilerplate ("EGFR
# is an attractive molecular target in glioblastoma", "the typical finding in oligodendrogliomas",
# "we recommend EGFR and KRAS testing in adenocarcinoma of lung").
_GENERIC = re.compile(
    r"(?i)\b(?:typical(?:ly)?\s+(?:finding|seen|found)|is\s+an?\s+attractive|commonly\s+(?:expressed|seen|found|"
    r"mutated|amplified)|recommend\w*|help\s+select|has\s+been\s+reported|reported\s+to|literature|"
    r"patients\s+with|are\s+associated\s+with|(?:amplified|overexpressed|mutated)\W+in\W+up\W+to|"
    r"models\s+of|subgroups\s+of|have\s+demonstrated|prognostically)\b"
)
_SENTENCE_END = re.compile(r"\.(?:\s|$)|\n[ \t]*\n")


def _generic(text: str, start: int, end: int) -> bool:
    """Whether the sentence around `start`-`end` speaks of the type in general (`_GENERIC`)."""
    lo = max(0, start - 300)
    before = list(_SENTENCE_END.finditer(text, lo, start))
    after = _SENTENCE_END.search(text, end, end + 300)
    return (
        _GENERIC.search(text, before[-1].end() if before else lo, after.start() if after else end + 300)
        is not None
    )


# An ICD-O-3 code written in the report ("ICD-O-3: adenocarcinoma 8140/3", "M-8071/3", a registrar's
# "8130(3" on a scanned form; "C34.1"): the coder's own answer, taken where the vocabulary knows it.
_WRITTEN = {
    # (the look-behind after the digits: a pattern that opens with a character class is scanned fast)
    "morphology": (re.compile(r"([89]\d{3})(?<![\d/.]\d{4})[ \t]?[/(][ \t]?([0-3])(?!\d)"), "{}/{}"),
    "topography": (re.compile(r"C([0-8]\d)(?<![A-Za-z\d.]C\d\d)\.(\d)(?![\d.])"), "C{}.{}"),
}


def _as_written(text: str, name: str, read: dict[str, Any] | None) -> dict[str, Any] | None:
    """`read` (the code the words give), or the last code of the `name` vocabulary written in the
    text, with `written: True`, the words' code and any other written one as `alternatives`."""
    pattern, form = _WRITTEN[name]
    by_code = _by_code(name)
    written = [(m, code) for m in pattern.finditer(text) if (code := form.format(*m.groups())) in by_code]
    if not written:
        return read
    match, code = written[-1]
    others = {c for _, c in written} | ({str(read["value"])} if read else set())
    field = _field(text, (match.start(), match.end(), by_code[code]), sorted(others - {code}))
    field["written"] = True
    return field


def histologic_type(text: str, final_start: int | None) -> dict[str, Any] | None:
    """The ICD-O-3 morphology of the report's tumour (see the module docstring), or None."""
    return _as_written(text, "morphology", _histologic_type(text, final_start))


def _histologic_type(text: str, final_start: int | None) -> dict[str, Any] | None:
    mentions = _mentions(text, vocabulary("morphology"))
    mentions = [m for m in mentions if not _generic(text, m[0], m[1])] or mentions
    in_situ = [m for m in mentions if _IN_SITU.match(text, m[1])]
    invasive = [m for m in mentions if m not in in_situ]
    # the registry codes the invasive tumour: "ductal carcinoma in situ" beside it is not it
    if any(m[2].code != GENERIC_MORPHOLOGY for m in invasive) or not in_situ:
        return _mixed(text, invasive, _graded(text, _choose_morphology(text, final_start, invasive)))
    field = _choose_morphology(text, final_start, in_situ)  # only in situ disease: behaviour /2
    return field and {
        **field,
        "value": field["value"][:-1] + "2",
        "name": f"{field['name']}, in situ (behaviour /2)",
    }


# Gliomas whose WHO grade III makes them anaplastic (WHO 2007): where the first grade stated on the
# type's line or the two after it is III ("fibrillary astrocytoma (WHO, grade III)", "WHO Grade III
# astrocytoma", "oligodendroglioma\n WHO Grade (III)"), the anaplastic code; a first "grade II" ("grade
# II astrocytoma ... do not warrant classification as anaplastic grade III") leaves it.
_ANAPLASTIC = {"9400/3": "9401/3", "9450/3": "9451/3"}
# How far from a type's mention its lines are read (`_graded`, `_mixed`): a report OCR'd as one
# endless line is not scanned to its end once per mention.
_BESIDE_REACH = 400
_WHO_GRADE = re.compile(r"(?i)\bgrade[ \t]*(?:[(:][ \t]*)?(?:\n[ \t]*)?(III|Ill|lll|3|II|Il|2|IV|4|I|1)\b")


def _lines_end(text: str, at: int, lines: int) -> int:
    """Where the line holding `at` ends, or the `lines` - 1 after it, within `_BESIDE_REACH`."""
    bound = min(len(text), at + _BESIDE_REACH)
    end = at
    for _ in range(lines):
        after = text.find("\n", end + 1, bound)
        end = bound if after < 0 else after
    return end


def _graded(text: str, field: dict[str, Any] | None) -> dict[str, Any] | None:
    """`field` (a histologic type), anaplastic where its line states WHO grade III (`_ANAPLASTIC`)."""
    if field is None or field["value"] not in _ANAPLASTIC:
        return field
    start = max(text.rfind("\n", 0, field["start"]) + 1, field["start"] - _BESIDE_REACH)
    grade = _WHO_GRADE.search(text, start, _lines_end(text, field["end"], 3))  # its line and two after
    if grade is None or grade.group(1).upper() not in ("III", "ILL", "3"):
        return field
    entry = _by_code("morphology")[_ANAPLASTIC[field["value"]]]
    return {**field, "value": entry.code, "name": entry.name}


# An adenocarcinoma whose own words, on its line or the next, name two growth patterns or more
# ("Adenocarcinoma; acinar and papillary patterns, with a smaller component of lepidic and solid",
# "ADENOCARCINOMA, ACINAR AND SOLID TYPE"): the adenocarcinoma with mixed subtypes, 8255/3. Not where
# one pattern is said to predominate ("acinar predominant (mixed acinar and micropapillary
# subtypes)": that pattern's code), nor a renal cell carcinoma's "papillary ... solid variant".
_MIXED_FROM = {"8140/3", "8550/3", "8260/3", "8250/3", "8230/3", "8265/3"}
_MIXED = "8255/3"
_GROWTH = re.compile(
    r"(?i)\b(micropapillary|papillary|acinar|solid|lepidic|bronchiolo-?alveolar)\b|\b(predominant)\b"
)


def _mixed(
    text: str, mentions: list[tuple[int, int, Entry]], field: dict[str, Any] | None
) -> dict[str, Any] | None:
    """`field` (a histologic type), as the adenocarcinoma with mixed subtypes where one of its
    mentions is followed by two growth patterns or more (`_GROWTH`)."""
    if field is None or field["value"] not in _MIXED_FROM:
        return field
    for start, end, entry in mentions:
        if entry.code != field["value"] or "adeno" not in text[start:end].lower():
            continue
        found = list(_GROWTH.finditer(text, start, _lines_end(text, end, 2)))  # its line and the next
        if any(m.group(2) for m in found):
            continue
        kinds = {m.group(1).lower().replace("-", "") for m in found}
        if len({"lepidic" if k == "bronchioloalveolar" else k for k in kinds}) >= 2:
            entry = _by_code("morphology")[_MIXED]
            return _field(text, (start, end, entry), field.get("alternatives", []))
    return field


# a part that says it holds no tumour ("RIGHT DISTAL URETER (A): ... BENIGN URETER", "Segment of ureter,
# no tumor present", "ENDOMETRIUM: Inactive pattern", "squamous mucosa with no specific pathologic
# abnormality"): its organ is not the tumour's site
_BENIGN_PART = re.compile(
    r"(?i)\b(?:benign|unremarkable|within\s+normal\s+limits|no\s+(?:specific\s+)?(?:pathologic\w*\s+)?abnormalit\w*|"
    r"(?:weakly\s+)?(?:inactive|atrophic|proliferative|secretory)(?:\s+phase)?\s+(?:pattern|endometrium)|"
    r"negative\s+for\s+(?:malignancy|carcinoma|tumou?r|neoplasm|dysplasia)|no\s+(?:evidence\s+of\s+)?"
    r"(?:residual\s+)?(?:malignancy|carcinoma|tumou?r|neoplasm)(?:\s+(?:is\s+)?(?:present|seen|identified))?)\b"
)
_IN_SITU = re.compile(r"(?i)[ \t]*(?:,[ \t]*)?(?:\([^)\n]{0,12}\)[ \t]*)?in[\s\-]+situ\b")


# A synoptic line's label right before the type ("Histologic type: Squamous cell carcinoma",
# "HISTOLOGIC TYPE:\n Adenosquamous carcinoma", "Histologic tumor type/subtype: renal cell carcinoma,
# papillary subtype"): the report's own answer, which outweighs a type named in boilerplate ("we
# recommend EGFR testing in adenocarcinoma of lung"). Only the value right after the label: a checklist
# ("Type: 1. Invasive squamous carcinoma 2. ... 3. Invasive adenocarcinoma") lists every choice.
_TYPE_LABEL = re.compile(
    r"(?i)\b(?:histolog\w*|tumou?r|cancer|carcinoma)(?:[ \t]+(?:tumou?r|cell))?[ \t]+(?:sub)?type(?:[ \t]*/[ \t]*subtype)?"
    r"(?:[ \t]*\([^)\n]{0,30}\))?[ \t]*(?:[:.\-,][ \t]*)?(?:\r?\n[ \t]*)?(?:[\"'*][ \t]*)?"
    r"(?:[A-Za-z][a-z\-]*(?:[ \t]*,)?[ \t]+){0,3}$"  # "Tumor Type: Invasive urothelial carcinoma"
)
_TYPE_LABEL_WEIGHT = 4


def _choose_morphology(
    text: str, final_start: int | None, mentions: list[tuple[int, int, Entry]]
) -> dict[str, Any] | None:
    """The chosen code among `mentions` (see the module docstring)."""
    if not mentions:
        return None
    weight: Counter[str] = Counter()
    labelled = set()
    for start, _, entry in mentions:
        weight[entry.code] += 2 if final_start is not None and start >= final_start else 1
        if _TYPE_LABEL.search(text, max(0, start - 80), start):
            labelled.add(entry.code)
    for code in labelled:  # once per code: two tumours' synoptic blocks keep their balance
        weight[code] += _TYPE_LABEL_WEIGHT
    by_code = _by_code("morphology")

    def lineage(code: str, seen: frozenset[str] = frozenset()) -> float:
        entry = by_code[code]
        parents = entry.refines or (() if code == GENERIC_MORPHOLOGY else (GENERIC_MORPHOLOGY,))
        own = weight[code] + 0.5 * len(seen)  # deeper codes win ties
        return own + sum(lineage(p, seen | {code}) for p in parents if p not in seen)

    scores = {code: lineage(code) for code in weight}
    best = max(scores, key=lambda c: (scores[c], -min(s for s, _, e in mentions if e.code == c)))
    chosen = [m for m in mentions if m[2].code == best]
    in_final = [m for m in chosen if final_start is not None and m[0] >= final_start]
    ancestors = _ancestors(best, by_code)
    others = sorted(
        c for c in scores if c != best and c not in ancestors and best not in _ancestors(c, by_code)
    )
    pool = in_final or chosen
    # a deposit is not the primary: "1) ADNEXA: METASTATIC ADENOCARCINOMA ... 5) UTERUS, CERVIX:
    # INVASIVE ADENOCARCINOMA OF UTERINE CERVIX" is read where the primary is named
    primary = [m for m in pool if not _DEPOSIT_BEFORE.search(text, max(0, m[0] - 40), m[0])]
    return _field(text, (primary or pool)[0], others)


# a type named as a deposit: "metastatic adenocarcinoma", "metastatic, poorly differentiated carcinoma"
_DEPOSIT_BEFORE = re.compile(r"(?i)\bmetastatic[ \t,]+(?:[a-z\-]+[ \t,]+){0,2}$")
# categories that name parts of one organ: the uterus NOS (C55) is refined by its corpus (C54)
_SAME_ORGAN = {"C55": "C54", "C19": "C18", "C20": "C18"}
# A synoptic label right before a site ("Tumor site: Cecum", "Location of tumor: Cecal pouch").
_SITE_LABEL = re.compile(
    r"(?i)\b(?:(?:primary\s+)?tumou?r\s+(?:site|location)|location\s+of\s+(?:the\s+)?tumou?r|site\s+of\s+tumou?r|"
    r"tumou?r\s+sits)[ \t]*(?:[:\-][ \t]*)?(?:\r?\n[ \t]*)?(?:[A-Za-z][a-z\-]*(?:[ \t]*,)?[ \t]+){0,3}$"
)
# A subsite the tumour is said to be in or arise from: "tumor in the left lower lobe", "a mass of the
# cecum", "arising in the sigmoid"
_TUMOUR_IN = re.compile(
    r"(?i)\b(?:tumou?r|mass|neoplasm|\w*carcinoma|lesion|nodule)[ \t]*(?:\([^)\n]{0,30}\)[ \t]*)?"
    r"(?:is[ \t]+)?(?:located[ \t]+|situated[ \t]+|centered[ \t]+|arising[ \t]+|involving[ \t]+)?"
    r"(?:in|of|at|within|from|involving)?[ \t]*(?:the[ \t]+)?(?:(?:left|right)[ \t]+)?$"
)
_TUMOUR_IN_REACH = 60
# The next line continues the type's sentence: it opens with a preposition.
_RUNS_ON = re.compile(r"(?i)\n[ \t]*(?:of|in|at|from|involving|arising)\b")
# Subsites that come with another organ's resection (the appendix of a right hemicolectomy): they
# refine the site only beside the type or under a site label.
_BESIDE_ONLY = {"C18.1"}
# Codes ending in .9 that name a part, not the whole organ: rectosigmoid and rectum within the colorectum.
_PART_CODES = {"C19.9", "C20.9"}


def _whole_organ(code: str) -> bool:
    """Whether a topography code names a whole organ (`C18.9`), not a part of it (`C18.7`, `C20.9`)."""
    return code.endswith(".9") and code not in _PART_CODES


def organ(code: str) -> str:
    """The organ category of a topography code: its three characters, the parts of one organ as one
    (`_SAME_ORGAN`: C55 and C54, C18-C20)."""
    return _SAME_ORGAN.get(code[:3], code[:3])


@lru_cache(maxsize=4)
def _sites_named(text: str) -> tuple[tuple[int, int, Entry], ...]:
    """The topography mentions of `text`, kept for the few texts last read: `primary_site` and the
    TNM's `organ_mentions` read the same report one after the other."""
    return tuple(_mentions(text, vocabulary("topography")))


def organ_mentions(text: str) -> list[tuple[int, str]]:
    """Where the report names an organ: (offset, organ category as `organ` gives it) per mention."""
    return [(start, organ(entry.code)) for start, _, entry in _sites_named(text)]


def _says_benign(text: str, start: int, end: int, lines: int = 2) -> bool:
    """Whether a site mention's line, or (`lines` 2) the line after it, says it holds no tumour."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    if lines > 1:
        after = text.find("\n", line_end + 1)
        line_end = len(text) if after < 0 else after
    return _BENIGN_PART.search(text, line_start, line_end) is not None


# Types found in one organ only: the site a report naming none implies (its whole-organ code).
_IMPLIED_ORGAN = (
    (range(9380, 9461), "C71.9"),  # gliomas: brain
    (range(8170, 8181), "C22.0"),  # hepatocellular carcinoma (and combined with cholangiocarcinoma): liver
    (range(8312, 8313), "C64.9"),  # renal cell carcinoma
    (range(8317, 8318), "C64.9"),  # chromophobe renal cell carcinoma
)


# Types that arise in some organs only: where the report names one of them, the site is among them
# (a urothelial carcinoma of a cystoprostatectomy is the bladder's, not the prostate's).
_NATIVE_ORGANS: tuple[tuple[range, tuple[str, ...], tuple[str, ...]], ...] = (
    (range(8120, 8132), ("C65", "C66", "C67", "C68"), ()),  # urothelial: instead of any other organ
    (range(8050, 8090), ("C53",), ("C54", "C56")),  # squamous: the cervix, not the corpus or ovary
    (range(8384, 8385), ("C53",), ("C54", "C56")),  # adenocarcinoma, endocervical type: the cervix
    (range(8312, 8313), ("C64",), ()),  # renal cell carcinoma: the kidney, not the prostate beside it
    (range(8317, 8318), ("C64",), ()),  # chromophobe renal cell carcinoma
)
# A type named as the kidney's ("papillary renal cell carcinoma", "renal cell carcinoma, clear cell
# type", coded 8260/3 and 8310/3 like the thyroid's and the ovary's) keeps to the kidney as 8312/3 does.
_RENAL = re.compile(r"(?i)\brenal\b")
_RENAL_CELL = 8312


# a type that arises in one part of an organ: where the report names the organ and no part of it, the
# type's part (a cholangiocarcinoma of the liver is coded to the intrahepatic bile ducts)
_TYPE_SUBSITE: tuple[tuple[range, str, str], ...] = ((range(8160, 8161), "C22.0", "C22.1"),)


# The sigmoid and the rectum named as one specimen ("Sigmoid colon and upper rectum", "Rectum &
# sigmoid"): a resection across the rectosigmoid junction, which the records code C19.9. The text
# between the two mentions:
_ACROSS = re.compile(
    r"(?i)(?:[ \t]+colon)?[ \t]*(?:,[ \t]*)?(?:(?:and|&)[ \t]+)?(?:the[ \t]+)?(?:upper[ \t]+)?"
)
_JUNCTION = (("C18.7", "C20.9"), "C19.9")


def _junctions(text: str, mentions: list[tuple[int, int, Entry]]) -> list[tuple[int, int, Entry]]:
    """`mentions`, with each pair naming the sigmoid and the rectum as one specimen (`_JUNCTION`) as
    the rectosigmoid junction's: twice, the weight of the two mentions it replaces."""
    (one, other), junction = _JUNCTION
    out: list[tuple[int, int, Entry]] = []
    i = 0
    while i < len(mentions):
        start, end, entry = mentions[i]
        after = mentions[i + 1] if i + 1 < len(mentions) else None
        if (
            after is not None
            and {entry.code, after[2].code} == {one, other}
            and _ACROSS.fullmatch(text, end, after[0])
        ):
            merged = (start, after[1], _by_code("topography")[junction])
            out += [merged, merged]
            i += 2
            continue
        out.append(mentions[i])
        i += 1
    return out


def _implied_site(text: str, histology: dict[str, Any]) -> dict[str, Any] | None:
    """The site a histologic type found in one organ only implies, as a field whose evidence is the
    type's mention; None for the other types."""
    number = int(str(histology["value"])[:4])
    code = next((site for numbers, site in _IMPLIED_ORGAN if number in numbers), None)
    if code is None:
        return None
    entry = next(e for e in vocabulary("topography") if e.code == code)
    field = _field(text, (histology["start"], histology["end"], entry), [])
    field["implied_by"], field["read_from"] = histology["value"], "type"
    return field


def primary_site(
    text: str, final_start: int | None, histology: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The ICD-O-3 topography of the tumour's site (see the module docstring), or None."""
    if histology is None:
        return None
    return _as_written(text, "topography", _primary_site(text, final_start, histology))


def _type_lines(text: str, histology: dict[str, Any]) -> tuple[int, int, int]:
    """Where the histologic type's own line starts, and the stretch beside the type: from the line
    before it (`A. Lung, right upper lobe:` above the diagnosis) to the end of its line, or of the
    next where the sentence runs on ("adenocarcinoma\n of the cecum")."""
    line_start = text.rfind("\n", 0, histology["start"]) + 1
    near_start = text.rfind("\n", 0, max(line_start - 1, 0)) + 1
    near_end = text.find("\n", histology["end"])
    near_end = len(text) if near_end < 0 else near_end
    if _RUNS_ON.match(text, near_end):
        after = text.find("\n", near_end + 1)
        near_end = len(text) if after < 0 else after
    return line_start, near_start, near_end


# How far back `_labelled` looks past the blanks right before a mention: a form laid out in columns
# pads its label to the width of the page ("Tumor Location:" + 55 blanks, a line break, 17 blanks).
_LABEL_PAD = 200


def _labelled(text: str, start: int) -> bool:
    """Whether the mention at `start` is under a synoptic site label ("Tumor site: Cecum"), however
    many blanks (up to `_LABEL_PAD`) a form's columns put between them."""
    reach, floor = start, max(0, start - _LABEL_PAD)
    while reach > floor and text[reach - 1] in " \t\r\n":
        reach -= 1
    return _SITE_LABEL.search(text, max(0, reach - 40), start) is not None


# Where a topography mention stands (`named_sites`), the strongest first: beside the histologic type
# (its line or the line before), under a synoptic site label, in the final part, elsewhere.
SITE_ROLES = ("type", "site_label", "final", "text")


def named_sites(
    text: str, final_start: int | None, histology: dict[str, Any] | None
) -> list[tuple[int, int, str, str]]:
    """Every topography mention of `text` as (start, end, ICD-O-3 code, where it stands: the first of
    `SITE_ROLES` that holds), in order. `histology`: `histologic_type`'s field, None for none."""
    near = _type_lines(text, histology) if histology else None
    out = []
    for start, end, entry in _sites_named(text):
        if near is not None and near[1] <= start < near[2]:
            role = "type"
        elif _labelled(text, start):
            role = "site_label"
        elif final_start is not None and start >= final_start:
            role = "final"
        else:
            role = "text"
        out.append((start, end, entry.code, role))
    return out


def _primary_site(text: str, final_start: int | None, histology: dict[str, Any]) -> dict[str, Any] | None:
    mentions = _sites_named(text)
    if not mentions:
        return _implied_site(text, histology)
    line_start, near_start, near_end = _type_lines(text, histology)
    # mentions under a synoptic site label ("Tumor site: Cecum"), by offset
    labels = {start for start, _, _ in mentions if _labelled(text, start)}
    organ_weight: Counter[str] = Counter()
    benign: Counter[str] = Counter()  # mentions in parts that say they hold no tumour, a last resort
    for start, end, entry in mentions:
        beside = near_start <= start < near_end
        labelled = start in labels
        # the type's own line or a synoptic "Tumor site:" 5, its specimen header (the line before) 3,
        # the final part 2, elsewhere 1
        w = 2 if final_start is not None and start >= final_start else 1
        if beside:
            w = 5 if start >= line_start else 3
        if labelled:
            w = 5
        (benign if not beside and _says_benign(text, start, end) else organ_weight)[organ(entry.code)] += w
    organ_weight = organ_weight or benign
    number = int(str(histology["value"])[:4])
    kept_to = _RENAL_CELL if _RENAL.search(str(histology.get("text", ""))) else number
    for numbers, native, instead_of in _NATIVE_ORGANS:
        named = [o for o in native if o in organ_weight]
        if kept_to not in numbers or not named:
            continue
        if not instead_of:  # the native organs alone
            organ_weight = Counter({o: w for o, w in organ_weight.items() if o in native})
            continue
        # the organs it does not arise in pass their weight to the one it does: a squamous carcinoma
        # of a hysterectomy naming the corpus often and the cervix once is the cervix's
        for o in instead_of:
            organ_weight[named[0]] += organ_weight.pop(o, 0)
    site_organ = max(
        organ_weight, key=lambda o: (organ_weight[o], -min(s for s, _, e in mentions if organ(e.code) == o))
    )
    in_organ = _junctions(text, [m for m in mentions if organ(m[2].code) == site_organ])
    sub_weight: Counter[str] = Counter()
    for start, end, entry in in_organ:
        beside = near_start <= start < near_end
        labelled = start in labels
        if _whole_organ(entry.code):
            continue
        if not (beside or labelled) and _says_benign(text, start, end, lines=1):
            continue  # "The endometrium is negative for tumor" is no subsite of the tumour
        if entry.code in _PART_CODES and not (
            beside or labelled or (final_start is not None and start >= final_start)
        ):
            continue  # a rectum named in the history ("rectal bleeding") is no site
        if entry.code in _BESIDE_ONLY and not (beside or labelled):
            continue  # the appendix of a right hemicolectomy
        # a subsite in the type's own sentence or under a site label outweighs a header's two
        # (the tumour-in cue is searched only where neither decides already)
        if labelled or (beside and start >= line_start):
            sub_weight[entry.code] += 7
        elif beside or _TUMOUR_IN.search(text, max(0, start - _TUMOUR_IN_REACH), start):
            sub_weight[entry.code] += 3
        else:
            sub_weight[entry.code] += 1
    organ_codes = [m for m in in_organ if _whole_organ(m[2].code)]
    if sub_weight:
        code = max(sub_weight, key=lambda c: sub_weight[c])
        chosen = [m for m in in_organ if m[2].code == code]
    else:
        chosen = organ_codes or in_organ
    near = [m for m in chosen if near_start <= m[0] < near_end]
    start, end, entry = (near or chosen)[0]
    own_part = next(
        (to for numbers, was, to in _TYPE_SUBSITE if number in numbers and entry.code == was), None
    )
    if own_part is not None:
        # the type names its part of the organ: a cholangiocarcinoma "of the liver" is the intrahepatic
        # bile ducts' (ICD-O-3 codes it C22.1); the evidence stays the organ's mention
        field = _field(
            text,
            (start, end, _by_code("topography")[own_part]),
            sorted({m[2].code for m in mentions} - {own_part}),
        )
        field["implied_by"] = histology["value"]
    else:
        field = _field(text, (start, end, entry), sorted({m[2].code for m in mentions} - {entry.code}))
    field["read_from"] = (
        "type" if near_start <= start < near_end else "site_label" if start in labels else "text"
    )
    return field
