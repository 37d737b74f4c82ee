"""ICD-10-CM code strings: normalisation and checks of training label lists."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Literal

from ..errors import CodingError

_CODE = re.compile(r"^([A-Z][0-9][0-9A-Z])\.?([0-9A-Z]{1,4})?$")

UnknownPolicy = Literal["keep", "drop", "error"]


def normalize_code(code: str) -> str:
    """`"r51.9"`, `"R519"`, `" R51.9 "` -> `"R51.9"`; raises `CodingError` for anything that is not
    shaped like an ICD-10-CM code (a letter, two characters, then up to four after the dot)."""
    if not isinstance(code, str):
        raise CodingError(f"a code must be a string, not {type(code).__name__}")
    cleaned = code.strip().upper()
    match = _CODE.match(cleaned)
    if not match:
        raise CodingError(f"malformed ICD-10-CM code {cleaned[:20]!r}")
    head, tail = match.groups()
    return f"{head}.{tail}" if tail else head


def category(code: str) -> str:
    """The 3-character category of a code (`"R51.9"` -> `"R51"`)."""
    return code.split(".")[0]


def clean_code_lists(
    code_lists: Sequence[Iterable[str]],
    *,
    known: set[str] | frozenset[str] | None = None,
    unknown: UnknownPolicy = "keep",
) -> tuple[list[list[str]], dict[str, int]]:
    """Normalised, de-duplicated code lists (order kept) and a report: documents, codes, malformed
    (always an error, naming the document index), unknown (codes absent from `known`: kept, dropped
    or an error, as `unknown` says)."""
    out: list[list[str]] = []
    unknown_codes: set[str] = set()
    for i, codes in enumerate(code_lists):
        if isinstance(codes, str):
            raise CodingError(f"document {i}: codes must be a list of strings, not one string")
        seen: list[str] = []
        for code in codes:
            try:
                norm = normalize_code(code)
            except CodingError as exc:
                raise CodingError(f"document {i}: {exc.args[0].split('] ', 1)[-1]}") from None
            if known is not None and norm not in known:
                unknown_codes.add(norm)
                if unknown == "error":
                    raise CodingError(f"document {i}: code {norm} is not in the ICD-10-CM table")
                if unknown == "drop":
                    continue
            if norm not in seen:
                seen.append(norm)
        out.append(seen)
    report = {
        "documents": len(out),
        "codes": sum(len(c) for c in out),
        "distinct_codes": len({c for cs in out for c in cs}),
        "unknown_codes": len(unknown_codes),
    }
    return out, report
