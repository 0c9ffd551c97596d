"""The demo salon's catalog as the receptionist's models and matchers, built once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.worker.receptionist.understanding.matching import ServiceMatcher, StaffMatcher
from shared.booking.catalog import DEMO_CATALOG, load_catalog
from shared.booking.local import LocalBackend
from shared.booking.models import Service, StaffMember


@pytest.fixture(scope="session")
def demo_catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[Service], list[StaffMember]]]:
    backend = LocalBackend(tmp_path_factory.mktemp("salon") / "s.sqlite", load_catalog(DEMO_CATALOG))
    try:
        yield backend.services(), backend.staff()
    finally:
        backend.close()


@pytest.fixture(scope="session")
def demo_services(demo_catalog: tuple[list[Service], list[StaffMember]]) -> list[Service]:
    return demo_catalog[0]


@pytest.fixture(scope="session")
def demo_staff(demo_catalog: tuple[list[Service], list[StaffMember]]) -> list[StaffMember]:
    return demo_catalog[1]


@pytest.fixture(scope="session")
def service_matcher(demo_services: list[Service]) -> ServiceMatcher:
    return ServiceMatcher(demo_services)


@pytest.fixture(scope="session")
def staff_matcher(demo_staff: list[StaffMember]) -> StaffMatcher:
    return StaffMatcher(demo_staff)
