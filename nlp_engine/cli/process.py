from __future__ import annotations

import sqlite3
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from corpora.readers import MULTI_DOCUMENT_SUFFIXES, iter_files, read_text_file

from ..batch.export import check_formats, export_paths
from ..batch.runner import process_folder
from ..pipeline import choose_pipeline, doc_to_result, get_pipeline
from . import options

MAX_ROWS = 30


def process_command(
    path: Path = typer.Argument(
        ...,
        exists=True,
        help="A report file or a folder (text, RTF, CSV/TSV/JSONL/Parquet, HL7 v2, FHIR JSON).",
    ),
    out: Path = typer.Option(None, "--out", "-o", help="Output folder for results.jsonl and results.sqlite."),
    pipeline: str = options.PIPELINE,
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Worker processes."),
    force: bool = typer.Option(False, "--force", help="Reprocess everything, starting the output afresh."),
    id_column: str = options.ID_COLUMN,
    text_column: str = options.TEXT_COLUMN,
    formats: list[str] = typer.Option(
        ["jsonl"],
        "--format",
        "-f",
        help="Outputs besides results.jsonl/results.sqlite/codes.csv: parquet (OUT/parquet/), fhir "
        "(OUT/fhir_bundles.ndjson). Repeat or comma-separate: --format parquet,fhir.",
    ),
    include: list[str] = options.INCLUDE,
    exclude: list[str] = options.EXCLUDE,
) -> None:
    """Process reports; a single file without --out prints its JSON result.

    A folder run is resumable: run the same command again after an interruption and it continues
    where it stopped; inputs already processed with unchanged content are skipped.
    """
    console = Console(stderr=True)
    if path.is_file() and out is None:
        record = read_text_file(path, doc_id=path.name)
        if record.text is None:
            console.print(f"[red]error[/red]: {record.id}: {record.error}")
            raise typer.Exit(1)
        nlp, name = get_pipeline(choose_pipeline(record.text) if pipeline == "auto" else pipeline)
        typer.echo(doc_to_result(nlp(record.text), record.id, name, record.text, record.metadata).to_json())
        return
    out = out or Path("out")
    try:
        formats = list(check_formats(formats))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--format") from None
    # Tables, HL7 and FHIR files hold an unknown number of documents: the bar then counts without a
    # total (and without an ETA). Counting walks the folder once more, holding no list of paths.
    n_files, multi = 0, False
    for _, file in iter_files(path, include=include, exclude=exclude):
        n_files += 1
        multi = multi or file.suffix.lower() in MULTI_DOCUMENT_SUFFIXES
    total = None if multi else n_files
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} docs/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("processing", total=total, rate="-")

        def update(done: int, failed: int) -> None:
            elapsed = progress.tasks[task].elapsed or 0.0
            progress.update(task, completed=done + failed, rate=f"{done / elapsed:.0f}" if elapsed else "-")

        summary = process_folder(
            path,
            out,
            pipeline=pipeline,
            workers=workers,
            force=force,
            id_column=id_column,
            text_column=text_column,
            formats=formats,
            include=include,
            exclude=exclude,
            progress=update,
        )
    _print_tables(out, summary.processed)
    rate = summary.processed / max(summary.seconds, 1e-9)
    Console().print(
        f"inputs {summary.seen}: processed {summary.processed}, skipped (unchanged) {summary.skipped}, "
        f"failed {summary.failed} in {summary.seconds:.2f}s ({rate:.1f} docs/s, {summary.words / max(summary.seconds, 1e-9):,.0f} words/s)"
    )
    for doc_id, reason in summary.failures:
        console.print(f"[red]failed[/red] {doc_id}: {reason}")
    written = [out / name for name in ("results.jsonl", "results.sqlite", "codes.csv", "manifest.json")]
    Console().print("wrote " + ", ".join(str(p) for p in written + export_paths(out, formats)))
    if summary.failed:
        raise typer.Exit(1)


def _print_tables(out: Path, processed: int) -> None:
    """Per-document table for small runs (the last MAX_ROWS documents), from the results database."""
    conn = sqlite3.connect(out / "results.sqlite")
    try:
        rows = conn.execute(
            """SELECT d.id, d.pipeline, d.n_sections, d.n_sentences, d.n_concepts,
                      (SELECT COUNT(*) FROM concepts c WHERE c.doc_id = d.id AND c.negated = 1),
                      (SELECT GROUP_CONCAT(code, ' ') FROM (SELECT code, COUNT(*) AS n FROM concepts c
                         WHERE c.doc_id = d.id AND c.status = 'present' AND code IS NOT NULL
                         GROUP BY code ORDER BY n DESC, code LIMIT 3))
               FROM documents d ORDER BY d.id LIMIT ?""",
            (MAX_ROWS,),
        ).fetchall()
    finally:
        conn.close()
    if not rows:
        return
    table = Table(title=f"results in {out} (first {min(len(rows), MAX_ROWS)} documents)")
    table.add_column("document", overflow="fold")
    for column in ("pipeline", "sections", "sentences", "concepts", "negated"):
        table.add_column(column, no_wrap=True)
    table.add_column("top codes (present)")
    for row in rows:
        table.add_row(*(str(value) if value is not None else "" for value in row))
    Console(width=max(100, Console().width)).print(table)
