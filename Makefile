# The two commands a newcomer needs:  `make test`  and  `make plan STACK=dev`.
# Both create the virtual environment on first use (and refresh it when requirements change);
# `make plan` installs only what the program needs, `make test` adds the development tools.
VENV  ?= .venv
PY    := $(VENV)/bin/python
STACK ?= dev
ARGS  ?=

.DEFAULT_GOAL := help
.PHONY: help test lint plan preview up

help: ## List the targets (this one is the default)
	@awk -F ':.*## ' '/^[a-z]+:.*## / { printf "  make %-8s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo "  STACK=<stack> picks the stack (default dev); ARGS=... passes options to the plan."

# Two markers in one virtual environment: the runtime requirements, then the development tools
# on top, so that a fresh clone's first plan does not wait for pytest, pyright or actionlint.
$(VENV)/.runtime: requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

lint: $(VENV)/.installed ## Lint, format check, type check, and actionlint on the workflows
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pyright
	$(VENV)/bin/actionlint -no-color

test: lint ## Everything `make lint` does, then the tests
	$(VENV)/bin/pytest

plan: $(VENV)/.runtime ## What the stack would create, offline: no Pulumi CLI or Azure account
	$(PY) -m offline.plan $(STACK) $(ARGS)

preview: $(VENV)/.runtime ## pulumi preview --diff, with the Pulumi CLI and an Azure login
	pulumi stack select --create $(STACK) && pulumi preview --diff -s $(STACK)

up: $(VENV)/.runtime ## pulumi up, with the Pulumi CLI and an Azure login
	pulumi stack select --create $(STACK) && pulumi up -s $(STACK)
