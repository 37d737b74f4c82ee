"""Safe model files shared by every trained component (coders, tabular models, case indexes): a skops
file (loading runs no pickled code; only types from trusted module prefixes are accepted) beside a model
card (`model_card.json`: what the component wrote, the versions, the SHA-256 of the model file).
Loading refuses a changed file (hash), a file from another nlp_engine or scikit-learn release (both
versions named) and unexpected types, each with the component's own error class."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .errors import MissingResourceError, NLPEngineError

MODEL_FILE = "model.skops"
CARD_FILE = "model_card.json"
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.", "collections.")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def versions() -> dict[str, str]:
    import numpy
    import sklearn

    return {
        "nlp_engine": __version__,
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
    }


def save_model(obj: Any, out: str | Path, *, fmt: str, card: dict[str, Any]) -> Path:
    """Write `out/model.skops` and `out/model_card.json` (`card` plus format, date, versions, hash)."""
    import skops.io as sio

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / MODEL_FILE
    sio.dump(obj, path)
    full = {
        "format": fmt,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "versions": versions(),
        **card,
        "sha256": sha256(path),
    }
    (out / CARD_FILE).write_text(
        json.dumps(full, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )
    return out


def read_card(path: str | Path, *, fmt: str, error: type[NLPEngineError], what: str) -> dict[str, Any]:
    path = Path(path)
    card_path = path / CARD_FILE
    if not (path / MODEL_FILE).exists() or not card_path.exists():
        raise MissingResourceError(f"{path}: not a saved {what} ({MODEL_FILE} and {CARD_FILE} expected)")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise error(f"{card_path}: the model card is not valid JSON") from None
    if not isinstance(card, dict) or card.get("format") != fmt:
        raise error(f"{card_path}: not an nlp_engine {what} card (format {fmt} expected)")
    return card


def load_model(
    path: str | Path,
    *,
    fmt: str,
    error: type[NLPEngineError],
    what: str,
    trusted: Sequence[str] = (),
    retrain: str = "",
) -> tuple[Any, dict[str, Any]]:
    """`(object, card)` saved at `path`, after checking the hash, the versions and the types inside."""
    import skops.io as sio

    path = Path(path)
    card = read_card(path, fmt=fmt, error=error, what=what)
    model_path = path / MODEL_FILE
    if sha256(model_path) != card.get("sha256"):
        raise error(
            f"{model_path}: the file changed since it was saved (SHA-256 differs from the model card)"
        )
    saved, here = card.get("versions", {}), versions()
    for name in ("nlp_engine", "scikit-learn"):
        if saved.get(name) != here[name]:
            raise error(
                f"{path}: saved with {name} {saved.get(name)}, this is {here[name]}; retrain the {what}"
                + (f" ({retrain})" if retrain else "")
                + " with this version"
            )
    try:
        untrusted = sio.get_untrusted_types(file=model_path)
    except Exception as exc:  # noqa: BLE001 - any parse failure means the file is not a readable skops file
        raise error(f"{model_path}: not a readable skops file ({type(exc).__name__})") from None
    prefixes = TRUSTED_PREFIXES + tuple(trusted)
    unexpected = [t for t in untrusted if not t.startswith(prefixes)]
    if unexpected:
        raise error(f"{model_path}: unexpected types in the model file: {unexpected[:5]}")
    return sio.load(model_path, trusted=untrusted), card
