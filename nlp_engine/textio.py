"""Turning whatever a caller hands us into clean text, without moving any character offsets.

`sanitize` replaces characters that break tokenization or output (control characters, zero-width
and bidirectional marks, non-breaking spaces, lone surrogates) one-for-one, so every offset we report
points into the caller's original string.
"""

from __future__ import annotations

import codecs
import os
import re
from pathlib import Path
from typing import Any

from .errors import InputTooLargeError, NotTextError

#: The largest text (in characters) the pipeline accepts; 5 MB reports are well inside it.
MAX_CHARS = 20_000_000

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# C0/C1 controls except tab, newline, carriage return and form feed; zero-width and bidi marks;
# odd spaces; lone surrogates (possible in str built from bad bytes with surrogateescape).
_TO_SPACE = re.compile(
    "[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_BINARY_BYTES = re.compile(b"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


def _bom_encoding(data: bytes) -> str | None:
    return next((encoding for bom, encoding in _BOMS if data.startswith(bom)), None)


# Runs of UTF-16 text inside 8-bit text (a table cell exported wrongly): NUL beside printable ASCII.
_UTF16_RUN = re.compile(rb"(?:\x00[\t\n\r\x20-\x7e]){4,}\x00?|(?:[\t\n\r\x20-\x7e]\x00){4,}")


def _check_not_binary(sample: bytes, size: int) -> None:
    """Raise for data that looks binary: a NUL, or over 5% control bytes. NULs inside runs of
    UTF-16 text do not count: `repair_nul_interleaved` fixes those once decoded."""
    if b"\x00" in sample:
        sample = _UTF16_RUN.sub(b"", sample)
    if b"\x00" in sample or (sample and len(_BINARY_BYTES.findall(sample)) / len(sample) > 0.05):
        raise NotTextError(f"input looks binary ({size} bytes with NUL or control bytes); expected text")


def _utf16_without_bom(sample: bytes) -> str | None:
    """`utf-16-le`/`utf-16-be` for UTF-16 text without a byte-order mark (Windows exports): a NUL in
    at least a third of the byte pairs, nearly all on the same side of the pair (ASCII text in UTF-16)."""
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    low, high = sample[0 : 2 * pairs : 2], sample[1 : 2 * pairs : 2]
    for encoding, nuls, chars in (("utf-16-le", high, low), ("utf-16-be", low, high)):
        zeros = nuls.count(0)
        if zeros >= pairs / 3 and chars.count(0) <= zeros / 20:
            # the other byte of the pairs must be text, not control bytes (binary data has NULs too)
            return encoding if len(_BINARY_BYTES.findall(chars)) <= len(chars) / 20 else None
    return None


def repair_nul_interleaved(text: str) -> tuple[str, bool]:
    """`(text, repaired)`: text where at least a quarter of the characters are NUL is UTF-16 that was
    read as an 8-bit encoding (`\x00P\x00a\x00t...`, seen in real exported report tables); its NULs
    are dropped. Other text comes back unchanged. Readers apply this to table cells, so the offsets
    reported for a record point into the repaired text they emit."""
    nul = text.count("\x00")
    if nul and nul * 4 >= len(text):
        return text.replace("\x00", ""), True
    return text, False


REPAIRED_NOTE = "NUL characters dropped (UTF-16 text read as 8-bit)"


def repair_noted(text: str, meta: dict[str, Any]) -> str:
    """`text` with UTF-16-read-as-8-bit damage repaired (`repair_nul_interleaved`), noted in `meta`
    under `repaired` (offsets then point into the repaired text)."""
    text, repaired = repair_nul_interleaved(text)
    if repaired:
        meta["repaired"] = REPAIRED_NOTE
    return text


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode report bytes, returning `(text, encoding)`.

    Order: a byte-order mark (UTF-8/16/32), UTF-16 without a mark (NUL in every other byte), strict
    UTF-8, then cp1252 and latin-1 (which decodes anything, so it comes last). Raises `NotTextError`
    for data that looks binary.
    """
    encoding = _bom_encoding(data)
    if encoding is not None:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            raise NotTextError(
                f"bytes start with a {encoding} byte-order mark but do not decode ({exc.reason} at byte {exc.start})"
            ) from None
    guess = _utf16_without_bom(data[:65536])
    if guess is not None:
        try:
            return data.decode(guess), guess
        except UnicodeDecodeError:
            pass  # not UTF-16 after all: the binary check below decides
    _check_not_binary(data[:65536], len(data))
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            pass
    return data.decode("latin-1"), "latin-1"


def sniff_file_encoding(path: str | Path, *, chunk_size: int = 1 << 20) -> str:
    """The encoding `decode_bytes` would choose for a file, found in constant memory.

    For files too large to decode whole (multi-GB tables): the BOM, UTF-16 without one and the binary
    check look at the start; UTF-8 and then cp1252 are tried with incremental decoders over the whole file, chunk by chunk.
    """
    with open(path, "rb") as handle:
        head = handle.read(65536)
        encoding = _bom_encoding(head)
        if encoding is not None:
            return encoding
        guess = _utf16_without_bom(head)
        if guess is None:
            _check_not_binary(head, os.fstat(handle.fileno()).st_size)
        for encoding in (guess, "utf-8", "cp1252") if guess else ("utf-8", "cp1252"):
            decoder = codecs.getincrementaldecoder(encoding)()
            handle.seek(0)
            try:
                while chunk := handle.read(chunk_size):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                continue
            return encoding
    return "latin-1"


def coerce_text(value: object, *, max_chars: int = MAX_CHARS) -> str:
    """Return `value` as a str fit for the pipeline, or raise a clear error."""
    if isinstance(value, bytes | bytearray | memoryview):
        text, _ = decode_bytes(bytes(value))
    elif isinstance(value, str):
        text = value
    else:
        raise NotTextError(f"expected str or bytes, got {type(value).__name__}")
    if len(text) > max_chars:
        raise InputTooLargeError(f"text has {len(text):,} characters; the limit is {max_chars:,}")
    return text


def sanitize(text: str) -> str:
    """Replace characters that break tokenization with spaces (or U+FFFD), keeping the length."""
    text = _TO_SPACE.sub(" ", text)
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
    return text
