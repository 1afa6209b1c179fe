# Two commands do all set-up on a fresh machine:
#   make run    install into .venv and start a chat on the embedded defaults
#   make test   install the dev extras and run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run serve test lint bench install install-dev browser

run: install
	$(BIN)/arbiter chat $(if $(CUSTOMER),--customer $(CUSTOMER),)

serve: install
	$(BIN)/arbiter serve $(if $(PORT),--port $(PORT),)

test: install-dev
	$(BIN)/pytest -n 2 -q

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy arbiter agent tools guardrails prompts sandbox api
	$(BIN)/mypy --explicit-package-bases tests benchmarks

install: $(VENV)/.installed
install-dev: browser $(VENV)/.installed-dev

# Debian's chromium, for the console's browser tests (Playwright drives it; no download).
browser:
	command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $@

bench: install-dev
	$(BIN)/python -m benchmarks.turn_latency
	$(BIN)/python -m benchmarks.ledger
	$(BIN)/python -m benchmarks.recording_overhead
	$(BIN)/python -m benchmarks.rules
	$(BIN)/python -m benchmarks.eval_speed
	$(BIN)/python -m benchmarks.serve_load
