from __future__ import annotations

import datetime as dt
import json
import logging
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import nlp_engine
from nlp_engine.cli import app
from nlp_engine.deid import find_phi, redact
from nlp_engine.deid.surrogate import shift_date

NOTE = (
    "Seen by Dr. Healey on 7/22/2019. Husband Rich Martino called 410-322-1419.\n"
    "MRN: 1234567. Follow up 8/05/2019. Dr. Healey will call."
)


def test_mask_keeps_every_offset() -> None:
    result = redact(NOTE, mode="mask")
    assert len(result.text) == len(NOTE)
    for span in result.spans:
        assert set(result.text[span.start : span.end]) <= {"*", " "}
    assert "Healey" not in result.text and "1234567" not in result.text
    assert result.text.startswith("Seen by Dr. ****** on")


def test_tag_mode_and_audit_counts_without_phi() -> None:
    result = redact(NOTE, mode="tag")
    assert result.text.startswith("Seen by Dr. [NAME] on [DATE]. Husband [NAME] called [PHONE].")
    assert result.audit == {"NAME": 3, "DATE": 2, "PHONE": 1, "ID": 1}
    assert "Healey" not in json.dumps(result.audit)


def test_surrogates_are_consistent_with_a_key_and_differ_per_patient() -> None:
    one = redact(NOTE, mode="surrogate", key="secret", patient="p1")
    again = redact(NOTE + " Extra line.", mode="surrogate", key="secret", patient="p1")
    other = redact(NOTE, mode="surrogate", key="secret", patient="p2")
    assert one.text == again.text[: len(one.text)]  # same key and patient: same surrogates
    assert one.text != other.text
    assert "Healey" not in one.text and "Martino" not in one.text and "410-322-1419" not in one.text
    # the same real name gets the same fake name within the note, in the same case
    fakes = re.findall(r"Dr\. (\w+)", one.text)
    assert len(fakes) == 2 and fakes[0] == fakes[1] and fakes[0] != "Healey" and fakes[0].istitle()
    # the phone keeps its format
    assert re.search(r"called \d{3}-\d{3}-\d{4}\.", one.text)
    # no key: still consistent inside one note, different between calls
    unkeyed = redact(NOTE, mode="surrogate")
    names = re.findall(r"Dr\. (\w+)", unkeyed.text)
    assert names[0] == names[1]


def test_date_shift_keeps_intervals_and_formats() -> None:
    shifted = redact(NOTE, mode="surrogate", key="secret", patient="p1").text
    first, second = re.findall(r"\d{1,2}/\d{2}/\d{4}", shifted)
    parse = lambda s: dt.datetime.strptime(s, "%m/%d/%Y").date()  # noqa: E731
    assert (parse(second) - parse(first)).days == (dt.date(2019, 8, 5) - dt.date(2019, 7, 22)).days
    assert first != "7/22/2019"
    delta = dt.timedelta(days=-30)
    assert shift_date("7/22", delta) == "6/22"
    assert shift_date("07/22/19", delta) == "06/22/19"
    assert shift_date("2019-07-22", delta) == "2019-06-22"
    assert shift_date("July 22nd, 2019", delta) == "June 22nd, 2019"
    assert shift_date("Jul 22", delta) == "Jun 22"
    assert shift_date("not a date", delta) is None


def test_ages_over_89_become_90_plus() -> None:
    assert redact("98 yo gentleman s/p fall.", mode="surrogate").text == "90+ yo gentleman s/p fall."


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown mode"):
        redact("x", mode="blur")  # type: ignore[arg-type]
    with pytest.raises(nlp_engine.errors.NotTextError):
        redact(b"\x00\x01\x02binary")
    assert redact("", mode="tag").text == ""
    assert find_phi("   \n\t") == []


def test_deid_pipeline_hides_phi_from_every_component(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NLP_ENGINE_DEID_KEY", "secret")
    text = "HISTORY: Seen by Dr. Healey on 7/22/2019. Husband Rich Martino at bedside. Denies chest pain."
    doc = nlp_engine.process(text, pipeline="clinical_deid")
    deid = doc.metadata["deid"]
    assert deid["mode"] == "surrogate" and deid["counts"] == {"NAME": 2, "DATE": 1}
    assert "Healey" not in json.dumps(doc.to_dict()) and "Martino" not in json.dumps(doc.to_dict())
    chest = doc.concepts[0]
    assert (chest.code, chest.assertion.negated) == ("R07.9", True)
    assert deid["text"][chest.start : chest.end] == "chest pain"  # offsets point into the de-identified text
    nlp = nlp_engine.load("clinical_deid")
    assert nlp("Dr. Healey saw him.")._.deid["counts"] == {"NAME": 1}


def test_deid_command(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(NOTE)
    (tmp_path / "in" / "notes.csv").write_text('id,text\nn1,"Dr. Rizzo saw pt on 7/23."\n')
    (tmp_path / "in" / "empty.txt").write_text("")
    (tmp_path / "key").write_text("secret\n")
    out = tmp_path / "out"
    with caplog.at_level(logging.DEBUG):
        result = CliRunner().invoke(
            app,
            [
                "deid",
                str(tmp_path / "in"),
                "--out",
                str(out),
                "--key-file",
                str(tmp_path / "key"),
                "--workers",
                "2",
            ],
        )
    assert result.exit_code == 1, result.output  # the empty file failed, the rest went on
    rows = {
        json.loads(line)["id"]: json.loads(line) for line in (out / "deid.jsonl").read_text().splitlines()
    }
    assert sorted(rows) == ["a.txt", "notes.csv#n1"]
    assert rows["a.txt"]["text"] == redact(NOTE, mode="surrogate", key="secret").text
    assert (out / "text" / "a.txt").read_text() == rows["a.txt"]["text"]
    assert (out / "text" / "notes.csv_n1.txt").exists()
    audit = (out / "audit.jsonl").read_text()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["run"]["seen"] == 3 and manifest["run"]["processed"] == 2 and manifest["keyed"] is True
    assert "empty.txt" in (out / "quarantine.tsv").read_text()
    for text in (audit, json.dumps(manifest), result.output, caplog.text):
        assert "Healey" not in text and "Rizzo" not in text and "1234567" not in text
