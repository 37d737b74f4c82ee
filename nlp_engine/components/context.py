"""ConText assertion: negated, uncertain, historical, hypothetical, and who experienced it.

Rules live in `vocab/context_rules.jsonl`, one medspaCy-style object a line:
`{"literal": "no evidence of", "category": "NEGATED_EXISTENCE", "direction": "FORWARD"}`, with
optional `"pattern"` (a spaCy token pattern used instead of the literal) and `"max_scope"` (tokens).
Unknown keys, categories or directions are rejected.

A trigger modifies targets in its sentence: FORWARD ones after it, BACKWARD ones before it,
BIDIRECTIONAL both, until a TERMINATE phrase or the end of `max_scope`. PSEUDO phrases (`no
increase`, `gram negative`, `history of present illness`) cancel the triggers they overlap. Sections
set defaults (`family_history` -> family experiencer, `past_medical_history` -> historical).

Results on each target span: `span._.negated`, `._.uncertain`, `._.historical`, `._.hypothetical`,
`._.experiencer` (`"patient"|"family"|"other"`) and `._.context_triggers` (what fired, for explanation).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import srsly
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.util import ensure_path

from ..errors import RuleFileError
from ..resources import read_jsonl

DEFAULT_RULES = "vocab:context_rules.jsonl"
CATEGORY_ATTR = {
    "NEGATED_EXISTENCE": "negated",
    "POSSIBLE_EXISTENCE": "uncertain",
    "HISTORICAL": "historical",
    "HYPOTHETICAL": "hypothetical",
    "FAMILY": "family",
    "OTHER_EXPERIENCER": "other",
    "PSEUDO": "",
    "TERMINATE": "",
}
DIRECTIONS = frozenset({"FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO"})
FLAGS = ("negated", "uncertain", "historical", "hypothetical")

for _flag in FLAGS:
    if not Span.has_extension(_flag):
        Span.set_extension(_flag, default=False)
if not Span.has_extension("experiencer"):
    Span.set_extension("experiencer", default="patient")
if not Span.has_extension("context_triggers"):
    Span.set_extension("context_triggers", default=[])


def load_context_rules(ref: str | Path) -> list[dict[str, Any]]:
    """Read and validate ConText rules."""
    rules = []
    for rec in read_jsonl(
        ref,
        required=frozenset({"literal", "category", "direction"}),
        optional=frozenset({"pattern", "max_scope"}),
    ):
        if rec["category"] not in CATEGORY_ATTR:
            raise RuleFileError(
                f"{ref}: unknown category {rec['category']!r}; known: {sorted(CATEGORY_ATTR)}"
            )
        if rec["direction"] not in DIRECTIONS:
            raise RuleFileError(f"{ref}: unknown direction {rec['direction']!r}; known: {sorted(DIRECTIONS)}")
        if rec.get("max_scope") is not None and (
            not isinstance(rec["max_scope"], int) or rec["max_scope"] < 1
        ):
            raise RuleFileError(f"{ref}: max_scope must be a positive integer, got {rec['max_scope']!r}")
        rules.append(rec)
    if not rules:
        raise RuleFileError(f"{ref}: no ConText rules")
    return rules


class ClinicalContext:
    """ConText over `doc.ents` (and over any spans via `assert_spans`)."""

    def __init__(
        self, nlp: Language, name: str, section_defaults: dict[str, str], max_scope: int | None
    ) -> None:
        self.name = name
        self.vocab = nlp.vocab
        self.section_defaults = dict(section_defaults)
        self.max_scope = max_scope
        self.rules: list[dict[str, Any]] = []
        self._literals: dict[tuple[str, ...], list[int]] | None = None
        self._matcher: Matcher | None = None
        self._first: frozenset[str] = frozenset()
        self._longest = 0

    # -- rules ------------------------------------------------------------------------------
    def initialize(
        self, get_examples: Any = None, *, nlp: Language | None = None, rules: str = DEFAULT_RULES
    ) -> None:
        records = load_context_rules(rules)
        tokenizer = nlp.tokenizer if nlp is not None else None
        for rec in records:
            if "pattern" not in rec:
                words = [t.text for t in tokenizer(rec["literal"])] if tokenizer else rec["literal"].split()
                rec["words"] = [w.lower() for w in words]
        self.set_rules(records)

    def set_rules(self, rules: list[dict[str, Any]]) -> None:
        for rec in rules:
            if "pattern" not in rec and "words" not in rec:
                rec["words"] = rec["literal"].lower().split()
        self.rules = rules
        self._literals = None
        self._matcher = None

    def _build(self) -> tuple[dict[tuple[str, ...], list[int]], Matcher]:
        if not self.rules:
            raise RuleFileError(f"component {self.name!r} has no rules: call nlp.initialize() first")
        literals: dict[tuple[str, ...], list[int]] = {}
        matcher = Matcher(self.vocab)
        for idx, rec in enumerate(self.rules):
            if rec.get("pattern"):
                matcher.add(str(idx), [rec["pattern"]])
            else:
                literals.setdefault(tuple(rec["words"]), []).append(idx)
        self._literals, self._matcher = literals, matcher
        self._first = frozenset(key[0] for key in literals)
        self._longest = max((len(key) for key in literals), default=0)
        return literals, matcher

    # -- matching ---------------------------------------------------------------------------
    def find_triggers(self, doc: Doc) -> tuple[list[tuple[int, int, int]], list[int]]:
        """Return triggers `(rule_index, start, end)` and the token positions of terminations.

        Literals match case-insensitively over the words of the text, skipping whitespace tokens, so a
        trigger broken across a line wrap (`negative` newline `for`) still matches.
        """
        if self._literals is None or self._matcher is None:
            literals, matcher = self._build()
        else:
            literals, matcher = self._literals, self._matcher
        positions = [t.i for t in doc if not t.is_space]
        lowers = [doc[i].lower_ for i in positions]
        found: list[tuple[int, int, int]] = []
        first, longest, n = self._first, self._longest, len(lowers)
        for a in range(n):
            if lowers[a] not in first:
                continue
            for length in range(1, min(longest, n - a) + 1):
                hit = literals.get(tuple(lowers[a : a + length]))
                if hit:
                    found.extend((r, positions[a], positions[a + length - 1] + 1) for r in hit)
        if len(matcher):
            strings = self.vocab.strings
            found += [(int(strings[m]), s, e) for m, s, e in matcher(doc)]
        pseudo = sorted((s, e) for r, s, e in found if self.rules[r]["direction"] == "PSEUDO")
        pseudo_starts = [ps for ps, _ in pseudo]
        triggers = []
        for r, s, e in found:
            if self.rules[r]["direction"] == "PSEUDO":
                continue
            # Pseudo phrases are at most a few tokens long: only those starting just before s can cover it.
            lo = bisect.bisect_left(pseudo_starts, s - 2 * self._longest)
            hi = bisect.bisect_right(pseudo_starts, s)
            if any(ps <= s and e <= pe and (pe - ps) > (e - s) for ps, pe in pseudo[lo:hi]):
                continue
            triggers.append((r, s, e))
        # Of overlapping triggers keep the longest (then the earliest); equal spans all stay.
        triggers.sort(key=lambda t: (-(t[2] - t[1]), t[1]))
        owner: dict[int, tuple[int, int]] = {}
        kept = []
        for r, s, e in triggers:
            if any(k in owner and owner[k] != (s, e) for k in range(s, e)):
                continue
            for k in range(s, e):
                owner[k] = (s, e)
            kept.append((r, s, e))
        kept.sort(key=lambda t: t[1])
        terminations = [s for r, s, e in kept if self.rules[r]["direction"] == "TERMINATE"]
        modifiers = [t for t in kept if self.rules[t[0]]["direction"] != "TERMINATE"]
        return modifiers, terminations

    def assert_spans(self, doc: Doc, spans: Sequence[Span]) -> list[dict[str, Any]]:
        """Classify each span; returns plain dicts and also sets the span extensions."""
        triggers, terminations = self.find_triggers(doc)
        sent_starts = [s.start for s in doc.sents] if doc.has_annotation("SENT_START") else [0]
        words = self._word_counts(doc)
        trigger_starts = [t[1] for t in triggers]
        section_group = doc.spans.get("sections", [])
        section_starts = [s.start for s in section_group]
        results = []
        for span in spans:
            k = bisect.bisect_right(section_starts, span.start) - 1
            section = section_group[k].label_ if k >= 0 else None
            result = self._assert_one(
                doc, span, triggers, trigger_starts, terminations, sent_starts, words, section
            )
            for flag in FLAGS:
                span._.set(flag, result[flag])
            span._.experiencer = result["experiencer"]
            span._.context_triggers = result["triggers"]
            results.append(result)
        return results

    def _assert_one(
        self,
        doc: Doc,
        span: Span,
        triggers: list[tuple[int, int, int]],
        trigger_starts: list[int],
        terminations: list[int],
        sent_starts: list[int],
        words: list[int],
        section: str | None,
    ) -> dict[str, Any]:
        idx = bisect.bisect_right(sent_starts, span.start) - 1
        sent_start = sent_starts[idx] if idx >= 0 else 0
        sent_end = sent_starts[idx + 1] if idx + 1 < len(sent_starts) else len(doc)
        result: dict[str, Any] = {flag: False for flag in FLAGS}
        result["experiencer"] = "patient"
        fired: list[dict[str, Any]] = []
        # Only triggers that start inside this sentence can reach the span.
        lo = bisect.bisect_left(trigger_starts, sent_start)
        hi = bisect.bisect_left(trigger_starts, sent_end)
        for r, s, e in triggers[lo:hi]:
            rule = self.rules[r]
            direction = rule["direction"]
            scope = rule.get("max_scope") or self.max_scope
            # A trigger may overlap the target ("no acute" before "acute distress"): what counts is
            # that it starts before the target (forward) or ends after it (backward).
            if s < span.start and direction in ("FORWARD", "BIDIRECTIONAL"):
                gap_from, gap_to = min(e, span.start), span.start
            elif e > span.end and s >= span.start and direction in ("BACKWARD", "BIDIRECTIONAL"):
                gap_from, gap_to = span.end, max(s, span.end)
            else:
                continue
            if scope is not None and words[gap_to] - words[gap_from] > scope:
                continue
            k = bisect.bisect_left(terminations, gap_from)
            if k < len(terminations) and terminations[k] < gap_to:
                continue
            attr = CATEGORY_ATTR[rule["category"]]
            if attr in ("family", "other"):
                if result["experiencer"] == "patient" or attr == "family":
                    result["experiencer"] = attr
            else:
                result[attr] = True
            fired.append(
                {
                    "category": rule["category"],
                    "literal": rule["literal"],
                    "direction": direction,
                    "start": doc[s].idx,
                    "end": doc[e - 1].idx + len(doc[e - 1].text),
                }
            )
        default = self.section_defaults.get(section) if section else None
        if default in ("family", "other") and result["experiencer"] == "patient":
            result["experiencer"] = default
            fired.append(
                {"category": "SECTION", "literal": section, "direction": "SECTION", "start": -1, "end": -1}
            )
        elif default in FLAGS and not result[default]:
            result[default] = True
            fired.append(
                {"category": "SECTION", "literal": section, "direction": "SECTION", "start": -1, "end": -1}
            )
        result["triggers"] = fired
        return result

    @staticmethod
    def _word_counts(doc: Doc) -> list[int]:
        """`counts[i]` = words (non-space tokens) before token i; scopes are measured in words."""
        counts = [0] * (len(doc) + 1)
        for i, token in enumerate(doc):
            counts[i + 1] = counts[i] + (0 if token.is_space else 1)
        return counts

    def __call__(self, doc: Doc) -> Doc:
        if doc.ents:
            self.assert_spans(doc, list(doc.ents))
        return doc

    # -- serialization ----------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {"rules": self.rules, "section_defaults": self.section_defaults, "max_scope": self.max_scope}

    def _restore(self, data: dict[str, Any]) -> None:
        self.section_defaults = dict(data["section_defaults"])
        self.max_scope = data["max_scope"]
        self.set_rules(list(data["rules"]))

    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        return srsly.msgpack_dumps(self._state())

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = ()) -> ClinicalContext:
        self._restore(srsly.msgpack_loads(data))
        return self

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "context.json", self._state())

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> ClinicalContext:
        self._restore(srsly.read_json(ensure_path(path) / "context.json"))
        return self

    def __getstate__(self) -> dict[str, Any]:
        return {"name": self.name, "vocab": self.vocab, **self._state()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.name = state["name"]
        self.vocab = state["vocab"]
        self._restore(state)


@Language.factory(
    "clinical_context",
    default_config={
        "section_defaults": {
            "family_history": "family",
            "past_medical_history": "historical",
            "past_surgical_history": "historical",
            "social_history": "historical",
            "allergies": "historical",
        },
        "max_scope": None,
    },
    assigns=[
        "span._.negated",
        "span._.uncertain",
        "span._.historical",
        "span._.hypothetical",
        "span._.experiencer",
    ],
)
def make_clinical_context(
    nlp: Language, name: str, section_defaults: dict[str, str], max_scope: int | None
) -> ClinicalContext:
    """Factory `clinical_context`: ConText assertions; rules arrive via initialize()."""
    return ClinicalContext(nlp, name, section_defaults, max_scope)
