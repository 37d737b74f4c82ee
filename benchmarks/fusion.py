"""Text + structured fields in one model, on real notes: does fusion beat either side alone?

Usage: python benchmarks/fusion.py [MTSAMPLES_CSV] [--folds 5] [--min-texts 30]

MTSamples has no structured record, so the structured side is what the pipeline extracts from each note
(`nlp_engine.structured.fields_table`: age, sex, blood pressure, heart and respiratory rate,
temperature, SpO2, weight, height, BMI; missing where the note does not say). Target: the note's
medical specialty (distinct texts of specialties with at least `--min-texts` notes; folds grouped by
text). Compared on the same folds: text alone (TF-IDF + logistic regression), structured fields alone
(gradient boosting), early fusion (one feature space) and stacking. Prints one JSON object with
accuracy and macro-F1 per model, field coverage, time and peak memory.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_path, emit, peak_rss_mb  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", default=None)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--min-texts", type=int, default=30)
    parser.add_argument(
        "--modes",
        nargs="*",
        default=["early", "stack", "text", "tabular"],
        help="Add text-stack for the control: the text model alone behind the stacking meta-learner.",
    )
    args = parser.parse_args()
    from corpora.coded import read_mtsamples
    from nlp_engine.fusion import compare_fusion
    from nlp_engine.structured import FIELDS, fields_table

    seen: set[str] = set()
    docs = []
    for doc in read_mtsamples(data_path("mtsamples/mtsamples.csv", args.path)):
        if doc.group not in seen:
            seen.add(doc.group)
            docs.append(doc)
    counts = Counter(d.label for d in docs)
    docs = [d for d in docs if counts[d.label] >= args.min_texts]
    texts = [d.text for d in docs]
    started = time.perf_counter()
    table = fields_table(texts)
    extract_seconds = time.perf_counter() - started
    coverage = {f: round(float(table[f].notna().mean()), 4) for f in FIELDS}
    table["text"] = texts
    table["specialty"] = [d.label for d in docs]
    result = compare_fusion(
        table, "specialty", "text", groups=[d.group for d in docs], folds=args.folds, modes=args.modes
    )
    emit(
        {
            "benchmark": "fusion",
            "data": "mtsamples.csv",
            "notes": len(docs),
            "specialties": len(counts.keys() & {d.label for d in docs}),
            "field_coverage": coverage,
            "extraction_docs_per_s": round(len(texts) / extract_seconds, 1),
            "extraction_words_per_s": round(sum(len(t.split()) for t in texts) / extract_seconds),
            "folds": args.folds,
            **result,
            "peak_rss_mb": peak_rss_mb(),
        }
    )


if __name__ == "__main__":
    main()
