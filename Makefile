# The README's two commands: `make demo` and `make test`. Both work on a fresh
# machine with only Python 3.11+: they create .venv with uv and install what they need.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
CONVEYOR := $(VENV)/bin/conveyor
PYTEST_ARGS ?=
export CONVEYOR_HOME ?= $(CURDIR)/.conveyor

.PHONY: demo test lint reliability bench plan policy snapshots clean help cluster-build cluster-up cluster-down e2e

help:
	@echo "make demo         run the example training pipeline locally, twice (second run is cached)"
	@echo "make test         install everything and run lint + the whole test suite"
	@echo "make reliability  the full crash/fault/concurrency suite"
	@echo "make bench        benchmarks against kfp.local; results in bench/RESULTS.md"
	@echo "make cluster-up   a real single-node Kubernetes (built once from the Go proxy); cluster-down stops it"
	@echo "make e2e          the end-to-end tests on that cluster (docs/cluster.md)"

$(UV):
	python3 -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check "uv>=0.4"

# Runtime only (no Pulumi, no cloud SDKs) plus the example's scikit-learn/pandas.
$(VENV)/.runtime: pyproject.toml | $(UV)
	$(UV) pip install -q --compile-bytecode --python $(PY) -e ".[examples]"
	@touch $@

# Everything: runtime, cluster, infra, dev tools, kfp for the benchmark anchors.
$(VENV)/.dev: pyproject.toml | $(UV)
	$(UV) pip install -q --compile-bytecode --python $(PY) -e ".[dev,bench]"
	$(UV) pip check --python $(PY)
	@touch $@ $(VENV)/.runtime

demo: $(VENV)/.runtime
	@if ! $(PY) -c "import conveyor.executor" 2>/dev/null; then \
	  echo "make demo: the local runtime (conveyor.executor) is not in this checkout yet; nothing was run." >&2; exit 2; fi
	@echo "== cold run =="
	$(CONVEYOR) run pipelines/examples/training.py
	@echo "== warm run: every task comes from the cache, except the exit handler's notify (it runs every run) =="
	$(CONVEYOR) run pipelines/examples/training.py

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test: lint
	$(VENV)/bin/pytest -q $(PYTEST_ARGS)

reliability: $(VENV)/.dev
	CONVEYOR_RELIABILITY=full $(VENV)/bin/pytest -q -m reliability tests/reliability $(PYTEST_ARGS)

bench: $(VENV)/.dev
	$(PY) bench/run_all.py

plan: $(VENV)/.dev
	$(CONVEYOR) plan --stack $(or $(STACK),dev-aws)

policy: $(VENV)/.dev
	$(CONVEYOR) policy check --all

snapshots: $(VENV)/.dev
	CONVEYOR_UPDATE_SNAPSHOTS=1 $(VENV)/bin/pytest -q tests/components -k snapshot

# The test cluster (tests/cluster, docs/cluster.md): pinned upstream components built once
# into $${CONVEYOR_CLUSTER_CACHE:-~/.cache/conveyor-cluster}, run as host processes (root).
# cluster-build: the cluster, Argo, the real Pulumi engine (CLI, Python host, kubernetes provider)
# and the e2e task image: everything `make e2e` needs (tests/cluster/prebuild.py).
cluster-build: $(VENV)/.dev
	$(PY) -m tests.cluster prebuild

cluster-up: $(VENV)/.dev
	$(PY) -m tests.cluster up

cluster-down: $(VENV)/.dev
	$(PY) -m tests.cluster down

# The cluster and Argo are built first, outside the tests' timeouts (cold, quiet 2-core machine:
# Kubernetes 7.6 min, Argo 4.8 min; warm: seconds). The task image and the Pulumi engine (13.3 min
# cold) build in a niced background prebuild while the first tests run, which mostly wait on pods;
# the fixtures that need them wait on the same locks. A failure names the step and its log.
PREBUILD_LOG := .test-artifacts/prebuild.log
e2e: $(VENV)/.dev
	@mkdir -p $(dir $(PREBUILD_LOG))
	@nice -n 19 $(PY) -m tests.cluster prebuild >$(PREBUILD_LOG) 2>&1 & pre=$$!; \
	$(PY) -m tests.cluster build >/dev/null && $(PY) -m tests.cluster.argo_build >/dev/null && \
	CONVEYOR_E2E=1 $(VENV)/bin/pytest -q -m e2e tests/cluster $(PYTEST_ARGS); rc=$$?; \
	wait $$pre || { echo "make e2e: the background prebuild failed ($(PREBUILD_LOG)):"; tail -20 $(PREBUILD_LOG); }; \
	exit $$rc

clean:
	rm -rf $(VENV) .conveyor .pytest_cache .ruff_cache
