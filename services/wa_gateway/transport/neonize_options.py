"""What the neonize transport needs from the configuration, and nothing more.

The transport package depends only on itself and ``shared``; the gateway's settings are turned
into these options where the transport is chosen (``runtime.build_transport``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, kw_only=True)
class NeonizeOptions:
    company_id: str
    data_dir: Path
    """Holds the default session store, its lock and the QR files."""
    wa_session_db: str
    """A sqlite path or a postgres DSN; empty means DATA_DIR/whatsapp-<COMPANY_ID>.sqlite."""
    whatsapp_phone_number: str
    """The number this gateway pairs with; empty accepts whichever phone scans the QR code."""
    default_region: str
    """For phone numbers written without a country code."""
    wa_allow_groups: bool
    use_pairing_code: bool
    """Ask for a pairing code for whatsapp_phone_number as soon as pairing is possible."""
    qr_expiry_seconds: float
