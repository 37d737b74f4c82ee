"""`nlp-engine embed`: Word2Vec training and look-ups, transformer document embeddings."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from . import options

app = typer.Typer(
    help="Embeddings: train Word2Vec, query neighbours, encode documents.", no_args_is_help=True
)


@app.command("train-word2vec")
def train_word2vec_command(
    corpus: Path = typer.Argument(
        ..., exists=True, help="A file or folder of documents (any format `process` reads)."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for vectors.bin and meta.json."),
    cbow: bool = typer.Option(False, "--cbow", help="CBOW instead of skip-gram."),
    size: int = typer.Option(100, help="Vector size."),
    window: int = typer.Option(5, help="Context window."),
    min_count: int = typer.Option(2, help="Ignore words seen fewer times."),
    epochs: int = typer.Option(10, help="Training epochs."),
    phrases: bool = typer.Option(True, help="Learn multi-word terms (lymph_node) first."),
    seed: int = typer.Option(0, help="Random seed (one worker: identical vectors run to run)."),
    workers: int = typer.Option(1, help="Training threads (more than 1 is faster but not reproducible)."),
    text_column: str = options.TEXT_COLUMN,
) -> None:
    """Train Word2Vec on the clinical tokens of CORPUS."""
    from ..embeddings.word2vec import iter_corpus_texts, train_word2vec

    skipped: list[str] = []
    vectors = train_word2vec(
        iter_corpus_texts(corpus, text_column=text_column, skipped=skipped),
        sg=not cbow,
        vector_size=size,
        window=window,
        min_count=min_count,
        epochs=epochs,
        phrases=phrases,
        seed=seed,
        workers=workers,
    )
    vectors.save(out)
    typer.echo(
        json.dumps(
            {"out": str(out), **vectors.meta, "skipped_inputs": len(skipped), "skipped_ids": skipped[:10]},
            indent=2,
        )
    )


@app.command("neighbours")
def neighbours_command(
    vectors: Path = typer.Argument(..., exists=True, help="A folder written by train-word2vec."),
    terms: list[str] = typer.Argument(..., help="Words or multi-word terms."),
    k: int = typer.Option(10, "--k", help="How many neighbours."),
) -> None:
    """Nearest neighbours of each term, by cosine similarity."""
    from ..embeddings.word2vec import WordVectors

    wv = WordVectors.load(vectors)
    missing = 0
    for term in terms:
        try:
            typer.echo(json.dumps({"term": term, "neighbours": wv.most_similar(term, k)}))
        except KeyError as exc:
            missing += 1
            typer.echo(f"{exc.args[0]}", err=True)
    if missing:
        raise typer.Exit(code=1)


@app.command("encode")
def encode_command(
    source: Path = typer.Argument(
        ..., exists=True, help="A file or folder of documents (any format `process` reads)."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Parquet file: id, vector."),
    model_dir: Path = typer.Option(None, help="Hugging Face model folder (default: the bundled MiniLM)."),
    device: str = typer.Option(None, help="cpu, cuda, cuda:1 ... (default: CUDA when present)."),
    batch_size: int = typer.Option(32, help="Chunks per forward pass."),
    cache_dir: Path = typer.Option(None, help="Keep vectors on disk by text hash (re-runs are free)."),
    id_column: str = options.ID_COLUMN,
    text_column: str = options.TEXT_COLUMN,
) -> None:
    """Transformer document embeddings (mean-pooled, long texts chunked by sentence) to Parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from corpora.readers import iter_records

    from ..embeddings import TransformerEncoder

    encoder = TransformerEncoder(model_dir, device=device, batch_size=batch_size, cache_dir=cache_dir)
    ids, texts, skipped = [], [], []
    for record in iter_records(source, id_column=id_column, text_column=text_column):
        if record.text is None:
            skipped.append(record.id)
        else:
            ids.append(record.id)
            texts.append(record.text)
    vectors = encoder.encode(texts)
    table = pa.table({"id": ids, "vector": pa.array(vectors.tolist(), type=pa.list_(pa.float32()))})
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out)
    stats = {k: round(v, 3) if isinstance(v, float) else v for k, v in encoder.stats.items()}
    typer.echo(
        json.dumps(
            {
                "out": str(out),
                "documents": len(ids),
                "dim": int(vectors.shape[1]),
                "device": encoder.device,
                "sentences_per_s": round(encoder.sentences_per_second(), 1),
                **stats,
                "skipped_inputs": len(skipped),
                "skipped_ids": skipped[:10],
            },
            indent=2,
        )
    )
