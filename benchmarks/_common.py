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


def peak_rss_mb() -> float:
    """Peak resident memory of this process and its finished children, in MiB (Linux reports KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(result, indent=2))
