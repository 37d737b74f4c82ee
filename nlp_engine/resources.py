"""Finding and reading the data files that ship with the package (rules, terminologies, configs).

A reference is either `"vocab:NAME"` / `"pipelines:NAME"` (a file inside those packages, found with
`importlib.resources`, so it works from a wheel as well as from a checkout) or a filesystem path.
A reference that does not resolve is an error naming what was looked for; nothing falls back silently.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import MissingResourceError, RuleFileError

_PACKAGES = ("vocab", "pipelines", "corpora")


def resolve(ref: str | Path) -> Path:
    """Return the path a resource reference points to, or raise `MissingResourceError`."""
    ref = str(ref)
    package, sep, name = ref.partition(":")
    path = Path(str(resources.files(package).joinpath(name))) if sep and package in _PACKAGES else Path(ref)
    if not path.exists():
        hint = " (run `nlp-engine vocab build` to create it)" if name.startswith("icd10cm") else ""
        raise MissingResourceError(f"resource {ref!r} not found at {path}{hint}")
    return path


def open_text(ref: str | Path) -> io.TextIOBase:
    """Open a (possibly gzipped) UTF-8 text resource."""
    path = resolve(ref)
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")  # noqa: SIM115 - the caller closes it


def read_jsonl(
    ref: str | Path,
    *,
    required: frozenset[str],
    optional: frozenset[str] = frozenset(),
) -> Iterator[dict[str, Any]]:
    """Yield the records of a JSONL rule file, rejecting missing and unknown keys with line numbers."""
    allowed = required | optional
    with open_text(ref) as handle:
        for lineno, line in enumerate(handle, 1):
            line = line.strip()
            if not line or line.startswith("//"):
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise RuleFileError(f"{ref}:{lineno}: not valid JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise RuleFileError(f"{ref}:{lineno}: expected a JSON object")
            missing = required - record.keys()
            unknown = record.keys() - allowed
            if missing or unknown:
                raise RuleFileError(
                    f"{ref}:{lineno}: missing keys {sorted(missing)}, unknown keys {sorted(unknown)}; "
                    f"allowed: {sorted(allowed)}"
                )
            yield record
