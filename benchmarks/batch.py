"""Resumable folder runs at scale: MTSamples notes written out as a folder of N report files.

Usage: python benchmarks/batch.py [--sizes 2000 20000] [--workers 1 2] [--spark] [--formats jsonl]

Each configuration runs `nlp_engine.batch.runner.process_folder` (or, with `--spark`, also
`nlp_engine.spark.spark_process` on `local[2]`) in a fresh subprocess on a fresh output folder and
reports docs/s, words/s, peak RSS (the largest of the process and its workers; for Spark, the driver
Python and the JVM with its Python workers, which are all its descendants) and output size. Notes are
the non-empty MTSamples transcriptions, repeated with varied ids to reach N.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, peak_rss_mb  # noqa: E402
from throughput import load_texts  # noqa: E402


def build_folder(folder: Path, n: int) -> None:
    texts = load_texts(10_000)
    for i in range(n):
        path = folder / f"batch_{i // 1000:03d}" / f"report_{i:06d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"Report {i}.\n" + texts[i % len(texts)], encoding="utf-8")


def run_one(source: str, out: str, workers: int, engine: str, formats: list[str]) -> dict[str, object]:
    startup = 0.0
    words = sum(len(p.read_text().split()) for p in Path(source).rglob("*.txt"))
    if engine == "spark":
        from nlp_engine.spark import spark_process, spark_session

        began = time.perf_counter()
        session = spark_session(f"local[{workers}]")
        startup = time.perf_counter() - began
        started = time.perf_counter()
        summary = spark_process(source, out, spark=session, pipeline="clinical")
        session.stop()
    else:
        from nlp_engine.batch.runner import process_folder

        started = time.perf_counter()
        summary = process_folder(
            source, out, workers=workers, batch_size=32, pipeline="clinical", formats=formats
        )
    elapsed = time.perf_counter() - started
    size = sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file())
    return {
        "engine": engine if engine == "spark" else "local",
        "workers": workers,
        "spark_startup_s": round(startup, 1),
        "docs": summary.processed,
        "failed": summary.failed,
        "seconds": round(elapsed, 1),
        "docs_per_s": round(summary.processed / elapsed, 1),
        "words_per_s": round(words / elapsed),
        "peak_rss_mb": peak_rss_mb(),
        "output_mb": round(size / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--spark", action="store_true", help="also run Spark local[2]")
    parser.add_argument("--formats", nargs="+", default=["jsonl"], help="local outputs: jsonl parquet fhir")
    parser.add_argument("--_one", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._one:
        source, out, workers, engine = args._one
        print(json.dumps(run_one(source, out, int(workers), engine, args.formats)))
        return
    configs = [(w, "local") for w in args.workers] + ([(2, "spark")] if args.spark else [])
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            source = Path(tmp) / f"in_{size}"
            build_folder(source, size)
            for workers, engine in configs:
                out = Path(tmp) / f"out_{size}_{workers}_{engine}"
                proc = subprocess.run(
                    [sys.executable, __file__, "--_one", str(source), str(out), str(workers), engine]
                    + ["--formats", *args.formats],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                runs.append({"inputs": size, **json.loads(proc.stdout.strip().splitlines()[-1])})
                shutil.rmtree(out)
    result: dict[str, object] = {
        "benchmark": "batch",
        "data": "mtsamples.csv notes as files",
        "formats": args.formats,
        "runs": runs,
    }
    for size in args.sizes:
        by = {r["workers"]: r for r in runs if r["inputs"] == size and r["engine"] == "local"}
        if 1 in by and 2 in by:
            result[f"scaling_2_vs_1_at_{size}"] = round(
                float(by[2]["docs_per_s"]) / float(by[1]["docs_per_s"]), 2
            )  # type: ignore[arg-type]
    emit(result)


if __name__ == "__main__":
    main()
