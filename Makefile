# Amends — the two commands that matter: `make run` and `make test`.
# Both set up what they need on a fresh machine (uv, the locked Python dependencies, DynamoDB Local).

SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv from PATH, else a private copy installed with the machine's Python into .local/ (no root needed).
UV ?= $(shell command -v uv 2>/dev/null || echo .local/uv/bin/uv)
ROLE ?= handler
export AMENDS_PORT ?= 3000

# The SAM CLI and checkov run from PyPI in uv's isolated tool environments, at pinned versions: nothing global.
SAM_CLI_VERSION := 1.170.0
CHECKOV_VERSION := 3.3.30
AWS_REGION ?= eu-west-2
# sam build installs the layer's dependencies (arm64 wheels) with a python3.13 that has pip; the project's .venv has
# none (uv does not seed it, and uv sync would remove it), so a small seeded venv under .local/ serves the build.
BUILD_PYTHON := .local/build-python
SAM := SAM_CLI_TELEMETRY=0 PATH="$(CURDIR)/$(BUILD_PYTHON)/bin:$$PATH" \
	$(UV) tool run --quiet --python 3.13 --from aws-sam-cli==$(SAM_CLI_VERSION) sam
CHECKOV := $(UV) tool run --quiet --python 3.13 --from checkov==$(CHECKOV_VERSION) checkov
# sam build ships no bytecode (its Python builder leaves out __pycache__) and Lambda's file system is read-only, so
# every cold start would compile every module it imports from the layer (boto3, pydantic, Powertools...) from source:
# about twice the whole import as `make bench` measures it. Hash-checked .pyc files, since SAM's zips date every file
# 1980, which would make timestamp-checked ones stale; the build Python is 3.13, the runtime's bytecode version.
COMPILE_BYTECODE := $(BUILD_PYTHON)/bin/python -m compileall -q -j 0 --invalidation-mode checked-hash .aws-sam/build

.PHONY: help setup run test lint scan docs bench token mutate clean build deploy

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

.local/uv/bin/uv:
	@echo "installing uv into .local/uv (once)"
	@python3 -m venv .local/uv && .local/uv/bin/pip install --quiet --disable-pip-version-check uv

setup: $(if $(filter .local/uv/bin/uv,$(UV)),.local/uv/bin/uv) ## install the locked dependencies into .venv
	@$(UV) sync --frozen --quiet

$(BUILD_PYTHON)/bin/python3.13: | setup
	@$(UV) venv --quiet --seed --python 3.13 $(BUILD_PYTHON)

run: setup ## run the whole stack locally on http://127.0.0.1:$AMENDS_PORT (Ctrl-C stops it)
	@.venv/bin/python -m amends_local run  # not through `uv run`: it turns a clean Ctrl-C into exit 130

test: setup $(BUILD_PYTHON)/bin/python3.13 ## lint, scan and build the template, check generated documents, run every test
	@$(UV) lock --check --quiet || (echo "uv.lock is out of step with pyproject.toml: run uv lock (.local/uv/bin/uv lock)" && exit 1)
	@$(UV) run --frozen cfn-lint template.yaml
	@$(SAM) validate --lint --region $(AWS_REGION)
	@$(MAKE) --no-print-directory scan
	@mkdir -p .aws-sam && echo "sam build (the arm64 layer from PyPI's wheels; output in .aws-sam/build.log)"
	@$(SAM) build --region $(AWS_REGION) > .aws-sam/build.log 2>&1 || (cat .aws-sam/build.log && exit 1)
	@$(COMPILE_BYTECODE)
	@$(UV) export --locked --no-dev --no-hashes --no-emit-project --no-annotate --no-header --quiet | diff -u layers/amends/requirements.txt - \
		|| (echo "layers/amends/requirements.txt is out of date, or uv.lock out of step with pyproject.toml: run uv lock, then make docs" && exit 1)
	@$(UV) run --frozen pytest $(PYTEST_ARGS)

lint: setup ## cfn-lint the template (with our rules) and sam validate --lint it
	@$(UV) lock --check --quiet || (echo "uv.lock is out of step with pyproject.toml: run uv lock (.local/uv/bin/uv lock)" && exit 1)
	@$(UV) run --frozen cfn-lint template.yaml
	@$(SAM) validate --lint --region $(AWS_REGION)

scan: $(if $(filter .local/uv/bin/uv,$(UV)),.local/uv/bin/uv) ## checkov on the template: no failed check (skips are on their resources, with the reason)
	@$(CHECKOV) --file template.yaml --framework cloudformation --compact --quiet --skip-download  # offline: no Prisma Cloud

docs: setup ## regenerate the committed OpenAPI document, event catalogue and layer requirements
	@$(UV) run --frozen python -m amends_local.docs
	@$(UV) export --frozen --no-dev --no-hashes --no-emit-project --no-annotate --no-header --quiet > layers/amends/requirements.txt

bench: setup ## print cold-start import times, the AWS calls and capacity one intake costs, inbound mail throughput, and the sweep's reads by table size
	@$(UV) run --frozen python -m amends_local.bench

# mutmut runs in a folder of links laid out as it expects (see [tool.mutmut] in pyproject.toml), from scratch each time.
MUTATE_DIR := .local/mutate
MUTATE_CHILDREN ?= 2
# MUTANTS: only these mutants (mutmut's names, globs allowed), e.g. make mutate MUTANTS='amends.domain.steps.*'
MUTANTS ?=
MUTATE_LINKS := pyproject.toml tests template.yaml infra events functions

mutate: setup ## mutation-test the domain and the services with tests/unit, print the score (long: not in make test)
	@rm -rf $(MUTATE_DIR) && mkdir -p $(MUTATE_DIR)/src && ln -s $(CURDIR)/layers/amends/amends $(MUTATE_DIR)/src/amends
	@for f in $(MUTATE_LINKS); do ln -s $(CURDIR)/$$f $(MUTATE_DIR)/$$f; done
	@start=$$(date +%s); (cd $(MUTATE_DIR) && $(CURDIR)/.venv/bin/mutmut run --max-children $(MUTATE_CHILDREN) $(MUTANTS)) \
		|| exit 1; echo "mutmut took $$(( $$(date +%s) - start )) s"
	@$(UV) run --frozen python tests/mutation/score.py $(MUTATE_DIR)/mutants

token: setup ## print a local staff token: make token ROLE=supervisor [SUB=sup-2] [EMAIL=...] (default local-<role>, <sub>@example.com)
	@$(UV) run --frozen python -m amends_local token --role $(ROLE) $(if $(SUB),--sub '$(SUB)') $(if $(EMAIL),--email '$(EMAIL)')

build: setup $(BUILD_PYTHON)/bin/python3.13 ## sam build into .aws-sam/build (the SAM CLI from PyPI, pinned)
	$(SAM) build
	$(COMPILE_BYTECODE)

deploy: build ## sam deploy --guided (needs AWS credentials; later: make deploy DEPLOY_ARGS="--config-env prod")
	$(SAM) deploy $(if $(DEPLOY_ARGS),$(DEPLOY_ARGS),--guided)

clean: ## forget local data (DynamoDB Local tables, clock, local keys)
	rm -rf .local/dynamodb-data .local/clock.json .local/stream-checkpoints.json .local/local-idp
