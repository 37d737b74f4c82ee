"""Text and structured data in one patient-level model.

`FusionModel(text_column, mode=...)` is a scikit-learn classifier over a DataFrame holding a text column
(the report) and tabular columns (age, sex, vital signs, labs, stage, ...):

- `mode="early"`: one feature space, the text's TF-IDF (or transformer / Word2Vec embedding, any
  `nlp_engine.coding.features` featurizer) beside the tabular columns (imputed, indicated, scaled,
  one-hot; `nlp_engine.tabular.preprocessor`), `tabular_weight` scaling the tabular block so that a
  handful of columns is not drowned by thousands of n-grams, then multinomial logistic regression.
- `mode="stack"`: late fusion. A text model (featurizer + logistic regression) and a tabular model
  (histogram gradient boosting) are each fitted, and a logistic regression learns to combine their
  out-of-fold class probabilities (`StackingClassifier`).
- `mode="text"` and `mode="tabular"`: either side alone, for the comparison that says whether
  fusion is worth it; `mode="text-stack"`: the text model alone behind the same stacking
  meta-learner, the control that separates what the fields add from what the recalibration adds.

`compare_fusion(df, target, text_column, groups=...)` cross-validates all four with the same grouped
folds and reports accuracy and macro-F1 for each. `nlp_engine.structured.fields_table` turns notes
into the tabular side when no structured record exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from .errors import TabularError

MODES = ("early", "stack", "text", "tabular", "text-stack")


class _Column(BaseEstimator):
    """Selects one text column of a DataFrame as a list of strings (missing text as empty)."""

    def __init__(self, column: str = "text") -> None:
        self.column = column

    def fit(self, X: Any, y: Any = None) -> _Column:
        return self

    def transform(self, X: Any) -> list[str]:
        return ["" if v is None or v != v else str(v) for v in X[self.column].tolist()]


class FusionModel(BaseEstimator, ClassifierMixin):
    def __init__(
        self,
        text_column: str = "text",
        *,
        mode: str = "early",
        featurizer: str = "tfidf",
        tabular_weight: float = 1.0,
        C: float = 10.0,
        tabular_iterations: int = 150,
        drop: tuple[str, ...] = (),
        random_state: int = 0,
    ) -> None:
        self.text_column = text_column
        self.mode = mode
        self.featurizer = featurizer
        self.tabular_weight = tabular_weight
        self.C = C
        self.tabular_iterations = tabular_iterations
        self.drop = drop
        self.random_state = random_state

    def _text_branch(self) -> Any:
        from sklearn.pipeline import make_pipeline

        from .coding.features import make_featurizer

        return make_pipeline(_Column(self.text_column), make_featurizer(self.featurizer))

    def _tabular_branch(self, numeric: list[str], categorical: list[str], native: bool) -> Any:
        from .tabular import preprocessor

        return preprocessor(numeric, categorical, native_categories=native)

    def _logistic(self) -> Any:
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=self.C, max_iter=3000)

    def _estimator(self, X: Any) -> Any:
        from sklearn.compose import ColumnTransformer
        from sklearn.ensemble import HistGradientBoostingClassifier, StackingClassifier
        from sklearn.pipeline import Pipeline, make_pipeline

        from .tabular import column_types

        if self.mode not in MODES:
            raise TabularError(f"unknown fusion mode {self.mode!r}; choose from {', '.join(MODES)}")
        if self.text_column not in X.columns:
            raise TabularError(f"no text column {self.text_column!r} (columns: {list(X.columns)[:20]})")
        numeric, categorical, self.dropped_columns_ = column_types(
            X.drop(columns=[self.text_column]), self.drop
        )
        self.tabular_columns_ = numeric + categorical
        if self.mode not in ("text", "text-stack") and not self.tabular_columns_:
            raise TabularError(
                "no usable tabular columns beside the text (all empty, identifiers or dropped)"
            )

        def boosting() -> Any:
            return make_pipeline(
                self._tabular_branch(numeric, categorical, native=True),
                HistGradientBoostingClassifier(
                    max_iter=self.tabular_iterations,
                    learning_rate=0.1,
                    min_samples_leaf=min(20, max(2, len(X) // 20)),  # small tables can still split
                    categorical_features=list(range(len(categorical))) or None,
                    random_state=self.random_state,
                ),
            )

        if self.mode == "text":
            return make_pipeline(self._text_branch(), self._logistic())
        if self.mode == "text-stack":
            return StackingClassifier(
                [("text", make_pipeline(self._text_branch(), self._logistic()))],
                final_estimator=self._logistic(),
                stack_method="predict_proba",
                cv=3,
            )
        if self.mode == "tabular":
            return boosting()
        if self.mode == "early":
            features = ColumnTransformer(
                [
                    ("text", self._text_branch(), [self.text_column]),
                    (
                        "tabular",
                        self._tabular_branch(numeric, categorical, native=False),
                        self.tabular_columns_,
                    ),
                ],
                transformer_weights={"text": 1.0, "tabular": self.tabular_weight},
                sparse_threshold=1.0,
            )
            return Pipeline([("features", features), ("model", self._logistic())])
        return StackingClassifier(
            [("text", make_pipeline(self._text_branch(), self._logistic())), ("tabular", boosting())],
            final_estimator=self._logistic(),
            stack_method="predict_proba",
            cv=3,
        )

    def fit(self, X: Any, y: Any) -> FusionModel:
        y = np.asarray(y).astype(str)
        if len(set(y.tolist())) < 2:
            raise TabularError("fusion needs at least two classes in the target")
        self.model_ = self._estimator(X).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.asarray(self.model_.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self.model_.predict(X))


def compare_fusion(
    df: Any,
    target: str,
    text_column: str = "text",
    *,
    groups: Sequence[Any] | None = None,
    folds: int = 5,
    modes: Sequence[str] = ("early", "stack", "text", "tabular"),
    **options: Any,
) -> dict[str, Any]:
    """Grouped K-fold accuracy and macro-F1 of each mode on the same folds (see the module docstring)."""
    import time

    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedGroupKFold

    if target not in df.columns:
        raise TabularError(f"no target column {target!r}")
    known = df[df[target].notna()].reset_index(drop=True)
    y = known[target].astype(str).to_numpy()
    X = known.drop(columns=[target])
    group_ids = np.arange(len(known)) if groups is None else np.asarray(groups)[df[target].notna().to_numpy()]
    splitter = StratifiedGroupKFold(folds, shuffle=True, random_state=0)
    splits = list(splitter.split(X, y, group_ids))
    results: dict[str, Any] = {
        "rows": int(len(y)),
        "classes": len(set(y.tolist())),
        "majority_class_accuracy": round(float(max(np.mean(y == c) for c in set(y.tolist()))), 4),
    }
    for mode in modes:
        predicted = np.empty(len(y), dtype=object)
        started = time.perf_counter()
        for train_idx, test_idx in splits:
            model = FusionModel(text_column, mode=mode, **options).fit(X.iloc[train_idx], y[train_idx])
            predicted[test_idx] = model.predict(X.iloc[test_idx])
        results[mode] = {
            "accuracy": round(float(accuracy_score(y, predicted.astype(str))), 4),
            "macro_f1": round(float(f1_score(y, predicted.astype(str), average="macro")), 4),
            "seconds": round(time.perf_counter() - started, 1),
        }
    return results
