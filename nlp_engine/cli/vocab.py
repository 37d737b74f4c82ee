from __future__ import annotations

from pathlib import Path

import spacy
import typer
from rich.console import Console

from ..components.tokenizer import ClinicalTokenizer
from ..errors import NLPEngineError
from ..kb import SYNONYMS_FILE, build_kb
from ..resources import resolve

app = typer.Typer(help="Build and inspect terminologies.", no_args_is_help=True)


@app.command("build")
def build_command(
    out: Path = typer.Option(None, "--out", help="Folder to write to (default: the package's vocab/)."),
    synonyms: str = typer.Option(SYNONYMS_FILE, help="Curated synonyms JSONL."),
) -> None:
    """Build the ICD-10-CM knowledge base and term index from the FY2026 tables (simple-icd-10-cm)."""
    target = out or resolve("vocab:section_rules.jsonl").parent
    tokenizer = ClinicalTokenizer(spacy.blank("en"))
    try:
        with Console(stderr=True).status("building the ICD-10-CM knowledge base (about 20 s)"):
            counts = build_kb(target, lambda text: [t.text for t in tokenizer(text)], synonyms=synonyms)
    except NLPEngineError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"wrote {target}: " + ", ".join(f"{k}={v:,}" for k, v in counts.items()))
