"""Resumable batch processing of report folders: every input accounted for, every result once.

State lives in `OUT/results.sqlite` next to the results, so one transaction records a batch's
documents, the inputs' statuses, and how far `OUT/results.jsonl` is committed:

1. a batch's JSONL lines are appended and flushed to disk;
2. one SQLite transaction writes the batch's result rows, marks its inputs processed or failed, and
   stores the JSONL's committed length.

Killed between 1 and 2 (Ctrl-C or `kill -9`), the next run truncates the JSONL to the committed
length and redoes the batch: no document is lost and none is written twice. Inputs already processed
with the same content hash are skipped; `force=True` starts the output afresh. Failures (unreadable,
binary, empty, too large, or failing in the pipeline) are recorded with their reason in the manifest
and listed in `OUT/quarantine.tsv`; the run goes on. `OUT/codes.csv` (one row per concept with
its best code) is exported from the database at the end of every run. Logs carry ids and counts, never text.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from corpora.readers import InputRecord, iter_records

from ..parallel import DocumentFailure, iter_results
from ..pipeline import preload
from ..results import Document
from .export import FORMATS, check_formats, export_paths, export_results
from .writers import SqliteWriter

log = logging.getLogger("nlp_engine.batch")

MANIFEST_SCHEMA = """
CREATE TABLE IF NOT EXISTS manifest (
    id TEXT PRIMARY KEY, path TEXT, sha256 TEXT, status TEXT NOT NULL, reason TEXT,
    encoding TEXT, bytes INTEGER, pipeline TEXT, updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS run_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass
class RunSummary:
    """Counts for one run; `seen == processed + skipped + failed` always holds."""

    seen: int = 0
    processed: int = 0
    skipped: int = 0
    failed: int = 0
    words: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class BatchRunner:
    """Process a folder into `out/results.jsonl` and `out/results.sqlite`, resumably."""

    def __init__(
        self,
        out: str | Path,
        *,
        pipeline: str = "auto",
        workers: int = 1,
        batch_size: int = 16,
        force: bool = False,
        id_column: str | None = None,
        text_column: str | None = None,
        formats: Sequence[str] = ("jsonl",),
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
    ) -> None:
        self.out = Path(out)
        self.formats = check_formats(formats)
        self.include = tuple(include)
        self.exclude = tuple(exclude)
        self.id_column = id_column
        self.text_column = text_column
        self.pipeline = pipeline
        self.workers = workers
        self.batch_size = batch_size
        self.force = force

    # -- state ------------------------------------------------------------------------------
    def _open(self) -> tuple[SqliteWriter, Any]:
        self.out.mkdir(parents=True, exist_ok=True)
        jsonl_path = self.out / "results.jsonl"
        db_path = self.out / "results.sqlite"
        if self.force:
            for path in (jsonl_path, db_path, self.out / "quarantine.tsv", self.out / "manifest.json"):
                path.unlink(missing_ok=True)
            for path in export_paths(self.out, FORMATS):
                shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        db = SqliteWriter(db_path, commit=False)
        db.conn.executescript(MANIFEST_SCHEMA)
        row = db.conn.execute("SELECT value FROM run_state WHERE key = 'jsonl_bytes'").fetchone()
        committed = int(row[0]) if row else 0
        jsonl = open(jsonl_path, "a+b")  # noqa: SIM115 - closed in run()
        # Drop lines of a batch that was never committed (never grow the file: a compaction may have
        # replaced it just before its new length was recorded).
        committed = min(committed, jsonl.seek(0, os.SEEK_END))
        jsonl.truncate(committed)
        jsonl.seek(committed)
        return db, jsonl

    @staticmethod
    def _has_document(db: SqliteWriter, doc_id: str) -> bool:
        return db.conn.execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone() is not None

    @staticmethod
    def _processed_hash(db: SqliteWriter, doc_id: str) -> str | None:
        """The content hash an input had when it was processed, or None (a primary-key lookup, so memory
        does not grow with the number of inputs already done)."""
        row = db.conn.execute(
            "SELECT sha256 FROM manifest WHERE id = ? AND status = 'processed'", (doc_id,)
        ).fetchone()
        return row[0] if row else None

    # -- running ----------------------------------------------------------------------------
    def run(self, source: str | Path, progress: Callable[[int, int], None] | None = None) -> RunSummary:
        """Process every input under `source`; `progress(done, failed)` is called after each batch."""
        preload(self.pipeline)  # before the clock, and before workers fork
        summary = RunSummary()
        started = time.perf_counter()
        db, jsonl = self._open()
        try:
            failures_now: list[InputRecord] = []
            self._words: dict[str, int] = {}

            def to_process() -> Iterator[tuple[str, str, dict[str, Any]]]:
                records = iter_records(
                    source,
                    id_column=self.id_column,
                    text_column=self.text_column,
                    include=self.include,
                    exclude=self.exclude,
                )
                for record in records:
                    summary.seen += 1
                    sha = record.metadata.get("sha256")
                    if sha is not None and self._processed_hash(db, record.id) == sha:
                        summary.skipped += 1
                        continue
                    if record.text is None:
                        failures_now.append(record)
                        continue
                    self._words[record.id] = len(record.text.split())
                    yield record.id, record.text, record.metadata

            batch: list[Document | DocumentFailure] = []
            results = iter_results(
                to_process(), self.pipeline, n_process=self.workers, batch_size=self.batch_size
            )
            for result in results:
                batch.append(result)
                if len(batch) >= self.batch_size or failures_now:
                    self._commit(db, jsonl, batch, failures_now, summary)
                    batch, failures_now[:] = [], []
                    if progress:
                        progress(summary.processed, summary.failed)
            self._commit(db, jsonl, batch, failures_now, summary)
            if db.conn.execute("SELECT 1 FROM run_state WHERE key = 'needs_compaction'").fetchone():
                self._compact(db, jsonl)
            if progress:
                progress(summary.processed, summary.failed)
        finally:
            jsonl.close()
            self._write_reports(db)
            db.close()
        self._export()
        summary.seconds = round(time.perf_counter() - started, 3)
        (self.out / "manifest.json").write_text(json.dumps(self._manifest_totals(summary), indent=2))
        return summary

    def _commit(
        self,
        db: SqliteWriter,
        jsonl: Any,
        batch: list[Document | DocumentFailure],
        read_failures: list[InputRecord],
        summary: RunSummary,
    ) -> None:
        if not batch and not read_failures:
            return
        docs = [r for r in batch if isinstance(r, Document)]
        for doc in docs:
            jsonl.write((doc.to_json() + "\n").encode("utf-8"))
        jsonl.flush()
        os.fsync(jsonl.fileno())
        now = time.time()
        with db.conn:
            # An id written before (changed since an earlier run, or repeated in this one) leaves an
            # older JSONL line behind: compact at the end of the run.
            repeated, in_batch = False, set()
            for doc in docs:
                repeated = repeated or doc.id in in_batch or self._has_document(db, doc.id)
                in_batch.add(doc.id)
                db.write_rows(doc)
                self._record(db, doc.id, "processed", None, doc.metadata, doc.pipeline, now)
            failed = [(f.id, f.reason, f.metadata) for f in batch if isinstance(f, DocumentFailure)]
            failed += [(r.id, r.error or "unreadable", r.metadata) for r in read_failures]
            for doc_id, reason, meta in failed:
                self._record(db, doc_id, "failed", reason, meta, None, now)
                log.warning("failed %s: %s", doc_id, reason)
            db.conn.execute(
                "INSERT OR REPLACE INTO run_state VALUES ('jsonl_bytes', ?)", (str(jsonl.tell()),)
            )
            _bump_version(db.conn)
            if repeated:
                # Recorded with the batch, so a run killed before compacting still compacts next time.
                db.conn.execute("INSERT OR REPLACE INTO run_state VALUES ('needs_compaction', '1')")
        summary.processed += len(docs)
        summary.words += sum(self._words.pop(doc.id, 0) for doc in docs)
        summary.failed += len(failed)
        summary.failures.extend((doc_id, reason) for doc_id, reason, _ in failed)

    @staticmethod
    def _record(
        db: SqliteWriter,
        doc_id: str,
        status: str,
        reason: str | None,
        meta: dict[str, Any],
        pipeline: str | None,
        now: float,
    ) -> None:
        """One input's manifest row (inside the caller's transaction)."""
        db.conn.execute(
            "INSERT OR REPLACE INTO manifest VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                doc_id,
                meta.get("path"),
                meta.get("sha256"),
                status,
                reason,
                meta.get("encoding"),
                meta.get("bytes"),
                pipeline,
                now,
            ),
        )

    def _compact(self, db: SqliteWriter, jsonl: Any) -> None:
        """Inputs that changed since an earlier run were appended again: keep only each id's last line.
        Two streaming passes (find each id's last line, then copy those), so memory holds ids, not results."""
        jsonl.seek(0)
        last: dict[str, int] = {}
        for number, line in enumerate(jsonl):
            last[json.loads(line)["id"]] = number
        keep = set(last.values())
        del last
        tmp = self.out / "results.jsonl.tmp"
        jsonl.seek(0)
        with open(tmp, "wb") as handle:
            handle.writelines(line for number, line in enumerate(jsonl) if number in keep)
            handle.flush()
            os.fsync(handle.fileno())
        size = tmp.stat().st_size
        with db.conn:
            os.replace(tmp, self.out / "results.jsonl")
            db.conn.execute("INSERT OR REPLACE INTO run_state VALUES ('jsonl_bytes', ?)", (str(size),))
            db.conn.execute("DELETE FROM run_state WHERE key = 'needs_compaction'")
            _bump_version(db.conn)

    def _export(self) -> None:
        """Rebuild each requested export whose last build predates the results' current version (so a
        run killed after committing but before exporting is caught up by the next run, even when that
        one has nothing left to process)."""
        formats = [f for f in self.formats if f in ("parquet", "fhir")]
        if not formats:
            return
        conn = sqlite3.connect(self.out / "results.sqlite")
        try:
            state = dict(conn.execute("SELECT key, value FROM run_state").fetchall())
            version = state.get("results_version", "0")
            stale = [
                f
                for f in formats
                if state.get(f"exported:{f}") != version
                or not all(p.exists() for p in export_paths(self.out, [f]))
            ]
            if stale:
                export_results(self.out, stale)
                with conn:
                    conn.executemany(
                        "INSERT OR REPLACE INTO run_state VALUES (?, ?)",
                        [(f"exported:{f}", version) for f in stale],
                    )
        finally:
            conn.close()

    def _write_reports(self, db: SqliteWriter) -> None:
        """`quarantine.tsv` and `codes.csv`, derived from the database, so they match it exactly."""
        export_codes_csv(db.conn, self.out / "codes.csv")
        rows = db.conn.execute(
            "SELECT id, path, reason FROM manifest WHERE status = 'failed' ORDER BY id"
        ).fetchall()
        with open(self.out / "quarantine.tsv", "w", encoding="utf-8") as handle:
            handle.write("id\tpath\treason\n")
            for doc_id, path, reason in rows:
                handle.write(f"{doc_id}\t{path}\t{' '.join(str(reason).split())}\n")

    def _manifest_totals(self, summary: RunSummary) -> dict[str, Any]:
        return {
            "run": {k: v for k, v in summary.to_dict().items() if k != "failures"},
            "failures": [{"id": doc_id, "reason": reason} for doc_id, reason in summary.failures],
        }


def _bump_version(conn: sqlite3.Connection) -> None:
    """Count changes to the committed results (inside the caller's transaction)."""
    conn.execute(
        "INSERT INTO run_state VALUES ('results_version', '1') "
        "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
    )


CODES_COLUMNS = ("doc_id", "concept", "start", "end", "code", "title", "score", "label", "section", "status")


def export_codes_csv(conn: sqlite3.Connection, path: Path) -> int:
    """One row per concept with its best code (the CSV analysts load); returns the row count."""
    rows = conn.execute(
        """SELECT c.doc_id, c.text, c.start, c."end", c.code, COALESCE(k.title, ''), COALESCE(k.score, 0),
                  c.label, COALESCE(c.section, ''), c.status
           FROM concepts c LEFT JOIN codes k ON k.doc_id = c.doc_id AND k.concept_idx = c.idx AND k.rank = 0
           ORDER BY c.doc_id, c.idx"""
    )
    count = 0
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CODES_COLUMNS)
        for row in rows:
            writer.writerow(row)
            count += 1
    os.replace(tmp, path)
    return count


def process_folder(
    source: str | Path,
    out: str | Path,
    *,
    pipeline: str = "auto",
    workers: int = 1,
    batch_size: int = 16,
    force: bool = False,
    id_column: str | None = None,
    text_column: str | None = None,
    formats: Sequence[str] = ("jsonl",),
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    progress: Callable[[int, int], None] | None = None,
) -> RunSummary:
    """Library entry point: process a file or folder of reports into `out`, resumably.

    Text files give one document each; CSV, TSV, JSONL and Parquet files one per row (`id_column` and
    `text_column` name the columns; by default the first of `id`/`note_id`/`report_id`/... and
    `text`/`transcription`/`note`/`report`/...); HL7 v2 files one per message; FHIR files one per report.
    `formats` adds `parquet` (`out/parquet/*.parquet`) and/or `fhir` (`out/fhir_bundles.ndjson`) to the
    JSONL and SQLite results; `include`/`exclude` are glob patterns over the inputs' relative paths;
    `progress(processed, failed)` is called after each committed batch.
    """
    runner = BatchRunner(
        out,
        pipeline=pipeline,
        workers=workers,
        batch_size=batch_size,
        force=force,
        id_column=id_column,
        text_column=text_column,
        formats=formats,
        include=include,
        exclude=exclude,
    )
    return runner.run(source, progress=progress)
