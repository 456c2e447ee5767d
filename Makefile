# The targets people type. Everything installs itself into .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python

.PHONY: run test lint typecheck unit unit-pure bench soak docker docker-test clean

# The rule engine's modules are compiled with mypyc by the install (setup.py); editing one
# reinstalls, so the compiled module never lags behind its source.
COMPILED := bot/rules/text.py bot/rules/matcher.py bot/rules/engine.py bot/rules/prefilter.py bot/rules/accel.py

$(VENV)/.runtime: pyproject.toml setup.py $(COMPILED)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.test: pyproject.toml setup.py $(COMPILED)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.runtime

## run: the service once on the embedded default (replays config/sample, prints the digest)
run: $(VENV)/.runtime
	$(BIN)/convoywatch run --once

## test: lint, type-check, architecture contract, the whole test suite (compiled rule engine),
##       and the rule engine's tests again on its pure-Python modules
test: lint typecheck unit unit-pure

lint: $(VENV)/.test
	$(BIN)/ruff format --check bot tests bench
	$(BIN)/ruff check bot tests bench
	$(BIN)/lint-imports

typecheck: $(VENV)/.test
	$(BIN)/mypy

unit: $(VENV)/.test
	$(BIN)/pytest -q

## unit-pure: the rule engine's tests on the Python modules (what runs where no compiler built them)
PURE := $(shell mktemp -d -u /tmp/convoywatch-pure.XXXXXX)
unit-pure: $(VENV)/.test
	mkdir -p $(PURE) && cp -r bot $(PURE)/ && rm -f $(PURE)/bot/rules/*.so
	CONVOYWATCH_EXPECT_PURE=1 PYTHONPATH=$(PURE) $(BIN)/pytest -q -p no:cacheprovider --import-mode=importlib \
	  tests/unit/test_matcher.py tests/unit/test_prefilter.py tests/unit/test_accel.py tests/unit/test_text.py \
	  tests/unit/test_rules_engine.py tests/unit/test_rules_evaluation.py tests/unit/test_rules_corpora.py \
	  tests/unit/test_fuzz_text.py tests/unit/test_seeds.py
	rm -rf $(PURE)

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
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis build *.so bot/rules/*.so
