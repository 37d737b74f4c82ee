from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from nlp_engine.batch.runner import process_folder

NOTES = [
    "Denies chest pain. History of CHF.",
    "FINAL DIAGNOSIS: Prostatic adenocarcinoma, Gleason 3+4=7.",
    "Mother with breast cancer. No fever.",
    "COPD and afib. Possible pneumonia.",
]


def make_inputs(folder: Path, n: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    ids = []
    for i in range(n):
        name = f"sub{i % 3}/note_{i:04d}.txt"
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(f"Report {i}. " + NOTES[i % len(NOTES)])
        ids.append(name)
    return sorted(ids)


def jsonl_ids(out: Path) -> list[str]:
    return [json.loads(line)["id"] for line in (out / "results.jsonl").read_text().splitlines()]


def manifest(out: Path) -> dict[str, str]:
    conn = sqlite3.connect(out / "results.sqlite")
    try:
        return dict(conn.execute("SELECT id, status FROM manifest").fetchall())
    finally:
        conn.close()


def test_counts_add_up_and_rerun_skips(tmp_path: Path) -> None:
    ids = make_inputs(tmp_path / "in", 10)
    (tmp_path / "in" / "empty.txt").write_text("")
    (tmp_path / "in" / "binary.txt").write_bytes(b"\x00\x01\x02 MRN 123")
    summary = process_folder(tmp_path / "in", tmp_path / "out", batch_size=3)
    assert (summary.seen, summary.processed, summary.skipped, summary.failed) == (12, 10, 0, 2)
    assert sorted(jsonl_ids(tmp_path / "out")) == ids
    assert manifest(tmp_path / "out")["binary.txt"] == "failed"
    quarantine = (tmp_path / "out" / "quarantine.tsv").read_text()
    assert "binary.txt" in quarantine and "empty.txt" in quarantine and "MRN" not in quarantine
    again = process_folder(tmp_path / "in", tmp_path / "out", batch_size=3)
    assert (again.seen, again.processed, again.skipped, again.failed) == (12, 0, 10, 2)
    assert sorted(jsonl_ids(tmp_path / "out")) == ids
    totals = json.loads((tmp_path / "out" / "manifest.json").read_text())["run"]
    assert totals["seen"] == totals["processed"] + totals["skipped"] + totals["failed"]


def test_changed_input_is_reprocessed_once(tmp_path: Path) -> None:
    ids = make_inputs(tmp_path / "in", 5)
    process_folder(tmp_path / "in", tmp_path / "out")
    (tmp_path / "in" / ids[0]).write_text("Now with COPD.")
    summary = process_folder(tmp_path / "in", tmp_path / "out")
    assert (summary.processed, summary.skipped) == (1, 4)
    assert sorted(jsonl_ids(tmp_path / "out")) == ids  # the old line is gone
    lines = {
        json.loads(x)["id"]: json.loads(x)
        for x in (tmp_path / "out" / "results.jsonl").read_text().splitlines()
    }
    assert [c["code"] for c in lines[ids[0]]["concepts"]] == ["J44.9"]


def test_force_starts_afresh(tmp_path: Path) -> None:
    ids = make_inputs(tmp_path / "in", 4)
    process_folder(tmp_path / "in", tmp_path / "out")
    summary = process_folder(tmp_path / "in", tmp_path / "out", force=True)
    assert (summary.processed, summary.skipped) == (4, 0)
    assert sorted(jsonl_ids(tmp_path / "out")) == ids


def test_parallel_workers_give_the_same_results(tmp_path: Path) -> None:
    make_inputs(tmp_path / "in", 20)
    process_folder(tmp_path / "in", tmp_path / "one", batch_size=4)
    process_folder(tmp_path / "in", tmp_path / "two", batch_size=4, workers=2)
    one = sorted((tmp_path / "one" / "results.jsonl").read_text().splitlines())
    two = sorted((tmp_path / "two" / "results.jsonl").read_text().splitlines())
    assert one == two


def test_symlink_loop_does_not_trap_the_walk(tmp_path: Path) -> None:
    ids = make_inputs(tmp_path / "in", 3)
    os.symlink(tmp_path / "in", tmp_path / "in" / "loop")
    summary = process_folder(tmp_path / "in", tmp_path / "out")
    assert summary.processed == 3
    assert sorted(jsonl_ids(tmp_path / "out")) == ids


def test_killed_run_resumes_without_loss_or_duplicates(tmp_path: Path) -> None:
    ids = make_inputs(tmp_path / "in", 400)
    out = tmp_path / "out"
    script = textwrap.dedent(
        f"""
        from nlp_engine.batch.runner import process_folder
        process_folder({str(tmp_path / "in")!r}, {str(out)!r}, pipeline="clinical", batch_size=4)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
        try:
            done = sum(1 for status in manifest(out).values() if status == "processed")
        except sqlite3.Error:
            continue
        if done >= 40:
            break
    if child.poll() is not None:
        pytest.fail(f"the run finished before it could be killed ({done} processed); make the input larger")
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    partial = jsonl_ids(out) if (out / "results.jsonl").exists() else []
    assert 0 < len(set(partial)) < len(ids)

    summary = process_folder(tmp_path / "in", out, pipeline="clinical", batch_size=4)
    assert summary.skipped >= 40
    assert summary.seen == summary.processed + summary.skipped + summary.failed == len(ids)
    final = jsonl_ids(out)
    assert sorted(final) == ids  # every document exactly once
    conn = sqlite3.connect(out / "results.sqlite")
    assert conn.execute("SELECT COUNT(*) FROM documents").fetchone() == (len(ids),)


def test_tables_are_processed_row_by_row_and_resume(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "notes.csv").write_text(
        "note_id,transcription\nn1,Denies chest pain.\nn2,History of CHF.\nn3,\n"
    )
    (folder / "one.txt").write_text("COPD.")
    summary = process_folder(folder, tmp_path / "out")
    assert (summary.seen, summary.processed, summary.failed) == (4, 3, 1)
    assert sorted(jsonl_ids(tmp_path / "out")) == ["notes.csv#n1", "notes.csv#n2", "one.txt"]
    (folder / "notes.csv").write_text("note_id,transcription\nn1,Denies chest pain.\nn2,No CHF.\nn3,\n")
    again = process_folder(folder, tmp_path / "out")
    assert (again.processed, again.skipped, again.failed) == (1, 2, 1)  # only the changed row
    lines = [json.loads(x) for x in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert sorted(d["id"] for d in lines) == ["notes.csv#n1", "notes.csv#n2", "one.txt"]
    n2 = next(d for d in lines if d["id"] == "notes.csv#n2")
    assert n2["concepts"][0]["assertion"]["negated"] is True


def test_codes_csv_matches_the_database(tmp_path: Path) -> None:
    import csv

    make_inputs(tmp_path / "in", 4)
    process_folder(tmp_path / "in", tmp_path / "out")
    with open(tmp_path / "out" / "codes.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    conn = sqlite3.connect(tmp_path / "out" / "results.sqlite")
    assert len(rows) == conn.execute("SELECT COUNT(*) FROM concepts").fetchone()[0] > 0
    chest = next(r for r in rows if r["concept"] == "chest pain")
    assert (chest["code"], chest["title"], chest["status"]) == ("R07.9", "Chest pain, unspecified", "negated")


def test_process_folder_passes_column_names(tmp_path: Path) -> None:
    # regression: process_folder once dropped id_column/text_column on the way to the runner
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "t.csv").write_text("key,body_text\nk1,Possible pneumonia.\n")
    summary = process_folder(tmp_path / "in", tmp_path / "out", id_column="key", text_column="body_text")
    assert (summary.processed, summary.failed) == (1, 0)
    assert jsonl_ids(tmp_path / "out") == ["t.csv#k1"]


def test_parquet_and_fhir_exports_follow_the_results(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    ids = make_inputs(tmp_path / "in", 6)
    out = tmp_path / "out"
    process_folder(tmp_path / "in", out, formats=["parquet,fhir"], exclude=["sub2/*"])
    kept = [i for i in ids if not i.startswith("sub2/")]

    def exported() -> tuple[list[str], list[str]]:
        documents = pq.read_table(out / "parquet" / "documents.parquet").column("id").to_pylist()
        bundles = [
            json.loads(line)["identifier"]["value"]
            for line in (out / "fhir_bundles.ndjson").read_text().splitlines()
        ]
        return sorted(documents), sorted(bundles)

    assert exported() == (kept, kept)
    # A changed input is replaced in the exports too, and a later run without the filter adds the rest.
    (tmp_path / "in" / kept[0]).write_text("Now with COPD.")
    process_folder(tmp_path / "in", out, formats=["parquet", "fhir"])
    assert exported() == (ids, ids)
    codes = pq.read_table(out / "parquet" / "concepts.parquet").to_pylist()
    assert [c["code"] for c in codes if c["doc_id"] == kept[0]] == ["J44.9"]
    with pytest.raises(ValueError, match="unknown output format 'xml'"):
        process_folder(tmp_path / "in", out, formats=["xml"])


def test_repeated_ids_in_one_run_are_written_once(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    # The same id three times: identical content twice, then changed content (last one wins).
    (tmp_path / "in" / "t.csv").write_text("id,text\nk1,CHF.\nk2,COPD.\nk1,CHF.\nk1,Possible pneumonia.\n")
    summary = process_folder(tmp_path / "in", tmp_path / "out", batch_size=1)
    assert summary.seen == 4
    assert sorted(jsonl_ids(tmp_path / "out")) == ["t.csv#k1", "t.csv#k2"]
    lines = [json.loads(x) for x in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    k1 = next(doc for doc in lines if doc["id"] == "t.csv#k1")
    assert [c["code"] for c in k1["concepts"]] == ["J18.9"]


def test_exports_catch_up_after_a_crash_before_exporting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.parquet as pq

    from nlp_engine.batch import runner

    ids = make_inputs(tmp_path / "in", 5)
    out = tmp_path / "out"
    process_folder(tmp_path / "in", out, formats=["parquet"], include=["sub0/*"])

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed before exporting")

    monkeypatch.setattr(runner, "export_results", crash)
    with pytest.raises(RuntimeError):
        process_folder(tmp_path / "in", out, formats=["parquet"])  # everything committed, nothing exported
    monkeypatch.undo()
    summary = process_folder(tmp_path / "in", out, formats=["parquet"])
    assert summary.processed == 0  # nothing left to process, and yet:
    documents = pq.read_table(out / "parquet" / "documents.parquet").column("id").to_pylist()
    assert sorted(documents) == ids
