"""structlog, configured once per process.

Two outputs: JSON lines to ``LOG_DIR/<service>.json.log`` (rotated, for grep and tools), and
stdout, readable in development and JSON in production (supervisord captures and rotates it).
Bind ``company_id``, ``chat`` and ``message_id``/``batch_id`` with :func:`bound` so one grep
follows a message through all three services.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import structlog

from shared.config import CommonSettings

LOG_FILE_MAX_BYTES = 20 * 1024 * 1024
"""Rotation size: the original filled a disk with 17 GB of unrotated logs."""
LOG_FILE_BACKUPS = 5

_SECRET_FIELDS = frozenset({"api_key", "webhook_secret", "x-api-key", "x-signature", "authorization", "password"})


def _redact_secrets(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    for key in list(event_dict):
        if key.lower() in _SECRET_FIELDS:
            event_dict[key] = "***"
    return event_dict


class _RotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Rotates on the file's size alone.

    The stdlib's check renders every record a second time (and stats the file) to learn its length
    before writing it: half of a busy api's logging cost. A file may now end one line past maxBytes.
    """

    def shouldRollover(self, record: logging.LogRecord) -> bool:
        if self.stream is None:
            self.stream = self._open()
        return self.maxBytes > 0 and self.stream.tell() >= self.maxBytes


_process_fields: dict[str, Any] = {}
"""Fields every line of this process carries, from any thread: contextvars bound in the main thread don't reach
the threads (RQ's scheduler, a job's heartbeat), so ``service`` and ``worker_process`` live here."""


def _add_process_fields(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    for key, value in _process_fields.items():
        event_dict.setdefault(key, value)
    return event_dict


def bind_process(**fields: Any) -> None:
    """Add fields to every line this process logs from now on, whichever thread logs it."""
    _process_fields.update(fields)


def _json_log_file(path: Path) -> _RotatingFileHandler:
    return _RotatingFileHandler(path, maxBytes=LOG_FILE_MAX_BYTES, backupCount=LOG_FILE_BACKUPS, encoding="utf-8")


def configure_logging(service: str, settings: CommonSettings) -> None:
    """The only ``structlog.configure`` call of a process; its JSON log is ``<service>.json.log``."""
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    shared_processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _add_process_fields,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact_secrets,
    ]
    structlog.configure(
        processors=[*shared_processors, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    bind_process(service=service)

    def formatter(renderer: Any) -> logging.Formatter:
        return structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared_processors,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )

    json_renderer = structlog.processors.JSONRenderer(ensure_ascii=False)  # readable Russian in `grep` and `jq`
    console_json = settings.log_format == "json" or (settings.log_format == "auto" and settings.app_env == "production")
    file_handler = _json_log_file(Path(settings.log_dir) / f"{service}.json.log")
    file_handler.setFormatter(formatter(json_renderer))
    stream_handler = logging.StreamHandler(sys.stdout)
    stream_handler.setFormatter(
        formatter(
            json_renderer
            if console_json
            else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
        )
    )
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(file_handler)
    root.addHandler(stream_handler)
    root.setLevel(settings.log_level)
    # What the stdlib records on every line and no renderer here prints: the caller's file and line (a walk
    # up the stack), thread, process and multiprocessing names. The logging docs' "Optimization" switches.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    # Access logs repeat what our own lines say, and httpx logs every request at INFO.
    for noisy in ("uvicorn.access", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def switch_json_log(log_name: str) -> None:
    """Write this process's JSON lines to ``<log_name>.json.log`` from now on, in the same directory and format.

    For a process forked from one that configured logging: a rotating file can have one writer only, and
    configuring everything again in each forked process would copy about 1 MB of the parent's pages.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _RotatingFileHandler):
            replacement = _json_log_file(Path(handler.baseFilename).with_name(f"{log_name}.json.log"))
            replacement.setFormatter(handler.formatter)
            root.removeHandler(handler)
            root.addHandler(replacement)
            handler.close()  # this process's copy of the file; the parent's stays open


def get_logger(name: str) -> Any:
    return structlog.stdlib.get_logger(name)


@contextmanager
def bound(**context: Any) -> Iterator[None]:
    """Bind correlation fields (company_id, chat, message_id, batch_id) for a block of work."""
    with structlog.contextvars.bound_contextvars(**context):
        yield
