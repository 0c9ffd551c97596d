"""Transports connect the gateway to WhatsApp; the rest of the gateway sees only :class:`Transport`."""

from services.wa_gateway.transport.base import (
    EventHandler,
    IncomingMessage,
    IncomingReaction,
    SentMessage,
    Transport,
    TransportEvent,
    TransportEventType,
)

__all__ = [
    "EventHandler",
    "IncomingMessage",
    "IncomingReaction",
    "SentMessage",
    "Transport",
    "TransportEvent",
    "TransportEventType",
]
