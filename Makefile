# Amends — the two commands that matter: `make run` and `make test`.
# Both set up what they need on a fresh machine (uv, the locked Python dependencies, DynamoDB Local).

SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv from PATH, else a private copy installed with the machine's Python into .local/ (no root needed).
UV ?= $(shell command -v uv 2>/dev/null || echo .local/uv/bin/uv)
ROLE ?= handler
export AMENDS_PORT ?= 3000

.PHONY: help setup run test lint docs bench token clean build deploy

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

.local/uv/bin/uv:
	@echo "installing uv into .local/uv (once)"
	@python3 -m venv .local/uv && .local/uv/bin/pip install --quiet --disable-pip-version-check uv

setup: $(if $(filter .local/uv/bin/uv,$(UV)),.local/uv/bin/uv) ## install the locked dependencies into .venv
	@$(UV) sync --frozen --quiet

run: setup ## run the whole stack locally on http://127.0.0.1:$AMENDS_PORT (Ctrl-C stops it)
	@.venv/bin/python -m amends_local run  # not through `uv run`: it turns a clean Ctrl-C into exit 130

test: setup ## lint the template, check generated documents, run every test
	@$(UV) run --frozen cfn-lint template.yaml
	@$(UV) export --frozen --no-dev --no-hashes --no-emit-project --no-annotate --no-header --quiet | diff -u layers/amends/requirements.txt - \
		|| (echo "layers/amends/requirements.txt is out of date: run make docs" && exit 1)
	@$(UV) run --frozen pytest $(PYTEST_ARGS)

lint: setup ## cfn-lint the template
	@$(UV) run --frozen cfn-lint template.yaml

docs: setup ## regenerate the committed OpenAPI document, event catalogue and layer requirements
	@$(UV) run --frozen python -m amends_local.docs
	@$(UV) export --frozen --no-dev --no-hashes --no-emit-project --no-annotate --no-header --quiet > layers/amends/requirements.txt

bench: setup ## print cold-start import times and the AWS calls and capacity one intake costs
	@$(UV) run --frozen python -m amends_local.bench

token: setup ## print a local staff token: make token ROLE=supervisor
	@$(UV) run --frozen python -m amends_local token --role $(ROLE)

build: ## sam build (needs the SAM CLI)
	sam build

deploy: build ## sam deploy --guided (needs the SAM CLI and AWS credentials)
	sam deploy --guided

clean: ## forget local data (DynamoDB Local tables, clock, local keys)
	rm -rf .local/dynamodb-data .local/clock.json .local/stream-checkpoints.json .local/local-idp
