"""Tabular models on scikit-learn's (real) breast cancer set, FHIR resources to a patient table, the
tabular CLI, and the clear errors for bad tables."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from typer.testing import CliRunner

from nlp_engine.cli import app
from nlp_engine.errors import TabularError
from nlp_engine.tabular import TabularModel, fhir_to_table, read_table


@pytest.fixture(scope="module")
def breast() -> pd.DataFrame:
    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.assign(target=bunch.target.map({0: "malignant", 1: "benign"}))
    # a categorical column with a rare value and a missing value, as real tables have
    rng = np.random.default_rng(0)
    frame["clinic"] = rng.choice(["north", "south", "east"], len(frame))
    frame.loc[:2, "clinic"] = "rare"
    frame.loc[5, "clinic"] = None
    frame["empty"] = np.nan
    frame["record_id"] = [f"R{i:04d}" for i in range(len(frame))]
    return frame


def test_logistic_regression_reaches_the_published_auc(breast: pd.DataFrame) -> None:
    result = TabularModel("target", model="logreg").cross_validate(breast, folds=5)
    assert result["roc_auc"] >= 0.99, result
    assert result["accuracy"] > result["majority_class_accuracy"] + 0.3
    assert result["rows"] == len(breast) and result["classes"] == ["benign", "malignant"]


@pytest.mark.parametrize("name", ["forest", "hgb"])
def test_tree_models_learn_too(breast: pd.DataFrame, name: str) -> None:
    result = TabularModel("target", model=name).cross_validate(breast, folds=3)
    assert result["roc_auc"] > 0.97, result


def test_empty_and_identifier_columns_are_dropped_and_reported(breast: pd.DataFrame) -> None:
    model = TabularModel("target", model="logreg", drop=["mean radius"]).fit(breast)
    dropped = model.report_["dropped_columns"]
    assert dropped == {
        "mean radius": "asked",
        "empty": "empty",
        "record_id": "identifier (one value per row)",
    }
    assert "clinic" in model.report_["categorical"]
    assert "mean radius" not in model.features_


def test_unseen_categories_are_counted_not_fatal(breast: pd.DataFrame) -> None:
    model = TabularModel("target", model="hgb").fit(breast)
    new = breast.head(4).copy()
    new["clinic"] = ["west", "north", "west", None]
    probs = model.predict_proba(new)
    assert probs.shape == (4, 2) and np.allclose(probs.sum(axis=1), 1)
    assert model.unseen_ == {"clinic": 2}
    model.predict(breast.head(3))
    assert model.unseen_ == {}


def test_bad_tables_are_clear_errors(tmp_path: Path, breast: pd.DataFrame) -> None:
    with pytest.raises(TabularError, match="no target column 'outcome'"):
        TabularModel("outcome").fit(breast)
    with pytest.raises(TabularError, match="single class"):
        TabularModel("target").fit(breast[breast["target"] == "benign"])
    with pytest.raises(TabularError, match="no usable feature columns"):
        TabularModel("target").fit(breast[["target", "empty", "record_id"]])
    with pytest.raises(TabularError, match="unknown model"):
        TabularModel("target", model="xgboost")
    model = TabularModel("target", model="logreg").fit(breast)
    with pytest.raises(TabularError, match=r"missing feature columns: \['mean area'\]"):
        model.predict(breast.drop(columns=["mean area"]))
    with pytest.raises(TabularError, match="not trained"):
        TabularModel("target").predict(breast)
    (tmp_path / "t.xlsx").write_bytes(b"PK")
    with pytest.raises(TabularError, match="must be .csv, .tsv or .parquet"):
        read_table(tmp_path / "t.xlsx")
    (tmp_path / "bin.parquet").write_bytes(b"\x00\x01\x02")
    with pytest.raises(TabularError, match="bin.parquet: not a readable table"):
        read_table(tmp_path / "bin.parquet")


def test_tables_in_cp1252_and_utf16_are_read_and_binary_is_refused(tmp_path: Path) -> None:
    rows = "clinic,age,outcome\nCl\u00ednica S\u00e3o Jos\u00e9 \u2013 north,61,alive\nWest,70,dead\n"
    (tmp_path / "cp.csv").write_bytes(rows.encode("cp1252"))
    (tmp_path / "u16.csv").write_text(rows, encoding="utf-16")
    for name, encoding in (("cp.csv", "cp1252"), ("u16.csv", "utf-16")):
        table = read_table(tmp_path / name)
        assert table.attrs["encoding"] == encoding
        assert table.loc[0, "clinic"] == "Cl\u00ednica S\u00e3o Jos\u00e9 \u2013 north"
    (tmp_path / "blob.csv").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(TabularError, match="blob.csv: binary data"):
        read_table(tmp_path / "blob.csv")


def test_rows_without_a_target_are_left_out_and_counted(breast: pd.DataFrame) -> None:
    frame = breast.copy()
    frame.loc[:9, "target"] = None
    model = TabularModel("target", model="logreg").fit(frame)
    assert model.report_["rows_without_target"] == 10 and model.report_["rows"] == len(frame) - 10


def test_save_load_round_trip_and_tamper_check(tmp_path: Path, breast: pd.DataFrame) -> None:
    model = TabularModel("target", model="logreg", calibrate="sigmoid").fit(breast)
    model.save(tmp_path / "m")
    loaded = TabularModel.load(tmp_path / "m")
    np.testing.assert_allclose(loaded.predict_proba(breast), model.predict_proba(breast))
    assert loaded.categories_["clinic"] == ["east", "north", "rare", "south"]
    path = tmp_path / "m" / "model.skops"
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(TabularError, match="SHA-256 differs"):
        TabularModel.load(tmp_path / "m")


def _fhir_bundle() -> dict:
    def obs(pid: str, code: str, value: float, when: str) -> dict:
        return {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "subject": {"reference": f"Patient/{pid}"},
            "effectiveDateTime": when,
            "valueQuantity": {"value": value, "unit": "mmol/L"},
        }

    entries = [
        {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1950-06-01"},
        {"resourceType": "Patient", "id": "p2", "gender": "male", "birthDate": "1980-01-01",
         "deceasedBoolean": True},
        obs("p1", "2345-7", 5.1, "2020-01-01"),
        obs("p1", "2345-7", 7.9, "2021-01-01"),  # the latest value wins
        obs("p2", "2345-7", 4.4, "2020-05-05"),
        {"resourceType": "Condition", "subject": {"reference": "Patient/p1"},
         "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "E11.9"}]}},
        {"resourceType": "Condition", "subject": {"reference": "Patient/p2"},
         "verificationStatus": {"coding": [{"code": "refuted"}]},
         "code": {"coding": [{"code": "E11.9"}]}},
        {"resourceType": "Observation", "status": "final", "code": "not a CodeableConcept"},
    ]  # fmt: skip
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in entries]}


def test_fhir_resources_become_one_row_per_patient() -> None:
    import datetime as dt

    table = fhir_to_table([_fhir_bundle()], as_of=dt.date(2020, 6, 1)).set_index("patient_id")
    assert table.loc["p1", "age"] == 70.0 and table.loc["p1", "gender"] == "female"
    assert table.loc["p1", "obs:2345-7"] == 7.9 and table.loc["p2", "obs:2345-7"] == 4.4
    assert table.loc["p1", "condition:E11.9"] == 1 and table.loc["p2", "condition:E11.9"] == 0  # refuted
    assert bool(table.loc["p2", "deceased"]) and not bool(table.loc["p1", "deceased"])
    assert table.attrs["invalid"] == {"Observation": 1}


def test_malformed_fhir_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bad.ndjson").write_text('{"resourceType": "Patient", "id": "x"}\n{oops\n', encoding="utf-8")
    with pytest.raises(TabularError, match="bad.ndjson: not valid JSON \\(line 2\\)"):
        fhir_to_table(tmp_path)


def test_cli_train_evaluate_predict(tmp_path: Path, breast: pd.DataFrame) -> None:
    train, test = breast.iloc[::2], breast.iloc[1::2]
    train.to_csv(tmp_path / "train.csv", index=False)
    test.drop(columns=["target"]).to_parquet(tmp_path / "new.parquet")
    test.to_csv(tmp_path / "test.csv", index=False)
    runner = CliRunner()
    model = tmp_path / "model"
    result = runner.invoke(
        app,
        ["tabular", "train", str(tmp_path / "train.csv"), "--target", "target", "--out", str(model),
         "--model", "logreg", "--folds", "3"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    card = json.loads((model / "model_card.json").read_text())
    assert card["cross_validation"]["roc_auc"] > 0.97
    result = runner.invoke(app, ["tabular", "evaluate", str(tmp_path / "test.csv"), "--model", str(model)])
    assert result.exit_code == 0, result.output
    evaluation = json.loads(result.output)
    assert evaluation["roc_auc"] > 0.97 and evaluation["rows"] == len(test)
    assert {row["column"] for row in evaluation["permutation_importance"]} <= set(card["features"])
    out = tmp_path / "pred.csv"
    result = runner.invoke(
        app,
        ["tabular", "predict", str(tmp_path / "new.parquet"), "--model", str(model), "--out", str(out),
         "--id-column", "record_id"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    predictions = pd.read_csv(out)
    assert list(predictions.columns) == ["record_id", "predicted", "p_benign", "p_malignant"]
    assert (predictions["predicted"].to_numpy() == test["target"].to_numpy()).mean() > 0.9
