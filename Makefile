# The two commands of the README:  make demo   and   make test.
# Each creates the virtual environment it needs (.venv) and installs the project into it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
PYTEST_ARGS ?=

.PHONY: demo serve test lint venv browser clean-workspace

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -U pip
	$(BIN)/python -m pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

venv: $(STAMP)

## make demo: demo business -> sync -> snapshots -> reports -> dashboards, in ./workspace (SQLite)
demo: venv
	$(BIN)/analytics --workspace workspace demo --size small --seed 7

## make serve: the same, then keep the dashboards running
serve: venv
	$(BIN)/analytics --workspace workspace demo --size small --seed 7 --serve

## make test: every test, on SQLite and (when reachable) PostgreSQL, with browser checks in Chromium
test: venv browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

# Debian's chromium for the dashboard checks (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium not installed and not root: browser tests will be skipped"; fi; }

clean-workspace:
	rm -rf workspace
