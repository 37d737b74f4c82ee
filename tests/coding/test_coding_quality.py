"""Regression guard on real data (CodiEsp, English): the hybrid coder must beat both of its parts.

A subset keeps it quick (250 training cases, 100 dev cases); the full figures are in
docs/benchmarks.md (`benchmarks/coding.py`)."""

from __future__ import annotations

from corpora.coded import read_codiesp
from nlp_engine.coding import DiagnosisCoder, mean_average_precision
from nlp_engine.coding.analysis import STATUS_RANK, analyze
from tests.conftest import shared_data


def test_hybrid_coder_beats_the_classifier_and_the_linker_alone() -> None:
    root = shared_data("codiesp")
    train = read_codiesp(root, "train")[:250]
    dev = read_codiesp(root, "dev")[:100]
    texts, codes = [d.text for d in train], [d.codes for d in train]
    gold = [d.codes for d in dev]

    def score(coder: DiagnosisCoder) -> float:
        ranked = coder.fit(texts, codes).predict_ranked([d.text for d in dev], k=1000)
        return mean_average_precision(gold, [[c for c, _ in r] for r in ranked])

    hybrid = score(DiagnosisCoder(inner_folds=3, n_jobs=2))
    plain = score(DiagnosisCoder(hybrid=False, inner_folds=3, n_jobs=2))
    linker = mean_average_precision(
        gold,
        [
            [
                m.code
                for m in sorted((m for m in mentions if m.code), key=lambda m: STATUS_RANK.get(m.status, 9))
            ]
            for mentions in analyze([d.text for d in dev])
        ],
    )
    assert hybrid > plain + 0.1, (hybrid, plain)
    assert hybrid > linker + 0.05, (hybrid, linker)
