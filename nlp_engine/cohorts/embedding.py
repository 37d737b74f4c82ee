"""Report embeddings for cohort work: rows L2-normalised, so a dot product is the cosine similarity (a
report with no term the embedder knows is a zero row: similar to nothing).

- `"lsa"` (default): word TF-IDF reduced by truncated SVD (latent semantic analysis) to `dims`
  dimensions; fast on CPU, fitted on the reports it will index.
- `"transformer"`: mean-pooled sentence-chunked embeddings from a local Hugging Face encoder
  (`nlp_engine.embeddings.TransformerEncoder`, the bundled MiniLM by default).
- `"word2vec"`: mean Word2Vec vectors, from a saved vectors directory or trained on the reports.

`ReportEmbedder` follows the scikit-learn API (`fit` returns self, `clone` works) and saves with skops.
The word TF-IDF it keeps (`terms_`) also describes clusters by their top terms.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import normalize

from ..errors import CohortError

EMBEDDINGS = ("lsa", "transformer", "word2vec")


class ReportEmbedder(BaseEstimator, TransformerMixin):
    def __init__(
        self,
        embedding: str = "lsa",
        dims: int = 100,
        model_dir: str | None = None,
        vectors: str | None = None,
        device: str | None = None,
        random_state: int = 0,
    ) -> None:
        self.embedding = embedding
        self.dims = dims
        self.model_dir = model_dir
        self.vectors = vectors
        self.device = device
        self.random_state = random_state

    def fit(self, texts: Sequence[str], y: Any = None) -> ReportEmbedder:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        if self.embedding not in EMBEDDINGS:
            raise CohortError(f"unknown embedding {self.embedding!r}; choose from {', '.join(EMBEDDINGS)}")
        if len(texts) < 3:
            raise CohortError(f"cohort embeddings need at least 3 reports, got {len(texts)}")
        self.terms_ = TfidfVectorizer(
            sublinear_tf=True,
            stop_words="english",
            min_df=2 if len(texts) >= 10 else 1,
            max_df=0.5,
            token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z-]{2,}\b",
            dtype=np.float32,
        ).fit(texts)
        if self.embedding == "lsa":
            matrix = self.terms_.transform(texts)
            dims = max(1, min(self.dims, matrix.shape[1] - 1, len(texts) - 1))
            self.svd_ = TruncatedSVD(dims, random_state=self.random_state).fit(matrix)
        elif self.embedding == "transformer":
            from ..coding.features import TransformerFeatures

            self.encoder_ = TransformerFeatures(model_dir=self.model_dir, device=self.device).fit(texts)
        else:
            from ..coding.features import Word2VecFeatures

            self.encoder_ = Word2VecFeatures(vectors=self.vectors).fit(texts)
        return self

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        if self.embedding == "lsa":
            dense = self.svd_.transform(self.terms_.transform(texts))
        else:
            dense = np.asarray(self.encoder_.transform(texts))
        return normalize(np.asarray(dense, dtype=np.float32))
