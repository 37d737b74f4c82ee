from __future__ import annotations

import json
from pathlib import Path

from corpora.readers import iter_files, iter_records


def by_id(folder: Path, **kwargs: str) -> dict[str, tuple[str | None, str | None]]:
    return {r.id: (r.text, r.error) for r in iter_records(folder, **kwargs)}


def test_csv_tsv_and_jsonl_rows(tmp_path: Path) -> None:
    (tmp_path / "notes.csv").write_text(
        'note_id,transcription\nA1,"Denies chest pain,\nno fever."\nA2,\n', encoding="utf-8"
    )
    (tmp_path / "notes.tsv").write_bytes("id\ttext\nT1\tSeen at the café.\n".encode("cp1252"))
    (tmp_path / "notes.jsonl").write_text(
        json.dumps({"id": "J1", "text": "CHF."})
        + "\n{not json\n"
        + json.dumps(["a list"])
        + "\n"
        + json.dumps({"text": "COPD."})
        + "\n"
    )
    records = by_id(tmp_path)
    assert records["notes.csv#A1"] == ("Denies chest pain,\nno fever.", None)
    assert records["notes.csv#A2"] == (None, "empty or missing text")
    assert records["notes.tsv#T1"] == ("Seen at the café.", None)
    assert records["notes.jsonl#J1"] == ("CHF.", None)
    assert (
        records["notes.jsonl#line2"][1] is not None
        and "malformed JSON at line 2" in records["notes.jsonl#line2"][1]
    )
    assert records["notes.jsonl#line3"][1] == "line 3 is not a JSON object"
    assert records["notes.jsonl#line4"] == ("COPD.", None)  # no id column value: the line number


def test_explicit_columns_and_missing_text_column(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("key,body_text\nk1,Possible pneumonia.\n")
    assert by_id(tmp_path)["t.csv"][1].startswith("no text column")  # type: ignore[union-attr]
    assert by_id(tmp_path, id_column="key", text_column="body_text")["t.csv#k1"] == (
        "Possible pneumonia.",
        None,
    )


def test_rows_carry_a_content_hash(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id,text\n1,same\n2,same\n3,other\n")
    hashes = [r.metadata["sha256"] for r in iter_records(tmp_path)]
    assert hashes[0] == hashes[1] != hashes[2]


def test_binary_table_is_one_failure(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_bytes(b"\x00\x01\x02\x03")
    records = list(iter_records(tmp_path))
    assert [(r.id, r.text) for r in records] == [("bad.csv", None)]
    assert "binary" in (records[0].error or "")


def test_walk_is_sorted_and_filters_suffixes(tmp_path: Path) -> None:
    for name in ["b/2.txt", "a/1.md", "c/skip.pdf", "c/3.jsonl"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert [i for i, _ in iter_files(tmp_path)] == ["a/1.md", "b/2.txt", "c/3.jsonl"]


def test_parquet_rows(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"report_id": ["r1", "r2"], "text": ["Denies chest pain.", None]})
    pq.write_table(table, tmp_path / "notes.parquet")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    got = by_id(tmp_path)
    assert got["notes.parquet#r1"] == ("Denies chest pain.", None)
    assert got["notes.parquet#r2"] == (None, "empty or missing text")
    assert (got["broken.parquet"][1] or "").startswith("unreadable Parquet file")


def test_rtf_report_is_read_as_plain_text(tmp_path: Path) -> None:
    rtf = (
        rb"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0 Arial;}}\f0\fs20 FINAL DIAGNOSIS:\par "
        rb"Adenocarcinoma of the caf\'e9 \u8211? no metastasis.\par}"
    )
    (tmp_path / "report.rtf").write_bytes(rtf)
    (tmp_path / "fake.rtf").write_text("plain text pretending to be RTF")
    records = {r.id: r for r in iter_records(tmp_path)}
    good = records["report.rtf"]
    assert good.text == "FINAL DIAGNOSIS:\nAdenocarcinoma of the café – no metastasis.\n"
    assert good.metadata["encoding"] == "rtf"
    assert "\\rtf" not in (good.text or "") and "\\par" not in (good.text or "")
    assert records["fake.rtf"].text is None
    assert "does not start with '{\\rtf'" in (records["fake.rtf"].error or "")


def test_include_and_exclude_globs(tmp_path: Path) -> None:
    for name in ["a/1.txt", "a/2.md", "archive/3.txt", "b/4.txt", "b/notes.csv"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    ids = lambda **kw: [i for i, _ in iter_files(tmp_path, **kw)]  # noqa: E731
    assert ids(include=["*.txt"]) == ["a/1.txt", "archive/3.txt", "b/4.txt"]
    assert ids(include=["*.txt"], exclude=["archive/*"]) == ["a/1.txt", "b/4.txt"]
    assert ids(exclude=["*.csv", "2.*"]) == ["a/1.txt", "archive/3.txt", "b/4.txt"]
    assert ids(include=["b/*"]) == ["b/4.txt", "b/notes.csv"]
    assert [r.id for r in iter_records(tmp_path, include=["a/*"])] == ["a/1.txt", "a/2.md"]


def test_table_cells_of_utf16_read_as_8bit_are_repaired(tmp_path: Path) -> None:
    import csv

    broken = "Pathology Report\nRENAL CELL CARCINOMA, CHROMOPHOBE TYPE.".encode("utf-16-be").decode("latin-1")
    with open(tmp_path / "reports.csv", "w", encoding="utf-8", newline="") as handle:
        others = [
            [f"n{i}", f"Benign prostatic tissue, core {i} of 12, no carcinoma seen."] for i in range(12)
        ]
        csv.writer(handle).writerows(
            [["id", "text"], ["r1", broken], ["r2", "Benign prostatic tissue."], *others]
        )
    records = {r.id: r for r in iter_records(tmp_path)}
    assert records["reports.csv#r1"].text == "Pathology Report\nRENAL CELL CARCINOMA, CHROMOPHOBE TYPE."
    assert "UTF-16" in records["reports.csv#r1"].metadata["repaired"]
    assert records["reports.csv#r2"].text == "Benign prostatic tissue."
    assert "repaired" not in records["reports.csv#r2"].metadata


def test_tables_stream_in_their_detected_encoding(tmp_path: Path) -> None:
    from nlp_engine.textio import sniff_file_encoding

    rows = "id,text\n" + "".join(f"{i},Plain row number {i}.\n" for i in range(5000))
    # The only non-ASCII byte sits far past the first chunk: the whole file decides the encoding.
    (tmp_path / "late.csv").write_bytes((rows + "9999,Naïve café – résumé.\n").encode("cp1252"))
    (tmp_path / "bom.csv").write_bytes("id,text\n1,Résumé.\n".encode("utf-16"))
    (tmp_path / "nobom.csv").write_bytes("id,text\n2,Résumé two.\n".encode("utf-16-le"))
    assert sniff_file_encoding(tmp_path / "late.csv", chunk_size=4096) == "cp1252"
    assert sniff_file_encoding(tmp_path / "bom.csv") == "utf-16"
    assert sniff_file_encoding(tmp_path / "nobom.csv") == "utf-16-le"
    records = {r.id: r for r in iter_records(tmp_path)}
    assert records["late.csv#9999"].text == "Naïve café – résumé."
    assert records["late.csv#9999"].metadata["encoding"] == "cp1252"
    assert records["nobom.csv#2"].text == "Résumé two."
    assert records["bom.csv#1"].text == "Résumé."
    assert len(records) == 5003
