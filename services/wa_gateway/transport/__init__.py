"""Transports connect the gateway to WhatsApp; the rest of the gateway sees only :class:`Transport`."""

from services.wa_gateway.transport.base import (
    EventHandler,
    IncomingReaction,
    SentMessage,
    Transport,
    TransportEvent,
    TransportEventType,
    WhatsAppMessage,
)

__all__ = [
    "EventHandler",
    "IncomingReaction",
    "SentMessage",
    "Transport",
    "TransportEvent",
    "TransportEventType",
    "WhatsAppMessage",
]
