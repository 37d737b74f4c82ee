from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlp_engine.cli import app
from nlp_engine.kb import TermIndex, normalize_token, term_key
from nlp_engine.resources import resolve


@pytest.mark.parametrize(
    ("word", "norm"),
    [
        ("Nodes", "node"),
        ("arteries", "artery"),
        ("metastases", "metastasis"),
        ("masses", "mass"),
        ("diabetes", "diabete"),
        ("pancreas", "pancreas"),
        ("polyps", "polyp"),
    ],
)
def test_normalize_token(word: str, norm: str) -> None:
    assert normalize_token(word) == norm


def test_term_key_ignores_order_case_plural_and_function_words() -> None:
    assert term_key(["Carcinoma", "of", "the", "prostate"]) == term_key(["prostate", "carcinomas"])


def test_shipped_kb_covers_all_billable_codes() -> None:
    with gzip.open(resolve("vocab:icd10cm_kb.jsonl.gz"), "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    assert len(records) > 74_000
    assert "V00-X58" not in {r["concept_id"] for r in records}  # a block, not a code
    assert set(records[0]) == {"concept_id", "canonical_name", "aliases", "types", "definition"}
    by_code = {r["concept_id"]: r for r in records}
    assert "CHF" in by_code["I50.9"]["aliases"]
    assert by_code["E11.9"]["canonical_name"] == "Type 2 diabetes mellitus without complications"


def test_vocab_build_reproduces_the_shipped_index(tmp_path: Path) -> None:
    pytest.importorskip("simple_icd_10_cm", reason="building the KB needs the `kb` extra")
    result = CliRunner().invoke(app, ["vocab", "build", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    built = TermIndex.load(tmp_path / "icd10cm_terms.tsv.gz")
    shipped = TermIndex.load("vocab:icd10cm_terms.tsv.gz")
    assert built.terms == shipped.terms and built.exact == shipped.exact and built.titles == shipped.titles


def test_synonym_with_unknown_code_is_rejected(tmp_path: Path) -> None:
    pytest.importorskip("simple_icd_10_cm", reason="building the KB needs the `kb` extra")
    bad = tmp_path / "syn.jsonl"
    bad.write_text(json.dumps({"term": "zzz", "code": "Q99.999"}) + "\n")
    result = CliRunner().invoke(app, ["vocab", "build", "--out", str(tmp_path / "o"), "--synonyms", str(bad)])
    assert result.exit_code == 2
    assert "Q99.999" in result.output and "not a billable" in result.output
