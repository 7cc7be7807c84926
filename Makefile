# make run: install, then a default sweep on embedded data. make test: install, then the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test unit install bench bench-search clean

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

# The fast tests alone: no Ray, no MLflow server, no browser (about half a minute).
unit: install
	$(BIN)/pytest -m "not integration and not faults and not cluster and not browser"

# The benchmark suite at sizes that fit 30 minutes on a 2-core machine. The tables go to BENCH_OUT (each
# with its machine, date and load), the progress to the terminal; docs/benchmarks.md discusses them.
BENCH_OUT := docs/benchmarks/make-bench.md
bench: install
	mkdir -p docs/benchmarks
	echo "# make bench, started $$(date -u '+%Y-%m-%d %H:%M UTC')" > $(BENCH_OUT)
	$(BIN)/python -m benchmarks.throughput >> $(BENCH_OUT)
	$(BIN)/python -m benchmarks.logging_cost >> $(BENCH_OUT)
	$(BIN)/python -m benchmarks.overhead --trials 20 40 --repeats 1 >> $(BENCH_OUT)
	$(BIN)/python -m benchmarks.scale --trials 1000 --small 50 >> $(BENCH_OUT)
	$(BIN)/python -m benchmarks.search --budget 50 --seeds 5 --tasks binary \
		--methods "TPE + ASHA" "random + FIFO" "plain Optuna (TPE + Hyperband)" >> $(BENCH_OUT)
	echo "finished $$(date -u '+%Y-%m-%d %H:%M UTC')" >> $(BENCH_OUT)
	cat $(BENCH_OUT)

# Search efficiency where ASHA can act: the cnn on digits, the four searcher x scheduler pairs, 5 seeds of
# 90 s each (about 45 minutes on a 2-core machine). The table goes to docs/benchmarks/bench-search.md.
bench-search: install
	mkdir -p docs/benchmarks
	$(BIN)/python -m benchmarks.search --budget 90 --seeds 5 --tasks cnn \
		--methods "TPE + ASHA" "random + FIFO" "TPE + FIFO" "random + ASHA" > docs/benchmarks/bench-search.md
	cat docs/benchmarks/bench-search.md

clean:
	rm -rf $(VENV) ray_results mlflow.db mlartifacts
