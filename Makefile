# Two commands on a fresh Debian machine: `make run` starts the stack, `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SUPERVISOR := $(BIN)/supervisord -c deploy/supervisord.conf
SUPERVISORCTL := $(BIN)/supervisorctl -c deploy/supervisord.conf

.PHONY: var install system-deps run start stop restart status logs chat redis-plan lint typecheck test test-fast bench eval clean

install: system-deps $(VENV)/.installed

system-deps:
	@deploy/install-system-deps.sh "$(PYTHON)"

# Reinstalled whenever the lock file changes; --require-hashes installs exactly what is locked.
$(VENV)/.installed: requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (set PYTHON=...)")'
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	@touch $@

var:
	@mkdir -p var/log var/run var/data var/redis var/supervisor

redis-plan: install var
	@$(BIN)/python -m shared.cli redis-plan --program-file var/supervisor/redis.conf

run: redis-plan
	@echo "Starting wa-gateway, api and worker in the foreground (Ctrl-C stops everything)."
	@echo "  health:  curl 127.0.0.1:$${WA_GATEWAY_PORT:-3003}/health    curl 127.0.0.1:$${API_PORT:-3000}/health"
	@echo "  status:  $(SUPERVISORCTL) status        logs: make logs"
	@exec $(SUPERVISOR) -n

start: redis-plan
	@$(SUPERVISOR)
	@sleep 3
	@$(SUPERVISORCTL) status || true
	@echo "health: curl 127.0.0.1:$${WA_GATEWAY_PORT:-3003}/health    curl 127.0.0.1:$${API_PORT:-3000}/health"

stop:
	@$(SUPERVISORCTL) shutdown 2>/dev/null || echo "the stack is not running"

restart:
	@$(SUPERVISORCTL) restart all

status:
	@$(SUPERVISORCTL) status

logs:
	@tail -n 50 -F var/log/wa-gateway.out.log var/log/api.out.log var/log/worker.out.log

# Talk to the running stack as a WhatsApp client (through the simulator): `make run` in another terminal first.
chat: install
	@$(BIN)/python -m services.wa_gateway.chat

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

test: install lint typecheck
	$(BIN)/pytest

bench: install
	$(BIN)/python -m bench.pipeline

# The dialogue corpus through the real stack on both booking backends; writes bench/reports/eval.md.
eval: install
	$(BIN)/python -m bench.eval

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
