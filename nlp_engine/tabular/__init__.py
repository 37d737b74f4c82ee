"""Structured record data beside the text: patient-level tables from CSV/Parquet or FHIR resources,
and scikit-learn models over them (see `model.TabularModel`)."""

from __future__ import annotations

from .fhir_table import fhir_to_table
from .model import MODELS, TabularModel, column_types, preprocessor, read_table

__all__ = ["MODELS", "TabularModel", "column_types", "fhir_to_table", "preprocessor", "read_table"]
