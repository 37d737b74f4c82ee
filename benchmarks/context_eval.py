"""ConText assertion quality on the NegEx/ConText test set, through `nlp_engine.context.classify`.

Usage: python benchmarks/context_eval.py [PATH_TO_negex_dev.tsv] [--errors]

Prints one JSON object: negation precision/recall/F1, historical/hypothetical/experiencer accuracy
(with the majority-class accuracy beside each), the 60-character look-back baseline, and throughput.
`--errors` also lists misclassified mentions (concept and label only, to stderr).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from collections import defaultdict

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _common import accuracy, data_path, emit, peak_rss_mb, prf  # noqa: E402

from nlp_engine.context import classify  # noqa: E402
from nlp_engine.pipeline import get_pipeline  # noqa: E402

BASELINE = re.compile(r"\b(no|denies|without)\b", re.I)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", default=None)
    parser.add_argument("--pipeline", default="clinical")
    parser.add_argument("--errors", action="store_true")
    args = parser.parse_args()
    path = data_path("negex/negex_dev.tsv", args.path)
    with open(path, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    usable = [r for r in rows if int(r["start"]) >= 0]
    by_sentence: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in usable:
        by_sentence[row["sentence"]].append(row)

    get_pipeline(args.pipeline)  # load outside the timed part
    predictions: dict[int, dict[str, object]] = {}
    started = time.perf_counter()
    for sentence, group in by_sentence.items():
        results = classify(
            sentence, [(int(r["start"]), int(r["end"])) for r in group], pipeline=args.pipeline
        )
        for row, result in zip(group, results, strict=True):
            predictions[id(row)] = result
    elapsed = time.perf_counter() - started

    gold_neg = [r["negation"] == "Negated" for r in usable]
    pred_neg = [bool(predictions[id(r)]["negated"]) for r in usable]

    def temporality(result: dict[str, object]) -> str:
        if result["hypothetical"]:
            return "Not particular"
        return "Historical" if result["historical"] else "Recent"

    gold_temp = [r["temporality"] for r in usable]
    pred_temp = [temporality(predictions[id(r)]) for r in usable]
    gold_exp = ["Patient" if r["experiencer"] == "Patient" else "Other" for r in usable]
    pred_exp = ["Patient" if predictions[id(r)]["experiencer"] == "patient" else "Other" for r in usable]
    baseline = [
        bool(BASELINE.search(r["sentence"][max(0, int(r["start"]) - 60) : int(r["start"])])) for r in usable
    ]

    if args.errors:
        for r, gn, pn, gt, pt, ge, pe in zip(
            usable, gold_neg, pred_neg, gold_temp, pred_temp, gold_exp, pred_exp, strict=True
        ):
            if (gn, gt, ge) != (pn, pt, pe):
                s = int(r["start"])
                print(
                    f"gold neg={gn} temp={gt} exp={ge} | pred neg={pn} temp={pt} exp={pe} :: "
                    f"{r['sentence'][max(0, s - 100) : s]}[[{r['concept']}]]{r['sentence'][int(r['end']) : int(r['end']) + 40]}",
                    file=sys.stderr,
                )

    emit(
        {
            "benchmark": "context_eval",
            "data": str(path.name),
            "pipeline": args.pipeline,
            "mentions": len(usable),
            "mentions_without_offsets_skipped": len(rows) - len(usable),
            "negation": prf(gold_neg, pred_neg),
            "negation_baseline_60char_lookback": prf(gold_neg, baseline),
            "historical": {
                **prf([t == "Historical" for t in gold_temp], [t == "Historical" for t in pred_temp]),
                **accuracy([t == "Historical" for t in gold_temp], [t == "Historical" for t in pred_temp]),
            },  # type: ignore[arg-type]
            "hypothetical": {
                **prf([t == "Not particular" for t in gold_temp], [t == "Not particular" for t in pred_temp]),
                **accuracy(
                    [t == "Not particular" for t in gold_temp], [t == "Not particular" for t in pred_temp]
                ),
            },  # type: ignore[arg-type]
            "temporality_3way": accuracy(gold_temp, pred_temp),
            "experiencer": accuracy(gold_exp, pred_exp),
            "sentences": len(by_sentence),
            "sentences_per_s": round(len(by_sentence) / elapsed, 1),
            "mentions_per_s": round(len(usable) / elapsed, 1),
            "peak_rss_mb": peak_rss_mb(),
        }
    )


if __name__ == "__main__":
    main()
