# The README's two commands: `make run` and `make test`. Everything else is a convenience.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RUNTIME := $(PY) -m servicedesk.runtime

.PHONY: run test install lint fmt check shell bench fuzz clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Start PostgreSQL + Redis (embedded unless DATABASE_URL/REDIS_URL are set), migrate, seed demo
## data, and serve web + Celery worker + beat at http://127.0.0.1:8000. Ctrl-C stops everything.
run: $(STAMP)
	$(RUNTIME) serve

## The whole test suite, on the embedded servers or on DATABASE_URL/REDIS_URL when set.
test: $(STAMP)
	$(RUNTIME) exec -- $(PY) -m pytest $(PYTEST_ARGS)

## Schemathesis over every API operation, as an agent and as a requester, with many random
## examples (the test suite runs the same test with a few fixed ones). FUZZ_EXAMPLES=200 for more.
FUZZ_EXAMPLES ?= 50
fuzz: $(STAMP)
	$(RUNTIME) exec -- env SCHEMATHESIS_EXAMPLES=$(FUZZ_EXAMPLES) SCHEMATHESIS_FUZZ=1 \
		$(PY) -m pytest tests/integrations/test_schemathesis.py -q -s $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

fmt: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check: $(STAMP)
	DJANGO_DEBUG=1 $(RUNTIME) exec -- $(PY) manage.py makemigrations --check --dry-run

shell: $(STAMP)
	DJANGO_DEBUG=1 $(RUNTIME) exec -- $(PY) manage.py shell

## Benchmarks print figures (never assert on time). BENCH_TICKETS sizes the seeded data set;
## it goes into its own database (DATABASE_URL, e.g. .../servicedesk_bench), never the demo one.
BENCH_TICKETS ?= 100000
bench: $(STAMP)
	$(PY) benchmarks/calendar_bench.py
	$(RUNTIME) exec -- $(PY) benchmarks/sla_bench.py --clocks 0,10000,100000
	$(RUNTIME) exec -- sh -c 'DATABASE_URL=$${DATABASE_URL%/*}/servicedesk_bench_http DJANGO_DEBUG=1 $(PY) benchmarks/prepare_db.py && DATABASE_URL=$${DATABASE_URL%/*}/servicedesk_bench_http DJANGO_DEBUG=1 $(PY) manage.py seed_scale --tickets $(BENCH_TICKETS) && DATABASE_URL=$${DATABASE_URL%/*}/servicedesk_bench_http $(PY) benchmarks/run.py'

clean:
	rm -rf $(VENV) .data
