"""De-identification quality guard on the PhysioNet deid gold standard; skips without the data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import shared_data

ROOT = Path(__file__).resolve().parents[2]


def test_deid_eval_on_physionet_nursing_notes() -> None:
    path = shared_data("deid/physionet_nursing_dev.jsonl")
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "deid_eval.py"),
            str(path),
            "--presidio",
            "/nonexistent",
            "--mtsamples",
            "0",
            "--thresholds",
            "",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout)
    cv = result["cross_validated"]
    assert cv["notes"] == 1450 and cv["gold_spans"] == 999 and cv["folds"] == 5
    # Floors a little under the figures in docs/benchmarks.md, to catch regressions, not noise.
    assert cv["token"]["recall"] >= 0.97
    assert cv["token"]["precision"] >= 0.85
    assert cv["recall_per_gold_label"]["Date"]["recall"] >= 0.98
    assert cv["per_category"]["NAME"]["recall"] >= 0.95
    assert result["rules_only"]["token"]["recall"] >= 0.96
    # the evaluation never prints the notes' text
    assert "MISSED" not in out.stdout
