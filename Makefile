# The two commands a newcomer needs:  `make test`  and  `make plan STACK=dev`.
# Both create the virtual environment on first use (and refresh it when requirements change).
VENV  ?= .venv
PY    := $(VENV)/bin/python
STACK ?= dev
ARGS  ?=

.PHONY: test lint plan up preview

$(VENV)/.installed: requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Lint, format check, type check, then the tests.
test: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pyright
	$(VENV)/bin/pytest

# What the stack would create, offline: no Pulumi CLI, no Azure account needed.
plan: $(VENV)/.installed
	$(PY) -m offline.plan $(STACK) $(ARGS)

# The real thing, with the Pulumi CLI and an Azure login (state in a local file backend).
preview: $(VENV)/.installed
	pulumi stack select --create $(STACK) && pulumi preview --diff -s $(STACK)

up: $(VENV)/.installed
	pulumi stack select --create $(STACK) && pulumi up -s $(STACK)
