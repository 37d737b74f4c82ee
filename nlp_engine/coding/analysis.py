"""The rule-based side of coding: the pipeline's ICD-10-CM concepts per text, computed once per text
in a process (cached by the text's hash, so `fit`, `predict` and `explain` do not re-run the pipeline)."""

from __future__ import annotations

import functools
import hashlib
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..pipeline import get_pipeline

# ConText status, best (most affirmative) first; a rank is used as a numeric feature.
STATUS_RANK = {
    "present": 0,
    "historical": 1,
    "uncertain": 2,
    "family": 3,
    "other": 3,
    "hypothetical": 4,
    "negated": 5,
}
NO_STATUS = 9
_CACHE_SIZE = 20_000
_cache: OrderedDict[tuple[str, str], list[Mention]] = OrderedDict()
_WORD = re.compile(r"[a-z][a-z0-9]+")
_STOP = frozenset(
    "and or of the with without in on to for by as at from other unspecified specified not due".split()
)


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    text: str
    code: str | None
    status: str
    section: str | None
    candidates: tuple[tuple[str, float], ...]


def analyze(texts: Sequence[str], pipeline: str = "clinical", n_process: int = 1) -> list[list[Mention]]:
    """The concept mentions of each text (see `Mention`), from the cache or the pipeline."""
    from ..parallel import iter_documents

    keys = [(pipeline, hashlib.sha256(t.encode("utf-8", "surrogatepass")).hexdigest()) for t in texts]
    missing = {k: i for i, k in enumerate(keys) if k not in _cache}
    if missing:
        items: list[tuple[str, str, dict[str, Any]]] = [(str(i), texts[i], {}) for i in missing.values()]
        for key, doc in zip(missing, iter_documents(items, pipeline, n_process=n_process), strict=True):
            _cache[key] = [
                Mention(
                    c.start,
                    c.end,
                    c.text,
                    c.code,
                    c.assertion.status,
                    c.section,
                    tuple((x.code, float(x.score)) for x in c.codes),
                )
                for c in doc.concepts
            ]
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    out = []
    for key in keys:
        _cache.move_to_end(key)
        out.append(_cache[key])
    return out


@functools.cache
def kb_titles(pipeline: str = "clinical") -> dict[str, str]:
    """ICD-10-CM code -> title, from the pipeline's term index."""
    nlp, _ = get_pipeline(pipeline)
    linker: Any = nlp.get_pipe("icd10_concepts")
    return dict(linker.index.titles)


def title_words(title: str) -> frozenset[str]:
    """Content-word stems (first five letters) of a code title."""
    return frozenset(w[:5] for w in _WORD.findall(title.lower()) if w not in _STOP)


def text_words(text: str) -> frozenset[str]:
    return frozenset(w[:5] for w in _WORD.findall(text.lower()))


def linker_signals(mentions: list[Mention]) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Per code: [mentions where it is the top code, best status rank there, best candidate score,
    candidate lists it is in]; per 3-character category: [mentions, best status rank]."""
    codes: dict[str, list[float]] = {}
    cats: dict[str, list[float]] = {}
    for m in mentions:
        rank = STATUS_RANK.get(m.status, NO_STATUS)
        for j, (code, score) in enumerate(m.candidates):
            row = codes.setdefault(code, [0, NO_STATUS, 0.0, 0])
            row[2] = max(row[2], score if j == 0 else score / 2)
            row[3] += 1
            if j == 0:
                row[0] += 1
                row[1] = min(row[1], rank)
        if m.code:
            cat = cats.setdefault(m.code.split(".")[0], [0, NO_STATUS])
            cat[0] += 1
            cat[1] = min(cat[1], rank)
    return codes, cats


def mention_dicts(mentions: list[Mention]) -> list[dict[str, Any]]:
    return [
        {
            "start": m.start,
            "end": m.end,
            "text": m.text,
            "code": m.code,
            "status": m.status,
            "section": m.section,
        }
        for m in mentions
    ]
