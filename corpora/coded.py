"""Readers for labelled corpora: documents with ICD-10 codes (CodiEsp, or any table with a codes
column) and documents with one class label (MTSamples specialties).

- `read_codiesp(root, split=None)`: a CodiEsp split folder (`train/`, `dev/`: `<split>D.tsv` with
  `case<TAB>code` and `text_files_en/*.txt`), English text by default. Codes keep the file's order,
  are upper-cased, and are de-duplicated per case.
- `read_coded(path)`: a CodiEsp split folder, or a CSV/TSV/JSONL file with a text column and a codes
  column (a JSON list, or codes separated by `;`, `|`, `,` or spaces); the file's encoding (UTF-8,
  UTF-16/32 with a BOM, cp1252, latin-1) is sniffed, binary data is a `NotTextError`.
- `read_mtsamples(path)`: MTSamples rows with their specialty, and a group id per distinct text
  (the same note appears under several specialties: split with `GroupKFold` on it).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from nlp_engine.textio import sniff_file_encoding

_SPLIT_CODES = re.compile(r"[;|,\s]+")
TEXT_COLUMNS = ("text", "transcription", "note", "report")
CODE_COLUMNS = ("codes", "icd10", "icd_10", "labels", "code")


@dataclass
class CodedDocument:
    id: str
    text: str
    codes: list[str] = field(default_factory=list)


@dataclass
class LabeledDocument:
    id: str
    text: str
    label: str
    group: str


def _codiesp_split(root: Path, split: str | None) -> tuple[Path, str]:
    if split:
        root = root / split if (root / split).is_dir() else root
    found = sorted(root.glob("*D.tsv"))
    if not found:
        raise FileNotFoundError(f"{root}: no CodiEsp diagnosis file (*D.tsv) here")
    return root, found[0].name[: -len("D.tsv")]


def read_codiesp(root: str | Path, split: str | None = None, language: str = "en") -> list[CodedDocument]:
    """The cases of one CodiEsp split with their diagnosis codes (see the module docstring)."""
    folder, name = _codiesp_split(Path(root), split)
    codes: dict[str, list[str]] = {}
    with open(folder / f"{name}D.tsv", encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if len(row) < 2:
                continue
            case, code = row[0].strip(), row[1].strip().upper()
            listed = codes.setdefault(case, [])
            if code and code not in listed:
                listed.append(code)
    texts = folder / ("text_files_en" if language == "en" else "text_files")
    if not texts.is_dir():
        raise FileNotFoundError(f"{texts}: no text folder")
    return [
        CodedDocument(path.stem, path.read_text(encoding="utf-8"), codes.get(path.stem, []))
        for path in sorted(texts.glob("*.txt"))
    ]


def _split_codes(value: object) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    text = str(value or "").strip()
    if text.startswith("["):
        return [str(v) for v in json.loads(text)]
    return [c for c in _SPLIT_CODES.split(text) if c]


def _pick(columns: list[str], wanted: str | None, choices: tuple[str, ...], what: str, path: Path) -> str:
    if wanted:
        if wanted not in columns:
            raise ValueError(f"{path}: no column {wanted!r} (columns: {columns})")
        return wanted
    lowered = {c.lower(): c for c in columns}
    for choice in choices:
        if choice in lowered:
            return lowered[choice]
    raise ValueError(f"{path}: no {what} column among {columns}; name it with --{what}-column")


def read_coded(
    path: str | Path,
    *,
    text_column: str | None = None,
    codes_column: str | None = None,
    id_column: str | None = None,
) -> list[CodedDocument]:
    """Coded documents from a CodiEsp split folder or a CSV/TSV/JSONL table (module docstring)."""
    path = Path(path)
    if path.is_dir():
        return read_codiesp(path)
    suffix = path.suffix.lower()
    encoding = sniff_file_encoding(path) if suffix in (".jsonl", ".csv", ".tsv") else "utf-8"
    if suffix == ".jsonl":
        with open(path, encoding=encoding) as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
    elif suffix in (".csv", ".tsv"):
        with open(path, encoding=encoding, newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t" if suffix == ".tsv" else ","))
    else:
        raise ValueError(f"{path}: coded data must be a CodiEsp folder or a .csv, .tsv or .jsonl file")
    if not rows:
        return []
    columns = list(rows[0].keys())
    text_key = _pick(columns, text_column, TEXT_COLUMNS, "text", path)
    codes_key = _pick(columns, codes_column, CODE_COLUMNS, "codes", path)
    id_key = (
        id_column
        if id_column in columns
        else next((c for c in columns if c.lower() in ("id", "note_id", "case")), None)
    )
    return [
        CodedDocument(
            str(row[id_key]) if id_key else str(i), str(row[text_key] or ""), _split_codes(row[codes_key])
        )
        for i, row in enumerate(rows)
    ]


def read_mtsamples(path: str | Path, *, min_per_label: int = 1) -> list[LabeledDocument]:
    """MTSamples transcriptions with their specialty; labels with fewer than `min_per_label` distinct
    texts are left out."""
    out: list[LabeledDocument] = []
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            text = (row.get("transcription") or "").strip()
            label = (row.get("medical_specialty") or "").strip()
            if not text or not label:
                continue
            group = hashlib.sha256(" ".join(text.split()).lower().encode()).hexdigest()[:16]
            out.append(LabeledDocument(str(row.get("note_id") or len(out)), text, label, group))
    if min_per_label > 1:
        per: dict[str, set[str]] = {}
        for doc in out:
            per.setdefault(doc.label, set()).add(doc.group)
        out = [d for d in out if len(per[d.label]) >= min_per_label]
    return out
