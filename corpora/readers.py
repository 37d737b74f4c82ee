"""Readers: turn a file or a folder of reports into `InputRecord`s, one per document.

A record that could not be read carries `error` instead of `text`, so a batch can report it and go on;
errors name the file and the problem, never the content.
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import json
import os
import stat
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from nlp_engine.errors import NLPEngineError, NotTextError

from .fhir import read_fhir_text
from .hl7v2 import read_hl7_text
from .records import InputRecord, text_sha256

__all__ = [
    "InputRecord",
    "iter_files",
    "iter_records",
    "read_table_file",
    "read_text_file",
    "records_for_file",
    "samples_dir",
]
from nlp_engine.textio import (
    MAX_CHARS,
    coerce_text,
    decode_bytes,
    repair_noted,
    sniff_file_encoding,
)

TEXT_SUFFIXES = (".txt", ".md", ".text", ".rpt")
RTF_SUFFIXES = (".rtf",)


def read_text_file(path: Path, *, doc_id: str | None = None, max_bytes: int = MAX_CHARS * 4) -> InputRecord:
    """Read one text report, detecting its encoding; never raises for bad content."""
    doc_id = doc_id or str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return InputRecord(
                doc_id,
                None,
                {"path": str(path), "bytes": size},
                f"file is {size:,} bytes; the limit is {max_bytes:,}",
            )
        data = path.read_bytes()
        if path.suffix.lower() in RTF_SUFFIXES:
            text, encoding = _rtf_text(data), "rtf"
        else:
            text, encoding = decode_bytes(data)
        text = coerce_text(text)
    except (OSError, NLPEngineError) as exc:
        return InputRecord(doc_id, None, {"path": str(path)}, f"{type(exc).__name__}: {exc}")
    meta = {
        "path": str(path),
        "encoding": encoding,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    text = repair_noted(text, meta)
    if not text.strip():
        return InputRecord(doc_id, None, meta, "file is empty or whitespace only")
    return InputRecord(doc_id, text, meta)


def _rtf_text(data: bytes) -> str:
    """Plain text of an RTF document (`striprtf`; `\\par` becomes a newline, `\\'e9` and `\\u8211?`
    escapes become characters). Offsets in results point into this extracted text."""
    from striprtf.striprtf import rtf_to_text

    if not data.lstrip().startswith(b"{\\rtf"):
        raise NotTextError("file has an .rtf suffix but does not start with '{\\rtf'")
    try:
        # RTF is 7-bit ASCII; 8-bit bytes (invalid but common) are read as cp1252, as Word writes them.
        return str(rtf_to_text(data.decode("cp1252", errors="replace"), errors="replace"))
    except Exception as exc:  # noqa: BLE001 - striprtf raises several types on malformed input
        raise NotTextError(f"malformed RTF ({type(exc).__name__})") from None


TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl", ".parquet")
HL7_SUFFIXES = (".hl7",)
FHIR_SUFFIXES = (".json",)
#: Files that may hold many documents (rows, messages, Bundle entries).
MULTI_DOCUMENT_SUFFIXES = TABLE_SUFFIXES + HL7_SUFFIXES + FHIR_SUFFIXES
ID_COLUMNS = ("id", "note_id", "report_id", "document_id", "doc_id")
TEXT_COLUMNS = ("text", "transcription", "note", "report", "body", "content")


ALL_SUFFIXES = TEXT_SUFFIXES + RTF_SUFFIXES + MULTI_DOCUMENT_SUFFIXES


def _selected(rel: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    """Glob patterns with a `/` match the path relative to the root (`*` crosses folders), others the
    file name: `--include '*.txt' --exclude 'archive/*'`."""

    def hit(pattern: str) -> bool:
        return (
            fnmatch.fnmatchcase(rel, pattern)
            if "/" in pattern
            else fnmatch.fnmatchcase(rel.rsplit("/", 1)[-1], pattern)
        )

    return (not include or any(hit(p) for p in include)) and not any(hit(p) for p in exclude)


def iter_files(
    root: str | Path,
    suffixes: Sequence[str] = ALL_SUFFIXES,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> Iterator[tuple[str, Path]]:
    """`(id, path)` for a file, or for every matching file under a folder, sorted by path, without
    following symlinked folders (a symlink loop cannot trap the walk). Ids are relative paths.
    `include`/`exclude` are glob patterns (see `_selected`); by default every known suffix is read."""
    root = Path(root)
    if root.is_file():
        yield root.name, root
        return
    if not root.is_dir():
        raise FileNotFoundError(f"no such file or folder: {root}")
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        found.extend(Path(dirpath) / name for name in filenames if Path(name).suffix.lower() in suffixes)
    for path in sorted(found):
        rel = path.relative_to(root).as_posix()
        if _selected(rel, include, exclude):
            yield rel, path


def _decode_file(path: Path, file_id: str) -> tuple[str, dict[str, Any]] | InputRecord:
    """A multi-document file's text and metadata, or the record saying why it cannot be read."""
    try:
        text, encoding = decode_bytes(path.read_bytes())
    except (OSError, NLPEngineError) as exc:
        return InputRecord(file_id, None, {"path": str(path)}, f"{type(exc).__name__}: {exc}")
    return text, {"path": str(path), "encoding": encoding}


def pick_column(columns: Sequence[str], wanted: str | None, candidates: Sequence[str]) -> str | None:
    """`wanted` if it is a column, else (when nothing was asked for) the first candidate present, any case."""
    if wanted is not None:
        return wanted if wanted in columns else None
    lowered = {c.lower(): c for c in columns}
    return next((lowered[c] for c in candidates if c in lowered), None)


def _rows_to_records(
    file_id: str,
    rows: Iterator[tuple[str, dict[str, Any] | None, str | None]],
    meta: dict[str, Any],
    id_column: str | None,
    text_column: str | None,
) -> Iterator[InputRecord]:
    """Records for the rows of a table: `rows` yields `(position, row or None, error or None)`."""
    id_col = text_col = None
    for position, row, error in rows:
        if row is None:
            yield InputRecord(f"{file_id}#{position}", None, {**meta, "row": position}, error)
            continue
        if text_col is None:
            text_col = pick_column(list(row), text_column, TEXT_COLUMNS)
            id_col = pick_column(list(row), id_column, ID_COLUMNS)
            if text_col is None:
                wanted = [text_column] if text_column else list(TEXT_COLUMNS)
                yield InputRecord(
                    file_id, None, meta, f"no text column (looked for {wanted}; found {sorted(row)[:20]})"
                )
                return
        key = str(row.get(id_col) or position) if id_col else position
        text = row.get(text_col)
        record_meta = {**meta, "row": position}
        if isinstance(text, str):
            text = repair_noted(text, record_meta)
        if not isinstance(text, str) or not text.strip():
            yield InputRecord(f"{file_id}#{key}", None, record_meta, "empty or missing text")
            continue
        record_meta["sha256"] = text_sha256(text)
        yield InputRecord(f"{file_id}#{key}", text, record_meta)


def read_table_file(
    path: Path, *, file_id: str, id_column: str | None = None, text_column: str | None = None
) -> Iterator[InputRecord]:
    """Records from a CSV, TSV, JSONL or Parquet file, one per row; a bad row or file is a record with
    an error. Parquet is read in record batches, so a large file streams."""
    if path.suffix.lower() == ".parquet":
        yield from _read_parquet(path, file_id=file_id, id_column=id_column, text_column=text_column)
        return
    # Streamed line by line in the detected encoding: a multi-GB table never sits in memory whole.
    try:
        encoding = sniff_file_encoding(path)
        handle = open(path, encoding=encoding, newline="")  # noqa: SIM115 - closed below
    except (OSError, NLPEngineError) as exc:
        yield InputRecord(file_id, None, {"path": str(path)}, f"{type(exc).__name__}: {exc}")
        return
    meta = {"path": str(path), "encoding": encoding}
    with handle:
        if path.suffix.lower() == ".jsonl":
            yield from _rows_to_records(file_id, _json_rows(handle), meta, id_column, text_column)
        else:
            delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
            rows = _csv_rows(handle, delimiter, path.suffix[1:].upper())
            yield from _rows_to_records(file_id, rows, meta, id_column, text_column)


def _json_rows(handle: IO[str]) -> Iterator[tuple[str, dict[str, Any] | None, str | None]]:
    for number, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            yield f"line{number}", None, f"malformed JSON at line {number} ({exc.msg})"
            continue
        if not isinstance(row, dict):
            yield f"line{number}", None, f"line {number} is not a JSON object"
            continue
        yield f"line{number}", row, None


def _csv_rows(
    handle: IO[str], delimiter: str, kind: str
) -> Iterator[tuple[str, dict[str, Any] | None, str | None]]:
    csv.field_size_limit(sys.maxsize)
    try:
        for number, row in enumerate(csv.DictReader(handle, delimiter=delimiter), 1):
            yield f"row{number}", row, None
    except csv.Error as exc:
        yield "parse", None, f"malformed {kind} ({exc})"


def _read_parquet(
    path: Path, *, file_id: str, id_column: str | None, text_column: str | None
) -> Iterator[InputRecord]:
    import pyarrow.parquet as pq

    meta = {"path": str(path)}
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a bad file
        yield InputRecord(file_id, None, meta, f"unreadable Parquet file ({type(exc).__name__})")
        return

    def rows() -> Iterator[tuple[str, dict[str, Any] | None, str | None]]:
        number = 0
        try:
            for batch in parquet.iter_batches(batch_size=1024):
                for row in batch.to_pylist():
                    number += 1
                    yield f"row{number}", row, None
        except Exception as exc:  # noqa: BLE001
            yield "parse", None, f"unreadable Parquet data after row {number} ({type(exc).__name__})"

    yield from _rows_to_records(file_id, rows(), meta, id_column, text_column)


def read_message_file(path: Path, *, file_id: str) -> Iterator[InputRecord]:
    """Records from an HL7 v2 file (one per ORU/MDM message, `corpora.hl7v2`) or a FHIR JSON file (one per
    DiagnosticReport/DocumentReference, alone or in a Bundle, `corpora.fhir`)."""
    decoded = _decode_file(path, file_id)
    if isinstance(decoded, InputRecord):
        yield decoded
        return
    read = read_hl7_text if path.suffix.lower() in HL7_SUFFIXES else read_fhir_text
    yield from read(decoded[0], file_id=file_id, meta=decoded[1])


def _check_regular_file(path: Path, file_id: str) -> InputRecord | None:
    """A failure record for a path that is not a readable regular file (a FIFO would block a reader
    forever; a symlink loop or a vanished file cannot be opened), else None."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return InputRecord(file_id, None, {"path": str(path)}, f"{type(exc).__name__}: {exc.strerror}")
    if not stat.S_ISREG(mode):
        return InputRecord(file_id, None, {"path": str(path)}, "not a regular file (FIFO, socket or device)")
    return None


def iter_records(
    source: str | Path,
    *,
    id_column: str | None = None,
    text_column: str | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> Iterator[InputRecord]:
    """Every document under `source`: one per text or RTF file, per row of CSV/TSV/JSONL/Parquet, per HL7
    message, per FHIR report. `include`/`exclude` are glob patterns (see `iter_files`)."""
    for file_id, path in iter_files(source, include=include, exclude=exclude):
        yield from records_for_file(file_id, path, id_column=id_column, text_column=text_column)


def records_for_file(
    file_id: str, path: Path, *, id_column: str | None = None, text_column: str | None = None
) -> Iterator[InputRecord]:
    """The documents of one file, by its suffix (what `iter_records` does for each file it finds; Spark
    executors call it for the files of their partition)."""
    unreadable = _check_regular_file(path, file_id)
    if unreadable is not None:
        yield unreadable
    elif path.suffix.lower() in HL7_SUFFIXES + FHIR_SUFFIXES:
        yield from read_message_file(path, file_id=file_id)
    elif path.suffix.lower() in TABLE_SUFFIXES:
        yield from read_table_file(path, file_id=file_id, id_column=id_column, text_column=text_column)
    else:
        yield read_text_file(path, doc_id=file_id)


def samples_dir() -> Path:
    """The folder of bundled, hand-written sample reports (no real patient data)."""
    from importlib import resources

    return Path(str(resources.files("corpora").joinpath("samples")))
