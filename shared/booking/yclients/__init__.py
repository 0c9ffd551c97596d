"""The YClients booking backend: ``client`` speaks HTTP to YClients, ``backend`` maps it onto the models."""

from shared.booking.yclients.backend import YClientsBackend
from shared.booking.yclients.client import RateLimiter, YClientsClient

__all__ = ["RateLimiter", "YClientsBackend", "YClientsClient"]
