"""Similar cases and code recommendation.

`CaseIndex.build(texts, ids, codes)` embeds a set of cases (`ReportEmbedder`); `query(text, k)` gives
the `k` most similar cases (cosine similarity) with their codes; `recommend_codes(text)` ranks codes by
the similarity-weighted votes of the nearest cases (codes never need to have been trained on: any
code a similar case carries can be suggested). Saved safely with skops and a model card
(`nlp_engine.model_files`).

`CodeRecommender` is item-based collaborative filtering over the case-by-code matrix: the similarity of
two codes is the cosine of their case columns (shrunk towards zero when few cases hold both), and a
case's known codes vote for the codes most similar to them ("patients coded with these are also
coded with ...").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import model_files
from ..errors import CohortError
from .embedding import ReportEmbedder

CARD_FORMAT = "nlp_engine.case_index.v1"


class CodeRecommender:
    """See the module docstring. `shrinkage` damps similarities resting on few shared cases."""

    def __init__(self, shrinkage: float = 5.0) -> None:
        self.shrinkage = shrinkage

    def fit(self, code_lists: Sequence[Sequence[str]]) -> CodeRecommender:
        from scipy import sparse

        self.codes_ = sorted({c for codes in code_lists for c in codes})
        if not self.codes_:
            raise CohortError("no codes to learn from: every case has an empty code list")
        index = {c: i for i, c in enumerate(self.codes_)}
        rows, cols = [], []
        for r, codes in enumerate(code_lists):
            for c in set(codes):
                rows.append(r)
                cols.append(index[c])
        matrix = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(code_lists), len(self.codes_))
        )
        co = (matrix.T @ matrix).tocsr()
        counts = np.asarray(co.diagonal()).ravel()
        co = co.tocoo()
        keep = co.row != co.col
        r, c, both = co.row[keep], co.col[keep], co.data[keep]
        cosine = both / np.sqrt(counts[r] * counts[c])
        weight = cosine * both / (both + self.shrinkage)
        self.similarity_ = sparse.csr_matrix((weight, (r, c)), shape=(len(self.codes_), len(self.codes_)))
        self.index_ = index
        return self

    def recommend(self, known: Sequence[str], k: int = 10) -> list[tuple[str, float]]:
        rows = [self.index_[c] for c in set(known) if c in self.index_]
        if not rows:
            return []
        scores = np.asarray(self.similarity_[rows].sum(axis=0)).ravel()
        scores[rows] = 0.0
        order = np.argsort(-scores)[:k]
        return [(self.codes_[i], round(float(scores[i]), 4)) for i in order if scores[i] > 0]


class CaseIndex:
    def __init__(self, embedder: ReportEmbedder, matrix: np.ndarray, ids: list[str], codes: list[list[str]]):
        self.embedder = embedder
        self.matrix = matrix
        self.ids = ids
        self.codes = codes
        self._recommender: CodeRecommender | None = None

    @classmethod
    def build(
        cls,
        texts: Sequence[str],
        ids: Sequence[str] | None = None,
        codes: Sequence[Sequence[str]] | None = None,
        *,
        embedder: ReportEmbedder | None = None,
    ) -> CaseIndex:
        texts = list(texts)
        ids = [str(i) for i in ids] if ids is not None else [str(i) for i in range(len(texts))]
        if len(ids) != len(texts) or (codes is not None and len(codes) != len(texts)):
            raise CohortError(f"{len(texts)} texts but {len(ids)} ids / {len(codes or texts)} code lists")
        if len(set(ids)) != len(ids):
            raise CohortError("case ids must be unique")
        if codes is None:
            from .clusters import linker_codes

            codes = linker_codes(texts)
        embedder = (embedder or ReportEmbedder()).fit(texts)
        return cls(embedder, embedder.transform(texts), ids, [list(c) for c in codes])

    def _similarities(self, text: str) -> np.ndarray:
        return self.matrix @ self.embedder.transform([text])[0]

    def query(self, text: str, k: int = 10, *, exclude: str | None = None) -> list[dict[str, Any]]:
        """The `k` most similar cases: `{"id", "similarity", "codes"}`, most similar first."""
        sims = self._similarities(text)
        order = np.argsort(-sims)
        out = []
        for i in order:
            if exclude is not None and self.ids[i] == exclude:
                continue
            out.append({"id": self.ids[i], "similarity": round(float(sims[i]), 4), "codes": self.codes[i]})
            if len(out) == k:
                break
        return out

    def recommend_codes(
        self, text: str, k: int = 10, *, neighbours: int = 20, exclude: str | None = None
    ) -> list[tuple[str, float]]:
        """Codes ranked by the summed similarity of the nearest cases that carry them (normalised by
        the neighbours' total similarity, so a score reads as a weighted share of similar cases)."""
        near = self.query(text, neighbours, exclude=exclude)
        votes: dict[str, float] = defaultdict(float)
        total = sum(max(n["similarity"], 0.0) for n in near) or 1.0
        for n in near:
            for code in set(n["codes"]):
                votes[code] += max(n["similarity"], 0.0) / total
        return [(c, round(s, 4)) for c, s in sorted(votes.items(), key=lambda kv: -kv[1])[:k]]

    def recommend_from_codes(self, known: Sequence[str], k: int = 10) -> list[tuple[str, float]]:
        """Item-based collaborative filtering over the indexed cases' codes (`CodeRecommender`)."""
        if self._recommender is None:
            self._recommender = CodeRecommender().fit(self.codes)
        return self._recommender.recommend(known, k)

    def save(self, out: str | Path, *, card: dict[str, Any] | None = None) -> Path:
        state = {"embedder": self.embedder, "matrix": self.matrix, "ids": self.ids, "codes": self.codes}
        full = {
            "cases": len(self.ids),
            "embedding": self.embedder.embedding,
            "dimensions": int(self.matrix.shape[1]),
            **(card or {}),
        }
        return model_files.save_model(state, out, fmt=CARD_FORMAT, card=full)

    @classmethod
    def load(cls, path: str | Path) -> CaseIndex:
        state, _ = model_files.load_model(
            path,
            fmt=CARD_FORMAT,
            error=CohortError,
            what="case index",
            trusted=("nlp_engine.cohorts.", "nlp_engine.coding."),
            retrain="`nlp-engine cohort index`",
        )
        return cls(state["embedder"], state["matrix"], list(state["ids"]), [list(c) for c in state["codes"]])
