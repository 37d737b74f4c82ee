from __future__ import annotations

import os
from pathlib import Path

import pytest
from spacy.language import Language

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import nlp_engine  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def shared_data(relative: str) -> Path:
    """Path into ../shared/data, skipping the test with a reason when it is absent."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"public dataset not available: {path}")
    return path


@pytest.fixture(scope="session")
def clinical() -> Language:
    return nlp_engine.load("clinical")


@pytest.fixture(scope="session")
def pathology() -> Language:
    return nlp_engine.load("pathology")
