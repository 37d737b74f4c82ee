from __future__ import annotations

import random

from nlp_engine.pathology.coder import PathologyCoder

LUNG = "Lung, right upper lobe, lobectomy: squamous cell carcinoma, keratinizing, {size} cm. Bronchial margin free."
PROSTATE = "Prostate, radical prostatectomy: acinar adenocarcinoma, Gleason 3+4=7. Seminal vesicles free."


def corpus(n: int, seed: int) -> tuple[list[str], list[dict[str, str]]]:
    rng = random.Random(seed)
    texts, records = [], []
    for i in range(n):
        lung = i % 2 == 0
        t = rng.choice(["T1", "T2", "T3"])
        text = (LUNG.format(size=rng.randint(1, 6)) if lung else PROSTATE) + f" Stage pT{t[1]} N0."
        texts.append(text)
        records.append(
            {
                "cancer_type": "LUSC" if lung else "PRAD",
                "icd_o_3_histology": "8070/3" if lung else "8140/3",
                "pathologic_T": t,
                "laterality": "Right" if lung else "",  # empty: left out of this field's training
            }
        )
    return texts, records


def test_fit_predict_ranked_and_explained() -> None:
    texts, records = corpus(40, seed=1)
    coder = PathologyCoder(targets=("cancer_type", "icd_o_3_histology", "pathologic_T", "laterality")).fit(
        texts, records
    )
    assert set(coder.models_) == {"cancer_type", "icd_o_3_histology", "pathologic_T"}  # laterality: one value
    new, truth = corpus(10, seed=2)
    predicted = coder.predict(new)
    assert [p["cancer_type"] for p in predicted] == [r["cancer_type"] for r in truth]
    assert [p["icd_o_3_histology"] for p in predicted] == [r["icd_o_3_histology"] for r in truth]
    # pT comes from the text itself (extracted, with evidence), not from a guess
    assert [p["pathologic_T"] for p in predicted] == [r["pathologic_T"] for r in truth]
    # one value in training makes no classifier: no value, rather than an invented one
    assert [p["laterality"] for p in predicted[:2]] == [None, None]
    ranked = coder.predict_ranked(new[:1], k=2)[0]["cancer_type"]
    assert [label for label, _ in ranked] == ["LUSC", "PRAD"]
    assert ranked[0][1] > ranked[1][1] and abs(sum(p for _, p in ranked) - 1.0) < 1e-6
    evidence = coder.explain(new[0], "cancer_type", k=3)
    assert evidence and all(e["start"] is not None for e in evidence)
    for e in evidence:  # words are found as written; extracted-field features point at their evidence
        if not e["term"].startswith("__"):
            assert new[0][e["start"] : e["end"]].lower() == e["term"]
