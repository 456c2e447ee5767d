# The targets people type. Everything installs itself into .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python

.PHONY: run test lint typecheck unit bench soak docker docker-test clean

$(VENV)/.runtime: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.test: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.runtime

## run: the service once on the embedded default (replays config/sample, prints the digest)
run: $(VENV)/.runtime
	$(BIN)/convoywatch run --once

## test: lint, type-check, architecture contract and the whole test suite
test: lint typecheck unit

lint: $(VENV)/.test
	$(BIN)/ruff format --check bot tests bench
	$(BIN)/ruff check bot tests bench
	$(BIN)/lint-imports

typecheck: $(VENV)/.test
	$(BIN)/mypy

unit: $(VENV)/.test
	$(BIN)/pytest -q

## bench: classification throughput, one-pass rules vs one regex per term, on a stress mix (10% reports) and a
##        channel mix (1.5% reports) (BENCH_POSTS=5000 for a quick run),
##        then end-to-end replay of REPLAY_POSTS generated posts on one core + live latency at 100 posts/s
REPLAY_POSTS ?= 1000000
bench: $(VENV)/.runtime
	$(PY) bench/bench_classify.py
	$(PY) bench/bench_classify.py --mix channel --naive-posts 200
	$(PY) -m bench.bench_replay --posts $(REPLAY_POSTS)

## soak: SIGKILL `convoywatch replay` and `digest --send` SOAK_KILLS times each, restart, compare with a clean run
SOAK_KILLS ?= 50
soak: $(VENV)/.runtime
	$(PY) -m bench.crash_soak --kills $(SOAK_KILLS) --digest-kills $(SOAK_KILLS)

## docker: build the image with a Docker engine
docker:
	docker build -t convoywatch:latest .

## docker-test: build the Dockerfile and run the image with buildah, no Docker engine (root; not in CI)
docker-test:
	bash docker/docker-test.sh

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
