"""Cohorts: report embeddings, clustering with cluster descriptions and a 2-D map, similar cases, and
code recommendation from similar cases and by item-based collaborative filtering."""

from __future__ import annotations

from ..errors import CohortError
from .clusters import (
    METHODS,
    Cohorts,
    cluster_map,
    cluster_reports,
    cluster_table,
    describe_clusters,
    linker_codes,
)
from .embedding import EMBEDDINGS, ReportEmbedder
from .similar import CaseIndex, CodeRecommender

__all__ = [
    "EMBEDDINGS",
    "METHODS",
    "CaseIndex",
    "CodeRecommender",
    "CohortError",
    "Cohorts",
    "ReportEmbedder",
    "cluster_map",
    "cluster_reports",
    "cluster_table",
    "describe_clusters",
    "linker_codes",
]
