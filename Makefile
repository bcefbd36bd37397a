# Two commands for a new machine with Python 3.11 and make: `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

TRANSLATIONS := formserver/translations
# Besides babel's own (_, gettext, ngettext, N_...): Nn_ marks a text with a count, Np_ a text with a context
# (formserver/translations/__init__.py). tests/test_translations.py extracts with the same keywords.
BABEL_KEYWORDS := -k Nn_:1,2 -k Np_:1c,2

.PHONY: install serve test test-postgresql translations

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

# Extract the marked texts, bring every language's messages.po up to date (new texts empty, changed ones
# fuzzy: both wait for a translator), and compile the .mo files the server reads (committed with the .po).
translations: install
	$(BIN)/pybabel -q extract -F babel.cfg $(BABEL_KEYWORDS) --add-location=file --project=formserver --copyright-holder="formserver's authors" \
		--msgid-bugs-address="formserver's issue tracker" \
		--version=$$($(BIN)/python -c 'import importlib.metadata as m; print(m.version("formserver"))') \
		-o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel -q update --ignore-obsolete -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS)
	$(BIN)/pybabel compile --statistics -d $(TRANSLATIONS)
