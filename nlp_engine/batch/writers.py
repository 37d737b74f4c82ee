"""Writers from the result model (`nlp_engine.results.Document`) to JSONL and SQLite.

SQLite schema (see `docs/architecture.md`): `documents`, `sections`, `concepts`, `codes`, with
indexes on codes and document ids. Writing a document id again replaces its rows, so a re-run never
duplicates.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from types import TracebackType
from typing import IO

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
        self.conn.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                doc.id,
                doc.pipeline,
                doc.text_length,
                len(doc.sections),
                len(doc.sentences),
                len(doc.concepts),
                json.dumps(doc.metadata),
                doc.schema_version,
            ),
        )
        self.conn.executemany(
            "INSERT INTO sections VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(doc.id, i, s.name, s.title, s.start, s.end, s.body_start) for i, s in enumerate(doc.sections)],
        )
        self.conn.executemany(
            "INSERT INTO concepts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
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
        )
        self.conn.executemany(
            "INSERT INTO codes VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (doc.id, i, rank, cand.code, cand.title, cand.score, cand.matched_term)
                for i, c in enumerate(doc.concepts)
                for rank, cand in enumerate(c.codes)
            ],
        )

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> SqliteWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
