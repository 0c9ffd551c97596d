# Two commands on a fresh Debian machine: `make run` starts the stack, `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SUPERVISOR := $(BIN)/supervisord -c deploy/supervisord.conf
SUPERVISORCTL := $(BIN)/supervisorctl -c deploy/supervisord.conf
REDIS_PLAN := $(BIN)/python -m shared.cli redis-plan --program-file var/supervisor/redis.conf
PIDFILE := var/run/supervisord.pid
STOP_TIMEOUT_SECONDS ?= 300
# supervisord closes its socket as soon as it is told to shut down, but stops its programs (the worker may
# finish its current job, up to 200 s) before it exits: its process, not the socket, says when the ports are free.
SUPERVISORD_ALIVE = ps -o stat=,args= -p "$$pid" 2>/dev/null | grep -v '^ *Z' | grep -q supervisord

.PHONY: help var install system-deps run start stop restart status logs chat redis-plan lint typecheck test-deps test test-fast bench eval clean

install: system-deps $(VENV)/.installed $(BIN)/ai-admin ## create .venv from requirements.lock, install the system packages and the ai-admin command

help: ## list these targets
	@awk -F ':.*## ' '/^[a-z][a-z0-9-]*:.*## / { printf "%-12s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo "The operator's command, after make install: $(BIN)/ai-admin --help (status, pair, send, conversations, failed...)"

system-deps: ## install redis-server (and libmagic1, python3-venv if missing) with apt
	@deploy/install-system-deps.sh "$(PYTHON)"

# Reinstalled whenever the lock file changes; --require-hashes installs exactly what is locked.
$(VENV)/.installed: requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (set PYTHON=...)")'
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	@touch $@

# The operator's command (services/cli). A wrapper rather than `pip install -e .`: the venv's own setuptools
# can't build an editable wheel offline (no `wheel` package), and the lock stays the services' dependencies.
# -P: a `services` directory wherever the operator stands must not shadow this checkout's.
$(BIN)/ai-admin: $(VENV)/.installed Makefile
	@printf '#!/bin/sh\n# Written by make install: the ai-admin CLI of %s\nPYTHONPATH="%s$${PYTHONPATH:+:$$PYTHONPATH}" exec "%s" -P -m services.cli "$$@"\n' \
		"$(CURDIR)" "$(CURDIR)" "$(abspath $(BIN))/python" > $@
	@chmod +x $@

var: ## create var/ (logs, pid file, data, the local Redis's files)
	@mkdir -p var/log var/run var/data var/redis var/supervisor

redis-plan: install var ## use the Redis at REDIS_URL, or plan a project-local redis-server when none answers
	@$(REDIS_PLAN)

run: redis-plan ## run the whole stack in the foreground (Ctrl-C stops it)
	@echo "Starting wa-gateway, api, worker and scheduler in the foreground (Ctrl-C stops everything)."
	@echo "  health:  curl 127.0.0.1:$${WA_GATEWAY_PORT:-3003}/health    curl 127.0.0.1:$${API_PORT:-3000}/health"
	@echo "  status:  $(SUPERVISORCTL) status        logs: make logs"
	@exec $(SUPERVISOR) -n

# Checked before the Redis plan: with the stack's own Redis up, the plan would drop its program file.
start: install var ## run the stack in the background under supervisord (already running: says so)
	@if $(SUPERVISORCTL) pid >/dev/null 2>&1; then \
		echo "The stack is already running (make status shows it; make stop stops it)."; exit 0; \
	fi; \
	pid=$$(cat $(PIDFILE) 2>/dev/null); \
	if $(SUPERVISORD_ALIVE); then \
		echo "The stack is still stopping (supervisord pid $$pid); run make stop, which waits for it." >&2; exit 1; \
	fi; \
	$(REDIS_PLAN) && $(SUPERVISOR)
	@# Returns once the gateway and the api answer /health and a worker listens on the queue (not a fixed sleep).
	@$(BIN)/python -m shared.cli wait-ready || { $(SUPERVISORCTL) status; exit 1; }
	@$(SUPERVISORCTL) status || true
	@echo "health: curl 127.0.0.1:$${WA_GATEWAY_PORT:-3003}/health    curl 127.0.0.1:$${API_PORT:-3000}/health"

stop: ## stop the background stack; returns once supervisord and every program have exited
	@pid=$$(cat $(PIDFILE) 2>/dev/null); \
	if ! $(SUPERVISORD_ALIVE); then echo "The stack is not running."; exit 0; fi; \
	$(SUPERVISORCTL) shutdown >/dev/null 2>&1; \
	echo "Stopping the stack (supervisord pid $$pid; the worker may finish its current job first)..."; \
	for i in $$(seq $$(( $(STOP_TIMEOUT_SECONDS) * 5 ))); do \
		$(SUPERVISORD_ALIVE) || { echo "Stopped."; exit 0; }; sleep 0.2; \
	done; \
	echo "supervisord (pid $$pid) still runs after $(STOP_TIMEOUT_SECONDS) s; see var/log/supervisord.log" >&2; exit 1

restart: ## restart every program of the running stack
	@$(SUPERVISORCTL) restart all

status: ## each program's state (RUNNING, STARTING, FATAL...)
	@$(SUPERVISORCTL) status

logs: ## follow the four programs' console logs
	@tail -n 50 -F var/log/wa-gateway.out.log var/log/api.out.log var/log/worker.out.log var/log/scheduler.out.log

# Talk to the running stack as a WhatsApp client (through the simulator): `make run` in another terminal first.
chat: install ## talk to the running stack as a WhatsApp client, through the simulator
	@$(BIN)/python -m services.wa_gateway.chat

lint: install ## ruff check and ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install ## mypy --strict
	$(BIN)/mypy

# Only for the tests: the operator page's browser test drives Debian's Chromium (Playwright can't download its own offline).
test-deps: ## install what only the tests need (Chromium for the browser test) with apt, when missing
	@deploy/install-system-deps.sh "$(PYTHON)" --with-browser

test: install test-deps lint typecheck ## lint, type checks and the whole test suite
	$(BIN)/pytest

# About 10 minutes; its own redis-server and stacks on free ports. bench/reports/bench.md says what each figure means.
bench: install ## ingest, latency, worker throughput, memory, cold start, Redis bytes, turn time (bench/reports/bench.md)
	@deploy/install-system-deps.sh "$(PYTHON)" --with-bench
	$(BIN)/python -m bench

# The dialogue corpus through the real stack on both booking backends; writes bench/reports/eval.md.
eval: install ## the dialogue corpus through the real stack on both booking backends (bench/reports/eval.md)
	$(BIN)/python -m bench.eval

clean: ## remove .venv and the tools' caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
