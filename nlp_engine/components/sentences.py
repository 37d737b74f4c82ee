"""Rule-based sentence splitting for clinical layout.

Handles what generic splitters get wrong in reports: section headers (`FINAL DIAGNOSIS:`), numbered
and bulleted lists, text wrapped at a fixed width (a line break inside a sentence does not end it), a
blank line (which always does), abbreviations that end in a period (`Dr.`, `approx.`, `q.i.d.`), and
the flattened `HEADER:, text` form of MTSamples, where line breaks were replaced by `", "`.
"""

from __future__ import annotations

import numpy
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc

#: Abbreviations after which a period does not end the sentence, whatever follows.
NO_SPLIT_ABBREVIATIONS = frozenset(
    [
        "dr.",
        "mr.",
        "mrs.",
        "ms.",
        "st.",
        "vs.",
        "v.",
        "e.g.",
        "i.e.",
        "approx.",
        "appt.",
        "no.",
        "nos.",
        "fig.",
        "pt.",
        "pts.",
        "dx.",
        "hx.",
        "tx.",
        "rx.",
        "sx.",
        "etc.",
        "cf.",
        "al.",
        "inc.",
        "ca.",
        "min.",
        "max.",
        "mg.",
        "ml.",
        "cm.",
        "mm.",
        "resp.",
        "temp.",
        "wt.",
        "ht.",
        "yr.",
        "yrs.",
        "mo.",
        "mos.",
        "wk.",
        "wks.",
        "ext.",
        "dept.",
        "univ.",
        "jan.",
        "feb.",
        "mar.",
        "apr.",
        "jun.",
        "jul.",
        "aug.",
        "sep.",
        "sept.",
        "oct.",
        "nov.",
        "dec.",
    ]
)
_TERMINAL = frozenset({".", "!", "?", ";"})
_BULLETS = frozenset({"-", "*", "•", "·", "o", "‣", "–", "—", ">"})
_HEADER_JOINERS = frozenset({"&", "/", "AND", "OF", "THE", "AT", "IN", "FOR", "-", "(", ")", "TO"})
_MAX_HEADER_TOKENS = 7


def _is_caps_word(text: str) -> bool:
    return len(text) > 1 and text.isupper() and text[0].isalpha()


def _header_end(texts: list[str], i: int) -> int:
    """If an ALL-CAPS header followed by ':' starts at token i, return the index of the ':', else -1."""
    if not _is_caps_word(texts[i]):
        return -1
    n = len(texts)
    j = i
    while j < n and j - i <= _MAX_HEADER_TOKENS:
        text = texts[j]
        if text == ":":
            return j
        if not (_is_caps_word(text) or text in _HEADER_JOINERS or (text.isdigit() and j > i)):
            return -1
        j += 1
    return -1


def _is_list_marker(texts: list[str], i: int) -> bool:
    """Token i opens a list item: `1.`, `2)`, `A.`, `-`, `*` at the start of a line."""
    text = texts[i]
    if text in _BULLETS:
        return True
    if i + 1 < len(texts) and texts[i + 1] in {".", ")"}:
        return (text.isdigit() and len(text) <= 2) or (len(text) == 1 and text.isalpha() and text.isupper())
    return False


def _line_break_splits(texts: list[str], spaces: list[bool], ws: int) -> bool:
    """Decide whether the whitespace token at `ws` (containing a newline) ends the sentence before it."""
    if texts[ws].count("\n") >= 2:
        return True
    i = ws + 1
    if i >= len(texts) or ws == 0:
        return False
    if _is_list_marker(texts, i) or _header_end(texts, i) >= 0:
        return True
    prev = texts[ws - 1]
    if prev in _TERMINAL or prev == ":" or prev.endswith("."):
        return True
    # A short previous line, or one in capitals, is a heading or a list entry, not wrapped prose.
    line_start = ws - 1
    while line_start > 0 and not (spaces[line_start - 1] and "\n" in texts[line_start - 1]):
        line_start -= 1
    line = " ".join(texts[line_start:ws])
    return texts[i][:1].isupper() and (len(line) < 40 or line.isupper())


def _wide_gap_splits(texts: list[str], ws: int) -> bool:
    """Two or more spaces between a lower-case word and a capitalized one: a sentence break that lost
    its period ("sent to R/O H pylori  The duodenal bulb was normal")."""
    # spaCy keeps one space as trailing whitespace, so any whitespace token means two or more.
    if "\n" in texts[ws] or ws == 0 or ws + 1 >= len(texts):
        return False
    prev, nxt = texts[ws - 1], texts[ws + 1]
    return prev.isalpha() and prev[-1].islower() and nxt[:1].isupper() and nxt[1:2].islower()


def sentence_starts(texts: list[str], spaces: list[bool]) -> list[bool]:
    """Sentence-start flags for a token sequence (token texts, and whether each is whitespace)."""
    n = len(texts)
    starts = [False] * n
    if n == 0:
        return starts
    starts[0] = True
    i = 0
    while i < n:
        text = texts[i]
        if spaces[i]:
            if "\n" in text and _line_break_splits(texts, spaces, i):
                starts[i] = True  # the whitespace token opens the next sentence; harmless and cheap
            elif _wide_gap_splits(texts, i):
                starts[i] = True
            i += 1
            continue
        colon = _header_end(texts, i)
        if colon >= 0 and (i == 0 or texts[i - 1] in {",", ".", ";"} or spaces[i - 1]):
            if i > 0 and not starts[i - 1]:
                starts[i] = True
            # The body starts after the colon and any flattening commas or spaces.
            k = colon + 1
            while k < n and (texts[k] == "," or spaces[k]):
                k += 1
            if k < n:
                starts[k] = True
            i = k
            continue
        if text in _TERMINAL or (len(text) > 1 and text.endswith(".") and "." in text[:-1]):
            if (
                text == "." and _period_is_list_marker(texts, spaces, i, starts)
            ) or text.lower() in NO_SPLIT_ABBREVIATIONS:
                i += 1
                continue
            k = i + 1
            while k < n and (texts[k] in {",", ".", ")", '"', "'"} or texts[k] in _TERMINAL):
                k += 1
            while k < n and spaces[k] and "\n" not in texts[k]:
                k += 1
            if k < n:
                first = texts[k]
                if len(text) > 1 and not first[:1].isupper():
                    i = k
                    continue  # a dotted abbreviation (q.i.d.) inside the sentence
                if first[:1].islower() and text == ".":
                    i = k
                    continue  # "approx. three", lower-case continuation
                starts[k] = True
            i = k
            continue
        i += 1
    return starts


def _period_is_list_marker(texts: list[str], spaces: list[bool], i: int, starts: list[bool]) -> bool:
    """`1.` or `A.` at the start of a sentence or line is a list marker, not a full stop."""
    if i == 0:
        return False
    prev = texts[i - 1]
    if not ((prev.isdigit() and len(prev) <= 2) or (len(prev) == 1 and prev.isupper())):
        return False
    j = i - 1
    return j == 0 or starts[j] or spaces[j - 1] or texts[j - 1] in {",", ":"}


def split_sentences(doc: Doc) -> Doc:
    """Set sentence starts on every token of `doc` (one array write, not one per token)."""
    if len(doc) == 0:
        return doc
    texts = [t.text for t in doc]
    spaces = [text.isspace() for text in texts]
    flags = numpy.asarray([1 if s else -1 for s in sentence_starts(texts, spaces)], dtype="int64")
    doc.from_array([SENT_START], flags.astype("uint64"))  # type: ignore[arg-type]
    return doc


class ClinicalSentences:
    """spaCy component wrapper around `split_sentences` (stateless, so trivially picklable)."""

    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        return split_sentences(doc)


@Language.factory(
    "clinical_sentences",
    default_config={},
    requires=[],
    assigns=["token.is_sent_start"],
)
def make_clinical_sentences(nlp: Language, name: str) -> ClinicalSentences:
    """Factory `clinical_sentences`: rule-based sentence boundaries for clinical layout."""
    return ClinicalSentences(nlp, name)
