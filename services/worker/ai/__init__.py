"""The AI step behind one interface, so providers can be swapped by a setting."""

from services.worker.ai.base import AIProvider, AIRequest, AIResponse

__all__ = ["AIProvider", "AIRequest", "AIResponse"]
