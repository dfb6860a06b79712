# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
DEMO_CUSTOMERS ?= 300
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
# pytest-xdist workers, each with its own PostgreSQL database: one more than the machine's cores,
# since a worker often waits (for PostgreSQL, Chromium, pip). Here (2 cores): PostgreSQL 3:10 with
# 3 workers, 3:27 with 4, 3:34 with 2 (under some load); SQLite 2:22 with 3.
PYTEST_ARGS ?= -n $(shell echo $$(( $$(nproc) + 1 )))

PROJECT_FILES := pyproject.toml plugins/registry_ytj/pyproject.toml plugins/registry_bizweb/pyproject.toml

.PHONY: run test lint bench bench-quick load install install-dev install-load clean messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs again only when a pyproject.toml changed.
$(VENV)/.installed: $(PROJECT_FILES) | $(BIN)/python
	$(BIN)/pip install --quiet -e . -e plugins/registry_ytj -e plugins/registry_bizweb
	touch $@

$(VENV)/.installed-dev: $(PROJECT_FILES) | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]' -e plugins/registry_ytj -e plugins/registry_bizweb
	touch $@ $(VENV)/.installed

$(VENV)/.installed-load: $(PROJECT_FILES) | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,load]' -e plugins/registry_ytj -e plugins/registry_bizweb
	touch $@ $(VENV)/.installed-dev $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev
install-load: $(VENV)/.installed-load

# `make run` is development: a secret key is generated into instance/secret_key (production
# refuses to start without CUSTREG_SECRET_KEY; see the README's Security section).
run: export CUSTREG_ENV ?= development
run: install
	$(BIN)/flask --app wsgi custreg init-db
	$(BIN)/flask --app wsgi custreg demo --if-empty --customers $(DEMO_CUSTOMERS)
	@echo ""
	@echo "  Customer registry: http://$(HOST):$(PORT)/admin/"
	@echo ""
	$(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

# The whole suite on SQLite, then again on PostgreSQL when it is reachable
# (CI always runs both: see .ci/run, which sets REQUIRE_POSTGRES=1).
test: install-dev lint
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)
	@if $(BIN)/python -c "import psycopg; psycopg.connect('$(PG_TEST_URL)').close()" 2>/dev/null; then \
		echo "--- again on PostgreSQL ($(PG_TEST_URL))"; \
		CUSTREG_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest -q $(PYTEST_ARGS); \
	elif [ -n "$$REQUIRE_POSTGRES" ]; then \
		echo "PostgreSQL at $(PG_TEST_URL) is not reachable" >&2; exit 1; \
	else \
		echo "--- PostgreSQL not reachable at $(PG_TEST_URL); ran on SQLite only"; \
	fi

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# The full benchmark (100,000 customers; SQLite unless BENCH_ARGS="--database-url ...").
bench: install-dev
	$(BIN)/python -m bench $(BENCH_ARGS)

# CI's smoke test of the benchmark: 2,000 customers in a fresh SQLite file, results to a temp file.
bench-quick: install-dev
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(BIN)/python -m bench --quick --database-url "sqlite:///$$tmp/bench.db" --results "$$tmp/results.json"

# Load test: gunicorn (4 workers) on PostgreSQL, 50 locust users for 60 s (LOAD_ARGS="--customers N ...").
load: install-load
	$(BIN)/python -m bench.load $(LOAD_ARGS)

# Translations: extract the module's messages into the .pot, merge them into the fi and nb
# catalogues, compile the .mo files (committed, so that `pip install` ships them; tests/project/test_i18n.py
# checks all three are up to date). Keywords: the module's own helpers besides gettext & co.
I18N_DIR := custreg_admin/translations
I18N_DOMAIN := custreg_admin
I18N_POT := $(I18N_DIR)/$(I18N_DOMAIN).pot
I18N_KEYWORDS := -k _t -k _tn:1,2 -k _tp:1c,2 -k lazy_gettext -k lazy_ngettext:1,2 \
	-k lazy_pgettext:1c,2 -k ngettext_forms:1,2
I18N_EXTRACT := extract -F babel.cfg $(I18N_KEYWORDS) -c TRANSLATORS: --sort-by-file \
	--project=custreg-admin --copyright-holder="custreg-admin authors" --width=100

messages: install-dev
	$(BIN)/pybabel $(I18N_EXTRACT) -o $(I18N_POT) .
	$(BIN)/pybabel update -i $(I18N_POT) -d $(I18N_DIR) -D $(I18N_DOMAIN) --width=100 \
		--ignore-obsolete
	$(BIN)/pybabel compile -d $(I18N_DIR) -D $(I18N_DOMAIN) --statistics

clean:
	rm -rf $(VENV) instance *.egg-info
