"""The salon's catalog as one turn sees it: company, services, staff, and the matchers built from them."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from services.worker.receptionist.understanding.matching import ServiceMatcher, StaffMatcher
from shared.booking.backend import BookingBackend
from shared.booking.models import Company, Service, StaffMember

_matchers: dict[tuple[object, ...], tuple[ServiceMatcher, StaffMatcher]] = {}
_matchers_lock = threading.Lock()


@dataclass
class CatalogView:
    company: Company
    services: list[Service]
    staff: list[StaffMember]
    service_matcher: ServiceMatcher = field(init=False)
    staff_matcher: StaffMatcher = field(init=False)

    def __post_init__(self) -> None:
        # Lemmatising titles and declining names takes a few ms; a catalog rarely changes between turns.
        key = (tuple((s.id, s.title) for s in self.services), tuple((m.id, m.name) for m in self.staff))
        with _matchers_lock:
            if key not in _matchers:
                _matchers.clear()
                _matchers[key] = (ServiceMatcher(self.services), StaffMatcher(self.staff))
            self.service_matcher, self.staff_matcher = _matchers[key]

    @classmethod
    def load(cls, backend: BookingBackend) -> CatalogView:
        # Each staff member comes with the services they do ("у Олега" narrows "стрижка" to his service);
        # YClients' backend keeps all of it in one cached answer, so a warm turn asks YClients nothing here.
        return cls(company=backend.company(), services=backend.services(), staff=backend.staff())

    def service(self, service_id: int | None) -> Service | None:
        return next((service for service in self.services if service.id == service_id), None)

    def staff_member(self, staff_id: int | None) -> StaffMember | None:
        return next((member for member in self.staff if member.id == staff_id), None)
