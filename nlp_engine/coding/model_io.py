"""Saving and loading coders safely: a skops file (loading runs no pickled code, and only types from
scikit-learn, NumPy, SciPy and our own coding/featurizer classes are accepted) and a model card
(`model_card.json`: data, label set, metrics, versions, the SHA-256 of the model file). Loading checks
the hash (a changed file is refused) and the versions (a model from another nlp_engine or scikit-learn
release is refused with both versions named)."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import MissingResourceError
from .codes import CodingError

MODEL_FILE = "model.skops"
CARD_FILE = "model_card.json"
CARD_FORMAT = "nlp_engine.coder.v1"
_TRUSTED_PREFIXES = (
    "sklearn.",
    "numpy.",
    "scipy.",
    "nlp_engine.coding.",
    "builtins.",
    "collections.",
)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    import numpy
    import sklearn

    return {
        "nlp_engine": __version__,
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
    }


def save_coder(model: Any, out: str | Path, *, card: dict[str, Any] | None = None) -> Path:
    """Write `out/model.skops` and `out/model_card.json`; returns `out`."""
    import skops.io as sio

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / MODEL_FILE
    sio.dump(model, path)
    params = {
        k: v
        for k, v in model.get_params(deep=False).items()
        if isinstance(v, str | int | float | bool | type(None))
    }
    classes = [str(c) for c in getattr(model, "classes_", [])]
    full = {
        "format": CARD_FORMAT,
        "model_type": type(model).__name__,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "versions": _versions(),
        "parameters": params,
        "label_set": {"size": len(classes), "codes": classes},
        "training": getattr(model, "training_report_", {}),
        **(card or {}),
        "sha256": _sha256(path),
    }
    (out / CARD_FILE).write_text(json.dumps(full, indent=2, ensure_ascii=False), encoding="utf-8")
    return out


def read_card(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    card_path = path / CARD_FILE
    if not (path / MODEL_FILE).exists() or not card_path.exists():
        raise MissingResourceError(f"{path}: not a saved coder ({MODEL_FILE} and {CARD_FILE} expected)")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise CodingError(f"{card_path}: the model card is not valid JSON") from None
    if not isinstance(card, dict) or card.get("format") != CARD_FORMAT:
        raise CodingError(f"{card_path}: not an nlp_engine coder card (format {CARD_FORMAT} expected)")
    return card


def load_coder(path: str | Path) -> Any:
    """The coder saved at `path`, after checking its hash, versions and the types inside it."""
    import skops.io as sio

    path = Path(path)
    card = read_card(path)
    model_path = path / MODEL_FILE
    if _sha256(model_path) != card.get("sha256"):
        raise CodingError(
            f"{model_path}: the file changed since it was saved (SHA-256 differs from the model card)"
        )
    saved, here = card.get("versions", {}), _versions()
    for name in ("nlp_engine", "scikit-learn"):
        if saved.get(name) != here[name]:
            raise CodingError(
                f"{path}: saved with {name} {saved.get(name)}, this is {here[name]}; retrain the model "
                "(`nlp-engine coder train`) with this version"
            )
    try:
        untrusted = sio.get_untrusted_types(file=model_path)
    except Exception as exc:  # noqa: BLE001 - any parse failure means the file is not a readable skops file
        raise CodingError(f"{model_path}: not a readable skops file ({type(exc).__name__})") from None
    unexpected = [t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES)]
    if unexpected:
        raise CodingError(f"{model_path}: unexpected types in the model file: {unexpected[:5]}")
    return sio.load(model_path, trusted=untrusted)
