from __future__ import annotations

import json
from pathlib import Path

from nlp_engine.deid import find_phi
from nlp_engine.deid.learned import features, load_model, new_model, note_matrix, train, training_data
from nlp_engine.deid.names import rule_hits
from nlp_engine.deid.patterns import pattern_spans

GOLD = [
    {
        "patient": i % 3,
        "text": f"Spoke with daughter {name} today. Dr. {doctor} aware. Transfer to Calvert Hospital on 7/2{i}.",
        "phi": [],
    }
    for i, (name, doctor) in enumerate(
        [("Thelma", "Healey"), ("Irene", "Rizzo"), ("Mary", "Vasquez"), ("Ann", "Bean")]
    )
]
for note in GOLD:
    text = note["text"]
    for word, label in (
        (text.split()[3], "RelativeProxyName"),
        (text.split()[6], "HCPName"),
        ("Calvert", "Location"),
    ):
        start = text.index(word)
        note["phi"].append({"start": start, "end": start + len(word), "label": label})


def test_shipped_model_matches_the_features() -> None:
    model = load_model()
    text = "Spoke with daughter Thelma. Dr. Healey aware."
    index, x = features(text, rule_hits(text), list(pattern_spans(text)))
    assert model.coef_.shape == (1, x.shape[1])
    assert len(index) == x.shape[0] == 7
    probabilities = model.predict_proba(x)[:, 1]
    words = [rule_hits(text).tokens[i].text for i in index]
    assert probabilities[words.index("Thelma")] > 0.5 > probabilities[words.index("aware")]


def test_training_on_gold_notes(tmp_path: Path) -> None:
    x, y = note_matrix(GOLD[0])
    assert x.shape[0] == len(y) and y.sum() == 3  # Thelma, Healey, Calvert
    xs, ys, groups = training_data(GOLD)
    assert len(set(groups.tolist())) == 3 and ys.sum() == 12
    train_path = tmp_path / "gold.jsonl"
    train_path.write_text("\n".join(json.dumps(n) for n in GOLD))
    summary = train(train_path, tmp_path / "model.skops")
    assert summary == {"tokens": len(ys), "phi_tokens": 12, "features": xs.shape[1]}
    model = new_model().fit(xs, ys)
    spans = find_phi(GOLD[1]["text"], model=model, threshold=0.5)
    assert [GOLD[1]["text"][s.start : s.end] for s in spans if s.label in ("NAME", "LOCATION")] == [
        "Irene",
        "Rizzo",
        "Calvert",
    ]


def test_rules_alone_are_still_available() -> None:
    text = "Seen by Dr. Healey on 7/22."
    assert [(s.label, s.start) for s in find_phi(text, learned=False)] == [("NAME", 12), ("DATE", 22)]
    assert [(s.label, s.start) for s in find_phi(text)] == [("NAME", 12), ("DATE", 22)]
