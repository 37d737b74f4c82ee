from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from nlp_engine.pathology.coder import PathologyCoder
from nlp_engine.pathology.extract import extract

LUNG = "Lung, right upper lobe, lobectomy: squamous cell carcinoma, keratinizing, {size} cm. Bronchial margin free."
PROSTATE = "Prostate, radical prostatectomy: acinar adenocarcinoma, Gleason 3+4=7. Seminal vesicles free."


def corpus(n: int, seed: int) -> tuple[list[str], list[dict[str, str]]]:
    rng = random.Random(seed)
    texts, records = [], []
    for i in range(n):
        lung = i % 2 == 0
        t = rng.choice(["T1", "T2", "T3"])
        text = (LUNG.format(size=rng.randint(1, 6)) if lung else PROSTATE) + f" Stage pT{t[1]} N0."
        texts.append(text)
        records.append(
            {
                "cancer_type": "LUSC" if lung else "PRAD",
                "icd_o_3_histology": "8070/3" if lung else "8140/3",
                "pathologic_T": t,
                "laterality": "Right" if lung else "",  # empty: left out of this field's training
            }
        )
    return texts, records


def extract_with_model(data: Path, tmp_path: Path, formats: str, *options: str) -> Any:
    """`nlp-engine pathology extract DATA` with the coder in `tmp_path/m`, writing `tmp_path/out`."""
    from typer.testing import CliRunner

    from nlp_engine.cli import app

    command = [
        "pathology",
        "extract",
        str(data),
        "--out",
        str(tmp_path / "out"),
        "--model",
        str(tmp_path / "m"),
    ]
    return CliRunner().invoke(app, [*command, "--text-column", "text", "--format", formats, *options])


def test_fit_predict_ranked_and_explained() -> None:
    texts, records = corpus(40, seed=1)
    coder = PathologyCoder(targets=("cancer_type", "icd_o_3_histology", "pathologic_T", "laterality")).fit(
        texts, records
    )
    assert set(coder.models_) == {"cancer_type", "icd_o_3_histology", "pathologic_T"}  # laterality: one value
    new, truth = corpus(10, seed=2)
    predicted = coder.predict(new)
    assert [p["cancer_type"] for p in predicted] == [r["cancer_type"] for r in truth]
    assert [p["icd_o_3_histology"] for p in predicted] == [r["icd_o_3_histology"] for r in truth]
    # pT: the classifier follows the extracted value, one of its features (with its evidence)
    assert [p["pathologic_T"] for p in predicted] == [r["pathologic_T"] for r in truth]
    # one value in training makes no classifier: no value, rather than an invented one
    assert [p["laterality"] for p in predicted[:2]] == [None, None]
    ranked = coder.predict_ranked(new[:1], k=2)[0]["cancer_type"]
    assert [label for label, _ in ranked] == ["LUSC", "PRAD"]
    assert ranked[0][1] > ranked[1][1] and abs(sum(p for _, p in ranked) - 1.0) < 1e-6
    evidence = coder.explain(new[0], "cancer_type", k=3)
    assert evidence and all(e["start"] is not None for e in evidence)
    for e in evidence:  # words are found as written; extracted-field features point at their evidence
        if not e["term"].startswith("__"):
            assert new[0][e["start"] : e["end"]].lower() == e["term"]
    # `explain` gives the evidence `predict_explained` gives for the value coded
    explained = coder.predict_explained(new[:1], evidence=3)[0]["fields"]
    for target in coder.models_:
        assert coder.explain(new[0], target, k=3) == explained[target]["evidence"]


BENIGN = (
    "Prostate, needle biopsies (12 cores): benign prostatic tissue with chronic inflammation. "
    "Negative for carcinoma. No high-grade intraepithelial neoplasia is identified."
)


def test_codes_carry_evidence_and_tumour_free_reports_get_none() -> None:
    texts, records = corpus(40, seed=1)
    for record in records:
        record["pathologic_N"] = "N0"  # one value: no classifier, but the stated pN is still taken
    targets = ("cancer_type", "icd_o_3_histology", "pathologic_T", "pathologic_N")
    coder = PathologyCoder(targets=targets).fit(texts, records)
    lung = LUNG.format(size=3) + " Stage pT2 N0."
    reports = [lung, BENIGN, "x7# ~~ 1lI"]
    predicted = coder.predict(reports)
    assert predicted[0]["cancer_type"] == "LUSC" and predicted[0]["pathologic_N"] == "N0"
    # the benign and the unreadable report: nothing coded (the classifier alone would invent a code)
    assert predicted[1] == predicted[2] == dict.fromkeys(targets)
    assert coder.predict(reports[1:2], abstain=False)[0]["cancer_type"] in ("LUSC", "PRAD")
    assert coder.predict_ranked(reports[1:2])[0]["cancer_type"] == []
    explained = coder.predict_explained(reports, k=2)
    assert explained[0]["withheld"] is None
    assert "benign" in explained[1]["withheld"] and explained[1]["fields"] == {}
    assert "legible" in explained[2]["withheld"]
    assert "prostatic" not in explained[1]["withheld"]  # reasons never quote the report
    fields = explained[0]["fields"]
    cancer = fields["cancer_type"]
    assert cancer["value"] == "LUSC" and cancer["source"] == "model"
    assert cancer["alternatives"][0] == ("LUSC", cancer["score"]) and cancer["score"] > 0.5
    assert cancer["evidence"] and all(e["weight"] > 0 for e in cancer["evidence"])
    for e in cancer["evidence"]:
        assert e["start"] is not None
        if not e["term"].startswith("__"):
            assert lung[e["start"] : e["end"]].lower() == e["term"]
    node = fields["pathologic_N"]  # taken from the text: its evidence is where it is written
    assert node["source"] == "extracted:pN" and node["alternatives"] == []
    assert lung[node["evidence"][0]["start"] : node["evidence"][0]["end"]] == "N0"  # of "pT2 N0"
    # `explain` points at the same evidence, the text's own span for a value taken from it
    for target, entry in fields.items():
        assert coder.explain(lung, target, k=3) == entry["evidence"]


def test_saved_coder_round_trip_and_tamper_check(tmp_path) -> None:
    import pytest

    from nlp_engine.errors import PathologyError
    from nlp_engine.pathology.model_io import load_pathology_coder, save_pathology_coder

    texts, records = corpus(40, seed=3)
    coder = PathologyCoder(targets=("cancer_type", "icd_o_3_histology")).fit(texts, records)
    save_pathology_coder(coder, tmp_path / "model")
    loaded = load_pathology_coder(tmp_path / "model")
    new, _ = corpus(6, seed=4)
    assert loaded.predict(new) == coder.predict(new)
    assert loaded.words_.vocabulary_ == coder.words_.vocabulary_  # rebuilt from the saved arrays
    before = coder.predict_ranked(new, k=2)
    after = loaded.predict_ranked(new, k=2)
    for b, a in zip(before, after, strict=True):  # float32 weights: the same ranking, scores within 1e-4
        assert [label for label, _ in a["cancer_type"]] == [label for label, _ in b["cancer_type"]]
        assert all(
            abs(x - y) < 1e-4 for (_, x), (_, y) in zip(a["cancer_type"], b["cancer_type"], strict=True)
        )
    with open(tmp_path / "model" / "model.skops", "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(PathologyError, match="changed since it was saved"):
        load_pathology_coder(tmp_path / "model")


def test_train_evaluate_extract_commands(tmp_path) -> None:
    import csv
    import json

    from typer.testing import CliRunner

    from nlp_engine.cli import app
    from nlp_engine.fhir import validate_bundle

    def write(path, texts, records):
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(
                handle, ["report_id", "text", "cancer_type", "icd_o_3_histology", "pathologic_T"]
            )
            writer.writeheader()
            for i, (text, record) in enumerate(zip(texts, records, strict=True)):
                writer.writerow(
                    {"report_id": f"r{i}", "text": text, **{k: record[k] for k in writer.fieldnames[2:]}}
                )

    write(tmp_path / "train.csv", *corpus(40, seed=5))
    write(tmp_path / "test.csv", *corpus(10, seed=6))
    runner = CliRunner()
    result = runner.invoke(
        app, ["pathology", "train", str(tmp_path / "train.csv"), "--model", str(tmp_path / "m")]
    )
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "m" / "model_card.json").read_text())
    assert card["label_sets"]["cancer_type"] == ["LUSC", "PRAD"] and card["training"]["reports"] == 40
    assert card["parameters"]["char_fields"] == ["cancer_type", "icd_o_3_histology"]  # not pT
    command = ["pathology", "train", str(tmp_path / "train.csv"), "--model", str(tmp_path / "words")]
    result = runner.invoke(app, [*command, "--no-char-ngrams"])
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "words" / "model_card.json").read_text())
    assert card["parameters"]["char_fields"] == []
    result = runner.invoke(
        app, ["pathology", "evaluate", str(tmp_path / "test.csv"), "--model", str(tmp_path / "m")]
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)["fields"]
    assert scores["cancer_type"] == {"labelled": 10, "accuracy": 1.0, "macro_f1": 1.0}
    result = extract_with_model(tmp_path / "test.csv", tmp_path, "jsonl,fhir", "--id-column", "report_id")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (tmp_path / "out" / "pathology.jsonl").read_text().splitlines()]
    bundles = [
        json.loads(line) for line in (tmp_path / "out" / "fhir_bundles.ndjson").read_text().splitlines()
    ]
    assert len(rows) == len(bundles) == 10
    first = rows[0]
    assert first["status"] == "ok" and first["coded"]["cancer_type"] == "LUSC"
    coding = first["coding"]["fields"]["cancer_type"]
    assert coding["value"] == "LUSC" and len(coding["alternatives"]) == 2 and coding["evidence"]
    assert first["fields"]["histologic_type"]["value"] == "8071/3"  # keratinizing squamous cell carcinoma
    validate_bundle(bundles[0])
    resources = {}
    for entry in bundles[0]["entry"]:
        resources.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    pt = [o for o in resources["Observation"] if o["code"]["coding"][0]["code"] == "21899-0"]
    assert pt and pt[0]["valueCodeableConcept"]["text"] == first["fields"]["pT"]["value"]
    (condition,) = resources["Condition"]
    assert condition["code"]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/icd-o-3",
        "code": "8070/3",  # the trained coder's code wins over the extracted 8071/3
        "display": "Squamous cell carcinoma, NOS",
    }
    assert condition["bodySite"][0]["coding"][0]["code"] == "C34.1"
    # a field LOINC has no item for keeps its own name under our code system
    (margins,) = [o for o in resources["Observation"] if o["code"]["coding"][0]["code"] == "margins"]
    assert margins["code"]["coding"][0]["system"] == "urn:nlp-engine:pathology-field"
    assert margins["valueCodeableConcept"]["text"] == "negative"
    # every Observation is listed by the report and derived from it
    (report,) = resources["DiagnosticReport"]
    assert len(report["result"]) == len(resources["Observation"])


def test_unusable_training_data_is_refused(tmp_path) -> None:
    from typer.testing import CliRunner

    from nlp_engine.cli import app

    (tmp_path / "bad.csv").write_text("report_id,body\nr1,some text\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["pathology", "train", str(tmp_path / "bad.csv"), "--model", str(tmp_path / "m")]
    )
    assert result.exit_code != 0
    assert "E012" in str(result.exception) or "E012" in result.output
    assert "some text" not in result.output


def test_csv_columns_line_up_when_a_field_has_no_model(tmp_path) -> None:
    import csv

    from typer.testing import CliRunner

    from nlp_engine.cli import app

    texts, records = corpus(30, seed=7)
    with open(tmp_path / "train.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["text", "laterality", "cancer_type"])
        writer.writeheader()
        for text, record in zip(texts, records, strict=True):
            # one laterality value only: no model for it, and no column for it
            writer.writerow({"text": text, "laterality": "Right", "cancer_type": record["cancer_type"]})
    runner = CliRunner()
    result = runner.invoke(
        app, ["pathology", "train", str(tmp_path / "train.csv"), "--model", str(tmp_path / "m")]
    )
    assert result.exit_code == 0, result.output
    result = extract_with_model(tmp_path / "train.csv", tmp_path, "csv")
    assert result.exit_code == 0, result.output
    with open(tmp_path / "out" / "pathology.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, first = rows[0], rows[1]
    assert header[-2:] == ["coded_cancer_type", "review"] and "coded_laterality" not in header
    assert len(first) == len(header) and first[-2] == records[0]["cancer_type"]
    assert first[-1] == ""  # a coder trained without --review-accuracy sends nothing to review


def test_field_scores_count_missing_values_as_wrong_without_a_class_of_their_own() -> None:
    from nlp_engine.pathology.coder import field_scores

    gold = ["LUSC", "LUSC", "PRAD", "PRAD"]
    scores = field_scores(gold, ["LUSC", None, "PRAD", "PRAD"])
    assert scores["accuracy"] == 0.75
    # LUSC: precision 1, recall 1/2 -> F1 2/3; PRAD: F1 1; "no value" is not averaged in as a class
    assert scores["macro_f1"] == round((2 / 3 + 1) / 2, 4)
    assert field_scores(gold, gold) == {"accuracy": 1.0, "macro_f1": 1.0}


def test_a_stated_pnx_is_left_to_the_classifier() -> None:
    """pNX says only that this report assessed no nodes: the classifier, which sees it, decides; where
    the records code such kidneys N0, so does the coder. A stated pN1 is still taken as written."""
    kidney = "Kidney, left, radical nephrectomy: clear cell renal cell carcinoma, {size} cm. Stage pT1b pNX."
    texts, records = corpus(30, seed=3)
    for record in records:
        record["pathologic_N"] = "N1"
    texts += [kidney.format(size=s % 5 + 3) for s in range(20)]
    records += [{"cancer_type": "KIRC", "pathologic_N": "N0"} for _ in range(20)]
    texts += ["Lymph nodes were not submitted. pNX." for _ in range(6)]
    records += [{"cancer_type": "KIRC", "pathologic_N": "NX"} for _ in range(6)]
    coder = PathologyCoder(targets=("cancer_type", "pathologic_N")).fit(texts, records)
    report = kidney.format(size=4)
    assert coder.predict([report])[0]["pathologic_N"] == "N0"
    node = coder.predict_explained([report])[0]["fields"]["pathologic_N"]
    assert node["source"] == "model"
    stated = report.replace("pNX", "pN1")
    assert coder.predict_explained([stated])[0]["fields"]["pathologic_N"]["source"] == "extracted:pN"


def test_pn_weighs_every_report_alike_and_the_other_fields_balance_their_classes() -> None:
    texts, records = corpus(30, seed=4)
    for i, record in enumerate(records):
        record["pathologic_N"] = "N1" if i % 5 == 0 else "N0"
    coder = PathologyCoder(targets=("cancer_type", "pathologic_T", "pathologic_N")).fit(texts, records)
    assert coder.models_["pathologic_N"].class_weight is None
    assert coder.models_["pathologic_T"].class_weight == "balanced"
    assert coder.models_["cancer_type"].class_weight == "balanced"
    every = PathologyCoder(targets=("cancer_type", "pathologic_N"), field_class_weights={}).fit(
        texts, records
    )
    assert every.models_["pathologic_N"].class_weight == "balanced"
    # a coder saved before the setting existed loads with the defaults
    del coder.__dict__["field_class_weights"]
    assert coder._class_weight("pathologic_N") is None and coder._class_weight("pathologic_T") == "balanced"


def test_size_gives_the_organs_ajcc_t_as_a_feature() -> None:
    from nlp_engine.pathology.coder import _field_features

    def size_t(site: str, mm: float) -> list[str]:
        fields = {"primary_site": {"value": site}, "tumor_size_mm": {"value": mm}}
        return sorted(k for k in _field_features(fields) if k.startswith("__size_T_"))

    assert size_t("C34.1", 25.0) == ["__size_T_C34_T1b", "__size_T_T1b"]  # lung: 20 < 25 <= 30 mm
    assert size_t("C34.3", 35.0) == ["__size_T_C34_T2a", "__size_T_T2a"]
    assert size_t("C64.9", 120.0) == ["__size_T_C64_T2b", "__size_T_T2b"]  # kidney over 100 mm
    assert size_t("C18.7", 35.0) == []  # colon stages by depth, not size


def test_the_positive_node_count_gives_the_organs_n_as_a_feature() -> None:
    from nlp_engine.pathology.coder import _field_features

    def count_n(site: str, positive: int) -> list[str]:
        fields = {"primary_site": {"value": site}, "lymph_nodes_positive": {"value": positive}}
        return sorted(k for k in _field_features(fields) if k.startswith("__count_N_"))

    assert count_n("C18.7", 2) == ["__count_N_C18_N1b", "__count_N_N1b"]  # colon: 2-3 nodes
    assert count_n("C20.9", 7) == ["__count_N_C20_N2b", "__count_N_N2b"]
    assert count_n("C50.4", 4) == ["__count_N_C50_N2", "__count_N_N2"]  # breast: 4-9
    assert count_n("C32.1", 1) == ["__count_N_C32_N1", "__count_N_N1"]  # larynx: one node
    assert count_n("C02.1", 3) == ["__count_N_C02_N2b", "__count_N_N2b"]  # tongue: several
    assert count_n("C64.9", 0) == ["__count_N_C64_N0", "__count_N_N0"]
    assert count_n("C34.1", 3) == []  # lung: N1 against N2 by station, not count
    assert (
        _field_features({"lymph_nodes_positive": {"value": 2}})
        .keys()
        .isdisjoint({"__count_N_N1", "__count_N_N1b", "__count_N_N2b"})
    )  # no site, no organ to read the count at


# organs whose stage `staging.stage_group` does not derive: only the crossing can tell them apart
# types no stage table covers (staging.ajcc_stage gives None), so only the crossing can tell the organs
THYROID = "Thyroid, total thyroidectomy: poorly differentiated thyroid carcinoma, {size} cm."
OESOPHAGUS = "Esophagus, esophagectomy: neuroendocrine carcinoma, large cell type. Margins free."


def staged(n: int, seed: int) -> tuple[list[str], list[dict[str, str]]]:
    """Reports whose stage group depends on the organ: pT1 is stage I in the thyroid and II in the
    oesophagus, pT2 the other way round (no one linear model over shared features can say that)."""
    rng = random.Random(seed)
    texts, records = [], []
    for i in range(n):
        thyroid = i % 2 == 0
        t = rng.choice(["1", "2"])
        texts.append(
            (THYROID.format(size=rng.randint(1, 6)) if thyroid else OESOPHAGUS) + f" Stage pT{t} N0."
        )
        stage = "Stage I" if (t == "1") == thyroid else "Stage II"
        records.append(
            {
                "cancer_type": "THCA" if thyroid else "ESCA",
                "pathologic_T": f"T{t}",
                "ajcc_pathologic_tumor_stage": stage,
            }
        )
    return texts, records


def test_stage_sees_extracted_fields_crossed_with_the_cancer_type(tmp_path: Path) -> None:
    from nlp_engine.pathology.model_io import load_pathology_coder, save_pathology_coder

    texts, records = staged(80, seed=3)
    new, truth = staged(40, seed=4)
    targets = ("cancer_type", "pathologic_T", "ajcc_pathologic_tumor_stage")
    crossed = PathologyCoder(targets=targets).fit(texts, records)
    plain = PathologyCoder(targets=targets, cross_weights={}).fit(texts, records)
    assert crossed.crossed_ and not plain.crossed_
    gold = [r["ajcc_pathologic_tumor_stage"] for r in truth]

    def right(coder: PathologyCoder) -> int:
        return sum(
            p["ajcc_pathologic_tumor_stage"] == g for p, g in zip(coder.predict(new), gold, strict=True)
        )

    assert right(crossed) == len(new)
    # an XOR of organ and T: one linear model over shared indicators gets about 3 of the 4 right
    assert right(plain) <= 0.8 * len(new)
    # the evidence names the crossed indicator, with the pT's own span
    explained = crossed.predict_explained([new[0]])[0]["fields"]["ajcc_pathologic_tumor_stage"]
    top = explained["evidence"][0]
    assert top["term"].startswith("__pT_pT") and top["term"].endswith("@THCA")
    assert new[0][top["start"] : top["end"]].startswith("pT")
    assert crossed.explain(new[0], "ajcc_pathologic_tumor_stage", k=1)[0]["term"] == top["term"]
    save_pathology_coder(crossed, tmp_path / "m")
    loaded = load_pathology_coder(tmp_path / "m")
    assert loaded.predict_explained(new) == crossed.predict_explained(new)
    card = json.loads((tmp_path / "m" / "model_card.json").read_text())
    assert card["parameters"]["cross_weights"] == {"ajcc_pathologic_tumor_stage": 3.0, "pathologic_T": 1.0}


def test_evidence_points_into_the_text_even_when_an_absence_weighs_most() -> None:
    from types import SimpleNamespace

    import numpy as np
    from scipy.sparse import csr_matrix

    from nlp_engine.pathology.coder import _evidence

    text = "Brain, left frontal lobe, resection: oligodendroglioma, low grade."
    names = [
        "__pT_none@LGG",
        "__pN_none@LGG",
        "__lymph_nodes_examined_none@LGG",
        "oligodendroglioma",
        "frontal",
    ]
    model = SimpleNamespace(classes_=["C71.0", "C71.9"], coef_=np.array([[1.0, 1.0, 1.0, 0.2, 0.1]]))
    row = csr_matrix(np.ones((1, 5)))
    evidence = _evidence(model, row, "C71.9", names, text, {}, 2)
    terms = [(e["term"], e["start"]) for e in evidence]
    # the absences that weighed most are listed, with no span, but the two words that support the
    # code are there too, with their spans
    assert terms == [
        ("__pT_none@LGG", None),
        ("__pN_none@LGG", None),
        ("oligodendroglioma", text.index("oligodendroglioma")),
        ("frontal", text.index("frontal")),
    ]
    # a feature that adds nothing is never evidence
    assert _evidence(model, row, "C71.0", names, text, {}, 2) == []


def test_paired_scores_code_the_best_pair_the_records_allow() -> None:
    import numpy as np

    from nlp_engine.pathology.coder import _paired_scores

    types = np.array([[0.5, 0.3, 0.2]])  # A alone would win
    histologies = np.array([[0.1, 0.6, 0.3]])  # y alone would win
    allowed = np.array([[True, False, False], [False, True, False], [False, False, True]])  # A-x, B-y, C-z
    first, second = _paired_scores(types, histologies, allowed)
    # log .3 + log .6 (B with y) beats log .5 + log .1 (A with x) and log .2 + log .3 (C with z)
    assert first.argmax() == 1 and second.argmax() == 1
    assert np.allclose(first.sum(axis=1), 1.0) and np.allclose(second.sum(axis=1), 1.0)
    # a pair the records allow everywhere changes nothing
    same = _paired_scores(types, histologies, np.ones((3, 3), dtype=bool))
    assert np.allclose(same[0], types) and np.allclose(same[1], histologies)


def test_coded_cancer_type_and_histology_agree_with_the_training_records() -> None:
    # squamous carcinomas of the lung and larynx, adenocarcinomas of the lung and prostate: each
    # histology has two cancer types, each lung type one histology
    kinds = [
        (
            "Lung, right upper lobe, lobectomy: squamous cell carcinoma, keratinizing, {} cm.",
            "LUSC",
            "8070/3",
        ),
        ("Lung, left lower lobe, lobectomy: adenocarcinoma, acinar pattern, {} cm.", "LUAD", "8140/3"),
        ("Larynx, laryngectomy: squamous cell carcinoma, keratinizing, {} cm.", "HNSC", "8070/3"),
        ("Prostate, radical prostatectomy: acinar adenocarcinoma, Gleason 3+4=7, {} cm.", "PRAD", "8140/3"),
    ]
    rng = random.Random(1)
    texts = [kinds[i % 4][0].format(rng.randint(1, 6)) for i in range(60)]
    sites = {"LUSC": "C34.1", "LUAD": "C34.3", "HNSC": "C32.9", "PRAD": "C61.9"}
    records = [
        {
            "cancer_type": kinds[i % 4][1],
            "icd_o_3_histology": kinds[i % 4][2],
            "icd_o_3_site": sites[kinds[i % 4][1]],
        }
        for i in range(60)
    ]
    coder = PathologyCoder(targets=("cancer_type", "icd_o_3_histology", "icd_o_3_site")).fit(texts, records)
    held = {(r["cancer_type"], r["icd_o_3_histology"]) for r in records}
    # lung reports with both types' words in varying measure: the two classifiers alone disagree on
    # some (a lung adenocarcinoma coded squamous), coded as a pair they never do
    mixed = [
        "Lung, lobectomy:"
        + " squamous cell carcinoma" * a
        + " adenocarcinoma" * b
        + " keratinizing" * c
        + " acinar" * d
        for a in range(3)
        for b in range(3)
        for c in range(3)
        for d in range(3)
    ]
    crossed_with: list[list[int]] = []  # the types the site's crossed block is built with
    cross_block = coder._cross_block

    def spy(x: Any, types: Any) -> Any:
        crossed_with.append(list(types))
        return cross_block(x, types)

    coder._cross_block = spy  # type: ignore[method-assign]
    predicted = coder.predict(mixed, abstain=False)
    assert {(p["cancer_type"], p["icd_o_3_histology"]) for p in predicted} <= held
    # the site is crossed with the coded (paired) type, where it differs from the type's classifier alone
    x, _ = coder._features(mixed)
    alone = coder.models_["cancer_type"].decision_function(x).argmax(axis=1)
    (types,) = crossed_with
    assert [coder.cross_types_[t] for t in types] == [p["cancer_type"] for p in predicted]
    assert any(a != t for a, t in zip(alone, types, strict=True))
    assert {p["cancer_type"] for p in predicted} == {"LUSC", "LUAD"}
    ranked = coder.predict_ranked(mixed, k=1, abstain=False)  # the ranking's first is the coded value
    assert [r["cancer_type"][0][0] for r in ranked] == [p["cancer_type"] for p in predicted]
    assert [r["icd_o_3_histology"][0][0] for r in ranked] == [p["icd_o_3_histology"] for p in predicted]


def test_character_ngrams_read_the_words_ocr_broke(tmp_path: Path) -> None:
    from nlp_engine.pathology.model_io import load_pathology_coder, save_pathology_coder

    kinds = [
        ("adenocarcinoma, acinar pattern", "LUAD", "8140/3"),
        ("squamous cell carcinoma, keratinizing", "LUSC", "8070/3"),
        ("glioblastoma with necrosis", "GBM", "9440/3"),
    ]
    rng = random.Random(5)
    texts, records = [], []
    for i in range(60):
        words, kind, code = kinds[i % 3]
        texts.append(f"Specimen {rng.choice('ABC')}, resection: {words}, {rng.randint(1, 6)} cm.")
        records.append(
            {"cancer_type": kind, "icd_o_3_histology": code, "pathologic_T": rng.choice(["T1", "T2"])}
        )
    # every tumour's words as OCR broke them: none of these words is in the training reports
    broken = [
        "Specimen A, resection: adenocarcinorna, aclnar pattem, 3 cm.",
        "Specimen B, resection: squarnous ce1l carcinorna, keratinizinq, 3 cm.",
        "Specimen C, resection: gIioblastorna with necrosls, 3 cm.",
    ]
    targets = ("cancer_type", "icd_o_3_histology", "pathologic_T")
    words = PathologyCoder(targets=targets, char_fields=()).fit(texts, records)
    chars = PathologyCoder(targets=targets, char_fields=("cancer_type", "icd_o_3_histology")).fit(
        texts, records
    )
    wanted = [kind for _, kind, _ in kinds]
    assert [p["cancer_type"] for p in chars.predict(broken, abstain=False)] == wanted
    assert [p["icd_o_3_histology"] for p in chars.predict(broken, abstain=False)] == [c for *_, c in kinds]
    # on words alone the broken reports look alike: at least one is coded wrong
    assert [p["cancer_type"] for p in words.predict(broken, abstain=False)] != wanted
    # pT sees the words and the extracted fields only
    x, _ = chars._features(broken)
    assert chars._design("pathologic_T", x, None).shape[1] == sum(chars._widths()) < x.shape[1]
    assert chars._design("cancer_type", x, None).shape[1] == x.shape[1]
    # character n-grams weigh, but the evidence is words and fields a reader can find in the text
    explained = chars.predict_explained(texts[:3])
    for report, text in zip(explained, texts[:3], strict=True):
        for entry in report["fields"].values():
            assert entry["evidence"] and not any(e["term"].startswith("#chars:") for e in entry["evidence"])
            for e in entry["evidence"]:
                if not e["term"].startswith("__"):
                    assert text[e["start"] : e["end"]].lower() == e["term"]
    # by default (True) the fields `CHAR_FIELDS` names; saved and loaded, the same codes and scores
    default = PathologyCoder(targets=targets).fit(texts, records)
    assert default.sees_chars("cancer_type") and not default.sees_chars("pathologic_T")
    save_pathology_coder(chars, tmp_path / "m")
    loaded = load_pathology_coder(tmp_path / "m")
    assert loaded.chars_.vocabulary_ == chars.chars_.vocabulary_
    assert loaded.predict_explained(broken) == chars.predict_explained(broken)
    card = json.loads((tmp_path / "m" / "model_card.json").read_text())
    assert card["parameters"]["char_fields"] == ["cancer_type", "icd_o_3_histology"]


def test_a_report_on_a_site_no_training_report_has_goes_to_review() -> None:
    texts, records = corpus(40, seed=1)
    for record in records:
        record["icd_o_3_site"] = "C34.1" if record["cancer_type"] == "LUSC" else "C61.9"
    targets = ("cancer_type", "icd_o_3_histology", "icd_o_3_site")
    coder = PathologyCoder(targets=targets).fit(texts, records)
    assert coder.sites_ == ["C34", "C61"]
    breast = "Breast, left, lumpectomy: invasive ductal carcinoma, 2.1 cm. Margins free."
    lung = LUNG.format(size=3)
    explained = coder.predict_explained([breast, lung])
    # the classifier can only answer with a lung or a prostate: the breast's type and site go to a
    # human with the reason, whatever their scores; its histology stands on its own
    fields = explained[0]["fields"]
    assert fields["cancer_type"]["value"] in ("LUSC", "PRAD")
    for target in ("cancer_type", "icd_o_3_site"):
        assert fields[target]["review"] is True
        assert fields[target]["review_reason"] == (
            "the report's primary site (C50) is none of the 2 sites the coder was trained on"
        )
    assert fields["icd_o_3_histology"]["review"] is None  # no thresholds, no doubt
    assert set(explained[0]["review"]) == {"cancer_type", "icd_o_3_site"}
    assert explained[1]["review"] == []
    # held out of the accuracy the review thresholds are learned from, as a stated doubt is
    assert coder.scored([breast])[0]["cancer_type"].stated_differently
    # a site read from a mention away from the type and any site label (the ureters of a resection)
    # may be a neighbouring organ of the specimen: no review for it alone
    ureters = (
        "FINAL DIAGNOSIS:\nA. Right distal ureter: benign ureter.\nB. Left distal ureter: benign ureter.\n"
        "C. Resection:\nSections show invasive urothelial carcinoma infiltrating the muscularis propria.\n"
    )
    assert extract(ureters)["primary_site"]["value"] == "C66.9"
    assert coder.scored([ureters])[0]["cancer_type"].stated_differently is None
    # the same organ on the type's own line is the tumour's
    beside = "Right distal ureter, resection: invasive urothelial carcinoma, 2.1 cm. Margins free."
    assert extract(beside)["primary_site"]["value"] == "C66.9"
    assert "(C66)" in str(coder.scored([beside])[0]["cancer_type"].stated_differently)


def test_too_few_reports_for_character_ngrams_train_on_words() -> None:
    texts, records = corpus(4, seed=7)
    # 4 reports: an n-gram in 3 of them (`min_df`) is in more than half (`max_df`); none is kept
    coder = PathologyCoder(targets=("cancer_type", "pathologic_T")).fit(texts, records)
    assert coder.chars_ is None and not coder.sees_chars("cancer_type")
    assert [p["cancer_type"] for p in coder.predict(texts)] == [r["cancer_type"] for r in records]
    many, many_records = corpus(12, seed=7)
    assert PathologyCoder(targets=("cancer_type",)).fit(many, many_records).sees_chars("cancer_type")


def test_a_long_report_is_counted_in_pieces_with_the_same_character_ngrams() -> None:
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    from nlp_engine.pathology.coder import _CHAR_SETTINGS, _char_tfidf

    texts, _ = corpus(30, seed=8)
    vectorizer = TfidfVectorizer(**_CHAR_SETTINGS).fit(texts)
    # pieces cut between words (spaces, and line breaks where a stretch has no space) count the same
    # n-grams as the whole text; only the list of them at once is smaller
    long = ["\n".join(texts), " ".join(texts[:3]), texts[0].replace(" ", "\n")]
    whole = vectorizer.transform(long).toarray()
    for piece in (40, 300, 100_000):
        pieces = _char_tfidf(vectorizer, long, piece=piece)
        assert pieces.dtype == np.float32 and pieces.shape == whole.shape
        assert np.allclose(pieces.toarray(), whole, atol=1e-6)


def test_each_named_site_is_a_feature_with_its_own_span() -> None:
    from nlp_engine.pathology.coder import _site_features, _term_span

    text = (
        "GROSS DESCRIPTION: The specimen is a segment of sigmoid colon.\nFINAL DIAGNOSIS:\n"
        "A. Colon, cecum, right hemicolectomy:\n - Adenocarcinoma, moderately differentiated.\n"
        "B. Appendix: no tumor.\nSYNOPTIC REPORT\nTumor site: cecum\n"
    )
    fields = extract(text)
    features = _site_features(text, fields)
    assert {"__site_named_text_C18.7", "__site_named_type_C18.0", "__site_named_site_label_C18.0"} <= set(
        features
    )
    assert "__site_named_type_C18.7" not in features
    # the evidence of such a feature is its own mention (the label's cecum, not the header's), crossed too
    start, end = _term_span(text, "__site_named_site_label_C18.0@COAD", fields)
    assert (text[start:end], text[start - 12 : start]) == ("cecum", "Tumor site: ")
    start, end = _term_span(text, "__site_named_text_C18.7", fields)
    assert text[start:end] == "sigmoid colon"
    assert _term_span(text, "__site_named_type_C34.1", fields) == (None, None)
    # the coder sees them beside the extracted fields
    texts, records = corpus(12, seed=3)
    coder = PathologyCoder(targets=("cancer_type", "pathologic_T")).fit(texts, records)
    assert any(name.startswith("__site_named_type_C34") for name in coder.fields_.feature_names_)
    # only the fields that name the tumour's kind or site weigh them; pT's classifier sees them empty
    names = coder._design_names("cancer_type")
    named = [j for j, name in enumerate(names) if name.startswith("__site_named_")]
    assert named and abs(coder.models_["cancer_type"].coef_[:, named]).max() > 0
    t_names = coder._design_names("pathologic_T")
    t_named = [j for j, name in enumerate(t_names) if name.startswith("__site_named_")]
    assert len(t_named) > len(named)  # its crossed copies too
    assert abs(coder.models_["pathologic_T"].coef_[:, t_named]).max() == 0


def test_with_prior_raises_the_stated_class_and_leaves_unstated_rows(monkeypatch: Any) -> None:
    import numpy as np

    from nlp_engine.pathology import coder as coder_module
    from nlp_engine.pathology.coder import _with_prior

    monkeypatch.setitem(coder_module.STATED_PRIOR, "icd_o_3_histology", 1.0)
    scores = np.array([[0.5, 0.3, 0.2], [0.5, 0.3, 0.2], [0.5, 0.3, 0.2]])
    stated = [
        {"histologic_type": {"value": "b"}},
        {"histologic_type": None},
        {"histologic_type": {"value": "z"}},
    ]
    out = _with_prior(scores, "icd_o_3_histology", ["a", "b", "c"], stated)
    assert np.allclose(out.sum(axis=1), 1.0)
    assert np.isclose(out[0, 1] / out[0, 0], 0.3 * np.e / 0.5)
    assert np.isclose(out[0, 2] / out[0, 0], 0.2 / 0.5)  # the others keep their ratios
    assert np.allclose(out[1:], scores[1:])  # nothing stated, or a value no class has: as they were
    assert np.allclose(scores[0], [0.5, 0.3, 0.2])  # the caller's scores are not changed


def test_the_stated_value_of_each_field_is_found_among_its_classes() -> None:
    from nlp_engine.pathology.coder import _stated_columns

    fields = extract("Prostate, radical prostatectomy: acinar adenocarcinoma, Gleason 3+4=7. pT3a pN0 pMX.")
    assert fields["primary_site"]["value"] == "C61.9"
    # ICD-10 writes the whole prostate C61: the site's category where the site is the whole organ
    assert _stated_columns("icd_10", ["C34.1", "C61", "C67.9"], fields) == [1]
    assert _stated_columns("icd_o_3_site", ["C34.1", "C61.9"], fields) == [1]
    assert _stated_columns("icd_o_3_histology", ["8140/3", "8550/3"], fields) == [1]
    # the TNM as the record writes it (pT3a is T3a; pMX is MX)
    assert _stated_columns("pathologic_T", ["T2", "T3", "T3a"], fields) == [2]
    assert _stated_columns("pathologic_M", ["M0", "MX"], fields) == [1]
    assert _stated_columns("pathologic_T", ["T1", "T2"], fields) == []  # stated, but no such class
    assert _stated_columns("icd_10", ["C61"], {"primary_site": None}) == []


def test_the_stated_histology_and_site_weigh_as_a_prior(monkeypatch: Any) -> None:
    import numpy as np

    from nlp_engine.pathology import coder as coder_module

    kinds = [
        (
            "Lung, right upper lobe, lobectomy: squamous cell carcinoma, keratinizing, {} cm.",
            "LUSC",
            "8070/3",
            "C34.1",
        ),
        (
            "Lung, left lower lobe, lobectomy: adenocarcinoma, acinar pattern, {} cm.",
            "LUAD",
            "8140/3",
            "C34.3",
        ),
        ("Larynx, laryngectomy: squamous cell carcinoma, keratinizing, {} cm.", "HNSC", "8070/3", "C32.9"),
        ("Kidney, left, nephrectomy: clear cell renal cell carcinoma, {} cm.", "KIRC", "8310/3", "C64.9"),
    ]
    rng = random.Random(3)
    texts = [kinds[i % 4][0].format(rng.randint(1, 6)) for i in range(48)]
    records = [
        {"cancer_type": k[1], "icd_o_3_histology": k[2], "icd_o_3_site": k[3]}
        for k in (kinds[i % 4] for i in range(48))
    ]
    coder = PathologyCoder(targets=("cancer_type", "icd_o_3_histology", "icd_o_3_site")).fit(texts, records)
    # a lung report naming both types and both lobes; its synoptic lines state one of each
    lung = (
        "Lung, lobectomy: squamous cell carcinoma and adenocarcinoma, keratinizing, acinar, upper and lower lobe.\n"
        "Histologic type: adenocarcinoma\nTumor site: left lower lobe"
    )
    kidney = "Kidney, nephrectomy: clear cell renal cell carcinoma, 4 cm."
    fields = extract(lung)
    assert (fields["histologic_type"]["value"], fields["primary_site"]["value"]) == ("8140/3", "C34.3")
    assert fields["histologic_type"]["alternatives"] == ["8070/3"]
    x, extracted = coder._features([lung, kidney])
    with_prior = coder._probabilities(x, extracted)
    priors = dict(coder_module.STATED_PRIOR)
    monkeypatch.setattr(coder_module, "STATED_PRIOR", {})
    without = coder._probabilities(x, extracted)

    def raised(target: str, row: int, stated: str, other: str) -> float:
        """How much the prior raised `stated` against `other` in log-score."""
        classes = [str(c) for c in coder.models_[target].classes_]
        s, o = classes.index(stated), classes.index(other)
        return float(
            np.log(with_prior[target][row, s] / with_prior[target][row, o])
            - np.log(without[target][row, s] / without[target][row, o])
        )

    # the site stated, against another lobe; each histology the lung report names (adenocarcinoma
    # chosen, squamous cell carcinoma beside it: both broad types), against one it does not name
    assert np.isclose(raised("icd_o_3_site", 0, "C34.3", "C34.1"), priors["icd_o_3_site"])
    assert np.isclose(raised("icd_o_3_histology", 0, "8140/3", "8310/3"), priors["icd_o_3_histology"])
    assert np.isclose(raised("icd_o_3_histology", 0, "8070/3", "8310/3"), priors["icd_o_3_histology"])
    assert np.isclose(raised("icd_o_3_histology", 0, "8140/3", "8070/3"), 0.0)
    # a type the vocabulary refines no further (clear cell, not renal cell carcinoma NOS) weighs more
    assert extracted[1]["histologic_type"]["value"] == "8310/3"
    specific = coder_module.SPECIFIC_HISTOLOGY_PRIOR
    assert specific > priors["icd_o_3_histology"]
    assert np.isclose(raised("icd_o_3_histology", 1, "8310/3", "8140/3"), specific)
    # a coder told not to use the extraction gives it no prior either
    monkeypatch.setattr(coder_module, "STATED_PRIOR", priors)
    coder.use_extracted = False
    assert np.allclose(coder._probabilities(x, extracted)["icd_o_3_site"], without["icd_o_3_site"])
