"""Cohort tools on hand-written notes (three topics: hypertension, diabetes, pneumonia): clustering and
its descriptions, similar cases, code recommendation, persistence, the CLI, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score
from typer.testing import CliRunner

from nlp_engine.cli import app
from nlp_engine.cohorts import (
    CaseIndex,
    CodeRecommender,
    CohortError,
    ReportEmbedder,
    cluster_map,
    cluster_reports,
)

Notes = tuple[list[str], list[list[str]]]


def _single_topic(notes: Notes) -> tuple[list[str], list[list[str]], list[str]]:
    texts, codes = notes
    keep = [i for i, c in enumerate(codes) if len(c) == 1]
    return [texts[i] for i in keep], [codes[i] for i in keep], [codes[i][0] for i in keep]


def test_kmeans_recovers_the_topics_and_describes_them(coded_notes: Notes) -> None:
    texts, codes, topic = _single_topic(coded_notes)
    cohorts = cluster_reports(texts, codes=codes, k=3, embedder=ReportEmbedder(dims=5))
    assert adjusted_rand_score(topic, cohorts.labels) > 0.5, cohorts.labels
    assert sum(c["size"] for c in cohorts.clusters) == len(texts)
    by_code = {c["top_codes"][0]["code"]: c for c in cohorts.clusters if c["top_codes"]}
    assert set(by_code) == {"I10", "E11.9", "J18.9"}
    assert "pneumonia" in by_code["J18.9"]["top_terms"]
    assert by_code["J18.9"]["top_codes"][0]["lift"] > 1.5
    assert cohorts.summary["k"] == 3 and cohorts.summary["codes_from"] == "given"


def test_k_is_chosen_by_silhouette_when_not_given(coded_notes: Notes) -> None:
    texts, codes, _ = _single_topic(coded_notes)
    cohorts = cluster_reports(texts, codes=codes, embedder=ReportEmbedder(dims=5))
    scores = cohorts.summary["silhouette_by_k"]
    assert cohorts.summary["k"] == max(scores, key=lambda k: scores[k])


def test_dbscan_marks_outliers_as_noise(coded_notes: Notes) -> None:
    texts, codes, _ = _single_topic(coded_notes)
    texts = [*texts, "Sprained ankle after a fall, ice and rest advised."]
    codes = [*codes, []]
    cohorts = cluster_reports(
        texts, codes=codes, method="dbscan", min_samples=2, embedder=ReportEmbedder(dims=5)
    )
    assert cohorts.labels[-1] == -1  # the ankle note belongs to no topic
    assert 0 < cohorts.summary["noise_fraction"] < 0.5
    assert cohorts.summary["clusters"] >= 2


def test_codes_come_from_the_pipeline_when_none_are_given(coded_notes: Notes) -> None:
    texts, _, _ = _single_topic(coded_notes)
    cohorts = cluster_reports(texts, k=3, embedder=ReportEmbedder(dims=5))
    assert cohorts.summary["codes_from"].startswith("pipeline")
    found = {c["top_codes"][0]["code"] for c in cohorts.clusters if c["top_codes"]}
    assert found & {"I10", "J18.9"}


def test_cluster_map_is_a_png(tmp_path: Path, coded_notes: Notes) -> None:
    texts, codes, _ = _single_topic(coded_notes)
    cohorts = cluster_reports(texts, codes=codes, k=3, embedder=ReportEmbedder(dims=5))
    out = cluster_map(cohorts, tmp_path / "map.png")
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_similar_cases_and_recommendations(tmp_path: Path, coded_notes: Notes) -> None:
    texts, codes = coded_notes
    ids = [f"case{i}" for i in range(len(texts))]
    index = CaseIndex.build(texts, ids, codes, embedder=ReportEmbedder(dims=8))
    near = index.query("Right lower lobe pneumonia on chest x-ray, ceftriaxone.", k=3)
    assert len(near) == 3 and near[0]["similarity"] >= near[-1]["similarity"]
    assert all("J18.9" in n["codes"] for n in near)
    assert index.query(texts[0], k=1, exclude="case0")[0]["id"] != "case0"
    ranked = index.recommend_codes("Known hypertension, lisinopril continued, BP 150/90.", k=2, neighbours=4)
    assert ranked[0][0] == "I10"
    index.save(tmp_path / "idx")
    loaded = CaseIndex.load(tmp_path / "idx")
    assert loaded.query(texts[5], k=2) == index.query(texts[5], k=2)
    (tmp_path / "idx" / "model.skops").write_bytes(b"tampered")
    with pytest.raises(CohortError, match="SHA-256 differs"):
        CaseIndex.load(tmp_path / "idx")


def test_item_based_collaborative_filtering() -> None:
    cases = [["I10", "E11.9", "E78.5"]] * 6 + [["I10", "E78.5"]] * 3 + [["J18.9", "J44.9"]] * 4 + [["E11.9"]]
    model = CodeRecommender().fit(cases)
    ranked = model.recommend(["E11.9"], k=3)
    assert [c for c, _ in ranked][:2] in (["I10", "E78.5"], ["E78.5", "I10"])
    assert "J18.9" not in {c for c, _ in ranked}  # never co-occurs with diabetes
    assert all(c != "E11.9" for c, _ in ranked)  # known codes are not recommended again
    assert model.recommend(["Z99.9"]) == []
    # shrinkage: a pair seen once is weaker than a pair seen often with the same cosine
    few = CodeRecommender().fit([["A", "B"]])
    many = CodeRecommender().fit([["A", "B"]] * 10)
    assert few.recommend(["A"])[0][1] < many.recommend(["A"])[0][1]


def test_bad_input_is_a_clear_error(coded_notes: Notes) -> None:
    texts, codes = coded_notes
    with pytest.raises(CohortError, match="at least 3 reports"):
        cluster_reports(texts[:2])
    with pytest.raises(CohortError, match="unknown clustering method"):
        cluster_reports(texts, method="spectral")
    with pytest.raises(CohortError, match="unknown embedding"):
        cluster_reports(texts, embedder=ReportEmbedder("bert"))
    with pytest.raises(CohortError, match="k must be between 2"):
        cluster_reports(texts, codes=codes, k=100, embedder=ReportEmbedder(dims=5))
    with pytest.raises(CohortError, match="unique"):
        CaseIndex.build(texts[:3], ["a", "a", "b"], codes[:3])
    with pytest.raises(CohortError, match="no codes"):
        CodeRecommender().fit([[], []])


def test_cli_cluster_index_similar_recommend(tmp_path: Path, coded_notes: Notes) -> None:
    texts, codes = coded_notes
    table = tmp_path / "notes.jsonl"
    table.write_text(
        "\n".join(json.dumps({"id": f"n{i}", "text": t, "codes": c}) for i, (t, c) in enumerate(zip(texts, codes, strict=True))),
        encoding="utf-8",
    )  # fmt: skip
    runner = CliRunner()
    result = runner.invoke(
        app, ["cohort", "cluster", str(table), "--out", str(tmp_path / "c"), "--k", "3", "--dims", "5", "--codes-column", "codes"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["k"] == 3 and sum(summary["sizes"].values()) == len(texts)
    assert (tmp_path / "c" / "cluster_map.png").exists()
    rows = (tmp_path / "c" / "assignments.csv").read_text().splitlines()
    assert rows[0] == "id,cluster,x,y" and len(rows) == len(texts) + 1
    result = runner.invoke(
        app, ["cohort", "index", str(table), "--out", str(tmp_path / "idx"), "--dims", "8", "--codes-column", "codes"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = tmp_path / "new.txt"
    report.write_text("Type 2 diabetes, HbA1c 8%, metformin continued.", encoding="utf-8")
    result = runner.invoke(
        app, ["cohort", "similar", str(report), "--index", str(tmp_path / "idx"), "--k", "3"]
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["recommended_codes"][0]["code"] == "E11.9"
    assert len(answer["similar"]) == 3
    result = runner.invoke(app, ["cohort", "recommend", "E11.9", "--index", str(tmp_path / "idx")])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["recommended"][0]["code"] in ("I10", "J18.9")


def test_embeddings_are_unit_length_or_zero_without_known_terms(coded_notes: Notes) -> None:
    texts, _ = coded_notes
    x = ReportEmbedder(dims=6).fit(texts).transform([*texts[:16], "zzz qqq"])
    np.testing.assert_allclose(np.linalg.norm(x[:16], axis=1), 1.0, atol=1e-5)
    assert not x[16].any()  # no term seen in training: similar to nothing, not to everything


def test_tables_cluster_by_their_columns_with_features_and_codes(tmp_path: Path) -> None:
    import pandas as pd

    rng = np.random.default_rng(0)
    young = pd.DataFrame({"age": rng.normal(30, 3, 40), "sex": "F", "dx": "O80"})
    old = pd.DataFrame({"age": rng.normal(75, 3, 40), "sex": rng.choice(["M", "F"], 40), "dx": "I10;E11.9"})
    table = pd.concat([young, old], ignore_index=True)
    table["pid"] = [f"p{i}" for i in range(len(table))]
    table.loc[3, "age"] = None
    from nlp_engine.cohorts import cluster_table

    cohorts = cluster_table(table, id_column="pid", codes_column="dx", k=2)
    assert adjusted_rand_score([0] * 40 + [1] * 40, cohorts.labels) > 0.9
    old_cluster = next(
        c for c in cohorts.clusters if c["top_codes"] and c["top_codes"][0]["code"] in ("I10", "E11.9")
    )
    assert (
        "age" in old_cluster["top_features"][:3] and 39 <= old_cluster["size"] <= 41
    )  # the row without age may go either way
    assert cohorts.summary["features"] == ["age", "sex"]
    with pytest.raises(CohortError, match="no column 'patient'"):
        cluster_table(table, id_column="patient")
    table.to_csv(tmp_path / "patients.csv", index=False)
    result = CliRunner().invoke(
        app,
        ["cohort", "cluster", str(tmp_path / "patients.csv"), "--tabular", "--id-column", "pid",
         "--codes-column", "dx", "--k", "2", "--out", str(tmp_path / "c")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(json.loads(result.output)["sizes"].values()) in ([39, 41], [40, 40])
    assert (tmp_path / "c" / "assignments.csv").read_text().splitlines()[1].startswith("p")
