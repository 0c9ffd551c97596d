from __future__ import annotations

import os
import subprocess
import sys

import pytest

from services.api.settings import ApiSettings
from services.wa_gateway.settings import GatewaySettings
from shared.config import load_settings
from shared.errors import ConfigurationError
from tests.support.services import REPO_ROOT


def test_the_originals_variable_names_still_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAILEYS_STANDALONE", "false")
    monkeypatch.setenv("BAILEYS_PORT", "4003")
    settings = load_settings(ApiSettings)
    assert settings.wa_standalone is False
    assert settings.wa_gateway_port == 4003
    assert settings.gateway_url == "http://127.0.0.1:4003"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("API_PORT", "abc"),
        ("WA_GATEWAY_PORT", "70000"),
        ("WA_TRANSPORT", "baileys"),
        ("COMPANY_ID", "[object Object]"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("BATCH_IDLE_SECONDS", "-1"),
    ],
)
def test_a_bad_value_is_reported_in_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as error:
        load_settings(GatewaySettings)
    assert str(error.value).startswith(f"{variable}: ")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("secret", ["", "changethis", "short"])
def test_production_refuses_empty_or_placeholder_secrets(monkeypatch: pytest.MonkeyPatch, secret: str) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("API_KEY", secret)
    monkeypatch.setenv("WEBHOOK_SECRET", "a-real-webhook-secret-value")
    with pytest.raises(ConfigurationError, match="API_KEY"):
        load_settings(ApiSettings)


def test_production_starts_with_real_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("API_KEY", "k" * 32)
    monkeypatch.setenv("WEBHOOK_SECRET", "w" * 32)
    assert load_settings(ApiSettings).app_env == "production"


def run_service(module: str, tmp_path: os.PathLike[str], **env: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG")}
    environment.update({"PYTHONPATH": str(REPO_ROOT), "LOG_DIR": f"{tmp_path}/log", "DATA_DIR": f"{tmp_path}/data"})
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", module], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("module", ["services.api", "services.wa_gateway", "services.worker"])
def test_a_process_with_a_bad_port_exits_with_one_line_and_no_traceback(
    module: str, tmp_path: os.PathLike[str]
) -> None:
    result = run_service(module, tmp_path, API_PORT="not-a-port", REDIS_URL="redis://127.0.0.1:1/0")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "API_PORT" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_redis_that_cannot_be_reached_stops_the_process_naming_redis_url(tmp_path: os.PathLike[str]) -> None:
    result = run_service("services.api", tmp_path, REDIS_URL="redis://127.0.0.1:1/0")
    assert result.returncode == 2
    assert result.stderr.startswith("api: configuration error: REDIS_URL: cannot reach Redis")
    assert "Traceback" not in result.stderr


def test_production_with_placeholder_secrets_refuses_to_start(tmp_path: os.PathLike[str]) -> None:
    result = run_service("services.api", tmp_path, APP_ENV="production", API_KEY="changethis", WEBHOOK_SECRET="")
    assert result.returncode == 2
    assert "API_KEY" in result.stderr
    assert "changethis" not in result.stderr


def test_a_bad_redis_url_is_named_without_echoing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "http://user:hunter2@redis.example:6379")
    with pytest.raises(ConfigurationError) as error:
        load_settings(GatewaySettings)
    assert str(error.value).startswith("REDIS_URL: ")
    assert "hunter2" not in str(error.value)
