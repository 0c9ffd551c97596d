"""The receptionist's commands (the original's names and parameters) and what running one returned.

Stage 1 (the embedded policy, or an LLM through tools) decides commands; the executor runs them
against the booking backend; stage 2 writes the reply from the steps. A step's ``outcome`` is what
the backend confirmed, never what was hoped for.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

CommandName = Literal[
    "SEARCH_SLOTS",
    "CREATE_BOOKING",
    "CANCEL_BOOKING",
    "RESCHEDULE_BOOKING",
    "SHOW_PRICES",
    "EXPLAIN_SERVICE",
    "CHECK_STAFF_SCHEDULE",
    "SHOW_BOOKINGS",
    "SAVE_CLIENT_NAME",
]
COMMAND_NAMES: tuple[CommandName, ...] = get_args(CommandName)
SIDE_EFFECTS: frozenset[str] = frozenset({"CREATE_BOOKING", "CANCEL_BOOKING", "RESCHEDULE_BOOKING"})
MAX_COMMANDS_PER_TURN = 10
"""As the original: a turn that wants more is cut, the rest is for the next turn."""

PARAMETERS: dict[str, dict[str, Any]] = {
    "SEARCH_SLOTS": {
        "description": "Find free times for a service on a date (the backend's free slots only).",
        "properties": {
            "service_name": {"type": "string", "description": "Service title as in the catalog"},
            "date": {"type": "string", "description": "YYYY-MM-DD; empty for the nearest days with free time"},
            "staff_name": {"type": "string", "description": "Staff member, if the client named one"},
            "time_from": {"type": "string", "description": "HH:MM, earliest start the client accepts"},
            "time_to": {"type": "string", "description": "HH:MM, the start must be before this"},
        },
        "required": ["service_name", "date"],
    },
    "CREATE_BOOKING": {
        "description": "Book the client for a service at a date and time (only a time the backend offered).",
        "properties": {
            "service_name": {"type": "string"},
            "date": {"type": "string", "description": "YYYY-MM-DD"},
            "time": {"type": "string", "description": "HH:MM"},
            "staff_name": {"type": "string"},
            "client_name": {"type": "string", "description": "The client's name, if known"},
        },
        "required": ["service_name", "date", "time"],
    },
    "CANCEL_BOOKING": {
        "description": "Cancel one of the client's bookings (asks which when there are several).",
        "properties": {
            "booking_id": {"type": "integer", "description": "Id from SHOW_BOOKINGS"},
            "date": {"type": "string", "description": "YYYY-MM-DD of the booking to cancel"},
        },
        "required": [],
    },
    "RESCHEDULE_BOOKING": {
        "description": "Move one of the client's bookings to a new date and time.",
        "properties": {
            "date": {"type": "string", "description": "YYYY-MM-DD"},
            "time": {"type": "string", "description": "HH:MM; empty to see free times that day"},
            "booking_id": {"type": "integer"},
        },
        "required": ["date", "time"],
    },
    "SHOW_PRICES": {
        "description": "Prices of one service, or of the whole catalog when service_name is empty.",
        "properties": {"service_name": {"type": "string"}},
        "required": [],
    },
    "EXPLAIN_SERVICE": {
        "description": "What a service is: description, duration and price.",
        "properties": {"service_name": {"type": "string"}},
        "required": ["service_name"],
    },
    "CHECK_STAFF_SCHEDULE": {
        "description": "When a staff member works (on a date, or the next seven days).",
        "properties": {"staff_name": {"type": "string"}, "date": {"type": "string", "description": "YYYY-MM-DD"}},
        "required": ["staff_name"],
    },
    "SHOW_BOOKINGS": {"description": "The client's upcoming bookings.", "properties": {}, "required": []},
    "SAVE_CLIENT_NAME": {
        "description": "Remember the client's name.",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
    },
}


def param_date(day: date | None) -> str | None:
    """A date as commands take it: ``YYYY-MM-DD``."""
    return None if day is None else day.isoformat()


def param_time(moment: time | None) -> str | None:
    """A time of day as commands take it: ``HH:MM``."""
    return None if moment is None else f"{moment:%H:%M}"


class Command(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: CommandName
    params: dict[str, Any] = Field(default_factory=dict)


class Step(BaseModel):
    """One thing the turn did or found, in order: a command and its outcome, or a clarification.

    ``name`` is a command name, or ``CLARIFY`` for a question the policy asks without a command
    (which service, which day). ``data`` is plain JSON, so an LLM can read it as a tool result.
    """

    name: str
    params: dict[str, Any] = Field(default_factory=dict)
    outcome: str
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def confirmed_change(self) -> bool:
        """A booking made, cancelled or moved, as the backend confirmed it."""
        return self.outcome in ("booked", "already_booked", "cancelled", "rescheduled")


def tool_definitions() -> list[dict[str, Any]]:
    """The commands as OpenAI-style function tools: names exactly as above, JSON-schema parameters."""
    tools = []
    for name in COMMAND_NAMES:
        spec = PARAMETERS[name]
        tools.append(
            {
                "type": "function",
                "function": {
                    "name": name,
                    "description": spec["description"],
                    "parameters": {
                        "type": "object",
                        "properties": spec["properties"],
                        "required": spec["required"],
                        "additionalProperties": False,
                    },
                },
            }
        )
    return tools
