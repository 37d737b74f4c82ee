# Two commands on a fresh machine (Python 3.11, pip, make):
#   make demo   - set up .venv and process the bundled sample reports (JSONL + SQLite in out/demo)
#   make test   - set up .venv and run the test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/nlp-engine process corpora/samples --out out/demo
	$(VENV)/bin/nlp-engine pathology extract corpora/samples --include 'path_*' --out out/demo/pathology --format jsonl,csv,fhir

test: $(STAMP)
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	$(PY) benchmarks/throughput.py
	$(PY) benchmarks/context_eval.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
