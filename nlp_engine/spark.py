"""Scale-out on Apache Spark: the same readers, pipeline and result model as the local batch engine.

`spark_process(source, out)` lists the input files on the driver and spreads them over partitions;
each executor reads its files with `corpora.readers` and runs the pipeline with `mapInArrow`, so report
text never travels through the driver. The pipeline is loaded once per executor Python process
(`pipeline.get_pipeline` caches it, and Spark reuses its Python workers). A table of notes (Parquet,
with id and text columns) is read by Spark itself and processed the same way (`process_dataframe`).

Output under `out/`, all Parquet:

- `results.parquet/`: one row per input document: `id`, `status` (`processed`/`failed`), `reason`,
  `path`, `sha256`, `encoding`, `pipeline`, `document` (the result model as JSON: the same JSON the
  local engine writes to `results.jsonl`, so both engines give the same results for the same inputs);
- `documents.parquet/`, `sections.parquet/`, `concepts.parquet/`, `codes.parquet/`: the tables of
  `nlp_engine.batch.writers.TABLE_COLUMNS`, as the local `--format parquet` writes them;
- `manifest.json` (counts that add up to the inputs, and every failure with its reason) and
  `quarantine.tsv`.

Spark needs `PYSPARK_PYTHON` to be an interpreter with nlp-engine installed; `spark_session()` sets it
to the running one (and `SPARK_LOCAL_IP=127.0.0.1`) unless they are set already. Install with the
`spark` extra (`pip install nlp-engine[spark]`).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .batch.runner import RunSummary
from .batch.writers import TABLE_COLUMNS, document_rows, parquet_schemas

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

RESULT_FIELDS = ("id", "status", "reason", "path", "sha256", "encoding", "pipeline", "document")
RESULT_SCHEMA = ", ".join(f"{name} string" for name in RESULT_FIELDS)
#: Rows an executor turns into one Arrow batch of results (bounds executor memory).
OUTPUT_BATCH = 64


def spark_session(master: str | None = None, *, app_name: str = "nlp-engine") -> SparkSession:
    """A SparkSession for nlp-engine: `master` (e.g. `local[2]`), or the one `spark-submit` gave, or
    `local[*]` when run outside spark-submit."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    if master is None and "PYSPARK_GATEWAY_PORT" not in os.environ:  # not launched by spark-submit
        master = "local[*]"
    if master is not None:
        builder = builder.master(master)
    session = (
        builder.config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "256")
        .config("spark.python.worker.reuse", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def _result_row(result: Any) -> dict[str, Any]:
    from .parallel import DocumentFailure

    meta = result.metadata
    ok = not isinstance(result, DocumentFailure)
    return {
        "id": result.id,
        "status": "processed" if ok else "failed",
        "reason": None if ok else result.reason,
        "path": meta.get("path"),
        "sha256": meta.get("sha256"),
        "encoding": meta.get("encoding"),
        "pipeline": result.pipeline if ok else None,
        "document": result.to_json() if ok else None,
    }


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa

    schema = pa.schema([(name, pa.string()) for name in RESULT_FIELDS])
    buffer: list[dict[str, Any]] = []
    for row in rows:
        buffer.append(row)
        if len(buffer) >= OUTPUT_BATCH:
            yield pa.RecordBatch.from_pylist(buffer, schema=schema)
            buffer = []
    if buffer:
        yield pa.RecordBatch.from_pylist(buffer, schema=schema)


def _process_files(
    pipeline: str, id_column: str | None, text_column: str | None, batch_size: int
) -> Any:  # the mapInArrow function (a closure: cloudpickle ships it to the executors)
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from corpora.readers import records_for_file

        from .pipeline import process_stream

        def records() -> Iterator[Any]:
            for batch in batches:
                for file_id, path in zip(
                    batch.column("file_id").to_pylist(), batch.column("path").to_pylist(), strict=True
                ):
                    yield from records_for_file(
                        file_id, Path(path), id_column=id_column, text_column=text_column
                    )

        results = process_stream(records(), pipeline, batch_size=batch_size)
        yield from _batches(_result_row(result) for result in results)

    return run


def _process_rows(pipeline: str, id_column: str, text_column: str, batch_size: int) -> Any:
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from corpora.records import InputRecord, text_sha256

        from .pipeline import process_stream

        def records() -> Iterator[InputRecord]:
            for batch in batches:
                for doc_id, text in zip(
                    batch.column(id_column).to_pylist(), batch.column(text_column).to_pylist(), strict=True
                ):
                    if not isinstance(text, str) or not text.strip():
                        yield InputRecord(str(doc_id), None, {}, "empty or missing text")
                    else:
                        yield InputRecord(str(doc_id), text, {"sha256": text_sha256(text)})

        results = process_stream(records(), pipeline, batch_size=batch_size)
        yield from _batches(_result_row(result) for result in results)

    return run


def process_dataframe(
    frame: DataFrame,
    *,
    id_column: str = "id",
    text_column: str = "text",
    pipeline: str = "auto",
    batch_size: int = 32,
) -> DataFrame:
    """Process a Spark DataFrame of notes (one per row); returns the `results.parquet` rows as a DataFrame."""
    missing = [c for c in (id_column, text_column) if c not in frame.columns]
    if missing:
        raise ValueError(f"no column {missing[0]!r} in the DataFrame (columns: {frame.columns})")
    selected = frame.select(id_column, text_column)
    return selected.mapInArrow(_process_rows(pipeline, id_column, text_column, batch_size), RESULT_SCHEMA)


def _table_rows(table: str) -> Any:
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa

        from .results import Document

        schema = parquet_schemas()[table]
        for batch in batches:
            rows = [
                row
                for text in batch.column("document").to_pylist()
                for row in document_rows(Document.from_dict(json.loads(text)))[table]
            ]
            columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
            yield pa.RecordBatch.from_arrays(
                [pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=True)], schema=schema
            )

    return run


def _spark_schema(table: str) -> str:
    names = {"string": "string", "int64": "bigint", "int32": "int", "int8": "tinyint", "double": "double"}
    return ", ".join(f"`{f.name}` {names[str(f.type)]}" for f in parquet_schemas()[table])


def _is_table_source(source: Path) -> bool:
    return source.suffix.lower() == ".parquet"


def spark_process(
    source: str | Path,
    out: str | Path,
    *,
    spark: SparkSession | None = None,
    master: str | None = None,
    pipeline: str = "auto",
    partitions: int | None = None,
    id_column: str | None = None,
    text_column: str | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    batch_size: int = 32,
) -> RunSummary:
    """Process a folder of reports (any format the local engine reads) or a Parquet table of notes on
    Spark; writes the Parquet datasets, `manifest.json` and `quarantine.tsv` described above to `out`.

    Each run writes `out` afresh (Spark's overwrite mode): resumable, incremental runs are the local
    engine's job; on a cluster, Spark retries failed tasks itself.
    """
    from corpora.readers import ID_COLUMNS, TEXT_COLUMNS, iter_files, pick_column

    started = time.perf_counter()
    source, out = Path(source), Path(out)
    session = spark or spark_session(master)
    out.mkdir(parents=True, exist_ok=True)
    if _is_table_source(source):
        frame = session.read.parquet(str(source))
        id_col = pick_column(frame.columns, id_column, ID_COLUMNS)
        text_col = pick_column(frame.columns, text_column, TEXT_COLUMNS)
        if text_col is None or id_col is None:
            raise ValueError(f"{source}: need an id and a text column; found {frame.columns}")
        results = process_dataframe(
            frame, id_column=id_col, text_column=text_col, pipeline=pipeline, batch_size=batch_size
        )
    else:
        files = [
            (file_id, str(path.resolve()))
            for file_id, path in iter_files(source, include=include, exclude=exclude)
        ]
        n = partitions or max(1, min(len(files), session.sparkContext.defaultParallelism * 4))
        listing = session.createDataFrame(files, "file_id string, path string").repartition(n)
        run = _process_files(pipeline, id_column, text_column, batch_size)
        results = listing.mapInArrow(run, RESULT_SCHEMA)

    results_path = str(out / "results.parquet")
    results.write.mode("overwrite").parquet(results_path)
    stored = session.read.parquet(results_path)  # the tables come from the stored results: NLP runs once
    processed = stored.where("status = 'processed'").select("document")
    for table in TABLE_COLUMNS:
        processed.mapInArrow(_table_rows(table), _spark_schema(table)).write.mode("overwrite").parquet(
            str(out / f"{table}.parquet")
        )

    failures = sorted((r["id"], r["path"], r["reason"]) for r in stored.where("status = 'failed'").collect())
    counts: dict[str, int] = {
        row["status"]: row["count"] for row in stored.groupBy("status").count().collect()
    }
    summary = RunSummary(
        seen=sum(counts.values()),
        processed=counts.get("processed", 0),
        failed=counts.get("failed", 0),
        failures=[(doc_id, reason) for doc_id, _, reason in failures],
    )
    summary.seconds = round(time.perf_counter() - started, 3)
    with open(out / "quarantine.tsv", "w", encoding="utf-8") as handle:
        handle.write("id\tpath\treason\n")
        for doc_id, path, reason in failures:
            handle.write(f"{doc_id}\t{path}\t{' '.join(str(reason).split())}\n")
    manifest = {
        "engine": "spark",
        "master": session.sparkContext.master,
        "run": {k: v for k, v in summary.to_dict().items() if k not in ("failures", "words")},
        "failures": [{"id": doc_id, "reason": reason} for doc_id, reason in summary.failures],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    if spark is None:
        session.stop()
    return summary


def main() -> None:
    """`spark-submit .../nlp_engine/spark.py SOURCE --out OUT` runs the `spark-process` command."""
    from .cli import app

    app(["spark-process", *sys.argv[1:]])


if __name__ == "__main__":
    main()
