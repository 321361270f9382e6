# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ICSCHECK_SRC ?= ../shared/icscheck
ICSCHECK := .cache/icscheck

.PHONY: run test lint format install install-test icscheck sample clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "icalfeed needs Python 3.11 or newer as $(PYTHON)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/icalfeed serve

# The iCalendar validation harness (six parsers + RFC lint) lives in ../shared; it installs into
# its own folder, so a private copy keeps the shared one untouched.
icscheck:
	@if [ -d "$(ICSCHECK_SRC)" ] && [ ! -f "$(ICSCHECK)/.ready" ]; then \
		rm -rf $(ICSCHECK) && mkdir -p .cache && cp -r $(ICSCHECK_SRC) $(ICSCHECK) && \
		chmod -R u+w $(ICSCHECK) && $(ICSCHECK)/setup.sh && touch $(ICSCHECK)/.ready; \
	fi

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install-test icscheck lint
	$(BIN)/python -m pytest -q

# Rebuild the packaged offline sample from the real LL2 JSON in ../shared.
sample: install
	$(BIN)/python scripts/build_sample.py ../shared icalfeed/sample/events.json

clean:
	rm -rf $(VENV) .cache var build *.egg-info
