from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone

from nlp_engine.coding import (
    CLASSIFIERS,
    CodingError,
    ConceptFeatures,
    DiagnosisCoder,
    load_coder,
    save_coder,
)

HYPERTENSIVE = "Severe essential hypertension today, blood pressure 170/100, lisinopril increased."


def test_ranked_codes_are_probabilities_best_first(fitted_coder: DiagnosisCoder) -> None:
    ranked = fitted_coder.predict_ranked(
        [HYPERTENSIVE, "Pneumonia of the left lower lobe on chest x-ray."], k=5
    )
    assert ranked[0][0][0] == "I10"
    assert ranked[1][0][0] == "J18.9"
    for row in ranked:
        scores = [s for _, s in row]
        assert scores == sorted(scores, reverse=True)
        assert all(0.0 <= s <= 1.0 for s in scores)
    assert fitted_coder.predict([HYPERTENSIVE])[0][0] == "I10"


def test_the_linker_suggests_codes_never_seen_in_training(fitted_coder: DiagnosisCoder) -> None:
    text = "Acute appendicitis confirmed at surgery; appendectomy performed."
    codes = [c for c, _ in fitted_coder.predict_ranked([text], k=200)[0]]
    assert any(c.startswith("K35") for c in codes)
    assert not any(c.startswith("K35") for c in fitted_coder.classes_)


def test_explain_gives_evidence_spans_and_signals(fitted_coder: DiagnosisCoder) -> None:
    explained = fitted_coder.explain(HYPERTENSIVE, k=3)
    top = explained[0]
    assert top["code"] == "I10" and top["title"]
    assert top["signals"]["learned_code"] == 1.0
    assert top["evidence"], "a suggestion without evidence"
    for span in top["evidence"]:
        assert HYPERTENSIVE[span["start"] : span["end"]] == span["text"]
    linker = [e for e in top["evidence"] if e["source"] == "linker"]
    assert linker and linker[0]["status"] == "present" and "hypertension" in linker[0]["text"].lower()
    assert any(f["contribution"] > 0 for f in top["features"])


def test_negated_findings_do_not_count_as_concepts() -> None:
    features = ConceptFeatures().fit(["Hypertension.", "No pneumonia.", "Denies hypertension."])
    names = list(features.get_feature_names_out())
    assert "concept:code=I10" in names
    assert "concept:neg=code=J18.9" in names and "concept:code=J18.9" not in names
    row = features.transform(["The patient denies hypertension."]).toarray()[0]
    assert row[names.index("concept:code=I10")] == 0.0
    assert row[names.index("concept:neg=code=I10")] > 0.0


def test_follows_the_scikit_learn_api(coded_notes: tuple[list[str], list[list[str]]]) -> None:
    coder = DiagnosisCoder(classifier="svm", neighbors=5, inner_folds=2)
    copy = clone(coder)
    assert copy.get_params() == coder.get_params()
    texts, codes = coded_notes
    assert coder.fit(texts, codes) is coder
    assert not hasattr(copy, "classes_")


@pytest.mark.parametrize("classifier", CLASSIFIERS)
def test_every_classifier_ranks_the_right_code_high(
    classifier: str, coded_notes: tuple[list[str], list[list[str]]]
) -> None:
    texts, codes = coded_notes
    coder = DiagnosisCoder(classifier=classifier, inner_folds=3).fit(texts, codes)
    top = [
        c
        for c, _ in coder.predict_ranked(["Type 2 diabetes mellitus, metformin continued, HbA1c 7.9%."], k=3)[
            0
        ]
    ]
    assert "E11.9" in top


def test_plain_mode_uses_only_the_classifier(coded_notes: tuple[list[str], list[list[str]]]) -> None:
    texts, codes = coded_notes
    coder = DiagnosisCoder(hybrid=False, inner_folds=3).fit(texts, codes)
    ranked = coder.predict_ranked(["Acute appendicitis confirmed at surgery."], k=100)[0]
    assert {c for c, _ in ranked} <= set(coder.classes_)


@pytest.mark.parametrize(
    ("texts", "codes", "message"),
    [
        ([], [], "at least 2"),
        (["a", "b"], [["I10"]], "2 texts but 1 code lists"),
        (["a", "b"], [[], []], "no codes"),
        (["Hypertension.", "High blood pressure."], [["I10"], ["I10"]], "single class"),
        (["a", "b"], [["I10"], ["bogus!"]], "malformed"),
        (["a", None], [["I10"], []], "not a string"),
        ("one text", [["I10"]], "not one string"),
    ],
)
def test_bad_training_input_is_a_clear_error(texts: list, codes: list, message: str) -> None:
    with pytest.raises(CodingError, match=message):
        DiagnosisCoder().fit(texts, codes)


def test_unknown_codes_policy(coded_notes: tuple[list[str], list[list[str]]]) -> None:
    texts, codes = coded_notes
    with pytest.raises(CodingError, match="X99.9 is not in"):
        DiagnosisCoder(unknown_codes="error").fit(texts, [*codes[:-1], ["X99.9"]])


def test_bad_configuration_and_unfitted_use() -> None:
    with pytest.raises(CodingError, match="unknown classifier"):
        DiagnosisCoder(classifier="xgboost").fit(["Hypertension.", "Pneumonia."], [["I10"], ["J18.9"]])
    with pytest.raises(CodingError, match="unknown featurizer"):
        DiagnosisCoder(featurizer="bag-of-words").fit(["Hypertension.", "Pneumonia."], [["I10"], ["J18.9"]])
    with pytest.raises(CodingError, match="not fitted"):
        DiagnosisCoder().predict(["Hypertension."])


def test_a_one_megabyte_text_is_coded(fitted_coder: DiagnosisCoder) -> None:
    text = ("Essential hypertension, blood pressure 160/95 on lisinopril. " * 17_000)[:1_000_000]
    assert len(text) == 1_000_000
    assert fitted_coder.predict_ranked([text], k=1)[0][0][0] == "I10"


def test_save_and_load_round_trip(fitted_coder: DiagnosisCoder, tmp_path: Path) -> None:
    save_coder(fitted_coder, tmp_path / "m", card={"data": {"path": "fixture"}})
    card = json.loads((tmp_path / "m" / "model_card.json").read_text())
    assert (
        card["label_set"]["codes"] == sorted(card["label_set"]["codes"])
        and "I10" in card["label_set"]["codes"]
    )
    assert card["versions"]["scikit-learn"] and card["data"]["path"] == "fixture"
    loaded = load_coder(tmp_path / "m")
    texts = [HYPERTENSIVE, "Pneumonia, ceftriaxone started."]
    assert loaded.predict_ranked(texts, k=5) == fitted_coder.predict_ranked(texts, k=5)


def test_a_tampered_or_foreign_model_is_refused(fitted_coder: DiagnosisCoder, tmp_path: Path) -> None:
    save_coder(fitted_coder, tmp_path / "m")
    model = tmp_path / "m" / "model.skops"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(CodingError, match="changed since it was saved"):
        load_coder(tmp_path / "m")

    save_coder(fitted_coder, tmp_path / "v")
    card_path = tmp_path / "v" / "model_card.json"
    card = json.loads(card_path.read_text())
    card["versions"]["scikit-learn"] = "0.1.0"
    card_path.write_text(json.dumps(card))
    with pytest.raises(CodingError, match="saved with scikit-learn 0.1.0"):
        load_coder(tmp_path / "v")

    card_path.write_text("{not json")
    with pytest.raises(CodingError, match="not valid JSON"):
        load_coder(tmp_path / "v")


def test_scores_do_not_depend_on_batch_composition(fitted_coder: DiagnosisCoder) -> None:
    alone = fitted_coder.predict_ranked([HYPERTENSIVE], k=5)[0]
    together = fitted_coder.predict_ranked(["Pneumonia.", HYPERTENSIVE], k=5)[1]
    assert alone == together
    assert np.isfinite([s for _, s in alone]).all()
