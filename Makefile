# Two commands for a new machine with Python 3.11 and make: `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install serve test test-postgresql

$(BIN)/formserver: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/formserver

serve: install
	$(BIN)/formserver setup
	$(BIN)/formserver serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-postgresql: install
	FORMSERVER_TEST_DATABASE_URL=$${FORMSERVER_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} \
		$(BIN)/python -m pytest -q $(PYTEST_ARGS)
