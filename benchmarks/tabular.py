"""Tabular models: scikit-learn's breast cancer set and the TCGA clinical table, cross-validated.

Usage: python benchmarks/tabular.py [TCGA_CSV] [--models logreg forest hgb] [--folds 5]

Breast cancer (569 tumours, 30 numeric features): stratified 5-fold ROC AUC per model (goal >= 0.99).
TCGA (`tcga_patient_icd_codes.csv`, one row per patient): vital status from age, sex, cancer type,
histology, site, grade, AJCC stage and T/N/M, with the survival columns (OS, OS.time, PFI, PFI.time)
dropped because they encode the answer; and the AJCC stage group (I-IV, sub-stages pooled) from the
same columns without the stage. The barcode is dropped as an identifier. Prints one JSON object:
ROC AUC, accuracy against the majority class, Brier score, time per fit, rows/s, peak memory.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_path, emit, peak_rss_mb  # noqa: E402

LEAKS = ["OS", "OS.time", "PFI", "PFI.time"]


def stage_group(value: Any) -> Any:
    match = re.match(r"Stage (IV|III|II|I)(?![VI])", str(value))
    return match.group(1) if match else None


def run(model: Any, df: Any, folds: int) -> dict[str, Any]:
    started = time.perf_counter()
    result = model.cross_validate(df, folds)
    seconds = time.perf_counter() - started
    return {
        **{k: v for k, v in result.items() if k != "classes"},
        "classes": len(result["classes"]),
        "seconds": round(seconds, 1),
        "rows_per_s": round(result["rows"] * folds / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", default=None)
    parser.add_argument("--models", nargs="*", default=["logreg", "forest", "hgb"])
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    import pandas as pd
    from sklearn.datasets import load_breast_cancer

    from nlp_engine.tabular import TabularModel, read_table

    bunch = load_breast_cancer(as_frame=True)
    breast = bunch.frame.assign(target=bunch.target.map({0: "malignant", 1: "benign"}))
    tcga = read_table(data_path("tcga_clinical/tcga_patient_icd_codes.csv", args.path))
    staged = tcga.assign(stage_group=tcga["ajcc_pathologic_tumor_stage"].map(stage_group))
    tasks: dict[str, tuple[Any, str, list[str]]] = {
        "breast_cancer_diagnosis": (breast, "target", []),
        "tcga_vital_status": (tcga, "vital_status", LEAKS),
        "tcga_stage_group": (staged, "stage_group", [*LEAKS, "ajcc_pathologic_tumor_stage", "vital_status"]),
    }
    results: dict[str, Any] = {}
    for task, (df, target, drop) in tasks.items():
        results[task] = {"rows": int(df[target].notna().sum())}
        for name in args.models:
            model = TabularModel(target, model=name, drop=drop)
            results[task][name] = run(model, df, args.folds)
            print(task, name, results[task][name], file=sys.stderr)
    # calibration: does isotonic calibration lower the Brier score of the TCGA vital-status model?
    calibrated = TabularModel("vital_status", model="hgb", drop=LEAKS, calibrate="isotonic")
    results["tcga_vital_status"]["hgb_isotonic"] = run(calibrated, tcga, args.folds)
    # what drives vital status: permutation importance on a held-out quarter
    train = tcga.sample(frac=0.75, random_state=0)
    test = tcga.drop(train.index)
    fitted = TabularModel("vital_status", model="hgb", drop=LEAKS).fit(train)
    results["tcga_vital_status"]["importance_held_out"] = fitted.importance(test, repeats=3)[:8]
    results["tcga_vital_status"]["dropped_columns"] = fitted.report_["dropped_columns"]
    emit(
        {
            "benchmark": "tabular",
            "folds": args.folds,
            "pandas": pd.__version__,
            "tasks": results,
            "peak_rss_mb": peak_rss_mb(),
        }
    )


if __name__ == "__main__":
    main()
