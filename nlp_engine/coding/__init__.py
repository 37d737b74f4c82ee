"""Diagnosis coding: ranked ICD-10-CM codes with evidence, learned from coded documents.

- `DiagnosisCoder`: scikit-learn estimator (`fit(texts, code_lists)`, `predict`, `predict_ranked`,
  `explain`), hybrid of a classifier, nearest neighbours and the rule-based linker (see `coder`).
- Featurizers: `TfidfFeatures`, `Word2VecFeatures`, `TransformerFeatures`, `ConceptFeatures`,
  `make_featurizer("tfidf+concepts")`.
- `save_coder` / `load_coder`: skops model plus a model card, with a SHA-256 check on load.
- Metrics: `mean_average_precision` (as the CodiEsp script computes it), `precision_at_k`,
  `multilabel_scores`.
"""

from __future__ import annotations

from .coder import CLASSIFIERS, DiagnosisCoder
from .codes import CodingError, clean_code_lists, normalize_code
from .features import (
    FEATURIZERS,
    ConceptFeatures,
    TfidfFeatures,
    TransformerFeatures,
    Word2VecFeatures,
    make_featurizer,
)
from .metrics import mean_average_precision, multilabel_scores, precision_at_k
from .model_io import load_coder, save_coder

__all__ = [
    "CLASSIFIERS",
    "FEATURIZERS",
    "CodingError",
    "ConceptFeatures",
    "DiagnosisCoder",
    "TfidfFeatures",
    "TransformerFeatures",
    "Word2VecFeatures",
    "clean_code_lists",
    "load_coder",
    "make_featurizer",
    "mean_average_precision",
    "multilabel_scores",
    "normalize_code",
    "precision_at_k",
    "save_coder",
]
