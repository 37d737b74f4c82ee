from __future__ import annotations

import json
import sqlite3

import nlp_engine
from nlp_engine.batch.writers import JsonlWriter, SqliteWriter


def test_jsonl_and_sqlite_agree(tmp_path) -> None:
    docs = nlp_engine.process(
        ["FAMILY HISTORY: Mother with breast cancer.", "Denies chest pain. CHF."], ids=["d1", "d2"]
    )
    with JsonlWriter(tmp_path / "r.jsonl") as jsonl, SqliteWriter(tmp_path / "r.sqlite") as db:
        for doc in docs:
            jsonl.write(doc)
            db.write(doc)
    lines = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [line["id"] for line in lines] == ["d1", "d2"]
    conn = sqlite3.connect(tmp_path / "r.sqlite")
    rows = conn.execute(
        "SELECT doc_id, text, code, status, section FROM concepts ORDER BY doc_id, idx"
    ).fetchall()
    assert rows == [
        ("d1", "breast cancer", "C50.919", "family", "family_history"),
        ("d2", "chest pain", "R07.9", "negated", None),
        ("d2", "CHF", "I50.9", "present", None),
    ]
    ranked = conn.execute(
        "SELECT code FROM codes WHERE doc_id='d2' AND concept_idx=1 ORDER BY rank"
    ).fetchall()
    assert ranked[0] == ("I50.9",)
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"concepts_code", "codes_code"} <= indexes


def test_sqlite_rewrite_replaces_rows(tmp_path) -> None:
    doc = nlp_engine.process("CHF and COPD.", ids=None)
    for _ in range(2):
        with SqliteWriter(tmp_path / "r.sqlite") as db:
            db.write(doc)
    conn = sqlite3.connect(tmp_path / "r.sqlite")
    assert conn.execute("SELECT COUNT(*) FROM documents").fetchone() == (1,)
    assert conn.execute("SELECT COUNT(*) FROM concepts").fetchone() == (2,)


def test_parquet_tables_hold_the_same_rows_as_sqlite(tmp_path) -> None:
    import pyarrow.parquet as pq

    from nlp_engine.batch.writers import TABLE_COLUMNS, ParquetWriter

    docs = nlp_engine.process(
        ["FAMILY HISTORY: Mother with breast cancer.", "Denies chest pain. CHF and COPD.", "No findings."],
        ids=["d1", "d2", "d3"],
    )
    # rows_per_group=2 forces several row groups per file: flushing must not lose or repeat rows.
    with (
        ParquetWriter(tmp_path / "pq", rows_per_group=2) as parquet,
        SqliteWriter(tmp_path / "r.sqlite") as db,
    ):
        for doc in docs:
            parquet.write(doc)
            db.write(doc)
    conn = sqlite3.connect(tmp_path / "r.sqlite")
    for table, columns in TABLE_COLUMNS.items():
        frame = pq.read_table(tmp_path / "pq" / f"{table}.parquet")
        assert tuple(frame.column_names) == columns
        from_parquet = sorted(zip(*(frame.column(c).to_pylist() for c in columns), strict=True), key=repr)
        from_sqlite = sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
        assert from_parquet == from_sqlite, table
        assert from_parquet, table
    assert not list((tmp_path / "pq").glob("*.tmp"))
