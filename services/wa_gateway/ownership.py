"""Owning the WhatsApp number through the Redis lease: wait on standby until it is ours, then keep it.

An owner that can't renew stops its session well before the lease could expire and be taken by
someone else: at most one process is connected at any time. Only Redis is polled, never WhatsApp.
"""

from __future__ import annotations

import asyncio
import time

from services.wa_gateway.lease import SessionLease
from services.wa_gateway.state import SessionState
from shared.logging import get_logger
from shared.wire import SessionStatus

log = get_logger(__name__)

RENEWALS_PER_TTL = 3
GIVE_UP_FRACTION = 0.6
"""Stop after this share of the TTL without a renewal, even if a renewal hangs: before anyone can take over."""


class LeaseKeeper:
    def __init__(self, lease: SessionLease, company_id: str, state: SessionState) -> None:
        self._lease = lease
        self._company_id = company_id
        self._state = state

    @property
    def _interval(self) -> float:
        return self._lease.ttl_ms / 1000 / RENEWALS_PER_TTL

    async def wait_until_owned(self) -> None:
        """Standby until no one else owns this number."""
        announced = False
        while True:
            try:
                if await self._lease.renew():
                    if announced:
                        log.info("Lease acquired; this process now owns the WhatsApp session")
                    return
                holder = await self._lease.holder()
                reason = f"another process owns this WhatsApp number: {holder.process if holder else 'unknown'}"
            except Exception as error:  # Redis down or a corrupt lease: either way ownership is unproven
                reason = f"Redis unreachable, so ownership can't be checked: {error}"
            self._state.set(status=SessionStatus.STANDBY, connected=False, reason=reason)
            if not announced:
                log.warning("Standby: not connecting to WhatsApp", reason=reason, company_id=self._company_id)
                announced = True
            await asyncio.sleep(self._interval)

    async def keep(self) -> str:
        """Renew while we own the number; returns why ownership was lost (the caller must stop at once)."""
        give_up_after = self._lease.ttl_ms / 1000 * GIVE_UP_FRACTION
        last_renewed = time.monotonic()
        while True:
            await asyncio.sleep(self._interval)
            remaining = last_renewed + give_up_after - time.monotonic()
            try:
                if await asyncio.wait_for(self._lease.renew(), timeout=max(remaining, 0.05)):
                    last_renewed = time.monotonic()
                    continue
                return "another process took over the lease"
            except Exception as error:  # any failure to renew counts; a dead renewer would let a second owner in
                if time.monotonic() - last_renewed < give_up_after:
                    continue
                return f"Redis unreachable, ownership can't be proven: {type(error).__name__} {error}"

    async def release(self) -> None:
        await self._lease.release()
