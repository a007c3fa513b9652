# The two jobs of the README: `make demo` (the main job) and `make test` (the whole suite),
# and `make docs` (the documentation site, into site/, with no network).
# Each creates ./.venv on first use and installs what it needs into it.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test docs lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

demo: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[cli]'
	$(BIN)/backprop train mnist --out runs/mnist

test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[cli,lab,test,bench,sklearn,onnx,dask,numba,docs,notebook]'
	$(BIN)/ruff check src tests bench examples docs/hooks docs/course
	$(BIN)/mypy
	$(BIN)/pytest

docs: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	$(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) build dist site src/*.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
