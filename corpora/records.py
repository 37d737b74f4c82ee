"""The record every reader yields: one document, or one input that could not be read."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


@dataclass
class InputRecord:
    """`text` is None exactly when `error` says why (never quoting the content)."""

    id: str
    text: str | None
    metadata: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def text_sha256(text: str) -> str:
    """Content hash of a document's text (what the batch runner compares to skip unchanged inputs)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
