"""Reading a /metrics answer the way Prometheus does: through prometheus-client's own text-format parser."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


@dataclass(frozen=True)
class Scrape:
    content_type: str
    samples: list[Sample]
    families: set[str]
    """Every metric's name, also of those with no sample yet (a labelled metric nobody has used)."""

    def value(self, name: str, **labels: str) -> float:
        """The sum of ``name``'s samples whose labels include ``labels``; fails when there is none."""
        found = [s.value for s in self.samples if s.name == name and labels.items() <= s.labels.items()]
        assert found, f"no sample {name}{labels or ''} in /metrics"
        return sum(found)

    def names(self) -> set[str]:
        return {sample.name for sample in self.samples}


def scrape(url: str) -> Scrape:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, f"{url}: {response.status_code} {response.text[:300]}"
    # A malformed line raises here, as it would fail Prometheus' scrape.
    families = list(text_string_to_metric_families(response.text))
    samples = [sample for family in families for sample in family.samples]
    return Scrape(response.headers["content-type"], samples, {family.name for family in families})
