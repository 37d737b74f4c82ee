from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import typer
from rich.console import Console

from . import options

app = typer.Typer(
    help="Pathology reports: synoptic fields with evidence; train and evaluate cancer coders.",
    no_args_is_help=True,
)
FORMATS = ("jsonl", "csv", "fhir")
LABELLED = typer.Argument(
    ...,
    exists=True,
    dir_okay=False,
    help="CSV/TSV/Parquet of reports: a text column and one column per coded field "
    "(cancer_type, icd_10, icd_o_3_site, icd_o_3_histology, pathologic_T, ... as in TCGA-CDR).",
)


@app.command("extract")
def extract_command(
    source: Path = typer.Argument(
        ..., exists=True, help="A report file or a folder (any format `process` reads)."
    ),
    out: Path = typer.Option(
        ...,
        "--out",
        "-o",
        help="Output folder: pathology.jsonl (with evidence), pathology.csv, fhir_bundles.ndjson.",
    ),
    formats: str = typer.Option(
        "jsonl,csv", "--format", "-f", help="Comma-separated: jsonl, csv, fhir (FHIR R4 bundles, NDJSON)."
    ),
    model: Path = typer.Option(
        None,
        "--model",
        "-m",
        help="A trained pathology coder (`pathology train`): adds its codes with scores.",
    ),
    id_column: str = options.ID_COLUMN,
    text_column: str = options.TEXT_COLUMN,
    include: list[str] = options.INCLUDE,
    exclude: list[str] = options.EXCLUDE,
) -> None:
    """Extract histologic type and site (ICD-O-3), pT/pN/pM, stage, grade, size, margins, nodes,
    invasion, laterality and receptors, each with its evidence; with --model also the coder's codes, each
    with its score, alternatives and evidence spans (none for an unreadable or tumour-free report)."""
    from corpora.readers import iter_records

    from ..pathology import FIELDS
    from ..pathology.extract import TNM_FIELDS
    from ..pathology.report import report_bundle, report_result

    chosen = [f.strip() for f in formats.split(",") if f.strip()]
    unknown = sorted(set(chosen) - set(FORMATS))
    if unknown or not chosen:
        raise typer.BadParameter(f"unknown format(s) {unknown}; choose from {', '.join(FORMATS)}")
    coder = None
    if model is not None:
        from ..pathology.model_io import load_pathology_coder

        coder = load_pathology_coder(model)
    # the fields the coder has a model for: one CSV column each, in this order on every row
    coded_targets = list(coder.models_) if coder is not None else []
    out.mkdir(parents=True, exist_ok=True)
    done = failed = 0
    console = Console(stderr=True)
    with ExitStack() as stack:
        jsonl = (
            stack.enter_context(open(out / "pathology.jsonl", "w", encoding="utf-8"))
            if "jsonl" in chosen
            else None
        )
        table = None
        if "csv" in chosen:
            table = csv.writer(
                stack.enter_context(open(out / "pathology.csv", "w", encoding="utf-8", newline=""))
            )
            review_column = ["review"] if coder is not None else []
            table.writerow(
                [
                    "id",
                    *FIELDS,
                    "derived_stage",
                    "status",
                    *(f"coded_{t}" for t in coded_targets),
                    *review_column,
                ]
            )
        bundles = None
        if "fhir" in chosen:
            bundles = stack.enter_context(open(out / "fhir_bundles.ndjson", "w", encoding="utf-8"))
        records = iter_records(
            source, id_column=id_column, text_column=text_column, include=include, exclude=exclude
        )
        for record in records:
            if record.text is None:
                failed += 1
                console.print(f"[red]failed[/red] {record.id}: {record.error}")
                continue
            row = report_result(record.id, record.text, coder, age_years=record.metadata.get("age_years"))
            fields, coded = row["fields"], row.get("coded", {})
            if jsonl is not None:
                jsonl.write(json.dumps(row, ensure_ascii=False) + "\n")
            if table is not None:
                table.writerow(
                    [
                        record.id,
                        *(_value(fields[f], prefixed=f in TNM_FIELDS) for f in FIELDS),
                        _value(row["derived_stage"]),
                        row["status"],
                        *(coded.get(t) or "" for t in coded_targets),
                        *([";".join(row["coding"]["review"])] if coder is not None else []),
                    ]
                )
            if bundles is not None:
                bundle = report_bundle(row)
                bundles.write(json.dumps(bundle, ensure_ascii=False, separators=(",", ":")) + "\n")
            done += 1
    Console().print(f"extracted {done} reports, failed {failed}; wrote {', '.join(chosen)} to {out}")
    if failed:
        raise typer.Exit(1)


def _value(field: dict[str, object] | None, *, prefixed: bool = False) -> object:
    """A field's value for a CSV cell ("" for none); `prefixed`: a TNM value with its AJCC prefix
    ("ypT1c")."""
    from ..pathology.extract import with_prefix

    if field is None:
        return ""
    return with_prefix(field) if prefixed else field["value"]


def _labelled(
    data: Path, text_column: str, extra: Sequence[str] = ()
) -> tuple[list[str], list[dict[str, str]]]:
    """The report texts (NUL-interleaved UTF-16 repaired) and one record per report with the coded
    fields present as columns, and the `extra` columns asked for."""
    from ..errors import PathologyError
    from ..pathology.coder import TARGETS
    from ..tabular import read_table
    from ..textio import repair_nul_interleaved

    table = read_table(data)
    if text_column not in table.columns:
        raise PathologyError(
            f"{data.name}: no text column {text_column!r} (columns: {', '.join(map(str, table.columns[:12]))})"
        )
    fields = [t for t in TARGETS if t in table.columns]
    if not fields:
        raise PathologyError(f"{data.name}: none of the coded fields ({', '.join(TARGETS)}) is a column")
    missing = [c for c in extra if c not in table.columns]
    if missing:
        raise PathologyError(f"{data.name}: no column {missing[0]!r}")
    fields += [c for c in extra if c not in fields]
    table = table.fillna("")
    texts = [repair_nul_interleaved(str(t))[0] for t in table[text_column]]
    records = [
        {f: str(v) for f, v in zip(fields, values, strict=True)}
        for values in table[fields].itertuples(index=False)
    ]
    return texts, records


@app.command("train")
def train_command(
    data: Path = LABELLED,
    model: Path = typer.Option(..., "--model", "-m", help="Folder to write the coder and its card to."),
    text_column: str = typer.Option("text", "--text-column", help="The report text column."),
    c: float = typer.Option(2.0, "--C", help="Inverse regularisation of the linear SVMs."),
    field_weight: float = typer.Option(0.15, help="Weight of the extracted-field features beside the words."),
    review_accuracy: list[str] = typer.Option(
        [],
        "--review-accuracy",
        help="Selective coding: 0.95 (every field) or FIELD=0.9 (repeatable). Cross-validation on DATA "
        "learns per field a confidence for each code (the held-out share right at its score, apart for "
        "values the report states and values it does not) and the confidence below which a code goes "
        "to review (`review` in the output), so that the codes kept were right that often on held-out "
        "reports.",
    ),
    review_folds: int = typer.Option(5, min=2, help="Folds of that cross-validation."),
    review_floor: float | None = typer.Option(
        None,
        "--review-floor",
        min=0.0,
        max=1.0,
        help="With --review-accuracy: a code whose own confidence is below this (0.5: more likely "
        "wrong than right) goes to review too, whatever its field's threshold.",
    ),
    group_column: str = typer.Option(
        None, "--group-column", help="Reports sharing this column's value stay in one fold (e.g. report_id)."
    ),
    char_ngrams: bool = typer.Option(
        True,
        "--char-ngrams/--no-char-ngrams",
        help="The fields that name the tumour and its site (cancer type, ICD-10, ICD-O-3 site and "
        "histology, histological type, tissue site, laterality, pM) also see the report's character "
        "3-5-grams, which read words OCR broke; --no-char-ngrams: words only, about a quarter of the "
        "training time and less accurate (docs/benchmarks.md).",
    ),
) -> None:
    """Train a PathologyCoder (one classifier per coded field present in DATA) and save it safely."""
    import time

    from ..errors import PathologyError
    from ..pathology.coder import TARGETS, PathologyCoder
    from ..pathology.model_io import save_pathology_coder

    wanted = _review_accuracy(review_accuracy)
    texts, records = _labelled(data, text_column, extra=[group_column] if group_column else [])
    if len(texts) < 2:
        raise PathologyError(
            f"{data.name}: {len(texts)} report(s); a coder needs labelled reports to learn from"
        )
    groups = [r[group_column] for r in records] if group_column else None
    started = time.perf_counter()
    coder = PathologyCoder(
        targets=tuple(t for t in records[0] if t in TARGETS),
        C=c,
        field_weight=field_weight,
        review_accuracy=wanted,
        review_folds=review_folds,
        review_floor=review_floor,
        char_fields=char_ngrams,
    ).fit(texts, records, groups=groups)
    if not coder.models_:
        raise PathologyError(f"{data.name}: no field has two or more values to learn")
    seconds = round(time.perf_counter() - started, 1)
    save_pathology_coder(
        coder, model, card={"training": {"data": data.name, "reports": len(texts), "fit_seconds": seconds}}
    )
    Console().print(
        f"trained {len(coder.models_)} fields ({', '.join(coder.models_)}) on {len(texts)} reports "
        f"in {seconds} s; saved to {model}"
    )
    if review_floor is not None and coder.review_thresholds_:
        Console().print(f"  every field: codes with a confidence below {review_floor} go to review")
    for target, threshold in coder.review_thresholds_.items():
        Console().print(
            f"  {target}: codes with a confidence below {threshold:.4f} go to review"
            if threshold != float("inf")
            else f"  {target}: held-out accuracy never reached {coder.target_accuracy(target)}; all to review"
        )


def _review_accuracy(values: list[str]) -> dict[str, float] | None:
    """`--review-accuracy` values: one number for every field, or FIELD=number pairs."""
    from ..pathology.coder import TARGETS

    if not values:
        return None
    overall: float | None = None
    fields: dict[str, float] = {}
    for value in values:
        name, _, number = value.rpartition("=")
        try:
            accuracy = float(number)
        except ValueError:
            raise typer.BadParameter(f"--review-accuracy {value!r}: expected 0.95 or FIELD=0.95") from None
        if not 0.0 < accuracy <= 1.0:
            raise typer.BadParameter(f"--review-accuracy {value!r}: an accuracy between 0 and 1")
        if name and name not in TARGETS:
            raise typer.BadParameter(
                f"--review-accuracy: unknown field {name!r} (fields: {', '.join(TARGETS)})"
            )
        if name:
            fields[name] = accuracy
        else:
            overall = accuracy
    if overall is not None:
        return {t: fields.get(t, overall) for t in TARGETS}
    return fields


@app.command("evaluate")
def evaluate_command(
    data: Path = LABELLED,
    model: Path = typer.Option(..., "--model", "-m", help="A coder saved by `pathology train`."),
    text_column: str = typer.Option("text", "--text-column", help="The report text column."),
) -> None:
    """Accuracy and macro-F1 per field of a saved coder on labelled reports (JSON on stdout)."""
    from ..pathology.coder import evaluate
    from ..pathology.model_io import load_pathology_coder

    coder = load_pathology_coder(model)
    texts, records = _labelled(data, text_column)
    typer.echo(
        json.dumps(
            {"data": data.name, "reports": len(texts), "fields": evaluate(coder, texts, records)}, indent=2
        )
    )
