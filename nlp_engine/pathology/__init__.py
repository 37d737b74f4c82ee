"""Pathology reports: synoptic fields with their evidence (`extract`).

>>> from nlp_engine.pathology import extract
>>> fields = extract("FINAL DIAGNOSIS: Adenocarcinoma, Gleason 3+4=7 (Grade Group 2), pT2 N0.")
>>> fields["pT"]["value"], fields["pN"]["value"], fields["gleason"]["value"]
('pT2', 'pN0', '3+4=7')
"""

from __future__ import annotations

from .extract import FIELDS, extract, extract_specimens, review, withheld

__all__ = ["FIELDS", "PathologyCoder", "extract", "extract_specimens", "review", "withheld"]


def __getattr__(name: str) -> object:
    if name == "PathologyCoder":  # scikit-learn loads only when the coder is used
        from .coder import PathologyCoder

        return PathologyCoder
    raise AttributeError(name)
