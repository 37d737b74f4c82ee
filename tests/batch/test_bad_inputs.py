"""The issue's bad-input folder, end to end through the CLI: the run finishes, the manifest names
each failure and its reason, every good file is processed, and no document text reaches the logs."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

SECRET = "Zebulon Quartermaine MRN 4455123"
GOOD_NOTE = "HISTORY: Denies chest pain. ASSESSMENT: CHF and COPD."
NOBODY = 65534


def build_folder(root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Writes the folder; returns (good id -> expected encoding, bad id -> words its reason must hold)."""
    (root / "good").mkdir(parents=True)
    (root / "good" / "a.txt").write_text(GOOD_NOTE)
    (root / "good" / "b.md").write_text("# Note\n\nPossible pneumonia.")
    (root / "cp1252.txt").write_bytes(f"Patient seen at the café. {GOOD_NOTE}".encode("cp1252"))
    (root / "utf16.txt").write_bytes(GOOD_NOTE.encode("utf-16"))
    (root / "utf16le.txt").write_bytes(GOOD_NOTE.encode("utf-16-le"))  # no byte-order mark
    (root / "report.rtf").write_bytes(rb"{\rtf1\ansi FINAL DIAGNOSIS:\par Adenocarcinoma.\par}")
    (root / "rows.csv").write_text(f"id,text\nr1,{GOOD_NOTE}\nr2,\n")
    good = {
        "good/a.txt": "utf-8",
        "good/b.md": "utf-8",
        "cp1252.txt": "cp1252",
        "utf16.txt": "utf-16",
        "utf16le.txt": "utf-16-le",
        "report.rtf": "rtf",
        "rows.csv#r1": "utf-8",
    }

    (root / "empty.txt").write_bytes(b"")
    (root / "blank.txt").write_text("   \n\t \n")
    (root / "binary.txt").write_bytes(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + SECRET.encode() + bytes(range(256))
    )
    with open(root / "huge.txt", "w") as handle:  # 50 MB of text: over the 20M-character limit
        line = f"{GOOD_NOTE} {SECRET}\n"
        handle.write(line * (50_000_000 // len(line) + 1))
    (root / "truncated.hl7").write_text(
        f"MSH|^~\\&|LAB|HOSP|EHR|HOSP|202401011200||ORU^R01|CTRL1|P|2.5\rPID|1||4455123^^^HOSP||{SECRET}\rOBR|1|PL"
    )
    (root / "broken.json").write_text(
        '{"resourceType": "DiagnosticReport", "status": "final", "conclusion": "' + SECRET
    )
    (root / "patient.json").write_text(
        json.dumps({"resourceType": "Patient", "id": "p1", "name": [{"text": SECRET}]})
    )
    (root / "invalid.json").write_text(
        json.dumps({"resourceType": "DiagnosticReport", "id": "r1", "status": "final", "conclusion": SECRET})
    )
    (root / "unreadable.txt").write_text(SECRET)
    os.chmod(root / "unreadable.txt", 0)
    os.mkfifo(root / "pipe.txt")
    os.symlink("loop.txt", root / "loop.txt")  # a file symlink that points at itself
    os.symlink(root, root / "good" / "dir_loop")  # a folder symlink back to the root
    bad = {
        "empty.txt": "empty",
        "blank.txt": "empty",
        "binary.txt": "binary",
        "huge.txt": "limit is 20,000,000",
        "truncated.hl7#CTRL1": "no OBX text",
        "broken.json": "invalid JSON",
        "patient.json#Patient/p1": "Patient",
        "invalid.json#DiagnosticReport/r1": "at ['code']",  # required field missing
        "unreadable.txt": "Permission denied",
        "pipe.txt": "not a regular file",
        "loop.txt": "symbolic links",
        "rows.csv#r2": "empty or missing text",
    }
    return good, bad


@pytest.fixture()
def workdir() -> Iterator[Path]:
    # Not pytest's tmp_path: when the tests run as root the batch runs as `nobody`, who cannot enter it.
    path = Path(tempfile.mkdtemp(prefix="nlp-engine-bad-"))
    os.chmod(path, 0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _runs_as_nobody() -> bool:
    """Root reads any file, so an unreadable file needs an unprivileged run: can `nobody` import us?"""
    if os.geteuid() != 0:
        return False
    try:
        probe = subprocess.run(
            [sys.executable, "-c", "import nlp_engine.cli"],
            user=NOBODY,
            group=NOBODY,
            capture_output=True,
            cwd="/",
        )
    except OSError:  # e.g. the interpreter lives under /root
        return False
    return probe.returncode == 0


def test_bad_input_folder(workdir: Path) -> None:
    inputs, out = workdir / "in", workdir / "out"
    good, bad = build_folder(inputs)
    os.chmod(inputs, 0o755)
    out.mkdir(mode=0o777)
    kwargs: dict = {"cwd": "/"}
    script = "from nlp_engine.cli import main; main()"
    if os.geteuid() == 0:
        if _runs_as_nobody():
            kwargs.update(user=NOBODY, group=NOBODY)
        else:
            # No unprivileged user can run us here: the read of that one file fails as chmod 000 would.
            script = (
                "import pathlib; real = pathlib.Path.read_bytes\n"
                "def read(self):\n"
                "    if self.name == 'unreadable.txt': raise PermissionError(13, 'Permission denied', str(self))\n"
                "    return real(self)\n"
                "pathlib.Path.read_bytes = read\n" + script
            )
    env = {**os.environ, "HOME": str(workdir), "NO_COLOR": "1", "COLUMNS": "200"}
    run = subprocess.run(
        [sys.executable, "-c", script, "process", str(inputs), "--out", str(out), "--format", "parquet,fhir"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        **kwargs,
    )
    assert run.returncode == 1, run.stderr[-2000:]  # finished, and says something failed

    conn = sqlite3.connect(out / "results.sqlite")
    rows = {
        doc_id: (status, reason, enc)
        for doc_id, status, reason, enc in conn.execute("SELECT id, status, reason, encoding FROM manifest")
    }
    assert {i for i, r in rows.items() if r[0] == "processed"} == set(good)
    assert {i for i, r in rows.items() if r[0] == "failed"} == set(bad)
    for doc_id, words in bad.items():
        assert words in rows[doc_id][1], (doc_id, rows[doc_id][1])
    for doc_id, encoding in good.items():
        assert rows[doc_id][2] == encoding, doc_id
    assert "dir_loop" not in " ".join(rows)  # the folder loop was not followed

    totals = json.loads((out / "manifest.json").read_text())["run"]
    assert totals["seen"] == len(good) + len(bad) == totals["processed"] + totals["failed"]
    results = [json.loads(line)["id"] for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(results) == sorted(good)
    quarantine = (out / "quarantine.tsv").read_text().splitlines()
    assert sorted(line.split("\t")[0] for line in quarantine[1:]) == sorted(bad)
    assert len((out / "fhir_bundles.ndjson").read_text().splitlines()) == len(good)
    # No document text anywhere a person or a log collector would look.
    for text in (run.stdout, run.stderr, "\n".join(quarantine), (out / "manifest.json").read_text()):
        assert "Zebulon" not in text and "4455123" not in text
