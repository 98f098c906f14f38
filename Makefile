# The two commands a newcomer needs:  `make test`  and  `make plan STACK=dev`.
# Both create the virtual environment on first use (and refresh it when requirements change);
# `make plan` installs only what the program needs, `make test` adds the development tools.
VENV  ?= .venv
PY    := $(VENV)/bin/python
# checkov has a virtual environment of its own: it pins what the program's would not.
CHECKOV_VENV ?= .venv-checkov
# What checkov reads: the Kubernetes objects of every stack, and of the richest test stack.
MANIFESTS := build/manifests
CHECKOV_STACKS := dev prod tests/stacks/Pulumi.rich.yaml
STACK ?= dev
ARGS  ?=

.DEFAULT_GOAL := help
.PHONY: help test lint checkov plan preview up

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

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $@

lint: $(VENV)/.installed ## Lint, format check, type check, and actionlint on the workflows
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pyright
	$(VENV)/bin/actionlint -no-color

test: lint ## `make lint`, the tests, the sample app's checks and tests (app/), `make checkov`
	$(VENV)/bin/pytest
	$(MAKE) --no-print-directory -C app test VENV=.venv
	$(MAKE) --no-print-directory checkov

# Offline (no download, no platform): the skipped checks and their reasons are in one file.
export SKIPPED_CHECKS := import sys, yaml; print(",".join(yaml.safe_load(open(sys.argv[1]))))
checkov: $(VENV)/.runtime $(CHECKOV_VENV)/.installed ## checkov's Kubernetes checks on the rendered objects
	rm -rf $(MANIFESTS)
	$(PY) -m offline.render_manifests --out $(MANIFESTS) $(CHECKOV_STACKS)
	BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov --directory $(MANIFESTS) --framework kubernetes \
		--skip-download --compact --quiet \
		--skip-check "$$($(PY) -c "$$SKIPPED_CHECKS" checkov/skips.yaml)"

plan: $(VENV)/.runtime ## What the stack would create, offline: no Pulumi CLI or Azure account
	$(PY) -m offline.plan $(STACK) $(ARGS)

preview: $(VENV)/.runtime ## pulumi preview --diff, with the Pulumi CLI and an Azure login
	pulumi stack select --create $(STACK) && pulumi preview --diff -s $(STACK)

up: $(VENV)/.runtime ## pulumi up, with the Pulumi CLI and an Azure login
	pulumi stack select --create $(STACK) && pulumi up -s $(STACK)
