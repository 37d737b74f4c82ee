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
        [sys.executable, str(ROOT / "benchmarks" / "deid_eval.py"), str(path), "--presidio", "/nonexistent"],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout)
    assert result["notes"] == 1450 and result["gold_spans"] == 999
    # Floors a little under the figures in docs/benchmarks.md, to catch regressions, not noise.
    assert result["token"]["recall"] >= 0.86
    assert result["token"]["precision"] >= 0.72
    assert result["recall_per_gold_label"]["Date"]["recall"] >= 0.95
    # the evaluation never prints the notes' text
    assert "MISSED" not in out.stdout
