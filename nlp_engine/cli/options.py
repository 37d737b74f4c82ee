"""Options shared by `process` and `spark-process` (one declaration, the same help everywhere)."""

from __future__ import annotations

import typer

PIPELINE = typer.Option(
    "auto",
    "--pipeline",
    "-p",
    help="Pipeline name, saved pipeline folder, or 'auto' (pathology for pathology reports, else clinical).",
)
ID_COLUMN = typer.Option(
    None, "--id-column", help="CSV/TSV/JSONL/Parquet: the id column (default: id, note_id, ...)."
)
TEXT_COLUMN = typer.Option(
    None, "--text-column", help="CSV/TSV/JSONL/Parquet: the text column (default: text, transcription, ...)."
)
INCLUDE = typer.Option(
    [],
    "--include",
    help="Only inputs matching this glob (name, or relative path if it has a '/'). Repeatable.",
)
EXCLUDE = typer.Option([], "--exclude", help="Skip inputs matching this glob. Repeatable.")
