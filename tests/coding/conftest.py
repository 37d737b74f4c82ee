"""The coder fitted on the hand-written coded notes (`coded_notes` in tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def fitted_coder(coded_notes: tuple[list[str], list[list[str]]]):  # type: ignore[no-untyped-def]
    from nlp_engine.coding import DiagnosisCoder

    texts, codes = coded_notes
    return DiagnosisCoder(inner_folds=3).fit(texts, codes)
