# One command each: `make demo` (set up, then JupyterLab on the demo model) and `make test`
# (set up, then lint, type-check and the whole test suite). Both create .venv on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LAB_ARGS ?=
# JupyterLab refuses root unless told; containers and cloud VMs often run as root.
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: demo test lint typecheck pytest perf clean browsers node labextension
# Installing from a source checkout builds the JupyterLab extension and the graph viewer
# (node and npm; hatch_build.py); make reinstalls, and so rebuilds them, when sources change.
EXTENSION := extensions/jupyterlab
VIEWER := extensions/viewer
EXTENSION_SOURCES := $(wildcard $(EXTENSION)/src/* $(EXTENSION)/style/*) $(EXTENSION)/package.json \
	$(wildcard $(VIEWER)/src/*) $(VIEWER)/build.mjs $(VIEWER)/package-lock.json hatch_build.py

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when the dependency list changes.
$(VENV)/.installed-jupyter: pyproject.toml $(EXTENSION_SOURCES) | $(BIN)/python node
	rm -rf workbench/labextension workbench/graphview/bundle  # rebuilt by the install: sources changed
	$(BIN)/python -m pip install --quiet -e ".[jupyter]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(EXTENSION_SOURCES) | $(BIN)/python node
	rm -rf workbench/labextension workbench/graphview/bundle
	$(BIN)/python -m pip install --quiet -e ".[jupyter,dev,examples,ray]"
	touch $@ $(VENV)/.installed-jupyter

demo: $(VENV)/.installed-jupyter
	@$(BIN)/python -c "import workbench; print('Demo model:', workbench.demo_model())"
	cd notebooks && ../$(BIN)/jupyter lab 01-quickstart.ipynb $(ROOT_ARGS) $(LAB_ARGS)

test: $(VENV)/.installed-dev browsers
	$(MAKE) lint typecheck pytest

# Browser tests drive Debian's Chromium (Playwright must not download one) and, for the
# offline graph file, Debian's Firefox. Installed here when missing and apt is usable (CI
# runs as root); otherwise say how.
browsers:
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "The browser tests need Chromium: sudo apt-get install -y chromium (or set CHROMIUM=/path/to/chromium)"; exit 1; \
	  fi; }
	@command -v firefox-esr >/dev/null 2>&1 || command -v firefox >/dev/null 2>&1 || test -n "$$FIREFOX" || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq firefox-esr; \
	  else \
	    echo "The browser tests need Firefox: sudo apt-get install -y firefox-esr (or set FIREFOX=/path/to/firefox)"; exit 1; \
	  fi; }

# The extension's build needs node and npm (a wheel user needs neither). Installed here when
# missing and apt is usable; otherwise say how.
node:
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; \
	  else \
	    echo "Building the JupyterLab extension needs Node.js 20+ and npm: https://nodejs.org"; exit 1; \
	  fi; }

# Rebuild the extension after editing it (the editable install links nothing: reinstall).
labextension: | $(BIN)/python node
	cd $(EXTENSION) && npm install --no-audit --no-fund && PATH="$(CURDIR)/$(BIN):$$PATH" npm run build:prod
	$(BIN)/python -m pip install --quiet --no-deps -e .

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check workbench tests hatch_build.py
	$(BIN)/ruff format --check workbench tests hatch_build.py

# The core packages pass mypy --strict; the adapters pass mypy's checks as configured.
CORE := workbench/model workbench/ort workbench/feeds workbench/run workbench/bench workbench/loadtest \
	workbench/render workbench/report workbench/graphview workbench/tracking workbench/errors.py \
	workbench/text.py workbench/plots.py workbench/cache.py workbench/demo.py

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy
	$(BIN)/mypy --strict $(CORE)

pytest: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

perf: $(VENV)/.installed-dev
	for script in tests/perf/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache workbench/labextension workbench/graphview/bundle $(VIEWER)/node_modules \
	  $(EXTENSION)/node_modules $(EXTENSION)/lib $(EXTENSION)/tsconfig.tsbuildinfo
