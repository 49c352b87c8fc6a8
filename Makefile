# The two commands that matter:  `make run` (the service on the embedded default) and
# `make test` (the whole suite).  Both set up everything they need from nothing.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
export RAY_USAGE_STATS_ENABLED := 0

.PHONY: setup setup-test system-deps run test test-unit check format bench clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

# Tests add pytest, Playwright and the 'hf' extra (torch CPU + transformers) for the
# tiny-model backend test.
$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install -q -e '.[test,hf]'
	touch $@

setup: $(VENV)/.installed

setup-test: $(VENV)/.installed-test system-deps

# Debian packages the tests use: Chromium for the page, FFmpeg to serve live test streams.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v ffmpeg >/dev/null || missing="$$missing ffmpeg"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

run: setup
	@echo "Starting the service: open http://127.0.0.1:8000/ (Ctrl-C to stop)"
	$(PY) -m deployments.launch serve_config.yaml

test: setup-test
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc = 5 ]; then echo "no tests selected"; exit 0; fi; exit $$rc

test-unit: setup-test
	$(PY) -m pytest -q tests/unit

check: setup-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup-test
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: setup-test
	$(PY) -m benchmarks.sync_error

clean:
	rm -rf $(VENV) test-output .pytest_cache
