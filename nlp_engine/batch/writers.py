"""Writers from the result model (`nlp_engine.results.Document`) to JSONL, SQLite and Parquet.

The relational view (`document_rows`) has four tables, `documents`, `sections`, `concepts`, `codes`,
shared by SQLite (schema below, see `docs/architecture.md`; indexes on codes and statuses; writing a
document id again replaces its rows, so a re-run never duplicates) and Parquet (one file per table).
FHIR output is `nlp_engine.fhir`.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from ..results import Document

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, text_length INTEGER NOT NULL,
    n_sections INTEGER NOT NULL, n_sentences INTEGER NOT NULL, n_concepts INTEGER NOT NULL,
    metadata TEXT NOT NULL, schema_version TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sections (
    doc_id TEXT NOT NULL REFERENCES documents(id), idx INTEGER NOT NULL, name TEXT NOT NULL,
    title TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, body_start INTEGER NOT NULL,
    PRIMARY KEY (doc_id, idx)
);
CREATE TABLE IF NOT EXISTS concepts (
    doc_id TEXT NOT NULL REFERENCES documents(id), idx INTEGER NOT NULL, text TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, label TEXT NOT NULL, code TEXT, section TEXT,
    sentence_index INTEGER NOT NULL, negated INTEGER NOT NULL, uncertain INTEGER NOT NULL,
    historical INTEGER NOT NULL, hypothetical INTEGER NOT NULL, experiencer TEXT NOT NULL,
    status TEXT NOT NULL, PRIMARY KEY (doc_id, idx)
);
CREATE TABLE IF NOT EXISTS codes (
    doc_id TEXT NOT NULL REFERENCES documents(id), concept_idx INTEGER NOT NULL, rank INTEGER NOT NULL,
    code TEXT NOT NULL, title TEXT NOT NULL, score REAL NOT NULL, matched_term TEXT NOT NULL,
    PRIMARY KEY (doc_id, concept_idx, rank)
);
CREATE INDEX IF NOT EXISTS concepts_code ON concepts(code);
CREATE INDEX IF NOT EXISTS concepts_status ON concepts(status);
CREATE INDEX IF NOT EXISTS codes_code ON codes(code);
"""


#: Column names of each table, in order; the SQLite schema above and the Parquet files share them.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "documents": (
        "id", "pipeline", "text_length", "n_sections", "n_sentences", "n_concepts", "metadata", "schema_version",
    ),
    "sections": ("doc_id", "idx", "name", "title", "start", "end", "body_start"),
    "concepts": (
        "doc_id", "idx", "text", "start", "end", "label", "code", "section", "sentence_index",
        "negated", "uncertain", "historical", "hypothetical", "experiencer", "status",
    ),
    "codes": ("doc_id", "concept_idx", "rank", "code", "title", "score", "matched_term"),
}  # fmt: skip


def document_rows(doc: Document) -> dict[str, list[tuple[Any, ...]]]:
    """The rows one document contributes to each table (`TABLE_COLUMNS` order): the relational view of
    the result model, written by both the SQLite and the Parquet writer."""
    return {
        "documents": [
            (
                doc.id,
                doc.pipeline,
                doc.text_length,
                len(doc.sections),
                len(doc.sentences),
                len(doc.concepts),
                json.dumps(doc.metadata),
                doc.schema_version,
            )
        ],
        "sections": [
            (doc.id, i, s.name, s.title, s.start, s.end, s.body_start) for i, s in enumerate(doc.sections)
        ],
        "concepts": [
            (
                doc.id,
                i,
                c.text,
                c.start,
                c.end,
                c.label,
                c.code,
                c.section,
                c.sentence_index,
                int(c.assertion.negated),
                int(c.assertion.uncertain),
                int(c.assertion.historical),
                int(c.assertion.hypothetical),
                c.assertion.experiencer,
                c.assertion.status,
            )
            for i, c in enumerate(doc.concepts)
        ],
        "codes": [
            (doc.id, i, rank, cand.code, cand.title, cand.score, cand.matched_term)
            for i, c in enumerate(doc.concepts)
            for rank, cand in enumerate(c.codes)
        ],
    }


class JsonlWriter:
    """One JSON object per line, one line per document."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle: IO[str] = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def write(self, doc: Document) -> None:
        self._handle.write(doc.to_json() + "\n")

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SqliteWriter:
    """The embedded default database; one transaction per document."""

    def __init__(self, path: str | Path, *, commit: bool = True) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.path)
        self.conn.executescript(SCHEMA)
        self.commit = commit

    def write(self, doc: Document) -> None:
        """Write one document in its own transaction (or in the caller's, with `commit=False`)."""
        if self.commit:
            with self.conn:
                self.write_rows(doc)
        else:
            self.write_rows(doc)

    def write_rows(self, doc: Document) -> None:
        """Replace the document's rows; the caller owns the transaction."""
        for table, key in (
            ("codes", "doc_id"),
            ("concepts", "doc_id"),
            ("sections", "doc_id"),
            ("documents", "id"),
        ):
            self.conn.execute(f"DELETE FROM {table} WHERE {key} = ?", (doc.id,))
        for table, rows in document_rows(doc).items():
            if rows:
                marks = ", ".join("?" * len(TABLE_COLUMNS[table]))
                self.conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> SqliteWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class ParquetWriter:
    """One Parquet file per table (`documents`, `sections`, `concepts`, `codes`) in `folder`.

    Rows are buffered and written as row groups of `rows_per_group`, so memory stays bounded however
    many documents pass through; each file is written under a temporary name and renamed on `close()`.
    """

    def __init__(self, folder: str | Path, *, rows_per_group: int = 50_000) -> None:
        import pyarrow.parquet as pq

        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.rows_per_group = rows_per_group
        self._buffers: dict[str, list[tuple[Any, ...]]] = {table: [] for table in TABLE_COLUMNS}
        self._writers = {
            table: pq.ParquetWriter(self.folder / f"{table}.parquet.tmp", parquet_schemas()[table])
            for table in TABLE_COLUMNS
        }

    def write(self, doc: Document) -> None:
        for table, rows in document_rows(doc).items():
            buffer = self._buffers[table]
            buffer.extend(rows)
            if len(buffer) >= self.rows_per_group:
                self._flush(table)

    def _flush(self, table: str) -> None:
        import pyarrow as pa

        buffer = self._buffers[table]
        if buffer:
            columns = list(zip(*buffer, strict=True))
            schema = self._writers[table].schema
            self._writers[table].write_table(pa.Table.from_arrays(list(columns), schema=schema))
            buffer.clear()

    def close(self) -> None:
        for table, writer in self._writers.items():
            self._flush(table)
            writer.close()
            (self.folder / f"{table}.parquet.tmp").replace(self.folder / f"{table}.parquet")

    def __enter__(self) -> ParquetWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@functools.cache
def parquet_schemas() -> dict[str, Any]:
    """Arrow schemas of the Parquet tables: the SQLite types, with booleans for assertion flags."""
    import pyarrow as pa

    types = {
        "text_length": pa.int64(),
        "n_sections": pa.int32(),
        "n_sentences": pa.int32(),
        "n_concepts": pa.int32(),
        "idx": pa.int32(),
        "start": pa.int64(),
        "end": pa.int64(),
        "body_start": pa.int64(),
        "sentence_index": pa.int32(),
        "concept_idx": pa.int32(),
        "rank": pa.int32(),
        "score": pa.float64(),
        **dict.fromkeys(("negated", "uncertain", "historical", "hypothetical"), pa.int8()),
    }
    return {
        table: pa.schema(
            [
                pa.field(name, types.get(name, pa.string()), nullable=name in ("code", "section"))
                for name in columns
            ]
        )
        for table, columns in TABLE_COLUMNS.items()
    }
