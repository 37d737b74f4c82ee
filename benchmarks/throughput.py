"""Pipeline throughput on real clinical text: the first N non-empty MTSamples transcriptions.

Usage: python benchmarks/throughput.py [--n 500] [--pipeline clinical] [--processes 1 2]

Modes: `blank` (bare `spacy.blank("en")` tokenizer), `pipeline` (`nlp.pipe(n_process=N)`, spaCy's
own multiprocessing, Docs returned), `engine` (`nlp_engine.parallel.iter_documents`, result-model
Documents returned, which is what `nlp_engine.process` and the CLI use).

Prints one JSON object: docs/s and words/s for each mode and `n_process`, for the bare
`spacy.blank("en")` tokenizer on the same texts, load time, concepts found, and peak RSS (measured in
a fresh subprocess per configuration so one run's memory does not hide another's).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _common import data_path, emit, peak_rss_mb  # noqa: E402


def load_texts(n: int) -> list[str]:
    csv.field_size_limit(sys.maxsize)
    texts = []
    with open(data_path("mtsamples/mtsamples.csv"), encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            text = (row.get("transcription") or "").strip()
            if text:
                texts.append(text)
            if len(texts) == n:
                break
    return texts


def run_one(mode: str, pipeline: str, n: int, processes: int) -> dict[str, object]:
    """Run inside a subprocess: time one configuration."""
    texts = load_texts(n)
    words = sum(len(t.split()) for t in texts)
    started = time.perf_counter()
    if mode == "blank":
        import spacy

        nlp = spacy.blank("en")
    else:
        import nlp_engine

        nlp = nlp_engine.load(pipeline)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    concepts = 0
    if mode == "engine":
        from nlp_engine.parallel import iter_documents

        items = ((str(i), text, {}) for i, text in enumerate(texts))
        for result in iter_documents(items, nlp, n_process=processes, batch_size=32):
            concepts += len(result.concepts)
    else:
        for doc in nlp.pipe(texts, n_process=processes, batch_size=32):
            concepts += len(doc.ents)
    elapsed = time.perf_counter() - started
    return {
        "mode": mode,
        "n_process": processes,
        "docs": len(texts),
        "words": words,
        "load_s": round(load_s, 2),
        "seconds": round(elapsed, 2),
        "docs_per_s": round(len(texts) / elapsed, 1),
        "words_per_s": round(words / elapsed),
        "concepts": concepts,
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--pipeline", default="clinical")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--_one", nargs=2, metavar=("MODE", "PROCESSES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._one:
        print(json.dumps(run_one(args._one[0], args.pipeline, args.n, int(args._one[1]))))
        return
    runs = []
    configs = (
        [("blank", 1)] + [("pipeline", p) for p in args.processes] + [("engine", p) for p in args.processes]
    )
    for mode, processes in configs:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--n",
                str(args.n),
                "--pipeline",
                args.pipeline,
                "--_one",
                mode,
                str(processes),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    by = {(r["mode"], r["n_process"]): r for r in runs}
    result: dict[str, object] = {
        "benchmark": "throughput",
        "pipeline": args.pipeline,
        "data": "mtsamples.csv",
        "runs": runs,
    }
    for mode in ("pipeline", "engine"):
        if (mode, 1) in by and (mode, 2) in by:
            ratio = float(by[(mode, 2)]["docs_per_s"]) / float(by[(mode, 1)]["docs_per_s"])  # type: ignore[arg-type]
            result[f"scaling_2_vs_1_{mode}"] = round(ratio, 2)
    emit(result)


if __name__ == "__main__":
    main()
