from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from . import options


def spark_process_command(
    source: Path = typer.Argument(
        ..., exists=True, help="A folder of reports (any format `process` reads) or a Parquet table of notes."
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Output folder for the Parquet datasets and manifest.json."
    ),
    master: str = typer.Option(
        None, "--master", help="Spark master, e.g. local[2] (default: spark-submit's, else local[*])."
    ),
    pipeline: str = options.PIPELINE,
    partitions: int = typer.Option(None, "--partitions", min=1, help="Partitions of the file list."),
    id_column: str = options.ID_COLUMN,
    text_column: str = options.TEXT_COLUMN,
    include: list[str] = options.INCLUDE,
    exclude: list[str] = options.EXCLUDE,
) -> None:
    """Process reports on Apache Spark (same pipeline and results as `process`), writing Parquet.

    Submit to a cluster with `spark-submit --master yarn ... nlp_engine/spark.py SOURCE --out OUT`
    (see the README); needs the `spark` extra.
    """
    try:
        from ..spark import spark_process
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise typer.BadParameter(
            f"PySpark is not installed ({exc}); pip install 'nlp-engine[spark]'"
        ) from None
    summary = spark_process(
        source,
        out,
        master=master,
        pipeline=pipeline,
        partitions=partitions,
        id_column=id_column,
        text_column=text_column,
        include=include,
        exclude=exclude,
    )
    console = Console(stderr=True)
    Console().print(
        f"inputs {summary.seen}: processed {summary.processed}, failed {summary.failed} in {summary.seconds:.2f}s "
        f"({summary.processed / max(summary.seconds, 1e-9):.1f} docs/s); wrote {out}"
    )
    for doc_id, reason in summary.failures:
        console.print(f"[red]failed[/red] {doc_id}: {reason}")
    if summary.failed:
        raise typer.Exit(1)
