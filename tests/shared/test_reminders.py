"""Reminder planning, change classification, the calendar link and reading a reply to a reminder."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.scheduler.settings import SchedulerSettings
from services.worker.notices.replies import meaning
from shared.booking.models import Booking, BookingStatus, Company
from shared.config import load_settings
from shared.errors import ConfigurationError, LinkExpired, NotAuthenticated
from shared.reminders.calendar import calendar_token, read_calendar_token, visit_ics
from shared.reminders.plan import ReminderRules, due_reminders, still_current
from shared.reminders.windows import DailyWindow
from shared.visits.changes import classify
from shared.visits.own import Expectation
from shared.visits.state import VisitState

SALON = ZoneInfo("Europe/Moscow")
RULES = ReminderRules(DailyWindow.parse("19:00-21:00"), 120)
VISIT = datetime(2026, 11, 27, 15, 0, tzinfo=SALON)
LONG_AGO = datetime(2026, 11, 20, 12, 0, tzinfo=SALON)


def visit(start: datetime = VISIT, status: BookingStatus = "booked", set_at: datetime = LONG_AGO) -> VisitState:
    return VisitState(id=7, phone="79001234567", start=start, staff_id=2002, status=status, set_at=set_at)


def kinds(state: VisitState, now: datetime) -> list[str]:
    return [notice.kind for notice in due_reminders(state, now, RULES, "962302")]


@pytest.mark.parametrize(
    ("text", "error"),
    [("19-21", "HH:MM-HH:MM"), ("21:00-19:00", "before it ends"), ("19:00-24:01", "within one day"),
     ("19:70-20:00", "00-59")],
)  # fmt: skip
def test_a_bad_window_is_refused_naming_the_problem(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        DailyWindow.parse(text)


def test_the_day_before_reminder_is_due_only_inside_the_window_on_the_day_before() -> None:
    evening = datetime(2026, 11, 26, 19, 30, tzinfo=SALON)
    assert kinds(visit(), evening) == ["day_before"]
    assert kinds(visit(), evening.replace(hour=18, minute=59)) == []
    assert kinds(visit(), evening.replace(hour=21, minute=0)) == []
    assert kinds(visit(), evening - timedelta(days=1)) == []
    assert DailyWindow.parse("00:00-24:00").on(VISIT.date(), SALON)[1] == datetime(2026, 11, 28, tzinfo=SALON)


def test_the_two_hour_reminder_is_due_from_150_to_90_minutes_before() -> None:
    assert kinds(visit(), VISIT - timedelta(minutes=150)) == ["two_hours"]
    assert kinds(visit(), VISIT - timedelta(minutes=91)) == ["two_hours"]
    assert kinds(visit(), VISIT - timedelta(minutes=90)) == []
    assert kinds(visit(), VISIT - timedelta(minutes=151)) == []


@pytest.mark.parametrize("status", ["cancelled", "arrived", "no_show"])
def test_no_reminder_for_a_visit_that_is_not_going_to_happen(status: BookingStatus) -> None:
    assert kinds(visit(status=status), VISIT - timedelta(hours=2)) == []
    assert kinds(visit(status=status), datetime(2026, 11, 26, 20, 0, tzinfo=SALON)) == []


def test_no_reminder_for_a_visit_booked_less_than_its_lead_time_before() -> None:
    booked_in_the_evening = visit(set_at=datetime(2026, 11, 26, 19, 10, tzinfo=SALON))
    assert kinds(booked_in_the_evening, datetime(2026, 11, 26, 19, 30, tzinfo=SALON)) == []
    booked_an_hour_before = visit(set_at=VISIT - timedelta(minutes=100))
    assert kinds(booked_an_hour_before, VISIT - timedelta(minutes=95)) == []
    assert kinds(visit(status="confirmed"), VISIT - timedelta(hours=2)) == ["two_hours"]


def test_a_moved_visit_gets_reminders_under_a_new_key_and_the_old_ones_are_dropped_before_sending() -> None:
    evening = datetime(2026, 11, 26, 19, 30, tzinfo=SALON)
    [old] = due_reminders(visit(), evening, RULES, "962302")
    [new] = due_reminders(visit(start=VISIT + timedelta(hours=2)), evening, RULES, "962302")
    assert old.key != new.key and old.job_id != new.job_id
    moved = booking(start=VISIT + timedelta(hours=2))
    assert still_current(old, moved, evening) == "the visit was moved since"
    assert still_current(new, moved, evening) is None
    assert still_current(new, moved.model_copy(update={"status": "cancelled"}), evening) == "the visit is cancelled"
    assert still_current(new, moved, evening.replace(hour=21)) == "too late: its moment has passed"


def booking(
    start: datetime = VISIT,
    status: BookingStatus = "booked",
    comment: str = "",
    created_at: datetime | None = LONG_AGO,
) -> Booking:
    return Booking(
        id=7, service_id=1005, service="Маникюр", staff_id=2002, staff="Мария Иванова", start=start,
        duration_minutes=60, status=status, client_phone="79001234567", client_name="Ольга", price_min=1500,
        price_max=1500, comment=comment, created_at=created_at, changed_at=created_at,
    )  # fmt: skip


NOW = datetime(2026, 11, 23, 10, 0, tzinfo=SALON)
BASELINE = NOW - timedelta(hours=1)


def change_of(previous: VisitState | None, current: Booking, expected: Expectation | None = None) -> tuple[str, str]:
    change = classify(previous, current, now=NOW, baseline_at=BASELINE, expected=expected, company_id="962302")
    return (change.notice.kind if change.notice else "none"), change.why


def test_the_salons_changes_are_told_and_the_receptionists_are_not() -> None:
    before = visit()
    assert change_of(before, booking(start=VISIT + timedelta(hours=2)))[0] == "moved"
    assert change_of(before, booking(status="cancelled"))[0] == "cancelled"
    assert change_of(before, booking(status="no_show"))[0] == "cancelled"
    assert change_of(before, booking(status="confirmed"))[0] == "none"
    assert change_of(None, booking(created_at=NOW))[0] == "created"
    assert change_of(None, booking(created_at=LONG_AGO)) == ("none", "recorded")
    ours = booking(created_at=NOW, comment="WhatsApp, AI Admin [ai-admin:b1:CREATE_BOOKING#0]")
    assert change_of(None, ours)[0] == "none"
    move = Expectation(start=VISIT + timedelta(hours=2), staff_id=2002)
    assert change_of(before, booking(start=VISIT + timedelta(hours=2)), move)[0] == "none"
    assert change_of(before, booking(start=VISIT + timedelta(hours=3)), move)[0] == "moved", "not the move it said"
    assert change_of(before, booking(status="cancelled"), Expectation(cancelled=True))[0] == "none"
    begun = visit(start=NOW - timedelta(minutes=10))
    assert change_of(begun, booking(start=NOW - timedelta(minutes=10), status="cancelled"))[0] == "none"


def test_a_move_notice_names_the_old_time_and_the_moved_visit_is_set_now() -> None:
    change = classify(
        visit(), booking(start=VISIT + timedelta(hours=2)), now=NOW, baseline_at=BASELINE, expected=None,
        company_id="962302",
    )  # fmt: skip
    assert change.notice is not None and change.notice.previous_start == VISIT
    assert change.state.set_at == NOW


def test_a_calendar_token_opens_its_own_visit_until_it_expires_and_not_when_tampered_with() -> None:
    expires = NOW + timedelta(hours=72)
    token = calendar_token("a-secret-of-sixteen+", "962302", 7, expires)
    assert read_calendar_token("a-secret-of-sixteen+", token, "962302", NOW) == 7
    with pytest.raises(LinkExpired):
        read_calendar_token("a-secret-of-sixteen+", token, "962302", expires + timedelta(seconds=1))
    with pytest.raises(NotAuthenticated):
        read_calendar_token("another-secret-here", token, "962302", NOW)
    with pytest.raises(NotAuthenticated):
        read_calendar_token("a-secret-of-sixteen+", token, "111", NOW)
    with pytest.raises(NotAuthenticated):
        read_calendar_token("a-secret-of-sixteen+", "x" + token, "962302", NOW)
    ics = visit_ics(booking(), Company(id="962302", title="Салон", address="Москва, Тверская 1")).decode()
    assert "DTSTART;TZID=Europe/Moscow:20261127T150000" in ics and "LOCATION:Москва\\, Тверская 1" in ics


@pytest.mark.parametrize(
    ("reply", "expected"),
    [("да", "yes"), ("Да, буду!", "yes"), ("+", "yes"), ("👍🏻", "yes"), ("всё в силе, спасибо", "yes"),
     ("ок", "yes"), ("yes, see you", "yes"), ("приду", "yes"), ("не смогу", "no"), ("Отмените", "no"),
     ("перенесите, пожалуйста", "no"), ("Да, но можно на час позже?", "other"), ("спасибо", "other"),
     ("+7 900 000 00 00", "other")],
)  # fmt: skip
def test_a_reply_to_a_reminder_is_read_as_yes_no_or_neither(reply: str, expected: str) -> None:
    assert meaning(reply) == expected


@pytest.mark.parametrize(
    ("variables", "line"),
    [
        ({"REMINDER_DAY_BEFORE_WINDOW": "19-21"}, "REMINDER_DAY_BEFORE_WINDOW: must be HH:MM-HH:MM"),
        ({"REMINDER_BEFORE_MINUTES": "5"}, "REMINDER_BEFORE_MINUTES: "),
        ({"SCHEDULER_POLL_SECONDS": "0"}, "SCHEDULER_POLL_SECONDS: "),
        ({"PUBLIC_BASE_URL": "salon.example.com"}, "PUBLIC_BASE_URL: must start with http:// or https://"),
        ({"PUBLIC_BASE_URL": "https://salon.example.com"}, "CALENDAR_LINK_SECRET: must be a real secret"),
        ({"YCLIENTS_WEBHOOK_KEY": "short"}, "YCLIENTS_WEBHOOK_KEY: must be 16+ characters"),
    ],
)
def test_a_bad_reminder_setting_stops_the_scheduler_with_one_line_naming_it(
    variables: dict[str, str], line: str
) -> None:
    with pytest.raises(ConfigurationError) as error:
        load_settings(SchedulerSettings, _env_file=None, **variables)
    assert str(error.value).startswith(line)
    assert "\n" not in str(error.value)
