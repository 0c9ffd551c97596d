"""A minimal provider that runs in-process with no network: the default until an LLM is configured.

It is not a receptionist: it acknowledges the client's message politely and says a person will
follow up. It exists so the pipeline works end to end on a fresh machine.
"""

from __future__ import annotations

from services.worker.ai.base import AIRequest, AIResponse

MAX_QUOTE_CHARS = 200


class EmbeddedProvider:
    name = "embedded"

    def reply(self, request: AIRequest) -> AIResponse:
        greeting = f"Здравствуйте, {request.client_name}!" if request.client_name else "Здравствуйте!"
        quoted = request.text.strip()
        if len(quoted) > MAX_QUOTE_CHARS:
            quoted = quoted[: MAX_QUOTE_CHARS - 1] + "…"
        text = (
            f"{greeting} Мы получили ваше сообщение: «{quoted}».\n\nАдминистратор салона ответит вам в ближайшее время."
        )
        return AIResponse(text=text, provider=self.name)
