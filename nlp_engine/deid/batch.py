"""De-identify a folder (or a table, HL7 or FHIR files: any input the readers know) into `out/`:

- `deid.jsonl`: one line per document: `id`, de-identified `text`, `mode`, `counts` per PHI label;
- `text/`: the de-identified text of each document as a `.txt` file (ids become relative paths);
- `audit.jsonl`: per document the counts per label, the number of characters replaced and the
  detector version, never the PHI itself: what a privacy officer reviews;
- `manifest.json` (seen = processed + failed) and `quarantine.tsv` (failed inputs with reasons).

Surrogates use the secret key (`key`, or `NLP_ENGINE_DEID_KEY`); with a patient id in the input's
metadata (HL7 PID-3, FHIR subject) they and the date shift are consistent per patient across files.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from corpora.readers import InputRecord, iter_records

from .surrogate import redact

log = logging.getLogger("nlp_engine.deid")
DETECTOR_VERSION = "rules-1"


@dataclass
class DeidSummary:
    seen: int = 0
    processed: int = 0
    failed: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)


_SETTINGS: dict[str, Any] = {}


def _init(mode: str, key: bytes | None) -> None:
    _SETTINGS.update(mode=mode, key=key)


def _one(item: tuple[str, str, str | None]) -> dict[str, Any]:
    doc_id, text, patient = item
    try:
        result = redact(text, mode=_SETTINGS["mode"], key=_SETTINGS["key"], patient=patient)
    except Exception as exc:  # noqa: BLE001 - one bad document must not stop the run; no text in the reason
        return {"id": doc_id, "error": f"de-identification failed: {type(exc).__name__}"}
    replaced = sum(s.end - s.start for s in result.spans)
    return {"id": doc_id, "text": result.text, "counts": result.audit, "replaced_chars": replaced}


def _patient(record: InputRecord) -> str | None:
    meta = record.metadata
    value = meta.get("patient_id") or meta.get("subject")
    return str(value) if value else None


def _text_path(root: Path, doc_id: str) -> Path:
    safe = re.sub(r"[^\w./\-]", "_", doc_id).strip("./") or "document"
    path = root / (safe if safe.endswith(".txt") else safe + ".txt")  # ids stay distinct: a.csv_1.txt
    if root.resolve() not in path.resolve().parents:  # an id with `..` must not escape the folder
        path = root / re.sub(r"[/.]", "_", safe)
    return path


def deid_folder(
    source: str | Path,
    out: str | Path,
    *,
    mode: str = "surrogate",
    key: str | bytes | None = None,
    workers: int = 1,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    id_column: str | None = None,
    text_column: str | None = None,
) -> DeidSummary:
    """De-identify every document under `source` into `out` (see the module docstring)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    secret = key.encode() if isinstance(key, str) else key
    if secret is None and os.environ.get("NLP_ENGINE_DEID_KEY"):
        secret = os.environ["NLP_ENGINE_DEID_KEY"].encode()
    summary = DeidSummary()
    started = time.perf_counter()
    failures: list[tuple[str, str | None, str]] = []

    def items() -> Iterator[tuple[str, str, str | None]]:
        for record in iter_records(
            source, id_column=id_column, text_column=text_column, include=include, exclude=exclude
        ):
            summary.seen += 1
            if record.text is None:
                failures.append((record.id, record.metadata.get("path"), record.error or "unreadable"))
                continue
            yield record.id, record.text, _patient(record)

    counts: dict[str, int] = {}
    context = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )
    pool = context.Pool(workers, initializer=_init, initargs=(mode, secret)) if workers > 1 else None
    _init(mode, secret)
    text_root = out / "text"
    try:
        with (
            open(out / "deid.jsonl", "w", encoding="utf-8") as results,
            open(out / "audit.jsonl", "w", encoding="utf-8") as audit,
        ):
            iterator = items()
            while chunk := list(islice(iterator, 64)):
                done = pool.map(_one, chunk) if pool else [_one(item) for item in chunk]
                for row in done:
                    if "error" in row:
                        failures.append((row["id"], None, row["error"]))
                        continue
                    results.write(json.dumps({**row, "mode": mode}, ensure_ascii=False) + "\n")
                    audit.write(
                        json.dumps(
                            {
                                "id": row["id"],
                                "mode": mode,
                                "counts": row["counts"],
                                "replaced_chars": row["replaced_chars"],
                                "detector": DETECTOR_VERSION,
                            }
                        )
                        + "\n"
                    )
                    target = _text_path(text_root, row["id"])
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(row["text"], encoding="utf-8")
                    summary.processed += 1
                    for label, n in row["counts"].items():
                        counts[label] = counts.get(label, 0) + n
    finally:
        if pool:
            pool.close()
            pool.join()
    summary.failed = len(failures)
    summary.failures = [(doc_id, reason) for doc_id, _, reason in failures]
    summary.counts = dict(sorted(counts.items()))
    summary.seconds = round(time.perf_counter() - started, 3)
    for doc_id, reason in summary.failures:
        log.warning("failed %s: %s", doc_id, reason)
    with open(out / "quarantine.tsv", "w", encoding="utf-8") as handle:
        handle.write("id\tpath\treason\n")
        for doc_id, path, reason in failures:
            handle.write(f"{doc_id}\t{path or ''}\t{' '.join(reason.split())}\n")
    manifest = {
        "mode": mode,
        "keyed": secret is not None,
        "detector": DETECTOR_VERSION,
        "run": {k: v for k, v in summary.__dict__.items() if k != "failures"},
        "failures": [{"id": doc_id, "reason": reason} for doc_id, reason in summary.failures],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return summary
