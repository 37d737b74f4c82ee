from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import spacy

from corpora.readers import samples_dir
from nlp_engine.embeddings import WordVectors, attach_vectors, clinical_tokens, train_word2vec
from nlp_engine.embeddings.word2vec import EmbeddingError, apply_phrases, iter_corpus_texts


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    texts = list(iter_corpus_texts(samples_dir()))
    assert len(texts) >= 6
    return texts * 5


def test_clinical_tokens_keep_clinical_units() -> None:
    tokens = clinical_tokens("Tumor 2.3 x 1.5 cm, pT2N0M0, Gleason 3+4=7; s/p resection. Age 64.")
    assert "pt2n0m0" in tokens and "3+4=7" in tokens and "s/p" in tokens
    assert "<num>" in tokens and "." not in tokens and "," not in tokens


def test_apply_phrases_joins_known_pairs_left_to_right() -> None:
    assert apply_phrases(["lymph", "node", "negative"], {"lymph_node"}) == ["lymph_node", "negative"]
    assert apply_phrases(["a", "b", "c"], {"b_c", "a_b"}) == ["a_b", "c"]


def test_training_is_deterministic_with_a_seed(corpus: list[str]) -> None:
    a = train_word2vec(corpus, vector_size=20, epochs=3, min_count=2, seed=7)
    b = train_word2vec(corpus, vector_size=20, epochs=3, min_count=2, seed=7)
    assert a.keyed_vectors.index_to_key == b.keyed_vectors.index_to_key
    assert np.array_equal(a.keyed_vectors.vectors, b.keyed_vectors.vectors)
    c = train_word2vec(corpus, vector_size=20, epochs=3, min_count=2, seed=8)
    assert not np.array_equal(a.keyed_vectors.vectors, c.keyed_vectors.vectors)
    assert a.meta["algorithm"] == "skip-gram"
    assert train_word2vec(corpus, sg=False, vector_size=20, epochs=1).meta["algorithm"] == "cbow"


def test_save_load_and_neighbours(corpus: list[str], tmp_path: Path) -> None:
    vectors = train_word2vec(corpus, vector_size=20, epochs=3, seed=1)
    vectors.save(tmp_path / "v")
    loaded = WordVectors.load(tmp_path / "v")
    assert loaded.phrases == vectors.phrases
    word = vectors.keyed_vectors.index_to_key[0]
    assert np.allclose(loaded.keyed_vectors[word], vectors.keyed_vectors[word])
    neighbours = loaded.most_similar(word, k=3)
    assert len(neighbours) == 3 and all(w != word for w, _ in neighbours)
    with pytest.raises(KeyError, match="not in the vocabulary"):
        loaded.most_similar("zzzunseenzzz")
    assert loaded.doc_vector("zzzunseenzzz").tolist() == [0.0] * 20


def test_vectors_in_a_spacy_pipeline(corpus: list[str]) -> None:
    vectors = train_word2vec(corpus, vector_size=20, epochs=2, seed=1, phrases=False)
    word = next(w for w in vectors.keyed_vectors.index_to_key if w.isalpha() and len(w) > 4)
    nlp = attach_vectors(spacy.blank("en"), vectors)
    doc = nlp(f"{word.upper()} noted")
    assert np.allclose(doc[0].vector, vectors.keyed_vectors[word])
    assert doc[0].has_vector and doc.vector.shape == (20,)


def test_bad_corpora_and_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingError, match="no tokens"):
        train_word2vec(["", "  ", "..."])
    with pytest.raises(EmbeddingError, match="min_count"):
        train_word2vec(["one two three"], min_count=5, phrases=False)
    with pytest.raises(FileNotFoundError, match="not a word-vector directory"):
        WordVectors.load(tmp_path)
    (tmp_path / "vectors.bin").write_bytes(b"\x00\x01 not vectors")
    (tmp_path / "meta.json").write_text('{"format": "nlp_engine.word2vec.v1"}')
    with pytest.raises(EmbeddingError, match="not a word2vec binary file"):
        WordVectors.load(tmp_path)
