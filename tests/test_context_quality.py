"""Quality regression guard on the real NegEx/ConText test set (skips where the data is absent)."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from tests.conftest import shared_data

ROOT = Path(__file__).resolve().parent.parent


def test_context_eval_on_negex(clinical) -> None:
    path = shared_data("negex/negex_dev.tsv")
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "context_eval.py"), str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    import json

    result = json.loads(out.stdout)
    with open(path, encoding="utf-8") as handle:
        assert result["mentions"] == sum(
            1 for r in csv.DictReader(handle, delimiter="\t") if int(r["start"]) >= 0
        )
    assert result["negation"]["f1"] >= 0.98
    assert result["historical"]["accuracy"] > result["historical"]["majority_class_accuracy"] + 0.05
    assert result["hypothetical"]["accuracy"] > result["hypothetical"]["majority_class_accuracy"]
    assert result["experiencer"]["accuracy"] >= result["experiencer"]["majority_class_accuracy"]
