from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spacy.language import Language

import nlp_engine
from nlp_engine.errors import InputTooLargeError, NotTextError, UnknownPipelineError
from nlp_engine.results import Document

REPORT = """CLINICAL HISTORY: Elevated PSA. Rule out prostate cancer.
FINAL DIAGNOSIS:
A. Prostate, needle biopsy: Prostatic adenocarcinoma, Gleason score 3+4=7. No perineural invasion.
FAMILY HISTORY: Father with colon cancer.
"""


@pytest.mark.parametrize("name", ["clinical", "pathology"])
def test_load_named_pipelines(name: str) -> None:
    nlp = nlp_engine.load(name)
    assert isinstance(nlp, Language)
    assert nlp.pipe_names == ["clinical_sentences", "clinical_sections", "icd10_concepts", "clinical_context"]
    assert nlp.meta["name"] == name


def test_unknown_pipeline_is_a_clear_error() -> None:
    with pytest.raises(UnknownPipelineError, match="clinicl"):
        nlp_engine.load("clinicl")


def test_saved_pipeline_loads_with_plain_spacy_without_importing_us(pathology: Language, tmp_path) -> None:
    pathology.to_disk(tmp_path / "saved")
    script = textwrap.dedent(
        f"""
        import json, sys, spacy
        assert "nlp_engine" not in sys.modules
        nlp = spacy.load({str(tmp_path / "saved")!r})
        doc = nlp({REPORT!r})
        print(json.dumps({{
            "pipes": nlp.pipe_names,
            "ents": [(e.text, e.kb_id_, e._.negated, e._.hypothetical, e._.experiencer) for e in doc.ents],
            "sections": [s.label_ for s in doc._.sections],
            "tokens": [t.text for t in nlp.make_doc("pT2N0M0 3+4=7")],
        }}))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    original = pathology(REPORT)
    assert data["pipes"] == pathology.pipe_names
    assert data["ents"] == [
        [e.text, e.kb_id_, e._.negated, e._.hypothetical, e._.experiencer] for e in original.ents
    ]
    assert data["sections"] == ["clinical_history", "final_diagnosis", "family_history"]
    assert data["tokens"] == ["pT2N0M0", "3+4=7"]


def test_saved_pipeline_through_our_loader(clinical: Language, tmp_path) -> None:
    clinical.to_disk(tmp_path / "saved")
    again = nlp_engine.load(str(tmp_path / "saved"))
    assert [e.kb_id_ for e in again("CHF and COPD").ents] == ["I50.9", "J44.9"]


def test_process_returns_typed_results() -> None:
    doc = nlp_engine.process(REPORT, pipeline="pathology")
    assert isinstance(doc, Document)
    by_text = {c.text: c for c in doc.concepts}
    assert by_text["prostate cancer"].assertion.hypothetical is True
    assert by_text["prostate cancer"].section == "clinical_history"
    cancer = by_text["Prostatic adenocarcinoma"]
    assert (cancer.code, cancer.section, cancer.assertion.status) == ("C61", "final_diagnosis", "present")
    assert REPORT[cancer.start : cancer.end] == "Prostatic adenocarcinoma"
    assert by_text["colon cancer"].assertion.experiencer == "family"
    assert [s.name for s in doc.sections] == ["clinical_history", "final_diagnosis", "family_history"]
    assert doc.sections[1].title == "FINAL DIAGNOSIS"
    for sentence in doc.sentences:
        assert REPORT[sentence.start : sentence.end].strip() == REPORT[sentence.start : sentence.end]


def test_results_json_round_trip() -> None:
    doc = nlp_engine.process(REPORT, pipeline="pathology")
    data = json.loads(doc.to_json())
    assert data["concepts"][0]["assertion"]["status"] in {
        "present",
        "negated",
        "uncertain",
        "historical",
        "hypothetical",
        "family",
        "other",
    }
    assert Document.from_dict(data) == doc


def test_process_many_keeps_order_and_ids() -> None:
    texts = ["No fever.", "CHF.", "COPD and afib."]
    docs = nlp_engine.process(texts, ids=["a", "b", "c"])
    assert [d.id for d in docs] == ["a", "b", "c"]
    assert [[c.code for c in d.concepts] for d in docs] == [["R50.9"], ["I50.9"], ["J44.9", "I48.91"]]
    assert docs[0].concepts[0].assertion.negated is True


def test_parallel_matches_serial() -> None:
    texts = [REPORT, "Denies chest pain.", "Mother with breast cancer.", "HTN, DM2."] * 5
    assert nlp_engine.process(texts, n_process=2, batch_size=3) == nlp_engine.process(texts, n_process=1)


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("Seen at the café, no fever.".encode("cp1252"), "cp1252"),
        ("Naïve patient, no fever.".encode("latin-1"), "latin-1"),
        ("\ufeffNo fever.".encode(), "utf-8-sig"),
        ("No fever.".encode("utf-16"), "utf-16"),
    ],
)
def test_process_bytes_in_other_encodings(data: bytes, encoding: str) -> None:
    doc = nlp_engine.process(data)
    assert [c.code for c in doc.concepts] == ["R50.9"]
    assert doc.concepts[0].assertion.negated is True


@pytest.mark.parametrize("bad", [b"\x00\x01\x02\x03binary\x00", bytes(range(256)) * 4])
def test_binary_is_rejected_clearly(bad: bytes) -> None:
    with pytest.raises(NotTextError, match="binary"):
        nlp_engine.process(bad)


def test_wrong_type_names_the_position_not_the_content() -> None:
    with pytest.raises(NotTextError, match="item 1: .*int"):
        nlp_engine.process(["fine", 42])  # type: ignore[list-item]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\n\n\t",
        "\u200b\u200b",
        "\x00 \x01",
        "😀🏥 🩺",
        "\u202eRTL text\u202c",
        "a\rb\r\nc",
        "(" * 20_000,
        "NO:" * 5_000,
    ],
)
def test_degenerate_text_never_crashes(text: str) -> None:
    doc = nlp_engine.process(text)
    assert doc.text_length == len(text)


def test_too_large_input_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from nlp_engine import textio

    with pytest.raises(InputTooLargeError):
        textio.coerce_text("x" * 11, max_chars=10)


def test_five_megabyte_report(clinical: Language) -> None:
    unit = "FINDINGS: No pneumonia. History of CHF and DM2. Possible pulmonary embolism.\n"
    text = unit * (5_000_000 // len(unit) + 1)
    doc = nlp_engine.process(text, pipeline=clinical)
    assert doc.text_length >= 5_000_000
    repeats = text.count(unit)
    assert len(doc.concepts) == 4 * repeats
    assert sum(c.assertion.negated for c in doc.concepts) == repeats
    assert sum(c.assertion.uncertain for c in doc.concepts) == repeats


clinical_alphabet = st.sampled_from(
    list("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:;-/()+=%*[]\n\t")
    + [
        "no ",
        "denies ",
        "CHF",
        "COPD",
        "cancer",
        "FAMILY HISTORY:",
        "\u200b",
        "\u00a0",
        "😀",
        "\x00",
        "é",
        "\u202e",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(clinical_alphabet, max_size=80).map("".join))
def test_pipeline_properties(clinical: Language, text: str) -> None:
    doc = nlp_engine.process(text, pipeline=clinical)
    assert doc.text_length == len(text)
    for concept in doc.concepts:
        assert 0 <= concept.start < concept.end <= len(text)
        assert text[concept.start : concept.end] == concept.text
        assert concept.code == concept.codes[0].code
    for sentence in doc.sentences:
        assert 0 <= sentence.start < sentence.end <= len(text)
    starts = [s.start for s in doc.sections]
    assert starts == sorted(starts)
    json.loads(doc.to_json())


def test_available_pipelines() -> None:
    assert {"clinical", "pathology"} <= set(nlp_engine.available_pipelines())
    assert spacy.util.get_lang_class("en")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SURGICAL PATHOLOGY REPORT\nFINAL DIAGNOSIS: benign", "pathology"),
        ("Clinical history: mass.\n  Gross description: two cores.", "pathology"),
        ("HPI: cough.\nASSESSMENT: the final diagnosis is pending.", "clinical"),
        ("", "clinical"),
    ],
)
def test_choose_pipeline(text: str, expected: str) -> None:
    from nlp_engine.pipeline import choose_pipeline

    assert choose_pipeline(text) == expected


def test_auto_pipeline_in_the_library() -> None:
    docs = nlp_engine.process([REPORT, "HPI: cough and fever."], pipeline="auto", n_process=2, batch_size=1)
    assert [d.pipeline for d in docs] == ["pathology", "clinical"]
    assert docs == nlp_engine.process([REPORT, "HPI: cough and fever."], pipeline="auto")


def _ents(docs: object) -> list[list[tuple[object, ...]]]:
    return [
        [
            (e.text, e.kb_id_, e._.codes, e._.negated, e._.historical, e._.experiencer, e._.context_triggers)
            for e in d.ents
        ]
        for d in docs  # type: ignore[attr-defined]
    ]


def test_whole_pipeline_pickles_and_spacy_multiprocessing_agrees(clinical: Language) -> None:
    import pickle

    texts = ["Denies chest pain.", "Mother with breast cancer.", "h/o CHF", "FAMILY HISTORY: DM2."] * 4
    clone = pickle.loads(pickle.dumps(clinical))
    serial = _ents(clinical.pipe(texts))
    assert _ents(clone.pipe(texts)) == serial
    assert _ents(clinical.pipe(texts, n_process=2, batch_size=3)) == serial
    assert [[s.label_ for s in d._.sections] for d in clinical.pipe(texts, n_process=2)][3] == [
        "family_history"
    ]
