"""Helpers shared by the benchmark scripts: data paths, peak memory, JSON output."""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


def data_path(relative: str, override: str | None = None) -> Path:
    path = Path(override) if override else SHARED_DATA / relative
    if not path.exists():
        sys.exit(f"data not found: {path} (the public datasets live in ../shared/data)")
    return path


def import_without_spacy() -> None:
    """Where spaCy is not installed (a bare GPU machine with torch and transformers only), register
    `nlp_engine` and `nlp_engine.embeddings` as bare packages so that modules which do not need spaCy
    (imaging, the transformer encoder) import without running the package's `__init__`."""
    try:
        import spacy  # noqa: F401

        return
    except ImportError:
        pass
    import types

    for name, folder in (
        ("nlp_engine", ROOT / "nlp_engine"),
        ("nlp_engine.embeddings", ROOT / "nlp_engine" / "embeddings"),
    ):
        package = types.ModuleType(name)
        package.__path__ = [str(folder)]
        sys.modules[name] = package
    sys.modules["nlp_engine"].__version__ = "bare"  # type: ignore[attr-defined]


def peak_rss_mb() -> float:
    """Peak resident memory of this process and its finished children, in MiB (Linux reports KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(result, indent=2))


def scores(tp: int, n_pred: int, n_gold: int) -> dict[str, float]:
    """Precision, recall and F1 from true positives and the predicted and gold counts."""
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def prf(gold: list[bool], pred: list[bool]) -> dict[str, float]:
    """Binary precision/recall/F1 over paired labels, with the counts."""
    tp = sum(g and p for g, p in zip(gold, pred, strict=True))
    fp = sum(p and not g for g, p in zip(gold, pred, strict=True))
    fn = sum(g and not p for g, p in zip(gold, pred, strict=True))
    return {**scores(tp, tp + fp, tp + fn), "tp": tp, "fp": fp, "fn": fn}


def accuracy(gold: list[str], pred: list[str]) -> dict[str, float]:
    correct = sum(g == p for g, p in zip(gold, pred, strict=True))
    majority = max(gold.count(label) for label in set(gold))
    return {
        "accuracy": round(correct / len(gold), 4),
        "majority_class_accuracy": round(majority / len(gold), 4),
    }
