# Two commands on a fresh machine: `make demo` and `make test`.
VENV := .venv
UV_VERSION := 0.9.30

.PHONY: install browser interop postgres demo lint test test-fast test-postgres bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml uv.lock
	python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv==$(UV_VERSION)
	python3 -m uv sync --frozen
	touch $@

demo: install
	$(VENV)/bin/fhir-gateway demo --reset

# Browser tests drive Debian's Chromium (Playwright's own browser download does not work offline) and the
# locked npm fhirclient in tests/browser/js (npm ci again only when its lock changes; no install scripts).
JS_DIR := tests/browser/js

browser: $(JS_DIR)/node_modules/.installed
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium chromium-driver; }

$(JS_DIR)/node_modules/.installed: $(JS_DIR)/package.json $(JS_DIR)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nodejs npm; }
	cd $(JS_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# The SMART Health Links interop tests run an independent implementation (npm kill-the-clipboard, locked in
# tests/interop/js) under Node; npm ci again only when its lock changes; no install scripts.
INTEROP_DIR := tests/interop/js

interop: $(INTEROP_DIR)/node_modules/.installed

$(INTEROP_DIR)/node_modules/.installed: $(INTEROP_DIR)/package.json $(INTEROP_DIR)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nodejs npm; }
	cd $(INTEROP_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# The tests start a throwaway PostgreSQL cluster (tests/pg_cluster.py) with initdb and pg_ctl from Debian's
# postgresql package, installed here when neither PATH nor /usr/lib/postgresql/*/bin has them.
postgres:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		{ apt-get update -qq && apt-get install -y -qq postgresql; }

# ruff: the formatting and the lint rules configured in pyproject.toml.
lint: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

test: lint browser interop postgres
	$(VENV)/bin/pytest
	$(MAKE) test-postgres

# The suite again with every database fixture on PostgreSQL (tests/conftest.py --store): every test that needs a
# database takes it from those fixtures (new_db_path and the named ones), so it runs on both engines; tests about
# SQLite itself (files, pragmas, query plans, the mover's source) are marked sqlite_only and skipped here. Left out,
# as they do not depend on the engine or are SQLite's by design: tests/browser (Chromium is slow; the pages run on
# both engines through the Flask tests), tests/interop (the SMART Health Links format, checked by Node), tests/bench
# (the floor and the profiler read the SQLite file itself) and tests/test_layers.py (imports only).
PG_TESTS := tests/gateway tests/smart_auth tests/bulk tests/fixtures tests/profiles tests/mappers tests/health_links \
	tests/test_conftest.py
test-postgres: install postgres
	$(VENV)/bin/pytest -m "not browser" --store=postgres $(PG_TESTS)

# Everything but the browser tests (marked `browser` in tests/conftest.py): no Chromium needed.
test-fast: lint interop postgres
	$(VENV)/bin/pytest -m "not browser"

bench: install postgres
	$(VENV)/bin/python -m bench.run
	$(VENV)/bin/python -m bench.oauth
	$(VENV)/bin/python -m bench.export --patients 10000

clean:
	rm -rf $(VENV) var .pytest_cache $(JS_DIR)/node_modules $(INTEROP_DIR)/node_modules
