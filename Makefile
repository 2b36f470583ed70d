# The README's two commands: `make run` and `make test`. Everything else is a convenience.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RUNTIME := $(PY) -m servicedesk.runtime

.PHONY: run test install lint fmt check shell bench clean

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

## Benchmarks print figures (never assert on time). More land with the benchmarks issue.
bench: $(STAMP)
	$(PY) benchmarks/calendar_bench.py

clean:
	rm -rf $(VENV) .data
