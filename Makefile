# The two commands a newcomer needs:  `make test`  and  `make plan STACK=dev`.
# Both create the virtual environment on first use (and refresh it when requirements change);
# `make plan` installs only what the program needs, `make test` adds the development tools.
VENV  ?= .venv
PY    := $(VENV)/bin/python
# checkov has a virtual environment of its own: it pins what the program's would not.
CHECKOV_VENV ?= .venv-checkov
# So have zizmor (for `make lint`) and pip-tools (for `make lock`), each pinned in its own file.
ZIZMOR_VENV ?= .venv-zizmor
PIP_TOOLS_VENV ?= .venv-pip-tools
# What checkov reads: the Kubernetes objects of every stack, and of the richest test stack.
MANIFESTS := build/manifests
CHECKOV_STACKS := dev prod tests/stacks/Pulumi.rich.yaml
STACK ?= dev
ARGS  ?=
# Another Pulumi project of this repository to plan (bootstrap); the platform when empty.
PROJECT ?=

.DEFAULT_GOAL := help
.PHONY: help test lint checkov lock plan preview up

help: ## List the targets (this one is the default)
	@awk -F ':.*## ' '/^[a-z]+:.*## / { printf "  make %-8s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo "  STACK=<stack> picks the stack (default dev); ARGS=... passes options to the plan."
	@echo "  PROJECT=bootstrap plans the bootstrap project instead (make plan STACK=example PROJECT=bootstrap)."

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

$(ZIZMOR_VENV)/.installed: requirements-zizmor.txt
	python3 -m venv $(ZIZMOR_VENV)
	$(ZIZMOR_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(ZIZMOR_VENV)/bin/python -m pip install --quiet -r requirements-zizmor.txt
	touch $@

# pip-tools works through pip's internals: the file pins pip as well, so no upgrade here.
$(PIP_TOOLS_VENV)/.installed: requirements-pip-tools.txt
	python3 -m venv $(PIP_TOOLS_VENV)
	$(PIP_TOOLS_VENV)/bin/python -m pip install --quiet -r requirements-pip-tools.txt
	touch $@

lint: $(ZIZMOR_VENV)/.installed $(VENV)/.installed ## Lint, format check, type check, actionlint and zizmor on .github
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pyright
	$(VENV)/bin/actionlint -no-color
	$(ZIZMOR_VENV)/bin/zizmor --offline --quiet .github

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

# What the CI jobs that hold an Azure token install, with pip --require-hashes: every package
# requirements.txt needs, pinned, with the sha256 of each of its files. pip-compile keeps the
# pins already in the file, so it changes nothing unless requirements.txt did (CI checks that).
lock: $(PIP_TOOLS_VENV)/.installed ## requirements.lock from requirements.txt, with hashes (pip-compile)
	CUSTOM_COMPILE_COMMAND="make lock" $(PIP_TOOLS_VENV)/bin/pip-compile --quiet --generate-hashes \
		--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
		--output-file requirements.lock requirements.txt

plan: $(VENV)/.runtime ## What the stack would create, offline: no Pulumi CLI or Azure account
	$(PY) -m offline.plan $(STACK) $(if $(PROJECT),--project $(PROJECT)) $(ARGS)

preview: $(VENV)/.runtime ## pulumi preview --diff, with the Pulumi CLI and an Azure login
	pulumi stack select --create $(STACK) && pulumi preview --diff -s $(STACK)

up: $(VENV)/.runtime ## pulumi up, with the Pulumi CLI and an Azure login
	pulumi stack select --create $(STACK) && pulumi up -s $(STACK)
