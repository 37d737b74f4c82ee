"""Readers: turn a file or a folder of reports into `InputRecord`s, one per document.

A record that could not be read carries `error` instead of `text`, so a batch can report it and go on;
errors name the file and the problem, never the content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nlp_engine.errors import NLPEngineError
from nlp_engine.textio import MAX_CHARS, coerce_text, decode_bytes

TEXT_SUFFIXES = (".txt", ".md", ".text", ".rpt")


@dataclass
class InputRecord:
    id: str
    text: str | None
    metadata: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


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
    if not text.strip():
        return InputRecord(doc_id, None, meta, "file is empty or whitespace only")
    return InputRecord(doc_id, text, meta)


def read_path(path: str | Path, *, suffixes: Sequence[str] = TEXT_SUFFIXES) -> Iterator[InputRecord]:
    """Yield records for a file, or for every matching file under a folder (recursively, sorted)."""
    root = Path(path)
    if root.is_file():
        yield read_text_file(root, doc_id=root.name)
        return
    if not root.is_dir():
        raise FileNotFoundError(f"no such file or folder: {root}")
    for file in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in suffixes):
        yield read_text_file(file, doc_id=str(file.relative_to(root)))


def samples_dir() -> Path:
    """The folder of bundled, hand-written sample reports (no real patient data)."""
    from importlib import resources

    return Path(str(resources.files("corpora").joinpath("samples")))
