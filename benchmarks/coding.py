"""ICD-10-CM coding on CodiEsp (CLEF eHealth 2020): train on `train`, evaluate on `dev`, English text.

Usage: python benchmarks/coding.py [CODIESP_DIR] [--configs tfidf/logreg/hybrid ...] [--word2vec MTSAMPLES_CSV]

Each config is FEATURIZER/CLASSIFIER/MODE (MODE: `hybrid` = classifier + neighbours + linker with the
learned ranker, `plain` = the classifier alone through the same ranker), plus `linker` for the
rule-based linker alone (codes ranked by assertion status, then mentions). Each runs in its own child
process, so peak memory is per config. Prints one JSON object: per config MAP (as the CodiEsp script
computes it), P@5, micro/macro P/R/F1 at the tuned threshold, fit time, docs/s and words/s when
coding. With `--word2vec CSV`, Word2Vec is first trained on that corpus (MTSamples) and its nearest
neighbours of a few clinical words are printed; word2vec configs then use those vectors.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_path, emit, peak_rss_mb  # noqa: E402

DEFAULT_CONFIGS = [
    "linker",
    "tfidf/logreg/plain",
    "tfidf/logreg/hybrid",
    "tfidf-char/logreg/hybrid",
    "tfidf/svm/hybrid",
    "tfidf/forest/hybrid",
    "tfidf/boosting/hybrid",
    "concepts/logreg/hybrid",
    "tfidf+concepts/logreg/hybrid",
    "word2vec/logreg/hybrid",
    "transformer/logreg/hybrid",
]
PROBE_WORDS = ["carcinoma", "hypertension", "metformin", "pneumonia", "lymph node"]
_STATE: dict[str, Any] = {}


def linker_ranking(texts: list[str]) -> list[list[str]]:
    from nlp_engine.coding.analysis import STATUS_RANK, analyze

    out = []
    for mentions in analyze(texts, n_process=1):
        best: dict[str, list[int]] = {}
        for m in mentions:
            if m.code:
                row = best.setdefault(m.code, [9, 0])
                row[0] = min(row[0], STATUS_RANK.get(m.status, 9))
                row[1] += 1
        out.append([c for c, _ in sorted(best.items(), key=lambda kv: (kv[1][0], -kv[1][1], kv[0]))])
    return out


def run_config(config: str) -> dict[str, Any]:
    from nlp_engine.cli.coder import evaluation
    from nlp_engine.coding import DiagnosisCoder, mean_average_precision, precision_at_k
    from nlp_engine.coding.analysis import _cache as analysis_cache

    train, dev = _STATE["train"], _STATE["dev"]
    words = sum(len(d.text.split()) for d in dev)
    gold = [d.codes for d in dev]
    if config == "linker":
        started = time.perf_counter()
        ranked = linker_ranking([d.text for d in dev])
        elapsed = time.perf_counter() - started
        return {
            "config": config,
            "map": round(mean_average_precision(gold, ranked), 4),
            "precision_at_5": round(precision_at_k(gold, ranked, 5), 4),
            "fit_seconds": 0.0,
            "docs_per_s": round(len(dev) / elapsed, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    featurizer, classifier, mode = config.split("/")
    started = time.perf_counter()
    coder = DiagnosisCoder(
        featurizer=featurizer,
        classifier=classifier,
        hybrid=mode == "hybrid",
        vectors=_STATE.get("vectors"),
        n_jobs=2,
    ).fit([d.text for d in train], [d.codes for d in train])
    fit_seconds = time.perf_counter() - started
    for doc in dev:  # coding time below includes running the pipeline on the dev texts
        analysis_cache.pop(("clinical", hashlib.sha256(doc.text.encode()).hexdigest()), None)
    started = time.perf_counter()
    scores = evaluation(coder, [d.text for d in dev], gold)
    elapsed = time.perf_counter() - started
    return {
        "config": config,
        **{k: v for k, v in scores.items() if k != "documents"},
        "threshold": coder.training_report_["threshold"],
        "candidate_recall_held_out": coder.training_report_["candidate_recall_held_out"],
        "fit_seconds": round(fit_seconds, 1),
        "docs_per_s": round(len(dev) / elapsed, 1),
        "words_per_s": round(words / elapsed),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _child(config: str, root: str, vectors: str | None, queue: Any) -> None:
    from corpora.coded import read_codiesp

    _STATE.update(train=read_codiesp(root, "train"), dev=read_codiesp(root, "dev"), vectors=vectors)
    queue.put(run_config(config))
    queue.close()
    queue.join_thread()
    # Leave at once: multiprocessing's exit handler would wait for joblib's idle worker processes.
    os._exit(0)


def in_child(config: str, root: Path) -> dict[str, Any]:
    """Run one config in a fresh (spawned, non-daemon) process: it may use worker processes, its peak
    memory is its own, and no thread state is inherited through fork."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_child, args=(config, str(root), _STATE.get("vectors"), queue))
    child.start()
    row = queue.get()
    child.join()
    return row


def word2vec_check(csv_path: Path, out: Path) -> dict[str, Any]:
    from corpora.coded import read_mtsamples
    from nlp_engine.embeddings import train_word2vec

    texts = list({d.group: d.text for d in read_mtsamples(csv_path)}.values())
    vectors = train_word2vec(texts, seed=0, workers=1)
    vectors.save(out)
    neighbours = {}
    for word in PROBE_WORDS:
        try:
            neighbours[word] = [w for w, _ in vectors.most_similar(word, 8)]
        except KeyError:
            neighbours[word] = []
    return {"corpus": f"MTSamples, {len(texts)} distinct notes", **vectors.meta, "neighbours": neighbours}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", default=None)
    parser.add_argument("--configs", nargs="*", default=DEFAULT_CONFIGS)
    parser.add_argument("--word2vec", default=None, help="MTSamples CSV to train Word2Vec on first")
    parser.add_argument("--vectors-out", default="out/bench/word2vec")
    args = parser.parse_args()
    root = data_path("codiesp", args.path)
    from corpora.coded import read_codiesp

    _STATE["train"] = read_codiesp(root, "train")
    _STATE["dev"] = read_codiesp(root, "dev")
    result: dict[str, Any] = {
        "benchmark": "coding",
        "data": f"CodiEsp-D English: train {len(_STATE['train'])} cases, dev {len(_STATE['dev'])} cases",
        "metric_of_record": "MAP over ranked codes per case (CodiEsp script), dev",
    }
    if args.word2vec:
        result["word2vec"] = word2vec_check(Path(args.word2vec), Path(args.vectors_out))
        _STATE["vectors"] = args.vectors_out
    results = []
    for config in args.configs:
        row = in_child(config, root)
        print(row, file=sys.stderr, flush=True)
        results.append(row)
    result["configs"] = results
    result["peak_rss_mb_parent"] = peak_rss_mb()
    emit(result)


if __name__ == "__main__":
    main()
