from __future__ import annotations

import logging
import time
from collections import Counter
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from spacy.language import Language

from corpora.readers import read_path

from ..batch.writers import JsonlWriter, SqliteWriter
from ..pipeline import choose_pipeline, doc_to_result, get_pipeline

log = logging.getLogger("nlp_engine")


def process_command(
    path: Path = typer.Argument(..., exists=True, help="A report file or a folder of .txt/.md reports."),
    out: Path = typer.Option(None, "--out", "-o", help="Output folder for results.jsonl and results.sqlite."),
    pipeline: str = typer.Option(
        "auto",
        "--pipeline",
        "-p",
        help="Pipeline name, saved pipeline folder, or 'auto' (pathology for pathology reports, else clinical).",
    ),
) -> None:
    """Process reports; a single file without --out prints its JSON result."""
    console = Console(stderr=True)

    def pipeline_for(text: str) -> tuple[Language, str]:
        return get_pipeline(choose_pipeline(text) if pipeline == "auto" else pipeline)

    for name in ("clinical", "pathology") if pipeline == "auto" else (pipeline,):
        get_pipeline(name)  # load before the clock starts
    records = list(read_path(path))
    if path.is_file() and out is None:
        record = records[0]
        if record.text is None:
            console.print(f"[red]error[/red]: {record.id}: {record.error}")
            raise typer.Exit(1)
        nlp, name = pipeline_for(record.text)
        typer.echo(doc_to_result(nlp(record.text), record.id, name, record.text, record.metadata).to_json())
        return
    out = out or Path("out")
    out.mkdir(parents=True, exist_ok=True)
    table = Table(title=f"{len(records)} input(s) -> {out}")
    table.add_column("document", overflow="fold")
    for column in ("pipeline", "sections", "sentences", "concepts", "negated"):
        table.add_column(column, no_wrap=True)
    table.add_column("top codes (present)")
    failed: list[tuple[str, str]] = []
    words = 0
    started = time.perf_counter()
    with (
        JsonlWriter(out / "results.jsonl") as jsonl,
        SqliteWriter(out / "results.sqlite") as db,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
        ) as progress,
    ):
        task = progress.add_task("processing", total=len(records))
        for record in records:
            if record.text is None:
                failed.append((record.id, record.error or "unreadable"))
                log.warning("skipped %s: %s", record.id, record.error)
                progress.advance(task)
                continue
            nlp, name = pipeline_for(record.text)
            result = doc_to_result(nlp(record.text), record.id, name, record.text, record.metadata)
            jsonl.write(result)
            db.write(result)
            words += len(record.text.split())
            codes = Counter(c.code for c in result.concepts if c.code and c.assertion.status == "present")
            table.add_row(
                record.id,
                name,
                str(len(result.sections)),
                str(len(result.sentences)),
                str(len(result.concepts)),
                str(sum(c.assertion.negated for c in result.concepts)),
                " ".join(code for code, _ in codes.most_common(3)),
            )
            progress.advance(task)
    elapsed = time.perf_counter() - started
    Console(width=max(100, Console().width)).print(table)
    done = len(records) - len(failed)
    Console().print(
        f"processed {done}, failed {len(failed)} in {elapsed:.2f}s ({done / max(elapsed, 1e-9):.1f} docs/s, {words / max(elapsed, 1e-9):,.0f} words/s)"
    )
    for doc_id, reason in failed:
        console.print(f"[red]failed[/red] {doc_id}: {reason}")
    Console().print(f"wrote {out / 'results.jsonl'} and {out / 'results.sqlite'}")
    if failed:
        raise typer.Exit(1)
