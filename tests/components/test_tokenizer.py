from __future__ import annotations

import pickle

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp_engine.components.tokenizer import ClinicalTokenizer

SHARED = ClinicalTokenizer(spacy.blank("en"))


@pytest.fixture(scope="module")
def tokenizer() -> ClinicalTokenizer:
    return SHARED


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2.3 x 1.5 x 0.8 cm", ["2.3", "x", "1.5", "x", "0.8", "cm"]),
        ("2.3x1.5x0.8cm", ["2.3", "x", "1.5", "x", "0.8", "cm"]),
        ("5-10%", ["5", "-", "10", "%"]),
        ("aspirin 5mg q.i.d.", ["aspirin", "5", "mg", "q.i.d."]),
        ("10mg/kg q4h", ["10", "mg/kg", "q4h"]),
        (
            "s/p CABG, h/o MI, w/o contrast, c/o pain",
            ["s/p", "CABG", ",", "h/o", "MI", ",", "w/o", "contrast", ",", "c/o", "pain"],
        ),
        ("Stage pT2aN1bM0.", ["Stage", "pT2aN1bM0", "."]),
        ("(ypT1c, pN0(sn))", ["(", "ypT1c", ",", "pN0(sn)", ")"]),
        ("Gleason 3+4=7, grade group 2", ["Gleason", "3+4=7", ",", "grade", "group", "2"]),
        ("ER+, PR-, HER2 2+", ["ER+", ",", "PR-", ",", "HER2", "2+"]),
        ("sections A1-A3 and B1-4", ["sections", "A1-A3", "and", "B1-4"]),
        ("coded C50.911 and E11.9.", ["coded", "C50.911", "and", "E11.9", "."]),
        (
            "seen by **NAME[AAA, BBB M] at [**Hospital1 18**]",
            ["seen", "by", "**NAME[AAA, BBB M]", "at", "[**Hospital1 18**]"],
        ),
        ("**INSTITUTION **ID-NUM", ["**INSTITUTION", "**ID-NUM"]),
        ("sprays.,MEDICATIONS:,Allegra", ["sprays", ".", ",", "MEDICATIONS", ":", ",", "Allegra"]),
        ("BP 124/78.,HEENT:", ["BP", "124/78", ".", ",", "HEENT", ":"]),
        # regression: unanchored prefix alternatives once split "HR<" off mid-token
        ("BP >140/90, HR<60, ≥5 cm", ["BP", ">", "140/90", ",", "HR", "<", "60", ",", "≥", "5", "cm"]),
    ],
)
def test_clinical_tokens(tokenizer: ClinicalTokenizer, text: str, expected: list[str]) -> None:
    assert [t.text for t in tokenizer(text)] == expected


@pytest.mark.parametrize("odd", ["\u200b", "\u00a0", "\u200f", "\u202e", "\x07", "\ufeff", "\u2028"])
def test_odd_unicode_becomes_space_without_moving_offsets(tokenizer: ClinicalTokenizer, odd: str) -> None:
    text = f"no{odd}fever"
    doc = tokenizer(text)
    assert len(doc.text) == len(text)
    assert [t.text for t in doc if not t.is_space] == ["no", "fever"]


def test_round_trip_bytes_and_pickle(tokenizer: ClinicalTokenizer) -> None:
    nlp = spacy.blank("en")
    fresh = ClinicalTokenizer(nlp).from_bytes(tokenizer.to_bytes())
    text = "pT2N0M0, Gleason 3+4=7, 2.3x1.5cm"
    assert [t.text for t in fresh(text)] == [t.text for t in tokenizer(text)]
    clone = pickle.loads(pickle.dumps(tokenizer))
    assert [t.text for t in clone(text)] == [t.text for t in tokenizer(text)]


def test_to_disk_from_disk(tokenizer: ClinicalTokenizer, tmp_path) -> None:
    tokenizer.to_disk(tmp_path / "tok")
    loaded = ClinicalTokenizer(spacy.blank("en")).from_disk(tmp_path / "tok")
    assert [t.text for t in loaded("s/p 5mg")] == ["s/p", "5", "mg"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_any_text_tokenizes_and_keeps_length(text: str) -> None:
    doc = SHARED(text)
    assert len(doc.text) == len(text)
    assert all(0 <= t.idx <= len(text) for t in doc)


@pytest.mark.parametrize(
    "text",
    [
        "(" * 20_000,
        "**" * 10_000 + " then CHF",
        "A:" * 10_000,
        "prefix " + "x" * 600 + " suffix 2.3x1.5cm",
        "a" * 499 + " " + "b" * 501,
    ],
)
def test_long_whitespace_free_runs_stay_linear_and_exact(tokenizer: ClinicalTokenizer, text: str) -> None:
    doc = tokenizer(text)
    assert doc.text == text
    assert all(len(t.text) <= 500 for t in doc)


def test_normal_tokens_around_a_long_run(tokenizer: ClinicalTokenizer) -> None:
    doc = tokenizer("s/p " + "z" * 700 + " 2.3x1.5cm")
    words = [t.text for t in doc if not t.is_space]
    assert words[0] == "s/p"
    assert words[-4:] == ["2.3", "x", "1.5", "cm"]
    assert "".join(t.text_with_ws for t in doc) == doc.text
