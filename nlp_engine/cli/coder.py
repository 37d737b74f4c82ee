"""`nlp-engine coder train|evaluate|predict`: learned ICD-10-CM coding with evidence."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from . import options

app = typer.Typer(help="Diagnosis coding: train, evaluate and apply ICD-10-CM coders.", no_args_is_help=True)

DATA = typer.Argument(
    ...,
    exists=True,
    help="Coded documents: a CodiEsp split folder, or a CSV/TSV/JSONL with text and codes columns.",
)
CODES_COLUMN = typer.Option(
    None, "--codes-column", help="Table input: the codes column (default: codes, icd10, ...)."
)


def _load(data: Path, text_column: str | None, codes_column: str | None) -> tuple[list[str], list[list[str]]]:
    from corpora.coded import read_coded

    docs = read_coded(data, text_column=text_column, codes_column=codes_column)
    return [d.text for d in docs], [d.codes for d in docs]


def evaluation(model: Any, texts: list[str], gold: list[list[str]], k: int = 1000) -> dict[str, Any]:
    """MAP (as the CodiEsp script), P@5, micro/macro P/R/F1 of `model` on coded texts."""
    from ..coding import mean_average_precision, multilabel_scores, precision_at_k

    ranked = [[c for c, _ in r] for r in model.predict_ranked(texts, k=k)]
    predicted = model.predict(texts)
    return {
        "documents": len(texts),
        "map": round(mean_average_precision(gold, ranked), 4),
        "precision_at_5": round(precision_at_k(gold, ranked, 5), 4),
        **multilabel_scores(gold, predicted),
    }


@app.command("train")
def train_command(
    data: Path = DATA,
    model: Path = typer.Option(..., "--model", "-m", help="Folder to write the model and its card to."),
    featurizer: str = typer.Option(
        "tfidf", help="tfidf, word2vec, transformer, concepts, or several joined by +."
    ),
    classifier: str = typer.Option("logreg", help="logreg, svm, forest or boosting."),
    hybrid: bool = typer.Option(True, help="Add nearest-neighbour votes and the rule-based linker's codes."),
    vectors: Path = typer.Option(
        None, help="Word2Vec folder for --featurizer word2vec (default: train on DATA)."
    ),
    model_dir: Path = typer.Option(None, help="Hugging Face model folder for --featurizer transformer."),
    min_code_count: int = typer.Option(
        1, help="Codes seen fewer times are left to neighbours and the linker."
    ),
    unknown_codes: str = typer.Option("keep", help="Codes not in ICD-10-CM FY2026: keep, drop or error."),
    validation: Path = typer.Option(
        None, help="Coded documents to evaluate on after training (metrics go to the card)."
    ),
    text_column: str = options.TEXT_COLUMN,
    codes_column: str = CODES_COLUMN,
    jobs: int = typer.Option(1, "--jobs", "-j", help="Parallel jobs for the classifiers."),
) -> None:
    """Train a coder on coded documents and save it with a model card."""
    from ..coding import DiagnosisCoder, save_coder

    texts, codes = _load(data, text_column, codes_column)
    coder = DiagnosisCoder(
        featurizer=featurizer,
        classifier=classifier,
        hybrid=hybrid,
        vectors=str(vectors) if vectors else None,
        model_dir=str(model_dir) if model_dir else None,
        min_code_count=min_code_count,
        unknown_codes=unknown_codes,  # type: ignore[arg-type]
        n_jobs=jobs,
    ).fit(texts, codes)
    card: dict[str, Any] = {"data": {"path": str(data), "documents": len(texts)}}
    if validation is not None:
        v_texts, v_codes = _load(validation, text_column, codes_column)
        card["metrics"] = {"validation": str(validation), **evaluation(coder, v_texts, v_codes)}
    save_coder(coder, model, card=card)
    typer.echo(json.dumps({"model": str(model), "training": coder.training_report_, **card}, indent=2))


@app.command("evaluate")
def evaluate_command(
    data: Path = DATA,
    model: Path = typer.Option(..., "--model", "-m", exists=True, help="A folder written by `coder train`."),
    text_column: str = options.TEXT_COLUMN,
    codes_column: str = CODES_COLUMN,
) -> None:
    """MAP, P@5 and micro/macro precision, recall and F1 on coded documents (JSON on stdout)."""
    from ..coding import load_coder

    coder = load_coder(model)
    texts, codes = _load(data, text_column, codes_column)
    typer.echo(json.dumps(evaluation(coder, texts, codes), indent=2))


@app.command("predict")
def predict_command(
    source: Path = typer.Argument(
        ..., exists=True, help="A file or folder of documents (any format `process` reads)."
    ),
    model: Path = typer.Option(..., "--model", "-m", exists=True, help="A folder written by `coder train`."),
    k: int = typer.Option(10, "--k", help="How many ranked codes per document."),
    explain: bool = typer.Option(False, help="Add evidence spans and signals for the suggested codes."),
    out: Path = typer.Option(None, "--out", "-o", help="JSONL file to write (default: stdout)."),
    id_column: str = options.ID_COLUMN,
    text_column: str = options.TEXT_COLUMN,
) -> None:
    """Ranked codes (and suggested codes over the tuned threshold) for each document, as JSONL."""
    from corpora.readers import iter_records

    from ..coding import load_coder

    coder = load_coder(model)
    sink = open(out, "w", encoding="utf-8") if out else sys.stdout  # noqa: SIM115 - closed below
    failed = 0
    try:
        for record in iter_records(source, id_column=id_column, text_column=text_column):
            if record.text is None:
                failed += 1
                typer.echo(f"skipped {record.id}: {record.error}", err=True)
                continue
            ranked = coder.predict_ranked([record.text], k=k)[0]
            row: dict[str, Any] = {
                "id": record.id,
                "codes": [c for c, p in ranked if p >= coder.threshold_],
                "ranked": [{"code": c, "score": p} for c, p in ranked],
            }
            if explain:
                row["explanations"] = coder.explain(record.text)
            sink.write(json.dumps(row, ensure_ascii=False) + "\n")
    finally:
        if out:
            sink.close()
    if failed:
        raise typer.Exit(code=1)
