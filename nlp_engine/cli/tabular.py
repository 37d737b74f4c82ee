"""`nlp-engine tabular train|evaluate|predict`: models over patient-level tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(help="Structured data: train, evaluate and apply tabular models.", no_args_is_help=True)

DATA = typer.Argument(
    ..., exists=True, help="A CSV/TSV/Parquet table, or a file or folder of FHIR resources (.json/.ndjson)."
)


def _table(data: Path) -> Any:
    from ..tabular import fhir_to_table, read_table

    if data.is_dir() or data.suffix.lower() in (".json", ".ndjson"):
        return fhir_to_table(data)
    return read_table(data)


@app.command("train")
def train_command(
    data: Path = DATA,
    target: str = typer.Option(..., "--target", "-t", help="The column to predict."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for model.skops and model_card.json."),
    model: str = typer.Option("hgb", help="logreg, forest or hgb (histogram gradient boosting)."),
    drop: list[str] = typer.Option([], "--drop", help="Columns to leave out (ids, leaks). Repeatable."),
    calibrate: str = typer.Option(None, help="sigmoid or isotonic calibration of the probabilities."),
    folds: int = typer.Option(5, help="Cross-validation folds reported in the card (0: none)."),
) -> None:
    """Cross-validate, then train on all of DATA and save the model with its card."""
    from ..tabular import TabularModel

    df = _table(data)
    estimator = TabularModel(target, model=model, drop=drop, calibrate=calibrate)
    card: dict[str, Any] = {"data": {"path": str(data), "rows": int(len(df))}}
    if folds:
        card["cross_validation"] = estimator.cross_validate(df, folds)
    estimator.fit(df)
    estimator.save(out, card=card)
    typer.echo(json.dumps({"model": str(out), "report": estimator.report_, **card}, indent=2, default=str))


@app.command("evaluate")
def evaluate_command(
    data: Path = DATA,
    model: Path = typer.Option(..., "--model", "-m", exists=True),
    importance: bool = typer.Option(True, help="Add permutation importance of each column."),
) -> None:
    """ROC AUC, accuracy and (optionally) permutation importance on a labelled table not used in training."""
    from ..tabular import TabularModel

    estimator = TabularModel.load(model)
    df = _table(data)
    result: dict[str, Any] = estimator.evaluate(df)
    if importance:
        result["permutation_importance"] = estimator.importance(df)[:15]
    typer.echo(json.dumps(result, indent=2))


@app.command("predict")
def predict_command(
    data: Path = DATA,
    model: Path = typer.Option(..., "--model", "-m", exists=True),
    out: Path = typer.Option(
        ..., "--out", "-o", help="CSV with the predicted class and one probability column per class."
    ),
    id_column: str = typer.Option(
        None, help="Column to copy into the output (default: patient_id or the first column)."
    ),
) -> None:
    """Predicted class and probabilities for every row."""
    import pandas as pd

    from ..tabular import TabularModel

    estimator = TabularModel.load(model)
    df = _table(data)
    probs = estimator.predict_proba(df)
    if estimator.unseen_:
        typer.echo(
            "values not seen in training (scored as rare/missing), count per column: "
            + json.dumps(estimator.unseen_),
            err=True,
        )
    key = id_column or ("patient_id" if "patient_id" in df.columns else df.columns[0])
    result = pd.DataFrame({key: df[key].to_numpy()})
    result["predicted"] = [estimator.classes_[i] for i in probs.argmax(axis=1)]
    for j, c in enumerate(estimator.classes_):
        result[f"p_{c}"] = probs[:, j].round(4)
    out.parent.mkdir(parents=True, exist_ok=True)
    result.to_csv(out, index=False)
    typer.echo(json.dumps({"rows": int(len(result)), "out": str(out)}))
