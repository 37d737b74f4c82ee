"""`DiagnosisCoder`: ranked ICD-10-CM codes for a text, learned from coded documents and the rules.

How a text is coded:
1. A **classifier** over the text's features (`featurizer`: TF-IDF, Word2Vec, transformer, concepts;
   `classifier`: one-vs-rest logistic regression or linear SVM, a multi-output random forest, or one-
   vs-rest histogram gradient boosting over an SVD of the features) scores every code seen in
   training at least `min_code_count` times.
2. With `hybrid=True` (the default), two more sources propose codes: the **nearest training documents**
   (cosine over the same features; each neighbour votes its codes, weighted by similarity) and the
   pipeline's **rule-based linker** (ICD-10-CM concepts with ConText assertion), which can propose codes
   never seen in training.
3. A **ranker** (histogram gradient boosting) turns each candidate code's signals (classifier score and
   rank, neighbour vote and rank, linker mentions and their best assertion status, mentions in the same
   category, the code's frequency in training, how much of the code's title the text contains) into one
   calibrated probability. It is trained on candidates of documents held out from the classifier
   (`inner_folds`-fold cross-fitting), so it learns how far to trust each source on unseen text; the
   decision threshold for `predict` is tuned on those held-out documents for micro-F1.

`explain(text)` gives, for each suggested code, its signals and the evidence: the linker's mentions of
the code (or its category) with their assertion, and for linear classifiers over TF-IDF the n-grams that
raised the score, located in the text.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, clone
from sklearn.decomposition import TruncatedSVD
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, KFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer, normalize
from sklearn.svm import LinearSVC

from .analysis import (
    NO_STATUS,
    Mention,
    analyze,
    kb_titles,
    linker_signals,
    text_words,
    title_words,
)
from .codes import CodingError, UnknownPolicy, category, clean_code_lists
from .features import make_featurizer

CLASSIFIERS = ("logreg", "svm", "forest", "boosting")
DEFAULT_C = {"logreg": 10.0, "svm": 0.5}
RANK_CAP = 1000
SIGNALS = (
    "classifier_score",
    "classifier_rank",
    "neighbour_vote",
    "neighbour_rank",
    "linker_mentions",
    "linker_best_status",
    "linker_score",
    "linker_candidate_lists",
    "category_mentions",
    "category_best_status",
    "log_train_count",
    "log_category_train_count",
    "learned_code",
    "title_coverage",
    "code_length",
    "chapter",
)
BASE_SIGNALS = ("classifier_score", "classifier_rank", "log_train_count", "learned_code")


def _check_texts(texts: Sequence[str], what: str = "texts") -> list[str]:
    if isinstance(texts, str):
        raise CodingError(f"{what} must be a list of strings, not one string")
    out = list(texts)
    for i, text in enumerate(out):
        if not isinstance(text, str):
            raise CodingError(f"{what}[{i}] is {type(text).__name__}, not a string")
    return out


class LabelModel(BaseEstimator):
    """The learned part for one training set: featurizer, classifier over the codes seen often
    enough, and the training matrix for nearest-neighbour votes."""

    def __init__(
        self,
        featurizer: Any,
        classifier: str,
        C: float | None,
        min_code_count: int,
        random_state: int,
        n_jobs: int,
    ):
        self.featurizer = featurizer
        self.classifier = classifier
        self.C = C
        self.min_code_count = min_code_count
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, texts: list[str], Y: sparse.csr_matrix) -> LabelModel:
        self.featurizer_ = clone(self.featurizer).fit(texts)
        X = self.featurizer_.transform(texts)
        counts = np.asarray(Y.sum(axis=0)).ravel()
        self.columns_ = np.flatnonzero((counts >= self.min_code_count) & (counts < Y.shape[0])).astype(
            np.int64
        )
        self.n_classes_ = Y.shape[1]
        self.reducer_: Any = None
        self.estimator_: Any = None
        if len(self.columns_):
            target = Y[:, self.columns_]
            C = self.C if self.C is not None else DEFAULT_C.get(self.classifier, 1.0)
            if self.classifier == "logreg":
                est = OneVsRestClassifier(LogisticRegression(C=C, solver="liblinear"), n_jobs=self.n_jobs)
            elif self.classifier == "svm":
                est = OneVsRestClassifier(LinearSVC(C=C), n_jobs=self.n_jobs)
            elif self.classifier == "forest":
                est = RandomForestClassifier(
                    n_estimators=200,
                    n_jobs=self.n_jobs,
                    random_state=self.random_state,
                    class_weight="balanced_subsample",
                )
                target = target.toarray()
            else:
                n_components = max(1, min(128, X.shape[1] - 1, X.shape[0] - 1))
                self.reducer_ = TruncatedSVD(n_components=n_components, random_state=self.random_state)
                est = OneVsRestClassifier(
                    HistGradientBoostingClassifier(
                        max_iter=60,
                        learning_rate=0.1,
                        max_leaf_nodes=15,
                        early_stopping=False,
                        random_state=self.random_state,
                    ),
                    n_jobs=self.n_jobs,
                )
                target = target.toarray()
            features = self.reducer_.fit_transform(X) if self.reducer_ is not None else X
            self.estimator_ = est.fit(features, target)
        self.train_matrix_ = (
            sparse.csr_matrix(normalize(X)) if sparse.issparse(X) else normalize(np.asarray(X))
        )
        self.train_labels_ = sparse.csr_matrix(Y, dtype=np.float32)
        return self

    def scores(self, texts: list[str], neighbors: int) -> tuple[np.ndarray, np.ndarray, Any]:
        """Classifier scores and neighbour votes for every class (columns of the coder's label set)."""
        X = self.featurizer_.transform(texts)
        base = np.full((len(texts), self.n_classes_), -np.inf, dtype=np.float64)
        if self.estimator_ is not None:
            features = self.reducer_.transform(X) if self.reducer_ is not None else X
            if self.classifier == "svm":
                raw = self.estimator_.decision_function(features)
            elif self.classifier == "forest":
                probas = self.estimator_.predict_proba(features)
                raw = np.column_stack(
                    [
                        p[:, list(c).index(1)] if 1 in c else np.zeros(len(texts))
                        for p, c in zip(probas, self.estimator_.classes_, strict=True)
                    ]
                )
            else:
                raw = self.estimator_.predict_proba(features)
            base[:, self.columns_] = np.asarray(raw).reshape(len(texts), len(self.columns_))
        query = normalize(X)
        sims = query @ self.train_matrix_.T
        sims = sims.toarray() if sparse.issparse(sims) else np.asarray(sims)
        votes = np.zeros((len(texts), self.n_classes_))
        k = min(neighbors, sims.shape[1])
        for i in range(len(texts)):
            nearest = np.argpartition(-sims[i], k - 1)[:k]
            weights = np.clip(sims[i, nearest], 0, None)
            if weights.sum() > 0:
                votes[i] = (self.train_labels_[nearest].multiply(weights[:, None])).sum(
                    axis=0
                ).A1 / weights.sum()
        return base, votes, X


def _ranks(scores: np.ndarray, depth: int) -> tuple[np.ndarray, dict[int, int]]:
    order = np.argsort(-scores, kind="stable")[:depth]
    order = order[np.isfinite(scores[order])]
    return order, {int(j): r for r, j in enumerate(order)}


class DiagnosisCoder(BaseEstimator):
    """Multi-label ICD-10-CM coding with ranked, calibrated, explained suggestions (module docstring)."""

    def __init__(
        self,
        featurizer: str = "tfidf",
        classifier: str = "logreg",
        hybrid: bool = True,
        C: float | None = None,
        neighbors: int = 20,
        candidates: int = 100,
        inner_folds: int = 4,
        min_code_count: int = 1,
        pipeline: str = "clinical",
        unknown_codes: UnknownPolicy = "keep",
        vectors: str | None = None,
        model_dir: str | None = None,
        device: str | None = None,
        cache_dir: str | None = None,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.featurizer = featurizer
        self.classifier = classifier
        self.hybrid = hybrid
        self.C = C
        self.neighbors = neighbors
        self.candidates = candidates
        self.inner_folds = inner_folds
        self.min_code_count = min_code_count
        self.pipeline = pipeline
        self.unknown_codes = unknown_codes
        self.vectors = vectors
        self.model_dir = model_dir
        self.device = device
        self.cache_dir = cache_dir
        self.random_state = random_state
        self.n_jobs = n_jobs

    # -- training ----------------------------------------------------------------------------------
    def _label_model(self) -> LabelModel:
        if self.classifier not in CLASSIFIERS:
            raise CodingError(f"unknown classifier {self.classifier!r}; choose from {', '.join(CLASSIFIERS)}")
        featurizer = make_featurizer(
            self.featurizer,
            vectors=self.vectors,
            model_dir=self.model_dir,
            device=self.device,
            cache_dir=self.cache_dir,
            pipeline=self.pipeline,
        )
        return LabelModel(
            featurizer, self.classifier, self.C, self.min_code_count, self.random_state, self.n_jobs
        )

    def fit(self, texts: Sequence[str], code_lists: Sequence[Sequence[str]]) -> DiagnosisCoder:
        started = time.perf_counter()
        texts = _check_texts(texts)
        if len(texts) != len(code_lists):
            raise CodingError(f"{len(texts)} texts but {len(code_lists)} code lists")
        if len(texts) < 2:
            raise CodingError(f"need at least 2 coded documents to train, got {len(texts)}")
        codes, report = clean_code_lists(
            code_lists, known=set(kb_titles(self.pipeline)), unknown=self.unknown_codes
        )
        if report["codes"] == 0:
            raise CodingError("no codes in the training data: every code list is empty")
        if len({tuple(sorted(c)) for c in codes}) == 1:
            raise CodingError(
                "every training document has the same code set: there is nothing to tell apart "
                "(a single class); add documents with other codes or none"
            )
        self.mlb_ = MultiLabelBinarizer(sparse_output=True).fit(codes)
        self.classes_ = np.asarray(self.mlb_.classes_, dtype=object)
        Y = sparse.csr_matrix(self.mlb_.transform(codes))
        self.train_counts_ = {
            str(c): int(n) for c, n in zip(self.classes_, np.asarray(Y.sum(axis=0)).ravel(), strict=True)
        }
        mentions = analyze(texts, self.pipeline) if self.hybrid else [[] for _ in texts]

        # Cross-fitting: classifier on k-1 folds, candidates of the held-out fold -> ranker data.
        n_folds = max(2, min(self.inner_folds, len(texts)))
        rows: list[np.ndarray] = []
        labels: list[np.ndarray] = []
        groups: list[np.ndarray] = []
        folds = KFold(n_folds, shuffle=True, random_state=self.random_state).split(texts)
        for train_idx, held_idx in folds:
            sub_codes = [codes[i] for i in train_idx]
            if not any(sub_codes):
                continue
            sub_mlb = MultiLabelBinarizer(sparse_output=True).fit(sub_codes)
            model = self._label_model().fit(
                [texts[i] for i in train_idx], sparse.csr_matrix(sub_mlb.transform(sub_codes))
            )
            counts = Counter(c for cs in sub_codes for c in cs)
            x, keys = self._candidates(
                model,
                list(sub_mlb.classes_),
                counts,
                [texts[i] for i in held_idx],
                [mentions[i] for i in held_idx],
            )
            rows.append(x)
            labels.append(np.array([code in codes[held_idx[i]] for i, code in keys], dtype=np.int8))
            groups.append(np.array([held_idx[i] for i, _ in keys]))
        x_all = np.vstack(rows) if rows else np.zeros((0, len(self._signals())))
        y_all = np.concatenate(labels) if labels else np.zeros(0, dtype=np.int8)
        g_all = np.concatenate(groups) if groups else np.zeros(0, dtype=np.int64)

        self.ranker_: Any = None
        self.threshold_ = 0.5
        n_gold = sum(len(c) for c in codes)
        if len(set(y_all.tolist())) == 2:
            self.ranker_ = self._new_ranker().fit(x_all, y_all)
            held_out = self._held_out_probabilities(x_all, y_all, g_all)
            self.threshold_, tuned_f1 = _best_threshold(held_out, y_all, n_gold)
        else:
            tuned_f1 = 0.0
        self.label_model_ = self._label_model().fit(texts, Y)
        self.training_report_ = {
            **report,
            "learned_codes": int(len(self.label_model_.columns_)),
            "ranker_rows": int(len(y_all)),
            "candidate_recall_held_out": round(float(y_all.sum()) / n_gold, 4) if n_gold else 0.0,
            "threshold": round(float(self.threshold_), 4),
            "held_out_micro_f1_at_threshold": round(tuned_f1, 4),
            "fit_seconds": round(time.perf_counter() - started, 1),
        }
        return self

    def _new_ranker(self) -> HistGradientBoostingClassifier:
        return HistGradientBoostingClassifier(
            max_iter=200,
            learning_rate=0.05,
            max_leaf_nodes=31,
            early_stopping=False,
            random_state=self.random_state,
        )

    def _held_out_probabilities(self, x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """Ranker probabilities for each row from a ranker that did not see its document."""
        out = self.ranker_.predict_proba(x)[:, 1]
        n_groups = len(set(groups.tolist()))
        if n_groups < 3:
            return out
        for train_idx, test_idx in GroupKFold(3).split(x, y, groups):
            if len(set(y[train_idx].tolist())) == 2:
                out[test_idx] = (
                    self._new_ranker().fit(x[train_idx], y[train_idx]).predict_proba(x[test_idx])[:, 1]
                )
        return out

    def _signals(self) -> tuple[str, ...]:
        return SIGNALS if self.hybrid else BASE_SIGNALS

    # -- candidates ----------------------------------------------------------------------------------
    def _candidates(
        self,
        model: LabelModel,
        classes: list[str],
        counts: Counter[str] | dict[str, int],
        texts: list[str],
        mentions: list[list[Mention]],
    ) -> tuple[np.ndarray, list[tuple[int, str]]]:
        """One row of signals per (text, candidate code), and the keys of the rows."""
        base, votes, _ = model.scores(texts, self.neighbors)
        index = {c: j for j, c in enumerate(classes)}
        cat_counts: Counter[str] = Counter()
        for code, n in counts.items():
            cat_counts[category(code)] += n
        titles = kb_titles(self.pipeline)
        rows: list[list[float]] = []
        keys: list[tuple[int, str]] = []
        for i, text in enumerate(texts):
            order, base_rank = _ranks(base[i], self.candidates)
            cands = {classes[j] for j in order}
            if self.hybrid:
                v_order, vote_rank = _ranks(np.where(votes[i] > 0, votes[i], -np.inf), self.candidates)
                cands |= {classes[j] for j in v_order}
                linked, cats = linker_signals(mentions[i])
                cands |= set(linked)
                cands |= {c for c in classes if category(c) in cats}
                words = text_words(text) if cands else frozenset()
            for code in sorted(cands):
                j = index.get(code)
                learned = j is not None and math.isfinite(base[i, j])
                row = [
                    float(base[i, j]) if learned else 0.0,
                    float(base_rank.get(j, RANK_CAP)) if j is not None else RANK_CAP,
                    math.log1p(counts.get(code, 0)),
                    float(learned),
                ]
                if self.hybrid:
                    link = linked.get(code, [0, NO_STATUS, 0.0, 0])
                    cat = cats.get(category(code), [0, NO_STATUS])
                    tw = title_words(titles.get(code, ""))
                    row = [
                        row[0],
                        row[1],
                        float(votes[i, j]) if j is not None else 0.0,
                        float(vote_rank.get(j, RANK_CAP)) if j is not None else RANK_CAP,
                        float(link[0]),
                        float(link[1]),
                        float(link[2]),
                        float(link[3]),
                        float(cat[0]),
                        float(cat[1]),
                        row[2],
                        math.log1p(cat_counts.get(category(code), 0)),
                        row[3],
                        len(tw & words) / len(tw) if tw else 0.0,
                        float(len(code)),
                        float(ord(code[0]) - ord("A")),
                    ]
                rows.append(row)
                keys.append((i, code))
        return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(self._signals())), keys

    def _scored(self, texts: Sequence[str]) -> list[list[tuple[str, float, np.ndarray]]]:
        if not hasattr(self, "label_model_"):
            raise CodingError("this DiagnosisCoder is not fitted yet: call fit() or load a saved model")
        texts = _check_texts(texts)
        mentions = analyze(texts, self.pipeline) if self.hybrid else [[] for _ in texts]
        x, keys = self._candidates(
            self.label_model_, list(self.classes_), self.train_counts_, texts, mentions
        )
        if self.ranker_ is not None and len(x):
            probs = self.ranker_.predict_proba(x)[:, 1]
        else:
            probs = 1 / (1 + np.exp(-x[:, 0])) if len(x) else np.zeros(0)
        out: list[list[tuple[str, float, np.ndarray]]] = [[] for _ in texts]
        for (i, code), p, row in zip(keys, probs, x, strict=True):
            out[i].append((code, float(p), row))
        for ranked in out:
            ranked.sort(key=lambda t: (-t[1], t[0]))
        return out

    # -- prediction ----------------------------------------------------------------------------------
    def predict_ranked(self, texts: Sequence[str], k: int = 10) -> list[list[tuple[str, float]]]:
        """The `k` most probable codes per text, best first, with calibrated probabilities."""
        return [[(code, round(p, 4)) for code, p, _ in ranked[:k]] for ranked in self._scored(texts)]

    def predict(self, texts: Sequence[str]) -> list[list[str]]:
        """The codes whose probability reaches the threshold tuned in `fit`, best first."""
        return [[code for code, p, _ in ranked if p >= self.threshold_] for ranked in self._scored(texts)]

    def explain(self, text: str, k: int | None = None) -> list[dict[str, Any]]:
        """For each suggested code (those over the threshold, or the top `k`): its probability, the
        signals the ranker saw, and evidence spans in `text`."""
        ranked = self._scored([text])[0]
        chosen = ranked[:k] if k is not None else [r for r in ranked if r[1] >= self.threshold_]
        mentions = analyze([text], self.pipeline)[0] if self.hybrid else []
        titles = kb_titles(self.pipeline)
        out = []
        for code, p, row in chosen:
            evidence: list[dict[str, Any]] = [
                {
                    "start": m.start,
                    "end": m.end,
                    "text": m.text,
                    "source": "linker",
                    "code": m.code,
                    "status": m.status,
                }
                for m in mentions
                if m.code == code or any(c == code for c, _ in m.candidates[:1])
            ]
            if not evidence:
                evidence = [
                    {
                        "start": m.start,
                        "end": m.end,
                        "text": m.text,
                        "source": "linker-category",
                        "code": m.code,
                        "status": m.status,
                    }
                    for m in mentions
                    if m.code and category(m.code) == category(code)
                ]
            terms = self._top_terms(text, code)
            for term, weight in terms:
                for match in _term_matches(text, term):
                    evidence.append(
                        {
                            "start": match[0],
                            "end": match[1],
                            "text": text[match[0] : match[1]],
                            "source": "classifier",
                            "weight": weight,
                        }
                    )
            out.append(
                {
                    "code": code,
                    "title": titles.get(code, ""),
                    "score": round(p, 4),
                    "signals": {
                        name: round(float(v), 4) for name, v in zip(self._signals(), row, strict=True)
                    },
                    "features": [{"feature": t, "contribution": w} for t, w in terms],
                    "evidence": sorted(evidence, key=lambda e: (e["start"], e["end"])),
                }
            )
        return out

    def _top_terms(self, text: str, code: str, k: int = 5) -> list[tuple[str, float]]:
        """The features that raised a linear classifier's score for `code` most in this text."""
        model = self.label_model_
        if model.classifier not in ("logreg", "svm") or model.estimator_ is None:
            return []
        where = np.flatnonzero(self.classes_ == code)
        if not len(where):
            return []
        position = np.flatnonzero(model.columns_ == where[0])
        if not len(position):
            return []
        estimator = model.estimator_.estimators_[int(position[0])]
        coef = getattr(estimator, "coef_", None)
        if coef is None:
            return []
        x = sparse.csr_matrix(model.featurizer_.transform([text]))
        contrib = x.multiply(sparse.csr_matrix(coef.reshape(1, -1))).tocsr()
        names = (
            model.featurizer_.get_feature_names_out()
            if hasattr(model.featurizer_, "get_feature_names_out")
            else None
        )
        if names is None or contrib.nnz == 0:
            return []
        order = np.argsort(-contrib.data)[:k]
        return [
            (str(names[contrib.indices[o]]), round(float(contrib.data[o]), 4))
            for o in order
            if contrib.data[o] > 0
        ]


def _term_matches(text: str, feature: str, limit: int = 3) -> list[tuple[int, int]]:
    """Where a word n-gram feature (`word:chest pain`, possibly prefixed by its featurizer) occurs."""
    name = feature.rsplit("word:", 1)[-1] if "word:" in feature else None
    if not name:
        return []
    pattern = r"\b" + r"\s+".join(re.escape(w) for w in name.split()) + r"\b"
    return [m.span() for m in re.finditer(pattern, text, flags=re.IGNORECASE)][:limit]


def _best_threshold(probs: np.ndarray, y: np.ndarray, n_gold: int) -> tuple[float, float]:
    """The probability cut that maximises micro-F1 (gold codes never proposed count as misses)."""
    if not len(probs) or n_gold == 0:
        return 0.5, 0.0
    order = np.argsort(-probs, kind="stable")
    tp = np.cumsum(y[order])
    predicted = np.arange(1, len(order) + 1)
    f1 = 2 * tp / (predicted + n_gold)
    best = int(np.argmax(f1))
    return float(probs[order][best]), float(f1[best])
