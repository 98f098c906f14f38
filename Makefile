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
# The policy pack's (policy/), where PulumiPolicy.yaml names it: pulumi-policy pins protobuf and
# grpcio releases the program's environment does not have. Pulumi runs the pack with it, and
# the tests and `make lint` use it too.
POLICY_VENV := policy/venv
# What checkov reads: the Kubernetes objects of every stack, and of the richest test stack.
MANIFESTS := build/manifests
CHECKOV_STACKS := dev prod tests/stacks/Pulumi.rich.yaml
STACK ?= dev
ARGS  ?=
# A plan saved with `make plan STACK=<stack> ARGS="--format json --output plan.json"`.
PLAN  ?=
# Another Pulumi project of this repository to plan (bootstrap); the platform when empty.
PROJECT ?=

.DEFAULT_GOAL := help
.PHONY: help test lint checkov lock plan pr-comment policy bench preview up verify app-contract audit-query

help: ## List the targets (this one is the default)
	@awk -F ':.*## ' '/^[a-z-]+:.*## / { printf "  make %-12s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo "  STACK=<stack> picks the stack (default dev); ARGS=... passes options to the plan (or the benchmark)."
	@echo "  PROJECT=bootstrap plans the bootstrap project instead (make plan STACK=example PROJECT=bootstrap)."
	@echo "  PLAN=<file> is the saved plan \`make policy\` checks (make policy PLAN=plan.json)."
	@echo "  Scripts: run .venv/bin/python -m secretless_aks.offline.plan (exit 0 no changes, 2 changes"
	@echo "  with --detailed-exitcode, 1 error); make itself exits 2 whenever a recipe fails."

# Two markers in one virtual environment: the runtime requirements, then the development tools
# on top, so that a fresh clone's first plan does not wait for pytest, pyright or actionlint.
# Silent (@), and pip's own output on stderr: `make plan ARGS="--format json" | jq .` must see
# nothing but the plan on stdout, on a fresh clone too.
$(VENV)/.runtime: requirements.txt
	@python3 -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip >&2
	@$(PY) -m pip install --quiet -r requirements.txt >&2
	@touch $@

$(VENV)/.installed: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# The bootstrap's GitHub provider SDK on top of the runtime, for `make plan PROJECT=bootstrap`
# (`make test` has it from requirements-dev.txt).
$(VENV)/.bootstrap: $(VENV)/.runtime bootstrap/requirements-github.txt
	@$(PY) -m pip install --quiet -r bootstrap/requirements-github.txt >&2
	@touch $@

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

# From the hashed policy/requirements.txt (`make lock`), as CI installs it; pip as the venv
# ships it, since an unhashed upgrade would defeat the hashes.
$(POLICY_VENV)/.installed: policy/requirements.txt
	python3 -m venv $(POLICY_VENV)
	$(POLICY_VENV)/bin/python -m pip install --quiet --require-hashes -r policy/requirements.txt
	touch $@

# pip-tools works through pip's internals: the file pins pip as well, so no upgrade here.
$(PIP_TOOLS_VENV)/.installed: requirements-pip-tools.txt
	python3 -m venv $(PIP_TOOLS_VENV)
	$(PIP_TOOLS_VENV)/bin/python -m pip install --quiet -r requirements-pip-tools.txt
	touch $@

# pyright twice: the program, tests and rules against .venv (pyproject.toml), then the policy
# pack's files that import the policy SDK against the pack's own venv (policy/pyrightconfig.json).
lint: $(ZIZMOR_VENV)/.installed $(POLICY_VENV)/.installed $(VENV)/.installed ## Lint, format check, type check, actionlint and zizmor on .github
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pyright
	$(VENV)/bin/pyright -p policy --pythonpath $(POLICY_VENV)/bin/python
	$(VENV)/bin/actionlint -no-color
	$(ZIZMOR_VENV)/bin/zizmor --offline --quiet .github

# The consumer template's checks run with this venv and this checkout's package on the path:
# its own venv would install the package and the providers a second time.
test: lint $(POLICY_VENV)/.installed ## `make lint`, the tests, app/'s and examples/consumer/'s checks, `make checkov`
	$(VENV)/bin/pytest
	$(MAKE) --no-print-directory -C app test VENV=.venv
	PYTHONPATH=$(CURDIR) $(MAKE) --no-print-directory -C examples/consumer check VENV=$(abspath $(VENV))
	$(MAKE) --no-print-directory checkov

# Offline (no download, no platform): the skipped checks and their reasons are in one file.
export SKIPPED_CHECKS := import sys, yaml; print(",".join(yaml.safe_load(open(sys.argv[1]))))
checkov: $(VENV)/.runtime $(CHECKOV_VENV)/.installed ## checkov's Kubernetes checks on the rendered objects
	rm -rf $(MANIFESTS)
	$(PY) -m secretless_aks.offline.render_manifests --out $(MANIFESTS) $(CHECKOV_STACKS)
	BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov --directory $(MANIFESTS) --framework kubernetes \
		--skip-download --compact --quiet \
		--skip-check "$$($(PY) -c "$$SKIPPED_CHECKS" checkov/skips.yaml)"

# What the CI jobs that hold an Azure token install, with pip --require-hashes: every package
# requirements.txt needs, pinned, with the sha256 of each of its files; the same for the policy
# pack, whose hashed file is its requirements.txt (the name Pulumi installs a pack from).
# pip-compile keeps the pins already in a file, so it changes nothing unless its input did (CI
# checks that).
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(PIP_TOOLS_VENV)/bin/pip-compile --quiet \
	--generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
lock: $(PIP_TOOLS_VENV)/.installed ## requirements.lock and policy/requirements.txt, with hashes (pip-compile)
	$(PIP_COMPILE) --output-file requirements.lock requirements.txt
	$(PIP_COMPILE) --output-file policy/requirements.txt policy/requirements.in

audit-query: $(VENV)/.runtime ## The query of who read which secret (docs/audit), with STACK's services filled in
	@$(PY) -m secretless_aks.offline.audit_query $(STACK)

plan: $(VENV)/.runtime $(if $(PROJECT),$(VENV)/.bootstrap) ## What the stack would create, offline: no Pulumi CLI or Azure account
	@$(PY) -m secretless_aks.offline.plan $(STACK) $(if $(PROJECT),--project $(PROJECT)) $(ARGS)

# The pull-request comment's plan, as pr-plan.yml makes it (pr-comment.yml adds the title, the
# tests' status and the links). Silent, so that its stdout is the comment alone.
STACKS ?= dev prod
BASE   ?= origin/main
pr-comment: $(VENV)/.runtime ## The pull request comment's plan against BASE, for STACKS (Markdown)
	@$(PY) -m secretless_aks.offline.pr_comment --base $(BASE) --stacks $(STACKS)

# The dev stack's Deployment of the sample app, which app/'s tests run it with exactly; a test
# fails when the committed file is not what the dev stack renders now.
verify: $(VENV)/.runtime ## Prove on Azure that the deployed STACK's identities read what they should (pulumi, kubectl)
	$(PY) -m secretless_aks.verify $(STACK) $(ARGS)

app-contract: $(VENV)/.runtime ## Rewrite app/tests/fixtures/dev-deployment.json from the dev stack
	$(PY) -m secretless_aks.offline.app_contract

# Without a plan, `make policy` says how to save one before it builds anything.
ifneq ($(filter policy,$(MAKECMDGOALS)),)
ifeq ($(PLAN),)
$(error PLAN=<file> names the plan: make plan STACK=$(STACK) ARGS="--format json --output plan.json")
endif
endif
policy: $(VENV)/.runtime ## The policy pack's rules over a saved plan, offline (exit 1 on a mandatory violation)
	$(PY) -m policy.check $(PLAN)

# The deploy's critical path first (instant), then the benchmark: about 7 minutes on 2 cores,
# every measurement in a fresh process; it writes bench/results.json and exits 1 when a target
# is missed. ARGS="--services 1 10 30 --runs 3" for a quicker look.
bench: $(VENV)/.runtime ## Evaluation time against the SDK's floor, and the deploy's critical path
	$(PY) -m secretless_aks.offline.critical_path dev prod
	$(PY) -m bench $(ARGS)

preview: $(VENV)/.runtime ## pulumi preview --diff, with the Pulumi CLI and an Azure login
	pulumi stack select --create $(STACK) && pulumi preview --diff -s $(STACK)

up: $(VENV)/.runtime ## pulumi up, with the Pulumi CLI and an Azure login
	pulumi stack select --create $(STACK) && pulumi up -s $(STACK)
