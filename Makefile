# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ICSCHECK_SRC ?= ../shared/icscheck
ICSCHECK := .cache/icscheck

.PHONY: run test lint format install install-test icscheck browser axe redis nginx sample lock audit bench clean mutation

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
# its own folder, so a private copy keeps the shared one untouched. `.ready` is written only
# once the install is checked: the good sample passes all seven checks and a broken one
# fails. Without ../shared/icscheck this says so, and the tests that need the harness skip
# with the reason; with it (as in CI), a failed install fails here, and `make test` makes
# those tests fail rather than skip (ICSCHECK_REQUIRED).
REQUIRE_ICSCHECK := $(if $(wildcard $(ICSCHECK_SRC)/validate_ics.sh),1,0)
icscheck:
	@if [ ! -f "$(ICSCHECK_SRC)/validate_ics.sh" ]; then \
		echo "icscheck: $(ICSCHECK_SRC) not found: the tests that need the validation harness will skip (pytest -rs says so)"; \
	elif [ ! -f "$(ICSCHECK)/.ready" ]; then \
		rm -rf $(ICSCHECK) && mkdir -p $(dir $(ICSCHECK)) && cp -r $(ICSCHECK_SRC) $(ICSCHECK) && \
		chmod -R u+w $(ICSCHECK) && \
		{ $(ICSCHECK)/setup.sh || { echo "icscheck: setup.sh failed; $(ICSCHECK) is not ready" >&2; exit 1; }; } && \
		out=$$($(ICSCHECK)/validate_ics.sh $(ICSCHECK)/samples/good.ics) && \
		[ "$$(printf '%s\n' "$$out" | grep -cE '^[a-z.-]+ +OK')" = 7 ] || \
		{ printf '%s\n' "$$out" >&2; echo "icscheck: the good sample does not pass all seven checks; $(ICSCHECK) is not ready" >&2; exit 1; }; \
		if $(ICSCHECK)/validate_ics.sh $(ICSCHECK)/samples/b2_missing_required.ics >/dev/null 2>&1; then \
		echo "icscheck: a broken sample passed; $(ICSCHECK) is not ready" >&2; exit 1; fi; \
		touch $(ICSCHECK)/.ready && echo "icscheck: installed and checked in $(ICSCHECK)"; \
	fi

# Browser tests drive Debian's chromium through Playwright (no browser download). As root
# (CI), install it; elsewhere the browser tests skip when it is missing.
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi
	@# Japanese and Chinese glyphs for the screenshots of the lang= tests (text is checked anyway).
	@if [ ! -d /usr/share/fonts/opentype/noto ] && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null || true; \
	fi

# The accessibility audit injects axe-core (npm, the exact version in tests/browser's lock
# file) into the browser tests' pages; installed once into tests/browser/node_modules.
AXE := tests/browser/node_modules/axe-core/axe.min.js
axe: $(AXE)
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund --silent
	touch $@

# The scale-out tests start their own redis-server on a free loopback port; as root (CI),
# install Debian's (and stop the service the package starts, which the tests do not use).
redis:
	@if ! command -v redis-server >/dev/null && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server && \
		{ service redis-server stop >/dev/null 2>&1 || true; }; \
	fi

# The deployment tests put Debian's nginx, with the shipped config (deploy/nginx), in front
# of real instances; as root (CI), install it (and stop the service the package starts).
nginx:
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ] && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx && \
		{ service nginx stop >/dev/null 2>&1 || true; }; \
	fi

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install-test icscheck browser axe redis nginx lint
	ICSCHECK_REQUIRED=$(REQUIRE_ICSCHECK) $(BIN)/python -m pytest -q

# Mutation testing of the core (mutmut; minutes, so not part of `make test`): the score per
# module and the surviving mutants; a module whose score dropped below
# tests/mutation-score.json fails it. BUDGET (seconds, default 3600) bounds a run, CHILDREN
# (default 2) the workers; a run cut short goes on where it stopped the next time.
# `make mutation UPDATE=1` records the new scores; SURVIVORS=1 keeps the last results and
# checks again only the mutants they did not kill (after adding tests).
mutation: install-test
	$(BIN)/python scripts/mutation.py run $(if $(UPDATE),--update) $(if $(SURVIVORS),--survivors)

# Rebuild the packaged offline sample from the real LL2 JSON in ../shared.
sample: install
	$(BIN)/python scripts/build_sample.py ../shared icalfeed/sample/events.json

# Serving benchmark (not a test): needs Debian's wrk, installed here when run as root.
bench: install
	@command -v wrk >/dev/null || { [ "$$(id -u)" = "0" ] && apt-get install -y -qq wrk; }
	@$(MAKE) --no-print-directory nginx
	$(BIN)/python bench/serving.py
	$(BIN)/python bench/deployed.py
	$(BIN)/python bench/defences.py
	$(BIN)/python bench/sync_day.py
	$(BIN)/python bench/ll2_size.py
	$(BIN)/python bench/changes.py

# Pin the runtime dependencies a clean install resolves to, and audit those pins.
lock:
	rm -rf .cache/lockvenv && $(PYTHON) -m venv .cache/lockvenv
	.cache/lockvenv/bin/python -m pip install --quiet .
	{ echo "# Runtime dependencies as installed by 'make lock' (pip freeze of a clean venv)."; \
	  .cache/lockvenv/bin/python -m pip freeze --exclude-editable | grep -v '^icalfeed'; } > requirements.lock

audit: $(BIN)/python
	$(BIN)/python scripts/audit_deps.py requirements.lock

clean:
	rm -rf $(VENV) .cache var build *.egg-info test-artifacts .mutation
