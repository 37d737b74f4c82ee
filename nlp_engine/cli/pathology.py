from __future__ import annotations

import csv
import json
from pathlib import Path

import typer
from rich.console import Console

from . import options

app = typer.Typer(help="Pathology reports: synoptic fields with evidence.", no_args_is_help=True)


@app.command("extract")
def extract_command(
    source: Path = typer.Argument(
        ..., exists=True, help="A report file or a folder (any format `process` reads)."
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Output folder: pathology.jsonl (with evidence) and pathology.csv."
    ),
    id_column: str = options.ID_COLUMN,
    text_column: str = options.TEXT_COLUMN,
    include: list[str] = options.INCLUDE,
    exclude: list[str] = options.EXCLUDE,
) -> None:
    """Extract pT/pN/pM, stage, grade, size, margins, nodes, invasion, laterality and receptors."""
    from corpora.readers import iter_records

    from ..pathology import FIELDS, extract

    out.mkdir(parents=True, exist_ok=True)
    done = failed = 0
    console = Console(stderr=True)
    with (
        open(out / "pathology.jsonl", "w", encoding="utf-8") as jsonl,
        open(out / "pathology.csv", "w", encoding="utf-8", newline="") as table,
    ):
        writer = csv.writer(table)
        writer.writerow(["id", *FIELDS])
        records = iter_records(
            source, id_column=id_column, text_column=text_column, include=include, exclude=exclude
        )
        for record in records:
            if record.text is None:
                failed += 1
                console.print(f"[red]failed[/red] {record.id}: {record.error}")
                continue
            fields = extract(record.text)
            jsonl.write(json.dumps({"id": record.id, "fields": fields}, ensure_ascii=False) + "\n")
            writer.writerow([record.id, *(_value(fields[f]) for f in FIELDS)])
            done += 1
    Console().print(
        f"extracted {done} reports, failed {failed}; wrote {out / 'pathology.jsonl'}, {out / 'pathology.csv'}"
    )
    if failed:
        raise typer.Exit(1)


def _value(field: dict[str, object] | None) -> object:
    return "" if field is None else field["value"]
