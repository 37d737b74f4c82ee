"""Cohort tools measured on real notes.

Usage: python benchmarks/cohorts.py [--embeddings lsa transformer] [--mtsamples CSV] [--codiesp DIR]

1. Clustering MTSamples: the distinct transcriptions of specialties with at least 30 of them, clustered
   by K-means (k = the number of specialties, and k chosen by silhouette) and DBSCAN; agreement with
   the specialty labels (adjusted Rand index, normalised mutual information, purity), silhouette,
   time. Specialty is only one way to group notes (a surgery note groups with others by procedure
   words), so expect partial agreement.
2. Similar cases on CodiEsp: the 500 training cases indexed, each dev case queried: how many of its
   gold codes its nearest case shares, and codes recommended from the 20 nearest cases ranked by
   similarity-weighted votes, scored as CodiEsp does (MAP) with P@5.
3. Item-based collaborative filtering on CodiEsp codes: fitted on the training cases' codes; for each
   dev case with at least 4 codes, half its codes (seeded draw) are given and the other half must be
   recommended: hit rate and recall at 10, MAP, against a most-frequent-codes baseline.
4. Clustering a table: K-means (k by silhouette) over the TCGA clinical table's demographic and
   staging columns, compared with the cancer type it was not given (`--only-table` runs just this).
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_path, emit, peak_rss_mb  # noqa: E402


def purity(labels: list[str], clusters: Any) -> float:
    by_cluster: dict[int, Counter[str]] = {}
    for label, cluster in zip(labels, clusters, strict=True):
        by_cluster.setdefault(int(cluster), Counter())[label] += 1
    return sum(c.most_common(1)[0][1] for c in by_cluster.values()) / len(labels)


class Precomputed:
    """A fitted embedder and its matrix, reused by every clustering run on the same notes."""

    def __init__(self, embedder: Any, matrix: Any) -> None:
        self.embedding, self.terms_, self.matrix = embedder.embedding, embedder.terms_, matrix

    def fit(self, texts: Any, y: Any = None) -> Precomputed:
        return self

    def transform(self, texts: Any) -> Any:
        return self.matrix


def clustering(path: Path, embeddings: list[str]) -> dict[str, Any]:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from corpora.coded import read_mtsamples
    from nlp_engine.cohorts import ReportEmbedder, cluster_reports

    seen: set[str] = set()
    docs = []
    for doc in read_mtsamples(path):
        if doc.group not in seen:
            seen.add(doc.group)
            docs.append(doc)
    counts = Counter(d.label for d in docs)
    docs = [d for d in docs if counts[d.label] >= 30]
    texts, labels = [d.text for d in docs], [d.label for d in docs]
    specialties = len(set(labels))
    words = sum(len(t.split()) for t in texts)
    out: dict[str, Any] = {"notes": len(texts), "specialties": specialties, "words": words}
    none: list[list[str]] = [[] for _ in texts]
    for embedding in embeddings:
        started = time.perf_counter()
        embedder = ReportEmbedder(embedding).fit(texts)
        matrix = embedder.transform(texts)
        embed_seconds = time.perf_counter() - started

        runs: dict[str, Any] = {
            "embed_seconds": round(embed_seconds, 1),
            "docs_per_s": round(len(texts) / embed_seconds, 1),
        }
        for name, options in (
            ("kmeans_k_specialties", {"method": "kmeans", "k": specialties}),
            ("kmeans_k_by_silhouette", {"method": "kmeans"}),
            ("dbscan", {"method": "dbscan", "min_samples": 5}),
        ):
            started = time.perf_counter()
            fixed = Precomputed(embedder, matrix)
            cohorts = cluster_reports(texts, codes=none, embedder=fixed, **options)  # type: ignore[arg-type]
            clustered = cohorts.labels
            runs[name] = {
                "seconds": round(time.perf_counter() - started, 1),
                "clusters": cohorts.summary["clusters"],
                "adjusted_rand": round(float(adjusted_rand_score(labels, clustered)), 4),
                "nmi": round(float(normalized_mutual_info_score(labels, clustered)), 4),
                "purity": round(purity(labels, clustered), 4),
                "silhouette": cohorts.summary.get("silhouette"),
                **({"k": cohorts.summary["k"]} if "k" in cohorts.summary else {}),
                **(
                    {"noise_fraction": cohorts.summary["noise_fraction"]}
                    if method_is(options, "dbscan")
                    else {}
                ),
                "largest_clusters": [
                    {"size": c["size"], "top_terms": c["top_terms"][:5]}
                    for c in sorted(cohorts.clusters, key=lambda c: -c["size"])[:4]
                ],
            }
            print(
                embedding,
                name,
                {k: v for k, v in runs[name].items() if k != "largest_clusters"},
                file=sys.stderr,
            )
        out[embedding] = runs
    return out


def method_is(options: dict[str, Any], method: str) -> bool:
    return options.get("method") == method


def similar_cases(root: Path, embeddings: list[str]) -> dict[str, Any]:
    from corpora.coded import read_codiesp
    from nlp_engine.coding import mean_average_precision, precision_at_k
    from nlp_engine.cohorts import CaseIndex, CodeRecommender, ReportEmbedder

    train, dev = read_codiesp(root, "train"), read_codiesp(root, "dev")
    gold = [d.codes for d in dev]
    out: dict[str, Any] = {"train_cases": len(train), "dev_cases": len(dev)}
    for embedding in embeddings:
        started = time.perf_counter()
        index = CaseIndex.build([d.text for d in train], [d.id for d in train], [d.codes for d in train],
                                embedder=ReportEmbedder(embedding))  # fmt: skip
        build = time.perf_counter() - started
        started = time.perf_counter()
        shared, ranked = [], []
        for doc in dev:
            nearest = index.query(doc.text, 1)[0]
            shared.append(len(set(nearest["codes"]) & set(doc.codes)) / max(len(set(doc.codes)), 1))
            ranked.append([c for c, _ in index.recommend_codes(doc.text, k=200, neighbours=20)])
        query = time.perf_counter() - started
        out[embedding] = {
            "index_seconds": round(build, 1),
            "queries_per_s": round(len(dev) / query, 1),
            "nearest_case_shares_gold_codes": round(sum(shared) / len(shared), 4),
            "recommended_from_20_nearest": {
                "map": round(mean_average_precision(gold, ranked), 4),
                "precision_at_5": round(precision_at_k(gold, ranked, 5), 4),
            },
        }
        print(embedding, out[embedding], file=sys.stderr)
    # item-based collaborative filtering
    model = CodeRecommender().fit([d.codes for d in train])
    popular = [c for c, _ in Counter(c for d in train for c in set(d.codes)).most_common(200)]
    rng = random.Random(0)
    given, hidden = [], []
    for doc in dev:
        codes = sorted(set(doc.codes))
        if len(codes) < 4:
            continue
        rng.shuffle(codes)
        half = len(codes) // 2
        given.append(codes[:half])
        hidden.append(codes[half:])
    cf = [[c for c, _ in model.recommend(g, 200)] for g in given]
    base = [[c for c in popular if c not in g] for g in given]

    def scores(ranked: list[list[str]]) -> dict[str, float]:
        hits = [bool(set(r[:10]) & set(h)) for r, h in zip(ranked, hidden, strict=True)]
        recall = [len(set(r[:10]) & set(h)) / len(h) for r, h in zip(ranked, hidden, strict=True)]
        return {
            "hit_rate_at_10": round(sum(hits) / len(hits), 4),
            "recall_at_10": round(sum(recall) / len(recall), 4),
            "map": round(mean_average_precision(hidden, ranked), 4),
        }

    out["item_cf"] = {"cases": len(given), "item_cf": scores(cf), "most_frequent_baseline": scores(base)}
    print("item_cf", out["item_cf"], file=sys.stderr)
    return out


def table_clustering(path: Path) -> dict[str, Any]:
    """K-means over the TCGA clinical table's staging and demographic columns (cancer type, codes and
    survival left out), compared with the cancer type it was not given."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from nlp_engine.cohorts import cluster_table
    from nlp_engine.tabular import read_table

    table = read_table(path)
    keep = ["bcr_patient_barcode", "gender", "age_at_initial_pathologic_diagnosis", "icd_10",
            "neoplasm_histologic_grade", "ajcc_pathologic_tumor_stage", "pathologic_T", "pathologic_N",
            "pathologic_M", "vital_status"]  # fmt: skip
    started = time.perf_counter()
    cohorts = cluster_table(table[keep], id_column="bcr_patient_barcode", codes_column="icd_10", k=None)
    seconds = time.perf_counter() - started
    truth = table["acronym"].fillna("?").tolist()
    out = {
        "rows": len(table),
        "features": cohorts.summary["features"],
        "k_by_silhouette": cohorts.summary["k"],
        "silhouette": cohorts.summary.get("silhouette"),
        "adjusted_rand_vs_cancer_type": round(float(adjusted_rand_score(truth, cohorts.labels)), 4),
        "nmi_vs_cancer_type": round(float(normalized_mutual_info_score(truth, cohorts.labels)), 4),
        "seconds": round(seconds, 1),
        "clusters": [
            {
                "size": c["size"],
                "top_features": c["top_features"][:4],
                "top_codes": [t["code"] for t in c["top_codes"][:3]],
            }
            for c in sorted(cohorts.clusters, key=lambda c: -c["size"])
        ],
    }
    print("table", {k: v for k, v in out.items() if k != "clusters"}, file=sys.stderr)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--embeddings", nargs="*", default=["lsa", "transformer"])
    parser.add_argument("--mtsamples", default=None)
    parser.add_argument("--codiesp", default=None)
    parser.add_argument("--tcga", default=None)
    parser.add_argument("--only-table", action="store_true", help="Only the TCGA table clustering.")
    args = parser.parse_args()
    tcga = data_path("tcga_clinical/tcga_patient_icd_codes.csv", args.tcga)
    if args.only_table:
        emit(
            {
                "benchmark": "cohorts",
                "clustering_tcga_table": table_clustering(tcga),
                "peak_rss_mb": peak_rss_mb(),
            }
        )
        return
    mtsamples = data_path("mtsamples/mtsamples.csv", args.mtsamples)
    codiesp = data_path("codiesp", args.codiesp)
    result = {
        "benchmark": "cohorts",
        "clustering_mtsamples": clustering(mtsamples, args.embeddings),
        "similar_cases_codiesp": similar_cases(codiesp, args.embeddings),
        "clustering_tcga_table": table_clustering(tcga),
        "peak_rss_mb": peak_rss_mb(),
    }
    emit(result)


if __name__ == "__main__":
    main()
