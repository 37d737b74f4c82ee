"""Word2Vec (gensim) over the clinical tokenizer's tokens, with phrases for multi-word terms.

Tokens are lower-cased clinical tokens (so `2.3 x 1.5 cm`, `pT2N0M0` and `3+4=7` stay whole); pure
punctuation is dropped; numbers become `<num>` unless they are part of a clinical token. Phrases
(`squamous_cell`, `lymph_node`) are learned with gensim's `Phrases` and applied by one greedy left-to-
right pass over adjacent pairs, the same at training and at look-up time.

Saved as a directory: `vectors.bin` (word2vec binary format, read by gensim without unpickling) and
`meta.json` (phrases, training settings, corpus counts).
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EmbeddingError, MissingResourceError

_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
_PUNCT = re.compile(r"^\W+$")
_SPACE = re.compile(r"\s+")
PHRASE_JOIN = "_"


@functools.cache
def _tokenizer() -> Any:
    import spacy

    from ..components.tokenizer import create_clinical_tokenizer

    nlp = spacy.blank("en")
    nlp.tokenizer = create_clinical_tokenizer()(nlp)
    return nlp.tokenizer


def clinical_tokens(text: str) -> list[str]:
    """The lower-cased clinical tokens of `text` that Word2Vec sees (no punctuation, numbers as `<num>`)."""
    out = []
    for token in _tokenizer()(text):
        word = _SPACE.sub(PHRASE_JOIN, token.text.lower())  # `2.3 x 1.5 cm` is one token: no spaces in keys
        if token.is_space or _PUNCT.match(word):
            continue
        out.append("<num>" if _NUMBER.match(word) else word)
    return out


def apply_phrases(tokens: Sequence[str], phrases: frozenset[str] | set[str]) -> list[str]:
    """Join adjacent tokens whose pair is a learned phrase (one greedy pass, left to right)."""
    if not phrases:
        return list(tokens)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if i + 1 < len(tokens) and f"{tokens[i]}{PHRASE_JOIN}{tokens[i + 1]}" in phrases:
            out.append(f"{tokens[i]}{PHRASE_JOIN}{tokens[i + 1]}")
            i += 2
        else:
            out.append(tokens[i])
            i += 1
    return out


@dataclass
class WordVectors:
    """Trained word vectors: a gensim `KeyedVectors`, the phrases used, and how they were made."""

    keyed_vectors: Any
    phrases: frozenset[str] = frozenset()
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return int(self.keyed_vectors.vector_size)

    def tokens(self, text: str) -> list[str]:
        return apply_phrases(clinical_tokens(text), self.phrases)

    def most_similar(self, term: str, k: int = 10) -> list[tuple[str, float]]:
        """Nearest neighbours of a word or a multi-word term (its tokens joined as a phrase when known,
        else their mean vector). An unknown term raises `KeyError` naming it."""
        kv = self.keyed_vectors
        tokens = [term] if term in kv.key_to_index else self.tokens(term)
        known = [t for t in tokens if t in kv.key_to_index]
        if not known:
            raise KeyError(f"{term!r} is not in the vocabulary ({len(kv.key_to_index)} words)")
        return [(w, round(float(s), 4)) for w, s in kv.most_similar(positive=known, topn=k)]

    def doc_vector(self, text: str) -> np.ndarray:
        """Mean of the known tokens' vectors (zeros when none is known)."""
        kv = self.keyed_vectors
        rows = [kv.key_to_index[t] for t in self.tokens(text) if t in kv.key_to_index]
        if not rows:
            return np.zeros(self.dim, dtype=np.float32)
        return np.asarray(kv.vectors[rows].mean(axis=0), dtype=np.float32)

    def save(self, out: str | Path) -> Path:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        self.keyed_vectors.save_word2vec_format(str(out / "vectors.bin"), binary=True)
        meta = {**self.meta, "phrases": sorted(self.phrases), "format": "nlp_engine.word2vec.v1"}
        (out / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return out

    @classmethod
    def load(cls, path: str | Path) -> WordVectors:
        from gensim.models import KeyedVectors

        path = Path(path)
        if not (path / "vectors.bin").exists() or not (path / "meta.json").exists():
            raise MissingResourceError(
                f"{path}: not a word-vector directory (vectors.bin and meta.json expected; "
                "make one with `nlp-engine embed train-word2vec`)"
            )
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != "nlp_engine.word2vec.v1":
            raise EmbeddingError(f"{path}/meta.json: unknown format {meta.get('format')!r}")
        try:
            kv = KeyedVectors.load_word2vec_format(str(path / "vectors.bin"), binary=True)
        except (ValueError, EOFError, UnicodeDecodeError) as exc:
            raise EmbeddingError(
                f"{path}/vectors.bin: not a word2vec binary file ({type(exc).__name__})"
            ) from None
        phrases = frozenset(meta.pop("phrases", []))
        return cls(kv, phrases, meta)


def train_word2vec(
    texts: Iterable[str],
    *,
    sg: bool = True,
    vector_size: int = 100,
    window: int = 5,
    min_count: int = 2,
    epochs: int = 10,
    phrases: bool = True,
    phrase_threshold: float = 10.0,
    seed: int = 0,
    workers: int = 1,
) -> WordVectors:
    """Train Word2Vec (skip-gram when `sg`, else CBOW) on the clinical tokens of `texts`.

    With one worker and a fixed seed the vectors are identical run to run (gensim's own guarantee also
    needs PYTHONHASHSEED fixed: we pass a seeded hash function, so it does not)."""
    from gensim.models import Word2Vec
    from gensim.models.phrases import Phrases

    started = time.perf_counter()
    sentences = [clinical_tokens(t) for t in texts]
    sentences = [s for s in sentences if s]
    n_tokens = sum(len(s) for s in sentences)
    if n_tokens == 0:
        raise EmbeddingError("no tokens to train on: the corpus is empty or has no words")
    learned: frozenset[str] = frozenset()
    if phrases:
        model = Phrases(
            sentences, min_count=max(min_count, 3), threshold=phrase_threshold, delimiter=PHRASE_JOIN
        )
        learned = frozenset(model.export_phrases())
        sentences = [apply_phrases(s, learned) for s in sentences]
    counts = Counter(t for s in sentences for t in s)
    if not any(n >= min_count for n in counts.values()):
        raise EmbeddingError(f"no word occurs {min_count} times or more: lower min_count or add text")
    w2v = Word2Vec(
        sentences=sentences,
        sg=int(sg),
        vector_size=vector_size,
        window=window,
        min_count=min_count,
        epochs=epochs,
        seed=seed,
        workers=workers,
        hashfxn=_seeded_hash,
    )
    meta = {
        "algorithm": "skip-gram" if sg else "cbow",
        "vector_size": vector_size,
        "window": window,
        "min_count": min_count,
        "epochs": epochs,
        "seed": seed,
        "documents": len(sentences),
        "tokens": n_tokens,
        "vocabulary": len(w2v.wv),
        "phrase_count": len(learned),
        "train_seconds": round(time.perf_counter() - started, 2),
    }
    return WordVectors(w2v.wv, learned, meta)


def _seeded_hash(text: str) -> int:
    """A hash independent of PYTHONHASHSEED, for gensim's per-word vector initialisation."""
    import zlib

    return zlib.crc32(text.encode("utf-8"))


def attach_vectors(nlp: Any, vectors: WordVectors) -> Any:
    """Give a spaCy pipeline these vectors, so `token.vector`, `token.similarity` and `doc.vector` work.

    spaCy looks vectors up by the token's `lower_` (lexeme attribute `LOWER`), which is how they were
    trained; phrase vectors are kept under their joined key. Returns `nlp`."""
    from spacy.vectors import Vectors

    kv = vectors.keyed_vectors
    keys = list(kv.index_to_key)
    table = Vectors(data=np.asarray(kv.vectors, dtype=np.float32), keys=keys, attr="LOWER")
    for key in keys:
        nlp.vocab.strings.add(key)
    nlp.vocab.vectors = table
    return nlp


def iter_corpus_texts(
    source: str | Path, *, text_column: str | None = None, skipped: list[str] | None = None
) -> Iterator[str]:
    """Texts of every readable document under `source` (a file or folder, any format the batch readers
    take); the ids of unreadable inputs are appended to `skipped` (never their content)."""
    from corpora.readers import iter_records

    for record in iter_records(source, text_column=text_column):
        if record.text is None:
            if skipped is not None:
                skipped.append(record.id)
        elif record.text.strip():
            yield record.text
