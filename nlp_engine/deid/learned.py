"""The trainable layer: a logistic regression (scikit-learn) over every word of a note that decides
whether it is part of a name or a place, from the rules' hits and the word's lexical statistics.

The rules (`names.rule_hits`) are its main features, so it learns when to trust each (a `pair` hit in
an all-capitals note is weaker than in a mixed-case one) and finds words next to hits the rules left
alone. Features are non-lexical (which rules fired here and on the neighbours, census ranks, English
frequency, casing, closed word classes): no word of the training notes is stored in the model.
Trained with `nlp-engine deid-train` on the PhysioNet deid notes; shipped as `vocab/deid_tagger.skops`
(skops: loading runs no pickled code).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .lexicon import lexicons, zipf
from .names import (
    ALL_RULES,
    CLINICAL_WORDS,
    CREDENTIALS,
    MOVE_CUES,
    NAME_PREPS,
    NAME_VERBS,
    PLACE_CUES,
    RELATIONS,
    STRONG_RULES,
    TITLES,
    RuleHits,
    _base,
    eponyms,
    medical_words,
    rule_decisions,
    rule_hits,
)
from .patterns import pattern_spans

MODEL_REF = "vocab:deid_tagger.skops"
GOLD_LABELS = {"HCPName", "PTName", "PTNameInitial", "RelativeProxyName", "Location"}
_RANKS = (0.001, 0.01, 0.05, 0.2, 0.5, 1.01)
_ZIPFS = (0.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 9.0)
_CLASSES = {
    "title": TITLES,
    "relation": RELATIONS,
    "credential": CREDENTIALS,
    "place_cue": PLACE_CUES,
    "name_verb": NAME_VERBS,
    "name_prep": NAME_PREPS,
    "clinical": CLINICAL_WORDS,
}
_PATTERN_LABELS = ("DATE", "PHONE", "ID", "AGE", "LOCATION", "ADDRESS")
NEVER_PHI = TITLES | RELATIONS | CREDENTIALS | CLINICAL_WORDS


def _onehot(value: float | None, edges: tuple[float, ...]) -> list[float]:
    out = [0.0] * (len(edges) + 1)
    index = (
        len(edges) if value is None else next((i for i, e in enumerate(edges) if value < e), len(edges) - 1)
    )
    out[index] = 1.0
    return out


@functools.cache
def _word_features(word: str) -> tuple[float, ...]:
    lex = lexicons()
    base = _base(word)
    feats = _onehot(lex.first.get(base), _RANKS) + _onehot(lex.last.get(base), _RANKS)
    feats += _onehot(zipf(base) if base.isalpha() else None, _ZIPFS)
    feats += [
        float(word[:1].isupper() and word[1:].islower()),
        float(word.isupper() and len(word) > 1),
        float(word.islower()),
        float(len(word) == 1),
        float(base in medical_words()),
        float(base in eponyms()),
        float(base in lex.cities),
        min(len(word), 12) / 12,
    ]
    feats += [float(base.rstrip(".") in words) for words in _CLASSES.values()]
    return tuple(feats)


def candidates(hits: RuleHits) -> list[int]:
    return [i for i, t in enumerate(hits.tokens) if t.text[:1].isalpha()]


def features(
    text: str,
    hits: RuleHits,
    patterns: list[tuple[int, int, str]],
    decisions: tuple[set[int], set[int]] | None = None,
) -> tuple[list[int], np.ndarray]:
    """`(token indexes, one feature row each)` for the candidate words of a note (vectorised: a note of
    thousands of words costs milliseconds)."""
    tokens = hits.tokens
    index = candidates(hits)
    n = len(tokens)
    if not index:
        return index, np.zeros((0, 1), dtype=np.float32)
    rules = np.zeros((n, len(ALL_RULES)), dtype=np.float32)
    for i, fired in hits.flags.items():
        for rule in fired:
            rules[i, ALL_RULES.index(rule)] = 1.0
    words = np.asarray([_word_features(t.text) for t in tokens], dtype=np.float32)
    names, places = decisions if decisions is not None else rule_decisions(hits)
    decided = np.zeros((n, 2), dtype=np.float32)
    decided[list(names), 0] = 1.0
    decided[list(places), 1] = 1.0
    starts = np.asarray([t.start for t in tokens])
    ends = np.asarray([t.end for t in tokens])
    inside = np.zeros((n, len(_PATTERN_LABELS)), dtype=np.float32)
    for start, end, label in patterns:
        if label in _PATTERN_LABELS:
            inside[(starts < end) & (ends > start), _PATTERN_LABELS.index(label)] = 1.0
    gaps = np.asarray(
        [1.0] + [float("\n" in text[ends[i - 1] : starts[i]]) for i in range(1, n)], dtype=np.float32
    )
    cue_ends = np.asarray([m.end() for m in MOVE_CUES.finditer(text)] or [-(10**9)])
    # a movement cue ending in the 40 characters before the word
    last_cue = cue_ends[np.clip(np.searchsorted(cue_ends, starts, side="right") - 1, 0, None)]
    moved = ((last_cue <= starts) & (starts - last_cue <= 40)).astype(np.float32)
    note = np.tile(np.asarray([float(hits.mixed_case), float(not hits.mixed_case)], dtype=np.float32), (n, 1))
    context = np.hstack([rules, words, decided])
    blocks = [decided, rules, words, inside, note]
    for offset in (-2, -1, 1, 2):
        shifted = np.zeros_like(context)
        if offset < 0:
            shifted[-offset:] = context[:offset]
        else:
            shifted[:-offset] = context[offset:]
        blocks.append(shifted)
    blocks += [gaps[:, None], moved[:, None]]
    return index, np.hstack(blocks)[index]


def note_matrix(note: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    text = note["text"]
    hits = rule_hits(text)
    index, x = features(text, hits, list(pattern_spans(text)))
    spans = [(p["start"], p["end"]) for p in note["phi"] if p["label"] in GOLD_LABELS]
    y = np.asarray(
        [any(s < hits.tokens[i].end and e > hits.tokens[i].start for s, e in spans) for i in index],
        dtype=np.int8,
    )
    return x, y


def read_gold(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def new_model() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=0.5, max_iter=3000)


def training_data(notes: Iterable[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs, ys, groups = [], [], []
    for note in notes:
        x, y = note_matrix(note)
        if len(y):
            xs.append(x)
            ys.append(y)
            groups.append(np.full(len(y), hash(str(note["patient"])) % 2**31))
    return np.vstack(xs), np.concatenate(ys), np.concatenate(groups)


def train(gold: str | Path, out: str | Path) -> dict[str, Any]:
    import skops.io as sio

    x, y, _ = training_data(read_gold(gold))
    model = new_model().fit(x, y)
    sio.dump(model, out)
    return {"tokens": int(len(y)), "phi_tokens": int(y.sum()), "features": int(x.shape[1])}


@functools.cache
def load_model(ref: str = MODEL_REF) -> Any:
    import skops.io as sio

    from ..resources import resolve

    path = resolve(ref)
    untrusted = sio.get_untrusted_types(file=path)
    unexpected = [t for t in untrusted if not t.startswith(("sklearn.", "numpy."))]
    if unexpected:
        raise ValueError(f"{path}: unexpected types in the model file: {unexpected}")
    return sio.load(path, trusted=untrusted)


def learned_spans(
    text: str, threshold: float, model: Any = None, patterns: list[tuple[int, int, str]] | None = None
) -> Iterator[tuple[int, int, str]]:
    """Name and place tokens by the model's probability; the label is the rules' when they have one.
    `patterns` are the pattern hits when the caller has them already."""
    hits = rule_hits(text)
    names, places = rule_decisions(hits)
    patterns = patterns if patterns is not None else list(pattern_spans(text))
    index, x = features(text, hits, patterns, (names, places))
    if not index:
        return
    probability = (model or load_model()).predict_proba(x)[:, 1]
    # what the context rules found stays found; the model decides the rest (and the weak rules' hits)
    # a rare word after "transfer to" is as often a unit or a drug as a place: the model decides those
    forced_places = places - (
        hits.with_rule("transfer") - hits.with_rule("city", "facility", "ward", "hospital_acronym")
    )
    kept = (names & hits.with_rule(*STRONG_RULES, "propagated")) | forced_places
    place_spans = [(start, end) for start, end, label in patterns if label == "LOCATION"]
    for i, p in zip(index, probability, strict=True):
        token = hits.tokens[i]
        # the cue words themselves (Husband, Dr, RN, ...) are never the name
        never = token.text.lower().rstrip(".") in NEVER_PHI and i not in hits.sure
        if (p < threshold and i not in kept) or never:
            continue
        place = i in places or any(s < token.end and e > token.start for s, e in place_spans)
        yield token.start, token.end, "LOCATION" if place else "NAME"
    for i in sorted(places - set(index)):  # a place's number: "QUARTERMAIN7"
        yield hits.tokens[i].start, hits.tokens[i].end, "LOCATION"
