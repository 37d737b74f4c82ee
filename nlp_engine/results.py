"""The typed result model: the one contract between the pipeline and every writer and the service.

Every field is plain data (str, int, float, bool, lists, dicts), so `to_dict()` is JSON-ready and
`Document.from_dict(doc.to_dict())` round-trips. Offsets are character offsets into the text the
caller passed in.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Experiencer = Literal["patient", "family", "other"]

SCHEMA_VERSION = "1"


@dataclass(frozen=True)
class CodeCandidate:
    """One ICD-10-CM code proposed for a concept, best first in `Concept.codes`."""

    code: str
    title: str
    score: float
    matched_term: str


@dataclass(frozen=True)
class Assertion:
    """ConText assertion status of a concept, with the trigger phrases that set it."""

    negated: bool = False
    uncertain: bool = False
    historical: bool = False
    hypothetical: bool = False
    experiencer: Experiencer = "patient"
    triggers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        """One word summary: negated > hypothetical > uncertain > historical > family > present."""
        if self.negated:
            return "negated"
        if self.hypothetical:
            return "hypothetical"
        if self.uncertain:
            return "uncertain"
        if self.historical:
            return "historical"
        if self.experiencer != "patient":
            return self.experiencer
        return "present"


@dataclass(frozen=True)
class Concept:
    """A mention linked to ICD-10-CM, with its assertion and the section it sits in."""

    text: str
    start: int
    end: int
    label: str
    code: str | None
    codes: list[CodeCandidate]
    assertion: Assertion
    section: str | None
    sentence_index: int


@dataclass(frozen=True)
class Section:
    """A section of the document: `name` is the canonical category, `title` the header as written."""

    name: str
    title: str
    start: int
    end: int
    body_start: int


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    section: str | None


@dataclass
class Document:
    """Everything the pipeline found in one document."""

    id: str
    text_length: int
    pipeline: str
    sections: list[Section] = field(default_factory=list)
    sentences: list[Sentence] = field(default_factory=list)
    concepts: list[Concept] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    schema_version: str = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for concept, out in zip(self.concepts, data["concepts"], strict=True):
            out["assertion"]["status"] = concept.assertion.status
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        concepts = []
        for c in data.get("concepts", []):
            assertion = {k: v for k, v in c["assertion"].items() if k != "status"}
            concepts.append(
                Concept(
                    **{k: v for k, v in c.items() if k not in ("codes", "assertion")},
                    codes=[CodeCandidate(**x) for x in c["codes"]],
                    assertion=Assertion(**assertion),
                )
            )
        return cls(
            id=data["id"],
            text_length=data["text_length"],
            pipeline=data["pipeline"],
            sections=[Section(**s) for s in data.get("sections", [])],
            sentences=[Sentence(**s) for s in data.get("sentences", [])],
            concepts=concepts,
            metadata=dict(data.get("metadata", {})),
            schema_version=data.get("schema_version", SCHEMA_VERSION),
        )
