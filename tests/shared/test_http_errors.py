"""Every error of the tree answers with its status from one handler, as a JSON body naming the problem."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared import errors
from shared.http import install_error_handlers

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
