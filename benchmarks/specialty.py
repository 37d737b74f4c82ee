"""MTSamples medical specialty classification, split so that the same note never straddles train and test.

Usage: python benchmarks/specialty.py [MTSAMPLES_CSV] [--featurizers tfidf word2vec transformer concepts]
       [--min-texts 30] [--folds 5]

MTSamples lists 2,357 distinct transcriptions under 4,999 rows: one note often appears under several
specialties (a "Surgery" row and an "Orthopedic" row). We keep one row per distinct text (its first
specialty), keep specialties with at least `--min-texts` distinct texts, and run `GroupKFold` on the
text; each featurizer (nlp_engine.coding.features, fitted on the training folds only: Word2Vec is
trained on them, TF-IDF vocabularies come from them) feeds a multinomial logistic regression.
Prints accuracy and macro-F1 per featurizer (mean over folds), fit and transform time, and peak memory.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_path, emit, peak_rss_mb  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", default=None)
    parser.add_argument("--featurizers", nargs="*", default=["tfidf", "word2vec", "transformer", "concepts"])
    parser.add_argument("--min-texts", type=int, default=30)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    import numpy as np
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import GroupKFold

    from corpora.coded import read_mtsamples
    from nlp_engine.coding.features import make_featurizer

    docs = read_mtsamples(data_path("mtsamples/mtsamples.csv", args.path))
    first: dict[str, Any] = {}
    for doc in docs:
        first.setdefault(doc.group, doc)
    per_label: dict[str, int] = {}
    for doc in first.values():
        per_label[doc.label] = per_label.get(doc.label, 0) + 1
    kept = [d for d in first.values() if per_label[d.label] >= args.min_texts]
    texts = [d.text for d in kept]
    labels = np.array([d.label for d in kept])
    groups = [d.group for d in kept]
    words = sum(len(t.split()) for t in texts)
    result: dict[str, Any] = {
        "benchmark": "specialty",
        "data": f"MTSamples: {len(kept)} distinct notes, {len(set(labels))} specialties with >= {args.min_texts} notes",
        "split": f"GroupKFold({args.folds}) on the note text",
        "majority_class_accuracy": round(float(max(np.mean(labels == c) for c in set(labels))), 4),
        "featurizers": {},
    }
    for name in args.featurizers:
        featurizer = make_featurizer(name)
        accs, f1s, fit_s, transform_s = [], [], 0.0, 0.0
        for train_idx, test_idx in GroupKFold(args.folds).split(texts, labels, groups):
            started = time.perf_counter()
            feats = clone(featurizer).fit([texts[i] for i in train_idx])
            x_train = feats.transform([texts[i] for i in train_idx])
            model = LogisticRegression(C=10, max_iter=3000).fit(x_train, labels[train_idx])
            fit_s += time.perf_counter() - started
            started = time.perf_counter()
            pred = model.predict(feats.transform([texts[i] for i in test_idx]))
            transform_s += time.perf_counter() - started
            accs.append(accuracy_score(labels[test_idx], pred))
            f1s.append(f1_score(labels[test_idx], pred, average="macro"))
        result["featurizers"][name] = {
            "accuracy": round(float(np.mean(accs)), 4),
            "macro_f1": round(float(np.mean(f1s)), 4),
            "fit_seconds_total": round(fit_s, 1),
            "predict_docs_per_s": round(len(texts) / transform_s, 1),
            "predict_words_per_s": round(words / transform_s),
        }
        print(name, result["featurizers"][name], file=sys.stderr, flush=True)
    result["peak_rss_mb"] = peak_rss_mb()
    emit(result)


if __name__ == "__main__":
    main()
