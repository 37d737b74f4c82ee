"""Concept extraction linked to ICD-10-CM.

Matching works on a bag of normalized content tokens (see `nlp_engine.kb.term_key`), so
`carcinoma of the prostate`, `prostate carcinoma` and `Carcinomas of prostate` meet the same index
entry; case-sensitive abbreviations (`MI`, `CHF`, `DM2`) match exact text only. At each token the
longest matching window (up to `max_tokens`, never across punctuation or line breaks) wins.

Each entity gets `label_` from the code's chapter, `kb_id_` (best code) and `ent._.codes`: ranked
candidates as dicts `{"code", "title", "score", "term"}`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import ensure_path, filter_spans

from ..kb import STOP_TOKENS, TERMS_FILE, TermIndex, normalize_token
from ..resources import resolve

DEFAULT_TERMS = f"vocab:{TERMS_FILE}"
_BREAKS = frozenset(
    [",", ";", ":", ".", "[", "]", "!", "?", '"', "=", "+", "*", "&", "|", "<", ">", "~", "_"]
)

if not Span.has_extension("codes"):
    Span.set_extension("codes", default=[])


@functools.lru_cache(maxsize=4)
def _load_index(data: bytes) -> tuple[TermIndex, frozenset[str]]:
    """Parse once per process for each distinct index file (pipelines loaded twice share it)."""
    index = TermIndex.from_bytes(data)
    words = frozenset(word for key in index.terms for word in key.split())
    return index, words


def label_for_code(code: str) -> str:
    """Entity label from the ICD-10-CM chapter of `code`."""
    letter = code[:1]
    if letter == "C" or (letter == "D" and code[1:3] < "50"):
        return "NEOPLASM"
    if letter == "R":
        return "FINDING"
    if letter in "ST":
        return "INJURY"
    if letter == "Z":
        return "FACTOR"
    return "CONDITION"


class ICD10Concepts:
    """Dictionary linker over the ICD-10-CM term index."""

    def __init__(
        self, nlp: Language, name: str, max_tokens: int, max_candidates: int, overwrite_ents: bool
    ) -> None:
        self.name = name
        self.max_tokens = max_tokens
        self.max_candidates = max_candidates
        self.overwrite_ents = overwrite_ents
        self.index: TermIndex | None = None
        self._words: frozenset[str] = frozenset()
        self._terms_bytes: bytes | None = None

    # -- rules ------------------------------------------------------------------------------
    def initialize(
        self, get_examples: Any = None, *, nlp: Language | None = None, terms: str = DEFAULT_TERMS
    ) -> None:
        self._load(resolve(terms))

    def _load(self, path: Path) -> None:
        self._set_bytes(path.read_bytes())

    def _set_bytes(self, data: bytes) -> None:
        # The component keeps the compressed file (about 2 MB): it travels with to_disk and pickle,
        # so a worker on another machine needs no path of ours.
        self.index, self._words = _load_index(data)
        self._terms_bytes = data

    def _require_index(self) -> TermIndex:
        if self.index is None:
            from ..errors import MissingResourceError

            raise MissingResourceError(
                f"component {self.name!r} has no term index: call nlp.initialize() first"
            )
        return self.index

    # -- matching ---------------------------------------------------------------------------
    def candidates(self, term: str, codes: list[tuple[str, float]]) -> list[dict[str, Any]]:
        titles = self._require_index().titles
        return [
            {"code": code, "title": titles.get(code, ""), "score": score, "term": term}
            for code, score in codes[: self.max_candidates]
        ]

    def find(self, doc: Doc) -> list[Span]:
        index = self._require_index()
        terms, exact, words = index.terms, index.exact, self._words
        n = len(doc)
        texts = [t.text for t in doc]
        newline_after = ["\n" in t.whitespace_ for t in doc]
        kinds = [0] * n  # 0 content, 1 skippable inside a term, 2 breaks a term
        norms = [""] * n
        for i, text in enumerate(texts):
            low = text.lower()
            if text.isspace() or low in _BREAKS:
                kinds[i] = 2
            elif low in STOP_TOKENS:
                kinds[i] = 1
            else:
                norms[i] = normalize_token(text)
        # Section headers ("HISTORY OF PRESENT ILLNESS:") name a part of the document, not a finding.
        if "section_titles" in doc.spans:
            for title in doc.spans["section_titles"]:
                for k in range(title.start, title.end):
                    kinds[k] = 2
        spans: list[Span] = []
        i = 0
        while i < n:
            best: tuple[int, str, list[tuple[str, float]]] | None = None
            if texts[i] in exact:
                term, codes = exact[texts[i]]
                best = (i + 1, term, codes)
            for width in (2, 3):
                if i + width <= n:
                    joined = " ".join(texts[i : i + width])
                    if joined in exact:
                        term, codes = exact[joined]
                        best = (i + width, term, codes)
            if kinds[i] == 0 and norms[i] in words:
                content: list[str] = []
                depth = 0  # parentheses inside a term must balance: "Essential (primary) hypertension"
                j = i
                limit = min(n, i + self.max_tokens)
                while j < limit:
                    kind = kinds[j]
                    if kind == 2:
                        break
                    if texts[j] == "(":
                        depth += 1
                    elif texts[j] == ")":
                        depth -= 1
                        if depth < 0:
                            break
                    if kind == 0 and depth == 0:
                        word = norms[j]
                        if word not in words:
                            break
                        content.append(word)
                        key = " ".join(sorted(content))
                        hit = terms.get(key)
                        if hit is not None and (best is None or j + 1 > best[0]):
                            best = (j + 1, hit[0], hit[1])
                    if newline_after[j]:
                        break
                    j += 1
            if best is None:
                i += 1
                continue
            end, term, codes = best
            span = Span(doc, i, end, label=label_for_code(codes[0][0]), kb_id=codes[0][0])
            span._.codes = self.candidates(term, codes)
            spans.append(span)
            i = end
        return spans

    def __call__(self, doc: Doc) -> Doc:
        spans = self.find(doc)
        if self.overwrite_ents:
            doc.ents = filter_spans(spans)
        else:
            doc.ents = filter_spans(list(doc.ents) + spans)
        return doc

    # -- serialization ----------------------------------------------------------------------
    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        self._require_index()
        assert self._terms_bytes is not None
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / TERMS_FILE).write_bytes(self._terms_bytes)

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> ICD10Concepts:
        self._load(ensure_path(path) / TERMS_FILE)
        return self

    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        self._require_index()
        assert self._terms_bytes is not None
        return self._terms_bytes

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = ()) -> ICD10Concepts:
        self._set_bytes(data)
        return self

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["index"] = None
        state["_words"] = frozenset()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self._terms_bytes is not None:
            self._set_bytes(self._terms_bytes)


@Language.factory(
    "icd10_concepts",
    default_config={"max_tokens": 10, "max_candidates": 5, "overwrite_ents": False},
    assigns=["doc.ents", "span._.codes"],
)
def make_icd10_concepts(
    nlp: Language, name: str, max_tokens: int, max_candidates: int, overwrite_ents: bool
) -> ICD10Concepts:
    """Factory `icd10_concepts`: ICD-10-CM dictionary linker; the term index arrives via initialize()."""
    return ICD10Concepts(nlp, name, max_tokens, max_candidates, overwrite_ents)
