"""Rewriting PHI: `mask` (each character to `*`, so every offset stays valid), `tag` (`[NAME]`), or
`surrogate` (realistic replacements that keep the note readable).

Surrogates are chosen by HMAC-SHA256 of a secret key, so they are consistent: the same real name gets
the same fake name everywhere the same key (and `patient`) is used, and dates are shifted by one
offset per patient (1 to 365 days back), so intervals between dates survive. Without a key, a random
key is drawn per call: consistent within the document only. Formats are kept: `7/22` stays `m/d`,
`SMITH` stays upper case, `410-322-1419` keeps its dashes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from . import PhiSpan, find_phi
from .lexicon import lexicons

Mode = Literal["mask", "tag", "surrogate"]
MODES = ("mask", "tag", "surrogate")


@dataclass
class Redaction:
    """A de-identified text: `spans` are the PHI found (offsets into the original), `audit` the counts
    per label (never the PHI itself)."""

    text: str
    spans: list[PhiSpan]
    mode: str
    audit: dict[str, int] = field(default_factory=dict)


class Surrogates:
    """Consistent replacements under one key (and patient)."""

    def __init__(self, key: bytes, patient: str = "") -> None:
        self.key = key
        self.patient = patient
        self.shift = dt.timedelta(days=-(1 + self._number("date-shift", "", 365)))

    def _number(self, kind: str, value: str, modulo: int) -> int:
        digest = hmac.new(self.key, f"{kind}\x1f{self.patient}\x1f{value}".encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big") % modulo

    def _digits(self, kind: str, value: str) -> str:
        """Same shape, letters and digits replaced (consistently), punctuation kept."""
        out = []
        for i, ch in enumerate(value):
            n = self._number(kind, f"{value}\x1f{i}", 10**6)
            if ch.isdigit():
                out.append(str(n % 10))
            elif ch.isalpha():
                letter = "ABCDEFGHJKLMNPQRSTUVWXYZ"[n % 24]
                out.append(letter if ch.isupper() else letter.lower())
            else:
                out.append(ch)
        return "".join(out)

    def name(self, value: str) -> str:
        lex = lexicons()
        words = re.split(r"(\W+)", value)
        out = []
        for word in words:
            if not word or not word[0].isalpha():
                out.append(word)
                continue
            low = word.lower()
            if len(low) == 1:
                fake = "ABCDEFGHJKLMNPRSTW"[self._number("initial", low, 18)]
            else:
                pool = (
                    lex.first_by_rank[:1000]
                    if low in lex.first and low not in lex.last
                    else lex.last_by_rank[:5000]
                )
                fake = pool[self._number("name", low, len(pool))]
                if fake == low:
                    fake = pool[(self._number("name", low, len(pool)) + 1) % len(pool)]
            out.append(_same_case(word, fake))
        return "".join(out)

    def location(self, value: str) -> str:
        cities = lexicons().city_by_rank[:500]
        return _same_case(value, cities[self._number("place", value.lower(), len(cities))])

    def date(self, value: str) -> str:
        return shift_date(value, self.shift) or self._digits("date", value)

    def replace(self, label: str, value: str) -> str:
        if label == "NAME":
            return self.name(value)
        if label == "LOCATION":
            return self.location(value)
        if label == "DATE":
            return self.date(value)
        if label == "AGE":
            return "90+"
        if label == "EMAIL":
            return f"user{self._number('email', value.lower(), 10**4):04d}@example.org"
        if label == "URL":
            return f"https://example.org/{self._number('url', value, 10**6):06d}"
        if label == "IP":
            return f"192.0.2.{1 + self._number('ip', value, 254)}"
        if label == "ADDRESS":
            street = lexicons().last_by_rank[self._number("street", value.lower(), 2000)].title()
            return f"{1 + self._number('house', value, 9899)} {street} Street"
        return self._digits(label, value)  # PHONE, SSN, ID, ZIP


def _same_case(original: str, fake: str) -> str:
    if original.isupper() and len(original) > 1:
        return fake.upper()
    if original.islower():
        return fake.lower()
    return fake[:1].upper() + fake[1:].lower()


_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_MONTH_RE = r"(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"


def shift_date(value: str, shift: dt.timedelta) -> str | None:
    """`value` moved by `shift` in its own format, or None when it is not a date we can parse."""
    text = value.strip()
    m = re.fullmatch(r"(\d{1,2})([/\-.])(\d{1,2})(?:\2(\d{2}|\d{4}))?", text)
    if m:
        year_text = m.group(4)
        year = _full_year(year_text) if year_text else 2000
        try:
            moved = dt.date(year, int(m.group(1)), int(m.group(3))) + shift
        except ValueError:
            return None
        sep = m.group(2)
        month = f"{moved.month:02d}" if len(m.group(1)) == 2 else str(moved.month)
        day = f"{moved.day:02d}" if len(m.group(3)) == 2 else str(moved.day)
        out = f"{month}{sep}{day}"
        if year_text:
            out += sep + (f"{moved.year % 100:02d}" if len(year_text) == 2 else str(moved.year))
        return out
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
    if m:
        try:
            return (dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))) + shift).isoformat()
        except ValueError:
            return None
    m = re.fullmatch(r"(?i)(\d{1,2})?/?((?:19|20)\d{2})", text)
    if m and m.group(1):  # month/year
        moved = dt.date(int(m.group(2)), min(12, max(1, int(m.group(1)))), 15) + shift
        return f"{moved.month}/{moved.year}"
    m = re.fullmatch(r"'?(\d{2})'?|((?:19|20)\d{2})", text)
    if m:  # a year alone: the year of mid-year shifted
        year = int(m.group(2)) if m.group(2) else _full_year(m.group(1))
        moved = dt.date(year, 7, 1) + shift
        return text.replace(
            m.group(2) or m.group(1), str(moved.year) if m.group(2) else f"{moved.year % 100:02d}"
        )
    m = re.fullmatch(
        rf"(?i){_MONTH_RE}\s+(?P<day>\d{{1,2}})(?P<ord>st|nd|rd|th)?(?:,?\s+(?P<year>\d{{4}}))?", text
    )
    if m:
        year = int(m.group("year")) if m.group("year") else 2000
        try:
            moved = dt.date(year, _MONTHS.index(m.group("mon").lower()) + 1, int(m.group("day"))) + shift
        except ValueError:
            return None
        month = moved.strftime("%B" if len(text.split()[0].rstrip(".")) > 3 else "%b")
        out = f"{month} {moved.day}" + (_ordinal(moved.day) if m.group("ord") else "")
        return out + (f", {moved.year}" if m.group("year") else "")
    return None


def _full_year(two_or_four: str) -> int:
    year = int(two_or_four)
    if len(two_or_four) == 4:
        return year
    return 1900 + year if year > 30 else 2000 + year


def _ordinal(day: int) -> str:
    return "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def redact(
    text: str | bytes,
    *,
    mode: Mode = "tag",
    key: str | bytes | None = None,
    patient: str | None = None,
    spans: list[PhiSpan] | None = None,
) -> Redaction:
    """De-identify `text`. `key` (a secret: keep it out of code and logs) makes surrogates consistent
    across documents; `patient` scopes them (and the date shift) to one patient."""
    from ..textio import coerce_text

    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
    text = coerce_text(text)
    found = find_phi(text) if spans is None else spans
    secret = key.encode() if isinstance(key, str) else key or secrets.token_bytes(32)
    surrogates = Surrogates(secret, patient or "")
    pieces, last = [], 0
    for span in found:
        value = text[span.start : span.end]
        pieces.append(text[last : span.start])
        if mode == "mask":
            pieces.append("".join(c if c.isspace() else "*" for c in value))
        elif mode == "tag":
            pieces.append(f"[{span.label}]")
        else:
            pieces.append(surrogates.replace(span.label, value))
        last = span.end
    pieces.append(text[last:])
    return Redaction("".join(pieces), found, mode, dict(Counter(s.label for s in found)))
