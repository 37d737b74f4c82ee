"""De-identification quality on the PhysioNet deid gold standard (and the Presidio synthetic PII set).

Usage: python benchmarks/deid_eval.py [../shared/data/deid/physionet_nursing_dev.jsonl] [--presidio PATH]
       [--show-missed]

Scores `nlp_engine.deid.find_phi` against the gold PHI spans, at the token level (a token is PHI when
it overlaps a gold span; predicted when it overlaps a found span) and at the character level
(non-space characters), overall and per gold label (recall per label: our labels differ from theirs).
Missed spans are listed only as counts and shapes (`Xxxx`, `dd/dd`), never their text, unless
`--show-missed` is given on a machine where showing the (already surrogate) gold text is allowed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED_DATA, data_path, emit, peak_rss_mb, scores  # noqa: E402

TOKEN = re.compile(r"\w+|[^\w\s]")


def shape(text: str) -> str:
    return re.sub(r"[a-z]+", "x", re.sub(r"[A-Z]+", "X", re.sub(r"\d", "d", text)))


# The gold's labels as the categories `find_phi` labels with, for scoring with the label required.
CATEGORY = {
    "HCPName": "NAME",
    "PTName": "NAME",
    "PTNameInitial": "NAME",
    "RelativeProxyName": "NAME",
    "Date": "DATE",
    "DateYear": "DATE",
    "Location": "LOCATION",
    "Phone": "PHONE",
    "Age": "AGE",
}
# a found label that counts as the same category ("ADDRESS" is a place, "ZIP" part of one)
FOUND_CATEGORY = {"ADDRESS": "LOCATION", "ZIP": "LOCATION"}


def score(
    notes: list[dict[str, Any]],
    show_missed: bool = False,
    finder: Callable[[dict[str, Any]], list[Any]] | None = None,
) -> dict[str, Any]:
    from nlp_engine.deid import find_phi

    finder = finder or (lambda note: find_phi(note["text"]))
    tp = fp = fn = 0
    ctp = cfp = cfn = 0
    per_label: dict[str, Counter[str]] = {}
    missed_shapes: dict[str, Counter[str]] = {}
    found_labels: Counter[str] = Counter()
    by_category: dict[str, Counter[str]] = {}
    started = time.perf_counter()
    words = 0
    for note in notes:
        text = note["text"]
        words += len(text.split())
        found = finder(note)
        found_labels.update(s.label for s in found)
        gold_chars = set()
        for phi in note["phi"]:
            gold_chars.update(i for i in range(phi["start"], phi["end"]) if not text[i].isspace())
        pred_chars = set()
        for span in found:
            pred_chars.update(i for i in range(span.start, span.end) if not text[i].isspace())
        ctp += len(gold_chars & pred_chars)
        cfp += len(pred_chars - gold_chars)
        cfn += len(gold_chars - pred_chars)
        for match in TOKEN.finditer(text):
            s, e = match.span()
            gold = next((p["label"] for p in note["phi"] if p["start"] < e and p["end"] > s), None)
            hit = next((span.label for span in found if span.start < e and span.end > s), None)
            pred = hit is not None
            gold_category = CATEGORY.get(gold, "OTHER") if gold else None
            found_category = FOUND_CATEGORY.get(hit, hit) if hit else None
            if gold_category:
                by_category.setdefault(gold_category, Counter())["gold"] += 1
            if found_category:
                by_category.setdefault(found_category, Counter())["found"] += 1
            if gold_category and gold_category == found_category:
                by_category[gold_category]["both"] += 1
            if gold:
                per_label.setdefault(gold, Counter())["hit" if pred else "miss"] += 1
                if not pred:
                    missed_shapes.setdefault(gold, Counter())[shape(match.group())] += 1
                    if show_missed:
                        print(
                            f"MISSED {gold}: {text[max(0, s - 30) : s]!r} [[{match.group()}]] {text[e : e + 20]!r}"
                        )
            tp += bool(gold and pred)
            fp += bool(pred and not gold)
            fn += bool(gold and not pred)
    seconds = time.perf_counter() - started
    return {
        "notes": len(notes),
        "gold_spans": sum(len(n["phi"]) for n in notes),
        "token": {**scores(tp, tp + fp, tp + fn), "tp": tp, "fp": fp, "fn": fn},
        "character": {**scores(ctp, ctp + cfp, ctp + cfn), "tp": ctp, "fp": cfp, "fn": cfn},
        "recall_per_gold_label": {
            label: {"tokens": sum(c.values()), "recall": round(c["hit"] / max(1, sum(c.values())), 4)}
            for label, c in sorted(per_label.items())
        },
        # tokens, the label required: a name found as a place counts against both
        "per_category": {
            category: {
                **scores(c["both"], c["found"], c["gold"]),
                "gold_tokens": c["gold"],
                "found_tokens": c["found"],
            }
            for category, c in sorted(by_category.items())
        },
        "missed_token_shapes": {label: dict(c.most_common(8)) for label, c in sorted(missed_shapes.items())},
        "found_labels": dict(found_labels.most_common()),
        "docs_per_s": round(len(notes) / seconds, 1),
        "words_per_s": round(words / seconds),
    }


def cross_validated_finder(
    notes: list[dict[str, Any]], folds: int, threshold: float | None = None
) -> Callable[[dict[str, Any]], list[Any]]:
    """A finder that scores each note with a model trained without that note's patient; `threshold`
    replaces the shipped probability threshold. The fold models are trained once per note set."""
    from sklearn.model_selection import GroupKFold

    from nlp_engine.deid import THRESHOLD, find_phi
    from nlp_engine.deid.learned import new_model, training_data

    patients = [str(n["patient"]) for n in notes]
    key = (id(notes), folds)
    if key not in _FOLD_MODELS:
        _FOLD_MODELS.clear()
        for fold, (train, _) in enumerate(GroupKFold(folds).split(notes, groups=patients)):
            x, y, _ = training_data([notes[i] for i in train])
            _FOLD_MODELS[key + (fold,)] = new_model().fit(x, y)
        _FOLD_MODELS[key] = True
    models = {fold: _FOLD_MODELS[key + (fold,)] for fold in range(folds)}
    fold_of = {}
    for fold, (_, test) in enumerate(GroupKFold(folds).split(notes, groups=patients)):
        for i in test:
            fold_of[id(notes[i])] = fold
    cut = THRESHOLD if threshold is None else threshold
    return lambda note: find_phi(note["text"], model=models[fold_of[id(note)]], threshold=cut)


_FOLD_MODELS: dict[Any, Any] = {}


def throughput(n: int) -> dict[str, Any]:
    """`redact(mode="surrogate")` over MTSamples notes (longer, mixed-case dictations), one process."""
    from throughput import load_texts

    from nlp_engine.deid import redact

    texts = load_texts(n)
    redact(texts[0], mode="surrogate", key="benchmark")  # load the lexicons before the clock
    started = time.perf_counter()
    found = sum(len(redact(text, mode="surrogate", key="benchmark").spans) for text in texts)
    seconds = time.perf_counter() - started
    words = sum(len(t.split()) for t in texts)
    return {
        "docs": len(texts),
        "docs_per_s": round(len(texts) / seconds, 1),
        "words_per_s": round(words / seconds),
        "phi_spans_found": found,
    }


def presidio_notes(path: Path) -> list[dict[str, Any]]:
    rows = json.loads(path.read_text())
    notes = []
    for i, row in enumerate(rows):
        spans = [
            {"start": s["start_position"], "end": s["end_position"], "label": s["entity_type"]}
            for s in row.get("spans", [])
        ]
        notes.append({"patient": i, "text": row["full_text"], "phi": spans})
    return notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("gold", nargs="?", default=None)
    parser.add_argument("--presidio", default=None)
    parser.add_argument("--show-missed", action="store_true")
    parser.add_argument("--cv", type=int, default=5, help="folds, grouped by patient, for the learned layer")
    parser.add_argument("--mtsamples", type=int, default=500, help="notes for the throughput run (0: skip)")
    parser.add_argument(
        "--thresholds",
        default="0.1,0.05,0.04",
        help="learned-layer thresholds to sweep, cross-validated (empty: no sweep)",
    )
    args = parser.parse_args()
    gold = Path(args.gold) if args.gold else data_path("deid/physionet_nursing_dev.jsonl")
    notes = [json.loads(line) for line in gold.read_text().splitlines() if line.strip()]
    result: dict[str, Any] = {"benchmark": "deid", "data": str(gold.name)}
    if args.cv > 1:
        # honest figures: the learned layer is trained on the other patients' notes in each fold
        result["cross_validated"] = {
            "folds": args.cv,
            **score(notes, args.show_missed, cross_validated_finder(notes, args.cv)),
        }
        # how recall trades against precision as the learned layer's threshold moves
        result["threshold_sweep"] = {
            cut: score(notes, finder=cross_validated_finder(notes, args.cv, float(cut)))["token"]
            for cut in filter(None, args.thresholds.split(","))
        }
    from nlp_engine.deid import find_phi

    result["rules_only"] = {
        k: v
        for k, v in score(notes, finder=lambda note: find_phi(note["text"], learned=False)).items()
        if k in ("token", "character", "recall_per_gold_label", "docs_per_s")
    }
    result["shipped_model_in_sample"] = {
        k: v for k, v in score(notes).items() if k in ("token", "character", "docs_per_s", "words_per_s")
    }
    presidio = Path(args.presidio) if args.presidio else SHARED_DATA / "deid/presidio_synth_dataset_v2.json"
    if presidio.exists():
        result["presidio_synth"] = {
            k: v for k, v in score(presidio_notes(presidio)).items() if k != "missed_token_shapes"
        }
    if args.mtsamples:
        result["mtsamples_throughput"] = throughput(args.mtsamples)
    result["peak_rss_mb"] = peak_rss_mb()
    emit(result)


if __name__ == "__main__":
    main()
