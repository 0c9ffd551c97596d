from __future__ import annotations

from pydantic import AliasChoices, Field

from shared.booking.settings import BookingSettings


class ApiSettings(BookingSettings):
    wa_standalone: bool = Field(
        True, validation_alias=AliasChoices("WA_STANDALONE", "BAILEYS_STANDALONE"), alias="WA_STANDALONE"
    )
    enqueue_threads: int = Field(8, ge=1, le=64, alias="API_ENQUEUE_THREADS")
