from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from corpora.readers import samples_dir
from nlp_engine.cli import app

runner = CliRunner()


def test_help_everywhere() -> None:
    for args in ([], ["process"], ["info"], ["render"], ["vocab"], ["vocab", "build"]):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0, args
        assert "Usage" in result.output


def test_process_samples_writes_jsonl_and_sqlite(tmp_path: Path) -> None:
    result = runner.invoke(app, ["process", str(samples_dir()), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    n_inputs = len(list(samples_dir().glob("*.txt")))
    assert n_inputs >= 6
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    assert len(lines) == n_inputs
    conn = sqlite3.connect(tmp_path / "results.sqlite")
    assert conn.execute("SELECT COUNT(*) FROM documents").fetchone() == (n_inputs,)
    codes = {r[0] for r in conn.execute("SELECT code FROM concepts WHERE status='present'")}
    assert {"C61", "C50.919", "I48.91", "J44.9"} <= codes
    assert f"processed {n_inputs}, skipped (unchanged) 0, failed 0" in result.output
    pipelines = dict(conn.execute("SELECT id, pipeline FROM documents").fetchall())
    assert pipelines["path_prostate_biopsy.txt"] == "pathology"
    assert pipelines["discharge_summary_chf.txt"] == "clinical"


def test_bad_files_are_reported_and_the_rest_go_on(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "good.txt").write_text("Denies chest pain.")
    (inputs / "binary.txt").write_bytes(b"\x00\x01PATIENT JOHN DOE\x00")
    (inputs / "empty.txt").write_text("")
    (inputs / "cp1252.txt").write_bytes("Seen at café, no fever.".encode("cp1252"))
    result = runner.invoke(app, ["process", str(inputs), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "processed 2, skipped (unchanged) 0, failed 2" in result.output
    assert "JOHN" not in result.output
    docs = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert sorted(d["id"] for d in docs) == ["cp1252.txt", "good.txt"]
    encodings = {d["id"]: d["metadata"]["encoding"] for d in docs}
    assert encodings["cp1252.txt"] == "cp1252"


def test_process_single_file_prints_json(tmp_path: Path) -> None:
    report = tmp_path / "r.txt"
    report.write_text("FINAL DIAGNOSIS: Prostatic adenocarcinoma.")
    result = runner.invoke(app, ["process", str(report), "--pipeline", "pathology"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["concepts"][0]["code"] == "C61"
    assert data["sections"][0]["name"] == "final_diagnosis"


def test_info() -> None:
    result = runner.invoke(app, ["info", "--pipeline", "pathology"])
    assert result.exit_code == 0
    assert "ICD-10-CM codes" in result.output and "74,7" in result.output
    assert "clinical_context" in result.output


def test_render_html(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["render", str(samples_dir() / "discharge_summary_chf.txt"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") or "<html" in html
    assert "I50.9" in html and "negated" in html and "SECTION family_history" in html


def test_render_rejects_binary(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x00\x00")
    result = runner.invoke(app, ["render", str(bad), "-o", str(tmp_path / "x.html")])
    assert result.exit_code == 2
    assert not (tmp_path / "x.html").exists()
