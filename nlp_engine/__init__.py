"""nlp_engine: offline clinical NLP for pathology reports and clinical notes.

>>> import nlp_engine
>>> doc = nlp_engine.process("FINAL DIAGNOSIS: Prostatic adenocarcinoma, Gleason 3+4=7.", pipeline="pathology")
>>> doc.concepts[0].code
'C61'
"""

from __future__ import annotations

__version__ = "0.1.0"

from .parallel import DocumentFailure  # noqa: E402
from .pipeline import available_pipelines, load, process, process_stream  # noqa: E402
from .results import Assertion, CodeCandidate, Concept, Document, Section, Sentence  # noqa: E402

__all__ = [
    "Assertion",
    "CodeCandidate",
    "Concept",
    "Document",
    "DocumentFailure",
    "Section",
    "Sentence",
    "__version__",
    "available_pipelines",
    "load",
    "process",
    "process_folder",
    "process_stream",
]


def __getattr__(name: str) -> object:
    # The batch engine pulls in the readers (HL7, FHIR models): loaded on first use only.
    if name == "process_folder":
        from .batch.runner import process_folder

        return process_folder
    raise AttributeError(f"module 'nlp_engine' has no attribute {name!r}")
