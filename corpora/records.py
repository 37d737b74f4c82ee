"""The record every reader yields: one document, or one input that could not be read."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

# HIPAA's Safe Harbor aggregates ages over 89 into one category: 90 stands for all of them
OLDEST_AGE = 90


@dataclass
class InputRecord:
    """`text` is None exactly when `error` says why (never quoting the content)."""

    id: str
    text: str | None
    metadata: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def age_years(born: date | None, then: date | None) -> int | None:
    """Whole years from `born` to `then` (the patient's age at a report, as the readers keep it in a
    record's metadata); None where either is unknown or the birth is after it; `OLDEST_AGE` for any
    age over 89."""
    if born is None or then is None or born > then:
        return None
    years = then.year - born.year - ((then.month, then.day) < (born.month, born.day))
    return min(years, OLDEST_AGE)


def text_sha256(text: str) -> str:
    """Content hash of a document's text (what the batch runner compares to skip unchanged inputs)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
