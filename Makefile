# The two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FACITO_INSTANCE_PATH ?= $(CURDIR)/instance
# Absolute URLs (Link, SCIM locations) name the address `make run` serves on.
export FACITO_PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: run reset topology load fuzz-topology test test-postgres lint format openapi openapi-check bench bench-scim bench-ingest bench-retention bench-export bench-org-export bench-search bench-smoke clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/facito-admin db upgrade
	$(BIN)/facito-admin demo
	@echo; echo "In another terminal: a development token (Organisation.Admin of the demo organisation, 8 h)"; \
	echo "and a first call:"; echo; \
	echo "  export BASE=http://127.0.0.1:$(PORT)"; \
	echo '  export TOKEN=$$($(CURDIR)/$(BIN)/facito-admin dev-token --org demo --role Organisation.Admin)'; \
	echo '  curl -s -H "Authorization: Bearer $$TOKEN" $$BASE/v1/me'; echo; \
	echo "API docs: http://127.0.0.1:$(PORT)/docs    the tour: README.md    start afresh: make reset"; echo
	@echo "Background jobs run in-process; production runs 'facito-admin worker' beside the API."
	$(BIN)/facito-admin serve --with-worker --host 127.0.0.1 --port $(PORT)

# The production shape on this machine (PostgreSQL and Redis of its own, two API processes, two
# workers), a smoke test across it, then everything stopped (ops/topology.py).
topology: $(VENV)/.installed-dev
	$(BIN)/python ops/topology.py $(TOPOLOGY_ARGS)

# The topology under load and faults: a 60 s mix with p50/p99 per operation, PostgreSQL stopped
# and started during the load, 50 concurrent PATCHes with one ETag, workers SIGKILLed during
# jobs (ops/load.py; about 10 min).
load: $(VENV)/.installed-dev
	$(BIN)/python ops/load.py $(LOAD_ARGS)

# schemathesis' stateful phase against the running topology, over HTTP (ops/fuzz.py;
# FUZZ_ARGS="--scenarios 1000" for a deeper run).
fuzz-topology: $(VENV)/.installed-dev
	$(BIN)/python ops/fuzz.py $(FUZZ_ARGS)

# Start afresh: the development database, queue, keys and exports go (the next `make run`
# creates them again; tokens minted before are refused).
reset:
	rm -rf instance

# The suite runs in FACITO_TEST_WORKERS processes (pytest-xdist), each on a database of its own;
# 0 runs it in one process, as plain `pytest` does. A worker that runs out of tests takes
# some of the other's (worksteal): behind a test of minutes, `load` left a worker's queue
# waiting while the other idled.
export FACITO_TEST_WORKERS ?= 2

test: $(VENV)/.installed-dev
	$(BIN)/pytest -q -n $(FACITO_TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# The suite again on PostgreSQL and Redis (both on 127.0.0.1, as .ci/run expects them; see
# .ci/postgres-suite for the variables).
test-postgres: $(VENV)/.installed-dev
	.ci/postgres-suite $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench ops wsgi.py
	$(BIN)/ruff format --check src tests bench ops wsgi.py
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: $(VENV)/.installed-dev
	$(BIN)/ruff format src tests bench ops wsgi.py
	$(BIN)/ruff check --fix src tests bench ops wsgi.py

# Regenerate the committed OpenAPI document from the code.
openapi: $(VENV)/.installed
	mkdir -p instance
	FACITO_ENV=test FACITO_DEV_ISSUER_ENABLED=false FACITO_LOG_LEVEL=WARNING \
	FACITO_DATABASE_URL=sqlite:///$(CURDIR)/instance/openapi.db \
	$(BIN)/flask --app wsgi openapi write --format=json openapi/openapi.json

openapi-check: openapi
	git diff --exit-code -- openapi/openapi.json || \
	  (echo "openapi/openapi.json is stale: run 'make openapi' and commit it" >&2; exit 1)

# Benchmarks print figures and ratios; they are not tests and never gate CI. The figures of
# bench/list_accounts.py and bench/scim.py need wrk (apt-get install -y wrk; without it a Python
# driver runs them, for smoke runs); BENCH_DATABASE_URL=postgresql+psycopg://facito_app@host/db
# runs it on PostgreSQL (that database is dropped and recreated).
bench: $(VENV)/.installed
	$(BIN)/python bench/list_accounts.py $(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL)) $(BENCH_ARGS)

# SCIM creates and filtered gets against the reference scim2-server (the dev extra), same run.
bench-scim: $(VENV)/.installed-dev
	$(BIN)/python bench/scim.py $(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL)) $(BENCH_ARGS)

# Ingestion of 100,000 linked data records in batches of 1,000 through the API against a bare
# SQLAlchemy Core bulk insert of the same rows, same run (no wrk needed).
bench-ingest: $(VENV)/.installed
	$(BIN)/python bench/ingest.py $(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL)) $(BENCH_ARGS)

# The retention run over 1,000,000 data records, 10 % expired, against a bare DELETE (same run).
bench-retention: $(VENV)/.installed
	$(BIN)/python bench/retention.py $(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL)) $(BENCH_ARGS)

# The export of an access request whose subject has 100,000 linked data records, against a bare
# Core query written to a ZIP by the standard library's zipfile (same run).
bench-export: $(VENV)/.installed
	$(BIN)/python bench/dsr_export.py $(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL)) $(BENCH_ARGS)

bench-org-export: $(VENV)/.installed
	$(BIN)/python bench/organisation_export.py $(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL)) $(BENCH_ARGS)

# `q` search at 100,000 accounts: the trigram index (migration 0018) against the plain scan of
# the organisation, p50/p95 over many terms through the list's service function, same run.
bench-search: $(VENV)/.installed
	$(BIN)/python bench/account_search.py $(if $(BENCH_DATABASE_URL),--database-url $(BENCH_DATABASE_URL)) $(BENCH_ARGS)

# Every benchmark at a tiny size, to prove that they still run after a change to models or
# schemas (the figures mean nothing at this size, so two run at a time, the longest first, and
# wrk runs no warm-up). CI runs it. The list and SCIM benchmarks use wrk when it is installed
# and their Python driver otherwise (bench/loadtest.py), so they run (and fail when broken) on
# any machine.
SMOKE_scim := bench/scim.py --users 50 --seconds 1 --warm-up 0 --rounds 1
SMOKE_list_accounts := bench/list_accounts.py --organisations 2 --per-organisation 60 --big 300 \
  --seconds 1 --warm-up 0 --rounds 1
SMOKE_foundation := bench/foundation.py --iterations 50 --requests 50
SMOKE_ingest := bench/ingest.py --records 1000 --batch 250 --accounts 20
SMOKE_directory_sync := bench/directory_sync.py --users 500 --changes 50
SMOKE_retention := bench/retention.py --records 2000
SMOKE_organisation_export := bench/organisation_export.py --records 500
SMOKE_dsr_export := bench/dsr_export.py --records 500
SMOKE_account_search := bench/account_search.py --organisations 2 --per-organisation 50 \
  --big 500 --terms 20 --rounds 1
SMOKE := scim list_accounts foundation ingest directory_sync retention organisation_export \
  dsr_export account_search

bench-smoke: $(VENV)/.installed-dev
	$(MAKE) --no-print-directory -j2 --output-sync=target $(SMOKE:%=bench-smoke-%)

bench-smoke-%:
	$(if $(SMOKE_$*),,$(error no benchmark $* in SMOKE))
	$(BIN)/python $(SMOKE_$*)

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
