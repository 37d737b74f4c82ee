"""Exports of a run's committed results (`OUT/results.jsonl`) to Parquet tables and FHIR bundles.

`results.jsonl` and `results.sqlite` are the run's committed state (what makes a run resumable), so
they are always written; `parquet` and `fhir` are rebuilt from `results.jsonl` at the end of a run in
which the results changed since they were last built, streaming one document at a time, so they
always hold exactly the documents of the results file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..fhir import FhirBundleWriter
from ..results import Document
from .writers import ParquetWriter

#: `--format` values; jsonl and sqlite are always written (they hold the run's state).
FORMATS = ("jsonl", "sqlite", "parquet", "fhir")


def check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """Normalised formats (`"parquet,fhir"` and repeats allowed), or a ValueError naming the bad one."""
    names = tuple(
        dict.fromkeys(part.strip().lower() for item in formats for part in item.split(",") if part.strip())
    )
    for name in names:
        if name not in FORMATS:
            raise ValueError(f"unknown output format {name!r}; choose from {', '.join(FORMATS)}")
    return names or ("jsonl",)


def iter_result_file(path: str | Path) -> Iterator[Document]:
    """Documents of a results JSONL file, one at a time."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield Document.from_dict(json.loads(line))


def export_paths(out: Path, formats: Sequence[str]) -> list[Path]:
    """Where the exports of `formats` go under `out`."""
    paths = []
    if "parquet" in formats:
        paths.append(out / "parquet")
    if "fhir" in formats:
        paths.append(out / "fhir_bundles.ndjson")
    return paths


def export_results(out: str | Path, formats: Sequence[str]) -> int:
    """Rebuild the Parquet tables (`OUT/parquet/*.parquet`) and/or FHIR bundles
    (`OUT/fhir_bundles.ndjson`) from `OUT/results.jsonl`; returns the number of documents exported."""
    out = Path(out)
    writers: list[ParquetWriter | FhirBundleWriter] = []
    if "parquet" in formats:
        writers.append(ParquetWriter(out / "parquet"))
    if "fhir" in formats:
        writers.append(FhirBundleWriter(out / "fhir_bundles.ndjson"))
    if not writers:
        return 0
    count = 0
    try:
        source = out / "results.jsonl"
        for doc in iter_result_file(source) if source.exists() else iter(()):
            for writer in writers:
                writer.write(doc)
            count += 1
    finally:
        for writer in writers:
            writer.close()
    return count
