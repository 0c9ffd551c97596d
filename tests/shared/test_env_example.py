"""Every setting a service reads is documented in .env.example, with a comment above it."""

from __future__ import annotations

import pytest
from pydantic_settings import BaseSettings

from services.api.settings import ApiSettings
from services.scheduler.settings import SchedulerSettings
from services.wa_gateway.settings import GatewaySettings
from services.worker.settings import WorkerSettings
from tests.support.services import REPO_ROOT


def documented() -> dict[str, str]:
    lines = (REPO_ROOT / ".env.example").read_text().splitlines()
    variables: dict[str, str] = {}
    for index, line in enumerate(lines):
        if line and not line.startswith("#") and "=" in line:
            comments = [previous for previous in lines[max(0, index - 3) : index] if previous.startswith("#")]
            variables[line.split("=", 1)[0]] = " ".join(comments)
    return variables


@pytest.mark.parametrize("settings_cls", [ApiSettings, GatewaySettings, WorkerSettings, SchedulerSettings])
def test_every_variable_is_in_env_example_with_a_comment(settings_cls: type[BaseSettings]) -> None:
    variables = documented()
    for name, field in settings_cls.model_fields.items():
        variable = field.alias or name.upper()
        assert variable in variables, f"{variable} is missing from .env.example"
        assert variables[variable], f"{variable} has no comment in .env.example"


@pytest.mark.parametrize("settings_cls", [ApiSettings, GatewaySettings, WorkerSettings, SchedulerSettings])
def test_every_variable_is_explained_in_docs_configuration(settings_cls: type[BaseSettings]) -> None:
    text = (REPO_ROOT / "docs" / "configuration.md").read_text()
    for name, field in settings_cls.model_fields.items():
        variable = field.alias or name.upper()
        assert f"`{variable}`" in text, f"{variable} is missing from docs/configuration.md"
