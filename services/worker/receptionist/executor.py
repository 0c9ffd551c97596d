"""Running the receptionist's commands against the booking backend.

Whatever decided the commands (the embedded policy or an LLM), this is the only code that reads or
changes the salon's book, so the rules live here: only times the backend returned as free are
offered or booked; a client sees and changes only their own bookings; every side effect is written
to the turn's ledger first and reconciled with the backend on a retry; and each step reports what
the backend confirmed. One log line per command names it, its parameters and its outcome.

What the backend is asked, it is asked once a turn: free times and the client's bookings are reused
within the turn (another look at the same day, a named master among everyone's times) and forgotten as
soon as the turn changes the book. A time offered earlier in the dialogue is booked without asking for
free times again: the backend checks it as it books, and a time taken since is refused and handled.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from services.worker.receptionist.catalog import CatalogView
from services.worker.receptionist.commands import MAX_COMMANDS_PER_TURN, Command, Step, param_date, param_time
from services.worker.receptionist.ledger import TurnLedger
from services.worker.receptionist.memory import ChatMemory, OfferedSlot, Pending
from services.worker.receptionist.understanding.dates import parse_iso_or_words
from services.worker.receptionist.understanding.morphology import has_tag
from services.worker.receptionist.understanding.times import parse_clock
from shared.booking.backend import BookingBackend
from shared.booking.models import CLIENT_BOOKINGS_AHEAD_DAYS, Booking, FreeSlot, NewBooking, Service, StaffMember
from shared.errors import BookingNotFound, BookingRefused, SlotTaken, TransientError
from shared.logging import get_logger
from shared.metrics import BOOKINGS
from shared.visits.own import OwnChanges

log = get_logger(__name__)

SEARCH_DAYS_AHEAD = 14
"""How far ahead "the nearest free time" looks before saying there is none."""
SHOWN_SLOTS = 6
"""A handful, never a wall: at most this many times in one offer."""
ALTERNATIVES = 4
BOOKING_COMMENT = "WhatsApp, AI Admin"
FALLBACK_CLIENT_NAME = "Клиент WhatsApp"
MAX_NAME_CHARS = 60
BOOKING_HORIZON_DAYS = CLIENT_BOOKINGS_AHEAD_DAYS
"""Visits are booked no further ahead than the backends list a client's bookings, so a retried turn
can always find what it booked."""


def slot_json(slot: FreeSlot | OfferedSlot) -> dict[str, Any]:
    staff = slot.staff_name if isinstance(slot, FreeSlot) else slot.staff
    return {
        "date": slot.start.date().isoformat(),
        "time": f"{slot.start:%H:%M}",
        "staff_id": slot.staff_id,
        "staff": staff,
    }


def booking_json(booking: Booking) -> dict[str, Any]:
    return {
        "id": booking.id,
        "service_id": booking.service_id,
        "service": booking.service,
        "staff_id": booking.staff_id,
        "staff": booking.staff,
        "date": booking.start.date().isoformat(),
        "time": f"{booking.start:%H:%M}",
        "start": booking.start.isoformat(),
        "duration_minutes": booking.duration_minutes,
        "price_min": booking.price_min,
        "price_max": booking.price_max,
        "status": booking.status,
    }


def service_json(service: Service) -> dict[str, Any]:
    return service.model_dump()


def plausible_name(name: str | None) -> str | None:
    """A WhatsApp profile name good enough to book under: letters only, and a name (not "Mom", not "💅")."""
    if not name:
        return None
    words = name.strip().split()
    if not 1 <= len(words) <= 3 or not all(re.fullmatch(r"[A-Za-zА-Яа-яЁё'-]{2,30}", word) for word in words):
        return None
    first = words[0].lower().replace("ё", "е")
    if any("а" <= ch <= "я" for ch in first):
        return name.strip() if has_tag(first, "Name") else None
    return name.strip() if words[0][0].isupper() else None


def handful(slots: list[FreeSlot], limit: int = SHOWN_SLOTS) -> list[FreeSlot]:
    """Up to ``limit`` times spread over the morning, day and evening, in time order."""
    if len(slots) <= limit:
        return slots
    groups = [
        [slot for slot in slots if slot.start.hour < 12],
        [slot for slot in slots if 12 <= slot.start.hour < 18],
        [slot for slot in slots if slot.start.hour >= 18],
    ]
    filled = [group for group in groups if group]
    per_group = max(1, limit // len(filled))
    chosen: list[FreeSlot] = []
    for group in filled:
        if len(group) <= per_group:
            chosen.extend(group)
            continue
        step = (len(group) - 1) / (per_group - 1) if per_group > 1 else 0
        chosen.extend(group[round(index * step)] for index in range(per_group))
    return sorted(dict.fromkeys(chosen), key=lambda slot: slot.start)


class Problem(Exception):
    """A command's parameters can't be acted on; carries the step that says why."""

    def __init__(self, step: Step) -> None:
        super().__init__(step.outcome)
        self.step = step


@dataclass
class Request:
    service: Service
    staff: StaffMember | None
    day: date | None
    moment: time | None

    def details(self) -> dict[str, Any]:
        return {
            "service": service_json(self.service),
            "date": self.day.isoformat() if self.day else None,
            "time": param_time(self.moment),
            "staff": self.staff.name if self.staff else None,
        }


@dataclass
class Resolved:
    service: Service | None = None
    staff: StaffMember | None = None
    problem: Step | None = None


class Executor:
    def __init__(
        self,
        backend: BookingBackend,
        catalog: CatalogView,
        memory: ChatMemory,
        ledger: TurnLedger,
        *,
        phone: str,
        now: datetime,
        push_name: str | None = None,
        own: OwnChanges | None = None,
    ) -> None:
        self.own = own
        """Told before a move or a cancellation reaches the backend: the scheduler sends no notice of it."""
        self.backend = backend
        self.catalog = catalog
        self.memory = memory
        self.ledger = ledger
        self.phone = phone
        self.now = now
        self.push_name = push_name
        self.steps: list[Step] = []
        self._free: dict[tuple[int, date, int | None, int | None], list[FreeSlot]] = {}
        """This turn's answers of ``free_slots`` by (service, day, staff, booking excluded)."""
        self._bookings: list[Booking] | None = None
        """This turn's answer of ``client_bookings``."""

    @property
    def today(self) -> date:
        return self.now.date()

    def at(self, day: date, moment: time) -> datetime:
        return datetime.combine(day, moment, tzinfo=self.now.tzinfo)

    # --- dispatch ---

    def run(self, command: Command) -> Step:
        if len(self.steps) >= MAX_COMMANDS_PER_TURN:
            step = Step(name=command.name, params=command.params, outcome="too_many_commands")
        else:
            handler = getattr(self, f"_{command.name.lower()}")
            try:
                step = handler(command.params)
            except Problem as problem:
                step = problem.step
            except TransientError as error:
                step = Step(name=command.name, outcome="backend_unavailable", data={"error": str(error)})
            except BookingRefused as error:
                # YClients refusing a late cancellation, a schedule it won't show: said as a refusal, never a 500.
                step = Step(name=command.name, outcome="refused", data={"message": str(error), "code": error.code})
            except OverflowError:
                step = Step(name=command.name, outcome="invalid_date", data={"value": str(command.params)})
            step.name, step.params = command.name, dict(command.params)
        self.steps.append(step)
        log.info("Command", command=command.name, params=command.params, outcome=step.outcome)
        return step

    def clarify(self, outcome: str, **data: Any) -> Step:
        """A question the policy asks without touching the backend (which service? which day?)."""
        step = Step(name="CLARIFY", outcome=outcome, data=data)
        self.steps.append(step)
        log.info("Command", command="CLARIFY", outcome=outcome)
        return step

    # --- resolving names the way a client or an LLM wrote them ---

    def _service(self, query: str | None, command: str) -> Resolved:
        if not query or not str(query).strip():
            return Resolved(problem=Step(name=command, outcome="service_required"))
        match = self.catalog.service_matcher.find(str(query))
        if match.found:
            return Resolved(service=match.found)
        if match.ambiguous:
            options = [service_json(service) for service in match.services]
            return Resolved(
                problem=Step(name=command, outcome="ambiguous_service", data={"query": query, "options": options})
            )
        return Resolved(
            problem=Step(
                name=command,
                outcome="unknown_service",
                data={"query": query, "services": [service_json(s) for s in self.catalog.services]},
            )
        )

    def _staff(self, query: str | None, service: Service | None, command: str, day: date | None = None) -> Resolved:
        if not query or not str(query).strip():
            return Resolved(service=service)
        member = self.catalog.staff_matcher.find(str(query)).found
        doers = self.backend.staff(service.id) if service else self.catalog.staff
        if member is not None and (service is None or member.id in {m.id for m in doers}):
            return Resolved(service=service, staff=member)
        if service is not None and day is not None:
            # Name only those free that day: "маникюр в пятницу делает Мария", not everyone who ever does it.
            free = {slot.staff_id for slot in self._slots(service, day, None, (None, None))}
            doers = [m for m in doers if m.id in free] or doers
        names = [m.name for m in doers]
        if member is None:
            return Resolved(problem=Step(name=command, outcome="unknown_staff", data={"query": query, "staff": names}))
        assert service is not None
        data = {"staff": member.name, "service": service_json(service), "staff_for_service": names}
        return Resolved(problem=Step(name=command, outcome="staff_mismatch", data=data))

    def _date(self, value: Any, command: str, required: bool) -> tuple[date | None, Step | None]:
        text = "" if value is None else str(value)
        day = parse_iso_or_words(text, self.today)
        if day is None and (text.strip() or required):
            return None, Step(name=command, outcome="invalid_date", data={"value": text})
        if day is not None and day < self.today:
            return None, Step(name=command, outcome="past_date", data={"date": day.isoformat()})
        if day is not None and day > self.today + timedelta(days=BOOKING_HORIZON_DAYS):
            return None, Step(
                name=command, outcome="too_far", data={"date": day.isoformat(), "days": BOOKING_HORIZON_DAYS}
            )
        return day, None

    def _request(self, name: str, params: dict[str, Any], *, need_time: bool) -> Request:
        """Service, staff, day and time from a command's parameters, or a Problem naming what is wrong.

        What resolves is remembered even when something else doesn't: after "Анна не делает маникюр",
        "давайте к Марии" still means the manicure at the day and time already said.
        """
        resolved = self._service(params.get("service_name"), name)
        if resolved.problem:
            raise Problem(resolved.problem)
        service = resolved.service
        assert service is not None
        selection = self.memory.dialog.selection
        if selection.service_id != service.id:
            selection.staff_id = selection.staff = None
        selection.service_id, selection.service = service.id, service.title
        day, problem = self._date(params.get("date"), name, required=need_time)
        if problem:
            raise Problem(problem)
        moment = parse_clock(str(params.get("time") or "")) if need_time else None
        if need_time and moment is None:
            raise Problem(Step(name=name, outcome="invalid_time", data={"value": params.get("time")}))
        if day is not None:
            selection.day = day
        if moment is not None:
            selection.time = moment
        resolved = self._staff(params.get("staff_name"), service, name, day)
        if resolved.problem:
            raise Problem(resolved.problem)
        if resolved.staff is not None:
            selection.staff_id, selection.staff = resolved.staff.id, resolved.staff.name
        return Request(service, resolved.staff, day, moment)

    # --- what the backend was asked this turn ---

    def _doers(self, service_id: int) -> list[int]:
        return [member.id for member in self.catalog.staff if service_id in member.service_ids]

    def _free_slots(self, service_id: int, day: date, staff_id: int | None, exclude: int | None) -> list[FreeSlot]:
        """The backend's free times, asked once a turn: a master's are taken from everyone's, and everyone's
        from each master's, when those are known already."""
        key = (service_id, day, staff_id, exclude)
        everyone = (service_id, day, None, exclude)
        if key in self._free:
            return self._free[key]
        if everyone in self._free:
            return [slot for slot in self._free[everyone] if slot.staff_id == staff_id]
        doers = self._doers(service_id) if staff_id is None else []
        if doers and all((service_id, day, doer, exclude) in self._free for doer in doers):
            merged = [slot for doer in doers for slot in self._free[(service_id, day, doer, exclude)]]
            return sorted(merged, key=lambda slot: (slot.start, slot.staff_id))
        slots = self.backend.free_slots(service_id, day, staff_id, exclude_booking_id=exclude)
        self._free[key] = slots
        return slots

    def _client_bookings(self) -> list[Booking]:
        if self._bookings is None:
            self._bookings = self.backend.client_bookings(self.phone)
        return list(self._bookings)

    def _forget(self) -> None:
        """Called as the turn changes the book: nothing read before the change is reused after it."""
        self._free.clear()
        self._bookings = None

    # --- free time ---

    def _slots(
        self,
        service: Service,
        day: date,
        staff: StaffMember | None,
        window: tuple[time | None, time | None],
        exclude: int | None = None,
    ) -> list[FreeSlot]:
        slots = self._free_slots(service.id, day, staff.id if staff else None, exclude)
        start, end = window
        return [
            slot
            for slot in slots
            if slot.start > self.now
            and (start is None or slot.start.time() >= start)
            and (end is None or slot.start.time() < end)
        ]

    def _one_per_time(self, slots: list[FreeSlot]) -> list[FreeSlot]:
        """Each time once, with the client's usual staff member when free, else the busiest-free one."""
        counts = Counter(slot.staff_id for slot in slots)
        favourite = self.memory.preferences.staff_id
        best: dict[datetime, FreeSlot] = {}
        for slot in slots:
            current = best.get(slot.start)
            rank = (slot.staff_id == favourite, counts[slot.staff_id], -slot.staff_id)
            if current is None or rank > (current.staff_id == favourite, counts[current.staff_id], -current.staff_id):
                best[slot.start] = slot
        return sorted(best.values(), key=lambda slot: slot.start)

    @staticmethod
    def _offered(slots: list[FreeSlot], service_id: int) -> list[OfferedSlot]:
        return [
            OfferedSlot(start=s.start, staff_id=s.staff_id, staff=s.staff_name, service_id=service_id) for s in slots
        ]

    def _offer(
        self, slots: list[FreeSlot], service: Service, purpose: str = "book", booking_id: int | None = None
    ) -> list[FreeSlot]:
        shown = handful(self._one_per_time(slots))
        dialog = self.memory.dialog
        dialog.offered = self._offered(shown, service.id)
        dialog.offered_for = "reschedule" if purpose == "reschedule" else "book"
        dialog.reschedule_booking_id = booking_id
        return shown

    def _next_day_with_slots(
        self,
        service: Service,
        after: date,
        staff: StaffMember | None,
        window: tuple[time | None, time | None],
        exclude: int | None = None,
    ) -> tuple[date, list[FreeSlot]] | None:
        first, last = after + timedelta(days=1), after + timedelta(days=SEARCH_DAYS_AHEAD)
        # A calendar month at a time (YClients' book_dates answers a month per call): a day found in this month
        # spares asking about the next.
        while first <= last:
            until = min(last, (first.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1))
            candidates = self.backend.bookable_dates(service.id, first, until, staff.id if staff else None)
            days = (
                candidates
                if candidates is not None
                else [first + timedelta(days=n) for n in range((until - first).days + 1)]
            )
            for day in days:
                slots = self._slots(service, day, staff, window, exclude)
                if slots:
                    return day, slots
            first = until + timedelta(days=1)
        return None

    def _near(self, slots: list[FreeSlot], wanted: datetime) -> list[FreeSlot]:
        unique = self._one_per_time(slots)
        closest = sorted(unique, key=lambda slot: abs((slot.start - wanted).total_seconds()))[:ALTERNATIVES]
        return sorted(closest, key=lambda slot: slot.start)

    # --- commands ---

    def _search_slots(self, params: dict[str, Any]) -> Step:
        name = "SEARCH_SLOTS"
        request = self._request(name, params, need_time=False)
        service, staff, day = request.service, request.staff, request.day
        window = (parse_clock(str(params.get("time_from") or "")), parse_clock(str(params.get("time_to") or "")))
        selection = self.memory.dialog.selection
        selection.service_id, selection.service = service.id, service.title
        selection.staff_id, selection.staff = (staff.id, staff.name) if staff else (None, None)
        selection.time_from, selection.time_to = window
        selection.time, selection.day = None, day
        base = {
            "service": service_json(service),
            "staff": staff.name if staff else None,
            "time_from": param_time(window[0]),
            "time_to": param_time(window[1]),
        }
        slots = self._slots(service, day, staff, window) if day is not None else []
        if day is None or not slots:
            after = day if day is not None else self.today - timedelta(days=1)
            found = self._next_day_with_slots(service, after, staff, window)
            if day is None and found is not None:
                day, slots = found
                selection.day = day
            elif found is None:
                self.memory.dialog.clear_offer()
                return Step(name=name, outcome="no_slots", data={**base, "date": param_date(day), "next": None})
            else:
                shown = self._offer(found[1], service)
                next_offer = {"date": found[0].isoformat(), "slots": [slot_json(s) for s in shown]}
                return Step(name=name, outcome="no_slots", data={**base, "date": param_date(day), "next": next_offer})
        shown = self._offer(slots, service)
        data = {
            **base,
            "date": day.isoformat(),
            "nearest": params.get("date") in (None, ""),
            "slots": [slot_json(s) for s in shown],
            "total": len(slots),
        }
        return Step(name=name, outcome="slots", data=data)

    def _client_name(self, given: Any) -> str | None:
        if given and str(given).strip():
            # A name, not a paragraph: the backends take up to 100 characters.
            return " ".join(str(given).split())[:MAX_NAME_CHARS].strip()
        known = self.memory.client.name or plausible_name(self.push_name)
        if known is None and self.memory.client.name_asked:
            # The name is asked once; a client who chose not to give it is booked under what we have.
            return (self.push_name or "").strip() or FALLBACK_CLIENT_NAME
        return known

    def _create_booking(self, params: dict[str, Any]) -> Step:
        name = "CREATE_BOOKING"
        request = self._request(name, params, need_time=True)
        service, staff, day, moment = request.service, request.staff, request.day, request.moment
        assert day is not None and moment is not None
        wanted, details = self.at(day, moment), request.details()
        if wanted <= self.now:
            return Step(name=name, outcome="past_time", data=details)
        client_name = self._client_name(params.get("client_name"))
        if client_name is None:
            pending = {
                "service_name": service.title,
                "date": day.isoformat(),
                "time": f"{moment:%H:%M}",
                "staff_name": staff.name if staff else "",
            }
            self.memory.dialog.pending = Pending(kind="name", params=pending)
            self.memory.client.name_asked = True
            return Step(name=name, outcome="need_name", data=details)
        intent = self.ledger.next_intent(name)
        earlier = self._earlier_booking(intent, service, wanted, client_name)
        if earlier is not None:
            return earlier
        offered = self._offered_at(service, staff, wanted)
        if offered is not None:
            # Found free by the backend when it was offered: booked without asking again, since the backend
            # checks the time as it books. Taken since, it is refused (nothing made), and what is free now decides.
            try:
                return self._book(intent, params, details, service, offered.staff_id, wanted, client_name)
            except SlotTaken:
                log.info("An offered time was taken before it was booked", start=wanted.isoformat())
        shown = next((o for o in self.memory.dialog.offered if o.start == wanted), None)
        chosen = self._free_at(
            service, day, staff, wanted, [shown.staff_id if shown else None, self.memory.preferences.staff_id]
        )
        if chosen is None:
            slots = self._slots(service, day, staff, (None, None))  # everyone was asked: from this turn's answers
            if staff is not None and not slots:
                day_off = self._staff_day_off(request, wanted, details)
                if day_off is not None:
                    return day_off
            outcome = "slot_taken" if offered is not None else "time_unavailable"
            return self._unavailable(intent, outcome, details, slots, request, wanted)
        try:
            return self._book(intent, params, details, service, chosen.staff_id, wanted, client_name)
        except SlotTaken:
            fresh = self._slots(service, day, staff, (None, None))
            return self._unavailable(intent, "slot_taken", details, fresh, request, wanted)

    def _free_at(
        self, service: Service, day: date, staff: StaffMember | None, wanted: datetime, preferred: list[int | None]
    ) -> FreeSlot | None:
        """The slot at ``wanted`` with the first preferred master free then, else with the free one of lowest id.

        The masters' free times are asked one master at a time in that order, so the first free one spares asking
        the others; when nobody is free, everyone has been asked (and ``_slots`` has everyone's times).
        """
        doers = [staff.id] if staff is not None else self._doers(service.id)
        if not doers:  # a backend that doesn't say who does what: everyone's times at once
            at_time = [slot for slot in self._slots(service, day, None, (None, None)) if slot.start == wanted]
            first = at_time[0] if at_time else None
            return next((slot for pid in preferred for slot in at_time if slot.staff_id == pid), first)
        order = dict.fromkeys([pid for pid in preferred if pid in doers] + sorted(doers))
        for staff_id in order:
            slots = self._free_slots(service.id, day, staff_id, None)
            found = next((slot for slot in slots if slot.start == wanted), None)
            if found is not None:
                return found
        return None

    def _offered_at(self, service: Service, staff: StaffMember | None, wanted: datetime) -> OfferedSlot | None:
        """The time as this dialogue offered it to book this service (with the master named, if one is)."""
        dialog = self.memory.dialog
        if dialog.offered_for != "book":
            return None
        return next(
            (
                slot
                for slot in dialog.offered
                if slot.start == wanted
                and slot.service_id == service.id
                and (staff is None or slot.staff_id == staff.id)
            ),
            None,
        )

    def _book(
        self,
        intent: str,
        params: dict[str, Any],
        details: dict[str, Any],
        service: Service,
        staff_id: int,
        wanted: datetime,
        client_name: str,
    ) -> Step:
        """Book and say what the backend confirmed; SlotTaken (nothing made) when the backend refused the time."""
        self.ledger.write(intent, "started", params=params, staff_id=staff_id, start=wanted.isoformat())
        new = NewBooking(
            service_id=service.id,
            staff_id=staff_id,
            start=wanted,
            client_phone=self.phone,
            client_name=client_name,
            comment=f"{BOOKING_COMMENT} [{self.ledger.marker(intent)}]",
        )
        self._forget()
        try:
            booking = self.backend.create_booking(new)
            BOOKINGS.labels("created").inc()
        except SlotTaken:
            raise
        except BookingRefused as error:
            step = Step(
                name="CREATE_BOOKING", outcome="refused", data={**details, "message": str(error), "code": error.code}
            )
            self.ledger.write(intent, "refused", step=step.model_dump(mode="json"))
            return step
        except TransientError:
            # The answer was lost, not necessarily the booking: look for it before saying it wasn't made.
            made = self._marked_booking(intent)
            if made is None:
                raise
            BOOKINGS.labels("created").inc()  # made after all; only its answer was lost
            return self._booked(intent, made, client_name)
        return self._booked(intent, booking, client_name)

    def _marked_booking(self, intent: str, bookings: list[Booking] | None = None) -> Booking | None:
        """The booking this intent made, recognised by the marker in its comment."""
        marker = self.ledger.marker(intent)
        mine = bookings if bookings is not None else self._client_bookings()
        return next((b for b in mine if marker in b.comment), None)

    def _earlier_booking(self, intent: str, service: Service, wanted: datetime, client_name: str) -> Step | None:
        """What an earlier attempt of this turn, or an earlier turn, already booked; None to go ahead."""
        record = self.ledger.read(intent)
        if record and record["status"] in ("done", "refused"):
            return Step.model_validate(record["step"])
        existing = self._client_bookings()
        if record and record["status"] == "started":
            made = self._marked_booking(intent, existing)
            if made is not None:
                log.info("Booking from an earlier attempt of this turn found; not booking again", booking_id=made.id)
                return self._booked(intent, made, client_name)
        twin = next((b for b in existing if b.service_id == service.id and b.start == wanted), None)
        if twin is not None:
            self._after_booking(twin, client_name)
            return Step(name="CREATE_BOOKING", outcome="already_booked", data={"booking": booking_json(twin)})
        return None

    def _booked(self, intent: str, booking: Booking, client_name: str) -> Step:
        company = self.catalog.company
        step = Step(
            name="CREATE_BOOKING",
            outcome="booked",
            data={"booking": booking_json(booking), "address": company.address, "salon": company.title},
        )
        self.ledger.write(intent, "done", booking_id=booking.id, step=step.model_dump(mode="json"))
        self._after_booking(booking, client_name)
        return step

    def _after_booking(self, booking: Booking, client_name: str) -> None:
        dialog = self.memory.dialog
        dialog.clear_offer()
        dialog.pending = None
        dialog.selection.day, dialog.selection.time = booking.start.date(), None
        dialog.selection.staff_id, dialog.selection.staff = booking.staff_id, booking.staff
        dialog.last_booking_id = booking.id
        dialog.last_booking_start = booking.start
        dialog.last_booking_staff_id = booking.staff_id
        self.memory.client.name = self.memory.client.name or client_name
        self.memory.preferences.staff_id = booking.staff_id
        self.memory.preferences.service_id = booking.service_id

    def _staff_day_off(self, request: Request, wanted: datetime, details: dict[str, Any]) -> Step | None:
        """The named staff member doesn't work that day: say so, and who is free at that very time."""
        assert request.staff is not None
        week = self.backend.working_days(request.staff.id, wanted.date(), wanted.date() + timedelta(days=6))
        if any(day.working for day in week if day.day == wanted.date()):
            return None
        others = [
            slot for slot in self._slots(request.service, wanted.date(), None, (None, None)) if slot.start == wanted
        ]
        others = self._one_per_time(others)
        dialog = self.memory.dialog
        dialog.offered = self._offered(others, request.service.id)
        dialog.offered_for = "book"
        dialog.selection.staff_id = dialog.selection.staff = None
        data = {
            **details,
            "work_days": [day.day.isoformat() for day in week if day.working],
            "others": [slot_json(slot) for slot in others],
        }
        return Step(name="CREATE_BOOKING", outcome="staff_day_off", data=data)

    def _unavailable(
        self,
        intent: str,
        outcome: str,
        details: dict[str, Any],
        slots: list[FreeSlot],
        request: Request,
        wanted: datetime,
    ) -> Step:
        selection = self.memory.dialog.selection
        window = (selection.time_from, selection.time_to)
        wished = [
            s
            for s in slots
            if (window[0] is None or s.start.time() >= window[0]) and (window[1] is None or s.start.time() < window[1])
        ]
        alternatives = self._near(wished or slots, wanted)
        other_day = None
        if not alternatives:
            found = self._next_day_with_slots(request.service, wanted.date(), request.staff, (None, None))
            if found is not None:
                other_day = found[0].isoformat()
                alternatives = handful(self._one_per_time(found[1]), ALTERNATIVES + 2)
        dialog = self.memory.dialog
        dialog.offered = self._offered(alternatives, request.service.id)
        dialog.offered_for = "book"
        step = Step(
            name="CREATE_BOOKING",
            outcome=outcome,
            data={**details, "other_date": other_day, "alternatives": [slot_json(s) for s in alternatives]},
        )
        if outcome == "slot_taken":
            self.ledger.write(intent, "refused", step=step.model_dump(mode="json"))
        return step

    def _pick_booking(
        self, bookings: list[Booking], booking_id: Any, day: date | None
    ) -> tuple[Booking | None, list[Booking]]:
        """The booking meant, or the candidates to ask about."""
        if booking_id not in (None, ""):
            try:
                wanted = int(booking_id)
            except (TypeError, ValueError):
                return None, []
            return next((b for b in bookings if b.id == wanted), None), []
        candidates = [b for b in bookings if day is None or b.start.date() == day]
        if len(candidates) > 1 and self.memory.dialog.selection.service_id is not None:
            # "перенесите маникюр": of several bookings, the one for the service the client named.
            named = [b for b in candidates if b.service_id == self.memory.dialog.selection.service_id]
            candidates = named or candidates
        if len(candidates) == 1:
            return candidates[0], []
        return None, candidates

    def _chosen_booking(self, name: str, params: dict[str, Any], day: date | None, moment: time | None) -> Booking:
        """The client's booking a cancel or a move is about, or a Problem (none, not theirs, which one?)."""
        bookings = self._client_bookings()
        if not bookings:
            raise Problem(Step(name=name, outcome="no_bookings"))
        by_day = day if name == "CANCEL_BOOKING" else None
        booking, candidates = self._pick_booking(bookings, params.get("booking_id"), by_day)
        if booking is not None:
            return booking
        if candidates:
            kind = "cancel_choice" if name == "CANCEL_BOOKING" else "reschedule_choice"
            wanted = {"date": param_date(day) or "", "time": param_time(moment) or ""}
            self.memory.dialog.pending = Pending(kind=kind, booking_ids=[b.id for b in candidates], params=wanted)
            data = {
                "bookings": [booking_json(b) for b in candidates],
                "date": param_date(day),
                "time": param_time(moment),
            }
            raise Problem(Step(name=name, outcome="need_choice", data=data))
        data = {
            "booking_id": params.get("booking_id"),
            "date": param_date(day),
            "bookings": [booking_json(b) for b in bookings],
        }
        raise Problem(Step(name=name, outcome="not_found", data=data))

    def _cancel_booking(self, params: dict[str, Any]) -> Step:
        name = "CANCEL_BOOKING"
        intent = self.ledger.next_intent(name)
        record = self.ledger.read(intent)
        if record and record["status"] == "done":
            return Step.model_validate(record["step"])
        if record and record["status"] == "started":
            earlier = self.backend.find_booking(int(record["booking_id"]))
            if earlier is None or earlier.status == "cancelled":
                return self._cancelled(intent, booking_json(earlier) if earlier else dict(record["booking"]))
        day, problem = self._date(params.get("date"), name, required=False)
        if problem and problem.outcome == "invalid_date":
            return problem
        booking = self._chosen_booking(name, params, day, None)
        self.ledger.write(intent, "started", booking_id=booking.id, booking=booking_json(booking))
        self._forget()
        if self.own is not None:
            self.own.expect_cancel(booking.id)
        try:
            self.backend.cancel_booking(booking.id, self.phone)
            BOOKINGS.labels("cancelled").inc()
        except BookingNotFound:
            current = self.backend.find_booking(booking.id)
            if current is not None and current.status != "cancelled":
                return Step(name=name, outcome="not_found", data={"booking_id": booking.id, "bookings": []})
        return self._cancelled(intent, booking_json(booking))

    def _cancelled(self, intent: str, booking: dict[str, Any]) -> Step:
        step = Step(name="CANCEL_BOOKING", outcome="cancelled", data={"booking": booking})
        self.ledger.write(intent, "done", booking_id=booking["id"], step=step.model_dump(mode="json"))
        dialog = self.memory.dialog
        dialog.pending = None
        dialog.clear_offer()
        if dialog.last_booking_id == booking["id"]:
            dialog.last_booking_id = None
        if dialog.reminded is not None and dialog.reminded.booking_id == booking["id"]:
            dialog.reminded = None
        return step

    def _reschedule_booking(self, params: dict[str, Any]) -> Step:
        name = "RESCHEDULE_BOOKING"
        intent = self.ledger.next_intent(name)
        record = self.ledger.read(intent)
        if record and record["status"] in ("done", "refused"):
            return Step.model_validate(record["step"])
        day, problem = self._date(params.get("date"), name, required=False)
        if problem:
            return problem
        moment = parse_clock(str(params.get("time") or ""))
        if record and record["status"] == "started":
            earlier = self.backend.find_booking(int(record["booking_id"]))
            if earlier is not None and earlier.start.isoformat() == record["start"]:
                return self._rescheduled(intent, earlier, record.get("previous", {}))
        booking = self._chosen_booking(name, params, day, moment)
        service = self.catalog.service(booking.service_id) or Service(
            id=booking.service_id, title=booking.service, duration_minutes=booking.duration_minutes
        )
        selection = self.memory.dialog.selection
        selection.service_id, selection.service = service.id, service.title
        selection.staff_id, selection.staff = booking.staff_id, booking.staff
        day = day or (booking.start.date() if moment is not None else None)
        if day is None:
            self.memory.dialog.reschedule_booking_id = booking.id
            self.memory.dialog.offered_for = "reschedule"
            return Step(name=name, outcome="need_date", data={"booking": booking_json(booking)})
        selection.day = day
        if moment is None:
            return self._times_to_move_to(booking, service, day)
        return self._move(intent, booking, service, self.at(day, moment))

    def _times_to_move_to(self, booking: Booking, service: Service, day: date) -> Step:
        name, base = "RESCHEDULE_BOOKING", {"booking": booking_json(booking)}
        staff = self.catalog.staff_member(booking.staff_id)
        window = (self.memory.dialog.selection.time_from, self.memory.dialog.selection.time_to)
        slots = self._slots(service, day, staff, window, exclude=booking.id)
        if slots:
            shown = self._offer(slots, service, "reschedule", booking.id)
            data = {**base, "date": day.isoformat(), "slots": [slot_json(s) for s in shown]}
            return Step(name=name, outcome="need_time", data=data)
        found = self._next_day_with_slots(service, day, staff, window, exclude=booking.id)
        next_offer = None
        if found is not None:
            shown = self._offer(found[1], service, "reschedule", booking.id)
            next_offer = {"date": found[0].isoformat(), "slots": [slot_json(s) for s in shown]}
        return Step(name=name, outcome="no_slots", data={**base, "date": param_date(day), "next": next_offer})

    def _move(self, intent: str, booking: Booking, service: Service, wanted: datetime) -> Step:
        name = "RESCHEDULE_BOOKING"
        details = {"booking": booking_json(booking), "date": wanted.date().isoformat(), "time": f"{wanted:%H:%M}"}
        if wanted == booking.start:
            return Step(name=name, outcome="same_time", data=details)
        if wanted <= self.now:
            return Step(name=name, outcome="past_time", data=details)
        staff = self.catalog.staff_member(booking.staff_id)
        slots = self._slots(service, wanted.date(), staff, (None, None), exclude=booking.id)
        if not any(slot.start == wanted for slot in slots):
            return self._reschedule_unavailable("time_unavailable", details, slots, booking, wanted)
        previous = {"date": booking.start.date().isoformat(), "time": f"{booking.start:%H:%M}"}
        self.ledger.write(intent, "started", booking_id=booking.id, start=wanted.isoformat(), previous=previous)
        self._forget()
        if self.own is not None:
            self.own.expect_move(booking.id, wanted, booking.staff_id)
        try:
            moved = self.backend.reschedule_booking(booking.id, self.phone, wanted, booking.staff_id)
            BOOKINGS.labels("rescheduled").inc()
        except SlotTaken:
            fresh = self._slots(service, wanted.date(), staff, (None, None), exclude=booking.id)
            step = self._reschedule_unavailable("slot_taken", details, fresh, booking, wanted)
            self.ledger.write(intent, "refused", step=step.model_dump(mode="json"))
            return step
        except BookingNotFound:
            return Step(name=name, outcome="not_found", data={"booking_id": booking.id, "bookings": []})
        return self._rescheduled(intent, moved, previous)

    def _reschedule_unavailable(
        self, outcome: str, details: dict[str, Any], slots: list[FreeSlot], booking: Booking, wanted: datetime
    ) -> Step:
        alternatives = self._near(slots, wanted)
        dialog = self.memory.dialog
        dialog.offered = self._offered(alternatives, booking.service_id)
        dialog.offered_for = "reschedule"
        dialog.reschedule_booking_id = booking.id
        return Step(
            name="RESCHEDULE_BOOKING",
            outcome=outcome,
            data={**details, "alternatives": [slot_json(s) for s in alternatives]},
        )

    def _rescheduled(self, intent: str, booking: Booking, previous: dict[str, Any]) -> Step:
        step = Step(
            name="RESCHEDULE_BOOKING",
            outcome="rescheduled",
            data={"booking": booking_json(booking), "previous": previous, "address": self.catalog.company.address},
        )
        self.ledger.write(
            intent, "done", booking_id=booking.id, start=booking.start.isoformat(), step=step.model_dump(mode="json")
        )
        dialog = self.memory.dialog
        dialog.clear_offer()
        dialog.pending = None
        dialog.last_booking_id = booking.id
        dialog.last_booking_start = booking.start
        dialog.last_booking_staff_id = booking.staff_id
        if dialog.reminded is not None and dialog.reminded.booking_id == booking.id:
            dialog.reminded = None
        return step

    def _show_prices(self, params: dict[str, Any]) -> Step:
        query = str(params.get("service_name") or "").strip()
        if not query:
            return Step(
                name="SHOW_PRICES",
                outcome="prices",
                data={"all": True, "services": [service_json(s) for s in self.catalog.services]},
            )
        match = self.catalog.service_matcher.find(query)
        if not match.services:
            return Step(
                name="SHOW_PRICES",
                outcome="unknown_service",
                data={"query": query, "services": [service_json(s) for s in self.catalog.services]},
            )
        if match.found:
            self._discussing(match.found)
        # "маникюр" answers with every manicure: the client compares, then chooses.
        related = [s for s in self.catalog.services if any(_related(s, found) for found in match.services)]
        return Step(
            name="SHOW_PRICES",
            outcome="prices",
            data={"all": False, "query": query, "services": [service_json(s) for s in related or match.services]},
        )

    def _explain_service(self, params: dict[str, Any]) -> Step:
        resolved = self._service(params.get("service_name"), "EXPLAIN_SERVICE")
        if resolved.problem:
            return resolved.problem
        assert resolved.service is not None
        self._discussing(resolved.service)
        return Step(name="EXPLAIN_SERVICE", outcome="explained", data={"service": service_json(resolved.service)})

    def _discussing(self, service: Service) -> None:
        """A price asked or a service explained is the service a following "запишите на пятницу" means."""
        selection = self.memory.dialog.selection
        if selection.service_id != service.id:
            selection.service_id, selection.service = service.id, service.title
            selection.staff_id = selection.staff = None
            selection.day = selection.time = None

    def _check_staff_schedule(self, params: dict[str, Any]) -> Step:
        name = "CHECK_STAFF_SCHEDULE"
        query = params.get("staff_name")
        match = self.catalog.staff_matcher.find(str(query or ""))
        member = match.found
        if member is None:
            return Step(
                name=name, outcome="unknown_staff", data={"query": query, "staff": [m.name for m in self.catalog.staff]}
            )
        day, problem = self._date(params.get("date"), name, required=False)
        if problem:
            return problem
        start, end = (day, day) if day else (self.today, self.today + timedelta(days=6))
        days = self.backend.working_days(member.id, start, end)
        self.memory.dialog.selection.staff_id, self.memory.dialog.selection.staff = member.id, member.name
        return Step(
            name=name,
            outcome="schedule",
            data={
                "staff": member.name,
                "staff_id": member.id,
                "date": day.isoformat() if day else None,
                "days": [
                    {
                        "date": d.day.isoformat(),
                        "working": d.working,
                        "intervals": [{"from": f"{i.start:%H:%M}", "to": f"{i.end:%H:%M}"} for i in d.intervals],
                    }
                    for d in days
                ],
            },
        )

    def _show_bookings(self, params: dict[str, Any]) -> Step:
        bookings = self._client_bookings()
        return Step(name="SHOW_BOOKINGS", outcome="bookings", data={"bookings": [booking_json(b) for b in bookings]})

    def _save_client_name(self, params: dict[str, Any]) -> Step:
        value = str(params.get("name") or "").strip()
        if not value or len(value) > 60:
            return Step(name="SAVE_CLIENT_NAME", outcome="invalid_name", data={"value": value})
        self.memory.client.name = value
        return Step(name="SAVE_CLIENT_NAME", outcome="name_saved", data={"name": value})


def _related(candidate: Service, found: Service) -> bool:
    """Variants of the found service: "Маникюр" and "Маникюр с покрытием гель-лак"."""
    return candidate.id == found.id or candidate.title.lower().startswith(found.title.lower() + " ")
