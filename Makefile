# fairdraw — one entry point for development and CI.
#
#   make run     serve http://127.0.0.1:8000 with the embedded store (ARGS=... passed on)
#   make test    the test suite (PYTEST_ARGS=... passed on)
#   make test-cluster  the integration tests again, against a Valkey cluster
#   make lint    ruff check, ruff format --check, mypy --strict
#   make fmt     format and autofix
#   make bench   every bench/bench_*.py in turn
#   make messages  extract the English messages, update every language's catalogue
#   make clean   build artefacts and caches (never var/, never .venv)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ARGS ?=
PYTEST_ARGS ?=

# Installs are redone only when pyproject.toml is newer than their stamp; the package
# itself is installed editable, so source changes never need a reinstall.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: run test test-cluster lint fmt bench messages clean venv deps dev-deps

run: $(RUN_STAMP)
	exec $(BIN)/fairdraw serve $(ARGS)

# pytest exits 5 when it collected no test: that is a broken selection, not a pass.
test: $(DEV_STAMP)
	@status=0; $(BIN)/pytest $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; \
	exit $$status

# The store, service and HTTP tests once more, on a cluster of three masters with a
# replica each started from the same valkey-server (tests/support/cluster.py): a script
# or transaction whose keys span hash slots fails there. The API fuzzer is left out: it
# asks the same store calls as the tests, 20,000 times over.
test-cluster: $(DEV_STAMP)
	FAIRDRAW_TEST_CLUSTER=1 $(BIN)/pytest tests/integration \
		--deselect tests/integration/test_api_fuzz.py $(PYTEST_ARGS)

# Every checker runs even when an earlier one fails, so one run shows every problem.
lint: $(DEV_STAMP)
	@status=0; \
	echo "+ ruff check ."; $(BIN)/ruff check . || status=1; \
	echo "+ ruff format --check ."; $(BIN)/ruff format --check . || status=1; \
	echo "+ mypy"; $(BIN)/mypy || status=1; \
	exit $$status

fmt: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(BENCH_STAMP)
	@set -e; found=0; \
	for script in bench/bench_*.py; do \
		[ -e "$$script" ] || continue; \
		found=1; echo "+ $$script"; $(BIN)/python "$$script"; \
	done; \
	if [ $$found -eq 0 ]; then echo "make bench: no bench/bench_*.py, nothing to run"; fi

# Messages marked in the code and templates (babel.cfg) go to messages.pot; each
# locale/<lang>/LC_MESSAGES/messages.po gains the new ones, untranslated, and loses the
# gone ones. The server reads the .po files; nothing is compiled (docs/operations.md).
LOCALE_DIR := src/fairdraw/locale
messages: $(RUN_STAMP)
	$(BIN)/pybabel extract --mapping-file=babel.cfg --keywords=N_ --project=fairdraw \
		--sort-by-file --width=100 --output-file=$(LOCALE_DIR)/messages.pot src/fairdraw
	$(BIN)/pybabel update --input-file=$(LOCALE_DIR)/messages.pot --output-dir=$(LOCALE_DIR) \
		--domain=messages --no-fuzzy-matching --ignore-obsolete --width=100

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache .hypothesis .coverage htmlcov
	find . -path ./$(VENV) -prune -o -path ./var -prune -o -path ./.git -prune -o \
		\( -name __pycache__ -o -name '*.egg-info' \) -type d -print -exec rm -rf {} +

venv: $(BIN)/python
deps: $(RUN_STAMP)
dev-deps: $(DEV_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { \
		echo "could not create $(VENV); on Debian: apt-get install python3-venv" >&2; \
		rm -rf $(VENV); exit 1; }

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check --quiet -e '.[dev]'
	touch $@

$(BENCH_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check --quiet -e '.[bench]'
	touch $@
