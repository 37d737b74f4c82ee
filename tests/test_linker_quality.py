"""Linking quality guard against professional coders (CodiEsp dev, English); skips without the data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import shared_data

ROOT = Path(__file__).resolve().parent.parent


def test_linker_eval_on_codiesp_dev() -> None:
    path = shared_data("codiesp/dev")
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "linker_eval.py"), str(path), "--split", "dev"],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout)
    assert result["codes_full"]["gold"] == 2677
    assert result["codes_full"]["precision"] >= 0.6
    assert result["codes_category_3char"]["recall"] >= 0.3
    assert result["gold_codes_in_kb"] > 0.9
