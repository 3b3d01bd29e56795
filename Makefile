# embedscope: `make demo` and `make test` set up everything on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
STATIC := src/embedscope/server/static/index.html
WIDGET := src/embedscope/widget_static/widget.js
IMAGES := data/images/node_modules/.installed
WEB_SRC := $(shell find web/src web/test web/index.html web/package.json web/vite.config.ts web/vite.widget.config.ts web/tsconfig.json -type f 2>/dev/null)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup demo test test-fast lint chromium web web-test schema bench clean

## setup: virtualenv with the CPU build of torch (from this machine's disk), embedscope and its extras, built web app,
## sample images
setup: $(STAMP) $(STATIC) $(WIDGET) $(IMAGES)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[local,samples,e5,images,words,ann,notebook,ray,dev]'
	$(PY) -c 'from embedscope.projection.warm import warm_up; warm_up()'  # UMAP's kernels into numba's disk cache
	touch $@

# The sample images of `embedscope demo --images` (npm emoji-datasource-google: Noto Emoji PNGs, names, categories).
$(IMAGES): data/images/package.json data/images/package-lock.json
	cd data/images && npm ci --no-audit --no-fund --loglevel=error
	touch $@

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# One `npm run build` writes both the page and the notebook widget's module.
$(STATIC) $(WIDGET) &: web/node_modules/.installed $(WEB_SRC)
	cd web && npm run build

web: $(STATIC) $(WIDGET)

## schema: regenerate the front end's API types (web/src/data/schema.ts) from the server's routes, then rebuild
schema: $(STAMP)
	$(PY) -m embedscope.server.schema web/src/data/schema.ts

## web-test: unit tests of the front end's pure modules (vitest, web/test/)
web-test: web/node_modules/.installed
	cd web && npm test

## chromium: Debian's chromium for the browser tests (Playwright drives it; no browser download)
chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

## demo: embed the bundled sample (KJV verses) with the bundled offline model, serve http://127.0.0.1:8765
demo: setup
	$(VENV)/bin/embedscope demo embedscope-demo.scope

## test: lint + type check + every test (slow and browser tests included)
test: setup chromium lint web-test
	$(PY) -m pytest -q

## test-fast: the quick loop (no slow, no browser tests)
test-fast: setup lint web-test
	$(PY) -m pytest -q -m "not slow and not browser"

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: setup
	$(PY) bench/embed.py
	$(PY) bench/knn.py

clean:
	rm -rf $(VENV) web/node_modules data/images/node_modules src/embedscope/server/static src/embedscope/widget_static embedscope-demo.scope
