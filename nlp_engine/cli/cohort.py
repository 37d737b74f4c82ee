"""`nlp-engine cohort cluster|index|similar|recommend`: cohorts, similar cases, code recommendation."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(help="Cohorts: cluster reports, find similar cases, recommend codes.", no_args_is_help=True)

CORPUS = typer.Argument(
    ...,
    exists=True,
    help="Reports: a folder or file the batch readers take (text, CSV/JSONL/Parquet, HL7, FHIR), or a "
    "coded corpus (a CodiEsp split folder; a table with --codes-column).",
)
CODES_COLUMN = typer.Option(
    None, "--codes-column", help="Table input: use this column's codes instead of the pipeline's concepts."
)
TEXT_COLUMN = typer.Option(None, "--text-column", help="Table input: the text column.")
EMBEDDING = typer.Option("lsa", help="lsa (TF-IDF + SVD), transformer (local HF model) or word2vec.")
MODEL_DIR = typer.Option(None, help="Hugging Face model folder for --embedding transformer.")


def read_corpus(
    path: Path, text_column: str | None, codes_column: str | None
) -> tuple[list[str], list[str], list[list[str]] | None]:
    """`(ids, texts, codes or None)`: gold codes from a coded corpus, else None (the pipeline links)."""
    from corpora.coded import read_coded, read_codiesp
    from corpora.readers import iter_records

    if codes_column or (path.is_dir() and any(path.glob("*D.tsv"))):
        docs = (
            read_coded(path, text_column=text_column, codes_column=codes_column)
            if codes_column
            else read_codiesp(path)
        )
        return [d.id for d in docs], [d.text for d in docs], [d.codes for d in docs]
    ids, texts = [], []
    for record in iter_records(path, text_column=text_column):
        if record.text is None or not record.text.strip():
            typer.echo(f"skipped {record.id}: {record.error or 'empty'}", err=True)
            continue
        ids.append(record.id)
        texts.append(record.text)
    return ids, texts, None


def _embedder(embedding: str, model_dir: Path | None, dims: int) -> Any:
    from ..cohorts import ReportEmbedder

    return ReportEmbedder(embedding, dims=dims, model_dir=str(model_dir) if model_dir else None)


@app.command("cluster")
def cluster_command(
    corpus: Path = CORPUS,
    out: Path = typer.Option(
        ..., "--out", "-o", help="Folder for clusters.json, assignments.csv, cluster_map.png."
    ),
    method: str = typer.Option("kmeans", help="kmeans or dbscan."),
    k: int = typer.Option(None, help="K-means clusters (default: best silhouette among 2..12)."),
    eps: float = typer.Option(None, help="DBSCAN cosine radius (default: from the neighbour distances)."),
    min_samples: int = typer.Option(5, help="DBSCAN core-point neighbours."),
    embedding: str = EMBEDDING,
    model_dir: Path = MODEL_DIR,
    dims: int = typer.Option(100, help="LSA dimensions."),
    text_column: str = TEXT_COLUMN,
    codes_column: str = CODES_COLUMN,
    tabular: bool = typer.Option(
        False, "--tabular", help="CORPUS is a patient-level table (CSV/TSV/Parquet): cluster its columns."
    ),
    id_column: str = typer.Option(None, "--id-column", help="With --tabular: the row id column."),
    drop: list[str] = typer.Option([], "--drop", help="With --tabular: columns to leave out. Repeatable."),
    seed: int = typer.Option(0),
) -> None:
    """Cluster the reports (or, with --tabular, the rows of a table); describe each cluster by its top
    terms or features and codes; draw the cluster map."""
    from ..cohorts import cluster_map, cluster_reports, cluster_table

    if tabular:
        from ..tabular import read_table

        table = read_table(corpus)
        cohorts = cluster_table(
            table,
            id_column=id_column,
            codes_column=codes_column,
            drop=drop,
            method=method,
            k=k,
            eps=eps,
            min_samples=min_samples,
            seed=seed,
        )
    else:
        ids, texts, codes = read_corpus(corpus, text_column, codes_column)
        cohorts = cluster_reports(
            texts,
            ids=ids,
            codes=codes,
            method=method,
            k=k,
            eps=eps,
            min_samples=min_samples,
            embedder=_embedder(embedding, model_dir, dims),
            seed=seed,
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / "clusters.json").write_text(
        json.dumps({"summary": cohorts.summary, "clusters": cohorts.clusters}, indent=2), encoding="utf-8"
    )
    with open(out / "assignments.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "cluster", "x", "y"])
        for doc_id, label, (x, y) in zip(cohorts.ids, cohorts.labels, cohorts.projection, strict=True):
            writer.writerow([doc_id, int(label), round(float(x), 4), round(float(y), 4)])
    plot = cluster_map(cohorts, out / "cluster_map.png", title=f"{corpus.name}: {method}")
    typer.echo(
        json.dumps(
            {
                **cohorts.summary,
                "sizes": {str(c["cluster"]): c["size"] for c in cohorts.clusters},
                "clusters_json": str(out / "clusters.json"),
                "assignments": str(out / "assignments.csv"),
                "cluster_map": str(plot),
            },
            indent=2,
        )
    )


@app.command("index")
def index_command(
    corpus: Path = CORPUS,
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the case index (model.skops + card)."),
    embedding: str = EMBEDDING,
    model_dir: Path = MODEL_DIR,
    dims: int = typer.Option(100, help="LSA dimensions."),
    text_column: str = TEXT_COLUMN,
    codes_column: str = CODES_COLUMN,
) -> None:
    """Embed a set of cases, with their codes, for `cohort similar` and `cohort recommend`."""
    from ..cohorts import CaseIndex

    ids, texts, codes = read_corpus(corpus, text_column, codes_column)
    index = CaseIndex.build(texts, ids, codes, embedder=_embedder(embedding, model_dir, dims))
    index.save(out, card={"data": {"path": str(corpus)}, "codes_from": "given" if codes else "pipeline"})
    typer.echo(json.dumps({"index": str(out), "cases": len(ids), "embedding": embedding}))


@app.command("similar")
def similar_command(
    report: Path = typer.Argument(..., exists=True, dir_okay=False, help="A report (any readable file)."),
    index: Path = typer.Option(..., "--index", "-i", exists=True, help="A folder from `cohort index`."),
    k: int = typer.Option(10, "--k", help="How many similar cases."),
    neighbours: int = typer.Option(20, help="Cases voting for the recommended codes."),
) -> None:
    """The K most similar indexed cases with their codes, and codes recommended from similar cases."""
    from corpora.readers import iter_records

    from ..cohorts import CaseIndex

    case_index = CaseIndex.load(index)
    for record in iter_records(report):
        if record.text is None:
            typer.echo(f"skipped {record.id}: {record.error}", err=True)
            continue
        typer.echo(
            json.dumps(
                {
                    "id": record.id,
                    "similar": case_index.query(record.text, k),
                    "recommended_codes": [
                        {"code": c, "score": s}
                        for c, s in case_index.recommend_codes(record.text, k, neighbours=neighbours)
                    ],
                }
            )
        )


@app.command("recommend")
def recommend_command(
    codes: str = typer.Argument(..., help="Codes the patient already has, comma-separated (E11.9,I10)."),
    index: Path = typer.Option(..., "--index", "-i", exists=True, help="A folder from `cohort index`."),
    k: int = typer.Option(10, "--k"),
) -> None:
    """Codes that co-occur with the given ones across the indexed cases (item-based CF)."""
    from ..cohorts import CaseIndex

    known = [c.strip().upper() for c in codes.split(",") if c.strip()]
    ranked = CaseIndex.load(index).recommend_from_codes(known, k)
    typer.echo(json.dumps({"known": known, "recommended": [{"code": c, "score": s} for c, s in ranked]}))
