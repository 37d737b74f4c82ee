"""ICD-10-CM linking quality of the rule-based concept extractor, against professional coders.

Usage: python benchmarks/linker_eval.py [CODIESP_DIR] [--split dev] [--pipeline clinical]

Data: CodiEsp (CLEF eHealth 2020) clinical cases, English translations (`text_files_en/`), with the
diagnosis codes professional coders assigned (`<split>D.tsv`). The linker is not trained on them: every
code it proposes comes from the ICD-10-CM tables and the curated synonyms. A document's predicted codes
are the top codes of its concepts whose assertion is `present` or `historical` (negated, uncertain,
hypothetical and family mentions are left out, as a coder would). Prints micro precision, recall and
F1 on full codes and on 3-character categories, the same with every mention counted (no ConText),
the share of gold codes the KB contains, and throughput.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_path, emit, peak_rss_mb, scores  # noqa: E402

from nlp_engine.parallel import iter_documents  # noqa: E402
from nlp_engine.pipeline import get_pipeline  # noqa: E402

KEPT = {"present", "historical"}


def micro(gold: dict[str, set[str]], pred: dict[str, set[str]]) -> dict[str, float]:
    """Micro-averaged scores over documents' code sets."""
    tp = sum(len(gold[d] & pred.get(d, set())) for d in gold)
    n_pred = sum(len(pred.get(d, set())) for d in gold)
    n_gold = sum(len(gold[d]) for d in gold)
    return {**scores(tp, n_pred, n_gold), "tp": tp, "predicted": n_pred, "gold": n_gold}


def category(code: str) -> str:
    return code.split(".")[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", default=None)
    parser.add_argument("--split", default="dev")
    parser.add_argument("--pipeline", default="clinical")
    args = parser.parse_args()
    root = data_path(f"codiesp/{args.split}", args.path)
    gold: dict[str, set[str]] = defaultdict(set)
    with open(root / f"{args.split}D.tsv", encoding="utf-8") as handle:
        for case, code in csv.reader(handle, delimiter="\t"):
            gold[case].add(code.upper())
    files = sorted((root / "text_files_en").glob("*.txt"))
    items = [(f.stem, f.read_text(encoding="utf-8"), {}) for f in files if f.stem in gold]
    gold = {case: codes for case, codes in gold.items() if any(case == i[0] for i in items)}
    words = sum(len(text.split()) for _, text, _ in items)

    nlp, _ = get_pipeline(args.pipeline)
    kb_codes = set(nlp.get_pipe("icd10_concepts").index.titles)
    started = time.perf_counter()
    docs = list(iter_documents(items, nlp, n_process=1))
    elapsed = time.perf_counter() - started
    pred = {d.id: {c.code for c in d.concepts if c.code and c.assertion.status in KEPT} for d in docs}
    pred_all = {d.id: {c.code for c in d.concepts if c.code} for d in docs}
    in_kb = sum(len(codes & kb_codes) for codes in gold.values()) / sum(len(codes) for codes in gold.values())
    emit(
        {
            "benchmark": "linker_eval",
            "data": f"codiesp/{args.split} (English), {len(items)} cases",
            "pipeline": args.pipeline,
            "codes_full": micro(gold, pred),
            "codes_category_3char": micro(
                {d: {category(c) for c in cs} for d, cs in gold.items()},
                {d: {category(c) for c in cs} for d, cs in pred.items()},
            ),
            "codes_full_without_context_filter": micro(gold, pred_all),
            "gold_codes_in_kb": round(in_kb, 4),
            "docs_per_s": round(len(items) / elapsed, 1),
            "words_per_s": round(words / elapsed),
            "peak_rss_mb": peak_rss_mb(),
        }
    )


if __name__ == "__main__":
    main()
