"""Stage 2 of the embedded provider: the reply written from what the commands returned.

Every sentence that says a booking was made, cancelled or moved is written from a step whose
outcome the backend confirmed; a refusal or an outage is said as such. Greeting once a day, the
client's name when known, the time asked for once, "Чем ещё могу помочь?" at most every 30 minutes
and no WhatsApp markdown are the turn's rules (``turn.py``); this module only writes sentences.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from services.worker.receptionist.commands import Step
from services.worker.receptionist.memory import ChatMemory
from services.worker.receptionist.replies.format import (
    category_name,
    day_for,
    day_on,
    day_short,
    first_name,
    join_or,
    person,
    price,
    service_acc,
    service_title,
)
from services.worker.receptionist.understanding.lexicon import lexicon
from services.worker.receptionist.understanding.text import Language


def cap(text: str) -> str:
    """Capitalise the first letter only ("в пятницу, 27 ноября" -> "В пятницу, 27 ноября")."""
    return text[:1].upper() + text[1:]


GROUP_LABELS = {"ru": ("Утро", "День", "Вечер"), "en": ("Morning", "Afternoon", "Evening")}
GROUP_ABOVE = 5
"""More shown times than this are written in morning/day/evening lines."""


class Writer:
    """Writes one turn's reply; ``parts`` are paragraphs (each a WhatsApp message)."""

    def __init__(self, memory: ChatMemory, now: datetime, language: Language, *, use_name: bool = True) -> None:
        self.memory = memory
        self.use_name = use_name
        """False when the greeting already named the client."""
        self.now = now
        self.today: date = now.date()
        self.lang: Language = language
        self.parts: list[str] = []
        self.completed = False
        """Something the client asked for is done or answered: room for "Чем ещё могу помочь?"."""

    def t(self, ru: str, en: str) -> str:
        return en if self.lang == "en" else ru

    # --- pieces ---

    def on(self, value: str | date) -> str:
        return day_on(value, self.today, self.lang)

    def when(self, value: str | date, moment: str) -> str:
        """ "завтра, 24 ноября, в 15:00"; "tomorrow, 24 November, at 15:00"."""
        return self.t(f"{self.on(value)}, в {moment}", f"{self.on(value)}, at {moment}")

    def for_(self, value: str | date) -> str:
        return day_for(value, self.today, self.lang)

    def svc(self, service: dict[str, Any] | str) -> str:
        title = service if isinstance(service, str) else str(service["title"])
        return service_acc(title, self.lang)

    def title(self, service: dict[str, Any] | str) -> str:
        name = service if isinstance(service, str) else str(service["title"])
        return service_title(name, self.lang)

    def to_staff(self, name: str) -> str:
        return self.t(f"к {person(name, 'datv', 'ru')}", f"with {person(name, 'nomn', 'en')}")

    def at_staff(self, name: str) -> str:
        return self.t(f"у {person(name, 'gent', 'ru')}", f"with {person(name, 'nomn', 'en')}")

    def times(self, slots: list[dict[str, Any]], name_staff: bool) -> str:
        def one(slot: dict[str, Any]) -> str:
            if name_staff:
                return f"{slot['time']} ({first_name(str(slot['staff']), self.lang)})"
            return str(slot["time"])

        if len(slots) <= GROUP_ABOVE:
            return ", ".join(one(slot) for slot in slots)
        groups: list[list[dict[str, Any]]] = [[], [], []]
        for slot in slots:
            hour = int(str(slot["time"])[:2])
            groups[0 if hour < 12 else 1 if hour < 18 else 2].append(slot)
        labels = GROUP_LABELS[self.lang]
        lines = [f"{labels[index]}: {', '.join(one(s) for s in group)}" for index, group in enumerate(groups) if group]
        return "\n" + "\n".join(lines)

    def slot_offer(self, slots: list[dict[str, Any]], staff: str | None) -> tuple[str, str]:
        """(staff phrase, the times): one staff member is named once, several are named per time."""
        names = {str(slot["staff"]) for slot in slots}
        if staff or len(names) == 1:
            who = staff or next(iter(names))
            return f" {self.to_staff(who)}", self.times(slots, name_staff=False)
        return "", self.times(slots, name_staff=True)

    def ask_time(self, ru: str = "На какое время вас записать?", en: str = "What time suits you?") -> str:
        if self.memory.dialog.asked_time:
            return ""
        self.memory.dialog.asked_time = True
        return " " + self.t(ru, en)

    def window(self, data: dict[str, Any]) -> str:
        named = {
            ("08:00", "12:00"): ("утром", "in the morning"),
            ("12:00", "18:00"): ("днём", "in the afternoon"),
            ("13:00", "18:00"): ("после обеда", "after lunch"),
            ("18:00", "23:59"): ("вечером", "in the evening"),
        }.get((str(data.get("time_from")), str(data.get("time_to"))))
        if named:
            return " " + self.t(*named)
        parts = []
        if data.get("time_from"):
            parts.append(self.t(f"после {data['time_from']}", f"after {data['time_from']}"))
        if data.get("time_to") and data["time_to"] != "23:59":
            parts.append(self.t(f"до {data['time_to']}", f"before {data['time_to']}"))
        return (" " + " ".join(parts)) if parts else ""

    def booking_line(self, booking: dict[str, Any], number: int | None = None) -> str:
        head = f"{number}. " if number is not None else ""
        return (
            f"{head}{self.title(booking['service'])} — {day_short(booking['date'], self.lang)}, {booking['time']}, "
            f"{self.to_staff(str(booking['staff']))}"
        )

    def say(self, text: str) -> None:
        if text.strip():
            self.parts.append(text.strip())

    # --- outcomes ---

    def write(self, step: Step) -> None:
        handler: Callable[[Step], None] | None = getattr(self, f"_{step.name.lower()}_{step.outcome}", None)
        handler = handler or getattr(self, f"_any_{step.outcome}", None)
        if handler is None:
            self.say(
                self.t("Что-то пошло не так. Давайте попробуем еще раз?", "Something went wrong. Shall we try again?")
            )
            return
        handler(step)

    # SEARCH_SLOTS
    def _search_slots_slots(self, step: Step) -> None:
        data = step.data
        staff, times = self.slot_offer(data["slots"], data.get("staff"))
        service = self.svc(data["service"])
        if data.get("nearest"):
            head = self.t(
                f"Ближайшее свободное время на {service}{staff}{self.window(data)} — {self.on(data['date'])}:",
                f"The nearest free time for {service}{staff}{self.window(data)} is {self.on(data['date'])}:",
            )
        else:
            head = self.t(
                f"Есть время на {service}{staff}{self.window(data)} {self.for_(data['date'])}:",
                f"Free times for {service}{staff}{self.window(data)} {self.for_(data['date'])}:",
            )
        self.say(f"{head} {times}.".replace(": \n", ":\n") + self.ask_time())

    def _search_slots_no_slots(self, step: Step) -> None:
        data = step.data
        service = self.svc(data["service"])
        staff = f" {self.at_staff(data['staff'])}" if data.get("staff") else ""
        when = (
            self.for_(data["date"]) if data.get("date") else self.t("в ближайшие две недели", "in the next two weeks")
        )
        text = self.t(
            f"К сожалению, {when} свободного времени на {service}{staff}{self.window(data)} нет.",
            f"Sorry, there is no free time {when} for {service}{staff}{self.window(data)}.",
        )
        self.say(text + self._next_offer(data.get("next")))

    def _next_offer(self, offer: dict[str, Any] | None) -> str:
        if not offer:
            return " " + self.t(
                "Могу предложить другую услугу или другого мастера.",
                "I can suggest another service or another specialist.",
            )
        staff, times = self.slot_offer(offer["slots"], None)
        return (
            " "
            + self.t(
                f"Ближайшее свободное — {self.on(offer['date'])}{staff}: {times}.",
                f"The nearest free day is {self.on(offer['date'])}{staff}: {times}.",
            )
            + self.ask_time("Записать вас?", "Shall I book one of these?")
        )

    # CREATE_BOOKING
    def _create_booking_booked(self, step: Step) -> None:
        booking = step.data["booking"]
        name = self.memory.client.name if self.use_name else None
        who = f"{name}, " if name else ""
        what = f"{self.svc(booking['service'])} {self.when(booking['date'], booking['time'])}"
        staff = self.to_staff(booking["staff"])
        text = self.t(f"{who}готово! Вы записаны на {what} {staff}.", f"{who}done! You are booked for {what} {staff}.")
        cost = price({"price_min": booking.get("price_min"), "price_max": booking.get("price_max")}, self.lang)
        if booking.get("price_min") or booking.get("price_max"):
            text += self.t(f" Стоимость: {cost}.", f" Price: {cost}.")
        if step.data.get("address"):
            text += self.t(
                f" Ждём вас по адресу: {step.data['address']}.",
                f" We look forward to seeing you at {step.data['address']}.",
            )
        self.say(cap(text))
        self.memory.dialog.asked_time = False
        self.completed = True

    def _create_booking_already_booked(self, step: Step) -> None:
        booking = step.data["booking"]
        self.say(
            self.t(
                f"Вы уже записаны на {self.svc(booking['service'])} {self.when(booking['date'], booking['time'])}"
                f" {self.to_staff(booking['staff'])}.",
                f"You are already booked for {self.svc(booking['service'])}"
                f" {self.when(booking['date'], booking['time'])} {self.to_staff(booking['staff'])}.",
            )
        )
        self.completed = True

    def _create_booking_need_name(self, step: Step) -> None:
        data = step.data
        self.say(
            self.t(
                f"{cap(self.when(data['date'], data['time']))} свободно. Как вас зовут? Запишу вас на"
                f" {self.svc(data['service'])}.",
                f"{cap(self.when(data['date'], data['time']))} is free. May I have your name for the booking?",
            )
        )

    def _alternatives(self, data: dict[str, Any]) -> str:
        slots = data.get("alternatives") or []
        if not slots:
            return " " + self.t("Свободного времени в ближайшие дни нет.", "There is no free time in the next days.")
        staff, times = self.slot_offer(slots, None)
        if data.get("other_date"):
            return " " + self.t(
                f"Ближайшее свободное — {self.on(data['other_date'])}{staff}: {times}.",
                f"The nearest free day is {self.on(data['other_date'])}{staff}: {times}.",
            )
        return " " + self.t(f"Свободно{staff}: {times}.", f"Free{staff}: {times}.")

    def _create_booking_staff_day_off(self, step: Step) -> None:
        data = step.data
        staff = person(str(data["staff"]), "nomn", self.lang)
        text = self.t(f"{staff} {self.on(data['date'])} не работает.", f"{staff} is off {self.on(data['date'])}.")
        days = ", ".join(day_short(day, self.lang) for day in data.get("work_days", []))
        if days:
            text += self.t(f" Ближайшие рабочие дни: {days}.", f" Next working days: {days}.")
        others = data.get("others") or []
        if others:
            other = str(others[0]["staff"])
            text += self.t(
                f" В {data['time']} можно записаться {self.to_staff(other)}. Записать?",
                f" At {data['time']} you can come {self.to_staff(other)}. Shall I book it?",
            )
        self.say(text)

    def _create_booking_time_unavailable(self, step: Step) -> None:
        data = step.data
        if data.get("staff"):
            self.say(
                self.t(
                    f"К сожалению, {self.when(data['date'], data['time'])} {self.at_staff(data['staff'])} занято.",
                    f"Sorry, {self.when(data['date'], data['time'])} is taken {self.at_staff(data['staff'])}.",
                )
                + self._alternatives(data)
                + self.ask_time("Какое время вам подходит?", "Which time works for you?")
            )
            return
        self.say(
            self.t(
                f"К сожалению, {self.when(data['date'], data['time'])} на {self.svc(data['service'])}"
                " свободного времени"
                " нет.",
                f"Sorry, {self.when(data['date'], data['time'])} is not available for {self.svc(data['service'])}.",
            )
            + self._alternatives(data)
            + self.ask_time("Какое время вам подходит?", "Which time works for you?")
        )

    def _create_booking_slot_taken(self, step: Step) -> None:
        data = step.data
        self.say(
            self.t(
                f"К сожалению, это время уже занято ({self.on(data['date'])}, {data['time']}), запись не создана."
                " Пожалуйста, выберите другое время.",
                f"Sorry, that time has just been taken ({self.on(data['date'])}, {data['time']}); you are not booked."
                " Please choose another time.",
            )
            + self._alternatives(data)
        )

    def _create_booking_refused(self, step: Step) -> None:
        self.say(
            self.t(
                f"Система записи не приняла запись: {step.data.get('message')}. Запись не создана."
                " Давайте выберем другое"
                " время?",
                f"The booking system refused the booking: {step.data.get('message')}. You are not booked."
                " Shall we pick another time?",
            )
        )

    def _any_past_time(self, step: Step) -> None:
        self.say(
            self.t(
                "Это время уже прошло. Подскажите, пожалуйста, другое время.",
                "That time has already passed. Could you suggest another one?",
            )
        )

    def _any_past_date(self, step: Step) -> None:
        self._any_past_time(step)

    def _any_invalid_date(self, step: Step) -> None:
        self.say(
            self.t(
                "Не поняла дату. Подскажите, пожалуйста, на какой день?",
                "I didn't catch the date. Which day would you like?",
            )
        )

    def _any_invalid_time(self, step: Step) -> None:
        self.say(
            self.t(
                "Не поняла время. Подскажите, пожалуйста, во сколько вам удобно?",
                "I didn't catch the time. What time suits you?",
            )
        )

    def _any_service_required(self, step: Step) -> None:
        self._clarify_ask_service(Step(name="CLARIFY", outcome="ask_service", data={}))

    def _any_backend_unavailable(self, step: Step) -> None:
        what = {
            "CREATE_BOOKING": ("запись не подтверждена", "the booking is not confirmed"),
            "CANCEL_BOOKING": ("отмена не подтверждена", "the cancellation is not confirmed"),
            "RESCHEDULE_BOOKING": ("перенос не подтверждён", "the change is not confirmed"),
        }.get(step.name, ("я не смогла получить ответ", "I could not get an answer"))
        self.say(
            self.t(
                f"Не удалось связаться с системой записи, поэтому {what[0]}. Попробуйте, пожалуйста, через пару минут.",
                f"I couldn't reach the booking system, so {what[1]}. Please try again in a couple of minutes.",
            )
        )

    def _any_refused(self, step: Step) -> None:
        what = {
            "CANCEL_BOOKING": ("Отменить запись не получилось", "I couldn't cancel the booking"),
            "RESCHEDULE_BOOKING": ("Перенести запись не получилось", "I couldn't move the booking"),
        }.get(step.name, ("Не получилось", "That didn't work"))
        message = step.data.get("message") or ""
        self.say(
            self.t(
                f"{what[0]}: система записи ответила отказом ({message}). Администратор салона поможет.",
                f"{what[1]}: the booking system refused ({message}). The salon's administrator will help.",
            )
        )

    def _any_too_far(self, step: Step) -> None:
        days = step.data.get("days")
        self.say(
            self.t(
                f"Запись открыта на {days} дней вперёд. Подскажите, пожалуйста, дату поближе.",
                f"Bookings are open {days} days ahead. Could you pick an earlier date?",
            )
        )

    def _any_too_many_commands(self, step: Step) -> None:
        return

    def _any_ambiguous_service(self, step: Step) -> None:
        options = [
            f"{self.title(s).lower() if self.lang == 'ru' else self.title(s)} ({price(s, self.lang)})"
            for s in step.data["options"]
        ]
        self.say(
            self.t(
                f"Уточните, пожалуйста: {join_or(options, 'ru')}?",
                f"Which one would you like: {join_or(options, 'en')}?",
            )
        )

    def _any_unknown_service(self, step: Step) -> None:
        categories = sorted(
            {category_name(str(s["category"]), self.lang) for s in step.data["services"] if s.get("category")}
        )
        query = step.data.get("query")
        self.say(
            self.t(
                f"К сожалению, услуги «{query}» у нас нет. Мы делаем: {', '.join(categories)}."
                " Подсказать цены или записать вас?",
                f'Sorry, we don\'t offer "{query}". We do: {", ".join(categories)}.'
                " Shall I tell you the prices or book you in?",
            )
        )

    def _any_unknown_staff(self, step: Step) -> None:
        names = ", ".join(person(str(name), "nomn", self.lang) for name in step.data.get("staff", []))
        self.say(
            self.t(
                f"Не нашла такого специалиста: «{step.data.get('query')}». У нас работают: {names}.",
                f'I couldn\'t find "{step.data.get("query")}". Our team: {names}.',
            )
        )

    def _any_staff_mismatch(self, step: Step) -> None:
        data = step.data
        doers = ", ".join(person(str(name), "nomn", self.lang) for name in data["staff_for_service"])
        staff = person(str(data["staff"]), "nomn", self.lang)
        self.say(
            self.t(
                f"{staff} не делает {self.svc(data['service'])}. Эту услугу делают: {doers}.",
                f"{staff} doesn't do {self.svc(data['service'])}. It is done by: {doers}.",
            )
        )

    # CANCEL_BOOKING
    def _cancel_booking_cancelled(self, step: Step) -> None:
        booking = step.data["booking"]
        self.say(
            self.t(
                f"Запись на {self.svc(booking['service'])} {self.when(booking['date'], booking['time'])} отменена.",
                f"Your booking for {self.svc(booking['service'])} {self.when(booking['date'], booking['time'])} is"
                " cancelled.",
            )
        )
        self.completed = True

    def _any_no_bookings(self, step: Step) -> None:
        self.say(self.t("У вас нет предстоящих записей.", "You have no upcoming bookings."))
        self.completed = True

    def _bookings_list(self, bookings: list[dict[str, Any]]) -> str:
        return "\n".join(self.booking_line(booking, index) for index, booking in enumerate(bookings, 1))

    def _cancel_booking_need_choice(self, step: Step) -> None:
        self.say(
            self.t("У вас несколько записей:\n", "You have several bookings:\n")
            + self._bookings_list(step.data["bookings"])
            + self.t("\nКакую отменить? Напишите номер.", "\nWhich one should I cancel? Send its number.")
        )

    def _any_not_found(self, step: Step) -> None:
        bookings = step.data.get("bookings") or []
        text = self.t("Не нашла такую запись.", "I couldn't find that booking.")
        if bookings:
            text += self.t(" Ваши записи:\n", " Your bookings:\n") + self._bookings_list(bookings)
        self.say(text)

    # RESCHEDULE_BOOKING
    def _reschedule_booking_rescheduled(self, step: Step) -> None:
        booking = step.data["booking"]
        self.say(
            self.t(
                f"Готово, запись перенесена: {self.title(booking['service']).lower()} теперь"
                f" {self.when(booking['date'], booking['time'])} {self.to_staff(booking['staff'])}.",
                f"Done, your booking is moved: {self.title(booking['service'])} is now"
                f" {self.when(booking['date'], booking['time'])} {self.to_staff(booking['staff'])}.",
            )
        )
        self.completed = True

    def _reschedule_booking_need_choice(self, step: Step) -> None:
        self.say(
            self.t("У вас несколько записей:\n", "You have several bookings:\n")
            + self._bookings_list(step.data["bookings"])
            + self.t("\nКакую перенести? Напишите номер.", "\nWhich one should I move? Send its number.")
        )

    def _reschedule_booking_need_date(self, step: Step) -> None:
        booking = step.data["booking"]
        self.say(
            self.t(
                f"На какой день перенести запись на {self.svc(booking['service'])} ({self.on(booking['date'])},"
                f" {booking['time']})?",
                f"Which day should I move your {self.title(booking['service'])} ({self.on(booking['date'])},"
                f" {booking['time']}) to?",
            )
        )

    def _reschedule_booking_need_time(self, step: Step) -> None:
        data = step.data
        staff, times = self.slot_offer(data["slots"], None)
        self.say(
            self.t(
                f"{cap(self.for_(data['date']))}{staff} есть время: {times}. На какое время перенести?",
                f"{cap(self.for_(data['date']))}{staff} we have: {times}. Which time should I move it to?",
            )
        )

    def _reschedule_booking_no_slots(self, step: Step) -> None:
        data = step.data
        self.say(
            self.t(
                f"К сожалению, {self.for_(data['date'])} свободного времени нет.",
                f"Sorry, there is no free time {self.for_(data['date'])}.",
            )
            + self._next_offer(data.get("next"))
        )

    def _reschedule_unavailable(self, step: Step, taken: bool) -> None:
        data = step.data
        head = self.t(
            f"К сожалению, {self.when(data['date'], data['time'])} уже занято, запись не перенесена.",
            f"Sorry, {self.when(data['date'], data['time'])} is taken; your booking is not moved.",
        )
        if taken:
            head = self.t(
                "К сожалению, это время уже занято. Пожалуйста, выберите другое время. Запись не перенесена.",
                "Sorry, that time has just been taken; your booking is not moved.",
            )
        self.say(head + self._alternatives(data))

    def _reschedule_booking_time_unavailable(self, step: Step) -> None:
        self._reschedule_unavailable(step, taken=False)

    def _reschedule_booking_slot_taken(self, step: Step) -> None:
        self._reschedule_unavailable(step, taken=True)

    def _reschedule_booking_same_time(self, step: Step) -> None:
        self.say(self.t("Вы и так записаны на это время.", "You are already booked at that time."))

    # information
    def _show_prices_prices(self, step: Step) -> None:
        services = step.data["services"]
        if step.data.get("all"):
            by_category: dict[str, list[dict[str, Any]]] = {}
            for service in services:
                by_category.setdefault(str(service.get("category") or ""), []).append(service)
            lines = [self.t("Наши цены:", "Our prices:")]
            for category, items in by_category.items():
                if category:
                    lines.append(f"{cap(category_name(category, self.lang))}:")
                lines.extend(f"{cap(self.title(s))} — {price(s, self.lang)}" for s in items)
            self.say("\n".join(lines))
        else:
            self.say("\n".join(f"{cap(self.title(s))} — {price(s, self.lang)}" for s in services))
        self.completed = True

    def _show_prices_unknown_service(self, step: Step) -> None:
        self._any_unknown_service(step)

    def _explain_service_explained(self, step: Step) -> None:
        service = step.data["service"]
        minutes = service.get("duration_minutes")
        duration = self.t(f" Длительность — {minutes} мин.", f" It takes {minutes} minutes.") if minutes else ""
        description = (service.get("description") or "").strip()
        if self.lang == "en":
            english = lexicon().service_descriptions_en.get(str(service["title"]).lower())
            if english or re.search("[а-яё]", description, re.IGNORECASE):
                description = english or ""  # never the catalog's Russian text to an English client
        if description and not description.endswith("."):
            description += "."
        head = f"{cap(self.title(service))}: {description}" if description else f"{cap(self.title(service))}."
        self.say(head + duration + self.t(f" Стоимость — {price(service, 'ru')}.", f" Price: {price(service, 'en')}."))
        self.completed = True

    def _check_staff_schedule_schedule(self, step: Step) -> None:
        data = step.data
        staff = person(str(data["staff"]), "nomn", self.lang)
        working = [day for day in data["days"] if day["working"]]

        def hours(day: dict[str, Any]) -> str:
            return ", ".join(f"{i['from']}–{i['to']}" for i in day["intervals"])

        if data.get("date"):
            if working:
                self.say(
                    self.t(
                        f"{staff} работает {self.on(data['date'])}: {hours(working[0])}.",
                        f"{staff} works {self.on(data['date'])}: {hours(working[0])}.",
                    )
                )
            else:
                self.say(
                    self.t(
                        f"{cap(self.on(data['date']))} {staff} не работает.",
                        f"{staff} is not working {self.on(data['date'])}.",
                    )
                )
        elif working:
            lines = "\n".join(f"{day_short(day['date'], self.lang)} — {hours(day)}" for day in working)
            self.say(self.t(f"{staff} работает:\n{lines}", f"{staff} works:\n{lines}"))
        else:
            self.say(self.t(f"{staff} не работает в ближайшие семь дней.", f"{staff} is off for the next seven days."))
        self.say(self.t("Записать вас?", "Shall I book you in?"))

    def _show_bookings_bookings(self, step: Step) -> None:
        bookings = step.data["bookings"]
        if not bookings:
            self.say(
                self.t(
                    "У вас нет предстоящих записей. Записать вас?",
                    "You have no upcoming bookings. Shall I book you in?",
                )
            )
        elif len(bookings) == 1:
            booking = bookings[0]
            what = f"{self.title(booking['service'])} — {self.when(booking['date'], booking['time'])}"
            staff = self.to_staff(booking["staff"])
            self.say(self.t(f"Ваша запись: {what[:1].lower() + what[1:]}, {staff}.", f"Your booking: {what}, {staff}."))
        else:
            self.say(self.t("Ваши записи:\n", "Your bookings:\n") + self._bookings_list(bookings))
        self.completed = True

    def _save_client_name_name_saved(self, step: Step) -> None:
        return

    def _save_client_name_invalid_name(self, step: Step) -> None:
        return

    # clarifications
    def _clarify_ambiguous_service(self, step: Step) -> None:
        self._any_ambiguous_service(step)

    def _clarify_unknown_service(self, step: Step) -> None:
        self._any_unknown_service(step)

    def _clarify_ask_service(self, step: Step) -> None:
        staff = step.data.get("staff")
        categories = ", ".join(category_name(c, self.lang) for c in step.data.get("categories") or [])
        offer = self.t(f" У нас есть: {categories}.", f" We offer: {categories}.") if categories else ""
        if staff:
            self.say(
                self.t(
                    f"На какую услугу записать вас {self.to_staff(staff)}?",
                    f"Which service would you like {self.to_staff(staff)}?",
                )
            )
        else:
            self.say(self.t("На какую услугу вас записать?", "Which service would you like?") + offer)

    def _clarify_which_time(self, step: Step) -> None:
        times = ", ".join(str(slot["time"]) for slot in step.data["slots"])
        self.say(self.t(f"Какое время вам удобно: {times}?", f"Which time suits you: {times}?"))

    def _clarify_other_time(self, step: Step) -> None:
        self.say(self.t("Подскажите, какой день или время вам удобнее?", "Which day or time would suit you better?"))

    def _clarify_reminder_declined(self, step: Step) -> None:
        booking = step.data["booking"]
        service = booking.get("service") or ""
        what = self.t(f"на {self.svc(service)} " if service else "", f"for {self.title(service)} " if service else "")
        self.say(
            self.t(
                f"Жаль, что не получается. Отменить вашу запись {what}{self.when(booking['date'], booking['time'])}"
                " или перенести её на другое время?",
                f"Sorry to hear that. Shall I cancel your booking {what}{self.when(booking['date'], booking['time'])},"
                " or move it to another time?",
            )
        )

    def _clarify_greeting_only(self, step: Step) -> None:
        self.say(self.t("Чем могу помочь?", "How can I help you?"))

    def _clarify_not_understood(self, step: Step) -> None:
        self.say(
            self.t(
                "Я помогу записаться на услугу, подскажу цены и свободное время, перенесу или отменю запись."
                " Что вас интересует?",
                "I can book you in, tell you prices and free times, or move or cancel a booking. What would you like?",
            )
        )
