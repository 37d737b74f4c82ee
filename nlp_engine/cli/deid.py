from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from . import options


def deid_command(
    source: Path = typer.Argument(
        ..., exists=True, help="A report file or a folder (any format `process` reads)."
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Output folder: deid.jsonl, text/, audit.jsonl, manifest.json."
    ),
    mode: str = typer.Option(
        "surrogate", "--mode", "-m", help="mask (same length), tag ([NAME]) or surrogate."
    ),
    key_file: Path = typer.Option(
        None,
        "--key-file",
        exists=True,
        dir_okay=False,
        help="File holding the secret surrogate key (default: $NLP_ENGINE_DEID_KEY; none: consistent per document).",
    ),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Worker processes."),
    id_column: str = options.ID_COLUMN,
    text_column: str = options.TEXT_COLUMN,
    include: list[str] = options.INCLUDE,
    exclude: list[str] = options.EXCLUDE,
) -> None:
    """De-identify reports: find PHI (names, dates, ids, places, ...) and mask, tag or replace it."""
    from ..deid.batch import deid_folder
    from ..deid.surrogate import MODES

    if mode not in MODES:
        raise typer.BadParameter(f"choose from {', '.join(MODES)}", param_hint="--mode")
    key = key_file.read_bytes().strip() if key_file else None
    summary = deid_folder(
        source,
        out,
        mode=mode,
        key=key,
        workers=workers,
        include=include,
        exclude=exclude,
        id_column=id_column,
        text_column=text_column,
    )
    counts = ", ".join(f"{label} {n}" for label, n in summary.counts.items()) or "none"
    Console().print(
        f"inputs {summary.seen}: de-identified {summary.processed}, failed {summary.failed} in "
        f"{summary.seconds:.2f}s; PHI found: {counts}; wrote {out}"
    )
    console = Console(stderr=True)
    for doc_id, reason in summary.failures:
        console.print(f"[red]failed[/red] {doc_id}: {reason}")
    if summary.failed:
        raise typer.Exit(1)


def train_command(
    gold: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="Gold notes, JSONL: patient, text, phi [{start, end, label}]."
    ),
    out: Path = typer.Option(
        Path("vocab/deid_tagger.skops"), "--out", "-o", help="Where to write the model (skops)."
    ),
) -> None:
    """Train the learned name/place layer on gold notes (e.g. the PhysioNet deid development notes)."""
    from ..deid.learned import train

    summary = train(gold, out)
    Console().print(
        f"trained on {summary['tokens']:,} words ({summary['phi_tokens']:,} in names or places), "
        f"{summary['features']} features; wrote {out}"
    )
