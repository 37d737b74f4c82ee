"""HL7 v2 reader: report text from ORU^R01 (and MDM) messages, several messages per file.

Text is assembled from the OBX segments (OBX-5, repetitions on their own lines, HL7 escape sequences
such as `\\.br\\` decoded); when the observation title (OBX-3's text) changes, it is written as a
`TITLE:` line so the sectionizer sees the report's structure. Ids are `FILE#MSH-10`; the patient id
(PID-3), order ids (OBR-2/OBR-3), message type and the patient's age at the observation (`age_years`,
from PID-7 and OBR-7, else MSH-7; 90 for any age over 89, as HIPAA's Safe Harbor aggregates them:
the pathology stage of a thyroid carcinoma depends on it) are kept in the metadata. A message that cannot be
parsed, has another type, or carries no OBX text is a record with an error; the others go on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import hl7

from .records import InputRecord, age_years, text_sha256

SUPPORTED_TYPES = ("ORU", "MDM")
_ESCAPES = {"F": "|", "S": "^", "T": "&", "R": "~", "E": "\\", ".br": "\n"}
_ESCAPE = re.compile(r"\\(F|S|T|R|E|\.br)\\")
_MESSAGE_START = re.compile(r"(?m)^(?=MSH\|)")


def unescape(value: str) -> str:
    return _ESCAPE.sub(lambda m: _ESCAPES[m.group(1)], value)


def _field(segment: Any, index: int) -> str:
    try:
        return str(segment[index])
    except (IndexError, KeyError):
        return ""


def _date(value: str) -> date | None:
    try:
        return datetime.strptime(value[:8], "%Y%m%d").date()
    except ValueError:
        return None


def hl7_age_years(birth: str, when: str) -> int | None:
    """`records.age_years` from an HL7 date of birth (`YYYYMMDD...`) to the date `when`."""
    return age_years(_date(birth), _date(when))


def split_messages(text: str) -> list[str]:
    """Messages in a file: each starts at an `MSH|` line; line ends normalized to HL7's `\\r`."""
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    chunks = [c.strip("\n") for c in _MESSAGE_START.split(normalized) if c.strip()]
    return [c.replace("\n", "\r") for c in chunks]


def message_to_record(raw: str, file_id: str, position: int, meta: dict[str, Any]) -> InputRecord:
    fallback_id = f"{file_id}#msg{position}"
    if not raw.startswith("MSH|"):
        return InputRecord(
            fallback_id, None, {**meta, "message": position}, f"message {position} does not start with MSH"
        )
    try:
        message = hl7.parse(raw)
        msh = message.segment("MSH")
    except Exception as exc:  # noqa: BLE001 - the hl7 package raises several types for bad input
        return InputRecord(
            fallback_id,
            None,
            {**meta, "message": position},
            f"malformed HL7 message {position} ({type(exc).__name__})",
        )
    message_type = _field(msh, 9)
    control_id = _field(msh, 10) or f"msg{position}"
    record_meta = {
        **meta,
        "message": position,
        "message_type": message_type,
        "message_control_id": control_id,
    }
    doc_id = f"{file_id}#{control_id}"
    if message_type.split("^")[0] not in SUPPORTED_TYPES:
        return InputRecord(
            doc_id,
            None,
            record_meta,
            f"unsupported HL7 message type {message_type or '(none)'}; expected ORU^R01 or MDM",
        )
    birth = observed = ""
    try:
        pid = message.segment("PID")
        record_meta["patient_id"] = _field(pid, 3).split("^")[0]
        birth = _field(pid, 7)
    except KeyError:
        pass
    try:
        obr = message.segment("OBR")
        record_meta["placer_order_id"] = _field(obr, 2).split("^")[0]
        record_meta["filler_order_id"] = _field(obr, 3).split("^")[0]
        observed = _field(obr, 7)
    except KeyError:
        pass
    age = hl7_age_years(birth, observed or _field(msh, 7))
    if age is not None:
        record_meta["age_years"] = age
    lines: list[str] = []
    last_title = None
    try:
        observations = list(message.segments("OBX"))
    except KeyError:
        observations = []
    for obx in observations:
        title = _field(obx, 3).split("^")[1] if "^" in _field(obx, 3) else ""
        if title and title != last_title:
            lines.append(f"{title.upper()}:")
            last_title = title
        value = _field(obx, 5)
        lines.extend(unescape(part) for part in value.split("~"))
    text = "\n".join(lines).strip()
    if not text:
        return InputRecord(
            doc_id, None, record_meta, "HL7 message has no OBX text (truncated or not a report)"
        )
    record_meta["sha256"] = text_sha256(text)
    return InputRecord(doc_id, text, record_meta)


def read_hl7_text(text: str, *, file_id: str, meta: dict[str, Any]) -> Iterator[InputRecord]:
    messages = split_messages(text)
    if not any(m.startswith("MSH|") for m in messages):
        yield InputRecord(file_id, None, meta, "file holds no HL7 message")
        return
    for position, raw in enumerate(messages, 1):
        yield message_to_record(raw, file_id, position, meta)
