"""Saving and loading `PathologyCoder`s safely (see `nlp_engine.model_files`): a skops file that only
types from scikit-learn, NumPy, SciPy and `nlp_engine.pathology` may fill, and a model card (fields,
label sets, training data, versions, the SHA-256 of the model file). A changed file, a model from
another release or unexpected types are refused with a `PathologyError`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import model_files
from ..errors import PathologyError

CARD_FORMAT = "nlp_engine.pathology_coder.v1"
_WHAT = "pathology coder"


def save_pathology_coder(coder: Any, out: str | Path, *, card: dict[str, Any] | None = None) -> Path:
    """Write `out/model.skops` and `out/model_card.json`; returns `out`."""
    full = {
        "model_type": type(coder).__name__,
        "parameters": {
            "C": coder.C,
            "class_weight": coder.class_weight,
            "field_weight": coder.field_weight,
            "use_extracted": coder.use_extracted,
            "review_accuracy": coder.__dict__.get("review_accuracy"),
            "review_floor": coder.__dict__.get("review_floor"),
            # fields whose classifier also sees the extracted fields crossed with the cancer type
            "cross_weights": coder.__dict__.get("crossed_", {}),
            # fields whose classifier also sees the report's character n-grams
            "char_fields": [t for t in coder.models_ if coder.sees_chars(t)],
        },
        # per field, the confidence below which a code goes to review (null: never right often enough);
        # confidences are the held-out share right at a score, per agreement with the report
        # (`calibrate`: the groups listed under "calibrated")
        "review_thresholds": {
            t: (v if v != float("inf") else None)
            for t, v in coder.__dict__.get("review_thresholds_", {}).items()
        },
        "calibrated": {t: sorted(c) for t, c in coder.__dict__.get("calibration_", {}).items()},
        "label_sets": {t: [str(c) for c in m.classes_] for t, m in coder.models_.items()},
        **(card or {}),
    }
    return model_files.save_model(coder, out, fmt=CARD_FORMAT, card=full)


def load_pathology_coder(path: str | Path) -> Any:
    """The coder saved at `path`, after checking its hash, versions and the types inside it."""
    coder, _ = model_files.load_model(
        path,
        fmt=CARD_FORMAT,
        error=PathologyError,
        what=_WHAT,
        trusted=("nlp_engine.pathology.",),
        retrain="`nlp-engine pathology train`",
    )
    return coder
