"""The YClients stand-in over raw HTTP: the protocol the project's YClients client is held to."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.support.fakes.yclients import YClientsStandIn

CATALOG = Path(__file__).resolve().parents[2] / "shared" / "booking" / "demo_salon.yaml"
MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=MSK)  # a Monday
CID = "962302"
USER = {"Accept": "application/vnd.yclients.v2+json", "Authorization": "Bearer partner-token, User user-token"}
PARTNER = {"Accept": "application/vnd.yclients.v2+json", "Authorization": "Bearer partner-token"}

# Staff of the demo salon: Анна 2001 (hair, Mon-Fri 10-20), Олег 2003 (men's cut, Mon 11-21),
# Ольга 2005 (nails, Mon 09-14 and 15-18, Sun 10-18).
ANNA, MARIA, OLEG, OLGA = 2001, 2002, 2003, 2005
MENS_CUT, WOMENS_CUT, COLOURING, MANICURE, GEL_MANICURE, PEDICURE = 1001, 1002, 1003, 1005, 1006, 1007


@pytest.fixture(scope="module")
def server() -> Iterator[YClientsStandIn]:
    # Limits far above what a test sends: only the rate-limit tests, on their own clock, meet them.
    standin = YClientsStandIn(CATALOG, now=NOW, rate_per_second=100_000, rate_per_minute=100_000)
    standin.start()
    yield standin
    standin.stop()


@pytest.fixture
def standin(server: YClientsStandIn) -> YClientsStandIn:
    server.reset()
    return server


@pytest.fixture
def api(standin: YClientsStandIn) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=standin.base_url, headers=USER, timeout=10) as client:
        yield client


def booking(
    at: str, *, staff_id: int = ANNA, services: list[int] | None = None, phone: str = "79001234567", **extra: Any
) -> dict[str, Any]:
    appointment = {"id": 1, "services": services or [MENS_CUT], "staff_id": staff_id, "datetime": at}
    return {"phone": phone, "fullname": "Иван", "appointments": [appointment], **extra}


def book(api: httpx.Client, at: str, **kwargs: Any) -> int:
    response = api.post(f"/book_record/{CID}", json=booking(at, **kwargs))
    assert response.status_code == 201, response.text
    record_id: int = response.json()["data"][0]["record_id"]
    return record_id


def times(api: httpx.Client, staff_id: int, day: str, service_id: int) -> list[str]:
    response = api.get(f"/book_times/{CID}/{staff_id}/{day}", params={"service_ids[]": service_id})
    assert response.status_code == 200, response.text
    return [seance["time"] for seance in response.json()["data"]]


def assert_error(response: httpx.Response, status: int, code: int | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["success"] is False
    assert body["data"] is None
    assert body["meta"]["message"]
    if code is not None:
        assert body["errors"]["code"] == code
    return body


# --- protocol ----------------------------------------------------------------------------------


def test_tokens_are_required(standin: YClientsStandIn) -> None:
    with httpx.Client(base_url=standin.base_url, timeout=10) as client:
        assert_error(client.get(f"/company/{CID}"), 401)
        assert_error(client.get(f"/company/{CID}", headers={"Authorization": "Bearer wrong"}), 401)
        assert_error(client.get(f"/records/{CID}", headers=PARTNER), 401)
        assert_error(client.get(f"/records/{CID}", headers={"Authorization": "Bearer partner-token, User wrong"}), 401)
        assert client.get(f"/records/{CID}", headers=USER).status_code == 200
        assert client.get(f"/company/{CID}", headers={"Authorization": "Bearer partner-token"}).status_code == 200


def test_success_envelope_and_company(api: httpx.Client) -> None:
    body = api.get(f"/company/{CID}", headers=PARTNER).json()

    assert body["success"] is True
    assert body["meta"] == []
    assert body["data"]["id"] == int(CID)
    assert body["data"]["timezone"] == "Europe/Moscow"
    assert body["data"]["title"] == "Салон красоты «Демо»"


@pytest.mark.parametrize("accept", ["application/vnd.api.v2+json", "application/json", None])
def test_other_accept_headers_are_served(standin: YClientsStandIn, accept: str | None) -> None:
    headers = {"Authorization": "Bearer partner-token"} | ({"Accept": accept} if accept else {})
    with httpx.Client(base_url=standin.base_url, timeout=10) as client:
        assert client.get(f"/company/{CID}", headers=headers).status_code == 200


def test_another_company_is_not_found(api: httpx.Client) -> None:
    assert_error(api.get("/company/1"), 404)
    assert_error(api.get("/book_services/1"), 404)
    assert_error(api.get("/records/1"), 404)


# --- the booking form --------------------------------------------------------------------------


def test_book_services_lists_the_catalog(api: httpx.Client) -> None:
    data = api.get(f"/book_services/{CID}").json()["data"]

    assert [category["title"] for category in data["category"]] == ["Волосы", "Ногти", "Брови и ресницы"]
    assert [category["id"] for category in data["category"]] == [1, 2, 3]
    assert len(data["services"]) == 10
    first = data["services"][0]
    assert first["id"] == MENS_CUT
    assert first["category_id"] == 1
    assert (first["price_min"], first["price_max"]) == (1500, 1500)
    assert first["comment"].startswith("Стрижка машинкой")
    assert "seance_length" not in first
    assert data["events"] == []


def test_book_services_gives_lengths_for_a_staff_member(api: httpx.Client) -> None:
    services = api.get(f"/book_services/{CID}", params={"staff_id": OLEG}).json()["data"]["services"]

    assert [(service["id"], service["seance_length"]) for service in services] == [(MENS_CUT, 45 * 60)]


@pytest.mark.parametrize(
    "query",
    ["service_ids[]=1001", "service_ids%5B%5D=1001", "service_ids[0]=1001", "service_ids=1001", "service_id=1001"],
)
def test_book_staff_understands_every_service_ids_spelling(api: httpx.Client, query: str) -> None:
    staff = api.get(f"/book_staff/{CID}?{query}").json()["data"]

    assert [member["id"] for member in staff] == [ANNA, OLEG]
    assert staff[0]["position"]["title"] == "Стилист-парикмахер"
    assert staff[0]["bookable"] is True


def test_book_staff_needs_all_the_services(api: httpx.Client) -> None:
    staff = api.get(f"/book_staff/{CID}?service_ids={MANICURE}&service_ids={PEDICURE}").json()["data"]

    assert [member["id"] for member in staff] == [MARIA, OLGA]


def test_book_dates_for_the_month(api: httpx.Client) -> None:
    params: dict[str, str | int] = {"service_ids[]": MANICURE, "staff_id": OLGA, "date": "2026-11-01"}
    data = api.get(f"/book_dates/{CID}", params=params).json()["data"]

    assert "2026-11-22" in data["working_dates"]
    assert "2026-11-22" not in data["booking_dates"]  # a Sunday before "now"
    assert data["booking_dates"][0] == "2026-11-23"
    assert data["booking_days"]["11"][0] == "23"
    assert "2026-11-24" not in data["working_dates"]  # Ольга does not work on Tuesdays


def test_book_times_fit_the_whole_service_inside_working_hours(api: httpx.Client) -> None:
    colouring = api.get(f"/book_times/{CID}/{ANNA}/2026-11-24", params={"service_ids[]": COLOURING}).json()["data"]

    assert colouring[0] == {
        "time": "10:00",
        "seance_length": 150 * 60,
        "sum_length": 150 * 60,
        "datetime": "2026-11-24T10:00:00+03:00",
    }
    assert colouring[-1]["time"] == "17:30"  # ends at 20:00 sharp
    gel = times(api, OLGA, "2026-11-23", GEL_MANICURE)  # 90 minutes, a break 14:00-15:00
    assert "12:30" in gel
    assert "13:00" not in gel
    assert "14:30" not in gel
    assert gel[-1] == "16:30"


def test_book_times_are_strictly_after_now(api: httpx.Client) -> None:
    today = times(api, ANNA, "2026-11-23", MENS_CUT)

    assert today[0] == "10:30"
    assert times(api, OLGA, "2026-11-22", MANICURE) == []
    assert times(api, ANNA, "2026-11-28", MENS_CUT) == []  # a day off


def test_book_times_skip_taken_times(standin: YClientsStandIn, api: httpx.Client) -> None:
    standin.add_record(
        service_id=WOMENS_CUT,
        staff_id=ANNA,
        start=datetime(2026, 11, 24, 12, 0, tzinfo=MSK),
        phone="79000000001",
        name="А",
    )

    free = times(api, ANNA, "2026-11-24", MENS_CUT)  # 45 minutes against a visit 12:00-13:00

    assert "11:00" in free
    assert "11:30" not in free
    assert "12:00" not in free
    assert "12:30" not in free
    assert "13:00" in free


def test_any_staff_unites_their_times(standin: YClientsStandIn, api: httpx.Client) -> None:
    standin.add_record(
        service_id=MENS_CUT,
        staff_id=ANNA,
        start=datetime(2026, 11, 23, 12, 0, tzinfo=MSK),
        phone="79000000001",
        name="А",
    )

    anyone = times(api, 0, "2026-11-23", MENS_CUT)

    assert "12:00" in anyone  # Олег is free then
    assert anyone[0] == "10:30"  # Анна, since Олег starts at 11:00


def test_book_record_then_the_same_time_is_taken(standin: YClientsStandIn, api: httpx.Client) -> None:
    created = api.post(f"/book_record/{CID}", json=booking("2026-11-24T12:00:00+03:00", comment="Без укладки"))

    assert created.status_code == 201
    assert created.json()["data"] == [
        {"id": 1, "record_id": 500000, "record_hash": created.json()["data"][0]["record_hash"]}
    ]
    taken = api.post(f"/book_record/{CID}", json=booking("2026-11-24T12:00:00+03:00", phone="+79007654321"))
    body = assert_error(taken, 422, 433)
    assert "занято" in body["meta"]["message"]
    [record] = standin.records()
    assert record["comment"] == "Без укладки"
    assert record["client"]["phone"] == "+79001234567"
    assert record["datetime"] == "2026-11-24T12:00:00+03:00"
    assert record["date"] == "2026-11-24 12:00:00"
    assert record["online"] is True


def test_book_check_answers_201_empty_or_433(standin: YClientsStandIn, api: httpx.Client) -> None:
    check = {"appointments": booking("2026-11-24T12:00:00+03:00")["appointments"]}

    free = api.post(f"/book_check/{CID}", json=check)
    assert free.status_code == 201
    assert free.content == b""
    book(api, "2026-11-24T12:00:00+03:00")
    assert_error(api.post(f"/book_check/{CID}", json=check), 422, 433)
    assert len(standin.records()) == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (booking("2026-11-24T12:00:00+03:00", phone="12345"), 431),
        (booking("2026-11-24T12:00:00+03:00") | {"fullname": " "}, 435),
        (booking("2026-11-24T12:00:00+03:00", services=[9999]), 438),
        (booking("2026-11-24T12:00:00+03:00", staff_id=OLEG, services=[MANICURE]), 436),
        (booking("2026-11-24T20:00:00+03:00"), 433),  # Анна's day ends at 20:00
        (booking("2026-11-23T09:30:00+03:00", staff_id=OLGA, services=[MANICURE]), 433),  # before "now"
        (
            booking("2026-11-24T12:00:00+03:00")
            | {
                "appointments": [
                    {"id": 1, "services": [MENS_CUT], "staff_id": ANNA, "datetime": "2026-11-24T12:00:00+03:00"},
                    {"id": 2, "services": [MENS_CUT], "staff_id": ANNA, "datetime": "2026-11-24T12:30:00+03:00"},
                ]
            },
            437,
        ),
    ],
)
def test_book_record_errors(standin: YClientsStandIn, api: httpx.Client, body: dict[str, Any], code: int) -> None:
    assert_error(api.post(f"/book_record/{CID}", json=body), 422, code)
    assert standin.records() == []


# --- the journal -------------------------------------------------------------------------------


def test_records_list_every_clients_visits(standin: YClientsStandIn, api: httpx.Client) -> None:
    book(api, "2026-11-24T12:00:00+03:00", phone="79001111111")
    book(api, "2026-11-25T12:00:00+03:00", phone="79002222222")
    standin.add_record(
        service_id=MANICURE,
        staff_id=OLGA,
        start=datetime(2026, 11, 25, 9, 0, tzinfo=MSK),
        phone="79003333333",
        name="В",
    )

    everyone = api.get(f"/records/{CID}", params={"client_phone": "79001111111"}).json()

    assert everyone["meta"] == {"page": 1, "total_count": 3}
    assert {record["client"]["phone"] for record in everyone["data"]} == {
        "+79001111111",
        "+79002222222",
        "+79003333333",
    }
    by_day = api.get(f"/records/{CID}", params={"start_date": "2026-11-25", "end_date": "2026-11-25"}).json()
    assert [record["staff_id"] for record in by_day["data"]] == [OLGA, ANNA]
    by_staff = api.get(f"/records/{CID}", params={"staff_id": OLGA}).json()
    assert by_staff["meta"]["total_count"] == 1
    client_id = everyone["data"][0]["client"]["id"]
    assert api.get(f"/records/{CID}", params={"client_id": client_id}).json()["meta"]["total_count"] == 1
    second_page = api.get(f"/records/{CID}", params={"count": 2, "page": 2}).json()
    assert (len(second_page["data"]), second_page["meta"]) == (1, {"page": 2, "total_count": 3})
    assert len(standin.records(phone="+79002222222")) == 1


def test_delete_then_the_record_is_gone(standin: YClientsStandIn, api: httpx.Client) -> None:
    record_id = book(api, "2026-11-24T12:00:00+03:00")

    deleted = api.delete(f"/record/{CID}/{record_id}")

    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_error(api.delete(f"/record/{CID}/{record_id}"), 404)
    assert api.get(f"/record/{CID}/{record_id}").json()["data"]["deleted"] is True
    assert api.get(f"/records/{CID}").json()["data"] == []
    assert len(api.get(f"/records/{CID}", params={"with_deleted": 1}).json()["data"]) == 1
    assert "12:00" in times(api, ANNA, "2026-11-24", MENS_CUT)
    assert_error(api.get(f"/record/{CID}/999999"), 404)


def test_put_book_record_moves_the_visit(standin: YClientsStandIn, api: httpx.Client) -> None:
    record_id = book(api, "2026-11-24T12:00:00+03:00")
    other = book(api, "2026-11-24T17:00:00+03:00", phone="79005555555")

    moved = api.put(
        f"/book_record/{CID}/{record_id}", json={"datetime": "2026-11-24T15:00:00+03:00", "comment": "Позже"}
    )

    assert moved.status_code == 200
    assert moved.json()["data"]["datetime"] == "2026-11-24T15:00:00+03:00"
    assert moved.json()["data"]["comment"] == "Позже"
    assert moved.json()["data"]["staff_id"] == ANNA
    free = times(api, ANNA, "2026-11-24", MENS_CUT)
    assert "12:00" in free
    assert "15:00" not in free
    # Its own time does not block a small move; another visit does.
    assert api.put(f"/book_record/{CID}/{record_id}", json={"datetime": "2026-11-24T15:30:00+03:00"}).status_code == 200
    assert_error(api.put(f"/book_record/{CID}/{record_id}", json={"datetime": "2026-11-24T17:00:00+03:00"}), 422, 433)
    assert_error(
        api.put(f"/book_record/{CID}/{record_id}", json={"datetime": "2026-11-24T12:00:00"}, headers=PARTNER), 401
    )
    api.delete(f"/record/{CID}/{other}")
    assert_error(api.put(f"/book_record/{CID}/{other}", json={"datetime": "2026-11-24T18:00:00+03:00"}), 404)


def test_put_record_sets_attendance_and_checks_busy_times(standin: YClientsStandIn, api: httpx.Client) -> None:
    record_id = book(api, "2026-11-24T12:00:00+03:00")
    book(api, "2026-11-24T14:00:00+03:00", phone="79005555555")
    full = {
        "staff_id": ANNA,
        "services": [{"id": MENS_CUT, "first_cost": 1500, "discount": 0, "cost": 1500}],
        "client": {"phone": "79001234567", "name": "Иван"},
        "datetime": "2026-11-24T12:00:00+03:00",
        "seance_length": 2700,
        "save_if_busy": False,
        "send_sms": False,
    }

    no_show = api.put(f"/record/{CID}/{record_id}", json=full | {"attendance": -1})

    assert no_show.status_code == 201
    assert no_show.json()["data"]["attendance"] == -1
    assert "12:00" in times(api, ANNA, "2026-11-24", MENS_CUT)  # a no-show frees the time
    busy = full | {"datetime": "2026-11-24T14:00:00+03:00"}
    assert_error(api.put(f"/record/{CID}/{record_id}", json=busy), 422, 433)
    assert api.put(f"/record/{CID}/{record_id}", json=busy | {"save_if_busy": True}).status_code == 201


def test_schedule_per_date(api: httpx.Client) -> None:
    data = api.get(f"/schedule/{CID}/{OLGA}/2026-11-23/2026-11-24").json()["data"]

    assert data == [
        {
            "date": "2026-11-23",
            "is_working": 1,
            "slots": [{"from": "09:00", "to": "14:00"}, {"from": "15:00", "to": "18:00"}],
        },
        {"date": "2026-11-24", "is_working": 0, "slots": []},
    ]


# --- rate limit and faults ---------------------------------------------------------------------


def test_the_sixth_request_in_a_second_is_refused() -> None:
    clock = [1000.0]  # the stand-in's monotonic clock, frozen: all requests land in one second
    with (
        YClientsStandIn(CATALOG, now=NOW, monotonic=lambda: clock[0]) as standin,
        httpx.Client(base_url=standin.base_url, headers=PARTNER, timeout=10) as client,
    ):
        statuses = [client.get(f"/company/{CID}").status_code for _ in range(5)]
        refused = client.get(f"/company/{CID}")
        clock[0] += 1.0
        later = client.get(f"/company/{CID}")

        assert statuses == [200] * 5
        assert assert_error(refused, 429)["meta"]["message"] == "Превышен лимит запросов."
        assert later.status_code == 200
        assert [entry.status for entry in standin.requests] == [200] * 5 + [429, 200]
        assert [entry.path for entry in standin.requests] == [f"company/{CID}"] * 7


def test_the_minute_limit() -> None:
    clock = [1000.0]
    with (
        YClientsStandIn(CATALOG, now=NOW, rate_per_minute=3, monotonic=lambda: clock[0]) as standin,
        httpx.Client(base_url=standin.base_url, headers=PARTNER, timeout=10) as client,
    ):
        statuses = []
        for _ in range(4):
            statuses.append(client.get(f"/company/{CID}").status_code)
            clock[0] += 2.0
        clock[0] += 60.0

        assert statuses == [200, 200, 200, 429]
        assert client.get(f"/company/{CID}").status_code == 200


def test_fail_next_answers_the_error_and_changes_nothing(standin: YClientsStandIn, api: httpx.Client) -> None:
    standin.fail_next("POST", "book_record/", status=503, count=2)

    assert api.get(f"/company/{CID}").status_code == 200  # another request is not affected
    assert_error(api.post(f"/book_record/{CID}", json=booking("2026-11-24T12:00:00+03:00")), 503)
    assert_error(api.post(f"/book_record/{CID}", json=booking("2026-11-24T12:00:00+03:00")), 503)
    assert standin.records() == []
    assert api.post(f"/book_record/{CID}", json=booking("2026-11-24T12:00:00+03:00")).status_code == 201


def test_break_connection_drops_it_without_an_answer(standin: YClientsStandIn, api: httpx.Client) -> None:
    standin.break_connection_next("POST", "book_record/")

    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        api.post(f"/book_record/{CID}", json=booking("2026-11-24T12:00:00+03:00"))

    assert standin.records() == []
    assert standin.requests[-1].status == 0
    assert api.post(f"/book_record/{CID}", json=booking("2026-11-24T12:00:00+03:00")).status_code == 201


def test_delay_after_commit_creates_before_answering(standin: YClientsStandIn) -> None:
    # The caller gives up long before the held answer would come: the visit exists all the same.
    standin.delay_after_commit("POST", "book_record/", 60)
    timeout = httpx.Timeout(10, read=0.5)
    with httpx.Client(base_url=standin.base_url, headers=PARTNER, timeout=timeout) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.post(f"/book_record/{CID}", json=booking("2026-11-24T12:00:00+03:00"))

        [record] = standin.records(phone="79001234567")
        assert record["datetime"] == "2026-11-24T12:00:00+03:00"
        assert standin.requests[-1].status == 201
        assert client.get(f"/company/{CID}").status_code == 200  # the held request does not block others
