"""Synoptic extraction against the curated TCGA-CDR fields of 3,648 real TCGA pathology reports.

Usage: python benchmarks/pathology.py [../shared/data/tcga_reports/tcga_reports_dev.csv] [--limit N]

For each field the record has (pT, pN, pM, AJCC stage, grade, laterality), over the reports whose
record gives a value: how often `nlp_engine.pathology.extract` gives one (coverage), how often it
equals the record when it does (precision), and overall (a missing value counts as wrong). The
labels are the patient's, not the report's: a biopsy or an addendum may not support them, so 1.0 is
not reachable. No learned coder yet (cancer type, ICD-O-3 site and histology are the coder's).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_path, emit, peak_rss_mb  # noqa: E402


def norm_t(value: str) -> str:
    return re.sub(r"^[yrm]?p", "", value or "").replace("(m)", "").upper()


def norm_stage(value: str) -> str:
    return value.upper().replace("STAGE ", "").strip()


# label column -> (extracted field, normaliser for both sides)
FIELDS: dict[str, tuple[str, Any]] = {
    "pathologic_T": ("pT", norm_t),
    "pathologic_N": ("pN", norm_t),
    "pathologic_M": ("pM", norm_t),
    "ajcc_pathologic_tumor_stage": ("stage", norm_stage),
    "neoplasm_histologic_grade": ("grade", lambda v: v.upper()),
    "laterality": ("laterality", lambda v: v.upper()),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", default=None)
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    path = Path(args.path) if args.path else data_path("tcga_reports/tcga_reports_dev.csv")
    csv.field_size_limit(10**8)
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if args.limit:
        rows = rows[: args.limit]
    from nlp_engine.pathology import extract

    started = time.perf_counter()
    extracted = [extract(row["text"]) for row in rows]
    seconds = time.perf_counter() - started
    words = sum(len(row["text"].split()) for row in rows)
    result: dict[str, Any] = {"benchmark": "pathology_extraction", "data": path.name, "reports": len(rows)}
    fields: dict[str, Any] = {}
    for column, (field, normalise) in FIELDS.items():
        labelled = [
            (row, out)
            for row, out in zip(rows, extracted, strict=True)
            if row[column] and not row[column].startswith("[")
        ]
        found = [(row, out) for row, out in labelled if out[field] is not None]
        right = [1 for row, out in found if normalise(str(out[field]["value"])) == normalise(row[column])]
        entry = {
            "labelled": len(labelled),
            "coverage": round(len(found) / max(1, len(labelled)), 4),
            "precision": round(len(right) / max(1, len(found)), 4),
            "accuracy": round(len(right) / max(1, len(labelled)), 4),
        }
        if field in ("pT", "pN"):  # the category alone: T3 for T3a
            category = [
                1 for row, out in found if norm_t(str(out[field]["value"]))[:2] == norm_t(row[column])[:2]
            ]
            entry["category_accuracy"] = round(len(category) / max(1, len(labelled)), 4)
        fields[column] = entry
    result["fields"] = fields
    result["docs_per_s"] = round(len(rows) / seconds, 1)
    result["words_per_s"] = round(words / seconds)
    result["peak_rss_mb"] = peak_rss_mb()
    emit(result)


if __name__ == "__main__":
    main()
