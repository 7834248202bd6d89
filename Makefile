# One command each: `make demo` (set up, then JupyterLab on the demo model) and `make test`
# (set up, then lint, type-check and the whole test suite). Both create .venv on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LAB_ARGS ?=
# JupyterLab refuses root unless told; containers and cloud VMs often run as root.
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: demo test lint typecheck pytest perf clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when the dependency list changes.
$(VENV)/.installed-jupyter: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[jupyter]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[jupyter,dev]"
	touch $@ $(VENV)/.installed-jupyter

demo: $(VENV)/.installed-jupyter
	@$(BIN)/python -c "import workbench; print('Demo model:', workbench.demo_model())"
	cd notebooks && ../$(BIN)/jupyter lab 01-quickstart.ipynb $(ROOT_ARGS) $(LAB_ARGS)

test: $(VENV)/.installed-dev
	$(MAKE) lint typecheck pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check workbench tests
	$(BIN)/ruff format --check workbench tests

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

pytest: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

perf: $(VENV)/.installed-dev
	for script in tests/perf/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
