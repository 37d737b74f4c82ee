from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nlp_engine.embeddings import TransformerEncoder, default_model_dir
from nlp_engine.embeddings.transformer import pick_device, sentence_spans
from nlp_engine.errors import MissingResourceError, SpanError


@pytest.fixture(scope="module")
def encoder() -> TransformerEncoder:
    return TransformerEncoder(max_length=64)


def test_default_model_is_the_bundled_minilm_and_device_falls_back() -> None:
    assert (default_model_dir() / "config.json").exists()
    import torch

    assert pick_device() == ("cuda" if torch.cuda.is_available() else "cpu")
    assert pick_device("cpu") == "cpu"


def test_similar_texts_are_closer(encoder: TransformerEncoder) -> None:
    v = encoder.encode(
        ["The patient has high blood pressure.", "Hypertension is present.", "The invoice is overdue."]
    )
    assert v.shape == (3, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2


def test_long_texts_are_chunked_by_sentence_and_empty_text_is_zero(encoder: TransformerEncoder) -> None:
    sentences = [f"Finding number {i} shows a benign cyst of the left kidney." for i in range(40)]
    before = encoder.stats["chunks"]
    v = encoder.encode([" ".join(sentences), "", "   "])
    assert encoder.stats["chunks"] - before > 3  # 40 sentences do not fit one 64-token window
    assert np.isfinite(v).all() and np.linalg.norm(v[0]) == pytest.approx(1.0, abs=1e-5)
    assert not v[1].any() and not v[2].any()
    # one sentence longer than the window is cut by tokens, not dropped
    long_sentence = "word " * 500
    assert np.linalg.norm(encoder.encode([long_sentence])[0]) == pytest.approx(1.0, abs=1e-5)


def test_batching_does_not_change_vectors(encoder: TransformerEncoder) -> None:
    texts = ["Short.", "A much longer sentence about chronic obstructive pulmonary disease and oxygen."]
    together = encoder.encode(texts)
    alone = np.vstack([encoder.encode([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-5)


def test_span_embeddings(encoder: TransformerEncoder) -> None:
    text = "No fever. Severe hypertension was treated with lisinopril."
    start = text.index("hypertension")
    spans = encoder.encode_spans(text, [(start, start + len("hypertension")), (3, 8)])
    assert spans.shape == (2, 384)
    reference = encoder.encode(["hypertension", "fever"])
    assert spans[0] @ reference[0] > spans[0] @ reference[1]
    with pytest.raises(SpanError):
        encoder.encode_spans(text, [(10, 5)])
    with pytest.raises(SpanError):
        encoder.encode_spans(text, [(0, len(text) + 1)])


def test_disk_cache_is_keyed_by_text(tmp_path: Path) -> None:
    first = TransformerEncoder(max_length=64, cache_dir=tmp_path)
    vector = first.encode(["Pneumonia of the right lower lobe."])
    assert len(list(tmp_path.rglob("*.npy"))) == 1
    second = TransformerEncoder(max_length=64, cache_dir=tmp_path)
    again = second.encode(["Pneumonia of the right lower lobe."])
    assert second.stats["cache_hits"] == 1 and second.stats["chunks"] == 0
    assert np.array_equal(vector, again)


def test_a_folder_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MissingResourceError, match="not a Hugging Face model directory"):
        TransformerEncoder(tmp_path)


def test_sentence_spans() -> None:
    text = "One. Two!\nThree: four"
    assert [text[s:e] for s, e in sentence_spans(text)] == ["One.", "Two!", "Three:", "four"]
