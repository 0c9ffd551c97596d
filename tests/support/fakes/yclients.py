"""A YClients REST API v1 stand-in: a real HTTP server the project's YClients client is tested against.

Written from the public API documentation (API Blueprint), not from the project's booking code, so a
misreading of the protocol in the client shows up as a failing test instead of being mirrored here.

Faithful to YClients:

* base path ``/api/v1``; ``Authorization: Bearer <partner>`` for the booking-form calls (``book_*``,
  ``company``) and ``Bearer <partner>, User <user>`` for the journal (``records``, ``record``,
  ``schedule``, moving a visit with ``PUT book_record``); 401 without them;
* the v2 envelope ``{"success", "data", "meta"}``; errors as ``meta.message`` and, for booking
  errors, the numeric code (431, 433, 435-438) in ``errors`` as well, since the real API is not
  consistent about where it puts it;
* the documented shapes of services, categories, staff, dates, times, records, company, schedule;
  a record's ``datetime`` with the company's offset (``+03:00``) but ``create_date`` and
  ``last_change_date`` with a basic offset (``+0300``), as the documentation's examples show;
* ``records`` lists every client's visits (there is no phone filter), deleted ones only with
  ``with_deleted=1``; a deleted record is still readable by id;
* service ids in any spelling clients send: ``service_ids[]=1``, ``service_ids[0]=1``,
  ``service_ids=1&service_ids=2``, ``service_id=1``, ``service_ids=1,2``;
* 5 requests a second and 200 a minute per client IP, 429 beyond that;
* ``changed_after``/``changed_before`` on ``records`` compare ``last_change_date``, which every change
  (a booking, a move, ``PUT record`` of attendance, a deletion) sets; ``with_deleted=1`` adds deleted ones;
* record webhooks (``hooks_settings``) once a receiver is given (``send_hooks_to``): one POST per created,
  changed or deleted record, ``{company_id, resource: "record", resource_id, status, data}``, unsigned.

Simplified:

* one company, seeded from a catalog YAML (the format of ``shared/booking/demo_salon.yaml``); no
  SMS codes, black lists, group events, custom fields, resources, payments or documents;
* a visit may start at any free time inside one working interval; ``book_times`` offers starts on a
  grid of ``slot_step_minutes`` counted from each interval's opening; no DST handling beyond
  ``zoneinfo``'s offsets;
* "any master" (``staff_id`` 0) is given the first staff member, in catalog order, who does all the
  services and is free;
* a record that did not come to the visit (``attendance`` -1) or was deleted frees its time;
* ``PUT record`` with ``save_if_busy: false`` checks the time only when staff, time or length change,
  so marking a past visit as arrived works; ``PUT book_record`` and the booking form refuse the past;
* unknown service ids make the availability calls answer empty lists; an unknown staff id is 404;
  an ``Accept`` that allows no JSON is 406 (the documentation does not say what YClients does);
* an administrator's changes in the journal (``add_record``, ``move_record``, ``cancel_record``) skip every
  check but a taken time for a new visit, and ``add_record`` can backdate a booking made days ago;
* the rate limiter counts refused requests too, so a client that hammers after a 429 stays refused.
  The limits are YClients' published ones, not part of the API Blueprint.
"""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import httpx
import uvicorn
import yaml
from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BASE_PATH = "/api/v1"
HEALTH_PATH = "/__standin__/health"
"""Outside the API so waiting for the server neither shows in the request log nor spends the rate limit."""

FIRST_RECORD_ID = 500_000
FIRST_CLIENT_ID = 700_000
HORIZON_DAYS = 62
"""How far ahead ``book_staff`` looks for a staff member's nearest free day."""

ACCEPTED_MEDIA_TYPES = frozenset(
    {"application/vnd.yclients.v2+json", "application/vnd.api.v2+json", "application/json", "application/*", "*/*"}
)
AVATAR = "https://yclients.com/images/no-master.png"
MONTHS_GENITIVE = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_SERVICE_KEY = re.compile(r"^service_ids?(\[\d*\])?$")

SLOT_TAKEN = "Выбранное время уже занято или является нерабочим."


# --- the catalog -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Service:
    id: int
    title: str
    category_id: int
    price_min: int
    price_max: int
    minutes: int
    comment: str
    weight: int


@dataclass(frozen=True, slots=True)
class _Category:
    id: int
    title: str
    weight: int


@dataclass(frozen=True, slots=True)
class _Staff:
    id: int
    name: str
    specialization: str
    position_id: int
    service_ids: frozenset[int]
    weight: int
    hours: Mapping[int, tuple[tuple[int, int], ...]]
    """``date.weekday()`` -> working intervals as minutes from midnight; a missing day is a day off."""

    def does(self, service_ids: Iterable[int]) -> bool:
        return set(service_ids) <= self.service_ids


@dataclass(frozen=True, slots=True)
class _Catalog:
    company_id: str
    title: str
    address: str
    phone: str
    zone_name: str
    zone: ZoneInfo
    step_minutes: int
    services: Mapping[int, _Service]
    categories: tuple[_Category, ...]
    staff: Mapping[int, _Staff]
    positions: Mapping[int, str]


def _parse_hours(text: str) -> tuple[tuple[int, int], ...]:
    intervals = []
    for part in text.split(","):
        match = _HOURS.match(part)
        if not match:
            raise ValueError(f"working hours {part.strip()!r} are not HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(group) for group in match.groups())
        opens, closes = h1 * 60 + m1, h2 * 60 + m2
        if not 0 <= opens < closes <= 24 * 60:
            raise ValueError(f"working hours {part.strip()!r} are not an interval of one day")
        intervals.append((opens, closes))
    return tuple(sorted(intervals))


def _load_catalog(path: Path) -> _Catalog:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    company = raw["company"]
    zone_name = str(company.get("timezone") or "Europe/Moscow")
    services_raw = raw["services"]
    staff_raw = raw["staff"]
    # YClients has numeric category ids; the catalog names categories, so number them in order of appearance.
    category_ids: dict[str, int] = {}
    for entry in services_raw:
        category_ids.setdefault(str(entry.get("category") or ""), len(category_ids) + 1)
    categories = tuple(
        _Category(id=number, title=title, weight=len(category_ids) - number + 1)
        for title, number in category_ids.items()
    )
    # Weights: YClients sorts heavier first, so descending weights keep the catalog's order.
    services = {
        int(entry["id"]): _Service(
            id=int(entry["id"]),
            title=str(entry["title"]),
            category_id=category_ids[str(entry.get("category") or "")],
            price_min=int(entry["price_min"]),
            price_max=int(entry["price_max"]),
            minutes=int(entry["duration_minutes"]),
            comment=str(entry.get("description") or ""),
            weight=len(services_raw) - index,
        )
        for index, entry in enumerate(services_raw)
    }
    position_ids: dict[str, int] = {}
    for entry in staff_raw:
        position_ids.setdefault(str(entry.get("specialization") or ""), len(position_ids) + 1)
    staff = {
        int(entry["id"]): _Staff(
            id=int(entry["id"]),
            name=str(entry["name"]),
            specialization=str(entry.get("specialization") or ""),
            position_id=position_ids[str(entry.get("specialization") or "")],
            service_ids=frozenset(int(service_id) for service_id in entry["service_ids"]),
            weight=len(staff_raw) - index,
            hours={WEEKDAYS.index(day): _parse_hours(str(text)) for day, text in (entry.get("schedule") or {}).items()},
        )
        for index, entry in enumerate(staff_raw)
    }
    return _Catalog(
        company_id=str(company["id"]),
        title=str(company["title"]),
        address=str(company.get("address") or ""),
        phone=str(company.get("phone") or ""),
        zone_name=zone_name,
        zone=ZoneInfo(zone_name),
        step_minutes=int(raw.get("slot_step_minutes") or 30),
        services=services,
        categories=categories,
        staff=staff,
        positions={number: title for title, number in position_ids.items()},
    )


# --- the journal -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Client:
    id: int
    name: str
    phone: str
    """Digits only, ``79001234567``; shown as ``+79001234567`` as YClients shows it."""
    email: str


@dataclass(slots=True)
class _Line:
    """One service inside a record, with the prices the record was made for."""

    service_id: int
    first_cost: float
    discount: float
    cost: float


@dataclass(slots=True)
class _Record:
    id: int
    staff_id: int
    lines: list[_Line]
    client_id: int
    start: datetime
    """UTC: comparisons of aware datetimes sharing one ZoneInfo ignore the offset, UTC ones do not."""
    seconds: int
    comment: str
    online: bool
    master_request: bool
    attendance: int
    deleted: bool
    created: datetime
    changed: datetime
    api_id: str
    sms_before: int

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.seconds)

    @property
    def blocks_time(self) -> bool:
        return not self.deleted and self.attendance != -1


@dataclass(slots=True)
class _Appointment:
    key: Any
    """The caller's own id for the appointment; YClients echoes it back."""
    service_ids: list[int]
    staff_id: int
    start: datetime


@dataclass(slots=True)
class RequestLogEntry:
    """One request as the stand-in saw it; ``status`` 0 means no response was sent (yet, or ever)."""

    time: float
    method: str
    path: str
    """Relative to ``/api/v1``, without a leading slash: ``book_times/962302/2001/2026-11-24``."""
    query: str
    status: int = 0
    client: str = ""


FaultKind = Literal["fail", "delay", "break"]


@dataclass(slots=True)
class _Fault:
    kind: FaultKind
    method: str
    path_prefix: str
    remaining: int
    status: int = 500
    seconds: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        return self.remaining > 0 and method == self.method and path.startswith(self.path_prefix)


class _ApiError(Exception):
    def __init__(self, status: int, message: str, *, code: int | None = None, appointment: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.appointment = appointment


def _ok(data: Any, meta: Any = None) -> dict[str, Any]:
    return {"success": True, "data": data, "meta": [] if meta is None else meta}


def _error_body(error: _ApiError) -> dict[str, Any]:
    body: dict[str, Any] = {"success": False, "data": None, "meta": {"message": error.message}}
    if error.code is not None:
        body["errors"] = {"code": error.code, "message": error.message}
        if error.appointment is not None:
            body["errors"]["id"] = error.appointment
    return body


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


def _basic_offset(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S%z")


def _day_range(first: date, last: date) -> list[date]:
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def _by_month(days: list[date]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for day in days:
        grouped.setdefault(str(day.month), []).append(str(day.day))
    return grouped


class _Salon:
    """The company's state and YClients' rules; every method runs under the stand-in's lock."""

    def __init__(self, catalog: _Catalog, now: Callable[[], datetime]) -> None:
        self.catalog = catalog
        self.now = now
        self.records: dict[int, _Record] = {}
        self.clients: dict[int, _Client] = {}
        self.next_record_id = FIRST_RECORD_ID
        self.next_client_id = FIRST_CLIENT_ID
        self.events: list[tuple[int, str]] = []
        """(record id, create/update/delete) since the last webhook delivery, in order."""

    # time and availability

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.catalog.zone)

    def at(self, day: date, minute: int) -> datetime:
        midnight = datetime(day.year, day.month, day.day, tzinfo=self.catalog.zone)
        return (midnight + timedelta(minutes=minute)).astimezone(UTC)

    def parse_instant(self, value: object) -> datetime | None:
        """ISO 8601 as clients send it; a time without an offset is the company's local time."""
        if not isinstance(value, str) or not value.strip():
            return None
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.catalog.zone)
        return moment.astimezone(UTC)

    def intervals(self, staff: _Staff, day: date) -> list[tuple[datetime, datetime]]:
        return [(self.at(day, opens), self.at(day, closes)) for opens, closes in staff.hours.get(day.weekday(), ())]

    def length(self, service_ids: Iterable[int]) -> int:
        """Seconds; with no services YClients still needs a length, take one grid step."""
        minutes = sum(self.catalog.services[service_id].minutes for service_id in service_ids)
        return (minutes or self.catalog.step_minutes) * 60

    def overlaps(self, staff_id: int, start: datetime, end: datetime, ignore: int | None = None) -> bool:
        return any(
            record.staff_id == staff_id
            and record.blocks_time
            and record.id != ignore
            and record.start < end
            and start < record.end
            for record in self.records.values()
        )

    def within_hours(self, staff: _Staff, start: datetime, end: datetime) -> bool:
        day = self.local(start).date()
        return any(opens <= start and end <= closes for opens, closes in self.intervals(staff, day))

    def bookable(self, staff: _Staff, start: datetime, seconds: int, *, ignore: int | None = None) -> bool:
        end = start + timedelta(seconds=seconds)
        return (
            start > self.now()
            and self.within_hours(staff, start, end)
            and not self.overlaps(staff.id, start, end, ignore)
        )

    def seances(self, staff: _Staff, day: date, seconds: int) -> list[datetime]:
        step, length, now = timedelta(minutes=self.catalog.step_minutes), timedelta(seconds=seconds), self.now()
        starts = []
        for opens, closes in self.intervals(staff, day):
            start = opens
            while start + length <= closes:
                if start > now and not self.overlaps(staff.id, start, start + length):
                    starts.append(start)
                start += step
        return starts

    def eligible(self, service_ids: list[int]) -> list[_Staff]:
        return [member for member in self.catalog.staff.values() if member.does(service_ids)]

    def known(self, service_ids: list[int]) -> bool:
        return all(service_id in self.catalog.services for service_id in service_ids)

    def staff_or_404(self, staff_id: int) -> _Staff:
        member = self.catalog.staff.get(staff_id)
        if member is None:
            raise _ApiError(404, "Сотрудник не найден.")
        return member

    def candidates(self, staff_id: int, service_ids: list[int]) -> list[_Staff]:
        """Who may take these services: the named staff member (if they do them) or, for 0, anyone who does."""
        member = self.staff_or_404(staff_id) if staff_id else None
        if not self.known(service_ids):
            return []
        if member is not None:
            return [member] if member.does(service_ids) else []
        return self.eligible(service_ids)

    # clients and records

    def client_for(self, phone_digits: str, name: str, email: str) -> _Client:
        for client in self.clients.values():
            if client.phone == phone_digits:
                # YClients keeps the client card as it is; a new booking only fills what was missing.
                client.email = client.email or email
                return client
        client = _Client(id=self.next_client_id, name=name, phone=phone_digits, email=email)
        self.clients[client.id] = client
        self.next_client_id += 1
        return client

    def add(self, *, staff_id: int, service_ids: list[int], client: _Client, start: datetime, **fields: Any) -> _Record:
        now = self.now().replace(microsecond=0)
        lines = [
            _Line(service_id=service.id, first_cost=service.price_min, discount=0, cost=service.price_min)
            for service in (self.catalog.services[service_id] for service_id in service_ids)
        ]
        record = _Record(
            id=self.next_record_id,
            staff_id=staff_id,
            lines=lines,
            client_id=client.id,
            start=start,
            seconds=self.length(service_ids),
            comment=str(fields.get("comment") or ""),
            online=bool(fields.get("online", False)),
            master_request=bool(fields.get("master_request", True)),
            attendance=0,
            deleted=False,
            created=now,
            changed=now,
            api_id=str(fields.get("api_id") or ""),
            sms_before=int(fields.get("sms_before") or 0),
        )
        self.records[record.id] = record
        self.next_record_id += 1
        self.events.append((record.id, "create"))
        return record

    def touch(self, record: _Record) -> None:
        record.changed = self.now().replace(microsecond=0)
        self.events.append((record.id, "delete" if record.deleted else "update"))

    def record_or_404(self, raw_id: str, *, live: bool) -> _Record:
        record = self.records.get(int(raw_id)) if raw_id.isdigit() else None
        if record is None or (live and record.deleted):
            raise _ApiError(404, "Запись не найдена.")
        return record

    # JSON shapes

    def company_json(self) -> dict[str, Any]:
        catalog = self.catalog
        return {
            "id": int(catalog.company_id) if catalog.company_id.isdigit() else catalog.company_id,
            "title": catalog.title,
            "country_id": 1,
            "country": "Россия",
            "city_id": 1,
            "city": catalog.address.split(",")[0].strip() if "," in catalog.address else "",
            "timezone": catalog.zone_name,
            "address": catalog.address,
            "coordinate_lat": 55.755826,
            "coordinate_lon": 37.6173,
            "phone": catalog.phone,
            "phone_confirmation": False,
            "active_staff_count": len(catalog.staff),
            "group_priority": 900,
        }

    def position_json(self, member: _Staff) -> dict[str, Any]:
        return {"id": member.position_id, "title": self.catalog.positions[member.position_id]}

    def staff_brief_json(self, member: _Staff) -> dict[str, Any]:
        return {
            "id": member.id,
            "api_id": None,
            "name": member.name,
            "specialization": member.specialization,
            "position": self.position_json(member),
            "avatar": AVATAR,
            "avatar_big": AVATAR,
            "rating": 0,
            "votes_count": 0,
        }

    def client_json(self, client: _Client) -> dict[str, Any]:
        return {
            "id": client.id,
            "name": client.name,
            "phone": f"+{client.phone}",
            "card": "",
            "email": client.email,
            "success_visits_count": 0,
            "fail_visits_count": 0,
        }

    def record_json(self, record: _Record) -> dict[str, Any]:
        local = self.local(record.start)
        services = []
        for line in record.lines:
            service = self.catalog.services[line.service_id]
            services.append(
                {
                    "id": service.id,
                    "title": service.title,
                    "cost": _number(line.cost),
                    "manual_cost": _number(line.cost),
                    "cost_per_unit": _number(line.cost),
                    "discount": _number(line.discount),
                    "first_cost": _number(line.first_cost),
                    "amount": 1,
                }
            )
        company_id = self.catalog.company_id
        return {
            "id": record.id,
            "company_id": int(company_id) if company_id.isdigit() else company_id,
            "staff_id": record.staff_id,
            "services": services,
            "goods_transactions": [],
            "staff": self.staff_brief_json(self.catalog.staff[record.staff_id]),
            "client": self.client_json(self.clients[record.client_id]),
            "clients_count": 1,
            "date": local.strftime("%Y-%m-%d %H:%M:%S"),
            "datetime": local.isoformat(),
            "create_date": _basic_offset(self.local(record.created)),
            "comment": record.comment,
            "online": record.online,
            "visit_attendance": record.attendance,
            "attendance": record.attendance,
            "confirmed": 1,
            "seance_length": record.seconds,
            "length": record.seconds,
            "sms_before": record.sms_before,
            "sms_now": 0,
            "sms_now_text": "",
            "email_now": 0,
            "notified": 0,
            "master_request": int(record.master_request),
            "api_id": record.api_id,
            "from_url": "",
            "review_requested": 0,
            "visit_id": str(8_000_000 + record.id),
            "created_user_id": 0 if record.online else 1,
            "deleted": record.deleted,
            "paid_full": 0,
            "prepaid": False,
            "prepaid_confirmed": False,
            "last_change_date": _basic_offset(self.local(record.changed)),
            "custom_color": "",
            "custom_font_color": "",
            "record_labels": [],
            "activity_id": 0,
            "custom_fields": {},
            "documents": [],
            "consumables": [],
            "finance_transactions": [],
        }

    def slot_taken(self, member: _Staff, start: datetime, appointment: Any = None) -> _ApiError:
        local = self.local(start)
        when = f"{local.day} {MONTHS_GENITIVE[local.month - 1]} {local.year} в {local:%H:%M}"
        message = f"К сотруднику {member.name}({member.id}) нельзя записаться на {when}. {SLOT_TAKEN}"
        return _ApiError(422, message, code=433, appointment=appointment)


# --- request parsing ---------------------------------------------------------------------------


def _int_param(query: QueryParams, name: str, default: int) -> int:
    value = query.get(name)
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError:
        raise _ApiError(400, f"Некорректное значение параметра {name}.") from None


def _service_ids(query: QueryParams) -> list[int]:
    ids: list[int] = []
    for key, value in query.multi_items():
        if not _SERVICE_KEY.match(key):
            continue
        for piece in value.split(","):
            if piece.strip():
                try:
                    ids.append(int(piece))
                except ValueError:
                    raise _ApiError(400, "Некорректное значение параметра service_ids.") from None
    return list(dict.fromkeys(ids))


def _path_int(raw: str, what: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise _ApiError(404, f"{what} не найден.") from None


def _path_day(raw: str) -> date:
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise _ApiError(422, f"Некорректная дата {raw!r}.") from None


def _flag(query: QueryParams, name: str) -> bool:
    return (query.get(name) or "").strip().lower() in {"1", "true"}


def _int_list(value: object) -> list[int] | None:
    if not isinstance(value, list):
        return None
    try:
        return [int(item) for item in value]
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class _Call:
    params: Mapping[str, str]
    query: QueryParams
    body: Any


Handler = Callable[[_Call], tuple[int, Any]]
"""Returns the HTTP status and the whole JSON body, or ``None`` for an empty body."""


# --- the endpoints -----------------------------------------------------------------------------


class _Api:
    """YClients' endpoints over a ``_Salon``: parsing, rules and the documented answers."""

    def __init__(self, salon: _Salon) -> None:
        self.salon = salon

    # the booking form (partner token)

    def book_services(self, call: _Call) -> tuple[int, Any]:
        salon = self.salon
        staff_id = _int_param(call.query, "staff_id", 0)
        member = salon.staff_or_404(staff_id) if staff_id else None
        at = salon.parse_instant(call.query.get("datetime"))
        services = [
            service
            for service in salon.catalog.services.values()
            if (member is None or service.id in member.service_ids)
            and (at is None or self._bookable_at(member, service, at))
        ]
        category_ids = {service.category_id for service in services}
        return 200, _ok(
            {
                "events": [],
                "services": [self._service_json(service, with_length=member is not None) for service in services],
                "category": [
                    {"id": category.id, "title": category.title, "sex": 0, "weight": category.weight, "api_id": "0"}
                    for category in salon.catalog.categories
                    if category.id in category_ids
                ],
            }
        )

    def _bookable_at(self, member: _Staff | None, service: _Service, at: datetime) -> bool:
        staff = [member] if member else self.salon.eligible([service.id])
        return any(self.salon.bookable(each, at, service.minutes * 60) for each in staff)

    @staticmethod
    def _service_json(service: _Service, *, with_length: bool) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": service.id,
            "title": service.title,
            "category_id": service.category_id,
            "weight": service.weight,
            "price_min": service.price_min,
            "price_max": service.price_max,
            "discount": 0,
            "comment": service.comment,
            "active": 1,
            "prepaid": "forbidden",
            "sex": 0,
            "image": "",
        }
        if with_length:
            item["seance_length"] = service.minutes * 60
        return item

    def book_staff(self, call: _Call) -> tuple[int, Any]:
        salon = self.salon
        service_ids = _service_ids(call.query)
        members = salon.candidates(0, service_ids)
        seconds = salon.length(service_ids) if members else 0
        at_text = (call.query.get("datetime") or "").strip()
        if at_text:
            members = [member for member in members if self._free_at(member, at_text, seconds)]
        return 200, _ok([self._staff_json(member, seconds) for member in members])

    def _free_at(self, member: _Staff, at_text: str, seconds: int) -> bool:
        if len(at_text) == 10:  # a bare date: any seance that day will do
            return bool(self.salon.seances(member, _path_day(at_text), seconds))
        at = self.salon.parse_instant(at_text)
        if at is None:
            raise _ApiError(400, "Некорректное значение параметра datetime.")
        return self.salon.bookable(member, at, seconds)

    def _staff_json(self, member: _Staff, seconds: int) -> dict[str, Any]:
        today = self.salon.local(self.salon.now()).date()
        horizon = _day_range(today, today + timedelta(days=HORIZON_DAYS))
        nearest = next((day for day in horizon if self.salon.seances(member, day, seconds)), None)
        item: dict[str, Any] = {
            "id": member.id,
            "name": member.name,
            "specialization": member.specialization,
            "position": self.salon.position_json(member),
            "bookable": nearest is not None,
            "weight": member.weight,
            "show_rating": 0,
            "rating": 0,
            "votes_count": 0,
            "comments_count": 0,
            "avatar": AVATAR,
            "information": "",
            "seances": [],
        }
        if nearest is not None:  # the documentation shows it only for bookable staff
            item["seance_date"] = nearest.isoformat()
        return item

    def book_dates(self, call: _Call) -> tuple[int, Any]:
        salon = self.salon
        service_ids = _service_ids(call.query)
        members = salon.candidates(_int_param(call.query, "staff_id", 0), service_ids)
        date_text = (call.query.get("date") or "").strip()
        anchor = _path_day(date_text) if date_text else salon.local(salon.now()).date()
        last = calendar.monthrange(anchor.year, anchor.month)[1]
        month = _day_range(anchor.replace(day=1), anchor.replace(day=last))
        working = [day for day in month if any(member.hours.get(day.weekday()) for member in members)]
        seconds = salon.length(service_ids) if members else 0
        booking = [day for day in working if any(salon.seances(member, day, seconds) for member in members)]
        return 200, _ok(
            {
                "booking_days": _by_month(booking),
                "booking_dates": [day.isoformat() for day in booking],
                "working_days": _by_month(working),
                "working_dates": [day.isoformat() for day in working],
            }
        )

    def book_times(self, call: _Call) -> tuple[int, Any]:
        salon = self.salon
        service_ids = _service_ids(call.query)
        members = salon.candidates(_path_int(call.params["staff_id"], "Сотрудник"), service_ids)
        day = _path_day(call.params["date"])
        seconds = salon.length(service_ids) if members else 0
        starts = sorted({start for member in members for start in salon.seances(member, day, seconds)})
        return 200, _ok(
            [
                {
                    "time": salon.local(start).strftime("%H:%M"),
                    "seance_length": seconds,
                    "sum_length": seconds,
                    "datetime": salon.local(start).isoformat(),
                }
                for start in starts
            ]
        )

    def book_check(self, call: _Call) -> tuple[int, Any]:
        self._plan(self._appointments(call.body))
        return 201, None

    def book_record(self, call: _Call) -> tuple[int, Any]:
        salon = self.salon
        body = call.body if isinstance(call.body, dict) else {}
        phone = self._phone(body.get("phone"))
        fullname = str(body.get("fullname") or "").strip()
        if not fullname:
            raise _ApiError(422, "Не указано имя клиента.", code=435)
        plan = self._plan(self._appointments(body))
        client = salon.client_for(phone, fullname, str(body.get("email") or ""))
        created = []
        for appointment, member in plan:
            record = salon.add(
                staff_id=member.id,
                service_ids=appointment.service_ids,
                client=client,
                start=appointment.start,
                comment=body.get("comment"),
                online=True,
                master_request=appointment.staff_id != 0,
                api_id=body.get("api_id"),
                sms_before=body.get("notify_by_sms"),
            )
            record_hash = hashlib.md5(str(record.id).encode(), usedforsecurity=False).hexdigest()
            created.append({"id": appointment.key, "record_id": record.id, "record_hash": record_hash})
        return 201, _ok(created)

    @staticmethod
    def _phone(value: object) -> str:
        digits = re.sub(r"[\s+]", "", str(value or ""))
        if not re.fullmatch(r"\d{11}", digits):
            raise _ApiError(422, "Неправильный формат номера телефона.", code=431)
        return digits

    def _appointments(self, body: object) -> list[_Appointment]:
        raw = body.get("appointments") if isinstance(body, dict) else None
        if not isinstance(raw, list) or not raw:
            raise _ApiError(422, "Не переданы параметры записи (appointments).")
        appointments = []
        for item in raw:
            if not isinstance(item, dict):
                raise _ApiError(422, "Некорректные параметры записи.")
            service_ids = _int_list(item.get("services", []))
            start = self.salon.parse_instant(item.get("datetime"))
            try:
                staff_id = int(item.get("staff_id", 0) or 0)
            except (TypeError, ValueError):
                staff_id = -1
            if service_ids is None or start is None or staff_id < 0:
                raise _ApiError(422, "Некорректные параметры записи.", appointment=item.get("id"))
            appointments.append(
                _Appointment(key=item.get("id"), service_ids=service_ids, staff_id=staff_id, start=start)
            )
        return appointments

    def _plan(self, appointments: list[_Appointment]) -> list[tuple[_Appointment, _Staff]]:
        """Who takes each appointment, or the YClients error (438, 436, 437, 433) for the first that fails."""
        salon = self.salon
        planned: list[tuple[_Appointment, _Staff, datetime]] = []
        for appointment in appointments:
            if not salon.known(appointment.service_ids):
                raise _ApiError(422, "Выбранная услуга недоступна для записи.", code=438, appointment=appointment.key)
            seconds = salon.length(appointment.service_ids)
            end = appointment.start + timedelta(seconds=seconds)
            member = self._assign(appointment, seconds, planned)
            if any(
                other.id == member.id and earlier.start < end and appointment.start < earlier_end
                for earlier, other, earlier_end in planned
            ):
                raise _ApiError(
                    422,
                    "Время записи пересекается со временем другой записи из этого же запроса.",
                    code=437,
                    appointment=appointment.key,
                )
            if not salon.bookable(member, appointment.start, seconds):
                raise salon.slot_taken(member, appointment.start, appointment.key)
            planned.append((appointment, member, end))
        return [(appointment, member) for appointment, member, _ in planned]

    def _assign(
        self, appointment: _Appointment, seconds: int, planned: list[tuple[_Appointment, _Staff, datetime]]
    ) -> _Staff:
        salon = self.salon
        no_staff = _ApiError(422, "Нет сотрудников, доступных для записи.", code=436, appointment=appointment.key)
        if appointment.staff_id:
            member = salon.catalog.staff.get(appointment.staff_id)
            if member is None or not member.does(appointment.service_ids):
                raise no_staff
            return member
        end = appointment.start + timedelta(seconds=seconds)
        for member in salon.eligible(appointment.service_ids):
            clashes = any(m.id == member.id and a.start < end and appointment.start < e for a, m, e in planned)
            if not clashes and salon.bookable(member, appointment.start, seconds):
                return member
        raise no_staff

    # the journal (partner and user tokens)

    def move_record(self, call: _Call) -> tuple[int, Any]:
        salon = self.salon
        record = salon.record_or_404(call.params["record_id"], live=True)
        body = call.body if isinstance(call.body, dict) else {}
        start = salon.parse_instant(body.get("datetime"))
        if start is None:
            raise _ApiError(422, "Не указаны дата и время записи.")
        member = salon.catalog.staff[record.staff_id]
        if not salon.bookable(member, start, record.seconds, ignore=record.id):
            raise salon.slot_taken(member, start)
        record.start = start
        if "comment" in body:
            record.comment = str(body["comment"] or "")
        salon.touch(record)
        return 200, _ok(self._with_company(record))

    def _with_company(self, record: _Record) -> dict[str, Any]:
        return {**self.salon.record_json(record), "company": self.salon.company_json()}

    def list_records(self, call: _Call) -> tuple[int, Any]:
        salon, query = self.salon, call.query
        page = max(_int_param(query, "page", 1), 1)
        count = min(max(_int_param(query, "count", 50), 1), 300)
        staff_id, client_id = _int_param(query, "staff_id", 0), _int_param(query, "client_id", 0)
        first, last = self._query_day(query, "start_date"), self._query_day(query, "end_date")
        after, before = self._query_instant(query, "changed_after"), self._query_instant(query, "changed_before")
        with_deleted = _flag(query, "with_deleted")
        chosen = [
            record
            for record in sorted(salon.records.values(), key=lambda record: (record.start, record.id))
            if (with_deleted or not record.deleted)
            and (not staff_id or record.staff_id == staff_id)
            and (not client_id or record.client_id == client_id)
            and (first is None or salon.local(record.start).date() >= first)
            and (last is None or salon.local(record.start).date() <= last)
            and (after is None or record.changed >= after)
            and (before is None or record.changed <= before)
        ]
        page_records = chosen[(page - 1) * count : page * count]
        return 200, _ok(
            [salon.record_json(record) for record in page_records], {"page": page, "total_count": len(chosen)}
        )

    @staticmethod
    def _query_day(query: QueryParams, name: str) -> date | None:
        text = (query.get(name) or "").strip()
        if not text:
            return None
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            raise _ApiError(400, f"Некорректное значение параметра {name}.") from None

    def _query_instant(self, query: QueryParams, name: str) -> datetime | None:
        text = (query.get(name) or "").strip()
        if not text:
            return None
        moment = self.salon.parse_instant(text)
        if moment is None:
            raise _ApiError(400, f"Некорректное значение параметра {name}.")
        return moment

    def get_record(self, call: _Call) -> tuple[int, Any]:
        record = self.salon.record_or_404(call.params["record_id"], live=False)
        return 200, _ok(self.salon.record_json(record))

    def delete_record(self, call: _Call) -> tuple[int, Any]:
        record = self.salon.record_or_404(call.params["record_id"], live=True)
        record.deleted = True
        self.salon.touch(record)
        return 204, None

    def put_record(self, call: _Call) -> tuple[int, Any]:
        salon = self.salon
        record = salon.record_or_404(call.params["record_id"], live=True)
        body = call.body if isinstance(call.body, dict) else {}
        missing = [name for name in ("staff_id", "services", "client", "datetime", "seance_length") if name not in body]
        if missing:
            raise _ApiError(422, f"Не переданы обязательные поля: {', '.join(missing)}.")
        member = self._put_staff(body["staff_id"])
        lines = self._put_lines(body["services"])
        start = salon.parse_instant(body["datetime"])
        seconds = self._put_seconds(body["seance_length"])
        attendance = self._put_attendance(body.get("attendance", record.attendance))
        if start is None:
            raise _ApiError(422, "Некорректные дата и время записи.")
        slot_changed = (member.id, start, seconds) != (record.staff_id, record.start, record.seconds)
        # An unchanged slot is not re-checked: marking a past visit as arrived must not fail for being in the past.
        if slot_changed and not body.get("save_if_busy", False):
            end = start + timedelta(seconds=seconds)
            if not salon.within_hours(member, start, end) or salon.overlaps(member.id, start, end, record.id):
                raise salon.slot_taken(member, start)
        record.client_id = self._put_client(body["client"], record).id
        record.staff_id, record.lines, record.start, record.seconds = member.id, lines, start, seconds
        record.attendance = attendance
        if "comment" in body:
            record.comment = str(body["comment"] or "")
        if "api_id" in body:
            record.api_id = str(body["api_id"] or "")
        if "sms_remain_hours" in body:
            record.sms_before = int(body["sms_remain_hours"] or 0)
        salon.touch(record)
        return 201, _ok(salon.record_json(record))

    def _put_staff(self, value: object) -> _Staff:
        member = self.salon.catalog.staff.get(value) if isinstance(value, int) else None
        if member is None and isinstance(value, str) and value.isdigit():
            member = self.salon.catalog.staff.get(int(value))
        if member is None:
            raise _ApiError(422, "Сотрудник не найден.")
        return member

    def _put_lines(self, value: object) -> list[_Line]:
        if not isinstance(value, list):
            raise _ApiError(422, "Некорректный список услуг.")
        lines = []
        for item in value:
            entry = item if isinstance(item, dict) else {"id": item}
            try:
                service = self.salon.catalog.services[int(entry["id"])]
                first_cost = float(entry.get("first_cost", service.price_min))
                discount = float(entry.get("discount", 0))
                cost = float(entry.get("cost", first_cost * (100 - discount) / 100))
            except (KeyError, TypeError, ValueError):
                raise _ApiError(422, "Выбранная услуга недоступна для записи.", code=438) from None
            lines.append(_Line(service_id=service.id, first_cost=first_cost, discount=discount, cost=cost))
        return lines

    @staticmethod
    def _put_seconds(value: object) -> int:
        try:
            seconds = int(value) if isinstance(value, int | float | str) else 0
        except ValueError:
            seconds = 0
        if seconds <= 0:
            raise _ApiError(422, "Некорректная длительность записи (seance_length).")
        return seconds

    @staticmethod
    def _put_attendance(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value not in (-1, 0, 1, 2):
            raise _ApiError(422, "Некорректное значение attendance.")
        return value

    def _put_client(self, value: object, record: _Record) -> _Client:
        if not isinstance(value, dict):
            raise _ApiError(422, "Некорректные данные клиента.")
        name, email = str(value.get("name") or "").strip(), str(value.get("email") or "").strip()
        if value.get("phone"):
            client = self.salon.client_for(self._phone(value["phone"]), name, email)
        else:
            client = self.salon.clients[record.client_id]
        # Editing the record's client in YClients edits the client card.
        client.name, client.email = name or client.name, email or client.email
        return client

    def company(self, call: _Call) -> tuple[int, Any]:
        return 200, _ok(self.salon.company_json())

    def schedule(self, call: _Call) -> tuple[int, Any]:
        salon = self.salon
        member = salon.staff_or_404(_path_int(call.params["staff_id"], "Сотрудник"))
        first, last = _path_day(call.params["start_date"]), _path_day(call.params["end_date"])
        if last < first or (last - first).days > 366:
            raise _ApiError(422, "Некорректный период.")
        return 200, _ok(
            [
                {
                    "date": day.isoformat(),
                    "is_working": int(bool(member.hours.get(day.weekday()))),
                    "slots": [
                        {"from": f"{opens // 60:02d}:{opens % 60:02d}", "to": f"{closes // 60:02d}:{closes % 60:02d}"}
                        for opens, closes in member.hours.get(day.weekday(), ())
                    ],
                }
                for day in _day_range(first, last)
            ]
        )


# --- HTTP --------------------------------------------------------------------------------------


Auth = Literal["partner", "user"]


def _credentials(header: str | None) -> tuple[str | None, str | None]:
    """``Bearer <partner>, User <user>`` -> (partner, user)."""
    partner = user = None
    for part in (header or "").split(","):
        scheme, _, token = part.strip().partition(" ")
        if scheme.lower() == "bearer":
            partner = token.strip()
        elif scheme.lower() == "user":
            user = token.strip()
    return partner, user


def _accepts_json(header: str | None) -> bool:
    if not header or not header.strip():
        return True
    return any(part.split(";")[0].strip().lower() in ACCEPTED_MEDIA_TYPES for part in header.split(","))


def _relative(path_prefix: str) -> str:
    """Fault prefixes are relative to ``/api/v1``; tolerate one written with it."""
    return path_prefix.lstrip("/").removeprefix(BASE_PATH.lstrip("/")).lstrip("/")


def _fault_message(status: int) -> str:
    messages = {401: "Необходима авторизация.", 404: "Не найдено.", 429: "Превышен лимит запросов."}
    return messages.get(status, "Внутренняя ошибка сервера." if status >= 500 else "Некорректный запрос.")


async def _drain(receive: Receive) -> None:
    """Read the request body, so an answer given without it leaves the connection in a clean state."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


class YClientsStandIn:
    """A YClients company served at ``base_url``, seeded from a catalog, with faults on demand.

    ``now`` freezes the company's clock (``set_now`` moves it); ``monotonic`` is the clock of the rate
    limiter and the request log, replaceable so a test can put requests in one second deterministically.
    """

    def __init__(
        self,
        catalog_path: Path,
        *,
        partner_token: str = "partner-token",
        user_token: str = "user-token",
        now: datetime | None = None,
        rate_per_second: int = 5,
        rate_per_minute: int = 200,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if now is not None and now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        self._catalog = _load_catalog(catalog_path)
        self.company_id: str = self._catalog.company_id
        self._partner_token, self._user_token = partner_token, user_token
        self._initial_now = now
        self._frozen_now = now
        self._rate_per_second, self._rate_per_minute = rate_per_second, rate_per_minute
        self._monotonic = monotonic
        self._lock = threading.RLock()
        self._salon = _Salon(self._catalog, self._now)
        self._api = _Api(self._salon)
        self._faults: list[_Fault] = []
        self._log: list[RequestLogEntry] = []
        self._hits: dict[str, deque[float]] = {}
        self._hook_urls: list[str] = []
        self.hook_deliveries: list[tuple[int, int]] = []
        """(record id, the receiver's HTTP status; 0 when it did not answer) per webhook sent."""
        self._app = self._build_app()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    # lifecycle

    @property
    def rate_per_second(self) -> int:
        return self._rate_per_second

    @property
    def rate_per_minute(self) -> int:
        return self._rate_per_minute

    def start(self) -> None:
        """Serve on 127.0.0.1 in a background thread; return once the server answers."""
        if self._thread is not None:
            raise RuntimeError("the stand-in is already running")
        # Binding here and handing uvicorn the socket leaves no window for another process to take the port.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._gate,
            log_level="warning",
            access_log=False,
            http="h11",
            ws="none",
            interface="asgi3",
            loop="asyncio",
            lifespan="off",
            proxy_headers=False,
        )
        # uvicorn installs signal handlers only on the main thread, so a server in a thread leaves pytest's alone.
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="yclients-standin", daemon=True
        )
        self._thread.start()
        self._wait_until_serving()

    def _wait_until_serving(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self._port}{HEALTH_PATH}"
        while time.monotonic() < deadline:
            if self._thread is None or not self._thread.is_alive():
                raise RuntimeError("the YClients stand-in stopped while starting")
            try:
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"the YClients stand-in did not answer within {timeout:.0f}s")

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        # force_exit: a request held by delay_after_commit must not keep the test waiting for its answer.
        server.should_exit = True
        server.force_exit = True
        thread.join(timeout=10)
        self._server, self._thread = None, None

    def __enter__(self) -> YClientsStandIn:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if not self._port:
            raise RuntimeError("the stand-in is not started")
        return f"http://127.0.0.1:{self._port}{BASE_PATH}"

    # the clock

    def _now(self) -> datetime:
        frozen = self._frozen_now
        return frozen.astimezone(UTC) if frozen is not None else datetime.now(UTC)

    def set_now(self, now: datetime | None) -> None:
        """Move the frozen clock (``None``: real time), as a test moves the salon's clock."""
        if now is not None and now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        with self._lock:
            self._frozen_now = now

    # the state, for tests

    def records(self, *, phone: str | None = None, with_deleted: bool = False) -> list[dict[str, Any]]:
        """Records in the API's own shape, by visit time; ``phone`` compares digits only."""
        with self._lock:
            salon = self._salon
            wanted = _digits(phone) if phone is not None else None
            return [
                salon.record_json(record)
                for record in sorted(salon.records.values(), key=lambda record: (record.start, record.id))
                if (with_deleted or not record.deleted)
                and (wanted is None or salon.clients[record.client_id].phone == wanted)
            ]

    def add_record(
        self,
        *,
        service_id: int,
        staff_id: int,
        start: datetime,
        phone: str,
        name: str,
        comment: str = "",
        created: datetime | None = None,
    ) -> int:
        """An administrator's booking in the journal: no working-hours or past-time check, only a taken time.

        ``created`` backdates it (``create_date`` and ``last_change_date``), as a booking made days ago.
        """
        if start.tzinfo is None or (created is not None and created.tzinfo is None):
            raise ValueError("start and created must be aware datetimes")
        with self._lock:
            salon = self._salon
            member = salon.catalog.staff.get(staff_id)
            service = salon.catalog.services.get(service_id)
            if member is None or service is None:
                raise ValueError(f"unknown staff {staff_id} or service {service_id}")
            begins = start.astimezone(UTC)
            if salon.overlaps(staff_id, begins, begins + timedelta(minutes=service.minutes)):
                raise ValueError(f"{member.name} is busy at {start.isoformat()}")
            client = salon.client_for(_digits(phone), name, "")
            record = salon.add(
                staff_id=staff_id, service_ids=[service_id], client=client, start=begins, comment=comment
            )
            if created is not None:
                record.created = record.changed = created.astimezone(UTC).replace(microsecond=0)
            self._deliver_hooks()
            return record.id

    def move_record(self, record_id: int, start: datetime, *, staff_id: int | None = None) -> None:
        """An administrator drags a visit to another time (or master) in the journal: no checks at all."""
        if start.tzinfo is None:
            raise ValueError("start must be an aware datetime")
        with self._lock:
            record = self._salon.record_or_404(str(record_id), live=True)
            record.start = start.astimezone(UTC)
            record.staff_id = staff_id or record.staff_id
            self._salon.touch(record)
            self._deliver_hooks()

    def cancel_record(self, record_id: int, *, by_attendance: bool = False) -> None:
        """An administrator cancels a visit: deletes it, or marks it "the client will not come" (attendance -1)."""
        with self._lock:
            record = self._salon.record_or_404(str(record_id), live=True)
            if by_attendance:
                record.attendance = -1
            else:
                record.deleted = True
            self._salon.touch(record)
            self._deliver_hooks()

    def record(self, record_id: int) -> dict[str, Any]:
        """One record in the API's own shape, deleted or not."""
        with self._lock:
            return self._salon.record_json(self._salon.record_or_404(str(record_id), live=False))

    # webhooks

    def send_hooks_to(self, url: str) -> None:
        """Notify ``url`` of every record created, changed or deleted from now on, as YClients' webhooks do
        (``hooks_settings``: one POST per event, ``{company_id, resource, resource_id, status, data}``)."""
        with self._lock:
            self._hook_urls.append(url)
            self._salon.events.clear()

    def _deliver_hooks(self) -> None:
        """Called under the lock after every change; the POSTs go out from a thread, as YClients' own would."""
        events, self._salon.events = self._salon.events, []
        if not self._hook_urls or not events:
            return
        salon = self._salon
        company_id = int(salon.catalog.company_id) if salon.catalog.company_id.isdigit() else salon.catalog.company_id
        bodies = [
            (
                record_id,
                {
                    "company_id": company_id,
                    "resource": "record",
                    "resource_id": record_id,
                    "status": status,
                    "data": salon.record_json(salon.records[record_id]),
                },
            )
            for record_id, status in events
        ]
        urls = list(self._hook_urls)
        threading.Thread(target=self._post_hooks, args=(urls, bodies), name="yclients-hooks", daemon=True).start()

    def _post_hooks(self, urls: list[str], bodies: list[tuple[int, dict[str, Any]]]) -> None:
        for url in urls:
            for record_id, body in bodies:
                try:
                    status = httpx.post(url, json=body, timeout=10).status_code
                except httpx.HTTPError:
                    status = 0
                with self._lock:
                    self.hook_deliveries.append((record_id, status))

    @property
    def requests(self) -> list[RequestLogEntry]:
        """Every request so far, in arrival order (a copy: the server keeps appending)."""
        with self._lock:
            return list(self._log)

    def reset(self) -> None:
        with self._lock:
            self._salon.records.clear()
            self._salon.clients.clear()
            self._salon.next_record_id = FIRST_RECORD_ID
            self._salon.next_client_id = FIRST_CLIENT_ID
            self._salon.events.clear()
            self._faults.clear()
            self._log.clear()
            self._hits.clear()
            self._frozen_now = self._initial_now

    # faults

    def fail_next(self, method: str, path_prefix: str, *, status: int = 500, count: int = 1) -> None:
        self._add_fault(_Fault("fail", method.upper(), _relative(path_prefix), count, status=status))

    def delay_after_commit(self, method: str, path_prefix: str, seconds: float, *, count: int = 1) -> None:
        self._add_fault(_Fault("delay", method.upper(), _relative(path_prefix), count, seconds=seconds))

    def break_connection_next(self, method: str, path_prefix: str, *, count: int = 1) -> None:
        self._add_fault(_Fault("break", method.upper(), _relative(path_prefix), count))

    def _add_fault(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    # admission: log, rate limit, faults

    def _admit(self, method: str, path: str, query: str, client: str) -> tuple[RequestLogEntry, _Fault | None, bool]:
        """Log the request; say whether it is over the rate limit and which fault, if any, it triggers."""
        with self._lock:
            now = self._monotonic()
            entry = RequestLogEntry(time=now, method=method, path=path, query=query, client=client)
            self._log.append(entry)
            if not self._within_rate(client, now):
                return entry, None, True
            fault = next((fault for fault in self._faults if fault.matches(method, path)), None)
            if fault is not None:
                fault.remaining -= 1
                self._faults = [each for each in self._faults if each.remaining > 0]
            return entry, fault, False

    def _within_rate(self, client: str, now: float) -> bool:
        hits = self._hits.setdefault(client, deque())
        while hits and hits[0] <= now - 60:
            hits.popleft()
        last_second = sum(1 for hit in hits if hit > now - 1)
        allowed = last_second < self._rate_per_second and len(hits) < self._rate_per_minute
        hits.append(now)
        return allowed

    async def _gate(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The outermost ASGI layer: what happens before and after YClients' own logic runs."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        path = scope["path"].rstrip("/") or "/"
        if path == HEALTH_PATH:
            await Response("ok")(scope, receive, send)
            return
        # YClients' documented paths end with a slash in places; route both spellings without a redirect.
        scope = {**scope, "path": path}
        relative = path[len(BASE_PATH) + 1 :] if path.startswith(BASE_PATH + "/") else path
        client = scope["client"][0] if scope.get("client") else ""
        entry, fault, limited = self._admit(scope["method"], relative, scope["query_string"].decode(), client)
        if limited:
            await _drain(receive)
            await self._send_error(entry, _ApiError(429, "Превышен лимит запросов."), scope, receive, send)
        elif fault is None:
            await self._app(scope, receive, self._recording(entry, send))
        elif fault.kind == "fail":
            await _drain(receive)
            await self._send_error(entry, _ApiError(fault.status, _fault_message(fault.status)), scope, receive, send)
        elif fault.kind == "break":
            await self._drop(receive)
        else:
            await self._answer_late(entry, fault.seconds, scope, receive, send)

    @staticmethod
    def _recording(entry: RequestLogEntry, send: Send) -> Send:
        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.status = int(message["status"])
            await send(message)

        return recording_send

    @staticmethod
    async def _send_error(entry: RequestLogEntry, error: _ApiError, scope: Scope, receive: Receive, send: Send) -> None:
        entry.status = error.status
        await JSONResponse(_error_body(error), status_code=error.status)(scope, receive, send)

    @staticmethod
    async def _drop(receive: Receive) -> None:
        """Close the connection with no response at all, as a network failure would."""
        await _drain(receive)
        # uvicorn passes its per-request cycle's bound ``receive``; the cycle holds the connection's transport.
        transport = getattr(getattr(receive, "__self__", None), "transport", None)
        if not isinstance(transport, asyncio.Transport):
            raise RuntimeError("cannot reach the connection to drop it (not served by uvicorn?)")
        transport.abort()
        # Wait for uvicorn to see the disconnect, or it would answer 500 for a request left without a response.
        while (await receive())["type"] != "http.disconnect":
            pass

    async def _answer_late(
        self, entry: RequestLogEntry, seconds: float, scope: Scope, receive: Receive, send: Send
    ) -> None:
        messages: list[Message] = []

        async def hold(message: Message) -> None:
            messages.append(message)

        await self._app(scope, receive, self._recording(entry, hold))
        # The body is read by now, so the next receive() returns only when the caller hangs up.
        hang_up = asyncio.ensure_future(receive())
        try:
            await asyncio.wait({hang_up}, timeout=seconds)
        finally:
            hang_up.cancel()
        if hang_up.done() and not hang_up.cancelled():
            return  # the caller is gone (the point of the delay): nobody is left to answer
        for message in messages:
            await send(message)

    # routing

    def _build_app(self) -> ASGIApp:
        api = self._api
        table: list[tuple[str, str, Handler, Auth]] = [
            ("GET", "/book_services/{cid}", api.book_services, "partner"),
            ("GET", "/book_staff/{cid}", api.book_staff, "partner"),
            ("GET", "/book_dates/{cid}", api.book_dates, "partner"),
            ("GET", "/book_times/{cid}/{staff_id}/{date}", api.book_times, "partner"),
            ("POST", "/book_check/{cid}", api.book_check, "partner"),
            ("POST", "/book_record/{cid}", api.book_record, "partner"),
            ("PUT", "/book_record/{cid}/{record_id}", api.move_record, "user"),
            ("GET", "/company/{cid}", api.company, "partner"),
            ("GET", "/records/{cid}", api.list_records, "user"),
            ("GET", "/record/{cid}/{record_id}", api.get_record, "user"),
            ("PUT", "/record/{cid}/{record_id}", api.put_record, "user"),
            ("DELETE", "/record/{cid}/{record_id}", api.delete_record, "user"),
            ("GET", "/schedule/{cid}/{staff_id}/{start_date}/{end_date}", api.schedule, "user"),
        ]
        routes = [
            Route(BASE_PATH + path, self._endpoint(handler, auth), methods=[method])
            for method, path, handler, auth in table
        ]
        handlers = {HTTPException: self._http_error, Exception: self._http_error}
        return Starlette(routes=routes, exception_handlers=handlers)

    @staticmethod
    async def _http_error(request: Request, exc: Exception) -> Response:
        """Starlette's own 404/405 and a bug in the stand-in still answer in the YClients envelope."""
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        messages = {404: "Не найдено.", 405: "Метод не поддерживается.", 500: "Внутренняя ошибка сервера."}
        return JSONResponse(_error_body(_ApiError(status, messages.get(status, str(exc)))), status_code=status)

    def _endpoint(self, handler: Handler, auth: Auth) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                self._authorize(request, auth)
                body = await self._json_body(request)
                with self._lock:
                    status, payload = handler(_Call(request.path_params, request.query_params, body))
                    self._deliver_hooks()
            except _ApiError as error:
                return JSONResponse(_error_body(error), status_code=error.status)
            if payload is None:
                return Response(status_code=status)
            return JSONResponse(payload, status_code=status)

        return endpoint

    def _authorize(self, request: Request, auth: Auth) -> None:
        if not _accepts_json(request.headers.get("accept")):
            raise _ApiError(406, "Неподдерживаемый формат ответа: нужен Accept: application/vnd.yclients.v2+json.")
        partner, user = _credentials(request.headers.get("authorization"))
        if partner != self._partner_token:
            raise _ApiError(401, "Необходима авторизация партнёра.")
        if auth == "user" and user != self._user_token:
            raise _ApiError(401, "Необходима авторизация пользователя.")
        if request.path_params.get("cid") != self.company_id:
            raise _ApiError(404, "Филиал не найден.")

    @staticmethod
    async def _json_body(request: Request) -> Any:
        if request.method not in {"POST", "PUT"}:
            return None
        raw = await request.body()
        if not raw.strip():
            return {}
        try:
            return await request.json()
        except ValueError:
            raise _ApiError(400, "Некорректный JSON в теле запроса.") from None
