from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from corpora.coded import read_coded, read_codiesp, read_mtsamples
from nlp_engine.cli import app
from tests.conftest import shared_data

runner = CliRunner()


def _write_jsonl(path: Path, texts: list[str], codes: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        for i, (t, c) in enumerate(zip(texts, codes, strict=True)):
            handle.write(json.dumps({"id": f"n{i}", "text": t, "codes": c}) + "\n")
    return path


def test_read_coded_tables(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(
        'id,note,icd10\n1,"Hypertension.","I10; E11.9"\n2,"Well.",\n', encoding="utf-8"
    )
    docs = read_coded(tmp_path / "a.csv")
    assert [(d.id, d.text, d.codes) for d in docs] == [
        ("1", "Hypertension.", ["I10", "E11.9"]),
        ("2", "Well.", []),
    ]
    _write_jsonl(tmp_path / "b.jsonl", ["x"], [["J18.9", "I10"]])
    assert read_coded(tmp_path / "b.jsonl")[0].codes == ["J18.9", "I10"]
    with pytest.raises(ValueError, match="no codes column"):
        (tmp_path / "c.csv").write_text("id,text\n1,x\n", encoding="utf-8")
        read_coded(tmp_path / "c.csv")
    with pytest.raises(ValueError, match="CodiEsp folder or a .csv"):
        read_coded(tmp_path / "a.txt")


def test_read_coded_tables_in_other_encodings(tmp_path: Path) -> None:
    from nlp_engine.errors import NotTextError

    rows = 'id,text,codes\n1,"Neumon\u00eda \u2013 caf\u00e9 worker","J18.9"\n'
    (tmp_path / "cp.csv").write_bytes(rows.encode("cp1252"))
    (tmp_path / "u16.csv").write_text(rows, encoding="utf-16")
    for name in ("cp.csv", "u16.csv"):
        doc = read_coded(tmp_path / name)[0]
        assert (doc.text, doc.codes) == ("Neumon\u00eda \u2013 caf\u00e9 worker", ["J18.9"])
    (tmp_path / "bin.csv").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(NotTextError, match="looks binary"):
        read_coded(tmp_path / "bin.csv")


def test_read_codiesp_layout(tmp_path: Path) -> None:
    split = tmp_path / "train"
    (split / "text_files_en").mkdir(parents=True)
    (split / "text_files_en" / "case1.txt").write_text("Fever and cough.", encoding="utf-8")
    (split / "text_files_en" / "case2.txt").write_text("Uncoded case.", encoding="utf-8")
    (split / "trainD.tsv").write_text("case1\tr50.9\ncase1\tr05\ncase1\tr50.9\n", encoding="utf-8")
    docs = read_codiesp(tmp_path, "train")
    assert [(d.id, d.codes) for d in docs] == [("case1", ["R50.9", "R05"]), ("case2", [])]
    with pytest.raises(FileNotFoundError, match="D.tsv"):
        read_codiesp(tmp_path / "nowhere")


def test_read_real_codiesp_and_mtsamples() -> None:
    train = read_codiesp(shared_data("codiesp"), "train")
    assert len(train) == 500 and sum(len(d.codes) for d in train) > 5000
    docs = read_mtsamples(shared_data("mtsamples/mtsamples.csv"))
    groups = {d.group for d in docs}
    assert len(docs) > 4000 and 2000 < len(groups) < len(docs)  # duplicates share a group


def test_coder_train_evaluate_predict(tmp_path: Path, coded_notes: tuple[list[str], list[list[str]]]) -> None:
    texts, codes = coded_notes
    data = _write_jsonl(tmp_path / "train.jsonl", texts, codes)
    model = tmp_path / "model"
    result = runner.invoke(
        app, ["coder", "train", str(data), "--model", str(model), "--validation", str(data)]
    )
    assert result.exit_code == 0, result.output
    card = json.loads((model / "model_card.json").read_text())
    assert card["metrics"]["documents"] == len(texts) and 0 <= card["metrics"]["map"] <= 1
    assert card["training"]["documents"] == len(texts)

    result = runner.invoke(app, ["coder", "evaluate", str(data), "--model", str(model)])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)
    assert metrics["map"] > 0.5 and set(metrics) >= {"precision_at_5", "micro_f1", "macro_f1"}

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.txt").write_text("Hypertension, blood pressure 170/100.", encoding="utf-8")
    (notes / "b.txt").write_bytes(b"\x00\x01\x02binary")
    out = tmp_path / "pred.jsonl"
    result = runner.invoke(
        app, ["coder", "predict", str(notes), "--model", str(model), "--explain", "--out", str(out)]
    )
    assert result.exit_code == 1  # the binary file is reported, the rest is coded
    assert "skipped b.txt" in result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a.txt"]
    assert rows[0]["ranked"][0]["code"] == "I10" and rows[0]["explanations"][0]["evidence"]


def test_coder_train_refuses_bad_codes(tmp_path: Path) -> None:
    data = _write_jsonl(tmp_path / "bad.jsonl", ["Hypertension.", "Pneumonia."], [["I10"], ["not-a-code"]])
    result = runner.invoke(app, ["coder", "train", str(data), "--model", str(tmp_path / "m")])
    assert result.exit_code != 0
    assert "malformed" in str(result.exception)
    assert not (tmp_path / "m").exists()


def test_embed_commands(tmp_path: Path) -> None:
    from corpora.readers import samples_dir

    vectors = tmp_path / "w2v"
    result = runner.invoke(
        app,
        [
            "embed",
            "train-word2vec",
            str(samples_dir()),
            "--out",
            str(vectors),
            "--size",
            "16",
            "--min-count",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["vocabulary"] > 100
    result = runner.invoke(app, ["embed", "neighbours", str(vectors), "carcinoma", "--k", "3"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output.splitlines()[0])["neighbours"]) == 3
    assert runner.invoke(app, ["embed", "neighbours", str(vectors), "qqqqzzzz"]).exit_code == 1

    out = tmp_path / "emb.parquet"
    result = runner.invoke(app, ["embed", "encode", str(samples_dir()), "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.num_rows == len(list(samples_dir().glob("*.txt")))
    assert len(table.column("vector")[0].as_py()) == 384
