# The two commands of the README:
#   make demo   creates .venv/ if missing, installs the workspace editable, runs the main job on the embedded default
#   make test   also installs the system packages and servers the tests need, then runs the whole suite
# Both are idempotent: a second run only reinstalls when a pyproject.toml or requirements file changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := core plugins/file plugins/redis plugins/redisstack plugins/kafka
PYPROJECTS := pyproject.toml $(addsuffix /pyproject.toml,$(PACKAGES))

.PHONY: demo test install system-packages lint bench clean

demo: $(VENV)/.installed
	$(BIN)/orka-memory demo

test: system-packages $(VENV)/.installed-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

install: $(VENV)/.installed

# Every installed backend next to its raw client (benchmarks/README.md): the servers it starts (redis-server, Tansu,
# Redis Stack) and matplotlib come with the test prerequisites. BENCH_ARGS passes options, e.g. BENCH_ARGS="--only file".
bench: system-packages $(VENV)/.installed-dev
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

# ruff over everything; strict mypy over every package's sources (the list is in pyproject.toml). CI runs it too.
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check core plugins tests benchmarks
	$(BIN)/ruff format --check core plugins tests benchmarks
	$(BIN)/mypy

$(VENV)/bin/python:
	@$(PYTHON) -m venv $(VENV) || { scripts/system-packages.sh venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip

# One command installs the whole workspace editable: the core, every plugin, and the orka-memory distribution.
$(VENV)/.installed: $(VENV)/bin/python $(PYPROJECTS)
	$(BIN)/python -m pip install --quiet $(addprefix -e ./,$(PACKAGES)) -e '.[all]'
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt plugins/sentence-transformers/pyproject.toml
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

system-packages:
	@scripts/system-packages.sh test

clean:
	rm -rf $(VENV) .orka-memory
