"""The ICD-10-CM knowledge base: building it from the FY2026 tables, and the term index the linker uses.

Build (a CLI step, `nlp-engine vocab build`, needs the `kb` extra: `simple-icd-10-cm`):

- `vocab/icd10cm_kb.jsonl.gz`: one record per billable code, in scispaCy's KB shape
  `{"concept_id", "canonical_name", "aliases", "types", "definition"}`; aliases are the code's
  inclusion terms, its category's title when it is the category's unspecified code, and curated
  clinical synonyms and abbreviations from `vocab/icd10cm_synonyms.jsonl`.
- `vocab/icd10cm_terms.tsv.gz`: the matcher's index, precomputed so loading takes well under seconds:
  `T<TAB>code<TAB>title` rows, then `K<TAB>key<TAB>term<TAB>code:score,...` rows, where `key` is the
  sorted bag of normalized content tokens (so word order and plurals do not matter), or `=` plus the
  exact text for case-sensitive abbreviations (`=MI`).
"""

from __future__ import annotations

import gzip
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .resources import open_text, read_jsonl

KB_FILE = "icd10cm_kb.jsonl.gz"
TERMS_FILE = "icd10cm_terms.tsv.gz"
SYNONYMS_FILE = "vocab:icd10cm_synonyms.jsonl"
STOPTERMS_FILE = "vocab:icd10cm_stopterms.jsonl"
MAX_CODES_PER_TERM = 10

# Tokens dropped from keys: function words and punctuation that do not change what a term means.
STOP_TOKENS = frozenset(
    [
        "of",
        "the",
        "in",
        "on",
        "to",
        "for",
        "by",
        "at",
        "an",
        "'s",
        "-",
        "/",
        ",",
        "(",
        ")",
        "[",
        "]",
        ";",
        ":",
        ".",
        "'",
        '"',
        "nos",
        "unspecified",
        "site",
    ]
)
# Single words too generic to be a concept by themselves, whatever ICD-10-CM titles say.
GENERIC_SINGLE = frozenset(
    [
        "other",
        "disease",
        "disorder",
        "condition",
        "status",
        "history",
        "encounter",
        "examination",
        "problem",
        "finding",
        "findings",
        "complication",
        "complications",
        "syndrome",
        "state",
        "care",
        "activity",
        "use",
        "abuse",
        "injury",
        "type",
        "unspecified",
        "follow",
        "screening",
        "observation",
        "supervision",
        "counseling",
        "contact",
        "exposure",
        "dependence",
        "mass",
        "lesion",
        "abnormal",
        "abnormality",
        "change",
        "changes",
        "deficiency",
        "failure",
        "infection",
        "malignant",
        "neoplasm",
        "tumor",
        "cancer",
        "carcinoma",
        "effect",
        "effects",
        "sequela",
        "presence",
        "absence",
        "fracture",
        "wound",
        "burn",
        "poisoning",
        "a",
        "b",
        "c",
        "right",
        "left",
        "bilateral",
        "acute",
        "chronic",
        "primary",
        "secondary",
    ]
)
_IRREGULAR = {
    "metastases": "metastasis",
    "diagnoses": "diagnosis",
    "neoplasms": "neoplasm",
    "lymphomata": "lymphoma",
    "carcinomata": "carcinoma",
    "feet": "foot",
    "teeth": "tooth",
    "children": "child",
    "women": "woman",
    "men": "man",
    "vertebrae": "vertebra",
    "bronchi": "bronchus",
    "emboli": "embolus",
    "thrombi": "thrombus",
    "calculi": "calculus",
    "stenoses": "stenosis",
    "diverticula": "diverticulum",
    "ova": "ovum",
    "fibroids": "fibroid",
    "leaves": "leaf",
}
_KEEP_S = ("ss", "us", "is", "os")
_MEASUREMENT_FINDING = re.compile(
    r"(?i)(elevated|abnormal|low|high|decreased|increased|raised|nonspecific)\b"
)
_ABBREVIATION = re.compile(r"[A-Z0-9][A-Z0-9+\-/]{1,7}")
# Singular words that end in "as"; other "-as" words are plurals (carcinomas, lymphomas).
_SINGULAR_AS = frozenset({"pancreas", "gas", "atlas", "bias", "alias", "vas", "has", "was", "as", "canvas"})


def normalize_token(text: str) -> str:
    """Lower-case and singularize one token; shared by index building and matching."""
    low = text.lower()
    if low in _IRREGULAR:
        return _IRREGULAR[low]
    if low in _SINGULAR_AS:
        return low
    if len(low) > 4 and low.endswith("ies"):
        return low[:-3] + "y"
    if len(low) > 4 and low.endswith(("ches", "shes", "sses", "xes")):
        return low[:-2]
    if len(low) > 3 and low.endswith("s") and not low.endswith(_KEEP_S) and low[-2].isalpha():
        return low[:-1]
    return low


def term_key(tokens: Iterable[str]) -> str:
    """The index key of a token sequence: sorted normalized content tokens joined by spaces."""
    content = [normalize_token(t) for t in tokens if t.strip() and t.lower() not in STOP_TOKENS]
    return " ".join(sorted(content))


@dataclass
class TermIndex:
    """What the linker needs: code titles and `key -> (term, [(code, score), ...])`."""

    titles: dict[str, str] = field(default_factory=dict)
    terms: dict[str, tuple[str, list[tuple[str, float]]]] = field(default_factory=dict)
    exact: dict[str, tuple[str, list[tuple[str, float]]]] = field(default_factory=dict)

    @classmethod
    def load(cls, ref: str | Path) -> TermIndex:
        with open_text(ref) as handle:
            return cls.parse(handle)

    @classmethod
    def from_bytes(cls, data: bytes) -> TermIndex:
        """Parse the gzipped index file's bytes (as shipped in a pickled or saved component)."""
        return cls.parse(gzip.decompress(data).decode("utf-8").splitlines())

    @classmethod
    def parse(cls, lines: Iterable[str]) -> TermIndex:
        index = cls()
        for line in lines:
            parts = line.rstrip("\n").split("\t")
            if parts[0] == "T":
                index.titles[parts[1]] = parts[2]
            elif parts[0] == "K":
                codes = [(c, float(s)) for c, _, s in (x.rpartition(":") for x in parts[3].split(","))]
                if parts[1].startswith("="):
                    index.exact[parts[1][1:]] = (parts[2], codes)
                else:
                    index.terms[parts[1]] = (parts[2], codes)
        return index

    def write(self, path: Path) -> None:
        with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as out:
            for code, title in sorted(self.titles.items()):
                out.write(f"T\t{code}\t{title}\n")
            for prefix, table in (("", self.terms), ("=", self.exact)):
                for key, (term, codes) in sorted(table.items()):
                    joined = ",".join(f"{c}:{s:.3f}" for c, s in codes)
                    out.write(f"K\t{prefix}{key}\t{term}\t{joined}\n")


# ---------------------------------------------------------------------------------------------
# Building


def _title_variants(title: str) -> list[str]:
    """Spellings of an ICD-10-CM title as clinicians write it."""
    variants = {title}
    base = re.sub(r",?\s*\b(unspecified|not elsewhere classified|NOS)\b", "", title, flags=re.I).strip(" ,")
    base = re.sub(r"\s+without (complications?|mention of [a-z ]+|\w+ behavior)$", "", base, flags=re.I)
    variants.add(base)
    for text in list(variants):
        # "Estrogen receptor positive status [ER+]": the bracketed abbreviation is a name of its own.
        # Only abbreviations (no lower case): other brackets hold qualifiers such as "[any part]". And
        # not the name of a test in a finding about it: "Elevated prostate specific antigen [PSA]".
        if not _MEASUREMENT_FINDING.match(text):
            variants.update(m.strip() for m in re.findall(r"\[([^\]a-z]{2,20})\]", text))
        variants.add(re.sub(r"\s*\[[^\]]*\]", "", text))
    for text in list(variants):
        variants.add(re.sub(r"\s*\([^)]*\)", "", text))  # "Essential (primary) hypertension"
        variants.add(text.replace("(", "").replace(")", ""))
    for text in list(variants):
        if text.count(",") == 1:  # "Diabetes mellitus, type 2" -> "type 2 Diabetes mellitus"
            head, tail = (p.strip() for p in text.split(","))
            variants.add(f"{tail} {head}")
    return sorted(v for v in variants if v)


def _is_unspecified_child(title: str, code: str) -> bool:
    low = title.lower()
    return "unspecified" in low or "without complication" in low or code.endswith(("9", ".0"))


def build_kb(
    out_dir: Path,
    tokenize: Callable[[str], list[str]],
    synonyms: str | Path = SYNONYMS_FILE,
    stopterms: str | Path = STOPTERMS_FILE,
) -> dict[str, int]:
    """Build the KB and term index into `out_dir`; returns counts for the CLI to print."""
    try:
        import simple_icd_10_cm as cm
    except ImportError as exc:  # pragma: no cover - exercised by hand
        from .errors import MissingResourceError

        raise MissingResourceError(
            "building the KB needs `pip install simple-icd-10-cm==1.5.0` (the `kb` extra)"
        ) from exc

    all_codes = cm.get_all_codes(with_dots=True)
    # Leaves that are codes; the tables also hold an empty block ("V00-X58") that looks like a leaf.
    billable = [
        c
        for c in all_codes
        if cm.is_leaf(c) and (cm.is_category_or_subcategory(c) or cm.is_extended_subcategory(c))
    ]
    records: dict[str, dict[str, object]] = {}
    # term text -> {code: score}; score encodes where the term came from.
    term_codes: dict[str, dict[str, float]] = defaultdict(dict)

    def add_term(term: str, code: str, score: float) -> None:
        term = " ".join(term.split())  # some titles hold tabs and line breaks
        if term and score > term_codes[term].get(code, 0.0):
            term_codes[term][code] = score

    for code in billable:
        title = " ".join(cm.get_description(code).split())
        chapter = cm.get_ancestors(code)[-1] if cm.get_ancestors(code) else ""
        aliases = [t for t in cm.get_inclusion_term(code) if t]
        records[code] = {
            "concept_id": code,
            "canonical_name": title,
            "aliases": aliases,
            "types": [f"chapter:{chapter}"],
            "definition": None,
        }
        unspecified_bonus = 0.02 if "unspecified" in title.lower() else 0.0
        for variant in _title_variants(title):
            add_term(variant, code, (0.95 if variant == title else 0.9) + unspecified_bonus)
        for alias in aliases:
            for variant in _title_variants(alias):
                add_term(variant, code, 0.85 + unspecified_bonus)
    # A category's title names its unspecified (or only) billable child: "Type 2 diabetes mellitus" -> E11.9.
    for code in all_codes:
        if not cm.is_category_or_subcategory(code) or cm.is_leaf(code):
            continue
        children = [c for c in cm.get_children(code) if c in records]
        target = next((c for c in children if _is_unspecified_child(cm.get_description(c), c)), None)
        if target is None and len(children) == 1:
            target = children[0]
        if target is not None:
            for variant in _title_variants(cm.get_description(code)):
                add_term(variant, target, 0.8)
                records[target]["aliases"].append(variant)  # type: ignore[attr-defined]

    n_synonyms = 0
    exact: dict[str, dict[str, float]] = defaultdict(dict)
    for rec in read_jsonl(
        synonyms, required=frozenset({"term", "code"}), optional=frozenset({"case_sensitive", "note"})
    ):
        code = rec["code"]
        if code not in records:
            from .errors import RuleFileError

            raise RuleFileError(
                f"{synonyms}: synonym {rec['term']!r} names {code!r}, which is not a billable ICD-10-CM code"
            )
        n_synonyms += 1
        records[code]["aliases"].append(rec["term"])  # type: ignore[attr-defined]
        if rec.get("case_sensitive"):
            exact[rec["term"]][code] = 1.0
        else:
            add_term(rec["term"], code, 1.0)

    # Terms that ICD-10-CM titles produce but that mean something else in reports ("fat pad").
    stop_keys = {
        term_key(tokenize(rec["term"]))
        for rec in read_jsonl(stopterms, required=frozenset({"term"}), optional=frozenset({"note"}))
    }
    index = TermIndex(titles={c: str(r["canonical_name"]) for c, r in records.items()})
    keyed: dict[str, dict[str, float]] = defaultdict(dict)
    # The term shown for a key: highest score, then shortest, then alphabetical (deterministic).
    key_term: dict[str, tuple[float, int, str]] = {}
    for term, codes in term_codes.items():
        if _ABBREVIATION.fullmatch(term) and not term.isdigit():
            # Upper-case abbreviations from titles and inclusion terms ("[ER+]", "PR+", "TNBC") match
            # exact text only, like curated ones: "ada" or "amh" in lower case are not ADA or AMH.
            for code, score in codes.items():
                exact[term][code] = max(score, exact[term].get(code, 0.0))
            continue
        key = term_key(tokenize(term))
        curated = max(codes.values()) >= 1.0
        if not key or key in stop_keys:
            continue
        if not curated and " " not in key and (key in GENERIC_SINGLE or len(key) < 3 or key.isdigit()):
            continue
        for code, score in codes.items():
            if score > keyed[key].get(code, 0.0):
                keyed[key][code] = score
        rank = (-max(codes.values()), len(term), term)
        if key not in key_term or rank < key_term[key]:
            key_term[key] = rank
    for key, codes in keyed.items():
        ranked = sorted(codes.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[:MAX_CODES_PER_TERM]
        index.terms[key] = (key_term[key][2], ranked)
    for term, codes in exact.items():
        if len(codes) > 3 and max(codes.values()) < 1.0:
            continue  # an uncurated abbreviation shared by many codes ("BMI") names none of them
        index.exact[term] = (term, sorted(codes.items(), key=lambda kv: (-kv[1], kv[0])))

    out_dir.mkdir(parents=True, exist_ok=True)
    with gzip.open(out_dir / KB_FILE, "wt", encoding="utf-8", compresslevel=9) as out:
        for code in sorted(records):
            out.write(json.dumps(records[code], ensure_ascii=False) + "\n")
    index.write(out_dir / TERMS_FILE)
    return {
        "codes": len(records),
        "terms": len(index.terms),
        "exact_terms": len(index.exact),
        "synonyms": n_synonyms,
    }
