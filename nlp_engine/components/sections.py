"""Section detection for pathology reports and clinical notes.

A header is a known title (from `vocab/section_rules.jsonl`) that either ends in a colon and stands
at the start of a line or right after `.`, `,` or `;` (the flattened MTSamples form `up.,PLAN:,`), or
stands alone on its own line. Each section runs from its header to the next one. Results:

- `doc.spans["sections"]`: one span per section, header included, `label_` = canonical category;
- `doc._.sections`: the same spans as a list; `token._.section`: the category of a token's section
  (None before the first header).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import srsly
from spacy.language import Language
from spacy.tokens import Doc, Span, Token
from spacy.util import ensure_path

from ..errors import RuleFileError
from ..resources import read_jsonl

SPANS_KEY = "sections"
TITLE_KEY = "section_titles"
_CACHE_KEY = "nlp_engine_section_index"
#: Inside a synoptic (CAP) summary, lines like "Procedure: ..." are fields; only these end it.
ENDS_SYNOPTIC = frozenset(
    {"comment", "addendum", "final_diagnosis", "immunohistochemistry", "microscopic", "gross"}
)
DEFAULT_RULES = "vocab:section_rules.jsonl"


def _doc_sections(doc: Doc) -> list[Span]:
    return list(doc.spans[SPANS_KEY]) if SPANS_KEY in doc.spans else []


def _token_section(token: Token) -> str | None:
    doc = token.doc
    if SPANS_KEY not in doc.spans:
        return None
    group = doc.spans[SPANS_KEY]
    # Cache the section starts on the doc so a loop over all tokens stays linear.
    cached = doc.user_data.get(_CACHE_KEY)
    if cached is None or cached[0] != len(group):
        cached = (len(group), [span.start for span in group], [span.label_ for span in group])
        doc.user_data[_CACHE_KEY] = cached
    _, starts, labels = cached
    idx = bisect.bisect_right(starts, token.i) - 1
    return labels[idx] if idx >= 0 else None


if not Doc.has_extension("sections"):
    Doc.set_extension("sections", getter=_doc_sections)
if not Token.has_extension("section"):
    Token.set_extension("section", getter=_token_section)


def load_section_rules(ref: str | Path, groups: Iterable[str]) -> dict[str, str]:
    """Read `literal -> category` for the given groups; an earlier group wins a shared literal."""
    order = list(groups)
    by_group: dict[str, dict[str, str]] = {g: {} for g in order}
    for record in read_jsonl(ref, required=frozenset({"literal", "category", "group"})):
        if record["group"] in by_group:
            by_group[record["group"]][record["literal"].lower()] = record["category"]
    rules: dict[str, str] = {}
    for group in reversed(order):
        rules.update(by_group[group])
    if not rules:
        raise RuleFileError(f"{ref}: no section rules for groups {order}")
    return rules


class ClinicalSections:
    """Finds section headers with one compiled regex and records sections as span groups."""

    def __init__(self, nlp: Language, name: str, groups: list[str]) -> None:
        self.name = name
        self.groups = list(groups)
        self.rules: dict[str, str] = {}

    def initialize(
        self, get_examples: Any = None, *, nlp: Language | None = None, rules: str = DEFAULT_RULES
    ) -> None:
        self.set_rules(load_section_rules(rules, self.groups))

    def set_rules(self, rules: dict[str, str]) -> None:
        self.rules = dict(rules)

    # A header candidate: the text between a line start (or `.`, `,`, `;`) and the next colon or line
    # end. Looking the candidate up in a dict is much faster than a regex alternation of every title.
    _CANDIDATE = re.compile(
        r"(?:^|(?<=[.,;]))[ \t]*(?P<title>[A-Za-z][^:\n.,;]{0,60}?)[ \t]*(?P<end>:|\r?$)", re.MULTILINE
    )

    def find_headers(self, text: str) -> list[tuple[str, int, int]]:
        """Return `(category, title_start, body_start)` for each header found in `text`."""
        if not self.rules:
            raise RuleFileError(f"component {self.name!r} has no rules: call nlp.initialize() first")
        rules = self.rules
        found: list[tuple[str, int, int]] = []
        for match in self._CANDIDATE.finditer(text):
            title = match.group("title")
            category = rules.get(" ".join(title.lower().split()))
            if category is None:
                continue
            if match.group("end") != ":":
                # No colon: only a title alone on its line, in capitals or title case, counts.
                line_start = text.rfind("\n", 0, match.start("title")) + 1
                if text[line_start : match.start("title")].strip() or not (
                    title.isupper() or title.istitle()
                ):
                    continue
            if found and found[-1][0] == "synoptic" and category not in ENDS_SYNOPTIC:
                continue  # "Procedure:", "Histologic type:" are fields of the synoptic summary
            found.append((category, match.start("title"), match.end()))
        return found

    def __call__(self, doc: Doc) -> Doc:
        sections: list[Span] = []
        titles: list[Span] = []
        headers = self.find_headers(doc.text)
        for idx, (category, start, body_start) in enumerate(headers):
            end_char = headers[idx + 1][1] if idx + 1 < len(headers) else len(doc.text)
            span = doc.char_span(start, end_char, label=category, alignment_mode="expand")
            title = doc.char_span(start, body_start, label=category, alignment_mode="expand")
            if span is None or title is None or (sections and span.start < sections[-1].end):
                continue
            sections.append(span)
            titles.append(title)
        doc.spans[SPANS_KEY] = sections
        doc.spans[TITLE_KEY] = titles
        doc.user_data.pop(_CACHE_KEY, None)
        return doc

    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        return srsly.msgpack_dumps({"groups": self.groups, "rules": self.rules})

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = ()) -> ClinicalSections:
        msg = srsly.msgpack_loads(data)
        self.groups = list(msg["groups"])
        self.set_rules(msg["rules"])
        return self

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "rules.json", {"groups": self.groups, "rules": self.rules})

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> ClinicalSections:
        data = srsly.read_json(ensure_path(path) / "rules.json")
        self.groups = list(data["groups"])
        self.set_rules(data["rules"])
        return self

    def __getstate__(self) -> dict[str, Any]:
        return {"name": self.name, "groups": self.groups, "rules": self.rules}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.name = state["name"]
        self.groups = state["groups"]
        self.set_rules(state["rules"])


@Language.factory(
    "clinical_sections",
    default_config={"groups": ["note", "pathology"]},
    assigns=["doc.spans", "token._.section"],
)
def make_clinical_sections(nlp: Language, name: str, groups: list[str]) -> ClinicalSections:
    """Factory `clinical_sections`; `groups` picks rule groups in priority order."""
    return ClinicalSections(nlp, name, groups)
