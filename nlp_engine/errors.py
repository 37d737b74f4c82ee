"""Error codes for nlp_engine, kept in one place (as spaCy does) so messages stay consistent.

Messages never include document text: they name ids, sizes, byte offsets and what to do next.
"""

from __future__ import annotations


class NLPEngineError(Exception):
    """Base class for every error raised on purpose by nlp_engine."""

    code = "E000"

    def __init__(self, message: str) -> None:
        super().__init__(f"[{self.code}] {message}")


class NotTextError(NLPEngineError, ValueError):
    """Input that cannot be read as text: binary data, undecodable bytes, wrong type."""

    code = "E001"


class InputTooLargeError(NLPEngineError, ValueError):
    """Input larger than the configured maximum."""

    code = "E002"


class UnknownPipelineError(NLPEngineError, KeyError):
    """A pipeline name that has no config in `pipelines/` and is not a directory."""

    code = "E003"


class RuleFileError(NLPEngineError, ValueError):
    """A rule or vocabulary file with a malformed line, an unknown key or an unknown category."""

    code = "E004"


class MissingResourceError(NLPEngineError, FileNotFoundError):
    """A data file that should ship with the package (or be built) is missing."""

    code = "E005"


class SpanError(NLPEngineError, ValueError):
    """A caller-supplied character span that is out of range or empty."""

    code = "E006"


class EmbeddingError(NLPEngineError, ValueError):
    """Embedding training or loading that cannot go on: no tokens, a vector file that is not ours."""

    code = "E007"


class CodingError(NLPEngineError, ValueError):
    """Training or coding input that cannot give a trustworthy model: no documents, malformed codes,
    a single label, a model file that is not ours or was changed."""

    code = "E008"


class ImagingError(NLPEngineError, ValueError):
    """An image that cannot be read or used: corrupt, unsupported encoding, wrong shape, untrained model."""

    code = "E009"


class TabularError(NLPEngineError, ValueError):
    """Structured data that cannot train or feed a model: a missing target or feature column, one class."""

    code = "E010"


class CohortError(NLPEngineError, ValueError):
    """Cohort tools: too few reports, an unknown embedding or method, an index that does not fit."""

    code = "E011"


class PathologyError(NLPEngineError, ValueError):
    """Pathology coding that cannot go on: no labelled reports, a missing text or label column, a model
    file that is not ours or was changed."""

    code = "E012"
