from __future__ import annotations

import platform

import spacy
import typer
from rich.console import Console
from rich.table import Table

from .. import __version__
from ..pipeline import available_pipelines, load


def info_command(
    pipeline: str = typer.Option("clinical", "--pipeline", "-p", help="Pipeline to describe."),
) -> None:
    """Show versions, the available pipelines, and the components and knowledge base of one."""
    nlp = load(pipeline)
    table = Table(title=f"nlp-engine {__version__}", show_header=False)
    table.add_row("python", platform.python_version())
    table.add_row("spaCy", spacy.__version__)
    table.add_row("pipelines", ", ".join(available_pipelines()))
    table.add_row(f"{pipeline} components", ", ".join(nlp.pipe_names))
    linker = nlp.get_pipe("icd10_concepts") if "icd10_concepts" in nlp.pipe_names else None
    if linker is not None and linker.index is not None:
        table.add_row("ICD-10-CM codes", f"{len(linker.index.titles):,}")
        table.add_row("ICD-10-CM terms", f"{len(linker.index.terms) + len(linker.index.exact):,}")
    if "clinical_context" in nlp.pipe_names:
        table.add_row("ConText rules", f"{len(nlp.get_pipe('clinical_context').rules):,}")
    if "clinical_sections" in nlp.pipe_names:
        table.add_row("section headers", f"{len(nlp.get_pipe('clinical_sections').rules):,}")
    Console().print(table)
