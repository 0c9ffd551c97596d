"""``BOOKING_BACKEND=local``: an embedded salon in SQLite, seeded from the YAML catalog.

The catalog tables are rewritten from ``CATALOG_PATH`` every time a process opens the salon (the
file is the source of truth); bookings are real rows that survive restarts. Free times come from
staff schedules, service durations and the bookings already made. Every change runs in one
``BEGIN IMMEDIATE`` transaction, so the api and the worker (separate processes) can't both take
one time.

The catalog tables change only when a process seeds a different catalog, so what was read of them
(company, services, staff, working hours) is kept per catalog fingerprint and read again only when the
fingerprint in ``meta`` is one not seen yet: a turn's catalog costs one row lookup, not five queries.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from shared.booking.catalog import WEEKDAYS, Catalog, parse_hours
from shared.booking.models import (
    Booking,
    Company,
    FreeSlot,
    Interval,
    NewBooking,
    Service,
    StaffMember,
    WorkDay,
)
from shared.clock import Clock, zone
from shared.errors import BackendUnavailable, BookingNotFound, BookingRefused, SlotTaken
from shared.metrics import measured_backend_call
from shared.sqlite import SqliteStore

measured = measured_backend_call("local")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS company (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    address TEXT NOT NULL,
    phone TEXT NOT NULL,
    timezone TEXT NOT NULL,
    slot_step_minutes INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS services (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    category TEXT NOT NULL,
    price_min INTEGER NOT NULL,
    price_max INTEGER NOT NULL,
    duration_minutes INTEGER NOT NULL,
    description TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS staff (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    specialization TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS staff_services (
    staff_id INTEGER NOT NULL,
    service_id INTEGER NOT NULL,
    PRIMARY KEY (staff_id, service_id)
);
CREATE TABLE IF NOT EXISTS schedule (
    staff_id INTEGER NOT NULL,
    weekday INTEGER NOT NULL,
    hours TEXT NOT NULL,
    PRIMARY KEY (staff_id, weekday)
);
CREATE TABLE IF NOT EXISTS bookings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    service_id INTEGER NOT NULL,
    service_title TEXT NOT NULL,
    staff_id INTEGER NOT NULL,
    staff_name TEXT NOT NULL,
    start_ts INTEGER NOT NULL,
    duration_minutes INTEGER NOT NULL,
    price_min INTEGER NOT NULL,
    price_max INTEGER NOT NULL,
    client_phone TEXT NOT NULL,
    client_name TEXT NOT NULL,
    status TEXT NOT NULL,
    comment TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS bookings_by_staff ON bookings(staff_id, start_ts);
CREATE INDEX IF NOT EXISTS bookings_by_client ON bookings(client_phone, start_ts);
"""

_ACTIVE = ("booked", "confirmed")
_SERVICE_COLUMNS = "id, title, category, price_min, price_max, duration_minutes, description"
_BOOKING_COLUMNS = (
    "id, service_id, service_title, staff_id, staff_name, start_ts, duration_minutes, price_min, price_max,"
    " client_phone, client_name, status, comment, created_at, updated_at"
)
_INSERTED_COLUMNS = _BOOKING_COLUMNS.removeprefix("id, ")


_MAX_DURATION_SECONDS = 24 * 3600
"""No service lasts longer (the catalog refuses one), so a booking overlapping a day starts less than this before it."""


_CATALOGS_KEPT = 4
"""Catalog versions remembered per process (salons opened with the same catalog share one)."""


@dataclass(frozen=True, slots=True)
class _CatalogRows:
    """The catalog tables as read for one fingerprint; the models are frozen, so callers may share them."""

    fingerprint: str
    company: Company
    services: tuple[Service, ...]
    service_by_id: dict[int, Service]
    staff: tuple[StaffMember, ...]
    staff_by_id: dict[int, StaffMember]
    hours: dict[tuple[int, int], tuple[Interval, ...]]
    """(staff id, weekday) -> working intervals."""


_catalogs: dict[str, _CatalogRows] = {}
"""By fingerprint: equal fingerprints mean equal catalog tables, whichever salon file holds them."""
_catalogs_lock = threading.Lock()


def database_path(data_dir: Path, company_id: str) -> Path:
    return data_dir / f"salon-{company_id}.sqlite"


class LocalBackend:
    name = "local"

    def __init__(self, path: Path, catalog: Catalog, frozen_at: datetime | None = None) -> None:
        try:
            self._store = SqliteStore(path, _SCHEMA)
        except sqlite3.Error as error:
            raise BackendUnavailable(f"the salon database {path} cannot be opened: {error}") from error
        self.path = path
        self._timezone = zone(catalog.company.timezone)
        self._clock = Clock(self._timezone, frozen_at)
        self._step = timedelta(minutes=catalog.slot_step_minutes)
        self._seed(catalog)

    # --- catalog ---

    def _seed(self, catalog: Catalog) -> None:
        """Rewrite the catalog tables, unless this very catalog is already there (every work horse opens the salon)."""
        company = catalog.company
        fingerprint = hashlib.sha256(catalog.model_dump_json().encode()).hexdigest()
        with self._read() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'catalog'").fetchone()
        if row is not None and row[0] == fingerprint:
            return
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('catalog', ?)", (fingerprint,))
            for table in ("company", "services", "staff", "staff_services", "schedule"):
                db.execute(f"DELETE FROM {table}")
            db.execute(
                "INSERT INTO company VALUES (?, ?, ?, ?, ?, ?)",
                (
                    company.id,
                    company.title,
                    company.address,
                    company.phone,
                    company.timezone,
                    catalog.slot_step_minutes,
                ),
            )
            db.executemany(
                "INSERT INTO services VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (s.id, s.title, s.category, s.price_min, s.price_max, s.duration_minutes, s.description)
                    for s in catalog.services
                ],
            )
            db.executemany(
                "INSERT INTO staff VALUES (?, ?, ?)", [(m.id, m.name, m.specialization) for m in catalog.staff]
            )
            db.executemany(
                "INSERT INTO staff_services VALUES (?, ?)",
                [(m.id, service_id) for m in catalog.staff for service_id in m.service_ids],
            )
            db.executemany(
                "INSERT INTO schedule VALUES (?, ?, ?)",
                [
                    (m.id, weekday, hours)
                    for m in catalog.staff
                    for weekday, hours in ((index, m.schedule.get(name)) for index, name in enumerate(WEEKDAYS))
                    if hours
                ],
            )

    @contextmanager
    def _db(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        try:
            with self._store.transaction() if write else self._store.reading() as db:
                yield db
        except sqlite3.Error as error:
            raise BackendUnavailable(f"the salon database is unavailable: {error}") from error

    def _write(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return self._db(write=True)

    def _read(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return self._db(write=False)

    def now(self) -> datetime:
        return self._clock.now()

    def _catalog(self, db: sqlite3.Connection) -> _CatalogRows:
        """The catalog tables as of the fingerprint in ``meta``; read only for a fingerprint not seen yet."""
        row = db.execute("SELECT value FROM meta WHERE key = 'catalog'").fetchone()
        cached = _catalogs.get(str(row[0])) if row is not None else None
        if cached is not None:
            return cached
        own_snapshot = not db.in_transaction  # inside a write, the write's transaction is the snapshot
        if own_snapshot:
            db.execute("BEGIN")  # one snapshot of all five tables, even if another process seeds meanwhile
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'catalog'").fetchone()
            fingerprint = str(row[0]) if row is not None else ""
            company = db.execute("SELECT id, title, address, phone, timezone FROM company").fetchone()
            services = [_service(row) for row in db.execute(f"SELECT {_SERVICE_COLUMNS} FROM services ORDER BY id")]
            members = db.execute("SELECT id, name, specialization FROM staff ORDER BY id").fetchall()
            links = db.execute("SELECT staff_id, service_id FROM staff_services ORDER BY service_id").fetchall()
            schedule = db.execute("SELECT staff_id, weekday, hours FROM schedule").fetchall()
        finally:
            if own_snapshot:
                db.execute("COMMIT")
        services_of: dict[int, list[int]] = {}
        for staff_id, linked in links:
            services_of.setdefault(staff_id, []).append(linked)
        staff = tuple(
            StaffMember(id=row[0], name=row[1], specialization=row[2], service_ids=tuple(services_of.get(row[0], [])))
            for row in members
        )
        rows = _CatalogRows(
            fingerprint=fingerprint,
            company=Company(id=company[0], title=company[1], address=company[2], phone=company[3], timezone=company[4]),
            services=tuple(services),
            service_by_id={service.id: service for service in services},
            staff=staff,
            staff_by_id={member.id: member for member in staff},
            hours={(staff_id, weekday): parse_hours(hours) for staff_id, weekday, hours in schedule},
        )
        if fingerprint:
            with _catalogs_lock:
                while len(_catalogs) >= _CATALOGS_KEPT:
                    del _catalogs[next(iter(_catalogs))]
                _catalogs[fingerprint] = rows
        return rows

    def _stamp(self) -> float:
        """When a booking is made or changed, by the salon's clock (frozen under CLOCK_FROZEN_AT, like the rest)."""
        return self.now().timestamp()

    @measured
    def company(self) -> Company:
        with self._read() as db:
            return self._catalog(db).company

    @measured
    def services(self) -> list[Service]:
        with self._read() as db:
            return list(self._catalog(db).services)

    @measured
    def staff(self, service_id: int | None = None) -> list[StaffMember]:
        with self._read() as db:
            return self._staff(self._catalog(db), service_id)

    @staticmethod
    def _staff(catalog: _CatalogRows, service_id: int | None) -> list[StaffMember]:
        return [member for member in catalog.staff if service_id is None or service_id in member.service_ids]

    # --- time ---

    @staticmethod
    def _intervals(catalog: _CatalogRows, staff_id: int, day: date) -> tuple[Interval, ...]:
        return catalog.hours.get((staff_id, day.weekday()), ())

    def _at(self, day: date, moment: time) -> datetime:
        return datetime.combine(day, moment, tzinfo=self._timezone)

    def _busy(
        self, db: sqlite3.Connection, staff_id: int, day: date, exclude: int | None
    ) -> list[tuple[datetime, datetime]]:
        start = int(self._at(day, time(0)).timestamp())
        # The lower bound on start_ts adds nothing to the answer (no visit lasts a day) but lets the index
        # skip the staff member's past bookings instead of reading every one of them.
        rows = db.execute(
            "SELECT id, start_ts, duration_minutes FROM bookings"
            " WHERE staff_id = ? AND status IN (?, ?) AND start_ts < ? AND start_ts > ?"
            " AND start_ts + duration_minutes * 60 > ?",
            (staff_id, *_ACTIVE, start + 86_400, start - _MAX_DURATION_SECONDS, start),
        ).fetchall()
        return [
            (
                datetime.fromtimestamp(row[1], self._timezone),
                datetime.fromtimestamp(row[1], self._timezone) + timedelta(minutes=row[2]),
            )
            for row in rows
            if row[0] != exclude
        ]

    def _fits(
        self,
        db: sqlite3.Connection,
        catalog: _CatalogRows,
        staff_id: int,
        start: datetime,
        duration: timedelta,
        exclude: int | None = None,
    ) -> bool:
        """In the future, inside one working interval, overlapping no active booking."""
        day, end = start.date(), start + duration
        within_hours = any(
            self._at(day, interval.start) <= start and end <= self._at(day, interval.end)
            for interval in self._intervals(catalog, staff_id, day)
        )
        if not within_hours or start <= self.now():
            return False
        return _clear(start, end, self._busy(db, staff_id, day, exclude))

    @measured
    def free_slots(
        self, service_id: int, day: date, staff_id: int | None = None, *, exclude_booking_id: int | None = None
    ) -> list[FreeSlot]:
        slots: list[FreeSlot] = []
        with self._read() as db:
            catalog = self._catalog(db)
            service = self._service(catalog, service_id)
            duration = timedelta(minutes=service.duration_minutes or 0)
            minutes = int(duration.total_seconds() // 60)
            now = self.now()
            for member in self._staff(catalog, service_id):
                if staff_id is not None and member.id != staff_id:
                    continue
                intervals = self._intervals(catalog, member.id, day)
                if not intervals:
                    continue
                # Bookings read once per member, not once per candidate time. A candidate lies inside the
                # interval it steps through, so only the future and the bookings are left to check.
                busy = self._busy(db, member.id, day, exclude_booking_id)
                for interval in intervals:
                    start, last = self._at(day, interval.start), self._at(day, interval.end)
                    while start + duration <= last:
                        if start > now and _clear(start, start + duration, busy):
                            slots.append(
                                FreeSlot(
                                    staff_id=member.id, staff_name=member.name, start=start, duration_minutes=minutes
                                )
                            )
                        start += self._step
        return sorted(slots, key=lambda slot: (slot.start, slot.staff_id))

    def bookable_dates(self, service_id: int, start: date, end: date, staff_id: int | None = None) -> list[date] | None:
        return None  # free_slots reads a local file: asking day by day costs nothing worth saving

    @measured
    def working_days(self, staff_id: int, start: date, end: date) -> list[WorkDay]:
        days = []
        with self._read() as db:
            catalog = self._catalog(db)
        if staff_id not in catalog.staff_by_id:
            raise BookingNotFound(f"no staff member {staff_id}")
        day = start
        while day <= end:
            days.append(WorkDay(staff_id=staff_id, day=day, intervals=self._intervals(catalog, staff_id, day)))
            day += timedelta(days=1)
        return days

    # --- bookings ---

    @staticmethod
    def _service(catalog: _CatalogRows, service_id: int) -> Service:
        service = catalog.service_by_id.get(service_id)
        if service is None:
            raise BookingRefused(f"no service {service_id} in the catalog", code=438)
        return service

    @staticmethod
    def _staff_name(catalog: _CatalogRows, staff_id: int, service_id: int) -> str:
        member = catalog.staff_by_id.get(staff_id)
        if member is None or service_id not in member.service_ids:
            raise BookingRefused(f"staff member {staff_id} does not do service {service_id}", code=436)
        return member.name

    @measured
    def create_booking(self, booking: NewBooking) -> Booking:
        start = booking.start.astimezone(self._timezone)
        with self._write() as db:
            catalog = self._catalog(db)
            service = self._service(catalog, booking.service_id)
            duration = timedelta(minutes=service.duration_minutes or 0)
            staff_name = self._staff_name(catalog, booking.staff_id, booking.service_id)
            if not self._fits(db, catalog, booking.staff_id, start, duration):
                raise SlotTaken(f"{start:%Y-%m-%d %H:%M} is not free for {staff_name}", code=433)
            now = self._stamp()
            cursor = db.execute(
                f"INSERT INTO bookings ({_INSERTED_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'booked', ?, ?, ?)",
                (
                    service.id,
                    service.title,
                    booking.staff_id,
                    staff_name,
                    int(start.timestamp()),
                    int(duration.total_seconds() // 60),
                    service.price_min,
                    service.price_max,
                    booking.client_phone,
                    booking.client_name,
                    booking.comment,
                    now,
                    now,
                ),
            )
            row = self._row(db, cursor.lastrowid)
        assert row is not None
        return self._booking(row)

    @measured
    def client_bookings(self, phone: str) -> list[Booking]:
        with self._read() as db:
            rows = db.execute(
                f"SELECT {_BOOKING_COLUMNS} FROM bookings"
                " WHERE client_phone = ? AND status IN (?, ?) AND start_ts >= ? ORDER BY start_ts, id",
                (phone, *_ACTIVE, int(self.now().timestamp())),
            ).fetchall()
        return [self._booking(row) for row in rows]

    @measured
    def find_booking(self, booking_id: int) -> Booking | None:
        with self._read() as db:
            row = self._row(db, booking_id)
        return None if row is None else self._booking(row)

    @staticmethod
    def _row(db: sqlite3.Connection, booking_id: int | None) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = db.execute(
            f"SELECT {_BOOKING_COLUMNS} FROM bookings WHERE id = ?", (booking_id,)
        ).fetchone()
        return row

    def _owned(self, db: sqlite3.Connection, booking_id: int, phone: str) -> Booking:
        row = self._row(db, booking_id)
        if row is None or row[9] != phone or row[11] not in _ACTIVE:
            raise BookingNotFound(f"booking {booking_id} is not an active booking of this client")
        return self._booking(row)

    @measured
    def cancel_booking(self, booking_id: int, phone: str) -> None:
        with self._write() as db:
            self._owned(db, booking_id, phone)
            db.execute(
                "UPDATE bookings SET status = 'cancelled', updated_at = ? WHERE id = ?", (self._stamp(), booking_id)
            )

    @measured
    def reschedule_booking(self, booking_id: int, phone: str, start: datetime, staff_id: int | None = None) -> Booking:
        start = start.astimezone(self._timezone)
        with self._write() as db:
            current = self._owned(db, booking_id, phone)
            catalog = self._catalog(db)
            target_staff = staff_id or current.staff_id
            staff_name = self._staff_name(catalog, target_staff, current.service_id)
            duration = timedelta(minutes=current.duration_minutes)
            if not self._fits(db, catalog, target_staff, start, duration, exclude=booking_id):
                raise SlotTaken(f"{start:%Y-%m-%d %H:%M} is not free for {staff_name}", code=433)
            db.execute(
                "UPDATE bookings SET start_ts = ?, staff_id = ?, staff_name = ?, updated_at = ? WHERE id = ?",
                (int(start.timestamp()), target_staff, staff_name, self._stamp(), booking_id),
            )
            row = self._row(db, booking_id)
        assert row is not None
        return self._booking(row)

    @measured
    def confirm_booking(self, booking_id: int) -> Booking:
        with self._write() as db:
            updated = db.execute(
                "UPDATE bookings SET status = 'confirmed', updated_at = ? WHERE id = ? AND status IN (?, ?)",
                (self._stamp(), booking_id, *_ACTIVE),
            ).rowcount
            row = self._row(db, booking_id)
        if not updated or row is None:
            raise BookingNotFound(f"booking {booking_id} is not a visit that is still going to happen")
        return self._booking(row)

    @measured
    def changed_bookings(self, since: datetime | None, first: date, last: date) -> list[Booking]:
        start = int(self._at(first, time(0)).timestamp())
        end = int(self._at(last + timedelta(days=1), time(0)).timestamp())
        with self._read() as db:
            rows = db.execute(
                f"SELECT {_BOOKING_COLUMNS} FROM bookings WHERE start_ts >= ? AND start_ts < ? AND updated_at >= ?"
                " ORDER BY updated_at, id",
                (start, end, since.timestamp() if since is not None else 0.0),
            ).fetchall()
        return [self._booking(row) for row in rows]

    def _booking(self, row: tuple[Any, ...]) -> Booking:
        return Booking(
            id=row[0],
            service_id=row[1],
            service=row[2],
            staff_id=row[3],
            staff=row[4],
            start=datetime.fromtimestamp(row[5], self._timezone),
            duration_minutes=row[6],
            price_min=row[7],
            price_max=row[8],
            client_phone=row[9],
            client_name=row[10],
            status=row[11],
            comment=row[12],
            created_at=datetime.fromtimestamp(row[13], self._timezone),
            changed_at=datetime.fromtimestamp(row[14], self._timezone),
        )

    def close(self) -> None:
        self._store.close()


def _clear(start: datetime, end: datetime, busy: list[tuple[datetime, datetime]]) -> bool:
    """Overlapping none of the ``busy`` times."""
    return all(end <= busy_start or start >= busy_end for busy_start, busy_end in busy)


def _service(row: tuple[Any, ...]) -> Service:
    return Service(
        id=row[0],
        title=row[1],
        category=row[2],
        price_min=row[3],
        price_max=row[4],
        duration_minutes=row[5],
        description=row[6],
    )
