# The two commands a newcomer needs:  `make test`  and  `make plan STACK=dev`.
# Both create the environments they need on first use (and refresh them when a lock changes):
# `make plan` installs only what the program needs, `make test` adds the development tools.
# Every environment is installed by uv, from its project's uv.lock, every package by its hash.
VENV  ?= .venv
PY    := $(VENV)/bin/python
# uv itself, pinned with the hashes of its wheels, in an environment of its own, which the
# machine's pip installs into (`pip --python`, pip 22.3 or later): a pip of its own would cost a
# fresh clone 3 s.
UV_VENV := .venv-uv
UV      := $(UV_VENV)/bin/uv
# Only the locked set: a lock that its pyproject.toml has outgrown stops the install (`make lock`),
# and uv never fetches a Python of its own (the machine's python3 makes every environment).
export UV_PYTHON_DOWNLOADS := never
UV_SYNC := $(UV) sync --locked --quiet
# checkov has an environment of its own (tools/checkov): it pins what the program's would not.
CHECKOV_VENV ?= .venv-checkov
# So has zizmor (for `make lint`, tools/zizmor).
ZIZMOR_VENV ?= .venv-zizmor
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
.PHONY: help test environments test-platform test-app test-consumer lint checkov lock plan pr-comment policy bench preview up verify app-contract audit-query

help: ## List the targets (this one is the default)
	@awk -F ':.*## ' '/^[a-z-]+:.*## / { printf "  make %-12s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo "  STACK=<stack> picks the stack (default dev); ARGS=... passes options to the plan (or the benchmark)."
	@echo "  PROJECT=bootstrap plans the bootstrap project instead (make plan STACK=example PROJECT=bootstrap)."
	@echo "  PLAN=<file> is the saved plan \`make policy\` checks (make policy PLAN=plan.json)."
	@echo "  Scripts: run .venv/bin/python -m secretless_aks.offline.plan (exit 0 no changes, 2 changes"
	@echo "  with --detailed-exitcode, 1 error); make itself exits 2 whenever a recipe fails."

$(UV): requirements-uv.txt
	@python3 -m venv --without-pip $(UV_VENV)
	@python3 -m pip --python $(UV_VENV)/bin/python install --quiet --require-hashes --only-binary :all: -r requirements-uv.txt >&2
	@touch $@

# Three markers in one environment: the program's packages, then the development tools on top
# (so that a fresh clone's first plan does not wait for pytest, pyright or actionlint), and the
# bootstrap's GitHub provider for `make plan PROJECT=bootstrap` (the dev group includes it).
# --inexact: a later sync of fewer groups keeps what an earlier one added. Silent (@), and uv's
# own output on stderr: `make plan ARGS="--format json" | jq .` must see nothing but the plan
# on stdout, on a fresh clone too.
$(VENV)/.runtime: pyproject.toml uv.lock | $(UV)
	@UV_PROJECT_ENVIRONMENT=$(abspath $(VENV)) $(UV_SYNC) --inexact >&2
	@touch $@

$(VENV)/.installed: $(VENV)/.runtime
	UV_PROJECT_ENVIRONMENT=$(abspath $(VENV)) $(UV_SYNC) --inexact --group dev
	touch $@

$(VENV)/.bootstrap: $(VENV)/.runtime
	@UV_PROJECT_ENVIRONMENT=$(abspath $(VENV)) $(UV_SYNC) --inexact --group bootstrap >&2
	@touch $@

$(CHECKOV_VENV)/.installed: tools/checkov/pyproject.toml tools/checkov/uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(abspath $(CHECKOV_VENV)) $(UV_SYNC) --project tools/checkov
	touch $@

$(ZIZMOR_VENV)/.installed: tools/zizmor/pyproject.toml tools/zizmor/uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(abspath $(ZIZMOR_VENV)) $(UV_SYNC) --project tools/zizmor
	touch $@

# As CI installs it; Pulumi, creating the pack's venv itself, installs policy/requirements.txt,
# exported from the same lock with the same hashes.
$(POLICY_VENV)/.installed: policy/pyproject.toml policy/uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(abspath $(POLICY_VENV)) $(UV_SYNC) --project policy
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

# The independent suites run side by side, JOBS at a time (the two cores), each one's output
# printed whole when it ends: the platform's tests (the policy pack's among them), the app's
# checks, `make lint`, checkov, the consumer template's checks; the longest first. Every
# environment is made before, one at a time. Any suite failing fails `make test`.
JOBS ?= 2
SUITES := test-platform test-app lint checkov test-consumer
# The tests write the bytecode of what they import, once, as Python does by default: uv installs
# none, and where the environment sets PYTHONDONTWRITEBYTECODE every test worker would compile
# the providers again (the platform suite alone: 82 s so, 69 s with bytecode). An empty value is
# unset for Python. Not for `make plan`, whose first run on a fresh clone it would slow by 2 s.
test environments $(SUITES): export PYTHONDONTWRITEBYTECODE :=
test: environments ## `make lint`, the tests, app/'s and examples/consumer/'s checks, `make checkov`, side by side
	$(MAKE) --no-print-directory --jobs=$(JOBS) --output-sync=target $(SUITES)

environments: $(VENV)/.installed $(POLICY_VENV)/.installed $(ZIZMOR_VENV)/.installed $(CHECKOV_VENV)/.installed ## Every environment `make test` uses, from the locks
	$(MAKE) --no-print-directory -C app .venv/.installed VENV=.venv

test-platform: $(VENV)/.installed $(POLICY_VENV)/.installed ## The platform's tests (pytest on both cores), the policy pack's among them
	$(VENV)/bin/pytest

test-app: | $(UV) ## app/'s checks and tests (make -C app test)
	$(MAKE) --no-print-directory -C app test VENV=.venv

# The consumer template's checks run with this venv and this checkout's package on the path:
# its own venv would install the package and the providers a second time.
test-consumer: $(VENV)/.installed ## The consumer template's checks, with this venv and this checkout's package
	PYTHONPATH=$(CURDIR) $(MAKE) --no-print-directory -C examples/consumer check VENV=$(abspath $(VENV))

# Offline (no download, no platform): the skipped checks and their reasons are in one file.
export SKIPPED_CHECKS := import sys, yaml; print(",".join(yaml.safe_load(open(sys.argv[1]))))
checkov: $(VENV)/.runtime $(CHECKOV_VENV)/.installed ## checkov's Kubernetes checks on the rendered objects
	rm -rf $(MANIFESTS)
	$(PY) -m secretless_aks.offline.render_manifests --out $(MANIFESTS) $(CHECKOV_STACKS)
	BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov --directory $(MANIFESTS) --framework kubernetes \
		--skip-download --compact --quiet \
		--skip-check "$$($(PY) -c "$$SKIPPED_CHECKS" checkov/skips.yaml)"

# Every project's uv.lock (`uv lock` keeps the versions already locked, so it changes nothing
# unless a pyproject.toml did; `$(UV) lock --upgrade-package <name> --project <dir>` moves one),
# and the hashed requirements files exported from them for pip: requirements.lock (the
# program's), policy/requirements.txt (what Pulumi installs when it makes the pack's venv) and
# app/requirements.txt (what the image installs). CI checks that this changes nothing.
LOCKED_PROJECTS := . policy app tools/checkov tools/zizmor bootstrap
UV_EXPORT := $(UV) export --quiet --locked --no-default-groups --no-emit-project --format requirements-txt
lock: | $(UV) ## Every uv.lock, and the hashed requirements files exported from them
	for project in $(LOCKED_PROJECTS); do $(UV) lock --quiet --project $$project || exit 1; done
	$(UV_EXPORT) --output-file requirements.lock
	$(UV_EXPORT) --project policy --output-file policy/requirements.txt
	$(UV_EXPORT) --project app --output-file app/requirements.txt

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
