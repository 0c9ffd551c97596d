"""The system prompt of an LLM provider: today, the catalog, the client, and the original's stage-2 rules."""

from __future__ import annotations

from services.worker.receptionist.replies.format import price, time_of_day_greeting
from services.worker.receptionist.turn import Turn
from shared.booking.models import Booking

_WEEKDAYS_RU = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье")

RULES = """Правила ответа:
- Ты администратор салона в WhatsApp. Отвечай кратко, по-человечески, на языке клиента (русский или английский).
- Никогда не говори, что запись создана, отменена или перенесена, если соответствующая команда не вернула outcome
  "booked", "cancelled" или "rescheduled". Если команда вернула ошибку (slot_taken, time_unavailable,
  backend_unavailable, refused), честно скажи, что не получилось, и предложи варианты из результата.
- Предлагай только время, которое вернули SEARCH_SLOTS или alternatives; не придумывай время. Не больше 9 вариантов,
  при большом числе группируй по утру, дню и вечеру.
- Нет времени в запросе клиента: вызови SEARCH_SLOTS. Есть время и услуга и клиент хочет записаться: CREATE_BOOKING.
  Клиент хочет перенести существующую запись: RESCHEDULE_BOOKING. Даты передавай как YYYY-MM-DD, время как HH:MM.
- Используй услугу, дату и сотрудника из разговора, если клиент их не поменял. "Первое", "второе" — номера из
  последнего списка времени.
- Имя клиента спрашивай один раз, только если оно неизвестно и нужно для записи.
- Не используй разметку WhatsApp (* _ ~) и слово "мастер". Склоняй названия услуг и имена правильно.
- Время спрашивай один раз; не повторяй вопрос "На какое время вас записать?" в каждом сообщении."""


def _booking_line(booking: Booking) -> str:
    return f"id {booking.id}: {booking.service}, {booking.start:%Y-%m-%d %H:%M}, {booking.staff}"


def system_prompt(turn: Turn, bookings: list[Booking]) -> str:
    now = turn.now
    company = turn.catalog.company
    lines = [
        f"Салон: {company.title}. Адрес: {company.address}. Телефон: {company.phone}.",
        f"Сейчас {now:%Y-%m-%d %H:%M}, {_WEEKDAYS_RU[now.weekday()]} (часовой пояс салона {company.timezone}).",
        "",
        "Услуги (название — цена, длительность):",
    ]
    for service in turn.catalog.services:
        minutes = f", {service.duration_minutes} мин" if service.duration_minutes else ""
        lines.append(f"- {service.title} — {price(service.model_dump(), 'ru')}{minutes} ({service.category})")
    lines.append("Сотрудники:")
    lines.extend(f"- {member.name} ({member.specialization})" for member in turn.catalog.staff)
    memory = turn.memory
    lines.append("")
    lines.append(
        f"Имя клиента: {memory.client.name or 'неизвестно'}"
        + (f" (в профиле WhatsApp: {turn.push_name})" if turn.push_name and not memory.client.name else "")
    )
    lines.append("Записи клиента: " + ("; ".join(_booking_line(b) for b in bookings) if bookings else "нет"))
    if memory.dialog.offered:
        offered = ", ".join(
            f"{i}) {s.start:%Y-%m-%d %H:%M} ({s.staff})" for i, s in enumerate(memory.dialog.offered, 1)
        )
        lines.append(f"Последние предложенные варианты: {offered}")
    reminded = memory.dialog.reminded
    if reminded is not None:
        lines.append(
            f"Клиент отвечает на напоминание о записи id {reminded.booking_id} ({reminded.service},"
            f" {reminded.start:%Y-%m-%d %H:%M}) и, похоже, не может прийти: предложи отменить её или перенести"
            " (CANCEL_BOOKING или RESCHEDULE_BOOKING с этим booking_id), ничего не меняй без его ответа."
        )
    selection = memory.dialog.selection
    if selection.service:
        lines.append(
            f"Обсуждаем: {selection.service}, дата {selection.day or 'не выбрана'},"
            f" сотрудник {selection.staff or 'любой'}"
        )
    lines.append("")
    if turn.greet:
        greeting = time_of_day_greeting(now, "ru")
        lines.append(f"Это первое сообщение клиента сегодня: начни ответ с приветствия «{greeting}».")
    else:
        lines.append("Сегодня вы уже здоровались: не здоровайся снова.")
    if not turn.may_offer_help:
        lines.append("Не спрашивай «Чем ещё могу помочь?» — ты уже спрашивал недавно.")
    lines.append(RULES)
    return "\n".join(lines)
