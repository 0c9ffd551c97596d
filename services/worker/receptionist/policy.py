"""Stage 1 of the embedded provider: what to do about a turn, given what was said before.

It turns the facts of one message (``Understanding``) and the dialogue so far (``ChatMemory``) into
the original's commands, in the original's order of rules: a time with no booking yet books; no
time searches; a time with a booking being moved reschedules; "да" or "второе" picks from what was
offered; the last service, staff member and day are reused until the client changes them. Where a
command can't be formed, it asks (a ``CLARIFY`` step) instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from services.worker.receptionist.catalog import CatalogView
from services.worker.receptionist.commands import Command, param_date, param_time
from services.worker.receptionist.memory import ChatMemory, OfferedSlot, Pending
from services.worker.receptionist.understanding.parse import Understanding
from shared.booking.models import Service

_SAME_STAFF = re.compile(
    r"(?:тот же|того же|к тому же|к той же|у того же|у той же|к нему же|к ней же|same (?:person|stylist|master|one))"
)
_ALL = re.compile(r"\b(?:все|обе|оба|всё|all|both)\b")
MIN_LEAD_MINUTES = 30
"""A time named without a day means today only if it is at least this far ahead; else tomorrow."""


@dataclass
class Plan:
    commands: list[Command] = field(default_factory=list)
    clarifications: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def add(self, command: str, /, **params: Any) -> None:
        kept = {key: value for key, value in params.items() if value not in (None, "")}
        self.commands.append(Command.model_validate({"name": command, "params": kept}))

    def ask(self, outcome: str, **data: Any) -> None:
        self.clarifications.append((outcome, data))

    @property
    def empty(self) -> bool:
        return not self.commands and not self.clarifications


class Policy:
    def __init__(self, catalog: CatalogView, memory: ChatMemory, now: datetime) -> None:
        self.catalog = catalog
        self.memory = memory
        self.now = now

    # --- references to what was said before ---

    def _base_moment(self) -> datetime | None:
        dialog = self.memory.dialog
        selection = dialog.selection
        if selection.day and selection.time:
            return datetime.combine(selection.day, selection.time, tzinfo=self.now.tzinfo)
        return dialog.last_booking_start

    def _resolve_references(self, u: Understanding) -> None:
        dialog = self.memory.dialog
        if u.same_day and u.day is None:
            base = self._base_moment()
            u.day = dialog.selection.day or (base.date() if base else None)
        if u.shift_minutes and u.exact_time is None:
            base = self._base_moment()
            if base is not None:
                moved = base + timedelta(minutes=u.shift_minutes)
                u.exact_time = moved.time()
                u.day = u.day or moved.date()
        if not u.staff and _SAME_STAFF.search(u.text):
            staff_id = dialog.selection.staff_id or dialog.last_booking_staff_id
            member = self.catalog.staff_member(staff_id)
            if member is not None:
                u.staff = (member,)

    def _number_as_hour(self, u: Understanding) -> None:
        """ "давайте 15" is 15:00 unless it is the number of an offered option."""
        offered = self.memory.dialog.offered
        if u.number is not None and u.exact_time is None and u.ordinal is None:
            if 1 <= u.number <= len(offered) and u.number < 9:
                u.ordinal = u.number
            elif 9 <= u.number <= 23:
                u.exact_time = time(u.number)
            elif 1 <= u.number <= 8:
                u.exact_time = time(u.number + 12)

    # --- choosing among what was offered ---

    def _picked(self, u: Understanding) -> OfferedSlot | None:
        offered = self.memory.dialog.offered
        if not offered:
            return None
        if u.ordinal is not None:
            index = u.ordinal - 1 if u.ordinal > 0 else len(offered) - 1
            return offered[index] if 0 <= index < len(offered) else None
        if u.exact_time is not None:
            days = {slot.start.date() for slot in offered}
            wanted_day = u.day if u.day else (next(iter(days)) if len(days) == 1 else None)
            for slot in offered:
                if slot.start.time() == u.exact_time and (wanted_day is None or slot.start.date() == wanted_day):
                    if u.staff and slot.staff_id not in {m.id for m in u.staff}:
                        continue
                    return slot
            return None
        if "agree" in u.intents and len(offered) == 1:
            return offered[0]
        return None

    # --- the plan ---

    def plan(self, u: Understanding) -> Plan:
        """Rules in order; the first that forms a complete answer to the turn ends it."""
        plan = Plan()
        self._resolve_references(u)
        self._number_as_hour(u)
        if u.client_name:
            plan.add("SAVE_CLIENT_NAME", name=u.client_name)
        rules = (
            self._reminder_declined,
            self._answer_pending,
            self._change_booking,
            self._shift_last_booking,
            self._pick_offered,
            self._move_to_named_time,
        )
        for rule in rules:
            if rule(u, plan):
                return plan
        if self._information(u, plan):
            return plan
        if self._wants_booking(u):
            self._booking(u, plan)
        if plan.empty:
            self._nothing_to_do(u, plan)
        return plan

    def _answer_pending(self, u: Understanding, plan: Plan) -> bool:
        dialog = self.memory.dialog
        pending = dialog.pending
        if pending is None:
            return False
        if pending.kind == "name" and u.client_name and not (u.services or u.intents & {"cancel", "reschedule"}):
            params = dict(pending.params)
            if u.day:
                params["date"] = u.day.isoformat()
            if u.exact_time:
                params["time"] = f"{u.exact_time:%H:%M}"
            plan.add("CREATE_BOOKING", **params, client_name=u.client_name)
            return True
        if pending.kind in ("cancel_choice", "reschedule_choice") and self._choose_booking(u, plan):
            return True
        if pending.kind != "service_choice":
            dialog.pending = None
        return False

    def _reminder_declined(self, u: Understanding, plan: Plan) -> bool:
        """ "Не смогу" to a reminder: offer to cancel the visit or move it; "перенесите на пятницу" moves it."""
        dialog = self.memory.dialog
        reminded = dialog.reminded
        if reminded is None or not u.intents & {"cant_come", "decline"} or u.intents & {"cancel", "reschedule"}:
            return False
        if u.day or u.has_time:
            return False
        dialog.clear_offer()
        dialog.pending = None
        dialog.reschedule_booking_id, dialog.offered_for = reminded.booking_id, "reschedule"
        start = reminded.start.astimezone(self.now.tzinfo)
        booking = {
            "id": reminded.booking_id,
            "service": reminded.service,
            "staff": reminded.staff,
            "date": start.date().isoformat(),
            "time": f"{start:%H:%M}",
        }
        plan.ask("reminder_declined", booking=booking)
        return True

    def _change_booking(self, u: Understanding, plan: Plan) -> bool:
        if not u.intents & {"cancel", "reschedule"}:
            return False
        reminded = self.memory.dialog.reminded
        if reminded is not None and u.day is None:
            # Answering a reminder: "отмените" / "перенесите на пятницу" is about the reminded visit.
            if "cancel" in u.intents and "reschedule" not in u.intents:
                plan.add("CANCEL_BOOKING", booking_id=reminded.booking_id)
                return True
            plan.add(
                "RESCHEDULE_BOOKING",
                booking_id=reminded.booking_id,
                date=param_date(u.day) or "",
                time=param_time(u.exact_time) or "",
            )
            return True
        # The service named ("перенесите маникюр") tells the executor which of several bookings is meant.
        selection = self.memory.dialog.selection
        selection.service_id, selection.service = (u.service.id, u.service.title) if u.service else (None, None)
        if "cancel" in u.intents and "reschedule" not in u.intents:
            plan.add("CANCEL_BOOKING", date=param_date(u.day))
            return True
        if "reschedule" in u.intents:
            selection = self.memory.dialog.selection
            if u.time_from or u.time_to:
                selection.time_from, selection.time_to = u.time_from, u.time_to
            plan.add("RESCHEDULE_BOOKING", date=param_date(u.day) or "", time=param_time(u.exact_time) or "")
            return True
        return False

    def _shift_last_booking(self, u: Understanding, plan: Plan) -> bool:
        """Right after booking, "а можно на час позже?" moves that booking rather than making another."""
        dialog = self.memory.dialog
        if not u.shift_minutes or dialog.last_booking_id is None or dialog.offered or self._changes_service(u):
            return False
        if u.exact_time is None or u.day is None:
            return False
        plan.add(
            "RESCHEDULE_BOOKING",
            date=u.day.isoformat(),
            time=f"{u.exact_time:%H:%M}",
            booking_id=dialog.last_booking_id,
        )
        return True

    def _pick_offered(self, u: Understanding, plan: Plan) -> bool:
        dialog = self.memory.dialog
        picked = self._picked(u)
        if picked is None or self._changes_service(u):
            return False
        day, moment = picked.start.date().isoformat(), f"{picked.start:%H:%M}"
        if dialog.offered_for == "reschedule":
            plan.add("RESCHEDULE_BOOKING", date=day, time=moment, booking_id=dialog.reschedule_booking_id)
        else:
            service = dialog.selection.service
            plan.add("CREATE_BOOKING", service_name=service, date=day, time=moment, staff_name=picked.staff)
        return True

    def _move_to_named_time(self, u: Understanding, plan: Plan) -> bool:
        """While moving a booking, a day or time the client names is the new one."""
        dialog = self.memory.dialog
        moving = dialog.offered_for == "reschedule" and dialog.reschedule_booking_id is not None
        if not moving or not (u.day or u.exact_time) or self._changes_service(u):
            return False
        day = u.day or dialog.selection.day
        plan.add(
            "RESCHEDULE_BOOKING",
            date=param_date(day) or "",
            time=param_time(u.exact_time) or "",
            booking_id=dialog.reschedule_booking_id,
        )
        return True

    def _information(self, u: Understanding, plan: Plan) -> bool:
        """Bookings, schedules, prices, descriptions; True when that is all the turn asks."""
        if "my_bookings" in u.intents and not u.services:
            plan.add("SHOW_BOOKINGS")
        if "staff_schedule" in u.intents and u.staff and not u.services and "prices" not in u.intents:
            plan.add("CHECK_STAFF_SCHEDULE", staff_name=u.staff[0].name, date=param_date(u.day))
            return True
        if "explain" in u.intents and u.services:
            for service in u.services:
                plan.add("EXPLAIN_SERVICE", service_name=service.title)
        elif "prices" in u.intents or "services_list" in u.intents:
            query = u.services[0].title if u.services else u.unknown_service
            plan.add("SHOW_PRICES", service_name=query)
        return False

    def _wants_booking(self, u: Understanding) -> bool:
        if "my_bookings" in u.intents:
            return False
        if u.intents & {"prices", "explain", "services_list", "staff_schedule"}:
            return bool(u.day or u.has_time)
        return bool("book" in u.intents or u.services or u.day or u.has_time or u.staff or u.unknown_service)

    def _changes_service(self, u: Understanding) -> bool:
        current = self.memory.dialog.selection.service_id
        return bool(u.services) and all(service.id != current for service in u.services)

    def _choose_booking(self, u: Understanding, plan: Plan) -> bool:
        pending = self.memory.dialog.pending
        assert pending is not None
        ids = pending.booking_ids
        chosen: list[int] = []
        if _ALL.search(u.text) and pending.kind == "cancel_choice":
            chosen = list(ids)
        elif u.ordinal is not None or u.number is not None:
            position = u.ordinal if u.ordinal is not None else u.number
            assert position is not None
            index = position - 1 if position > 0 else len(ids) - 1
            if 0 <= index < len(ids):
                chosen = [ids[index]]
        elif u.day is not None and pending.kind == "cancel_choice":
            # "которая в четверг": the executor knows the bookings; ask it by date.
            plan.add("CANCEL_BOOKING", date=u.day.isoformat())
            return True
        if not chosen:
            return False
        for booking_id in chosen:
            if pending.kind == "cancel_choice":
                plan.add("CANCEL_BOOKING", booking_id=booking_id)
            else:
                params = pending.params
                plan.add(
                    "RESCHEDULE_BOOKING",
                    booking_id=booking_id,
                    date=params.get("date") or param_date(u.day) or "",
                    time=params.get("time") or param_time(u.exact_time) or "",
                )
        return True

    def _service_for_booking(self, u: Understanding, plan: Plan) -> Service | None:
        dialog = self.memory.dialog
        if u.service is not None:
            return u.service
        if len(u.services) > 1:
            dialog.pending = Pending(kind="service_choice", service_ids=[s.id for s in u.services])
            self._remember_when(u)
            plan.ask("ambiguous_service", options=[s.model_dump() for s in u.services])
            return None
        pending = dialog.pending
        if pending is not None and pending.kind == "service_choice":
            self._remember_when(u)
            options = [s for s in self.catalog.services if s.id in pending.service_ids]
            plan.ask("ambiguous_service", options=[s.model_dump() for s in options])
            return None
        if u.unknown_service:
            plan.ask(
                "unknown_service", query=u.unknown_service, services=[s.model_dump() for s in self.catalog.services]
            )
            return None
        current = self.catalog.service(dialog.selection.service_id)
        if current is not None:
            if u.staff and current.id not in u.staff[0].service_ids and u.staff[0].service_ids:
                current = None
            else:
                return current
        if u.staff and len(u.staff[0].service_ids) == 1:
            return self.catalog.service(u.staff[0].service_ids[0])
        self._remember_when(u)
        plan.ask(
            "ask_service",
            staff=u.staff[0].name if u.staff else None,
            categories=sorted({s.category for s in self.catalog.services if s.category}),
        )
        return None

    def _remember_when(self, u: Understanding) -> None:
        selection = self.memory.dialog.selection
        if u.day:
            selection.day = u.day
        if u.exact_time:
            selection.time = u.exact_time
        if u.time_from or u.time_to:
            selection.time_from, selection.time_to = u.time_from, u.time_to
        if u.staff:
            selection.staff_id, selection.staff = u.staff[0].id, u.staff[0].name

    def _booking(self, u: Understanding, plan: Plan) -> None:
        dialog = self.memory.dialog
        selection = dialog.selection
        continuing = not self._changes_service(u)
        service = self._service_for_booking(u, plan)
        if service is None:
            return
        if dialog.pending is not None and dialog.pending.kind == "service_choice":
            dialog.pending = None
        keep = continuing or selection.service_id in (None, service.id)
        staff = u.staff[0] if u.staff else (self.catalog.staff_member(selection.staff_id) if keep else None)
        if staff is not None and staff.service_ids and service.id not in staff.service_ids and not u.staff:
            staff = None
        day = u.day or (selection.day if keep else None)
        exact = u.exact_time or (selection.time if keep and not u.has_time else None)
        window_from = u.time_from if u.has_time else (selection.time_from if keep else None)
        window_to = u.time_to if u.has_time else (selection.time_to if keep else None)
        if exact is not None:
            if day is None:
                today_ok = datetime.combine(self.now.date(), exact, tzinfo=self.now.tzinfo) > self.now + timedelta(
                    minutes=MIN_LEAD_MINUTES
                )
                day = self.now.date() if today_ok else self.now.date() + timedelta(days=1)
            plan.add(
                "CREATE_BOOKING",
                service_name=service.title,
                date=day.isoformat(),
                time=f"{exact:%H:%M}",
                staff_name=staff.name if staff else None,
            )
            return
        plan.add(
            "SEARCH_SLOTS",
            service_name=service.title,
            date=param_date(day) or "",
            staff_name=staff.name if staff else None,
            time_from=param_time(window_from),
            time_to=param_time(window_to),
        )

    def _nothing_to_do(self, u: Understanding, plan: Plan) -> None:
        dialog = self.memory.dialog
        if "agree" in u.intents and len(dialog.offered) > 1:
            plan.ask(
                "which_time",
                slots=[
                    {"date": s.start.date().isoformat(), "time": f"{s.start:%H:%M}", "staff": s.staff}
                    for s in dialog.offered
                ],
            )
        elif "decline" in u.intents and dialog.offered:
            plan.ask("other_time")
        elif u.client_name:
            return
        elif "greeting" in u.intents:
            plan.ask("greeting_only")
        elif u.exact_time or u.ordinal:
            plan.ask(
                "ask_service", staff=None, categories=sorted({s.category for s in self.catalog.services if s.category})
            )
        else:
            plan.ask("not_understood")
