# `make run` and `make test` set up .venv on first use and reinstall only when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run test test-all lint lint-spec requirements-doc clean browser

$(STAMP): pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/conformance run

# report.html's browser test drives Debian's chromium through Playwright (a browser is never downloaded):
# install it where this machine allows (root with apt-get); elsewhere that one test is skipped, except in CI.
browser:
	@test -x /usr/bin/chromium || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
		|| echo "note: /usr/bin/chromium is missing and cannot be installed here: the browser test is skipped"

# `make test` leaves out the `slow` tier (exhaustive campaigns) and the `campaign` tier (every finding replayed);
# `make test-all` is `make test` and then the slow tier, as CI runs it.
test: $(STAMP) browser
	$(VENV)/bin/python -m ruff check conformance tests
	$(VENV)/bin/python -m pytest -n auto -m "not slow and not campaign"

test-slow: $(STAMP) browser
	$(VENV)/bin/python -m pytest -n auto -m "slow and not campaign"

test-all: test test-slow

# Every finding of every fault replayed with every engine: about 15 minutes in one process, run by hand.
test-campaign: $(STAMP)
	$(VENV)/bin/python -m pytest -n auto -m campaign

lint: $(STAMP)
	$(VENV)/bin/python -m ruff check conformance tests

# The spec under the two linters API teams run, pinned in openapi/lint/package-lock.json (needs node and npm):
# Redocly CLI with its recommended rules, and Spectral with spectral:oas (a warning fails too).
lint-spec:
	cd openapi/lint && npm ci --no-audit --no-fund --silent && npm run --silent redocly && npm run --silent spectral

# docs/requirements.md is generated from the catalogue and the spec; a test fails while it is stale.
requirements-doc: $(STAMP)
	$(VENV)/bin/python -m conformance.contract.document > docs/requirements.md

clean:
	rm -rf $(VENV) reports/*.json reports/*.xml reports/*.md reports/*.html
