"""Rule-based sentence splitting for clinical layout.

Handles what generic splitters get wrong in reports: section headers (`FINAL DIAGNOSIS:`), numbered
and bulleted lists, text wrapped at a fixed width (a line break inside a sentence does not end it), a
blank line (which always does), abbreviations that end in a period (`Dr.`, `approx.`, `q.i.d.`), and
the flattened `HEADER:, text` form of MTSamples, where line breaks were replaced by `", "`.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc, Token

#: Abbreviations after which a period does not end the sentence, whatever follows.
NO_SPLIT_ABBREVIATIONS = frozenset(
    "dr. mr. mrs. ms. st. vs. v. e.g. i.e. approx. appt. no. nos. fig. pt. pts. dx. hx. tx. rx. sx. "
    "etc. cf. al. inc. ca. min. max. mg. ml. cm. mm. resp. temp. wt. ht. yr. yrs. mo. mos. wk. wks. "
    "ext. dept. univ. jan. feb. mar. apr. jun. jul. aug. sep. sept. oct. nov. dec.".split()
)
_TERMINAL = frozenset({".", "!", "?", ";"})
_BULLETS = frozenset({"-", "*", "•", "·", "o", "‣", "–", "—", ">"})
_HEADER_JOINERS = frozenset({"&", "/", "AND", "OF", "THE", "AT", "IN", "FOR", "-", "(", ")", "TO"})
_MAX_HEADER_TOKENS = 7


def _is_caps_word(token: Token) -> bool:
    text = token.text
    return len(text) > 1 and text.isupper() and text[0].isalpha()


def _header_end(doc: Doc, i: int) -> int:
    """If an ALL-CAPS header followed by ':' starts at token i, return the index of the ':', else -1."""
    if not _is_caps_word(doc[i]):
        return -1
    j = i
    n = len(doc)
    while j < n and j - i <= _MAX_HEADER_TOKENS:
        text = doc[j].text
        if text == ":":
            return j
        if not (_is_caps_word(doc[j]) or text in _HEADER_JOINERS or (text.isdigit() and j > i)):
            return -1
        j += 1
    return -1


def _is_list_marker(doc: Doc, i: int) -> bool:
    """Token i opens a list item: `1.`, `2)`, `A.`, `-`, `*` at the start of a line."""
    text = doc[i].text
    if text in _BULLETS:
        return True
    if i + 1 < len(doc) and doc[i + 1].text in {".", ")"}:
        return (text.isdigit() and len(text) <= 2) or (len(text) == 1 and text.isalpha() and text.isupper())
    return False


def _line_break_splits(doc: Doc, ws: Token) -> bool:
    """Decide whether the whitespace token `ws` (containing a newline) ends the sentence before it."""
    if ws.text.count("\n") >= 2:
        return True
    i = ws.i + 1
    if i >= len(doc):
        return False
    nxt = doc[i]
    if _is_list_marker(doc, i) or _header_end(doc, i) >= 0:
        return True
    prev = doc[ws.i - 1] if ws.i > 0 else None
    if prev is None:
        return False
    if prev.text in _TERMINAL or prev.text == ":" or prev.text.endswith("."):
        return True
    # A short previous line, or one in capitals, is a heading or a list entry, not wrapped prose.
    line_start = prev.i
    while line_start > 0 and "\n" not in doc[line_start - 1].text:
        line_start -= 1
    line = doc[line_start : prev.i + 1]
    if nxt.text[:1].isupper() and (len(line.text) < 40 or line.text.isupper()):
        return True
    return False


def split_sentences(doc: Doc) -> Doc:
    """Set `is_sent_start` on every token of `doc`."""
    n = len(doc)
    if n == 0:
        return doc
    starts = [False] * n
    starts[0] = True
    i = 0
    while i < n:
        tok = doc[i]
        text = tok.text
        if tok.is_space:
            if "\n" in text and _line_break_splits(doc, tok):
                starts[i] = True  # the whitespace token opens the next sentence; harmless and cheap
            i += 1
            continue
        if _header_end(doc, i) >= 0 and (i == 0 or doc[i - 1].text in {",", ".", ";"} or doc[i - 1].is_space):
            colon = _header_end(doc, i)
            if i > 0 and not starts[i - 1]:
                starts[i] = True
            # The body starts after the colon and any flattening commas or spaces.
            k = colon + 1
            while k < n and (doc[k].text == "," or doc[k].is_space):
                k += 1
            if k < n:
                starts[k] = True
            i = k
            continue
        if text in _TERMINAL or (text.endswith(".") and len(text) > 1 and "." in text[:-1]):
            if text in {"."} and _period_is_list_marker(doc, i, starts):
                i += 1
                continue
            if text.lower() in NO_SPLIT_ABBREVIATIONS:
                i += 1
                continue
            k = i + 1
            while k < n and (doc[k].text in {",", ".", ")", '"', "'"} or doc[k].text in _TERMINAL):
                k += 1
            while k < n and doc[k].is_space and "\n" not in doc[k].text:
                k += 1
            if k < n:
                first = doc[k].text
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
    for idx, token in enumerate(doc):
        token.is_sent_start = starts[idx]
    return doc


def _period_is_list_marker(doc: Doc, i: int, starts: list[bool]) -> bool:
    """`1.` or `A.` at the start of a sentence or line is a list marker, not a full stop."""
    if i == 0:
        return False
    prev = doc[i - 1]
    if not ((prev.text.isdigit() and len(prev.text) <= 2) or (len(prev.text) == 1 and prev.text.isupper())):
        return False
    j = i - 1
    return j == 0 or starts[j] or doc[j - 1].is_space or doc[j - 1].text in {",", ":"}


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
