# The project's interface. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

ENV   ?= local
ROWS  ?= 50000
SEED  ?= 0
PYTHON ?= python3
VENV  := .venv
PY    := $(VENV)/bin/python
DATA_FILE := data/porto_seguro_$(ROWS)_$(SEED).csv
export PYTHONPATH := $(CURDIR)

.PHONY: lineage prove train evaluate infra-validate infra-outputs help bootstrap generate validate diff export data up down plan deploy smoke integration-test demo test runs watch cancel rerun mlflow-ui bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "bootstrap: installing pinned Python packages into $(VENV) (first time takes a minute or two)"
	@$(PY) -m pip install -qq --disable-pip-version-check -r requirements.txt -c requirements.lock
	@touch $@

.tools/.installed: tools/package.json tools/package-lock.json
	@echo "bootstrap: installing Azurite from npm into .tools/"
	@mkdir -p .tools && cp tools/package.json tools/package-lock.json .tools/
	@cd .tools && npm ci --no-audit --no-fund --silent
	@touch $@

bootstrap: $(VENV)/.installed .tools/.installed ## create the virtualenv, install pinned packages and Azurite

generate: $(VENV)/.installed ## render generated/ (ADF git layout, definition file, ARM template, parameters) from spec/
	@$(PY) -m generator generate

validate: $(VENV)/.installed ## check the spec (schema, yamllint), every generated object against the SDK models, staleness
	@$(VENV)/bin/yamllint -s -c .yamllint.yaml spec/
	@$(PY) -m generator validate

# Every YAML file git tracks or would track (not .venv/, .tools/, ...); the listed folders if git is missing.
LINT_YAML = $(or $(wildcard $(shell git ls-files -co --exclude-standard -- '*.yaml' '*.yml' 2>/dev/null)),.yamllint.yaml spec .pipelines .github terraform)

.PHONY: lint
lint: $(VENV)/.installed ## ruff over the Python code (ruff.toml), yamllint over every YAML file (spec, pipelines, workflows)
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/yamllint -s -c .yamllint.yaml $(LINT_YAML)

diff: $(VENV)/.installed ## semantic diff of generated/ against a git ref, for reviews: make diff BASE=HEAD~1 [JSON=1]
	@$(PY) -m generator diff --base $(or $(BASE),HEAD) $(if $(JSON),--json)

export: $(VENV)/.installed ## export any ADF git folder to ARM: make export SRC=<folder> OUT=<folder> FACTORY=<name>
	@test -n "$(SRC)" -a -n "$(OUT)" -a -n "$(FACTORY)" || { echo "usage: make export SRC=<adf git folder> OUT=<output folder> FACTORY=<factory name>"; exit 2; }
	@$(PY) -m generator export --source $(SRC) --out $(OUT) --factory-name $(FACTORY)

data: $(VENV)/.installed ## write a synthetic Porto-Seguro-shaped CSV (ROWS=, SEED=) to data/
	@$(PY) -m synthetic --rows $(ROWS) --seed $(SEED) --out $(DATA_FILE)

up: bootstrap ## start Azurite and the local runtime in the background (PIDs and logs under .local/)
	@$(PY) -m ops.services up

down: ## stop exactly the services `make up` started
	@test -x $(PY) && $(PY) -m ops.services down || true

plan: $(VENV)/.installed ## what `deploy ENV=` would change versus what is deployed, without side effects [JSON=1]
	@$(PY) -m local_runtime plan --env $(ENV) $(if $(JSON),--json)

deploy: $(VENV)/.installed ## plan, then deploy ENV's ARM template + parameters file (ENV=local: the local runtime; dev/qa/prod: Azure, DRY_RUN=1 prints the plan only)
	@$(if $(filter local,$(ENV)),$(PY) -m local_runtime deploy --env $(ENV),$(PY) -m azure_deploy deploy --env $(ENV) $(if $(filter-out 0,$(DRY_RUN)),--dry-run))

smoke: $(VENV)/.installed ## run the deployed pipeline of ENV (newest input file, or PARAMS="folderPath=input fileName=x.csv"), poll to the end
	@$(PY) -m ops.smoke --env $(ENV) $(foreach p,$(PARAMS),--param $(p))

integration-test: $(VENV)/.installed ## check the data of the latest successful run (splits, rates, ids, hashes)
	@$(PY) -m ops.integration --env $(ENV)

runs: $(VENV)/.installed ## list pipeline runs (filters PIPELINE= STATUS= SINCE=1h; RUN=<id> shows one with its activities; SVG=file.svg draws its timeline)
	@$(PY) -m local_runtime runs $(RUN) $(if $(SVG),--svg $(SVG)) $(if $(PIPELINE),--pipeline $(PIPELINE)) $(if $(STATUS),--status $(STATUS)) $(if $(SINCE),--since $(SINCE))

watch: $(VENV)/.installed ## follow a run live until it ends: make watch RUN=<id> (exit 0 only if it succeeded)
	@test -n "$(RUN)" || { echo "usage: make watch RUN=<run id>   (make runs lists them)"; exit 2; }
	@$(PY) -m local_runtime watch $(RUN)

cancel: $(VENV)/.installed ## cancel a queued or running run and its child runs, wait until Cancelled: make cancel RUN=<id>
	@test -n "$(RUN)" || { echo "usage: make cancel RUN=<run id>   (make runs STATUS=InProgress lists them)"; exit 2; }
	@$(PY) -m local_runtime cancel $(RUN)

rerun: $(VENV)/.installed ## rerun an ended run with its parameters and follow it: make rerun RUN=<id> [FROM_FAILED=1]
	@test -n "$(RUN)" || { echo "usage: make rerun RUN=<run id> [FROM_FAILED=1]   (make runs STATUS=Failed lists them)"; exit 2; }
	@$(PY) -m local_runtime rerun $(RUN) $(if $(FROM_FAILED),--from-failed) --wait

train: $(VENV)/.installed ## train on a local CSV outside the pipeline (data-prep's split, the spec's training config): make train [CSV=data/x.csv] [MODEL_DIR=.local/models/dev]
	@$(PY) -m training.dev train --csv $(or $(CSV),$(DATA_FILE)) --out $(or $(MODEL_DIR),.local/models/dev)

evaluate: $(VENV)/.installed ## AUC and normalized Gini of a model on a local CSV: make evaluate [MODEL=models:/porto-seguro-safe-driver@production or a folder] [CSV=data/x.csv] [SIDE=test|all]
	@$(PY) -m training.dev evaluate --model-uri $(or $(MODEL),models:/porto-seguro-safe-driver@production) --csv $(or $(CSV),$(DATA_FILE)) --rows $(or $(SIDE),test) --tracking-uri sqlite:///$(CURDIR)/.local/mlflow/mlflow.db

mlflow-ui: $(VENV)/.installed ## browse the local MLflow store (runs, registered models, lineage tags) on 127.0.0.1:5000
	@$(VENV)/bin/mlflow ui --host 127.0.0.1 --port 5000 --backend-store-uri sqlite:///$(CURDIR)/.local/mlflow/mlflow.db

demo: bootstrap generate up ## the whole story locally: generate, deploy, drop a file, trigger, prepare, train, register, lineage, prove
	@$(PY) -m local_runtime deploy --env local
	@$(MAKE) --no-print-directory data
	@$(PY) -m ops.demo --file $(DATA_FILE)
	@$(MAKE) --no-print-directory prove REPRODUCE=1

lineage: $(VENV)/.installed ## the chain from a model version down to the archived input bytes: make lineage [MODEL=name] [VERSION=latest|<n>|<alias> or RUN=<pipeline run id>] [JSON=1] [FORMAT=svg|png [OUT=file]]
	@$(PY) -m lineage show $(if $(MODEL),--model $(MODEL)) $(if $(RUN),--run $(RUN),--version $(or $(VERSION),latest)) $(if $(JSON),--json) $(if $(FORMAT),--format $(FORMAT)) $(if $(OUT),--out $(OUT))

prove: $(VENV)/.installed ## re-hash every byte behind a model version, check the record chain and MLflow; REPRODUCE=1 re-runs the prep: make prove [MODEL=] [VERSION= or RUN=]
	@$(PY) -m lineage prove $(if $(MODEL),--model $(MODEL)) $(if $(RUN),--run $(RUN),--version $(or $(VERSION),latest)) $(if $(REPRODUCE),--reproduce)

test: bootstrap infra-validate ## run the test suite (starts its own Azurite and runtime on free ports) and the offline infra checks
	@$(PY) -m pytest -q tests

CHECKOV_VERSION := 3.2.533
CHECKOV_VENV    := .venv-checkov

$(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION): terraform/checkov-constraints.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	@echo "infra: installing checkov $(CHECKOV_VERSION) into $(CHECKOV_VENV) (its own virtualenv: it pins old packages)"
	@$(CHECKOV_VENV)/bin/pip install -qq --disable-pip-version-check checkov==$(CHECKOV_VERSION) -c terraform/checkov-constraints.txt
	@touch $@

infra-validate: $(VENV)/.installed $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION) ## check terraform/ offline: structure, names, secrets, checkov (skips in terraform/checkov-skips.yaml)
	@$(PY) -m infra validate

infra-outputs: $(VENV)/.installed ## write an environment's Terraform outputs into the spec: make infra-outputs ENV=qa [OUTPUTS=<terraform output -json file>]
	@case "$(ENV)" in dev|qa|prod) ;; *) echo "usage: make infra-outputs ENV=dev|qa|prod [OUTPUTS=<file from terraform output -json>]"; exit 2;; esac
	@$(if $(OUTPUTS),$(PY) -m infra outputs-to-spec --env $(ENV) --outputs $(OUTPUTS),terraform -chdir=terraform/environments/$(ENV) output -json | $(PY) -m infra outputs-to-spec --env $(ENV) --outputs -)

bench: $(VENV)/.installed ## benchmarks, each as ratios against a baseline measured in the same run
	@$(PY) -m bench

clean: down ## stop services and delete local state (.local/) and data/
	rm -rf .local data
