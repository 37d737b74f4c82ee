from __future__ import annotations

import json
import pickle

import pytest
import spacy
from spacy.language import Language

from nlp_engine.components.context import ClinicalContext, load_context_rules
from nlp_engine.context import classify
from nlp_engine.errors import RuleFileError, SpanError


def status_of(nlp: Language, text: str, concept: str) -> dict[str, object]:
    start = text.index(concept)
    return classify(text, [(start, start + len(concept))], pipeline=nlp)[0]


@pytest.mark.parametrize(
    ("text", "concept", "expected"),
    [
        ("The patient denies chest pain.", "chest pain", {"negated": True}),
        ("No evidence of pneumonia.", "pneumonia", {"negated": True}),
        ("No fever, chills, or night sweats.", "night sweats", {"negated": True}),
        ("Pneumonia was ruled out.", "Pneumonia", {"negated": True}),
        ("Doppler negative\n   for DVT.", "DVT", {"negated": True}),
        ("In no acute distress.", "acute distress", {"negated": True}),
        ("Chest pain is absent.", "Chest pain", {"negated": True}),
        # pseudo-triggers and terminations
        ("No increase in edema.", "edema", {"negated": False}),
        ("Gram negative bacteremia.", "bacteremia", {"negated": False}),
        ("Denies fever but reports cough.", "cough", {"negated": False}),
        ("He has no rash and he is hypertensive.", "hypertensive", {"negated": False}),
        # uncertainty
        ("Findings are suspicious for malignancy.", "malignancy", {"uncertain": True}),
        ("Possible pneumonia.", "pneumonia", {"uncertain": True}),
        ("Lymphovascular invasion cannot be excluded.", "Lymphovascular invasion", {"uncertain": True}),
        # history
        ("History of myocardial infarction.", "myocardial infarction", {"historical": True}),
        ("He is s/p appendectomy.", "appendectomy", {"historical": True}),
        ("Past medical history is significant for asthma.", "asthma", {"historical": True}),
        ("History of present illness: cough.", "cough", {"historical": False}),
        # hypothetical
        ("Return if you develop fever.", "fever", {"hypothetical": True}),
        ("Admitted to rule out MI.", "MI", {"hypothetical": True}),
        ("If she has any new weakness, call.", "weakness", {"hypothetical": True}),
        # experiencer
        ("Mother with breast cancer.", "breast cancer", {"experiencer": "family"}),
        ("Family history of colon cancer.", "colon cancer", {"experiencer": "family"}),
        ("Her husband has the flu.", "flu", {"experiencer": "other"}),
        ("The patient has diabetes.", "diabetes", {"experiencer": "patient", "negated": False}),
    ],
)
def test_assertions(clinical: Language, text: str, concept: str, expected: dict[str, object]) -> None:
    result = status_of(clinical, text, concept)
    for key, value in expected.items():
        assert result[key] == value, (key, result)


def test_scope_stays_in_sentence(clinical: Language) -> None:
    assert status_of(clinical, "No fever. Cough is present.", "Cough")["negated"] is False


def test_section_default_family_history(clinical: Language) -> None:
    result = status_of(clinical, "FAMILY HISTORY:\nBreast cancer.", "Breast cancer")
    assert result["experiencer"] == "family"
    assert {"category": "SECTION", "literal": "family_history"}.items() <= result["triggers"][0].items()


def test_triggers_explain_the_decision(clinical: Language) -> None:
    text = "He denies chest pain."
    result = status_of(clinical, text, "chest pain")
    trigger = result["triggers"][0]
    assert trigger["category"] == "NEGATED_EXISTENCE"
    assert text[trigger["start"] : trigger["end"]] == "denies"


def test_entities_get_extensions(clinical: Language) -> None:
    doc = clinical("No evidence of pneumonia. Mother had breast cancer.")
    by_text = {e.text: e for e in doc.ents}
    assert by_text["pneumonia"]._.negated is True
    assert by_text["breast cancer"]._.experiencer == "family"
    assert by_text["breast cancer"]._.context_triggers[0]["literal"] == "mother"


def test_many_spans_one_call(clinical: Language) -> None:
    text = "No cough. Fever present. Possible flu."
    spans = [(text.index(w), text.index(w) + len(w)) for w in ("cough", "Fever", "flu")]
    results = classify(text, spans, pipeline=clinical)
    assert [(r["negated"], r["uncertain"]) for r in results] == [(True, False), (False, False), (False, True)]


@pytest.mark.parametrize("span", [(5, 5), (-1, 3), (0, 999)])
def test_bad_spans(clinical: Language, span: tuple[int, int]) -> None:
    with pytest.raises(SpanError):
        classify("No cough today.", [span], pipeline=clinical)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"literal": "no", "category": "NEGATED", "direction": "FORWARD"}, "unknown category"),
        ({"literal": "no", "category": "NEGATED_EXISTENCE", "direction": "SIDEWAYS"}, "unknown direction"),
        (
            {"literal": "no", "category": "NEGATED_EXISTENCE", "direction": "FORWARD", "scope": 3},
            "unknown keys",
        ),
        (
            {"literal": "no", "category": "NEGATED_EXISTENCE", "direction": "FORWARD", "max_scope": 0},
            "max_scope",
        ),
    ],
)
def test_rule_validation(tmp_path, record: dict[str, object], message: str) -> None:
    path = tmp_path / "rules.jsonl"
    path.write_text(json.dumps(record) + "\n")
    with pytest.raises(RuleFileError, match=message):
        load_context_rules(path)


def test_token_patterns_work(tmp_path) -> None:
    path = tmp_path / "rules.jsonl"
    rule = {
        "literal": "neg",
        "category": "NEGATED_EXISTENCE",
        "direction": "FORWARD",
        "pattern": [{"LOWER": {"IN": ["nil", "zero"]}}],
    }
    path.write_text(json.dumps(rule) + "\n")
    nlp = spacy.blank("en")
    component = nlp.add_pipe("clinical_context")
    component.initialize(nlp=nlp, rules=str(path))
    doc = nlp("nil fever")
    assert component.assert_spans(doc, [doc[1:2]])[0]["negated"] is True


def test_serialization(clinical: Language, tmp_path) -> None:
    component = clinical.get_pipe("clinical_context")
    assert isinstance(component, ClinicalContext)
    component.to_disk(tmp_path / "context")
    nlp = spacy.blank("en")
    fresh = nlp.add_pipe("clinical_context").from_disk(tmp_path / "context")
    assert len(fresh.rules) == len(component.rules)
    assert fresh.section_defaults == component.section_defaults
    doc = nlp("denies cough")
    assert fresh.assert_spans(doc, [doc[1:2]])[0]["negated"] is True
    clone = pickle.loads(pickle.dumps(component))
    doc = clinical.make_doc("denies cough")
    assert clone.assert_spans(doc, [doc[1:2]])[0]["negated"] is True
    again = nlp.add_pipe("clinical_context", name="again").from_bytes(component.to_bytes())
    assert again.rules == component.rules
