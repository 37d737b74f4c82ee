"""`PathologyCoder`: cancer coding of pathology reports, trainable, with the scikit-learn API.

`fit(texts, records)` learns one classifier per field (`records` are dicts with the TCGA-CDR column
names: `cancer_type`, `icd_10`, `icd_o_3_site`, `icd_o_3_histology`, `pathologic_T`, ...; empty
values are left out of that field's training). Features: word 1-2-grams (TF-IDF) beside indicators of
the synoptic fields `extract` finds (`__pT_pT2`, `__histologic_type_81403`) scaled by `field_weight`;
one linear SVM per field (one-vs-rest, classes weighted
inversely to their frequency so rare cancer types and codes are not swamped, but for pN,
`FIELD_CLASS_WEIGHTS`; measured against the multinomial logistic regression it replaced,
docs/benchmarks.md). Scores are the softmax of the SVM
margins: they rank alternatives and sum to one, but are not calibrated probabilities.
`predict(texts)` gives one dict per text with the same keys; where `extract` read pN from the text
itself, that value is used (it has evidence of its own), else the classifier's (also for a stated
pNX, "no nodes assessed here", which the records often code otherwise).
`predict_ranked(texts, k)` gives the k best alternatives per field with their scores, and
`explain(text, field)` the features that weighed most for the prediction, with their spans in the
text. Stage, pT and site also see the extracted-field indicators crossed with the report's cancer
type (`CROSSED`). The cancer type and the histology are coded as a pair the training records hold
(`_PAIRED`): a lung adenocarcinoma is not coded with a squamous histology. The fields that name the
tumour and its site (`char_fields`, by default `CHAR_FIELDS`) also see the report's character
3-5-grams, which read the words OCR broke (about four times the fit time; `char_fields=()`: words only).

Selective coding: with `review_accuracy` (0.95, or per field `{"pathologic_T": 0.75}`), `fit` first
cross-validates on its own training reports (`review_folds`, grouped by `groups` when given). From
the held-out predictions it learns, per field, a calibration (`calibrate`: the share right at each
score, fitted apart for values the report states, values it states otherwise and values it does not
state, `agreement`: the same score means more beside the report's own pT than as a guess) and the
lowest confidence at which the held-out codes were right at least that often (`review_threshold`:
the 95% lower confidence bound of their accuracy). `predict_explained` then gives each coded value
its `confidence` and marks it `review: True` below that field's threshold: a registry auto-codes the
rest and sends those to a coder. Measured on TCGA reports in docs/benchmarks.md (the share
auto-coded and its accuracy).
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .extract import FIELDS, extract, named_sites, node_conflict, withheld
from .icdo import specific_morphologies
from .staging import SIZE_T, ajcc_stage, count_n, main_group

TARGETS = (
    "cancer_type",
    "icd_10",
    "icd_o_3_site",
    "icd_o_3_histology",
    "histological_type",
    "tumor_tissue_site",
    "laterality",
    "neoplasm_histologic_grade",
    "ajcc_pathologic_tumor_stage",
    "pathologic_T",
    "pathologic_N",
    "pathologic_M",
)


def _as_recorded(value: str) -> str:
    """A TNM value as the records write it: `pT2a` -> `T2a`, `pNx` -> `NX` (a stated `pN1(mi)` or
    `pN1mi` -> `N1`)."""
    recorded = re.sub(r"^[yrmc]?p?", "", value).split("(")[0]
    return re.sub(r"^(N\d)mi$", r"\1", recorded).replace("x", "X")


# A record field the extractor reads straight from the text, and how its value is written there.
_EXTRACTED = {"pathologic_N": ("pN", _as_recorded)}
# The fewest held-out codes of one agreement group that get a calibration of their own; fewer share
# the field's pooled one (an isotonic fit on a handful of codes says little).
_MIN_GROUP = 30
_TIE_BREAK = 1e-6
# A stated value that says only "not assessed in this report" (pNX: no nodes submitted) is left to the
# classifier, which sees it: the records code such patients N0 as often as not (68 of the 256 TCGA
# reports stating pNX whose record has an N; kidney resections mostly), and the classifier learns
# where. Measured: pN 0.818 -> 0.8215 (docs/benchmarks.md).
_NOT_ASSESSED = {"NX"}
# pT, grade and laterality are also read by `extract`, but their values go in as features only:
# measured, the classifier (which sees them) does better than taking them as stated (pT 0.70 against
# 0.69; docs/benchmarks.md): the records' T is the patient's and often not the report's wording.
_MISSING = ("", "[Not Available]", "[Not Applicable]", "[Unknown]", "[Discrepancy]", "[Not Evaluated]")
# Record fields the report states in words of its own: stated with different values (frozen section
# against final, a typo), the coded value goes to review whatever its score. Measured on the TCGA
# reports: the coder's pT was right for 47% of the 108 reports stating pT differently (72% of the
# rest), pN 36% of 31 (82%); docs/benchmarks.md.
_STATED_AS = {
    "pathologic_T": "pT",
    "pathologic_N": "pN",
    "pathologic_M": "pM",
    "ajcc_pathologic_tumor_stage": "stage",
}


class Coded(NamedTuple):
    """One coded field of one report (`PathologyCoder.scored`)."""

    value: str | None
    score: float | None
    # why the report itself leaves the value in doubt (`stated_differently`), or names a site the
    # coder never learned (`PathologyCoder.untrained_site`)
    stated_differently: str | None = None
    agreement: str = "unstated"  # `agreement`: the value against what the report states
    # the share of held-out codes like this one that were right (`calibrate`); the score itself for
    # a coder without review thresholds
    confidence: float | None = None


# How a coded value stands against the report's own statement of the field (`agreement`): the
# thresholds are learned per group, since a classifier's score means more where the report says the
# same (measured: docs/benchmarks.md).
AGREEMENTS = ("as_stated", "not_as_stated", "unstated")


def _stated_form(target: str, value: str) -> str:
    """A value as the record writes it (`pT2a` -> `T2a`, `pNx` -> `NX`; a stage as written)."""
    if target == "ajcc_pathologic_tumor_stage":
        return value.strip().upper()
    return _as_recorded(value).upper()


def agreement(target: str, value: str | None, fields: dict[str, Any]) -> str:
    """`as_stated` when the report states `target` (pT, pN, pM, stage) with this value,
    `not_as_stated` when with another, `unstated` when it states none (and for fields it never states
    in a form the coder compares)."""
    name = _STATED_AS.get(target)
    field = fields.get(name) if name else None
    if field is None or value is None:
        return "unstated"
    same = _stated_form(target, str(field["value"])) == _stated_form(target, value)
    return "as_stated" if same else "not_as_stated"


def stated_differently(target: str, fields: dict[str, Any]) -> str | None:
    """Why `target` needs a human whatever the coder's score: the report states it with different
    values (`extract`'s alternatives) or, for pN, against its own node count (`node_conflict`), or None."""
    name = _STATED_AS.get(target)
    field = fields.get(name) if name else None
    if target == "pathologic_N" and (conflict := node_conflict(fields)):
        return conflict
    if not field or not field.get("alternatives"):
        return None
    return f"the report states {name} differently ({field['value']}; also {', '.join(map(str, field['alternatives']))})"


def _field_features(fields: dict[str, Any]) -> dict[str, float]:
    """One indicator per extracted field value (`__pT_pT2`, `__histologic_type_81403`); a histologic
    type or site also marks its parent category (`__primary_site_C34`), which pools rare subsites;
    numbers mark their range (`__tumor_size_mm_range1`)."""
    features = {}
    for name, f in fields.items():
        if f is None:
            if name in _ABSENCE:
                features[f"__{name}_none"] = 1.0
            continue
        if name in _BUCKETS:  # a number goes in as its range: 23 mm and 24 mm are the same evidence
            edges = _BUCKETS[name]
            bucket = sum(float(f["value"]) > edge for edge in edges)
            features[f"__{name}_range{bucket}"] = 1.0
            continue
        value = str(f["value"])
        features[f"__{name}_{re.sub(r'[^A-Za-z0-9]+', '', value)}"] = 1.0
        if name in ("histologic_type", "primary_site"):
            features[f"__{name}_{value[:3]}"] = 1.0
    stage = ajcc_stage(fields)  # the stage the report's own pT/pN/pM give at its organ
    if stage is not None:
        group = main_group(stage)
        features[f"__tnm_stage_group_{group}"] = 1.0
        if stage != group:
            features[f"__tnm_stage_{stage}"] = 1.0
    size, site = fields.get("tumor_size_mm"), fields.get("primary_site")
    # the T the size alone gives at the organ's AJCC cut points (staging.SIZE_T; the generic ranges
    # miss lung's 30 mm and kidney's 100 mm). Measured (same folds, docs/benchmarks.md): pT 0.7081 ->
    # 0.7116, the gain in lung (14 reports gained, 4 lost)
    if size and site:
        code = str(site["value"])
        for prefix, cuts in SIZE_T.items():
            if code.startswith(prefix):
                t = next((t for limit, t in cuts if float(size["value"]) <= limit), cuts[-1][1])
                features[f"__size_T_{prefix}_{t}"] = features[f"__size_T_{t}"] = 1.0
                break
    # the N the positive-node count gives at the organ (`staging.count_n`; the count's ranges alone
    # mix one node, N1 at the head and neck, with three, N2b there). Measured (5-fold CV, cached
    # extraction; docs/benchmarks.md): pN 0.8423 -> 0.8474, stage 0.7234 -> 0.7205
    positive = fields.get("lymph_nodes_positive")
    if positive and site:
        code = str(site["value"])
        n = count_n(code, int(float(positive["value"])))
        if n is not None:
            features[f"__count_N_{n}"] = features[f"__count_N_{code[:3]}_{n}"] = 1.0
    return features


# How the indicator of a site the report names begins (`_site_features`): `__site_named_final_C18.2`.
_NAMED_SITE = "__site_named_"


def _site_features(text: str, fields: dict[str, Any]) -> dict[str, float]:
    """One indicator per ICD-O-3 site the report names and where it names it (`extract.named_sites`:
    beside the type, under a site label, in the final part, elsewhere), beside the one primary site
    `extract` chooses: the classifier learns which mentions the registry's code follows (a cecum
    beside the type, an ascending colon in the gross). Measured (5-fold CV, docs/benchmarks.md):
    site 0.8626 -> 0.8659, ICD-10 0.8555 -> 0.8599, cancer type 0.9657 -> 0.9665."""
    return {f"{_NAMED_SITE}{role}_{code}": 1.0 for _, _, code, role in named_sites(text, fields)}


def _zeroed(x: Any, columns: np.ndarray) -> Any:
    """A copy of the sparse matrix `x` without its entries in the `columns` marked True (the columns
    stay, empty: the names of a design's columns do not move)."""
    x = x.tocsr(copy=True)
    x.data[columns[x.indices]] = 0
    x.eliminate_zeros()
    return x


# Fields whose classifier also sees the extracted-field indicators crossed with the report's cancer
# type (`__pT_pT2@COAD`; the record's type in training, the coder's own at prediction), at this weight
# beside the plain ones: a stage group or a T category means different things in different organs,
# which one linear model over shared indicators cannot say. Measured (5-fold CV, weights chosen on
# the same folds: docs/benchmarks.md): stage 0.634 -> 0.6718, pT 0.7112 -> 0.7155, site 0.8439 ->
# 0.8453; pN, pM, histology and grade gained nothing, and crossing the words too made the model 23
# times wider (about 40 s a fold instead of 16) for less.
CROSSED = {"ajcc_pathologic_tumor_stage": 3.0, "pathologic_T": 1.0, "icd_o_3_site": 1.0}
# Fields whose classifier weighs every report alike instead of `class_weight` ("balanced", which
# raises rare values): pN's rare values are mostly guesses the text does not support (N2c, N3), and
# weighting them up costs N0 and NX. Measured (5-fold CV, same folds, cached extraction;
# docs/benchmarks.md): pN 0.8262 -> 0.8329 (macro-F1 0.6276 -> 0.6442; with the extraction of the
# session before, 0.8274 -> 0.8321). The stage moved both ways (0.7023 -> 0.7062, 0.7119 -> 0.7095)
# and every other field lost (histology 0.8794 -> 0.8703, grade 0.807 -> 0.8013, cancer type
# 0.9574 -> 0.9566), so they stay balanced.
FIELD_CLASS_WEIGHTS: dict[str, str | None] = {"pathologic_N": None}
# The field the indicators are crossed with.
_CROSS_BY = "cancer_type"
# Fields coded as one pair: the scores of each value are those of its best pair with a value of the
# other that the training records hold together at least `_PAIRED_AT_LEAST` times, so the coded cancer
# type and histology agree (no lung adenocarcinoma coded with a squamous histology; the two classifiers
# disagree on a few reports); a value with no such pair in training is not held to one. Measured on
# TCGA reports (5-fold CV, docs/benchmarks.md): cancer type 0.9599 -> 0.9618, histology 0.8824 -> 0.8827
# (at 0.95 fewer histologies are auto-coded: their scores carry the cancer type's doubt).
_PAIRED = ("cancer_type", "icd_o_3_histology")
_PAIRED_AT_LEAST = 2
# Fields the report itself states, with the prior the stated value gets (`_stated_columns`: the ICD-O-3
# histologies and site `extract` read, the ICD-10 code of that site, the pT and pM as written): its
# log-score raised by this much (its share of the softmax multiplied by e**prior, the rest scaled
# down), so that where the classifier is torn between a few codes, the one the report states wins; a
# code the classifier scores far lower stays lower. The histology's is added before its pairing with
# the cancer type. Chosen on the TCGA folds (5-fold CV, cached extraction, out of fold;
# docs/benchmarks.md), each the best on four folds of five or more, among 0.1-1: a prior of 1 costs
# the histology, site and ICD-10. pN is taken as stated already (`_EXTRACTED`), the stage and grade
# gained nothing.
STATED_PRIOR: dict[str, float] = {
    "icd_o_3_histology": 0.2,
    "icd_o_3_site": 0.5,
    "icd_10": 0.3,
    "pathologic_T": 0.5,
    "pathologic_M": 0.3,
}
# The histology's prior for a type the vocabulary refines no further (`icdo.specific_morphologies`:
# acinar adenocarcinoma, not adenocarcinoma NOS): a report naming one says more than one naming a broad
# type, which the record often refines. Every type the report names gets its prior (the one `extract`
# chose and its `alternatives`: a report naming two types states both). Measured (5-fold CV, cached
# extraction, out of fold; docs/benchmarks.md): histology +10 reports and cancer type +4 against 0.2
# for the chosen type alone; chosen on four folds and counted on the fifth, +4 and +3.
SPECIFIC_HISTOLOGY_PRIOR = 0.4
_STATED_CODE = {
    "icd_o_3_histology": "histologic_type",
    "icd_o_3_site": "primary_site",
    "icd_10": "primary_site",
}


def _stated_columns(
    target: str, classes: Sequence[str], fields: dict[str, Any], column: dict[str, int] | None = None
) -> list[int]:
    """Which of `classes` the report states for `target` (`STATED_PRIOR`): the extracted ICD-O-3 code
    (for the histology, with the other types the report names, its `alternatives`; for ICD-10, the
    site's code, or its category where the site is the whole organ: C61.9 is C61), or a value
    `agreement` finds as stated. `column`: each class's index, where the caller has it."""
    if target not in _STATED_CODE:
        return [j for j, c in enumerate(classes) if agreement(target, c, fields) == "as_stated"]
    field = fields.get(_STATED_CODE[target])
    if not field:
        return []
    code = str(field["value"])
    column = {c: j for j, c in enumerate(classes)} if column is None else column
    if target == "icd_o_3_histology":
        named = dict.fromkeys([code, *map(str, field.get("alternatives") or ())])
        return [column[c] for c in named if c in column]
    wanted = [code, code.split(".")[0]] if target == "icd_10" and code.endswith(".9") else [code]
    return next(([column[c]] for c in wanted if c in column), [])


def _prior(target: str, value: str) -> float:
    """The prior of a stated `value` of `target` (`STATED_PRIOR`, `SPECIFIC_HISTOLOGY_PRIOR`)."""
    if target == "icd_o_3_histology" and value in specific_morphologies():
        return SPECIFIC_HISTOLOGY_PRIOR
    return STATED_PRIOR[target]


# The fields that see character n-grams too by default (`char_fields=True`; `pathology train
# --no-char-ngrams` turns them off): those that name what the tumour is and where, whose words OCR
# breaks ("adenocarcinorna", "squarnous", "Iobe") and whose names share stems ("oligodendroglioma",
# "oligoastrocytoma"); T, N, stage and grade stay on words (given to every field, character n-grams
# cost pT and the stage accuracy: docs/benchmarks.md).
_WORDS_ONLY = ("neoplasm_histologic_grade", "ajcc_pathologic_tumor_stage", "pathologic_T", "pathologic_N")
CHAR_FIELDS = tuple(t for t in TARGETS if t not in _WORDS_ONLY)
# The character n-grams: 3-5 letters within words (`char_wb`), in at least 3 reports and at most half
# of them (the commonest carry most of the nonzeros, so most of the fit time, and tell little), the
# 30,000 most frequent.
_CHAR_SETTINGS: dict[str, Any] = {
    "analyzer": "char_wb",
    "ngram_range": (3, 5),
    "min_df": 3,
    "max_df": 0.5,
    "max_features": 30_000,
    "sublinear_tf": True,
    "dtype": np.float32,
}

# The fields a report about an organ no training record has cannot be coded right (`untrained_site`).
_SITE_BOUND = ("cancer_type", "icd_10", "icd_o_3_site", "tumor_tissue_site")
# The fields whose classifiers see the named-site indicators (`_site_features`; the others see them
# as zeros: the same model as without them): those that name the tumour's kind or site. Seen by every
# field, pT and pN lost 6 and 7 reports (docs/benchmarks.md).
_NAMED_SITE_FIELDS = _SITE_BOUND

# Fields whose absence is evidence too: a report that names no nodes is how NX looks.
_ABSENCE = ("pT", "pN", "lymph_nodes_examined", "tumor_size_mm")
# Ranges of the numeric fields, at the cut points the AJCC categories use most (size 20/40/50/70 mm for
# T; 0, 1-3, 4-6, 7+ positive nodes for N).
_BUCKETS = {
    "tumor_size_mm": (20.0, 40.0, 50.0, 70.0),
    "closest_margin_mm": (0.0, 1.0, 5.0),
    "lymph_nodes_positive": (0.0, 3.0, 6.0),
    "lymph_nodes_examined": (0.0, 5.0, 11.0),
    "ki67_percent": (14.0, 30.0),
    "psa_ng_ml": (10.0, 20.0),  # the AJCC 7 prostate groups' cut points
}

# The TF-IDF vectorizers a coder may hold, and the prefix of their vocabulary's arrays when saved.
_VECTORIZERS = {"words_": "vocabulary_", "chars_": "chars_vocabulary_"}


class PathologyCoder:
    """Trainable coder for pathology reports (see the module docstring)."""

    chars_: Any  # the character n-grams' vectorizer, None where no field sees them

    def __init__(
        self,
        targets: Sequence[str] = TARGETS,
        *,
        C: float = 2.0,  # noqa: N803 - scikit-learn's name
        class_weight: str | None = "balanced",
        use_extracted: bool = True,
        field_weight: float = 0.15,
        review_accuracy: float | dict[str, float] | None = None,
        review_folds: int = 5,
        cross_weights: dict[str, float] | None = None,
        review_floor: float | None = None,
        field_class_weights: dict[str, str | None] | None = None,
        char_fields: Sequence[str] | bool = True,
    ) -> None:
        self.targets = tuple(targets)
        # fields whose classifier also sees the report's character n-grams (`_CHAR_SETTINGS`) beside
        # the words: True for `CHAR_FIELDS`, () for none (about a quarter of the fit time)
        self.char_fields = char_fields
        self.C = C
        self.class_weight = class_weight
        self.use_extracted = use_extracted
        self.field_weight = field_weight
        self.review_accuracy = review_accuracy
        self.review_folds = review_folds
        self.cross_weights = cross_weights  # None: `CROSSED`; {} crosses nothing
        # per field, a class weighting other than `class_weight` (None: `FIELD_CLASS_WEIGHTS`)
        self.field_class_weights = field_class_weights
        # with thresholds, a code whose own confidence is below this goes to review too, whatever the
        # field's threshold (which holds the accuracy of the auto-coded values together, so a field
        # whose stated values are mostly right keeps guesses of low confidence beside them)
        self.review_floor = review_floor

    def __getstate__(self) -> dict[str, Any]:
        """For saving: each TF-IDF vocabulary as two arrays (a 100,000-key dict is slow to write and
        read with skops) and the SVM weights as float32 (half the file; the margins agree to ~1e-6)."""
        import copy

        state = dict(self.__dict__)
        state.pop("_names", None)  # a cache, rebuilt on first use
        for name, key in _VECTORIZERS.items():
            if hasattr(state.get(name), "vocabulary_"):
                vectorizer = copy.copy(state[name])
                vocabulary = vectorizer.__dict__.pop("vocabulary_")
                state[name] = vectorizer
                state[f"{key}terms_"] = np.array(list(vocabulary), dtype=str)
                state[f"{key}index_"] = np.fromiter(
                    vocabulary.values(), dtype=np.int64, count=len(vocabulary)
                )
        if "models_" in state:
            models = {}
            for target, model in state["models_"].items():
                model = copy.copy(model)
                model.coef_ = np.asarray(model.coef_, dtype=np.float32)
                models[target] = model
            state["models_"] = models
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        arrays = {
            name: (state.pop(f"{key}terms_", None), state.pop(f"{key}index_", None))
            for name, key in _VECTORIZERS.items()
        }
        self.__dict__.update(state)
        for name, (terms, index) in arrays.items():
            if terms is not None and index is not None:
                getattr(self, name).vocabulary_ = dict(zip(terms.tolist(), index.tolist(), strict=True))

    def _features(
        self, texts: Sequence[str], *, fit: bool = False, extracted: Sequence[dict[str, Any]] | None = None
    ) -> tuple[Any, list[dict[str, Any]]]:
        """The feature matrix (word TF-IDF beside the extracted-field indicators scaled by
        `field_weight`, then the character n-grams where some field sees them: `_design` gives each
        field its columns) and the extracted fields."""
        from scipy.sparse import hstack

        # a report's site mentions right after its extraction, which has just listed them (`icdo`
        # keeps the last few texts' mentions: a long report is not read twice)
        given = list(extracted) if extracted is not None else [None] * len(texts)
        extracted, fields = [], []
        for text, found in zip(texts, given, strict=True):
            found = extract(text) if found is None else found
            extracted.append(found)
            fields.append(_field_features(found) | _site_features(text, found))

        def vectorize(vectorizer: Any, data: Any) -> Any:
            return vectorizer.fit_transform(data) if fit else vectorizer.transform(data)

        blocks = [vectorize(self.words_, texts), vectorize(self.fields_, fields) * self.field_weight]
        if self.__dict__.get("chars_") is not None:
            try:
                blocks.append(self.chars_.fit_transform(texts) if fit else _char_tfidf(self.chars_, texts))
            except ValueError:
                if not fit:
                    raise
                # too few reports (under 6), or too alike, for the n-grams' document-frequency
                # bounds: no n-gram is kept, and the coder learns from the words alone
                self.chars_ = None
        return hstack(blocks).tocsr(), extracted

    def _widths(self) -> tuple[int, int]:
        """How many word columns and extracted-field columns come first in `_features`' matrix."""
        return len(self.words_.vocabulary_), len(self.fields_.feature_names_)

    def sees_chars(self, target: str) -> bool:
        """Whether `target`'s classifier sees the character n-grams."""
        return self.__dict__.get("chars_") is not None and target in self._char_targets()

    def _char_targets(self) -> tuple[str, ...]:
        wanted = self.__dict__.get("char_fields", ())  # (a coder saved before them has none)
        return CHAR_FIELDS if wanted is True else tuple(wanted or ())

    def _feature_names(self) -> list[str]:
        """Every feature's name, built once per fitted or loaded coder (100,000 words: the CLI explains
        one report at a time)."""
        names = self.__dict__.get("_names")
        if names is None:
            names = [*self.words_.get_feature_names_out(), *self.fields_.get_feature_names_out()]
            self._names = names
        return names

    def _design_names(self, target: str) -> list[str]:
        """The names of the columns `target`'s classifier sees (a crossed indicator: `__pT_pT2@COAD`,
        a character n-gram: `#chars: aden`)."""
        names = self._feature_names()
        if self.sees_chars(target):
            names = [*names, *(f"{_CHAR_MARK}{gram}" for gram in self.chars_.get_feature_names_out())]
        if target not in self.__dict__.get("crossed_", {}):
            return names
        fields = self._feature_names()[len(self.words_.vocabulary_) :]
        return [*names, *(f"{name}@{kind}" for kind in self.cross_types_ for name in fields)]

    def fit(
        self,
        texts: Sequence[str],
        records: Sequence[dict[str, str]],
        *,
        groups: Sequence[Any] | None = None,
        extracted: Sequence[dict[str, Any]] | None = None,
    ) -> PathologyCoder:
        """One classifier per target with two or more recorded values; with `review_accuracy`, first
        the calibration and review thresholds from `review_folds`-fold cross-validation on these reports (`groups`:
        reports of one patient or document stay in one fold). `extracted`: `extract` of each text,
        when the caller has it."""
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        self.fields_ = DictVectorizer()
        self.words_ = TfidfVectorizer(
            ngram_range=(1, 2),
            min_df=2,
            max_features=100_000,
            sublinear_tf=True,
            token_pattern=r"(?u)\b\w[\w\-]*\b",
        )
        self.__dict__.pop("_names", None)
        self.chars_ = None
        if set(self._char_targets()) & set(self.targets):
            self.chars_ = TfidfVectorizer(**_CHAR_SETTINGS)
        extracted = list(extracted) if extracted is not None else [extract(text) for text in texts]
        self.review_thresholds_: dict[str, float] = {}
        self.calibration_: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
        if self.review_accuracy is not None:
            self.review_thresholds_, self.calibration_ = self._learn_review_thresholds(
                texts, records, groups, extracted
            )
        x, _ = self._features(texts, fit=True, extracted=extracted)
        for vectorizer in (self.words_, self.chars_):
            if vectorizer is not None:  # the pruned terms: only for introspection, and large to save
                vectorizer.stop_words_ = None
        self.models_: dict[str, Any] = {}
        self.crossed_: dict[str, float] = {}
        self.cross_types_: tuple[str, ...] = ()
        block = None
        memo: dict[Any, Any] = {}
        # the field crossed by first: the others' crossed indicators need its values
        for target in sorted(self.targets, key=lambda t: t != _CROSS_BY):
            keep = [i for i, r in enumerate(records) if r.get(target, "") not in _MISSING]
            labels = [records[i][target] for i in keep]
            if len(set(labels)) < 2:
                continue
            if target in self.crossed_ and block is None:
                known: dict[str, int] = dict(
                    zip(self.cross_types_, range(len(self.cross_types_)), strict=True)
                )
                guessed = self.models_[_CROSS_BY].predict(x)
                types = [
                    known.get(r.get(_CROSS_BY, ""), known[str(g)])
                    for r, g in zip(records, guessed, strict=True)
                ]
                block = self._cross_block(x, types)
            design = self._design(target, x, block, memo)
            # seeded: liblinear visits the reports in a random order, and the same data must give the
            # same coder (and the same review thresholds)
            model = LinearSVC(C=self.C, class_weight=self._class_weight(target), random_state=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                self.models_[target] = model.fit(design[keep], labels)
            if target == _CROSS_BY:
                wanted: dict[str, float] = CROSSED if self.cross_weights is None else self.cross_weights
                self.crossed_ = {t: float(w) for t, w in wanted.items() if t in self.targets and w}
                self.cross_types_ = tuple(str(c) for c in model.classes_)
        self.paired_ = self._pairs(records)
        # the sites (ICD-O-3 categories) the training records hold: a report naming another is about a
        # tumour no classifier here has seen (a breast carcinoma before a coder of 21 other types)
        self.sites_ = sorted(
            {r["icd_o_3_site"][:3] for r in records if r.get("icd_o_3_site", "") not in _MISSING}
        )
        return self

    def untrained_site(self, target: str, fields: dict[str, Any]) -> str | None:
        """Why a value of `target` (a field that names the tumour's kind or site, `_SITE_BOUND`) needs a
        human whatever its score: the report's primary site (`extract`) is in a category no training
        record has, so every class of the classifier is another organ's; else None (also for a coder
        trained without sites, and for a site read from a mention away from the tumour's type and any
        site label: the ureters of a cystectomy, the thyroid of a laryngectomy)."""
        known = self.__dict__.get("sites_")
        site = fields.get("primary_site")
        category = str(site["value"])[:3] if site else None
        if target not in _SITE_BOUND or not known or category is None or category in known:
            return None
        if site and site.get("read_from") == "text" and not site.get("written"):
            return None
        return f"the report's primary site ({category}) is none of the {len(known)} sites the coder was trained on"

    def _pairs(self, records: Sequence[dict[str, str]]) -> np.ndarray | None:
        """Which values of the `_PAIRED` fields may be coded together (rows: the first field's
        classes, columns: the second's): pairs the records hold `_PAIRED_AT_LEAST` times, and every
        pair of a value that has none. None where either field has no classifier."""
        first, second = (self.models_.get(t) for t in _PAIRED)
        if first is None or second is None:
            return None
        held = Counter((r.get(_PAIRED[0], ""), r.get(_PAIRED[1], "")) for r in records)
        allowed = np.array(
            [[held[(str(a), str(b))] >= _PAIRED_AT_LEAST for b in second.classes_] for a in first.classes_]
        )
        allowed[~allowed.any(axis=1), :] = True
        allowed[:, ~allowed.any(axis=0)] = True
        return allowed

    def _class_weight(self, target: str) -> str | None:
        """`target`'s class weighting: its own in `field_class_weights` (default `FIELD_CLASS_WEIGHTS`),
        else `class_weight`."""
        # a coder saved before the setting existed has no attribute
        own = self.__dict__.get("field_class_weights")
        own = FIELD_CLASS_WEIGHTS if own is None else own
        return own.get(target, self.class_weight)

    def _cross_block(self, x: Any, types: Sequence[int]) -> Any:
        """The extracted-field columns of `x` crossed with each report's cancer type (`types`: indices
        into `cross_types_`): one copy of the field block per type, the report's own filled."""
        from scipy.sparse import csr_matrix

        x = x.tocsr()
        words, fields = self._widths()
        row_of = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
        mine = (x.indices >= words) & (x.indices < words + fields)
        rows = row_of[mine]
        columns = x.indices[mine] - words + fields * np.asarray(types, dtype=np.int64)[rows]
        shape = (x.shape[0], fields * len(self.cross_types_))
        return csr_matrix((x.data[mine], (rows, columns)), shape=shape)

    def _design(self, target: str, x: Any, block: Any, memo: dict[Any, Any] | None = None) -> Any:
        """What `target`'s classifier sees: the words and the extracted fields of `x`, the character
        n-grams for a field that sees them, and for a crossed field the crossed block beside them.
        `memo`: the column views already made of this `x` and `block` (fields that see the same
        columns share one copy)."""
        from scipy.sparse import hstack

        memo = {} if memo is None else memo
        cut = self.__dict__.get("chars_") is not None and not self.sees_chars(target)
        hidden = None if target in _NAMED_SITE_FIELDS else self._named_columns()
        hidden = hidden if hidden is not None and hidden.any() else None
        if (cut, hidden is None) not in memo:
            view = x[:, : sum(self._widths())] if cut else x
            if hidden is not None:
                words = self._widths()[0]
                columns = np.zeros(view.shape[1], dtype=bool)
                columns[words : words + len(hidden)] = hidden
                view = _zeroed(view, columns)
            memo[cut, hidden is None] = view
        view = memo[cut, hidden is None]
        weight = self.__dict__.get("crossed_", {}).get(target)
        if weight is None or block is None:
            return view
        if hidden is not None:
            if ("block", id(block)) not in memo:
                memo["block", id(block)] = _zeroed(block, np.tile(hidden, len(self.cross_types_)))
            block = memo["block", id(block)]
        return hstack([view, block * weight]).tocsr()

    def _named_columns(self) -> np.ndarray:
        """Which extracted-field columns are named-site indicators (`_site_features`)."""
        return np.array([str(n).startswith(_NAMED_SITE) for n in self.fields_.feature_names_], dtype=bool)

    def target_accuracy(self, target: str) -> float | None:
        """The accuracy wanted of `target`'s auto-coded values (`review_accuracy`), or None."""
        wanted = self.review_accuracy
        return wanted.get(target) if isinstance(wanted, dict) else wanted

    def _learn_review_thresholds(
        self,
        texts: Sequence[str],
        records: Sequence[dict[str, str]],
        groups: Sequence[Any] | None,
        extracted: Sequence[dict[str, Any]],
    ) -> tuple[dict[str, float], dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]]:
        """Per target with a wanted accuracy: the `calibrate` of held-out predictions' scores
        (`review_folds`-fold cross-validation of this coder's settings) and `review_threshold` over
        their calibrated confidences and rightness."""
        from sklearn.model_selection import GroupKFold, KFold

        folds = min(self.review_folds, len(set(groups)) if groups is not None else len(texts))
        if folds < 2:  # too few reports (or groups) to hold any out
            return {}, {}
        splitter = GroupKFold(folds) if groups is not None else KFold(folds, shuffle=True, random_state=0)
        held_out: list[dict[str, Coded]] = [{} for _ in texts]
        for train, test in splitter.split(texts, groups=groups):
            inner = PathologyCoder(
                self.targets,
                C=self.C,
                class_weight=self.class_weight,
                use_extracted=self.use_extracted,
                field_weight=self.field_weight,
                cross_weights=self.cross_weights,
                field_class_weights=self.field_class_weights,
                char_fields=self.char_fields,
            )
            inner.fit(
                [texts[i] for i in train],
                [records[i] for i in train],
                extracted=[extracted[i] for i in train],
            )
            scored = inner.scored([texts[i] for i in test], extracted=[extracted[i] for i in test])
            for i, row in zip(test, scored, strict=True):
                held_out[i] = row
        thresholds, calibrations = {}, {}
        for target in self.targets:
            wanted = self.target_accuracy(target)
            _, pairs = scored_pairs(records, held_out, target)  # inner coders: confidence = score
            if wanted is not None and pairs:
                calibrations[target] = calibrate(pairs)
                confidences = [calibrated(calibrations[target], p[0], p[2]) for p in pairs]
                thresholds[target] = review_threshold(confidences, [p[1] for p in pairs], wanted)
        return thresholds, calibrations

    def scored(
        self, texts: Sequence[str], *, extracted: Sequence[dict[str, Any]] | None = None
    ) -> list[dict[str, Coded]]:
        """Per text and coded field: the value `predict` gives, its score (its share of the softmax
        of the margins, after `STATED_PRIOR`; None where the value is not one the classifier knows) and, where the report
        itself states the field with different values, why (`stated_differently`). A withheld report
        has no fields."""
        x, extracted = self._features(texts, extracted=extracted)
        reasons = self._withheld(texts, extracted)
        return [
            {}
            if reason
            else {t: self._coded(t, row[t], scores[t], fields) for t in row if row[t] is not None}
            for (row, _, scores), reason, fields in zip(
                self._decide_scored(self._probabilities(x, extracted), extracted),
                reasons,
                extracted,
                strict=True,
            )
        ]

    def _coded(self, target: str, value: str | None, score: float | None, fields: dict[str, Any]) -> Coded:
        """One coded value with its doubt, its agreement with the report and its confidence."""
        group = agreement(target, value, fields)
        calibration = self.__dict__.get("calibration_", {}).get(target)
        confidence = score if calibration is None or score is None else calibrated(calibration, score, group)
        doubt = stated_differently(target, fields) or self.untrained_site(target, fields)
        return Coded(value, score, doubt, group, confidence)

    def _probabilities(self, x: Any, extracted: Sequence[dict[str, Any]]) -> dict[str, np.ndarray]:
        """Per target, `_softmax_scores` of every row of `x` (one decision function per model)."""
        return self._designs_and_scores(x, extracted)[1]

    def _designs_and_scores(
        self, x: Any, extracted: Sequence[dict[str, Any]]
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Per target, in `models_` order, the matrix its classifier sees (`_design`) and its
        `_softmax_scores` (with the stated value's prior, `STATED_PRIOR`, from `extracted`, each row's
        `extract`); the cancer type and histology as a pair (`_paired_scores`), then the crossed
        fields, whose blocks use the coder's own (paired) cancer type of each report."""
        designs: dict[str, Any] = {}
        scores: dict[str, np.ndarray] = {}
        crossed = self.__dict__.get("crossed_", {})
        memo: dict[Any, Any] = {}

        def score(target: str, model: Any) -> np.ndarray:
            found = _softmax_scores(model, designs[target])
            if STATED_PRIOR.get(target) and self.use_extracted:
                found = _with_prior(found, target, [str(c) for c in model.classes_], extracted)
            return found

        for target, model in self.models_.items():
            if target not in crossed:
                designs[target] = self._design(target, x, None, memo)
                scores[target] = score(target, model)
        allowed = self.__dict__.get("paired_")  # (a coder saved before pairing has none)
        if allowed is not None and all(t in scores for t in _PAIRED):
            scores[_PAIRED[0]], scores[_PAIRED[1]] = _paired_scores(
                scores[_PAIRED[0]], scores[_PAIRED[1]], allowed
            )
        block = None
        for target, model in self.models_.items():
            if target in crossed:
                if block is None and _CROSS_BY in scores:
                    block = self._cross_block(x, scores[_CROSS_BY].argmax(axis=1))
                designs[target] = self._design(target, x, block, memo)
                scores[target] = score(target, model)
        return {t: designs[t] for t in self.models_}, {t: scores[t] for t in self.models_}

    def _decide_scored(
        self, probabilities: dict[str, np.ndarray], extracted: Sequence[dict[str, Any]]
    ) -> list[tuple[dict[str, str | None], dict[str, str], dict[str, float | None]]]:
        """`_decide`'s values and the fields taken from the text, with the score of each value (None
        where the classifier does not know the value)."""
        columns = {t: {str(c): j for j, c in enumerate(m.classes_)} for t, m in self.models_.items()}
        out = []
        for i, (row, taken) in enumerate(self._decide(probabilities, extracted)):
            scores: dict[str, float | None] = {}
            for target, value in row.items():
                j = columns.get(target, {}).get(str(value))
                scores[target] = None if j is None else float(probabilities[target][i][j])
            out.append((row, taken, scores))
        return out

    def needs_review(self, target: str, score: float | None) -> bool | None:
        """Whether a value of `target` with this confidence (`Coded.confidence`) goes to a human coder:
        None when the coder has no threshold for the field (trained without `review_accuracy`)."""
        threshold = self.effective_threshold(target)
        if threshold is None:
            return None
        return score is None or score < threshold

    def effective_threshold(self, target: str) -> float | None:
        """The confidence below which `target`'s codes go to review: the field's learned threshold, or
        `review_floor` where that is higher; None without a threshold."""
        threshold = self.__dict__.get("review_thresholds_", {}).get(target)
        floor = self.__dict__.get("review_floor")
        if threshold is None or floor is None:
            return threshold
        return max(threshold, float(floor))

    def _review(self, target: str, coded: Coded) -> tuple[bool | None, str | None]:
        """`review` and its reason for one coded value: the report states the field differently, or
        its confidence is below the field's threshold; (None, None) without a threshold or a doubt."""
        if coded.stated_differently:
            return True, coded.stated_differently
        verdict = self.needs_review(target, coded.confidence)
        if not verdict:
            return verdict, None
        threshold = self.review_thresholds_[target]
        if coded.confidence is None:
            return True, "the classifier gives no score for this value"
        if not np.isfinite(threshold):
            return True, "held-out codes of this field never reached the wanted accuracy"
        if coded.confidence >= threshold:  # the floor sent it
            return True, f"confidence {coded.confidence:.4f} below the review floor ({self.review_floor})"
        reason = f"confidence {coded.confidence:.4f} below the field's review threshold ({threshold:.4f})"
        if f"{coded.confidence:.4f}" == f"{threshold:.4f}":  # the score orders codes within a step
            reason += ": a lower score than the codes kept at that confidence"
        return True, reason

    def _withheld(self, texts: Sequence[str], extracted: Sequence[dict[str, Any]]) -> list[str | None]:
        return [withheld(text, fields) for text, fields in zip(texts, extracted, strict=True)]

    def predict_ranked(
        self,
        texts: Sequence[str],
        k: int = 3,
        *,
        extracted: Sequence[dict[str, Any]] | None = None,
        abstain: bool = True,
    ) -> list[dict[str, list[tuple[str, float]]]]:
        """Per text and field, the `k` best values with their scores (softmax of the margins, with the
        stated value's prior, `STATED_PRIOR`); no alternatives for a report `withheld` names (unless
        `abstain=False`)."""
        x, extracted = self._features(texts, extracted=extracted)
        skip = self._withheld(texts, extracted) if abstain else [None] * len(texts)
        out: list[dict[str, list[tuple[str, float]]]] = [{} for _ in texts]
        for target, probabilities in self._probabilities(x, extracted).items():
            classes = [str(c) for c in self.models_[target].classes_]
            for row, p, reason in zip(out, probabilities, skip, strict=True):
                row[target] = [] if reason else _best(classes, p, k)
        return out

    def predict(
        self,
        texts: Sequence[str],
        *,
        extracted: Sequence[dict[str, Any]] | None = None,
        abstain: bool = True,
    ) -> list[dict[str, str | None]]:
        """One dict per text with every coded field. `extracted`: `extract` of each text, when the
        caller has it already (it is not computed again). A report `withheld` names (unreadable, or no
        tumour named) gets None in every field unless `abstain=False`."""
        x, extracted = self._features(texts, extracted=extracted)
        out = [dict(row) for row, _ in self._decide(self._probabilities(x, extracted), extracted)]
        if abstain:
            for row, reason in zip(out, self._withheld(texts, extracted), strict=True):
                if reason:
                    row.update(dict.fromkeys(row))
        return out

    def _decide(
        self, probabilities: dict[str, np.ndarray], extracted: Sequence[dict[str, Any]]
    ) -> list[tuple[dict[str, str | None], dict[str, str]]]:
        """Per report: the value of every field (the classifier's best class, from `_probabilities`),
        and which fields were taken from the text itself (`extracted`: the field `extract` read)
        rather than from the classifier."""
        out: list[tuple[dict[str, str | None], dict[str, str]]] = [
            (dict.fromkeys(self.targets), {}) for _ in extracted
        ]
        for target, p in probabilities.items():
            classes = self.models_[target].classes_
            for (row, _), best in zip(out, p.argmax(axis=1), strict=True):
                row[target] = str(classes[best])
        if self.use_extracted:
            for (row, taken), fields in zip(out, extracted, strict=True):
                for target, (name, convert) in _EXTRACTED.items():
                    if target in row and fields[name] is not None:
                        value = convert(str(fields[name]["value"]))
                        model = self.models_.get(target)
                        if value in _NOT_ASSESSED and model is not None:
                            continue
                        if model is None or value in set(map(str, model.classes_)):
                            row[target] = value
                            taken[target] = name
        return out

    def predict_explained(
        self,
        texts: Sequence[str],
        k: int = 3,
        *,
        evidence: int = 3,
        extracted: Sequence[dict[str, Any]] | None = None,
    ) -> list[dict[str, Any]]:
        """Per text: `{"withheld": reason or None, "review": [fields], "fields": {field: {...}}}`, each
        field with its `value`, `score` (the value's share of the softmax, after `STATED_PRIOR`),
        `alternatives` (the `k` best, with scores), `source` (`model`, or the extracted field whose stated value was taken),
        `review` and `review_reason` (True when the report states the field with different values or
        the score is below the field's threshold, `needs_review`; False above it; None for a coder
        trained without `review_accuracy` and no doubt in the report) and `evidence`: the features
        that weighed most for the value, each with its `start`/`end` in the text (an extracted
        field's own span; for words, their first occurrence).
        The report's `review` lists the fields to send to a human coder. A withheld report has no
        fields."""
        x, extracted = self._features(texts, extracted=extracted)
        designs, scores = self._designs_and_scores(x, extracted)
        decided = self._decide_scored(scores, extracted)
        reasons = self._withheld(texts, extracted)
        names = {target: self._design_names(target) for target in designs}
        out: list[dict[str, Any]] = []
        for i, (text, fields) in enumerate(zip(texts, extracted, strict=True)):
            row, taken, value_scores = decided[i]
            coded: dict[str, Any] = {}
            for target in [] if reasons[i] else self.targets:
                value, model = row[target], self.models_.get(target)
                if value is None:  # no classifier (one value in training) and nothing stated
                    continue
                entry: dict[str, Any] = {"value": value, "score": None, "alternatives": [], "source": "model"}
                coded_value = self._coded(target, value, value_scores[target], fields)
                entry["score"] = None if coded_value.score is None else round(coded_value.score, 4)
                calibrated_here = target in self.__dict__.get("calibration_", {})
                entry["confidence"] = (
                    round(coded_value.confidence, 4)
                    if calibrated_here and coded_value.confidence is not None
                    else None
                )
                entry["agreement"] = coded_value.agreement
                if model is not None:
                    entry["alternatives"] = _best([str(c) for c in model.classes_], scores[target][i], k)
                entry["review"], entry["review_reason"] = self._review(target, coded_value)
                if target in taken:
                    field = fields[taken[target]]
                    entry["source"] = f"extracted:{taken[target]}"
                    entry["evidence"] = _taken_evidence(field)
                else:
                    entry["evidence"] = _evidence(
                        model, designs[target][i], str(value), names[target], text, fields, evidence
                    )
                coded[target] = entry
            review = [t for t, e in coded.items() if e["review"]]
            out.append({"withheld": reasons[i], "review": review, "fields": coded})
        return out

    def explain(self, text: str, target: str, k: int = 5) -> list[dict[str, Any]]:
        """The features that weighed most for the value `predict` codes (with `abstain=False`: the
        classifier's best after the pairing and the stated value's prior, or the value taken from the
        text), with their first span in `text`: `predict_explained`'s evidence."""
        x, extracted = self._features([text])
        designs, scores = self._designs_and_scores(x, extracted)
        ((row, taken),) = self._decide(scores, extracted)
        if target in taken:
            return _taken_evidence(extracted[0][taken[target]])
        names = self._design_names(target)
        return _evidence(
            self.models_[target], designs[target][0], str(row[target]), names, text, extracted[0], k
        )


def _taken_evidence(field: dict[str, Any]) -> list[dict[str, Any]]:
    """The evidence of a value taken from the text: the extracted field's own span."""
    return [{"term": field["text"], "weight": None, "start": field["start"], "end": field["end"]}]


def _evidence(
    model: Any, row: Any, label: str, names: Sequence[str], text: str, fields: dict[str, Any], k: int
) -> list[dict[str, Any]]:
    """The `k` features of one report (`row`, a 1 x n sparse matrix) that add most to `label`'s margin
    and point into `text` (with their spans), in order of weight; features that point nowhere (a field
    the report does not state, `__pT_none`, and its crossed copies) and outweigh the last of those are
    listed among them with no span, up to `k` more, so an absence that decided a code is visible but
    never crowds out the text that supports it. Character n-grams (`char_fields`) are not listed: they
    weigh beside the words, but a piece of a word is no evidence a reader can check."""
    classes = [str(c) for c in model.classes_]
    if len(classes) > 2:
        coef = model.coef_[classes.index(label)]
    else:
        coef = model.coef_[0] * (1 if label == classes[1] else -1)
    contributions = row.multiply(coef).tocoo()
    ranked = sorted(
        (
            (j, weight)
            for j, weight in zip(contributions.col, contributions.data, strict=True)
            if not str(names[j]).startswith(_CHAR_MARK)
        ),
        key=lambda p: -p[1],
    )
    out, spanned, unspanned = [], 0, 0
    for j, weight in ranked[:_EVIDENCE_SCAN]:
        if weight <= 0 or spanned == k:
            break
        term = str(names[j])
        start, end = _term_span(text, term, fields)
        if start is None:
            if unspanned == k:
                continue
            unspanned += 1
        else:
            spanned += 1
        out.append({"term": term, "weight": round(float(weight), 4), "start": start, "end": end})
    return out


# How a character n-gram's feature name begins (`_design_names`).
_CHAR_MARK = "#chars:"
# How many of a code's heaviest features `_evidence` looks through for ones that point into the text.
_EVIDENCE_SCAN = 50


def review_threshold(
    scores: Sequence[float], right: Sequence[bool], accuracy: float, *, confidence: float | None = 0.95
) -> float:
    """The lowest score at which held-out predictions scoring that much or more were right at least
    `accuracy` of the time: values scoring below it go to review. "Right that often" is the one-sided
    Wilson lower bound at `confidence` (a few lucky predictions do not make a cut; None: the plain
    share). The most predictions that reach the accuracy are kept; `inf` when none do (all to
    review)."""
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
    ranked = np.asarray(scores, dtype=float)[order]
    n = np.arange(1, len(order) + 1)
    share = np.cumsum(np.asarray(right, dtype=float)[order]) / n
    if confidence is not None:
        from statistics import NormalDist

        z = NormalDist().inv_cdf(confidence)
        share = (share + z * z / (2 * n) - z * np.sqrt(share * (1 - share) / n + z * z / (4 * n * n))) / (
            1 + z * z / n
        )
    # a cut falls between different scores only: equal scores are kept or sent to review together
    cuts = np.flatnonzero((share >= accuracy) & np.append(ranked[:-1] > ranked[1:], True))
    return float(ranked[cuts[-1]]) if len(cuts) else float("inf")


def _best(classes: Sequence[str], scores: np.ndarray, k: int) -> list[tuple[str, float]]:
    """The `k` best classes with their scores, best first."""
    return [(classes[j], round(float(scores[j]), 4)) for j in np.argsort(-scores)[:k]]


def _softmax_scores(model: Any, x: Any) -> np.ndarray:
    """One score per class summing to one: the softmax of the linear margins (two classes: the one
    margin against its negative)."""
    margins = model.decision_function(x)
    if margins.ndim == 1:
        margins = np.column_stack([-margins, margins])
    return _softmax(margins)


def _with_prior(
    scores: np.ndarray, target: str, classes: Sequence[str], extracted: Sequence[dict[str, Any]]
) -> np.ndarray:
    """`scores` of `target` (rows: reports, one column per class) with each report's stated value
    (`_stated_columns` of its `extract`) raised by its prior (`_prior`) in log-score, renormalised; rows
    stating no known class as they are."""
    factor = {j: np.exp(_prior(target, str(c))) for j, c in enumerate(classes)}
    column = {str(c): j for j, c in enumerate(classes)}
    out = scores.copy()
    for row, fields in zip(out, extracted, strict=True):
        columns = _stated_columns(target, classes, fields, column)
        if columns:
            row[columns] *= [factor[j] for j in columns]
            row /= row.sum()
    return out


def _paired_scores(
    first: np.ndarray, second: np.ndarray, allowed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Two fields' scores (rows: reports) as those of each value's best allowed pair: the log-scores
    of a value and of the other field's best value it may be coded with, summed, as a softmax again.
    The best value of each is then the pair with the highest summed log-score."""
    tiny = np.finfo(float).tiny  # (a score is never 0 in practice; a log of 0 would be -inf)
    log_first, log_second = np.log(np.maximum(first, tiny)), np.log(np.maximum(second, tiny))
    # per report: the best log-score of the other field among the values each value may pair with
    # (one value at a time: reports x values x values would not fit a large batch)
    best_second = np.column_stack([log_second[:, row].max(axis=1) for row in allowed])
    best_first = np.column_stack([log_first[:, column].max(axis=1) for column in allowed.T])
    return _softmax(log_first + best_second), _softmax(log_second + best_first)


# The longest stretch of a report whose character n-grams are listed at once (`_char_tfidf`).
_CHAR_PIECE = 100_000


def _char_tfidf(vectorizer: Any, texts: Sequence[str], piece: int = _CHAR_PIECE) -> Any:
    """`vectorizer.transform(texts)` for the character n-grams within words (`_CHAR_SETTINGS`), a long
    text counted in pieces cut at whitespace: scikit-learn lists every n-gram of a text before
    counting (about 60 million strings, gigabytes, for a 20-million-character report), and the
    counts of pieces cut between words add up to the text's. The sum of the counts then weighed as
    `vectorizer` weighs them (sublinear term frequency, its idf, unit length)."""
    from scipy.sparse import csr_matrix
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.preprocessing import normalize

    parts: list[str] = []
    owners: list[int] = []
    for i, text in enumerate(texts):
        start = 0
        while len(text) - start > piece:
            cut = max(text.rfind(space, start, start + piece) for space in " \n\t\r")
            cut = start + piece if cut <= start else cut
            parts.append(text[start:cut])
            owners.append(i)
            start = cut
        parts.append(text[start:])
        owners.append(i)
    counts = CountVectorizer.transform(vectorizer, parts)  # the raw counts, vocabulary and analyzer its own
    summed = csr_matrix((np.ones(len(parts)), (owners, range(len(parts)))), shape=(len(texts), len(parts)))
    counts = (summed @ counts).astype(np.float64)
    counts.data = np.log(counts.data) + 1.0  # sublinear_tf
    return normalize(counts.multiply(vectorizer.idf_).tocsr()).astype(vectorizer.dtype)


def _softmax(values: np.ndarray) -> np.ndarray:
    values = values - values.max(axis=1, keepdims=True)
    exp = np.exp(values)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True))


# Features derived from an extracted field, and the field whose span is their evidence.
_DERIVED_FROM = {"__tnm_stage_": "pT", "__size_T_": "tumor_size_mm"}


def _term_span(text: str, term: str, fields: dict[str, Any]) -> tuple[int | None, int | None]:
    """Where a feature is in the text: an extracted field's own evidence for `__field_value` tokens,
    the first such mention for a named site's (`_site_features`; crossed too: `...@COAD`), else the
    first occurrence of the words."""
    if term.startswith(_NAMED_SITE):
        role, code = term[len(_NAMED_SITE) :].split("@")[0].rsplit("_", 1)
        found = ((a, b) for a, b, c, r in named_sites(text, fields) if (r, c) == (role, code))
        return next(found, (None, None))
    if term.startswith("__"):
        name = max((f for f in FIELDS if term.startswith(f"__{f}_")), key=len, default=None)
        name = next((field for prefix, field in _DERIVED_FROM.items() if term.startswith(prefix)), name)
        field = fields.get(name) if name else None
        return (field["start"], field["end"]) if field else (None, None)
    match = re.search(r"(?i)\b" + re.escape(term).replace(r"\ ", r"\s+") + r"\b", text)
    return (match.start(), match.end()) if match else (None, None)


def field_scores(gold: Sequence[str], predicted: Sequence[str | None]) -> dict[str, float]:
    """Accuracy and macro-F1 of one field (a missing prediction counts as wrong: it lowers the recall
    of the true value; macro-F1 averages over the values in `gold`, so "no value" is not a class)."""
    from sklearn.metrics import f1_score

    guesses = [str(p or "") for p in predicted]
    labels = sorted(set(gold))
    return {
        "accuracy": round(float(np.mean([g == p for g, p in zip(gold, guesses, strict=True)])), 4),
        "macro_f1": round(float(f1_score(gold, guesses, labels=labels, average="macro", zero_division=0)), 4),
    }


def score_predictions(
    records: Sequence[dict[str, str]], predicted: Sequence[dict[str, Any]], targets: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Per field: the reports with a recorded value (`labelled`) and `field_scores` over them."""
    out = {}
    for target in targets:
        index = [i for i, r in enumerate(records) if r.get(target, "") not in _MISSING]
        if not index:
            continue
        gold = [records[i][target] for i in index]
        out[target] = {
            "labelled": len(index),
            **field_scores(gold, [predicted[i].get(target) for i in index]),
        }
    return out


def evaluate(
    coder: PathologyCoder, texts: Sequence[str], records: Sequence[dict[str, str]]
) -> dict[str, Any]:
    """`score_predictions` of `coder` on labelled reports, for every field it codes; for a coder with
    review thresholds also `selective_scores` (how many are auto-coded and how right those are)."""
    scored = coder.scored(texts)
    predicted = [{t: coded.value for t, coded in row.items()} for row in scored]
    out = score_predictions(records, predicted, list(coder.models_))
    for target, entry in out.items():
        threshold = coder.effective_threshold(target)
        if threshold is not None:
            entry.update(selective_scores(records, scored, target, threshold))
    return out


def selective_scores(
    records: Sequence[dict[str, str]],
    scored: Sequence[dict[str, Coded]],
    target: str,
    threshold: float,
) -> dict[str, Any]:
    """Of the reports with a recorded `target`: the share whose value's confidence is at least `threshold`
    (`auto_coded`; withheld reports, values the report states differently and values below it go to
    review) and the accuracy on those (`auto_accuracy`, None when none is)."""
    labelled, pairs = scored_pairs(records, scored, target)
    right = [ok for confidence, ok, _ in pairs if confidence >= threshold]
    return {
        "review_threshold": round(threshold, 4) if np.isfinite(threshold) else None,
        "auto_coded": round(len(right) / max(1, labelled), 4),
        "auto_accuracy": round(float(np.mean(right)), 4) if right else None,
    }


def scored_pairs(
    records: Sequence[dict[str, str]], scored: Sequence[dict[str, Coded]], target: str
) -> tuple[int, list[tuple[float, bool, str]]]:
    """How many reports have a recorded `target`, and for each of them with a scored value (`scored`
    rows) the report does not state differently, its confidence (the score for a coder without
    calibration), whether it equals the record and its `agreement` with the report."""
    labelled = 0
    pairs = []
    for record, row in zip(records, scored, strict=True):
        gold = record.get(target, "")
        if gold in _MISSING:
            continue
        labelled += 1
        coded = row.get(target)
        if coded is not None and coded.confidence is not None and not coded.stated_differently:
            pairs.append((coded.confidence, coded.value == gold, coded.agreement))
    return labelled, pairs


def calibrate(pairs: Sequence[tuple[float, bool, str]]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """From held-out (score, right, agreement) triples, per agreement group with `_MIN_GROUP` codes or
    more and over all of them (`*`): the isotonic regression of being right on the score, as its
    breakpoints (`calibrated` interpolates between them). A classifier's score means different things
    for a value the report states and one it does not: calibrated per group, one threshold over the
    confidences keeps the codes most likely right, whatever the group."""
    from sklearn.isotonic import IsotonicRegression

    out = {}
    groups = {"*": list(pairs)}
    for group in AGREEMENTS:
        mine = [p for p in pairs if p[2] == group]
        if len(mine) >= _MIN_GROUP:
            groups[group] = mine
    for group, chosen in groups.items():
        fitted = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
            [p[0] for p in chosen], [float(p[1]) for p in chosen]
        )
        out[group] = (
            np.asarray(fitted.X_thresholds_, dtype=float),
            np.asarray(fitted.y_thresholds_, dtype=float),
        )
    return out


def calibrated(calibration: dict[str, tuple[np.ndarray, np.ndarray]], score: float, group: str) -> float:
    """The confidence `calibrate`'s fit gives a score of an agreement group (its own fit, or the
    pooled one where the group had too few codes)."""
    xs, ys = calibration.get(group, calibration["*"])
    # the fit is a step function: within a step the score still orders the codes (a tiny tie-break), so
    # a threshold can fall inside a step as it could on the raw scores (measured: whole steps cost
    # 3-5 points of auto-coded site and histology at their targets; docs/benchmarks.md)
    return min(1.0, max(0.0, float(np.interp(score, xs, ys)) + _TIE_BREAK * score))
