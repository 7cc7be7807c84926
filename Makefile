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
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

run: install
	$(BIN)/hpo run binary

test: install
	$(BIN)/pytest

# The benchmark suite at sizes that fit 30 minutes on a 2-core machine; docs/benchmarks.md gives the
# commands of its full-size results.
bench: install
	$(BIN)/python -m benchmarks.throughput
	$(BIN)/python -m benchmarks.logging_cost
	$(BIN)/python -m benchmarks.overhead --trials 20 40 --repeats 1
	$(BIN)/python -m benchmarks.scale --trials 150 --small 20
	$(BIN)/python -m benchmarks.search --budget 50 --seeds 5 --tasks binary

clean:
	rm -rf $(VENV) ray_results mlflow.db mlartifacts
