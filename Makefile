# 关爱 (guanai) — the two commands of the README are `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test lint pytest browser-test bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

## demo: migrate, load regions, seed a small demo, create demo users, serve on http://127.0.0.1:8000
demo: $(STAMP)
	$(BIN)/guanai demo

## test: static checks, then the whole test suite (SQLite unless DATABASE_URL says otherwise)
test: lint pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy guanai bench
	$(BIN)/guanai makemigrations --check --dry-run

pytest: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

## browser-test: only the slow real-browser tests (chromium + Playwright)
browser-test: $(STAMP)
	$(BIN)/pytest -m browser

## bench: the benchmarks in bench/ (results go to docs/benchmarks.md by hand)
bench: $(STAMP)
	$(BIN)/python -m bench.seed

clean:
	rm -rf $(VENV) var build *.egg-info
