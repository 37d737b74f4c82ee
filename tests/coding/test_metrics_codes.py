from __future__ import annotations

import pytest

from nlp_engine.coding import CodingError, clean_code_lists, normalize_code
from nlp_engine.coding.metrics import (
    average_precision,
    mean_average_precision,
    multilabel_scores,
    precision_at_k,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("r51.9", "R51.9"),
        ("R519", "R51.9"),
        (" i10 ", "I10"),
        ("S72.001A", "S72.001A"),
        ("z20818", "Z20.818"),
    ],
)
def test_normalize_code(raw: str, expected: str) -> None:
    assert normalize_code(raw) == expected


@pytest.mark.parametrize("raw", ["", "10", "hypertension", "R", "R5", "R51.99999", "123.4"])
def test_malformed_codes_are_errors(raw: str) -> None:
    with pytest.raises(CodingError, match="malformed"):
        normalize_code(raw)


def test_clean_code_lists_dedupes_and_reports_unknown() -> None:
    lists, report = clean_code_lists([["i10", "I10", "e11.9"], ["X99.9"]], known={"I10", "E11.9"})
    assert lists == [["I10", "E11.9"], ["X99.9"]]
    assert report["unknown_codes"] == 1 and report["distinct_codes"] == 3
    dropped, _ = clean_code_lists([["I10", "X99.9"]], known={"I10"}, unknown="drop")
    assert dropped == [["I10"]]
    with pytest.raises(CodingError, match="document 1: code X99.9 is not in"):
        clean_code_lists([["I10"], ["X99.9"]], known={"I10"}, unknown="error")
    with pytest.raises(CodingError, match="document 0: malformed"):
        clean_code_lists([["I10", "not a code"]])
    with pytest.raises(CodingError, match="not one string"):
        clean_code_lists(["I10"])  # type: ignore[list-item]


def test_average_precision_as_the_codiesp_script() -> None:
    # gold {A, B, C}; ranked A x B A(again) C: hits at ranks 1, 3, 4 (the repeat does not count)
    ap = average_precision(["A00", "B00", "C00"], ["A00", "X00", "B00", "A00", "C00"])
    assert ap == pytest.approx((1 / 1 + 2 / 3 + 3 / 4) / 3)
    assert average_precision(["A00"], []) == 0.0
    assert average_precision(["A00"], ["X00"] * 3 + ["A00"], depth=1) == 0.0
    # documents without gold codes are not averaged; one with gold and no predictions counts 0
    assert mean_average_precision([["A00"], [], ["B00"]], [["A00"], ["Z00"], []]) == pytest.approx(0.5)


def test_precision_at_k_and_micro_macro() -> None:
    assert precision_at_k([["A00", "B00"]], [["A00", "C00", "B00", "D00", "E00"]], k=5) == pytest.approx(0.4)
    scores = multilabel_scores([["A00", "B00"], ["A00"]], [["A00"], ["A00", "C00"]])
    assert scores["micro_precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert scores["micro_recall"] == pytest.approx(2 / 3, abs=1e-4)
    # per code F1: A00 1.0, B00 0 (missed), C00 0 (false) -> macro 1/3
    assert scores["macro_f1"] == pytest.approx(1 / 3, abs=1e-4)
