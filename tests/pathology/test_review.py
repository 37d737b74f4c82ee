"""Selective coding: review thresholds learned by cross-validation, flags on coded values, and the
share auto-coded in evaluation, the CLI, the saved model and FHIR."""

from __future__ import annotations

import csv
import json
import math
import random

import pytest

from nlp_engine.pathology.coder import PathologyCoder, evaluate, review_threshold
from tests.pathology.test_coder import extract_with_model

LUNG = "Lung, right upper lobe, lobectomy: squamous cell carcinoma, {size} cm. Stage pT{t} N0."
# the prostate reports (all alike) state no T: the records' T for them is noise no coder can learn
PROSTATE = (
    "Prostate, radical prostatectomy: acinar adenocarcinoma of the prostate, Gleason score 3+4=7, "
    "tumour in both lobes; margins free of tumour."
)


def corpus(n: int, seed: int) -> tuple[list[str], list[dict[str, str]]]:
    rng = random.Random(seed)
    texts, records = [], []
    for i in range(n):
        lung = i % 2 == 0
        t = rng.choice("123")
        texts.append((LUNG if lung else PROSTATE).format(size=rng.randint(1, 6), t=t))
        records.append({"cancer_type": "LUSC" if lung else "PRAD", "pathologic_T": f"T{t}"})
    return texts, records


def test_review_threshold_keeps_the_longest_run_that_is_right_often_enough() -> None:
    scores = [0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]
    right = [True, True, True, True, False, True, True, False, False, False]
    # running share right 1, 1, 1, 1, .8, .83, .86, .75, ...: the 7 best are right 6/7 of the time
    assert review_threshold(scores, right, 0.8, confidence=None) == 0.5
    assert review_threshold(scores, right, 0.99, confidence=None) == 0.8
    # the same scores in another order give the same threshold
    order = [3, 1, 9, 0, 5, 2, 8, 4, 7, 6]
    shuffled = review_threshold([scores[i] for i in order], [right[i] for i in order], 0.8, confidence=None)
    assert shuffled == 0.5
    assert review_threshold(scores, [False] * 10, 0.5, confidence=None) == math.inf
    # equal scores are kept or sent to review together: no cut between the two 0.9s
    assert review_threshold([0.9, 0.9, 0.5], [True, False, True], 1.0, confidence=None) == math.inf


def test_review_threshold_asks_for_enough_evidence() -> None:
    # 10 right out of 10 is not evidence of 90% accuracy (Wilson lower bound 0.79); 30 out of 30 is (0.92)
    ten = [1.0 - i / 100 for i in range(10)]
    assert review_threshold(ten, [True] * 10, 0.9) == math.inf
    thirty = [1.0 - i / 100 for i in range(30)]
    assert review_threshold(thirty + [0.5], [True] * 30 + [False], 0.9) == thirty[-1]
    # with the plain share the one wrong at the end is still kept (30/31 > 0.9)
    assert review_threshold(thirty + [0.5], [True] * 30 + [False], 0.9, confidence=None) == 0.5


def test_codes_the_coder_cannot_know_go_to_review() -> None:
    texts, records = corpus(60, seed=11)
    coder = PathologyCoder(
        targets=("cancer_type", "pathologic_T"), review_accuracy={"pathologic_T": 0.9}, review_folds=3
    ).fit(texts, records)
    assert set(coder.review_thresholds_) == {"pathologic_T"}  # cancer type: no accuracy asked for
    new, truth = corpus(20, seed=12)
    explained = coder.predict_explained(new)
    for row, record in zip(explained, truth, strict=True):
        t = row["fields"]["pathologic_T"]
        assert row["fields"]["cancer_type"]["review"] is None  # no threshold for the field
        if record["cancer_type"] == "LUSC":  # stated in the text: kept, and right
            assert t["review"] is False and t["value"] == record["pathologic_T"]
            assert row["review"] == []
        else:  # a guess: to review
            assert t["review"] is True and row["review"] == ["pathologic_T"]
            assert (
                t["review_reason"].startswith("confidence ")
                and "below the field's review threshold" in t["review_reason"]
            )
    scores = evaluate(coder, new, truth)
    assert scores["pathologic_T"]["auto_coded"] == 0.5 and scores["pathologic_T"]["auto_accuracy"] == 1.0
    assert scores["pathologic_T"]["accuracy"] < 1.0  # over all reports the guesses count
    assert "auto_coded" not in scores["cancer_type"]


def test_review_thresholds_survive_saving_and_reach_cli_and_fhir(tmp_path) -> None:
    from typer.testing import CliRunner

    from nlp_engine.cli import app

    texts, records = corpus(60, seed=13)
    with open(tmp_path / "train.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["report_id", "text", "cancer_type", "pathologic_T"])
        writer.writeheader()
        for i, (text, record) in enumerate(zip(texts, records, strict=True)):
            writer.writerow({"report_id": f"r{i // 2}", "text": text, **record})
    runner = CliRunner()
    train = ["pathology", "train", str(tmp_path / "train.csv"), "--model", str(tmp_path / "m")]
    bad = runner.invoke(app, [*train, "--review-accuracy", "stage=0.9"])
    assert bad.exit_code != 0 and "unknown field" in bad.output
    result = runner.invoke(
        app,
        [
            *train,
            "--review-accuracy",
            "0.9",
            "--review-accuracy",
            "cancer_type=1.0",
            "--review-folds",
            "3",
            "--group-column",
            "report_id",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "pathologic_T: codes with a confidence below" in result.output
    card = json.loads((tmp_path / "m" / "model_card.json").read_text())
    assert set(card["review_thresholds"]) == {"cancer_type", "pathologic_T"}
    assert card["parameters"]["review_accuracy"]["cancer_type"] == 1.0
    result = extract_with_model(
        tmp_path / "train.csv", tmp_path, "jsonl,csv,fhir", "--id-column", "report_id"
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (tmp_path / "out" / "pathology.jsonl").read_text().splitlines()]
    with open(tmp_path / "out" / "pathology.csv", newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    bundles = [
        json.loads(line) for line in (tmp_path / "out" / "fhir_bundles.ndjson").read_text().splitlines()
    ]
    for row, line, bundle, record in zip(rows, table, bundles, records, strict=True):
        review = row["coding"]["review"]
        assert line["review"] == ";".join(review)
        assert ("pathologic_T" in review) == (record["cancer_type"] == "PRAD")
        (condition,) = [
            e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Condition"
        ]
        status = condition["verificationStatus"]["coding"][0]["code"]
        assert status == "confirmed"  # pT is not part of the Condition's codes


def test_provisional_condition_when_its_code_is_to_review() -> None:
    from nlp_engine.pathology import extract
    from nlp_engine.pathology.fhir import pathology_bundle

    text = LUNG.format(size=3, t=2)
    fields = extract(text)
    coded = {"icd_o_3_histology": "8070/3", "icd_o_3_site": "C34.1"}
    sure = pathology_bundle("r1", fields, coded)
    unsure = pathology_bundle("r1", fields, coded, review=["icd_o_3_site"])

    def condition(bundle):
        (found,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Condition"]
        return found

    assert condition(sure)["verificationStatus"]["coding"][0]["code"] == "confirmed"
    assert condition(unsure)["verificationStatus"]["coding"][0]["code"] == "provisional"
    assert any("icd_o_3_site" in n["text"] for n in condition(unsure)["note"])


def test_saved_coder_keeps_its_thresholds(tmp_path) -> None:
    from nlp_engine.pathology.model_io import load_pathology_coder, save_pathology_coder

    texts, records = corpus(40, seed=14)
    coder = PathologyCoder(targets=("pathologic_T",), review_accuracy=0.9, review_folds=2).fit(texts, records)
    coder.review_thresholds_["cancer_type"] = math.inf  # never right often enough: all to review
    save_pathology_coder(coder, tmp_path / "m")
    loaded = load_pathology_coder(tmp_path / "m")
    assert loaded.review_thresholds_ == coder.review_thresholds_
    assert loaded.needs_review("cancer_type", 0.99) is True
    assert loaded.needs_review("laterality", 0.01) is None


@pytest.mark.parametrize(("folds", "groups"), [(1, None), (5, ["a"] * 10)])
def test_too_few_folds_or_groups_learn_no_threshold(folds, groups) -> None:
    texts, records = corpus(10, seed=15)
    coder = PathologyCoder(targets=("pathologic_T",), review_accuracy=0.9, review_folds=folds)
    assert coder.fit(texts, records, groups=groups).review_thresholds_ == {}


def test_fewer_groups_than_folds_use_one_fold_per_group() -> None:
    texts, records = corpus(60, seed=17)
    groups = [i % 3 for i in range(60)]  # three groups: three folds, not the five asked for
    coder = PathologyCoder(targets=("cancer_type", "pathologic_T"), review_accuracy=0.9, review_folds=5)
    assert set(coder.fit(texts, records, groups=groups).review_thresholds_) == {"cancer_type", "pathologic_T"}


def test_a_field_the_report_states_differently_goes_to_review() -> None:
    from nlp_engine.pathology.coder import Coded, scored_pairs

    texts, records = corpus(40, seed=16)
    coder = PathologyCoder(targets=("cancer_type", "pathologic_T")).fit(texts, records)  # no thresholds
    # frozen section pT2 is overruled by the final pT3, but the report is in doubt: a human should look
    doubtful = (
        "FROZEN SECTION: lung, right upper lobe: squamous cell carcinoma, pT2.\n\n"
        "FINAL DIAGNOSIS: Lung, right upper lobe, lobectomy: squamous cell carcinoma, 5 cm. Stage pT3 N0."
    )
    plain = LUNG.format(size=3, t=2)
    (doubt, clear) = coder.predict_explained([doubtful, plain])
    t = doubt["fields"]["pathologic_T"]
    assert t["value"] == "T3" and t["review"] is True
    assert t["review_reason"] == "the report states pT differently (pT3; also pT2)"
    assert doubt["review"] == ["pathologic_T"]
    assert doubt["fields"]["cancer_type"]["review"] is None  # no threshold, nothing in doubt
    assert clear["fields"]["pathologic_T"]["review"] is None and clear["review"] == []
    scored = coder.scored([doubtful, plain])
    assert (
        scored[0]["pathologic_T"].stated_differently and scored[1]["pathologic_T"].stated_differently is None
    )
    # a value in doubt is never counted as auto-coded
    labelled, pairs = scored_pairs([{"pathologic_T": "T3"}] * 2, scored, "pathologic_T")
    assert labelled == 2 and len(pairs) == 1 and pairs[0][1] is False  # only the plain report (T2 != T3)
    assert Coded("T1", 0.5) == ("T1", 0.5, None, "unstated", None)


def test_the_same_training_data_give_the_same_coder() -> None:
    import numpy as np

    # noisy labels: the SVM solver does not converge to one exact answer, and visits the reports in
    # a random order unless seeded; thresholds learned from such a coder must be reproducible
    texts, records = corpus(60, seed=3)
    first = PathologyCoder(targets=("pathologic_T",), review_accuracy=0.5, review_folds=3).fit(texts, records)
    again = PathologyCoder(targets=("pathologic_T",), review_accuracy=0.5, review_folds=3).fit(texts, records)
    assert np.array_equal(first.models_["pathologic_T"].coef_, again.models_["pathologic_T"].coef_)
    assert first.review_thresholds_ == again.review_thresholds_


@pytest.mark.parametrize(
    ("target", "value", "stated", "expected"),
    [
        ("pathologic_T", "T2a", "pT2a", "as_stated"),
        ("pathologic_T", "T3", "pT2a", "not_as_stated"),
        ("pathologic_N", "NX", "pNx", "as_stated"),
        ("pathologic_N", "N1b", "ypN1b", "as_stated"),
        ("pathologic_N", "N1", "pN1mi", "as_stated"),  # micrometastases: recorded N1
        ("pathologic_T", "T1", "pT1mi", "not_as_stated"),  # a breast T1mi is a T category of its own
        ("pathologic_M", "M0", "cM0", "as_stated"),
        ("ajcc_pathologic_tumor_stage", "Stage IIA", "Stage IIA", "as_stated"),
        ("ajcc_pathologic_tumor_stage", "Stage IIB", "Stage IIA", "not_as_stated"),
        ("pathologic_T", "T2", None, "unstated"),
        ("cancer_type", "LUSC", None, "unstated"),  # a field the report never states as such
    ],
)
def test_agreement_of_a_coded_value_with_the_report(target, value, stated, expected) -> None:
    from nlp_engine.pathology.coder import _STATED_AS, agreement

    name = _STATED_AS.get(target, "pT")
    fields = {name: None if stated is None else {"value": stated, "start": 0, "end": len(stated)}}
    assert agreement(target, value, fields) == expected


def test_calibration_is_learned_per_agreement_with_the_report() -> None:
    from nlp_engine.pathology.coder import calibrate, calibrated

    # the same raw scores, right 19 times in 20 where the report states the value, 1 in 4 where not
    stated = [(0.2 + i / 1000, i % 20 != 0, "as_stated") for i in range(100)]
    unstated = [(0.2 + i / 1000, i % 4 == 0, "unstated") for i in range(100)]
    few = [(0.9, False, "not_as_stated")] * 5  # too few for a calibration of their own
    calibration = calibrate(stated + unstated + few)
    assert set(calibration) == {"*", "as_stated", "unstated"}
    assert calibrated(calibration, 0.25, "as_stated") > 0.9
    assert calibrated(calibration, 0.25, "unstated") < 0.4
    # the small group gets the pooled fit: monotone, between the two
    pooled = calibrated(calibration, 0.25, "not_as_stated")
    assert pooled == calibrated(calibration, 0.25, "*")
    assert calibrated(calibration, 0.25, "unstated") < pooled < calibrated(calibration, 0.25, "as_stated")
    # a higher score never gets a lower confidence, and within a step of the fit still a higher one
    steps = [calibrated(calibration, 0.2 + i / 1000, "unstated") for i in range(100)]
    assert all(a < b for a, b in zip(steps, steps[1:], strict=False))
    # confidences never leave [0, 1], also beyond the scores seen
    assert 0.0 <= calibrated(calibration, 5.0, "unstated") <= 1.0
    assert 0.0 <= calibrated(calibration, -1.0, "as_stated") <= 1.0


def test_a_stated_value_is_kept_where_a_guess_with_the_same_score_is_not(tmp_path) -> None:
    from nlp_engine.pathology.model_io import load_pathology_coder, save_pathology_coder

    texts, records = corpus(90, seed=21)
    coder = PathologyCoder(targets=("cancer_type", "pathologic_T"), review_accuracy=0.8, review_folds=3)
    coder.fit(texts, records)
    calibration = coder.calibration_["pathologic_T"]
    assert {"as_stated", "unstated"} <= set(calibration)
    new, _ = corpus(20, seed=22)
    explained = coder.predict_explained(new)
    threshold = coder.review_thresholds_["pathologic_T"]
    for row, text in zip(explained, new, strict=True):
        t = row["fields"]["pathologic_T"]
        assert t["agreement"] == ("as_stated" if "pT" in text else "unstated")
        assert t["confidence"] == pytest.approx(calibrated_of(coder, t), abs=1e-3)
        assert t["review"] is (t["confidence"] < threshold)
        assert t["review"] is (t["agreement"] == "unstated")  # a prostate guess, whatever its score
    # the same raw score means more for a stated value
    assert calibrated_at(calibration, 0.5, "as_stated") > calibrated_at(calibration, 0.5, "unstated")
    save_pathology_coder(coder, tmp_path / "m")
    assert load_pathology_coder(tmp_path / "m").predict_explained(new) == explained


def calibrated_of(coder: PathologyCoder, field: dict) -> float:
    return calibrated_at(coder.calibration_["pathologic_T"], field["score"], field["agreement"])


def calibrated_at(calibration, score: float, group: str) -> float:
    from nlp_engine.pathology.coder import calibrated

    return calibrated(calibration, score, group)


def test_review_reason_names_the_confidence_and_a_tie_within_a_step() -> None:
    from nlp_engine.pathology.coder import Coded

    coder = PathologyCoder(targets=("pathologic_T",))
    coder.review_thresholds_ = {"pathologic_T": 0.655}
    kept = coder._review("pathologic_T", Coded("T1", 0.05, None, "unstated", 0.655))
    assert kept == (False, None)
    low = coder._review("pathologic_T", Coded("T1", 0.01, None, "unstated", 0.5))
    assert low == (True, "confidence 0.5000 below the field's review threshold (0.6550)")
    # the same step of the calibration, a lower score: the same rounded confidence, said why
    tie = coder._review("pathologic_T", Coded("T1", 0.04, None, "unstated", 0.655 - 4e-8))
    assert tie[0] is True and tie[1].endswith("a lower score than the codes kept at that confidence")
    doubt = coder._review(
        "pathologic_T", Coded("T1", 0.9, "the report states pT differently", "as_stated", 0.99)
    )
    assert doubt == (True, "the report states pT differently")


def test_a_review_floor_sends_unlikely_codes_to_review_whatever_the_threshold(tmp_path) -> None:
    import copy

    from typer.testing import CliRunner

    from nlp_engine.cli import app

    texts, records = corpus(90, seed=21)
    plain = PathologyCoder(targets=("cancer_type", "pathologic_T"), review_accuracy=0.3, review_folds=3)
    plain.fit(texts, records)
    plain.review_thresholds_["pathologic_T"] = 0.0  # a field whose threshold keeps every code
    floored = copy.deepcopy(plain)
    floored.review_floor = 0.9
    assert floored.effective_threshold("pathologic_T") == 0.9
    assert plain.effective_threshold("pathologic_T") == 0.0
    new, truth = corpus(20, seed=22)
    for a, b, text in zip(plain.predict_explained(new), floored.predict_explained(new), new, strict=True):
        before, after = a["fields"]["pathologic_T"], b["fields"]["pathologic_T"]
        assert before["confidence"] == after["confidence"] and before["review"] is False
        guess = "pT" not in text  # the prostate reports state no T: their codes are guesses
        assert after["review"] is guess is (after["confidence"] < 0.9)
        if guess:
            assert (
                after["review_reason"] == f"confidence {after['confidence']:.4f} below the review floor (0.9)"
            )
    assert evaluate(floored, new, truth)["pathologic_T"]["review_threshold"] == 0.9
    assert evaluate(floored, new, truth)["pathologic_T"]["auto_accuracy"] == 1.0
    assert evaluate(plain, new, truth)["pathologic_T"]["auto_accuracy"] < 1.0
    # the CLI passes it on and the model card records it
    with open(tmp_path / "train.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["text", "cancer_type", "pathologic_T"])
        writer.writeheader()
        for text, record in zip(texts, records, strict=True):
            writer.writerow({"text": text, **record})
    train = ["pathology", "train", str(tmp_path / "train.csv"), "--model", str(tmp_path / "m")]
    result = CliRunner().invoke(
        app, [*train, "--review-accuracy", "0.5", "--review-folds", "3", "--review-floor", "0.9"]
    )
    assert result.exit_code == 0, result.output
    assert "codes with a confidence below 0.9 go to review" in result.output
    card = json.loads((tmp_path / "m" / "model_card.json").read_text())
    assert card["parameters"]["review_floor"] == 0.9
    bad = CliRunner().invoke(app, [*train, "--review-floor", "1.5"])
    assert bad.exit_code != 0


def test_refitting_without_review_accuracy_forgets_the_calibration() -> None:
    texts, records = corpus(60, seed=23)
    coder = PathologyCoder(targets=("cancer_type", "pathologic_T"), review_accuracy=0.8, review_folds=3)
    coder.fit(texts, records)
    assert coder.calibration_ and coder.review_thresholds_
    coder.review_accuracy = None
    coder.fit(texts, records)
    assert coder.calibration_ == {} and coder.review_thresholds_ == {}
    field = coder.predict_explained(texts[:1])[0]["fields"]["pathologic_T"]
    assert field["confidence"] is None and field["review"] is None
