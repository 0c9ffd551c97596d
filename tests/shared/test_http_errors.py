"""Every error of the tree answers with its status from one handler, as a JSON body naming the problem."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from shared import errors
from shared.http import BadRequestRoute, install_error_handlers

EXPECTED = [
    (errors.UpstreamUnavailable("wa-gateway is down"), 503),
    (errors.WhatsAppNotConnected("WhatsApp is not connected (status: replaced)"), 503),
    (errors.StoreUnavailable("Redis did not store the messages"), 503),
    (errors.BackendUnavailable("YClients GET records timed out"), 503),
    (errors.InvalidInput("messages.0.from: field required"), 422),
    (errors.UnreadableBody("request body is not valid JSON"), 400),
    (errors.InvalidPhone("phone '12' is not a valid phone number"), 422),
    (errors.NotAuthenticated("x-api-key is missing"), 401),
    (errors.UnknownCompany("companyId 'x' is not served by this deployment"), 404),
    (errors.Unsupported("pairing by code needs WA_TRANSPORT=neonize"), 409),
    (errors.UpstreamRejected("phone: not a valid phone number", 400), 400),
    (errors.WhatsAppRefused("WhatsApp refused: not on WhatsApp"), 502),
    (errors.BookingRefused("YClients answered 403"), 502),
    (errors.SlotTaken("the time is taken"), 502),
]


def client_raising(error: Exception, validation_status: int | None = None) -> TestClient:
    app = FastAPI()
    install_error_handlers(app, validation_status=validation_status)

    @app.get("/boom")
    async def boom() -> None:
        raise error

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(("error", "status"), EXPECTED, ids=[type(error).__name__ for error, _ in EXPECTED])
def test_an_error_answers_with_the_status_the_tree_gives_it(error: Exception, status: int) -> None:
    response = client_raising(error).get("/boom")
    assert response.status_code == status
    assert response.json() == {"success": False, "error": str(error)}


def test_the_gateway_answers_bad_input_with_400_as_the_original_did() -> None:
    response = client_raising(errors.InvalidPhone("phone '12' is not a valid phone number"), 400).get("/boom")
    assert response.status_code == 400


def test_an_unforeseen_error_is_a_500_without_a_traceback() -> None:
    response = client_raising(RuntimeError("secret detail")).get("/boom")
    assert response.status_code == 500
    assert response.json()["error"] == "internal error; see the service log"
    assert "secret detail" not in response.text


class Message(BaseModel):
    text: Annotated[str, Field(min_length=1, max_length=10)]


def app_with_a_route_of_each_kind() -> TestClient:
    """An app with the api's default (422 for bad input), one ordinary route and one of the original's contract."""
    app = FastAPI()
    install_error_handlers(app)
    original = APIRouter(route_class=BadRequestRoute)

    @original.post("/original")
    async def original_route(message: Message) -> dict[str, str]:
        if message.text == "phone":
            raise errors.InvalidPhone("phone '12' is not a valid phone number")
        return {"text": message.text}

    @app.post("/ordinary")
    async def ordinary_route(message: Message) -> dict[str, str]:
        return {"text": message.text}

    app.include_router(original)
    return TestClient(app, raise_server_exceptions=False)


def test_a_route_of_the_originals_contract_answers_every_invalid_field_with_400() -> None:
    client = app_with_a_route_of_each_kind()
    assert client.post("/original", json={"text": "x" * 11}).status_code == 400
    assert client.post("/original", json={}).status_code == 400
    assert client.post("/original", json={"text": "phone"}).status_code == 400
    assert client.post("/ordinary", json={"text": "x" * 11}).status_code == 422


def test_length_errors_count_characters_and_say_what_they_got() -> None:
    client = app_with_a_route_of_each_kind()
    assert client.post("/ordinary", json={"text": "я" * 11}).json()["error"] == (
        "text: must be at most 10 characters long (got 11)"
    )
    assert client.post("/ordinary", json={"text": ""}).json()["error"] == "text: must not be empty"


@pytest.mark.parametrize("path", ["/ordinary", "/original"])
@pytest.mark.parametrize(
    ("content_type", "shown"),
    [
        ("text/plain", "Content-Type: text/plain"),
        ("application/x-www-form-urlencoded", "Content-Type: application/x-www-form-urlencoded"),
        (None, "no Content-Type"),
    ],
)
def test_a_json_body_without_the_json_content_type_is_a_400_naming_the_content_type(
    path: str, content_type: str | None, shown: str
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = app_with_a_route_of_each_kind().post(path, content=b'{"text": "hi"}', headers=headers)
    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "error": f"request body must be sent as JSON with Content-Type: application/json (got {shown})",
    }


def test_a_json_body_with_a_json_content_type_and_parameters_is_read() -> None:
    headers = {"content-type": "application/json; charset=utf-8"}
    response = app_with_a_route_of_each_kind().post("/ordinary", content=b'{"text": "hi"}', headers=headers)
    assert response.json() == {"text": "hi"}
