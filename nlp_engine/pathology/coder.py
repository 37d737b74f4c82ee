"""`PathologyCoder`: cancer coding of pathology reports, trainable, with the scikit-learn API.

`fit(texts, records)` learns one classifier per field (`records` are dicts with the TCGA-CDR column
names: `cancer_type`, `icd_10`, `icd_o_3_site`, `icd_o_3_histology`, `pathologic_T`, ...; empty
values are left out of that field's training). Features: word 1-2-grams (TF-IDF) plus the synoptic
fields `extract` finds, as tokens (`__pT_pT2`); one linear SVM per field (one-vs-rest, classes weighted
inversely to their frequency so rare cancer types and codes are not swamped; measured against the
multinomial logistic regression it replaced, docs/benchmarks.md). Scores are the softmax of the SVM
margins: they rank alternatives and sum to one, but are not calibrated probabilities.
`predict(texts)` gives one dict per text with the same keys; where `extract` read pT or pN from the
text itself, that value is used (it has evidence of its own), else the classifier's.
`predict_ranked(texts, k)` gives the k best alternatives per field with their scores, and
`explain(text, field)` the features that weighed most for the prediction, with their spans in the
text.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .extract import FIELDS, extract

TARGETS = (
    "cancer_type",
    "icd_10",
    "icd_o_3_site",
    "icd_o_3_histology",
    "histological_type",
    "tumor_tissue_site",
    "laterality",
    "neoplasm_histologic_grade",
    "ajcc_pathologic_tumor_stage",
    "pathologic_T",
    "pathologic_N",
    "pathologic_M",
)
# A record field the extractor reads straight from the text, and how its value is written there.
_EXTRACTED = {
    "pathologic_T": ("pT", lambda v: re.sub(r"^[yrm]?p", "", v).replace("(m)", "").replace("x", "X")),
    "pathologic_N": ("pN", lambda v: re.sub(r"^[yrm]?p", "", v).split("(")[0].replace("x", "X")),
}
# Grade and laterality are also read by `extract`, but its value goes in as a feature only: measured,
# the classifier does better on them than the extracted value does (docs/benchmarks.md).
_MISSING = ("", "[Not Available]", "[Not Applicable]", "[Unknown]", "[Discrepancy]", "[Not Evaluated]")


def _field_tokens(fields: dict[str, Any]) -> str:
    return " ".join(
        f"__{name}_{re.sub(r'[^A-Za-z0-9]+', '', str(f['value']))}"
        for name, f in fields.items()
        if f is not None
    )


class PathologyCoder:
    """Trainable coder for pathology reports (see the module docstring)."""

    def __init__(
        self,
        targets: Sequence[str] = TARGETS,
        *,
        C: float = 2.0,  # noqa: N803 - scikit-learn's name
        class_weight: str | None = "balanced",
        use_extracted: bool = True,
    ) -> None:
        self.targets = tuple(targets)
        self.C = C
        self.class_weight = class_weight
        self.use_extracted = use_extracted

    def _inputs(self, texts: Sequence[str]) -> tuple[list[str], list[dict[str, Any]]]:
        extracted = [extract(text) for text in texts]
        return [
            f"{text}\n{_field_tokens(fields)}" for text, fields in zip(texts, extracted, strict=True)
        ], extracted

    def fit(self, texts: Sequence[str], records: Sequence[dict[str, str]]) -> PathologyCoder:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        inputs, _ = self._inputs(texts)
        self.words_ = TfidfVectorizer(
            ngram_range=(1, 2),
            min_df=2,
            max_features=100_000,
            sublinear_tf=True,
            token_pattern=r"(?u)\b\w[\w\-]*\b",
        )
        x = self.words_.fit_transform(inputs)
        self.models_: dict[str, Any] = {}
        for target in self.targets:
            keep = [i for i, r in enumerate(records) if r.get(target, "") not in _MISSING]
            labels = [records[i][target] for i in keep]
            if len(set(labels)) < 2:
                continue
            model = LinearSVC(C=self.C, class_weight=self.class_weight)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                self.models_[target] = model.fit(x[keep], labels)
        return self

    def _matrix(self, inputs: list[str]) -> Any:
        return self.words_.transform(inputs)

    def predict_ranked(self, texts: Sequence[str], k: int = 3) -> list[dict[str, list[tuple[str, float]]]]:
        """Per text and field, the `k` best values with their scores (softmax of the margins)."""
        inputs, _ = self._inputs(texts)
        x = self._matrix(inputs)
        out: list[dict[str, list[tuple[str, float]]]] = [{} for _ in texts]
        for target, model in self.models_.items():
            probabilities = _softmax_scores(model, x)
            for row, p in zip(out, probabilities, strict=True):
                best = np.argsort(-p)[:k]
                row[target] = [(str(model.classes_[j]), round(float(p[j]), 4)) for j in best]
        return out

    def predict(self, texts: Sequence[str]) -> list[dict[str, str | None]]:
        inputs, extracted = self._inputs(texts)
        x = self._matrix(inputs)
        out: list[dict[str, str | None]] = [dict.fromkeys(self.targets) for _ in texts]
        for target, model in self.models_.items():
            for row, label in zip(out, model.predict(x), strict=True):
                row[target] = str(label)
        if self.use_extracted:
            for row, fields in zip(out, extracted, strict=True):
                for target, (name, convert) in _EXTRACTED.items():
                    if target in row and fields[name] is not None:
                        value = convert(str(fields[name]["value"]))
                        model = self.models_.get(target)
                        if model is None or value in set(map(str, model.classes_)):
                            row[target] = value
        return out

    def explain(self, text: str, target: str, k: int = 5) -> list[dict[str, Any]]:
        """The word features that weighed most for the predicted value, with their first span in `text`."""
        model = self.models_[target]
        inputs, (fields,) = self._inputs([text])
        x = self._matrix(inputs)
        label = model.predict(x)[0]
        row = list(model.classes_).index(label) if len(model.classes_) > 2 else None
        coef = (
            model.coef_[row]
            if row is not None
            else model.coef_[0] * (1 if label == model.classes_[1] else -1)
        )
        contributions = x[0].multiply(coef).tocoo()
        names = self.words_.get_feature_names_out()
        out = []
        for j, weight in sorted(zip(contributions.col, contributions.data, strict=True), key=lambda p: -p[1])[
            :k
        ]:
            term = str(names[j])
            span = _term_span(text, term, fields)
            out.append({"term": term, "weight": round(float(weight), 4), "start": span[0], "end": span[1]})
        return out


def _softmax_scores(model: Any, x: Any) -> np.ndarray:
    """One score per class summing to one: the softmax of the linear margins (two classes: the one
    margin against its negative)."""
    margins = model.decision_function(x)
    if margins.ndim == 1:
        margins = np.column_stack([-margins, margins])
    margins = margins - margins.max(axis=1, keepdims=True)
    exp = np.exp(margins)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True))


def _term_span(text: str, term: str, fields: dict[str, Any]) -> tuple[int | None, int | None]:
    """Where a feature is in the text: an extracted field's own evidence for `__field_value` tokens,
    else the first occurrence of the words."""
    if term.startswith("__"):
        name = max((f for f in FIELDS if term.startswith(f"__{f}_")), key=len, default=None)
        field = fields.get(name) if name else None
        return (field["start"], field["end"]) if field else (None, None)
    match = re.search(r"(?i)\b" + re.escape(term).replace(r"\ ", r"\s+") + r"\b", text)
    return (match.start(), match.end()) if match else (None, None)
