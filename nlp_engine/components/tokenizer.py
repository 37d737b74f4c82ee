"""Clinical tokenizer: spaCy's English rules plus the units of clinical and pathology writing.

Kept whole: TNM stages (`pT2aN1bM0`), Gleason scores (`3+4=7`), receptor results (`ER+`, `HER2`,
`2+`), specimen parts (`A1-A3`), ICD-10 codes (`C50.911`), clinical slash abbreviations (`s/p`,
`h/o`, `w/o`, `c/o`), dotted dosing abbreviations (`q.i.d.`), `q4h`, and de-identification
placeholders (`**NAME[AAA, BBB]`, `[** Hospital 18 **]`), even when they contain spaces.

Split consistently, so `2.3x1.5cm` and `2.3 x 1.5 cm` give the same tokens: measurements into value,
`x` and unit; doses into value and unit (`5mg` -> `5`, `mg`); ranges into value, `-`, value
(`5-10%` -> `5`, `-`, `10`, `%`).

Text is sanitized (see `nlp_engine.textio.sanitize`) before tokenizing: odd Unicode such as zero-width
or bidi marks and control characters become spaces one-for-one, so offsets never move.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from spacy.lang.en import English
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex, registry

from ..textio import sanitize

_TNM = (
    r"(?:[cpyra]{1,3}T(?:[0-4X]|is)[a-d]?(?:\((?:m|\d|sn|i[+-])\))?"
    r"(?:[cp]?N[0-3X][a-c]?(?:\((?:sn|i[+-]|mol[+-]|f)\))?)?(?:[cp]?M[01X][a-d]?)?"
    r"|T(?:[0-4X]|is)[a-d]?[cp]?N[0-3X][a-c]?(?:[cp]?M[01X][a-d]?)?"
    r"|[cpy]{1,2}[NM][0-3X][a-c]?(?:\((?:sn|i[+-]|mol[+-])\))?)"
)
_TOKEN_MATCH = [
    _TNM,
    r"\d\+\d(?:=\d{1,2})?",  # Gleason 3+4=7
    r"(?:ER|PR|PgR|HER2|HER-2|Her2|HER2/neu|Ki-67|AR)[+-]",  # receptor status
    r"[0-3]\+",  # IHC score, as in HER2 2+
    r"HER2/neu|HER-2/neu|Ki-67",
    r"[A-Z]\d{1,2}-[A-Z]?\d{1,2}",  # specimen parts A1-A3, B1-4
    r"[A-TV-Z]\d[0-9A-Z]\.[0-9A-Z]{1,4}",  # ICD-10 codes with a dot
    r"(?i:s/p|h/o|w/o|c/o|r/o|n/v|f/u|b/l|d/c|a/w|y/o|w/u|i/o|p/w)",
    r"(?i:(?:[a-z]\.){2,4})",  # q.i.d. b.i.d. p.r.n. e.g. i.e.
    r"(?i:q\.?\d{1,2}(?:h|hr|hrs)\.?)",  # q4h q.6h
    r"(?:mg|mcg|g|ml|mL|mmol|U|units)/(?:kg|d|day|h|hr|dL|L|m2)",  # dose rates
    r"\*\*[A-Z][A-Z-]*(?:\[[^\]\s]*\])?",  # **INSTITUTION **ID-NUM **DATE[...] without spaces
]
TOKEN_MATCH = re.compile("^(?:" + "|".join(_TOKEN_MATCH) + ")$")

#: Placeholders left by de-identification tools; they may contain spaces, so they are merged after
#: tokenization: `**NAME[AAA, BBB M]`, `**DATE[Sep 27 2007]`, MIMIC's `[**Hospital1 18**]`.
PLACEHOLDER = re.compile(r"\*\*[A-Z][A-Z-]*\[[^\]\n]{0,80}\]|\[\*\*[^\n]{0,80}?\*\*\]")

#: Whitespace-free chunks longer than this are split by `_PIECE` instead of spaCy's affix rules.
_LONG_RUN = re.compile(r"\S{500,}")
_PIECE = re.compile(r"[^\W\d_]{1,100}|\d{1,100}|.", re.DOTALL)

_UNITS = (
    r"mg|mcg|ug|µg|g|kg|ng|ml|mL|cc|L|dL|mEq|meq|mmol|IU|iu|units?|U|mmHg|bpm|mm|cm|m|µm|um|nm"
    r"|hrs?|h|min|mins|sec|wk|wks|yrs?|mo|d|x|%"
)
_SUFFIXES = [
    r"(?<=[0-9])\.",
    rf"(?<=[0-9])(?:{_UNITS})",
    r"(?<=[0-9])(?:mg|mcg|g|ml|mL|mmol|U)/(?:kg|d|day|h|hr|dL|L|m2)",
]
_INFIXES = [
    r"(?<=[0-9])[x×](?=[0-9.])",  # 2.3x1.5
    r"(?<=[0-9])-(?=[0-9])",  # ranges 5-10
    r"(?<=[A-Za-z0-9])[<>≤≥](?=[0-9])",  # HR<60
    r"(?<=[a-zA-Z])/(?=[a-zA-Z]{3,})",  # and/or, nausea/vomiting but not s/p
    r"(?<=[0-9a-z])(?:mg|mcg|ml|cm|mm)(?=x)",
    r"(?<=[.:;]),(?=[A-Za-z0-9])",  # MTSamples' flattened "up.,MEDICATIONS:"
    r"(?<=[A-Za-z]):(?=[,;])",
    r"(?<=[0-9])\.(?=,)",
    r"(?<=[a-z]),(?=[A-Z]{2})",
]
_PREFIXES = [
    r"\*(?=[A-Za-z0-9])",
    r"-(?=[A-Za-z])",  # list dashes glued to the word: "-NO MALIGNANCY IDENTIFIED"
    r"•",
    r"#(?=[0-9])",
    r"~",
    r"(?:≥|≤|<|>)",
]  # each is anchored with ^: keep alternations grouped


def _build_inner(nlp: Language) -> Tokenizer:
    defaults = English.Defaults
    prefixes = list(defaults.prefixes or []) + _PREFIXES
    suffixes = _SUFFIXES + list(defaults.suffixes or [])
    infixes = list(defaults.infixes or []) + _INFIXES
    rules = dict(defaults.tokenizer_exceptions)
    return Tokenizer(
        nlp.vocab,
        rules=rules,
        prefix_search=compile_prefix_regex(prefixes).search,
        suffix_search=compile_suffix_regex(suffixes).search,
        infix_finditer=compile_infix_regex(infixes).finditer,
        token_match=TOKEN_MATCH.match,
        url_match=defaults.url_match,
    )


class ClinicalTokenizer:
    """Callable tokenizer; serializes through the wrapped spaCy `Tokenizer`."""

    def __init__(self, nlp: Language) -> None:
        self.vocab = nlp.vocab
        self.inner = _build_inner(nlp)

    def __call__(self, text: str) -> Doc:
        clean = sanitize(text)
        if _LONG_RUN.search(clean):
            doc = self._tokenize_with_long_runs(clean)
        else:
            doc = self.inner(clean)
        if "**" in clean:
            self._merge_placeholders(doc, clean)
        return doc

    def _tokenize_with_long_runs(self, text: str) -> Doc:
        """spaCy's affix loop is quadratic in the length of one whitespace-free chunk (`((((...` or a
        pasted blob takes minutes); such chunks are cut into simple pieces, the rest tokenized as usual."""
        docs = []
        position = 0
        for match in _LONG_RUN.finditer(text):
            if match.start() > position:
                docs.append(self.inner(text[position : match.start()]))
            pieces = _PIECE.findall(match.group())
            docs.append(Doc(self.vocab, words=pieces, spaces=[False] * len(pieces)))
            position = match.end()
        if position < len(text):
            docs.append(self.inner(text[position:]))
        return Doc.from_docs(docs, ensure_whitespace=False)

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterator[Doc]:
        for text in texts:
            yield self(text)

    @staticmethod
    def _merge_placeholders(doc: Doc, text: str) -> None:
        spans = []
        for match in PLACEHOLDER.finditer(text):
            span = doc.char_span(match.start(), match.end(), alignment_mode="expand")
            if span is not None and len(span) > 1:
                spans.append(span)
        if spans:
            with doc.retokenize() as retokenizer:
                last_end = -1
                for span in spans:
                    if span.start >= last_end:
                        retokenizer.merge(span)
                        last_end = span.end

    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        return self.inner.to_bytes(exclude=exclude)

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = ()) -> ClinicalTokenizer:
        self.inner.from_bytes(data, exclude=exclude)
        return self

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        self.inner.to_disk(path, exclude=exclude)

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> ClinicalTokenizer:
        self.inner.from_disk(path, exclude=exclude)
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_unpickle_tokenizer, (self.vocab, self.inner))


def _unpickle_tokenizer(vocab: Any, inner: Tokenizer) -> ClinicalTokenizer:
    obj = ClinicalTokenizer.__new__(ClinicalTokenizer)
    obj.vocab = vocab
    obj.inner = inner
    return obj


@registry.tokenizers("nlp_engine.clinical_tokenizer.v1")
def create_clinical_tokenizer() -> Callable[[Language], ClinicalTokenizer]:
    """Registered tokenizer factory, referenced from `pipelines/*.cfg`."""

    def make(nlp: Language) -> ClinicalTokenizer:
        return ClinicalTokenizer(nlp)

    return make


KEY_ENV = "NLP_ENGINE_DEID_KEY"


class DeidTokenizer(ClinicalTokenizer):
    """De-identification as the first step of a pipeline: the text is redacted (`nlp_engine.deid`)
    before it is tokenized, so every component and writer downstream sees only de-identified text.

    `mode` is `mask` (same length: offsets still match the original), `tag` or `surrogate`. The
    surrogate key is read from the environment variable `NLP_ENGINE_DEID_KEY` at call time (never
    stored in the pipeline's config or files); without it surrogates are consistent within a document
    only. `doc._.deid` holds the mode and the counts per PHI label (never the PHI).
    """

    def __init__(self, nlp: Language, mode: str = "surrogate") -> None:
        from ..deid.surrogate import MODES

        if mode not in MODES:
            raise ValueError(f"unknown de-identification mode {mode!r}; choose from {', '.join(MODES)}")
        super().__init__(nlp)
        self.mode = mode

    def __call__(self, text: str) -> Doc:
        import os

        from ..deid import redact

        redaction = redact(text, mode=self.mode, key=os.environ.get(KEY_ENV) or None)  # type: ignore[arg-type]
        doc = super().__call__(redaction.text)
        doc._.deid = {"mode": self.mode, "counts": redaction.audit}
        return doc

    def __reduce__(self) -> tuple[Any, ...]:
        return (_unpickle_deid_tokenizer, (self.vocab, self.inner, self.mode))


def _unpickle_deid_tokenizer(vocab: Any, inner: Tokenizer, mode: str) -> DeidTokenizer:
    obj = DeidTokenizer.__new__(DeidTokenizer)
    obj.vocab, obj.inner, obj.mode = vocab, inner, mode
    return obj


if not Doc.has_extension("deid"):
    Doc.set_extension("deid", default=None)


@registry.tokenizers("nlp_engine.deid_tokenizer.v1")
def create_deid_tokenizer(mode: str = "surrogate") -> Callable[[Language], DeidTokenizer]:
    """The clinical tokenizer behind a de-identification step (`pipelines/clinical_deid.cfg`)."""

    def make(nlp: Language) -> DeidTokenizer:
        return DeidTokenizer(nlp, mode)

    return make
