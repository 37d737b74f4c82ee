"""The reference point: medSpaCy's default clinical pipeline, measured on the same data.

medSpaCy pins spaCy 3.7, so it lives in its own virtual environment, never in ours:

    python3 -m venv /tmp/medspacy-venv
    /tmp/medspacy-venv/bin/pip install medspacy==1.3.1
    /tmp/medspacy-venv/bin/python benchmarks/medspacy_compare.py

Prints one JSON object: docs/s on the first 500 MTSamples transcriptions (PyRuSH sentences, target
matcher, ConText, sectionizer) and ConText negation/temporality/experiencer on the NegEx test set
with the same spans and the same scoring as `benchmarks/context_eval.py`.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import defaultdict

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _common import accuracy, data_path, emit, peak_rss_mb, prf  # noqa: E402
from throughput import load_texts  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=500)
    args = parser.parse_args()
    import medspacy
    from loguru import logger
    from medspacy.context import ConText

    logger.remove()  # PyRuSH logs every token at DEBUG level

    texts = load_texts(args.n)
    words = sum(len(t.split()) for t in texts)
    nlp = medspacy.load(
        enable=["medspacy_pyrush", "medspacy_target_matcher", "medspacy_context", "medspacy_sectionizer"]
    )
    started = time.perf_counter()
    for _ in nlp.pipe(texts):
        pass
    elapsed = time.perf_counter() - started
    throughput = {
        "docs": len(texts),
        "docs_per_s": round(len(texts) / elapsed, 1),
        "words_per_s": round(words / elapsed),
        "pipes": nlp.pipe_names,
    }

    path = data_path("negex/negex_dev.tsv")
    with open(path, encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if int(r["start"]) >= 0]
    by_sentence: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_sentence[row["sentence"]].append(row)
    ctx_nlp = medspacy.load(enable=["medspacy_pyrush"])
    context = ConText(ctx_nlp)
    predictions = {}
    for sentence, group in by_sentence.items():
        base = ctx_nlp(sentence)
        for row in group:
            # One span at a time: mentions in this set overlap, and spaCy entities cannot.
            doc = base.copy()
            span = doc.char_span(int(row["start"]), int(row["end"]), alignment_mode="expand", label="CONCEPT")
            doc.ents = [span] if span is not None else []
            doc = context(doc)
            predictions[id(row)] = doc.ents[0] if doc.ents else None
    gold_neg = [r["negation"] == "Negated" for r in rows]
    pred_neg = [bool(predictions[id(r)] is not None and predictions[id(r)]._.is_negated) for r in rows]

    def temporality(ent: object) -> str:
        if ent is None:
            return "Recent"
        if ent._.is_hypothetical:  # type: ignore[attr-defined]
            return "Not particular"
        return "Historical" if ent._.is_historical else "Recent"  # type: ignore[attr-defined]

    gold_temp = [r["temporality"] for r in rows]
    pred_temp = [temporality(predictions[id(r)]) for r in rows]
    gold_exp = ["Patient" if r["experiencer"] == "Patient" else "Other" for r in rows]
    pred_exp = [
        "Other" if predictions[id(r)] is not None and predictions[id(r)]._.is_family else "Patient"
        for r in rows
    ]
    emit(
        {
            "benchmark": "medspacy_compare",
            "medspacy": medspacy.__version__,
            "throughput": throughput,
            "negation": prf(gold_neg, pred_neg),
            "historical": accuracy(
                [t == "Historical" for t in gold_temp], [t == "Historical" for t in pred_temp]
            ),  # type: ignore[arg-type]
            "hypothetical": accuracy(
                [t == "Not particular" for t in gold_temp], [t == "Not particular" for t in pred_temp]
            ),  # type: ignore[arg-type]
            "temporality_3way": accuracy(gold_temp, pred_temp),
            "experiencer": accuracy(gold_exp, pred_exp),
            "peak_rss_mb": peak_rss_mb(),
        }
    )


if __name__ == "__main__":
    main()
