# make run: install, then a default sweep on embedded data. make test: install, then the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install bench clean

install: $(STAMP)

# The venv is made once; the project is re-installed whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: install
	$(BIN)/hpo run binary

test: install
	$(BIN)/pytest

bench: install
	$(BIN)/python -m benchmarks.overhead

clean:
	rm -rf $(VENV) ray_results mlflow.db mlartifacts
