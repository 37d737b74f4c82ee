from __future__ import annotations

from pathlib import Path

import typer

from corpora.readers import read_text_file

from ..pipeline import get_pipeline
from ..render import render_html


def render_command(
    report: Path = typer.Argument(..., exists=True, dir_okay=False, help="A text report."),
    output: Path = typer.Option(Path("report.html"), "--output", "-o", help="HTML file to write."),
    pipeline: str = typer.Option("clinical", "--pipeline", "-p"),
) -> None:
    """Render a processed report as HTML (displaCy): sections, concepts with codes, assertions."""
    record = read_text_file(report)
    if record.text is None:
        typer.echo(f"error: {report}: {record.error}", err=True)
        raise typer.Exit(2)
    nlp, _ = get_pipeline(pipeline)
    output.write_text(render_html(nlp(record.text), title=report.name), encoding="utf-8")
    typer.echo(f"wrote {output}")
