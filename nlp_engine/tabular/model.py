"""`TabularModel`: a scikit-learn `Pipeline` for one target column of a patient-level table.

Columns are typed from the training table: numbers (imputed with the median plus a missing-value
indicator, then scaled) and categories (missing as its own value, one-hot encoded with rare
categories (`min_frequency`) pooled and categories never seen in training mapped to the infrequent
bucket; for gradient boosting, ordinal codes split natively, unseen values treated as missing), so
prediction never fails on a new value: `predict`/`predict_proba` count such values per column in
`unseen_` so callers can say so. Columns that are empty in training,
identifiers (one value per row) and the columns named in `drop` are left out and listed in
`report_`. Models: logistic regression, random forest, histogram gradient boosting; optional
isotonic/sigmoid calibration (`CalibratedClassifierCV`). `cross_validate` gives stratified K-fold
ROC AUC, accuracy and Brier score; `importance` gives permutation importance on held-out data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import TabularError
from ..model_files import load_model, save_model

MODELS = ("logreg", "forest", "hgb")
CARD_FORMAT = "nlp_engine.tabular.v1"


def read_table(path: str | Path) -> Any:
    """A pandas DataFrame from CSV, TSV or Parquet. CSV/TSV text may be UTF-8 (with or without a BOM),
    UTF-16/32 with a BOM, cp1252 or latin-1: the encoding is sniffed (`textio.sniff_file_encoding`)
    and recorded in `table.attrs["encoding"]`; binary data is a `TabularError`."""
    import pandas as pd

    from ..errors import NotTextError
    from ..textio import sniff_file_encoding

    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix in (".csv", ".tsv"):
            encoding = sniff_file_encoding(path)
            table = pd.read_csv(
                path, sep="\t" if suffix == ".tsv" else ",", low_memory=False, encoding=encoding
            )
            table.attrs["encoding"] = encoding
            return table
    except NotTextError:
        raise TabularError(f"{path.name}: binary data, not a {suffix} table") from None
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise TabularError(f"{path.name}: not a readable table ({type(exc).__name__})") from None
    raise TabularError(f"{path.name}: tables must be .csv, .tsv or .parquet")


class TabularModel:
    """See the module docstring."""

    def __init__(
        self,
        target: str,
        *,
        model: str = "hgb",
        drop: tuple[str, ...] | list[str] = (),
        calibrate: str | None = None,
        min_frequency: int = 5,
        random_state: int = 0,
    ) -> None:
        if model not in MODELS:
            raise TabularError(f"unknown model {model!r}; choose from {', '.join(MODELS)}")
        self.target = target
        self.model = model
        self.drop = tuple(drop)
        self.calibrate = calibrate
        self.min_frequency = min_frequency
        self.random_state = random_state
        self.pipeline_: Any = None
        self.report_: dict[str, Any] = {}

    # -- data ----------------------------------------------------------------------------------------
    def _split(self, df: Any, *, training: bool) -> tuple[Any, Any]:
        if self.target not in df.columns:
            raise TabularError(f"no target column {self.target!r} (columns: {list(df.columns)[:20]})")
        known = df[df[self.target].notna()]
        if training and len(known) < len(df):
            self.report_["rows_without_target"] = int(len(df) - len(known))
        y = known[self.target].astype(str).to_numpy()
        return known.drop(columns=[self.target]), y

    def _columns(self, X: Any) -> tuple[list[str], list[str]]:
        numeric, categorical, dropped = column_types(X, self.drop)
        self.report_["dropped_columns"] = dropped
        return numeric, categorical

    def _pipeline(self, numeric: list[str], categorical: list[str]) -> Any:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline

        prep = preprocessor(
            numeric, categorical, native_categories=self.model == "hgb", min_frequency=self.min_frequency
        )
        if self.model == "logreg":
            clf: Any = LogisticRegression(C=1.0, max_iter=5000)
        elif self.model == "forest":
            clf = RandomForestClassifier(
                n_estimators=300, min_samples_leaf=2, random_state=self.random_state, n_jobs=1
            )
        else:
            clf = HistGradientBoostingClassifier(
                max_iter=200,
                learning_rate=0.05,
                categorical_features=list(range(len(categorical))) or None,
                early_stopping=True,
                random_state=self.random_state,
            )
        if self.calibrate:
            clf = CalibratedClassifierCV(clf, method=self.calibrate, cv=3)
        return Pipeline([("prepare", prep), ("model", clf)])

    # -- training ------------------------------------------------------------------------------------
    def fit(self, df: Any) -> TabularModel:
        self.report_ = {}
        X, y = self._split(df, training=True)
        classes = sorted(set(y.tolist()))
        if len(classes) < 2:
            raise TabularError(f"target {self.target!r} has a single class ({classes}): nothing to learn")
        numeric, categorical = self._columns(X)
        if not numeric and not categorical:
            raise TabularError("no usable feature columns (all empty, identifiers or dropped)")
        self.features_ = numeric + categorical
        self.numeric_ = numeric
        self.categories_ = {col: sorted(set(_as_text(X[[col]])[col].dropna())) for col in categorical}
        self.pipeline_ = self._pipeline(numeric, categorical).fit(X[self.features_], y)
        self.classes_ = [str(c) for c in self.pipeline_.classes_]
        self.report_.update(rows=int(len(y)), numeric=numeric, categorical=categorical, classes=self.classes_)
        return self

    def _check(self, df: Any) -> Any:
        if self.pipeline_ is None:
            raise TabularError("this TabularModel is not trained yet: call fit() or load a saved model")
        missing = [c for c in self.features_ if c not in df.columns]
        if missing:
            raise TabularError(f"missing feature columns: {missing}")
        import pandas as pd

        X = df[self.features_].copy()
        for col in self.numeric_:
            X[col] = pd.to_numeric(X[col], errors="coerce")
        self.unseen_ = {}
        for col, known in getattr(self, "categories_", {}).items():
            values = _as_text(X[[col]])[col].dropna()
            count = int((~values.isin(known)).sum())
            if count:
                self.unseen_[col] = count
        return X

    def predict_proba(self, df: Any) -> np.ndarray:
        X = self._check(df)
        return np.asarray(self.pipeline_.predict_proba(X))

    def predict(self, df: Any) -> np.ndarray:
        X = self._check(df)
        return np.asarray(self.pipeline_.predict(X))

    def cross_validate(self, df: Any, folds: int = 5) -> dict[str, Any]:
        """Stratified K-fold ROC AUC (one-vs-rest macro for several classes), accuracy and Brier score."""
        from sklearn.model_selection import StratifiedKFold

        X, y = self._split(df, training=True)
        numeric, categorical = self._columns(X)
        cols = numeric + categorical
        classes = sorted(set(y.tolist()))
        probs = np.zeros((len(y), len(classes)))
        for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=self.random_state).split(
            X, y
        ):
            pipe = self._pipeline(numeric, categorical).fit(X.iloc[train_idx][cols], y[train_idx])
            fold_probs = pipe.predict_proba(X.iloc[test_idx][cols])
            for j, c in enumerate(pipe.classes_):
                probs[test_idx, classes.index(c)] = fold_probs[:, j]
        onehot = np.array([[c == label for c in classes] for label in y], dtype=float)
        return {
            "rows": int(len(y)),
            "classes": classes,
            "folds": folds,
            **_scores(y, probs, classes),
            "majority_class_accuracy": round(float(max(np.mean(y == c) for c in classes)), 4),
            "brier": round(float(np.mean(np.sum((probs - onehot) ** 2, axis=1))), 4),
        }

    def evaluate(self, df: Any) -> dict[str, Any]:
        """Rows, accuracy and (when `df` holds more than one class) ROC AUC on a labelled table that was
        not used in training; rows without a target value are left out."""
        X, y = self._split(df, training=False)
        return {"rows": int(len(y)), **_scores(y, self.predict_proba(X), self.classes_)}

    def importance(self, df: Any, repeats: int = 5) -> list[dict[str, Any]]:
        """Permutation importance (drop in ROC AUC / accuracy) of each input column on `df`, which should
        be data the model was not trained on."""
        from sklearn.inspection import permutation_importance

        X, y = self._split(df, training=False)
        scoring = "roc_auc" if len(self.classes_) == 2 else "accuracy"
        result = permutation_importance(
            self.pipeline_,
            self._check(X),
            y,
            n_repeats=repeats,
            random_state=self.random_state,
            scoring=scoring,
        )
        order = np.argsort(-result.importances_mean)
        return [
            {
                "column": self.features_[i],
                "importance": round(float(result.importances_mean[i]), 4),
                "std": round(float(result.importances_std[i]), 4),
            }
            for i in order
        ]

    # -- persistence ---------------------------------------------------------------------------------
    def save(self, out: str | Path, *, card: dict[str, Any] | None = None) -> Path:
        if self.pipeline_ is None:
            raise TabularError("nothing to save: the model is not trained")
        full = {
            "target": self.target,
            "model": self.model,
            "calibrate": self.calibrate,
            "features": self.features_,
            "numeric": self.numeric_,
            "categories": self.categories_,
            "classes": self.classes_,
            "report": self.report_,
            **(card or {}),
        }
        return save_model(self.pipeline_, out, fmt=CARD_FORMAT, card=full)

    @classmethod
    def load(cls, path: str | Path) -> TabularModel:
        pipeline, card = load_model(
            path,
            fmt=CARD_FORMAT,
            error=TabularError,
            what="tabular model",
            trusted=("nlp_engine.tabular.",),
            retrain="`nlp-engine tabular train`",
        )
        model = cls(card["target"], model=card["model"], calibrate=card.get("calibrate"))
        model.pipeline_ = pipeline
        model.features_, model.numeric_, model.classes_ = card["features"], card["numeric"], card["classes"]
        model.report_ = card.get("report", {})
        model.categories_ = card.get("categories", {})
        return model


def _scores(y: np.ndarray, probs: np.ndarray, classes: list[str]) -> dict[str, float]:
    """Accuracy of the most probable class and, when `y` holds more than one class, ROC AUC (one-vs-rest
    macro for several classes); `probs` columns follow `classes`."""
    from sklearn.metrics import accuracy_score, roc_auc_score

    out = {"accuracy": round(float(accuracy_score(y, np.asarray(classes)[probs.argmax(axis=1)])), 4)}
    if len(set(y.tolist())) > 1:
        auc = (
            roc_auc_score(y == classes[1], probs[:, 1])
            if len(classes) == 2
            else roc_auc_score(y, probs, multi_class="ovr", labels=classes)
        )
        out = {"roc_auc": round(float(auc), 4), **out}
    return out


def column_types(
    X: Any, drop: tuple[str, ...] | list[str] = ()
) -> tuple[list[str], list[str], dict[str, str]]:
    """`(numeric, categorical, dropped)` columns of a feature table; `dropped` says why: asked (in
    `drop`), empty (all missing) or an identifier (text with one value per row)."""
    import pandas as pd

    numeric, categorical, dropped = [], [], {}
    for col in X.columns:
        series = X[col]
        if col in drop:
            dropped[col] = "asked"
        elif series.isna().all():
            dropped[col] = "empty"
        elif pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            numeric.append(col)
        elif series.nunique(dropna=True) == len(series) and len(series) > 20:
            dropped[col] = "identifier (one value per row)"
        else:
            categorical.append(col)
    return numeric, categorical, dropped


def preprocessor(
    numeric: list[str], categorical: list[str], *, native_categories: bool = False, min_frequency: int = 5
) -> Any:
    """The `ColumnTransformer` of the module docstring: categorical columns first (their output
    positions are `0..len(categorical)-1` when `native_categories`, for gradient boosting's native
    categorical splits), then the numeric columns with missing-value indicators."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler

    numeric_steps = make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler())
    as_text = FunctionTransformer(_as_text, feature_names_out="one-to-one")
    if native_categories:
        # ordinal codes, rare ones pooled, unseen and missing values as NaN (their own branch)
        categorical_steps = make_pipeline(
            as_text,
            OrdinalEncoder(
                handle_unknown="use_encoded_value",
                unknown_value=np.nan,
                encoded_missing_value=np.nan,
                min_frequency=min_frequency,
                max_categories=250,
            ),
        )
    else:
        categorical_steps = make_pipeline(
            as_text,
            SimpleImputer(strategy="constant", fill_value="(missing)"),
            OneHotEncoder(
                handle_unknown="infrequent_if_exist", min_frequency=min_frequency, sparse_output=False
            ),
        )
    return ColumnTransformer(
        [("cat", categorical_steps, categorical), ("num", numeric_steps, numeric)],
        verbose_feature_names_out=True,
    )


def _as_text(X: Any) -> Any:
    """Categorical columns as strings (missing stays missing), so mixed types encode consistently."""
    import pandas as pd

    frame = pd.DataFrame(X).copy()
    return frame.apply(
        lambda s: s.map(lambda v: v if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    ).astype(object)
