"""Fusion of text and tabular columns: a target that needs both sides is only learned by the fused
models; bad input is a clear error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nlp_engine.errors import TabularError
from nlp_engine.fusion import FusionModel, compare_fusion

Notes = tuple[list[str], list[list[str]]]


@pytest.fixture(scope="module")
def frame(coded_notes: Notes) -> pd.DataFrame:
    """Single-topic notes, each twice with a young and an old age; the label is topic + age band, so
    the text alone knows half of it and the age the other half."""
    texts, codes = coded_notes
    rows = []
    rng = np.random.default_rng(0)
    for _ in range(3):
        for text, code in zip(texts, codes, strict=True):
            if len(code) != 1:
                continue
            for band, age in (("young", rng.integers(20, 40)), ("old", rng.integers(70, 90))):
                rows.append(
                    {
                        "text": text,
                        "age": float(age),
                        "sex": rng.choice(["F", "M"]),
                        "label": f"{code[0]}/{band}",
                    }
                )
    return pd.DataFrame(rows)  # fmt: skip


def test_fused_models_learn_what_neither_side_can_alone(frame: pd.DataFrame) -> None:
    result = compare_fusion(frame, "label", "text", groups=frame.index // 2, folds=3, tabular_iterations=40)
    assert result["early"]["accuracy"] > 0.85 and result["stack"]["accuracy"] > 0.8, result
    # text knows the topic only (about 1/2), the age knows the band only (about 1/3)
    assert result["text"]["accuracy"] < 0.65 and result["tabular"]["accuracy"] < 0.5, result


def test_predictions_and_probabilities(frame: pd.DataFrame) -> None:
    model = FusionModel("text").fit(frame.drop(columns=["label"]), frame["label"])
    new = pd.DataFrame([{"text": "Pneumonia on chest x-ray, ceftriaxone.", "age": 85.0, "sex": None}])
    assert model.predict(new)[0] == "J18.9/old"
    probs = model.predict_proba(new)
    assert probs.shape == (1, 6) and abs(probs.sum() - 1) < 1e-6


def test_bad_input(frame: pd.DataFrame) -> None:
    X, y = frame.drop(columns=["label"]), frame["label"]
    with pytest.raises(TabularError, match="no text column 'note'"):
        FusionModel("note").fit(X, y)
    with pytest.raises(TabularError, match="unknown fusion mode"):
        FusionModel("text", mode="late").fit(X, y)
    with pytest.raises(TabularError, match="no usable tabular columns"):
        FusionModel("text").fit(X[["text"]], y)
    # the control needs no tabular columns: the text model behind the stacking meta-learner
    control = FusionModel("text", mode="text-stack").fit(X[["text"]], y)
    assert set(control.predict(X[["text"]].head(4))) <= set(y)
    with pytest.raises(TabularError, match="two classes"):
        FusionModel("text").fit(X, ["a"] * len(X))
    with pytest.raises(TabularError, match="no target column"):
        compare_fusion(frame, "outcome")
