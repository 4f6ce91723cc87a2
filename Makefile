# Fuzhu: the two commands of the README, and what they stand on.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgresql://postgres@127.0.0.1:5432/fuzhu
# Where make run serves; another address through the environment (FUZHU_ADDRESS=127.0.0.1:8123).
FUZHU_ADDRESS ?= 127.0.0.1:8000

ASSETS := portal/static/dist/.built

.PHONY: run test install assets lint format

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## The portal's front-end (bpmn-js, form-js) bundled by esbuild into portal/static/dist/.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

$(ASSETS): node_modules/.installed package.json $(wildcard portal/assets/*)
	npm run build
	touch $@

assets: $(ASSETS)

## make run: SQLite, demo data, http://$(FUZHU_ADDRESS)
run: install assets
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py deploy_processes
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py load_demo_cases
	$(BIN)/python manage.py load_demo_devices
	$(BIN)/python manage.py load_demo_medication
	$(BIN)/python manage.py load_demo_petitions
	@# The embedded job runner (timers, jobs, reminders, outbox) runs beside the web server.
	trap 'kill 0' EXIT INT TERM; $(BIN)/python manage.py run_jobs & $(BIN)/python manage.py runserver $(FUZHU_ADDRESS)

## make test: lint, then the whole suite on SQLite (the embedded default) and on PostgreSQL
test: install assets
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DATABASE_URL= $(BIN)/pytest -q -m "not postgres"
	@if [ -n "$$DATABASE_URL" ] || pg_isready -q -h 127.0.0.1 2>/dev/null; then \
		DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} $(BIN)/pytest -q; \
	else \
		echo "PostgreSQL is not running on 127.0.0.1:5432: its tests were not run (see README)"; \
		test "$$CI" != "true"; \
	fi

lint:
	$(BIN)/ruff check .

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
