"""The Spark engine on local[2]: same results as the local engine for the same inputs."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from nlp_engine.batch.runner import process_folder
from nlp_engine.batch.writers import TABLE_COLUMNS

NOTES = [
    "HISTORY: Denies chest pain. History of CHF.",
    "FINAL DIAGNOSIS: Prostatic adenocarcinoma, Gleason 3+4=7.",
    "FAMILY HISTORY: Mother with breast cancer. No fever.",
    "ASSESSMENT: COPD and afib. Possible pneumonia.",
]
HL7 = (
    "MSH|^~\\&|LAB|HOSP|EHR|HOSP|202401011200||ORU^R01|CTRL1|P|2.5\r"
    "PID|1||MRN1^^^HOSP||TEST^PATIENT\r"
    "OBR|1|PLC1|ACC1|88305^Surgical pathology\r"
    "OBX|1|TX|22637-3^Final diagnosis||Invasive ductal carcinoma of the breast.||||||F\r"
)


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    from nlp_engine.spark import spark_session

    session = spark_session("local[2]", app_name="nlp-engine-tests")
    yield session
    session.stop()


def make_folder(root: Path) -> None:
    for i in range(12):
        (root / f"d{i % 2}").mkdir(parents=True, exist_ok=True)
        (root / f"d{i % 2}" / f"n{i:02d}.txt").write_text(f"Report {i}. {NOTES[i % len(NOTES)]}")
    (root / "table.csv").write_text("id,text\nr1,Acute appendicitis.\nr2,\n")
    (root / "feed.hl7").write_text(HL7)
    (root / "report.json").write_text(
        json.dumps(
            {
                "resourceType": "DiagnosticReport",
                "id": "dr1",
                "status": "final",
                "code": {"text": "Pathology"},
                "conclusion": "Metastatic melanoma.",
            }
        )
    )
    (root / "binary.txt").write_bytes(b"\x00\x01\x02\x03")


def local_results(out: Path) -> dict[str, str]:
    lines = (out / "results.jsonl").read_text().splitlines()
    return {json.loads(line)["id"]: line for line in lines}


def test_spark_gives_the_local_engines_results(tmp_path: Path, spark: object) -> None:
    import pyarrow.parquet as pq

    from nlp_engine.spark import spark_process

    make_folder(tmp_path / "in")
    process_folder(tmp_path / "in", tmp_path / "local", formats=["parquet"])
    summary = spark_process(tmp_path / "in", tmp_path / "spark", spark=spark, partitions=3)  # type: ignore[arg-type]

    local = local_results(tmp_path / "local")
    rows = pq.read_table(tmp_path / "spark" / "results.parquet").to_pylist()
    processed = {r["id"]: r["document"] for r in rows if r["status"] == "processed"}
    failed = {r["id"]: r["reason"] for r in rows if r["status"] == "failed"}
    assert processed == local  # byte-identical result JSON, document by document
    conn = sqlite3.connect(tmp_path / "local" / "results.sqlite")
    local_failed = dict(conn.execute("SELECT id, reason FROM manifest WHERE status = 'failed'").fetchall())
    assert failed == local_failed and set(failed) == {"binary.txt", "table.csv#r2"}
    assert (summary.seen, summary.processed, summary.failed) == (len(rows), len(local), 2)
    assert {"feed.hl7#CTRL1", "report.json#DiagnosticReport/dr1", "table.csv#r1"} <= set(processed)

    for table, columns in TABLE_COLUMNS.items():
        from_spark = pq.read_table(tmp_path / "spark" / f"{table}.parquet")
        from_local = pq.read_table(tmp_path / "local" / "parquet" / f"{table}.parquet")
        assert tuple(from_spark.column_names) == columns
        assert sorted(map(repr, from_spark.to_pylist())) == sorted(map(repr, from_local.to_pylist())), table
    manifest = json.loads((tmp_path / "spark" / "manifest.json").read_text())
    assert manifest["run"]["seen"] == manifest["run"]["processed"] + manifest["run"]["failed"]
    quarantine = (tmp_path / "spark" / "quarantine.tsv").read_text()
    assert "binary.txt" in quarantine and "table.csv#r2" in quarantine


def test_spark_reads_a_parquet_table_of_notes(tmp_path: Path, spark: object) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from nlp_engine.spark import spark_process

    notes = pa.table({"note_id": ["a", "b", "c"], "note_text": [NOTES[0], NOTES[1], None]})
    pq.write_table(notes, tmp_path / "notes.parquet")
    summary = spark_process(
        tmp_path / "notes.parquet",
        tmp_path / "out",
        spark=spark,
        text_column="note_text",  # type: ignore[arg-type]
    )
    assert (summary.processed, summary.failed) == (2, 1)
    docs = pq.read_table(tmp_path / "out" / "documents.parquet").to_pylist()
    assert {d["id"]: d["pipeline"] for d in docs} == {"a": "clinical", "b": "pathology"}
    concepts = pq.read_table(tmp_path / "out" / "concepts.parquet").to_pylist()
    chest = next(c for c in concepts if c["text"] == "chest pain")
    assert (chest["doc_id"], chest["code"], chest["negated"]) == ("a", "R07.9", 1)
    with pytest.raises(ValueError, match="need an id and a text column"):
        spark_process(tmp_path / "notes.parquet", tmp_path / "out2", spark=spark)  # type: ignore[arg-type]


def test_spark_process_command(tmp_path: Path, spark: object) -> None:
    # Last in this module: the command stops the Spark session it gets (here the fixture's) when done.
    from typer.testing import CliRunner

    from nlp_engine.cli import app

    make_folder(tmp_path / "in")
    result = CliRunner().invoke(
        app,
        [
            "spark-process",
            str(tmp_path / "in"),
            "--out",
            str(tmp_path / "out"),
            "--exclude",
            "binary.txt",
            "--exclude",
            "*.csv",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "processed 14, failed 0" in result.output
    failing = CliRunner().invoke(
        app, ["spark-process", str(tmp_path / "in"), "--out", str(tmp_path / "out2")]
    )
    assert failing.exit_code == 1  # any failed input makes the exit code say so
    assert "failed binary.txt" in failing.output
