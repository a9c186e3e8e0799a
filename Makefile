# `make run` and `make test` set up .venv on first use and reinstall only when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run test lint clean

$(STAMP): pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/conformance run

test: $(STAMP)
	$(VENV)/bin/python -m ruff check conformance tests
	$(VENV)/bin/python -m pytest -n auto

lint: $(STAMP)
	$(VENV)/bin/python -m ruff check conformance tests

clean:
	rm -rf $(VENV) reports/*.json reports/*.xml reports/*.md reports/*.html
