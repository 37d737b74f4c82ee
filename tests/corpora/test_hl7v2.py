from __future__ import annotations

from pathlib import Path

from corpora.hl7v2 import unescape
from corpora.readers import iter_records

MESSAGE = (
    "MSH|^~\\&|LAB|HOSP|EHR|HOSP|202401011200||ORU^R01|CTRL{n}|P|2.5\r"
    "PID|1||MRN{n}^^^HOSP||TEST^PATIENT\r"
    "OBR|1|PLC{n}|ACC{n}|88305^Surgical pathology\r"
    "OBX|1|TX|22636-5^Clinical history||Elevated PSA.||||||F\r"
    "OBX|2|TX|22637-3^Final diagnosis||Prostatic adenocarcinoma, Gleason 3+4=7.~No perineural invasion.||||||F\r"
    "OBX|3|TX|22637-3^Final diagnosis||Margins negative\\.br\\for carcinoma.||||||F\r"
)


def test_messages_become_documents(tmp_path: Path) -> None:
    # Two messages, \n line ends (as files usually have), then a truncated one and a non-report type.
    content = (
        MESSAGE.format(n=1).replace("\r", "\n")
        + MESSAGE.format(n=2)
        + "MSH|^~\\&|LAB|HOSP|EHR|HOSP|202401011200||ORU^R01|CTRL3|P|2.5\nPID|1||MRN3\n"
        + "MSH|^~\\&|ADT|HOSP|EHR|HOSP|202401011200||ADT^A01|CTRL4|P|2.5\nPID|1||MRN4\n"
    )
    (tmp_path / "feed.hl7").write_text(content)
    records = {r.id: r for r in iter_records(tmp_path)}
    assert sorted(records) == ["feed.hl7#CTRL1", "feed.hl7#CTRL2", "feed.hl7#CTRL3", "feed.hl7#CTRL4"]
    first = records["feed.hl7#CTRL1"]
    assert first.text == (
        "CLINICAL HISTORY:\nElevated PSA.\nFINAL DIAGNOSIS:\nProstatic adenocarcinoma, Gleason 3+4=7.\n"
        "No perineural invasion.\nMargins negative\nfor carcinoma."
    )
    assert (
        first.metadata["patient_id"],
        first.metadata["filler_order_id"],
        first.metadata["placer_order_id"],
    ) == ("MRN1", "ACC1", "PLC1")
    assert records["feed.hl7#CTRL3"].error == "HL7 message has no OBX text (truncated or not a report)"
    assert "unsupported HL7 message type ADT^A01" in (records["feed.hl7#CTRL4"].error or "")


def test_garbage_and_empty_hl7_files(tmp_path: Path) -> None:
    (tmp_path / "a.hl7").write_text("this is not hl7")
    (tmp_path / "b.hl7").write_text("")
    records = {r.id: r.error for r in iter_records(tmp_path)}
    assert records["a.hl7"] == "file holds no HL7 message"
    assert records["b.hl7"] == "file holds no HL7 message"


def test_unescape() -> None:
    assert unescape("a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\.br\\g") == "a|b^c&d~e\\f\ng"


def test_hl7_report_through_the_runner(tmp_path: Path) -> None:
    from nlp_engine.batch.runner import process_folder

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "feed.hl7").write_text(MESSAGE.format(n=7))
    summary = process_folder(tmp_path / "in", tmp_path / "out")
    assert summary.processed == 1
    import json

    doc = json.loads((tmp_path / "out" / "results.jsonl").read_text())
    assert doc["pipeline"] == "pathology"
    assert [s["name"] for s in doc["sections"]] == ["clinical_history", "final_diagnosis"]
    assert ("C61", "present") in {(c["code"], c["assertion"]["status"]) for c in doc["concepts"]}


def test_the_patients_age_at_the_observation(tmp_path: Path) -> None:
    from corpora.hl7v2 import hl7_age_years as age

    assert age("19600315", "20240314") == 63 and age("19600315", "202403151200") == 64
    assert age("1920", "20240101") is None and age("", "20240101") is None
    assert age("20250101", "20240101") is None  # born after the report: not an age
    assert age("19200101", "20240101") == 90  # over 89: 90, as Safe Harbor aggregates ages
    message = (
        "MSH|^~\\&|LAB|HOSP|EHR|HOSP|202401011200||ORU^R01|CTRL1|P|2.5\r"
        "PID|1||MRN1^^^HOSP||TEST^PATIENT||19700612|F\r"
        "OBR|1|PLC1|ACC1|88305^Surgical pathology|||20230610\r"
        "OBX|1|TX|22637-3^Final diagnosis||Thyroid, thyroidectomy: papillary carcinoma.||||||F\r"
    )
    (tmp_path / "one.hl7").write_text(message + message.replace("CTRL1", "CTRL2").replace("|20230610", "|"))
    records = {r.id: r for r in iter_records(tmp_path)}
    assert records["one.hl7#CTRL1"].metadata["age_years"] == 52  # at the observation (OBR-7)
    assert records["one.hl7#CTRL2"].metadata["age_years"] == 53  # else at the message (MSH-7)
