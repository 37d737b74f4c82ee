"""Text featurizers that follow the scikit-learn transformer API (`fit` returns self, `clone` works,
nothing but plain data is kept after `fit`, so a fitted model saves with skops).

- `TfidfFeatures`: TF-IDF over word n-grams (`"tfidf"`), joined with character n-grams within word
  boundaries (`"tfidf-char"`: a little better on CodiEsp, eight times slower to train).
- `Word2VecFeatures`: mean of Word2Vec vectors, from a saved `nlp-engine embed train-word2vec` directory
  or trained on the texts given to `fit`.
- `TransformerFeatures`: mean-pooled embeddings from a local Hugging Face encoder directory.
- `ConceptFeatures`: the pipeline's ICD-10-CM concepts as counts (`code=`, `cat=`), only for mentions
  whose ConText status is kept (present and historical by default), so negated findings do not count;
  negated ones get their own `neg=` features.

`make_featurizer("tfidf+concepts")` joins several with a `FeatureUnion`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import normalize

from .analysis import analyze
from .codes import CodingError, category

FEATURIZERS = ("tfidf", "tfidf-char", "word2vec", "transformer", "concepts")
_TOKEN_PATTERN = r"(?u)\b\w[\w+./-]*\w\b|\b\w\b"


class TfidfFeatures(BaseEstimator, TransformerMixin):
    """Word n-gram TF-IDF (sublinear tf) joined with character n-gram TF-IDF, rows L2-normalised."""

    def __init__(
        self,
        word_ngrams: tuple[int, int] = (1, 2),
        char_ngrams: tuple[int, int] | None = (3, 5),
        min_df: int = 2,
        max_features: int | None = 200_000,
    ) -> None:
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.min_df = min_df
        self.max_features = max_features

    def fit(self, texts: Sequence[str], y: Any = None) -> TfidfFeatures:
        min_df = self.min_df if len(texts) >= 5 * self.min_df else 1
        self.word_ = TfidfVectorizer(
            sublinear_tf=True,
            ngram_range=tuple(self.word_ngrams),
            min_df=min_df,
            max_features=self.max_features,
            token_pattern=_TOKEN_PATTERN,
            dtype=np.float32,
        ).fit(texts)
        self.char_ = (
            TfidfVectorizer(
                sublinear_tf=True,
                analyzer="char_wb",
                ngram_range=tuple(self.char_ngrams),
                min_df=min_df,
                max_features=self.max_features,
                dtype=np.float32,
            ).fit(texts)
            if self.char_ngrams
            else None
        )
        return self

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        parts = [self.word_.transform(texts)]
        if self.char_ is not None:
            parts.append(self.char_.transform(texts))
        return normalize(sparse.hstack(parts).tocsr())

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = [f"word:{n}" for n in self.word_.get_feature_names_out()]
        if self.char_ is not None:
            names += [f"char:{n}" for n in self.char_.get_feature_names_out()]
        return np.asarray(names, dtype=object)


class Word2VecFeatures(BaseEstimator, TransformerMixin):
    """Mean Word2Vec vector of a text's tokens (L2-normalised). `vectors` is a directory saved by
    `nlp-engine embed train-word2vec`; without one, vectors are trained on the texts given to `fit`."""

    def __init__(
        self, vectors: str | None = None, vector_size: int = 100, epochs: int = 10, seed: int = 0
    ) -> None:
        self.vectors = vectors
        self.vector_size = vector_size
        self.epochs = epochs
        self.seed = seed

    def fit(self, texts: Sequence[str], y: Any = None) -> Word2VecFeatures:
        from ..embeddings.word2vec import WordVectors, train_word2vec

        wv = (
            WordVectors.load(self.vectors)
            if self.vectors
            else train_word2vec(texts, vector_size=self.vector_size, epochs=self.epochs, seed=self.seed)
        )
        self.vocabulary_ = {w: i for i, w in enumerate(wv.keyed_vectors.index_to_key)}
        self.matrix_ = np.asarray(wv.keyed_vectors.vectors, dtype=np.float32)
        self.phrases_ = sorted(wv.phrases)
        return self

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        from ..embeddings.word2vec import apply_phrases, clinical_tokens

        phrases = frozenset(self.phrases_)
        out = np.zeros((len(texts), self.matrix_.shape[1]), dtype=np.float32)
        for i, text in enumerate(texts):
            rows = [
                self.vocabulary_[t]
                for t in apply_phrases(clinical_tokens(text), phrases)
                if t in self.vocabulary_
            ]
            if rows:
                out[i] = self.matrix_[rows].mean(axis=0)
        return normalize(out)


@functools.lru_cache(maxsize=4)
def _encoder(model_dir: str | None, device: str | None, cache_dir: str | None) -> Any:
    from ..embeddings.transformer import TransformerEncoder

    return TransformerEncoder(model_dir, device=device, cache_dir=cache_dir)


class TransformerFeatures(BaseEstimator, TransformerMixin):
    """Mean-pooled transformer embeddings (see `nlp_engine.embeddings.TransformerEncoder`). Only the
    model directory's path is saved with a fitted model, never the weights."""

    def __init__(
        self, model_dir: str | None = None, device: str | None = None, cache_dir: str | None = None
    ) -> None:
        self.model_dir = model_dir
        self.device = device
        self.cache_dir = cache_dir

    def fit(self, texts: Sequence[str], y: Any = None) -> TransformerFeatures:
        encoder = _encoder(self.model_dir, self.device, self.cache_dir)
        self.dim_ = encoder.dim
        self.model_identity_ = encoder.identity
        return self

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        encoder = _encoder(self.model_dir, self.device, self.cache_dir)
        if encoder.identity != self.model_identity_:
            raise CodingError(
                f"the transformer model at {encoder.model_dir} is not the one this model was fitted with"
            )
        return encoder.encode(list(texts))


def concept_counts(mentions: Sequence[Any], keep: Sequence[str]) -> dict[str, float]:
    counts: dict[str, float] = {}
    for m in mentions:
        if not m.code:
            continue
        prefix = "" if m.status in keep else ("neg=" if m.status == "negated" else "other=")
        for key in (f"{prefix}code={m.code}", f"{prefix}cat={category(m.code)}"):
            counts[key] = counts.get(key, 0.0) + 1.0
    return counts


class ConceptFeatures(BaseEstimator, TransformerMixin):
    """Counts of the pipeline's linked ICD-10-CM codes and categories, split by ConText status."""

    def __init__(self, pipeline: str = "clinical", keep: tuple[str, ...] = ("present", "historical")) -> None:
        self.pipeline = pipeline
        self.keep = keep

    def _dicts(self, texts: Sequence[str]) -> list[dict[str, float]]:
        return [concept_counts(m, self.keep) for m in analyze(texts, self.pipeline)]

    def fit(self, texts: Sequence[str], y: Any = None) -> ConceptFeatures:
        self.vectorizer_ = DictVectorizer(dtype=np.float32).fit(self._dicts(texts))
        return self

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        matrix = self.vectorizer_.transform(self._dicts(texts))
        matrix.data = np.log1p(matrix.data)
        return normalize(matrix.tocsr())

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray([f"concept:{n}" for n in self.vectorizer_.get_feature_names_out()], dtype=object)


def make_featurizer(spec: str, **options: Any) -> Any:
    """A featurizer from a name or names joined by `+` (`"tfidf"`, `"tfidf+concepts"`, `"transformer"`).
    `options` may carry `vectors` (Word2Vec directory), `model_dir`, `device`, `cache_dir`, `pipeline`."""
    names = [n.strip() for n in spec.split("+") if n.strip()]
    unknown = [n for n in names if n not in FEATURIZERS]
    if not names or unknown:
        raise CodingError(
            f"unknown featurizer {spec!r}; choose from {', '.join(FEATURIZERS)} (joined with +)"
        )
    parts: list[tuple[str, Any]] = []
    for name in names:
        if name == "tfidf":
            parts.append((name, TfidfFeatures(char_ngrams=None)))
        elif name == "tfidf-char":
            parts.append((name, TfidfFeatures(char_ngrams=(3, 5))))
        elif name == "word2vec":
            parts.append((name, Word2VecFeatures(vectors=options.get("vectors"))))
        elif name == "transformer":
            parts.append(
                (
                    name,
                    TransformerFeatures(
                        model_dir=_str(options.get("model_dir")),
                        device=options.get("device"),
                        cache_dir=_str(options.get("cache_dir")),
                    ),
                )
            )
        else:
            parts.append((name, ConceptFeatures(pipeline=options.get("pipeline", "clinical"))))
    return parts[0][1] if len(parts) == 1 else FeatureUnion(parts)


def _str(value: str | Path | None) -> str | None:
    return None if value is None else str(value)
