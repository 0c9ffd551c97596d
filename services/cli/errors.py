"""The one way a command fails: a line for the operator and an exit code, never a traceback."""

from __future__ import annotations

EXIT_PROBLEM = 1
"""Something is wrong with the stack: a service is down, refused, or WhatsApp is not connected."""
EXIT_USAGE = 2
"""Bad arguments or configuration (click uses 2 for usage errors too)."""


class CliError(Exception):
    def __init__(self, message: str, exit_code: int = EXIT_PROBLEM) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
