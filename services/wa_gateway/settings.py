from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.config import CommonSettings


class GatewaySettings(CommonSettings):
    wa_transport: Literal["simulator", "neonize"] = Field("simulator", alias="WA_TRANSPORT")
    simulator_phone_number: str = Field("79990000000", alias="SIMULATOR_PHONE_NUMBER")
    simulator_send_delay_seconds: float = Field(0.0, ge=0, le=60, alias="SIMULATOR_SEND_DELAY_SECONDS")
    """Tests only: the simulated WhatsApp takes this long to accept a send (a worker can be killed meanwhile)."""
    forward_batch_size: int = Field(50, ge=1, le=500, alias="FORWARD_BATCH_SIZE")
    forward_retry_max_seconds: float = Field(30.0, gt=0, le=3600, alias="FORWARD_RETRY_MAX_SECONDS")
    reconnect_min_seconds: float = Field(5.0, gt=0, le=600, alias="WA_RECONNECT_MIN_SECONDS")
    reconnect_max_seconds: float = Field(60.0, gt=0, le=3600, alias="WA_RECONNECT_MAX_SECONDS")
    whatsapp_phone_number: str = Field("", alias="WHATSAPP_PHONE_NUMBER")
    use_pairing_code: bool = Field(False, alias="USE_PAIRING_CODE")
    wa_session_db: str = Field("", alias="WA_SESSION_DB")
    """A sqlite path or a postgres DSN; empty means DATA_DIR/whatsapp-<COMPANY_ID>.sqlite."""
    wa_allow_groups: bool = Field(False, alias="WA_ALLOW_GROUPS")
    qr_expiry_seconds: float = Field(25.0, gt=0, le=600, alias="WA_QR_EXPIRY_SECONDS")
    wa_lease_ttl_seconds: float = Field(15.0, ge=1, le=300, alias="WA_LEASE_TTL_SECONDS")
    """How long a session owner's lease lasts unrenewed: a dead owner's standby takes over within it."""
