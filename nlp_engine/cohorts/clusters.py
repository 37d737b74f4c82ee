"""Clustering reports into cohorts, each described by its top terms and codes, and a 2-D cluster map.

`cluster_reports(texts, method="kmeans"|"dbscan", ...)` embeds the reports (`ReportEmbedder`), then:

- K-means on the unit-length embeddings (`k` given, or chosen by the best silhouette among 2..12 (at most
  half the reports) on up to 2,000 reports);
- DBSCAN with cosine distance; `eps` given, or the median distance of each report to its
  `min_samples`-th neighbour; reports in no dense region get the label -1 (noise) and are counted.

Each cluster is described by its size, the terms whose mean TF-IDF in the cluster most exceeds their
mean over all reports (for tables, `cluster_table`: the features most above their average), the codes most typical of it (share of its reports with the code, and lift =
that share over the share among all reports), and a few report ids. Codes are the ones given (a coded
corpus) or, without them, the pipeline's affirmed ICD-10-CM concepts (ConText present or historical).
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CohortError
from .embedding import ReportEmbedder

METHODS = ("kmeans", "dbscan")


@dataclass
class Cohorts:
    ids: list[str]
    labels: np.ndarray
    projection: np.ndarray
    clusters: list[dict[str, Any]]
    summary: dict[str, Any] = field(default_factory=dict)


def linker_codes(texts: Sequence[str], n_process: int = 1) -> list[list[str]]:
    """The affirmed (present or historical) ICD-10-CM codes the pipeline links in each text."""
    from ..coding.analysis import analyze

    return [
        sorted({m.code for m in mentions if m.code and m.status in ("present", "historical")})
        for mentions in analyze(list(texts), n_process=n_process)
    ]


def _choose_k(x: np.ndarray, seed: int) -> tuple[int, dict[int, float]]:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(seed)
    sample = x if len(x) <= 2000 else x[rng.choice(len(x), 2000, replace=False)]
    scores: dict[int, float] = {}
    for k in range(2, min(12, len(sample) // 2) + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicate reports can leave fewer distinct clusters than k
            labels = KMeans(k, n_init=4, random_state=seed).fit_predict(sample)
        if 1 < len(set(labels)) < len(sample):
            scores[k] = round(float(silhouette_score(sample, labels)), 4)
    if not scores:
        raise CohortError("could not find two clusters among these reports")
    return max(scores, key=lambda k: scores[k]), scores


def _auto_eps(x: np.ndarray, min_samples: int, metric: str = "cosine") -> float:
    from sklearn.neighbors import NearestNeighbors

    k = min(min_samples, len(x) - 1)
    distances, _ = NearestNeighbors(n_neighbors=k + 1, metric=metric).fit(x).kneighbors(x)
    return float(np.median(distances[:, k]))


def describe_clusters(
    labels: np.ndarray,
    term_matrix: Any,
    term_names: Sequence[str],
    codes: Sequence[Sequence[str]],
    ids: Sequence[str],
    *,
    top: int = 8,
    titles: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    overall = np.asarray(term_matrix.mean(axis=0)).ravel()
    code_share = Counter(c for code_list in codes for c in set(code_list))
    n = len(labels)
    out = []
    for label in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == label)
        mean = np.asarray(term_matrix[members].mean(axis=0)).ravel()
        terms = [term_names[i] for i in np.argsort(-(mean - overall))[:top]]
        counts = Counter(c for i in members for c in set(codes[int(i)]))
        typical = []
        for code, count in counts.items():
            share = count / len(members)
            lift = share / (code_share[code] / n)
            if count >= 2 and lift >= 1.5:
                typical.append((share * np.log2(1 + lift), code, share, lift))
        typical.sort(reverse=True)
        out.append(
            {
                "cluster": int(label),
                "size": int(len(members)),
                "top_terms": terms,
                "top_codes": [
                    {
                        "code": code,
                        **({"title": titles[code]} if titles and code in titles else {}),
                        "share": round(share, 3),
                        "lift": round(lift, 2),
                    }
                    for _, code, share, lift in typical[:top]
                ],
                "examples": [str(ids[i]) for i in members[:5]],
            }
        )
    return out


def _cluster_matrix(
    x: np.ndarray, method: str, k: int | None, eps: float | None, min_samples: int, seed: int, metric: str
) -> tuple[np.ndarray, dict[str, Any], np.ndarray]:
    """`(labels, summary, 2-D projection)` of the rows of `x` (see the module docstring)."""
    from sklearn.cluster import DBSCAN, KMeans
    from sklearn.decomposition import PCA
    from sklearn.metrics import silhouette_score

    if method not in METHODS:
        raise CohortError(f"unknown clustering method {method!r}; choose from {', '.join(METHODS)}")
    if len(x) < 3:
        raise CohortError(f"clustering needs at least 3 rows, got {len(x)}")
    summary: dict[str, Any] = {"method": method}
    if method == "kmeans":
        if k is None:
            k, scores = _choose_k(x, seed)
            summary["silhouette_by_k"] = scores
        if not 2 <= k <= len(x):
            raise CohortError(f"k must be between 2 and the number of rows ({len(x)}), got {k}")
        labels = KMeans(k, n_init=10, random_state=seed).fit_predict(x)
        summary["k"] = int(k)
    else:
        eps = eps if eps is not None else _auto_eps(x, min_samples, metric)
        labels = DBSCAN(eps=eps, min_samples=min_samples, metric=metric).fit_predict(x)
        summary.update(
            eps=round(float(eps), 4),
            min_samples=min_samples,
            noise_fraction=round(float(np.mean(labels == -1)), 4),
        )
    clustered = labels != -1
    if len(set(labels[clustered].tolist())) > 1:
        summary["silhouette"] = round(
            float(silhouette_score(x[clustered], labels[clustered], metric=metric)), 4
        )
    summary["clusters"] = len(set(labels.tolist()) - {-1})
    dims = min(2, x.shape[1])
    projection = PCA(dims, random_state=seed).fit_transform(x) if len(x) > dims else np.zeros((len(x), 2))
    if projection.shape[1] < 2:
        projection = np.hstack([projection, np.zeros((len(x), 1))])
    return labels, summary, projection


def _titles() -> dict[str, str]:
    try:
        from ..coding.analysis import kb_titles

        return kb_titles()
    except Exception:  # noqa: BLE001 - titles are a nicety; the codes stand without them
        return {}


def cluster_reports(
    texts: Sequence[str],
    *,
    ids: Sequence[str] | None = None,
    codes: Sequence[Sequence[str]] | None = None,
    method: str = "kmeans",
    k: int | None = None,
    eps: float | None = None,
    min_samples: int = 5,
    embedder: ReportEmbedder | None = None,
    seed: int = 0,
) -> Cohorts:
    """See the module docstring."""
    if method not in METHODS:
        raise CohortError(f"unknown clustering method {method!r}; choose from {', '.join(METHODS)}")
    texts = list(texts)
    if len(texts) < 3:
        raise CohortError(f"clustering needs at least 3 reports, got {len(texts)}")
    ids = [str(i) for i in ids] if ids is not None else [str(i) for i in range(len(texts))]
    embedder = embedder if embedder is not None else ReportEmbedder(random_state=seed)
    x = embedder.fit(texts).transform(texts)
    labels, summary, projection = _cluster_matrix(x, method, k, eps, min_samples, seed, "cosine")
    summary = {"reports": len(texts), "embedding": embedder.embedding, **summary}
    if codes is None:
        codes = linker_codes(texts)
        summary["codes_from"] = "pipeline (affirmed ICD-10-CM concepts)"
    else:
        summary["codes_from"] = "given"
    clusters = describe_clusters(
        labels,
        embedder.terms_.transform(texts),
        embedder.terms_.get_feature_names_out(),
        codes,
        ids,
        titles=_titles(),
    )
    return Cohorts(ids=ids, labels=labels, projection=projection, clusters=clusters, summary=summary)


def cluster_table(
    table: Any,
    *,
    id_column: str | None = None,
    codes_column: str | None = None,
    drop: Sequence[str] = (),
    method: str = "kmeans",
    k: int | None = None,
    eps: float | None = None,
    min_samples: int = 5,
    seed: int = 0,
) -> Cohorts:
    """Clusters of the rows of a patient-level table (`nlp_engine.tabular` typing and preprocessing:
    numbers imputed, indicated and scaled, categories one-hot; Euclidean distance). Each cluster is
    described by the features most above their average in it (`top_features`: high values of a
    number, over-represented categories) and, with `codes_column` (codes split on `;`, `,`, `|` or
    spaces), its typical codes."""
    import re

    from ..tabular import column_types, preprocessor

    if method not in METHODS:
        raise CohortError(f"unknown clustering method {method!r}; choose from {', '.join(METHODS)}")
    for column in (id_column, codes_column):
        if column and column not in table.columns:
            raise CohortError(f"no column {column!r} (columns: {list(table.columns)[:20]})")
    ids = table[id_column].astype(str).tolist() if id_column else [str(i) for i in range(len(table))]
    codes = (
        [[c for c in re.split(r"[;,|\s]+", str(v)) if c and c != "nan"] for v in table[codes_column].tolist()]
        if codes_column
        else [[] for _ in range(len(table))]
    )
    features = table.drop(columns=[c for c in (id_column, codes_column) if c])
    numeric, categorical, dropped = column_types(features, tuple(drop))
    if not numeric and not categorical:
        raise CohortError("no usable feature columns (all empty, identifiers or dropped)")
    prep = preprocessor(numeric, categorical)
    x = np.asarray(prep.fit_transform(features[numeric + categorical]), dtype=np.float64)
    labels, summary, projection = _cluster_matrix(x, method, k, eps, min_samples, seed, "euclidean")
    summary = {"rows": len(table), "features": numeric + categorical, "dropped_columns": dropped, **summary}
    summary["codes_from"] = codes_column or "none"
    names = [re.sub(r"^(num|cat)__", "", str(n)) for n in prep.get_feature_names_out()]
    clusters = describe_clusters(
        labels, x, names, codes, ids, top=6, titles=_titles() if codes_column else None
    )
    for cluster in clusters:
        cluster["top_features"] = cluster.pop("top_terms")
    return Cohorts(ids=ids, labels=labels, projection=projection, clusters=clusters, summary=summary)


def cluster_map(cohorts: Cohorts, out: str | Path, title: str = "Report cohorts") -> Path:
    """The reports on the first two principal components of their embeddings, coloured by cluster,
    each cluster labelled with its top terms; noise (DBSCAN) in grey. Written as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(8, 6.5), dpi=120)
    cmap = plt.get_cmap("tab20")
    xy = cohorts.projection
    for info in cohorts.clusters:
        label = info["cluster"]
        members = cohorts.labels == label
        colour = "lightgrey" if label == -1 else cmap(label % 20)
        words = info.get("top_terms") or info.get("top_features") or []
        name = "noise" if label == -1 else f"{label}: {', '.join(words[:3])} ({info['size']})"
        ax.scatter(xy[members, 0], xy[members, 1], s=8, color=colour, label=name, alpha=0.7, linewidths=0)
        if label != -1:
            cx, cy = xy[members].mean(axis=0)
            ax.annotate(str(label), (cx, cy), fontsize=9, weight="bold", ha="center")
    ax.set_xlabel("first principal component")
    ax.set_ylabel("second principal component")
    ax.set_title(title)
    ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5), markerscale=2)
    fig.tight_layout()
    fig.savefig(out, bbox_inches="tight")
    plt.close(fig)
    return out
