# The two jobs of the README: `make demo` (the main job) and `make test` (the whole suite).
# Each creates ./.venv on first use and installs what it needs into it.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

demo: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[cli]'
	$(BIN)/backprop train mnist --out runs/mnist

test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[cli,lab,test,bench,sklearn,onnx,dask]'
	$(BIN)/ruff check src tests bench examples
	$(BIN)/mypy
	$(BIN)/pytest

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
