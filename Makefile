# The two Quickstart commands (`make chat`, `make test`) and the developer workflow.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: chat test setup lint bench messages-extract messages-update messages-compile eval

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

## Start samvag in a local terminal chat (bundled content, SQLite file, no network).
chat: $(STAMP)
	$(BIN)/samvag chat

## Lint, check the architecture contract, validate the shipped content and run every test.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: $(STAMP)
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done

eval: $(STAMP)
	$(BIN)/samvag eval eval/questions.csv

## Translations (see README): extract every msgid from bot/ into one template,
## merge new msgids into each area's locales/<lang>/LC_MESSAGES/<domain>.po, compile to .mo.
DOMAINS = $(sort $(basename $(notdir $(wildcard locales/*/LC_MESSAGES/*.po))))

messages-extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -o locales/samvag.pot bot

messages-update: messages-extract
	$(BIN)/python -m bot.i18n_tools update locales/samvag.pot locales

messages-compile: $(STAMP)
	$(BIN)/pybabel compile -d locales -D "$(DOMAINS)" --statistics
