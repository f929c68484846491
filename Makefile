# Two commands: `make run` (demo provider on :5000, demo LSU on :5001, demo canteen on :5002)
# and `make test`.
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed-stamp
PYTHON  ?= python3

.PHONY: run test install lint format translations messages bench bench-import clean axe

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	@if ls idp/translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel compile --use-fuzzy --statistics -d idp/translations 2>&1 | tail -n 1; fi

# After changing user-visible strings: refresh the catalogues, then translate the new entries.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k _plural:1,2 --no-location --sort-output -o idp/translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i idp/translations/messages.pot -d idp/translations

# Ctrl-C stops all three: the provider ends on SIGINT, then the trap stops the LSU and the
# canteen (background jobs of a non-interactive shell ignore SIGINT). No `kill 0`: it signalled
# make and the shell too.
run: install
	@$(BIN)/idp demo --lsu-client-file instance/lsu-client.json \
		--canteen-client-file instance/canteen-client.json
	@echo "(Ctrl-C stops all three)"
	@LSU_CLIENT_FILE=instance/lsu-client.json $(BIN)/python -m clients.lsu & lsu=$$!; \
		CANTEEN_CLIENT_FILE=instance/canteen-client.json $(BIN)/python -m clients.canteen & canteen=$$!; \
		trap 'kill $$lsu $$canteen 2>/dev/null; wait $$lsu $$canteen 2>/dev/null; exit 0' INT TERM; \
		$(BIN)/idp serve --port 5000; \
		kill $$lsu $$canteen 2>/dev/null; wait $$lsu $$canteen 2>/dev/null; exit 0

# The whole suite on SQLite; again on PostgreSQL when IDP_TEST_DATABASE_URL is set (CI sets it).
test: install lint axe
	$(BIN)/pytest
	@if [ -n "$$IDP_TEST_DATABASE_URL" ]; then \
		echo "== the same suite on PostgreSQL ($$IDP_TEST_DATABASE_URL)"; \
		$(BIN)/pytest; fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

BENCH_STAMP := $(VENV)/.bench-stamp
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e ".[bench]"
	touch $(BENCH_STAMP)

# Load: the provider under gunicorn beside Flask hello, raw bcrypt and, with BENCH_NODE=1,
# node-oidc-provider (README "Performance"). BENCH_DB=postgres for PostgreSQL. Writes bench/results.json.
bench: $(BENCH_STAMP) translations
	$(BIN)/python bench/run_bench.py

# Import speed: 500 families with letters (target < 30 s); also 100,000 (< 15 min) with BENCH_LARGE=1.
bench-import: $(STAMP)
	$(BIN)/python bench/import_bench.py

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache *.egg-info

# axe-core (npm) for the accessibility checks of the browser tests, outside the repository's tree.
axe: .cache/axe/node_modules/axe-core/axe.min.js
.cache/axe/node_modules/axe-core/axe.min.js:
	npm install --silent --no-audit --no-fund --prefix .cache/axe axe-core
