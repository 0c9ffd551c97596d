"""The salon catalog file (``CATALOG_PATH``): the contract documented in ``docs/catalog.md``.

The ``local`` backend is seeded from it at start; a mistake in it stops the process with one line
naming the file and the entry, as a bad setting does.
"""

from __future__ import annotations

import functools
import re
from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shared.booking.models import Interval
from shared.errors import ConfigurationError
from shared.wire import CompanyId

DEMO_CATALOG = Path(__file__).with_name("demo_salon.yaml")
"""The demo salon shipped in the repository: the default, so a fresh machine has a salon to book."""

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CatalogCompany(_Entry):
    id: CompanyId
    title: Annotated[str, Field(min_length=1)]
    address: str = ""
    phone: str = ""
    timezone: str = "Europe/Moscow"

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


class CatalogService(_Entry):
    id: Annotated[int, Field(gt=0)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    category: str = ""
    price_min: Annotated[int, Field(ge=0)]
    price_max: Annotated[int, Field(ge=0)]
    duration_minutes: Annotated[int, Field(gt=0, le=24 * 60)]
    description: str = ""

    @model_validator(mode="after")
    def _price_range(self) -> CatalogService:
        if self.price_max < self.price_min:
            raise ValueError("price_max is less than price_min")
        return self


def parse_hours(text: str) -> tuple[Interval, ...]:
    """``"10:00-14:00, 15:00-20:00"`` -> intervals; a comma separates a break."""
    intervals = []
    for part in text.split(","):
        match = _HOURS.match(part)
        if not match:
            raise ValueError(f"hours {part.strip()!r} are not HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(group) for group in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            raise ValueError(f"hours {part.strip()!r} are not a time of day")
        start, end = time(h1, m1), time(23, 59) if h2 == 24 else time(h2, m2)
        if end <= start:
            raise ValueError(f"hours {part.strip()!r} end before they start")
        intervals.append(Interval(start=start, end=end))
    return tuple(sorted(intervals, key=lambda interval: interval.start))


class CatalogStaff(_Entry):
    id: Annotated[int, Field(gt=0)]
    name: Annotated[str, Field(min_length=1, max_length=100)]
    specialization: str = ""
    service_ids: Annotated[list[int], Field(min_length=1)]
    schedule: dict[Weekday, str] = Field(default_factory=dict)

    @field_validator("schedule")
    @classmethod
    def _hours_parse(cls, value: dict[Weekday, str]) -> dict[Weekday, str]:
        for hours in value.values():
            parse_hours(hours)
        return value

    def hours(self, weekday: int) -> tuple[Interval, ...]:
        """Intervals for ``date.weekday()`` (0 = Monday); empty on a day off."""
        text = self.schedule.get(WEEKDAYS[weekday])
        return parse_hours(text) if text else ()


class Catalog(_Entry):
    company: CatalogCompany
    slot_step_minutes: Annotated[int, Field(gt=0, le=240)] = 30
    services: Annotated[list[CatalogService], Field(min_length=1)]
    staff: Annotated[list[CatalogStaff], Field(min_length=1)]

    @model_validator(mode="after")
    def _references(self) -> Catalog:
        service_ids = [service.id for service in self.services]
        if len(set(service_ids)) != len(service_ids):
            raise ValueError("services: two services share an id")
        staff_ids = [member.id for member in self.staff]
        if len(set(staff_ids)) != len(staff_ids):
            raise ValueError("staff: two staff members share an id")
        for member in self.staff:
            unknown = set(member.service_ids) - set(service_ids)
            if unknown:
                raise ValueError(f"staff {member.id} ({member.name}): unknown service_ids {sorted(unknown)}")
        return self


def load_catalog(path: Path) -> Catalog:
    """Read and validate a catalog, or raise ConfigurationError naming CATALOG_PATH and the problem.

    Parsed once per file version: the worker parses it at start, and every work horse RQ forks
    inherits the result instead of parsing the YAML again for each job.
    """
    try:
        version = path.stat().st_mtime_ns
    except OSError as error:
        raise ConfigurationError(f"CATALOG_PATH: cannot read {path}: {error.strerror}") from None
    return _parsed(path, version)


@functools.lru_cache(maxsize=4)
def _parsed(path: Path, version: int) -> Catalog:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigurationError(f"CATALOG_PATH: cannot read {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise ConfigurationError(f"CATALOG_PATH: {path} is not valid YAML: {error}") from None
    try:
        return Catalog.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigurationError(f"CATALOG_PATH: {path}: {where + ': ' if where else ''}{message}") from None
