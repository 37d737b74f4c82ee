"""Saving and loading coders safely (see `nlp_engine.model_files`): a skops file that only types from
scikit-learn, NumPy, SciPy and our own coding/featurizer classes may fill, and a model card (data, label
set, metrics, versions, the SHA-256 of the model file). A changed file, a model from another nlp_engine
or scikit-learn release, or unexpected types are refused with a `CodingError`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import model_files
from .codes import CodingError

CARD_FORMAT = "nlp_engine.coder.v1"
_WHAT = "coder"


def save_coder(model: Any, out: str | Path, *, card: dict[str, Any] | None = None) -> Path:
    """Write `out/model.skops` and `out/model_card.json`; returns `out`."""
    params = {
        k: v
        for k, v in model.get_params(deep=False).items()
        if isinstance(v, str | int | float | bool | type(None))
    }
    classes = [str(c) for c in getattr(model, "classes_", [])]
    full = {
        "model_type": type(model).__name__,
        "parameters": params,
        "label_set": {"size": len(classes), "codes": classes},
        "training": getattr(model, "training_report_", {}),
        **(card or {}),
    }
    return model_files.save_model(model, out, fmt=CARD_FORMAT, card=full)


def read_card(path: str | Path) -> dict[str, Any]:
    return model_files.read_card(path, fmt=CARD_FORMAT, error=CodingError, what=_WHAT)


def load_coder(path: str | Path) -> Any:
    """The coder saved at `path`, after checking its hash, versions and the types inside it."""
    model, _ = model_files.load_model(
        path,
        fmt=CARD_FORMAT,
        error=CodingError,
        what=_WHAT,
        trusted=("nlp_engine.coding.",),
        retrain="`nlp-engine coder train`",
    )
    return model
