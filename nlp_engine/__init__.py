"""nlp_engine: offline clinical NLP for pathology reports and clinical notes.

>>> import nlp_engine
>>> doc = nlp_engine.process("FINAL DIAGNOSIS: Prostatic adenocarcinoma, Gleason 3+4=7.", pipeline="pathology")
>>> doc.concepts[0].code
'C61'
"""

from __future__ import annotations

__version__ = "0.1.0"

from .pipeline import available_pipelines, load, process  # noqa: E402
from .results import Assertion, CodeCandidate, Concept, Document, Section, Sentence  # noqa: E402

__all__ = [
    "Assertion",
    "CodeCandidate",
    "Concept",
    "Document",
    "Section",
    "Sentence",
    "__version__",
    "available_pipelines",
    "load",
    "process",
]
