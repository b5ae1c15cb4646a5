# CVD — `make run` brings everything up; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Loopback only unless HOST says otherwise (HOST=0.0.0.0 serves the network: then set real passwords).
HOST ?= 127.0.0.1
export PORT HOST

.PHONY: run setup test test-external bench lint typecheck clean vendor

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

setup: $(BIN)/.installed
	$(BIN)/python manage.py bootstrap

# bootstrap collects the static files itself when DEBUG is off (with DEBUG on, WhiteNoise serves them from the apps).
run: setup
	$(BIN)/honcho start --procfile Procfile

test: $(BIN)/.installed
	$(BIN)/python -m pytest

# The same suite against this machine's PostgreSQL and Redis instead of the embedded ones.
test-external: $(BIN)/.installed
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/cvd} REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} \
		$(BIN)/python -m pytest --create-db

bench: $(BIN)/.installed
	$(BIN)/python -m bench

# The pages' browser libraries: npm (with the lockfile) into analytics/pages/static/pages/vendor, which is committed.
vendor:
	cd frontend && npm ci --no-audit --no-fund && npm run vendor

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy .

clean:
	rm -rf $(VENV) var
