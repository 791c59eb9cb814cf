# Two commands on a fresh machine: `make demo` and `make test`.
VENV := .venv
UV_VERSION := 0.9.30

.PHONY: install browser demo lint test test-fast bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml uv.lock
	python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv==$(UV_VERSION)
	python3 -m uv sync --frozen
	touch $@

demo: install
	$(VENV)/bin/fhir-gateway demo --reset

# Browser tests drive Debian's Chromium (Playwright's own browser download does not work offline).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium chromium-driver; }

# ruff: the formatting and the lint rules configured in pyproject.toml.
lint: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

test: lint browser
	$(VENV)/bin/pytest

# Everything but the browser tests (marked `browser` in tests/conftest.py): no Chromium needed.
test-fast: lint
	$(VENV)/bin/pytest -m "not browser"

bench: install
	$(VENV)/bin/python -m bench.run
	$(VENV)/bin/python -m bench.oauth

clean:
	rm -rf $(VENV) var .pytest_cache
