# The two commands: `make run` and `make test`. Everything else is set up on the way.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PORT ?= 5000

.PHONY: run test bench translations extract-messages browser-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d ruralinfo/translations -f

extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o ruralinfo/translations/messages.pot .
	$(BIN)/pybabel update -i ruralinfo/translations/messages.pot -d ruralinfo/translations --no-fuzzy-matching

instance/config.py: | $(BIN)/python
	$(BIN)/python scripts/make_instance_config.py

run: $(VENV)/.installed translations instance/config.py
	$(FLASK) db upgrade
	$(FLASK) demo --if-empty
	@$(BIN)/python scripts/port_free.py $(PORT)
	@# texts held for the quiet hours, retries and waiting imports go out without Redis too
	@$(FLASK) sweep --every 60 & sweeper=$$!; trap 'kill $$sweeper 2>/dev/null' EXIT INT TERM; \
	  DEV_SIMULATORS=1 $(FLASK) run --host 127.0.0.1 --port $(PORT)

browser-deps:
	@bash scripts/browser-deps.sh

test: $(VENV)/.installed translations browser-deps
	$(BIN)/python -m pytest

BENCH_REDIS_URL ?= redis://127.0.0.1:6379/14

bench: $(VENV)/.installed translations
	$(BIN)/python bench/import_5000.py
	$(BIN)/python bench/parsing.py
	$(BIN)/python bench/matching.py
	$(BIN)/python bench/webhook_latency.py --posts 1000000 --redis $(BENCH_REDIS_URL)
	$(BIN)/python bench/broadcast.py
	$(BIN)/python bench/voice_latency.py
	$(BIN)/python bench/kannel.py

clean:
	rm -rf $(VENV) .pytest_cache
