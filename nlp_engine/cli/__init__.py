"""The `nlp-engine` command: thin typer commands over library functions."""

from __future__ import annotations

import typer

from . import (
    coder,
    cohort,
    deid,
    embed,
    image,
    info,
    pathology,
    process,
    render,
    serve,
    spark,
    tabular,
    vocab,
)

app = typer.Typer(
    help="Offline clinical NLP: sections, sentences, ICD-10-CM concepts, ConText assertions, de-identification.",
    no_args_is_help=True,
)
app.command("process")(process.process_command)
app.command("info")(info.info_command)
app.command("render")(render.render_command)
app.command("deid")(deid.deid_command)
app.command("deid-train")(deid.train_command)
app.command("serve")(serve.serve_command)
app.command("spark-process")(spark.spark_process_command)
app.add_typer(vocab.app, name="vocab")
app.add_typer(pathology.app, name="pathology")
app.add_typer(embed.app, name="embed")
app.add_typer(coder.app, name="coder")
app.add_typer(image.app, name="image")
app.add_typer(tabular.app, name="tabular")
app.add_typer(cohort.app, name="cohort")


def main() -> None:
    """The console script: library errors (`NLPEngineError`) end as one line `error: [E0xx] ...` on stderr
    and exit status 2, not a traceback (their messages never hold PHI)."""
    import sys

    from ..errors import NLPEngineError

    try:
        app()
    except NLPEngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
