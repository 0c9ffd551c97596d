"""``BOOKING_BACKEND=yclients``: the salon's book is a YClients company, read and changed over its REST API.

This module maps YClients' shapes onto ``shared.booking.models`` and gives each ``BookingBackend``
method the semantics the embedded salon (``local.py``) has; HTTP, errors, the rate limit and retries
are ``client.py``'s. What YClients can't do the way the interface asks is said where it happens:

* ``free_slots(exclude_booking_id=...)`` is not honoured: ``book_times`` knows nothing of a visit
  being moved, so its own time shows as taken. Moving it later inside its own time still works
  (YClients ignores the record itself when it checks the new time), it just isn't offered;
* ``records`` has no phone filter, so ``client_bookings`` reads the company's journal for the next
  60 days and keeps only the records whose client's phone is the caller's;
* ``book_services`` gives a service's length only per staff member, so ``Service.duration_minutes``
  is None here; a slot's and a booking's lengths come from ``book_times`` and the record;
* who does what is not in ``book_staff``'s answer: it is asked per staff member (``book_services``
  with ``staff_id``) or per service (``book_staff`` with ``service_ids[]``), whichever takes fewer
  calls, and kept with the staff list as one cached answer.

Calls per booking: the catalog comes from the cache; ``records`` (the client's bookings, so a
booking is never made twice), ``book_times`` (fresh free times, before a time is offered, or booked
when it was not offered), ``book_record`` (which refuses a taken time with 433 itself, so no
``book_check`` before it) and ``record`` (the booking as YClients holds it).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, TypeVar

import redis
from pydantic import TypeAdapter

from shared import redis_keys
from shared.booking.models import (
    CLIENT_BOOKINGS_AHEAD_DAYS,
    Booking,
    BookingStatus,
    Company,
    FreeSlot,
    Interval,
    NewBooking,
    Service,
    StaffMember,
    WorkDay,
)
from shared.booking.settings import BookingSettings
from shared.booking.yclients.client import RateLimiter, YClientsClient
from shared.clock import DEFAULT_TIMEZONE, Clock, zone
from shared.errors import BackendUnavailable, BookingNotFound, BookingRefused, SlotTaken
from shared.logging import get_logger
from shared.redis_client import sync_client

log = get_logger(__name__)

T = TypeVar("T")

BOOKINGS_AHEAD_DAYS = CLIENT_BOOKINGS_AHEAD_DAYS
"""How far ahead ``client_bookings`` looks: as far as the receptionist books."""
RECORDS_PAGE_SIZE = 300
"""YClients' largest page of ``records``."""
RECORDS_MAX_PAGES = 20
"""A guard against a ``total_count`` that never stops growing: 6000 visits in 60 days is no salon."""
STAFF_DOES_NOT_DO_SERVICE = 436
"""YClients' code for "no staff member can take this", reused when we refuse a move to the wrong master."""

_ATTENDANCE: dict[int, BookingStatus] = {2: "confirmed", 1: "arrived", -1: "no_show", 0: "booked"}
CONFIRMED = 2
"""``attendance`` of a visit the client confirmed."""


class _SharedCache:
    """Catalog answers (company, services, the staff with what each does) kept in Redis for ``seconds``,
    shared by the api and every worker process; ``seconds=0`` turns it off. A Redis problem only means
    asking YClients."""

    def __init__(self, client: redis.Redis | None, company_id: str, seconds: int) -> None:
        self._client = client
        self._company_id = company_id
        self._seconds = seconds

    @property
    def enabled(self) -> bool:
        return self._seconds > 0 and self._client is not None

    def get(self, key: str, load: Callable[[], T], adapter: TypeAdapter[T]) -> T:
        if self._seconds <= 0 or self._client is None:
            return load()
        name = redis_keys.yclients_cache(self._company_id, key)
        try:
            raw = self._client.get(name)
        except redis.RedisError:
            raw = None
        if raw is not None:
            try:
                return adapter.validate_json(raw)
            except ValueError:
                pass  # a shape from an older release: load afresh
        value = load()
        with contextlib.suppress(redis.RedisError):
            self._client.set(name, adapter.dump_json(value), ex=self._seconds)
        return value


_COMPANY = TypeAdapter(Company)
_SERVICES = TypeAdapter(tuple[Service, ...])
_STAFF = TypeAdapter(tuple[StaffMember, ...])


class YClientsBackend:
    name = "yclients"

    def __init__(
        self,
        client: YClientsClient,
        company_id: str,
        *,
        cache_seconds: int = 300,
        frozen_at: datetime | None = None,
        cache: redis.Redis | None = None,
    ) -> None:
        self._client = client
        self._cid = company_id
        self._cache = _SharedCache(cache, company_id, cache_seconds)
        self._frozen_at = frozen_at
        self._clock: Clock | None = None
        self._lengths: dict[tuple[int, int], int] = {}
        """(staff, service) -> minutes seen in ``book_times``, for a booking built without reading it back."""

    @classmethod
    def from_settings(cls, settings: BookingSettings) -> YClientsBackend:
        shared = sync_client(settings.redis_url)
        limiter = RateLimiter(
            shared,
            settings.company_id,
            per_second=settings.yclients_rate_per_second,
            per_minute=settings.yclients_rate_per_minute,
            max_wait_seconds=settings.yclients_timeout_seconds,
            owns_redis=True,
        )
        client = YClientsClient(
            settings.yclients_api_url,
            settings.yclients_partner_token.get_secret_value(),
            settings.yclients_user_token.get_secret_value(),
            limiter=limiter,
            timeout_seconds=settings.yclients_timeout_seconds,
        )
        return cls(
            client,
            settings.company_id,
            cache_seconds=settings.yclients_cache_seconds,
            frozen_at=settings.clock_frozen_at,
            cache=shared,
        )

    # --- the salon's clock ---

    def _salon_clock(self) -> Clock:
        if self._clock is None:
            # Lazily: building the backend must not need YClients to answer (the api starts without it).
            self._clock = Clock(zone(self.company().timezone), self._frozen_at)
        return self._clock

    def _zone(self) -> tzinfo:
        return self._salon_clock().timezone

    def now(self) -> datetime:
        """The salon's now (frozen under ``CLOCK_FROZEN_AT``); the first call reads the company's time zone."""
        return self._salon_clock().now()

    # --- catalog ---

    def company(self) -> Company:
        return self._cache.get("company", self._load_company, _COMPANY)

    def _load_company(self) -> Company:
        data = _mapping(self._client.get(f"company/{self._cid}").data)
        return Company(
            id=str(data.get("id") or self._cid),
            title=_text(data.get("title")),
            address=_text(data.get("address")),
            phone=_text(data.get("phone")),
            timezone=_iana(data.get("timezone_name"), data.get("timezone")),
        )

    def services(self) -> list[Service]:
        return list(self._services())

    def _services(self) -> tuple[Service, ...]:
        services: tuple[Service, ...] = self._cache.get("services", self._load_services, _SERVICES)
        return services

    def _load_services(self) -> tuple[Service, ...]:
        data = self._client.get(f"book_services/{self._cid}").data
        items: object
        categories: object
        if isinstance(data, list):  # an older shape: the services alone
            items, categories = data, []
        else:
            body = _mapping(data)
            items = body.get("services") or []
            # The documentation's table says ``categories``, its example and the API say ``category``.
            categories = body.get("category") or body.get("categories") or []
        titles = {_int(item.get("id")): _text(item.get("title")) for item in _dicts(categories)}
        # Every service the booking form offers is kept, whatever its ``active``: YClients' own example marks
        # bookable services ``active: 0``, so the flag can't be trusted to mean "not bookable".
        return tuple(self._service(item, titles) for item in _dicts(items) if _int(item.get("id")))

    @staticmethod
    def _service(item: Mapping[str, Any], categories: Mapping[int, str]) -> Service:
        seconds = _int(item.get("seance_length"))
        return Service(
            id=_int(item.get("id")),
            title=_text(item.get("title")),
            category=categories.get(_int(item.get("category_id")), ""),
            price_min=_int(item.get("price_min")),
            price_max=_int(item.get("price_max")),
            duration_minutes=seconds // 60 if seconds > 0 else None,
            description=_text(item.get("comment")),
        )

    def staff(self, service_id: int | None = None) -> list[StaffMember]:
        """Everyone, each with the services they do; for ``service_id``, those who do it. One cached answer.

        With the cache off, those who do ``service_id`` are one ``book_staff`` call (each with that service
        only) rather than everyone's services asked again.
        """
        if service_id is not None and not self._cache.enabled:
            return [member.model_copy(update={"service_ids": (service_id,)}) for member in self._staff_list(service_id)]
        everyone: tuple[StaffMember, ...] = self._cache.get("staff", self._load_staff, _STAFF)
        if service_id is None:
            return list(everyone)
        return [member for member in everyone if service_id in member.service_ids]

    def _load_staff(self) -> tuple[StaffMember, ...]:
        """``book_staff`` once, then who does what by whichever way takes fewer calls: ``book_services`` per
        staff member or ``book_staff`` per service (a salon has fewer masters than services, usually)."""
        members = self._staff_list(None)
        services = self._services()
        known = {service.id for service in services}
        doing: dict[int, list[int]] = {}
        if len(members) <= len(services):
            for member in members:
                doing[member.id] = [item for item in self._services_of(member.id) if item in known]
        else:
            for service in services:
                for member in self._staff_list(service.id):
                    doing.setdefault(member.id, []).append(service.id)
        return tuple(member.model_copy(update={"service_ids": tuple(doing.get(member.id, ()))}) for member in members)

    def _staff_list(self, service_id: int | None) -> tuple[StaffMember, ...]:
        params = {"service_ids[]": service_id} if service_id is not None else None
        items = _dicts(self._client.get(f"book_staff/{self._cid}", params).data)
        # ``bookable: false`` means "no free time in the near future", not "doesn't work here": a fully
        # booked master still takes bookings further ahead and still has visits to move, so all are kept.
        return tuple(
            StaffMember(
                id=_int(item.get("id")),
                name=_text(item.get("name")),
                specialization=_text(item.get("specialization")) or _text(_mapping(item.get("position")).get("title")),
            )
            for item in items
            if _int(item.get("id")) > 0
        )

    def _services_of(self, staff_id: int) -> list[int]:
        """The ids of the services the booking form offers with this staff member."""
        try:
            data = self._client.get(f"book_services/{self._cid}", {"staff_id": staff_id}, missing=BookingNotFound).data
        except BookingNotFound as error:
            # Listed but not bookable (fired, hidden): they do nothing that can be booked.
            log.warning("yclients: no services for staff member", staff_id=staff_id, error=str(error))
            return []
        items = data if isinstance(data, list) else _mapping(data).get("services")
        return [_int(item.get("id")) for item in _dicts(items) if _int(item.get("id"))]

    # --- time ---

    def free_slots(
        self, service_id: int, day: date, staff_id: int | None = None, *, exclude_booking_id: int | None = None
    ) -> list[FreeSlot]:
        """``exclude_booking_id`` is accepted and ignored: ``book_times`` can't be told to (see the module doc)."""
        members = [member for member in self.staff(service_id) if staff_id is None or member.id == staff_id]
        tz, now = self._zone(), self.now()
        slots: list[FreeSlot] = []
        for member in members:
            try:
                reply = self._client.get(
                    f"book_times/{self._cid}/{member.id}/{day.isoformat()}",
                    {"service_ids[]": service_id},
                    missing=BookingNotFound,
                )
            except BookingNotFound as error:
                # A master YClients lists but can't book (fired, hidden) must not hide everyone else's times.
                log.warning("yclients: no times for staff member", staff_id=member.id, error=str(error))
                continue
            for seance in _dicts(reply.data):
                start = _moment(seance.get("datetime"), tz) or _clock_on(day, seance.get("time"), tz)
                minutes = _int(seance.get("seance_length")) // 60
                if start is None or start <= now or minutes <= 0:
                    continue
                self._lengths[(member.id, service_id)] = minutes
                slots.append(
                    FreeSlot(staff_id=member.id, staff_name=member.name, start=start, duration_minutes=minutes)
                )
        return sorted(slots, key=lambda slot: (slot.start, slot.staff_id))

    def bookable_dates(self, service_id: int, start: date, end: date, staff_id: int | None = None) -> list[date] | None:
        """``book_dates`` answers a whole month per call: one or two calls instead of one per staff and day."""
        found: list[date] = []
        month = start.replace(day=1)
        while month <= end:
            params: dict[str, Any] = {"service_ids[]": service_id, "date": month.isoformat()}
            if staff_id is not None:
                params["staff_id"] = staff_id
            reply = self._client.get(f"book_dates/{self._cid}", params)
            data = _mapping(reply.data)
            for value in data.get("booking_dates") or []:
                day = _day(value)
                if day is not None and start <= day <= end:
                    found.append(day)
            month = (month + timedelta(days=32)).replace(day=1)
        return sorted(set(found))

    def working_days(self, staff_id: int, start: date, end: date) -> list[WorkDay]:
        if end < start:
            return []
        path = f"schedule/{self._cid}/{staff_id}/{start.isoformat()}/{end.isoformat()}"
        hours: dict[date, tuple[Interval, ...]] = {}
        for item in _dicts(self._client.get(path, missing=BookingNotFound).data):
            day = _day(item.get("date"))
            if day is not None:
                working = _flag(item.get("is_working"), default=True)
                hours[day] = _intervals(item.get("slots")) if working else ()
        # A date YClients leaves out is a day off, so every date in the range gets a WorkDay.
        days = [start + timedelta(days=offset) for offset in range((end - start).days + 1)]
        return [WorkDay(staff_id=staff_id, day=day, intervals=hours.get(day, ())) for day in days]

    # --- bookings ---

    def create_booking(self, booking: NewBooking) -> Booking:
        tz = self._zone()
        start = booking.start.astimezone(tz)
        if start <= self.now():
            raise SlotTaken(f"{start:%Y-%m-%d %H:%M} is in the past", code=433)
        appointment = {
            "id": 1,
            "services": [booking.service_id],
            "staff_id": booking.staff_id,
            "datetime": start.isoformat(),
        }
        body = {
            "phone": booking.client_phone,
            "fullname": booking.client_name,
            "email": "",
            "comment": booking.comment,
            "notify_by_sms": 0,
            "appointments": [appointment],
        }
        # No book_check first: book_record runs the same check and refuses a time taken since it was offered
        # (433) without creating anything, so asking twice would only cost a request.
        created = _dicts(self._client.post(f"book_record/{self._cid}", body).data)
        record_id = _int(created[0].get("record_id")) if created else 0
        if record_id <= 0:
            # It may well be booked: the caller's reconciliation (by the comment's marker) finds out.
            raise BackendUnavailable("YClients accepted the booking but answered without a record id")
        try:
            made = self.find_booking(record_id)
        except BackendUnavailable as error:
            log.warning("yclients: booked, but reading the record back failed", record_id=record_id, error=str(error))
            made = None
        return made or self._as_sent(record_id, booking, start)

    def _as_sent(self, record_id: int, booking: NewBooking, start: datetime) -> Booking:
        """The booking as we asked for it, when YClients won't show it right now; names from the caches."""
        services = self._try(self.services, [])
        service = next((item for item in services if item.id == booking.service_id), None)
        members = self._try(lambda: self.staff(booking.service_id), [])
        member = next((item for item in members if item.id == booking.staff_id), None)
        known = self._lengths.get((booking.staff_id, booking.service_id))
        minutes = known or (service.duration_minutes if service else None) or 0
        return Booking(
            id=record_id,
            service_id=booking.service_id,
            service=service.title if service else "",
            staff_id=booking.staff_id,
            staff=member.name if member else "",
            start=start,
            duration_minutes=minutes,
            client_phone=booking.client_phone,
            client_name=booking.client_name,
            price_min=service.price_min if service else 0,
            price_max=service.price_max if service else 0,
            comment=booking.comment,
        )

    @staticmethod
    def _try(load: Callable[[], list[T]], default: list[T]) -> list[T]:
        try:
            return load()
        except (BackendUnavailable, BookingRefused):
            return default

    def client_bookings(self, phone: str) -> list[Booking]:
        now = self.now()
        wanted = _digits(phone)
        bookings = []
        for record in self._journal(now.date(), now.date() + timedelta(days=BOOKINGS_AHEAD_DAYS)):
            client = _mapping(record.get("client"))
            if not _same_phone(_text(client.get("phone")), wanted):
                continue
            booking = self._readable(record)
            if booking is not None and booking.active and booking.start >= now:
                bookings.append(booking)
        return sorted(bookings, key=lambda booking: (booking.start, booking.id))

    def _journal(self, first: date, last: date, **filters: Any) -> list[Mapping[str, Any]]:
        """Every live record with a visit from ``first`` to ``last`` (and ``filters``), all pages."""
        records: list[Mapping[str, Any]] = []
        params: dict[str, Any] = {
            "start_date": first.isoformat(),
            "end_date": last.isoformat(),
            "count": RECORDS_PAGE_SIZE,
            **filters,
        }
        for page in range(1, RECORDS_MAX_PAGES + 1):
            reply = self._client.get(f"records/{self._cid}", {**params, "page": page})
            items = _dicts(reply.data)
            records.extend(items)
            total = _int(_mapping(reply.meta).get("total_count"), -1)
            if not items or (total >= 0 and len(records) >= total) or (total < 0 and len(items) < RECORDS_PAGE_SIZE):
                return records
        log.warning("yclients: records still not exhausted, stopped paging", pages=RECORDS_MAX_PAGES)
        return records

    def changed_bookings(self, since: datetime | None, first: date, last: date) -> list[Booking]:
        """``records`` with ``changed_after`` (the salon's wall time, as the documentation's example has it) and
        ``with_deleted``, so a visit cancelled by deleting it is seen too."""
        filters: dict[str, Any] = {"with_deleted": 1}
        if since is not None:
            filters["changed_after"] = since.astimezone(self._zone()).replace(tzinfo=None).isoformat(timespec="seconds")
        found = (self._readable(record) for record in self._journal(first, last, **filters))
        return [booking for booking in found if booking is not None]

    def confirm_booking(self, booking_id: int) -> Booking:
        """Attendance 2 ("the client confirmed") through the journal's full ``PUT record``, the slot unchanged."""
        record = self._record(booking_id)
        booking = self._readable(record) if record is not None else None
        if record is None or booking is None or not booking.active:
            raise BookingNotFound(f"booking {booking_id} is not a visit that is still going to happen")
        if booking.status == "confirmed":
            return booking
        self._put_record(record, booking, booking.start, booking.staff_id, attendance=CONFIRMED)
        try:
            fresh = self.find_booking(booking_id)
        except BackendUnavailable as error:
            log.warning("yclients: confirmed, but reading it back failed", record_id=booking_id, error=str(error))
            fresh = None
        return fresh or booking.model_copy(update={"status": "confirmed"})

    def find_booking(self, booking_id: int) -> Booking | None:
        record = self._record(booking_id)
        if record is None:
            return None
        booking = self._readable(record)
        if booking is None:
            raise BackendUnavailable(f"YClients record {booking_id} could not be read")
        return booking

    def _record(self, booking_id: int) -> Mapping[str, Any] | None:
        try:
            reply = self._client.get(f"record/{self._cid}/{booking_id}", missing=BookingNotFound)
        except BookingNotFound:
            return None
        return _mapping(reply.data) or None

    def _readable(self, record: Mapping[str, Any]) -> Booking | None:
        try:
            return _booking(record, self._zone())
        except ValueError as error:  # pydantic's ValidationError is one too
            log.warning("yclients: unreadable record skipped", record_id=record.get("id"), error=str(error))
            return None

    def _owned(self, booking_id: int, phone: str) -> tuple[Mapping[str, Any], Booking]:
        """The raw record and its booking, if it is this client's and still going to happen."""
        record = self._record(booking_id)
        booking = self._readable(record) if record is not None else None
        if record is None or booking is None or not booking.active or not _same_phone(booking.client_phone, phone):
            raise BookingNotFound(f"booking {booking_id} is not an active booking of this client")
        return record, booking

    def cancel_booking(self, booking_id: int, phone: str) -> None:
        self._owned(booking_id, phone)
        self._client.delete(f"record/{self._cid}/{booking_id}", missing=BookingNotFound)

    def reschedule_booking(self, booking_id: int, phone: str, start: datetime, staff_id: int | None = None) -> Booking:
        record, current = self._owned(booking_id, phone)
        start = start.astimezone(self._zone())
        if start <= self.now():
            raise SlotTaken(f"{start:%Y-%m-%d %H:%M} is in the past", code=433)
        target = staff_id or current.staff_id
        staff_name = current.staff
        if target != current.staff_id:
            member = next((item for item in self.staff(current.service_id) if item.id == target), None)
            if member is None:
                raise BookingRefused(
                    f"staff member {target} does not do service {current.service_id}", code=STAFF_DOES_NOT_DO_SERVICE
                )
            staff_name = member.name
            self._put_record(record, current, start, target)
        else:
            self._move(record, current, start)
        try:
            fresh = self.find_booking(booking_id)
        except BackendUnavailable as error:
            log.warning("yclients: moved, but reading the record back failed", record_id=booking_id, error=str(error))
            fresh = None
        return fresh or current.model_copy(update={"start": start, "staff_id": target, "staff": staff_name})

    def _move(self, record: Mapping[str, Any], current: Booking, start: datetime) -> None:
        """Same master, new time: the booking form's move first, the journal's full edit if that is refused."""
        body = {"datetime": start.isoformat(), "comment": current.comment}
        try:
            self._client.put(f"book_record/{self._cid}/{current.id}", body, missing=BookingNotFound)
        except SlotTaken:
            raise
        except BookingRefused as error:
            # A partner may have no access to moving user records this way (403/404/422 by account settings);
            # the journal's PUT record does the same move and checks the time the same way (save_if_busy: false).
            log.info("yclients: PUT book_record refused, editing the record", record_id=current.id, error=str(error))
            self._put_record(record, current, start, current.staff_id)

    def _put_record(
        self,
        record: Mapping[str, Any],
        current: Booking,
        start: datetime,
        staff_id: int,
        *,
        attendance: int | None = None,
    ) -> None:
        client = _mapping(record.get("client"))
        seconds = _int(record.get("seance_length")) or _int(record.get("length")) or current.duration_minutes * 60
        body = {
            "staff_id": staff_id,
            "services": [_service_line(item) for item in _dicts(record.get("services"))],
            "client": {
                "phone": _digits(_text(client.get("phone"))) or current.client_phone,
                "name": _text(client.get("name")) or current.client_name,
                "email": _text(client.get("email")),
            },
            "datetime": start.isoformat(),
            # The same length with another master: YClients may know a different one, but the visit keeps its own.
            "seance_length": seconds,
            "save_if_busy": False,
            "send_sms": False,
            "comment": current.comment,
            # Sent back unchanged unless asked, so a confirmed visit stays confirmed after the move.
            "attendance": attendance
            if attendance is not None
            else _int(record.get("attendance", record.get("visit_attendance"))),
        }
        self._client.put(f"record/{self._cid}/{current.id}", body, missing=BookingNotFound)

    def close(self) -> None:
        self._client.close()


# --- mapping -------------------------------------------------------------------------------------


def _booking(record: Mapping[str, Any], tz: tzinfo) -> Booking:
    services = _dicts(record.get("services"))
    first = services[0] if services else {}
    staff = _mapping(record.get("staff"))
    client = _mapping(record.get("client"))
    start = _moment(record.get("datetime"), tz) or _moment(record.get("date"), tz)
    if start is None:
        raise ValueError(f"record {record.get('id')} has no readable datetime")
    seconds = _int(record.get("seance_length")) or _int(record.get("length"))
    price = _int(first.get("cost") if first.get("cost") is not None else first.get("first_cost"))
    return Booking(
        id=_int(record.get("id")),
        service_id=_int(first.get("id")),
        service=_text(first.get("title")),
        staff_id=_int(record.get("staff_id")) or _int(staff.get("id")),
        staff=_text(staff.get("name")),
        start=start,
        duration_minutes=seconds // 60,
        status=_status(record),
        client_phone=_digits(_text(client.get("phone"))),
        client_name=_text(client.get("name")),
        price_min=price,
        price_max=price,
        comment=_text(record.get("comment")),
        created_at=_moment(record.get("create_date"), tz),
        changed_at=_moment(record.get("last_change_date"), tz),
    )


def _status(record: Mapping[str, Any]) -> BookingStatus:
    if _flag(record.get("deleted"), default=False):
        return "cancelled"
    attendance = record.get("attendance", record.get("visit_attendance"))
    return _ATTENDANCE.get(_int(attendance), "booked")


def _service_line(item: Mapping[str, Any]) -> dict[str, Any]:
    """A record's service as ``PUT record`` wants it back, prices untouched."""
    first_cost = item.get("first_cost", item.get("cost", 0))
    return {
        "id": _int(item.get("id")),
        "first_cost": first_cost,
        "discount": item.get("discount", 0),
        "cost": item.get("cost", first_cost),
    }


def _iana(*candidates: object) -> str:
    """The first candidate that is an IANA zone name; YClients' numeric offsets ("3", 0) are not."""
    for candidate in candidates:
        name = _text(candidate)
        if name and zone(name).key == name:
            return name
    return DEFAULT_TIMEZONE


def _moment(value: object, tz: tzinfo) -> datetime | None:
    """An aware datetime in ``tz`` from ISO 8601 (with or without an offset: without is the salon's) or unix time."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz)
    text = _text(value)
    if not text:
        return None
    if text.isdigit():
        return datetime.fromtimestamp(int(text), tz)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)


def _clock_on(day: date, value: object, tz: tzinfo) -> datetime | None:
    moment = _time(value)
    return None if moment is None else datetime.combine(day, moment, tzinfo=tz)


def _time(value: object) -> time | None:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::\d{2})?", _text(value))
    if match is None:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if (hours, minutes) == (24, 0):
        return time.max  # a day that closes at midnight
    return time(hours, minutes) if hours < 24 and minutes < 60 else None


def _intervals(slots: object) -> tuple[Interval, ...]:
    intervals = []
    for slot in _dicts(slots):
        opens, closes = _time(slot.get("from")), _time(slot.get("to"))
        if opens is not None and closes is not None and opens < closes:
            intervals.append(Interval(start=opens, end=closes))
    return tuple(sorted(intervals, key=lambda interval: interval.start))


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(_text(value)[:10])
    except ValueError:
        return None


def _same_phone(theirs: str, ours: str) -> bool:
    """Digits only; a Russian number written with a trunk 8 (89001234567) is the same as 79001234567."""
    theirs, ours = _digits(theirs), _digits(ours)
    if not theirs or not ours:
        return False
    if theirs == ours:
        return True
    return len(theirs) == len(ours) == 11 and theirs[1:] == ours[1:] and {theirs[0], ours[0]} == {"7", "8"}


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _int(value: object, default: int = 0) -> int:
    """YClients sends numbers as numbers or strings ("16", "1500.00") depending on the endpoint."""
    if isinstance(value, bool) or value is None:
        return default
    if isinstance(value, int):
        return value
    try:
        return round(float(value)) if isinstance(value, float | str) else default
    except (ValueError, OverflowError):
        return default


def _flag(value: object, *, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes"}
    return bool(value)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _dicts(value: object) -> list[Mapping[str, Any]]:
    if not isinstance(value, Iterable) or isinstance(value, str | bytes | Mapping):
        return []
    return [item for item in value if isinstance(item, Mapping)]
