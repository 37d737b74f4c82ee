from __future__ import annotations

import platform

import spacy
import typer
from rich.console import Console
from rich.table import Table

from .. import __version__
from ..components.concepts import ICD10Concepts
from ..components.context import ClinicalContext
from ..components.sections import ClinicalSections
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
    for _, component in nlp.pipeline:
        if isinstance(component, ICD10Concepts) and component.index is not None:
            table.add_row("ICD-10-CM codes", f"{len(component.index.titles):,}")
            table.add_row("ICD-10-CM terms", f"{len(component.index.terms) + len(component.index.exact):,}")
        elif isinstance(component, ClinicalContext):
            table.add_row("ConText rules", f"{len(component.rules):,}")
        elif isinstance(component, ClinicalSections):
            table.add_row("section headers", f"{len(component.rules):,}")
    Console().print(table)
