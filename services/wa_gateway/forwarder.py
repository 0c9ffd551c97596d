"""Delivers journalled inbound messages to the api's webhook, in batches, until each gets a 2xx.

While the api is down or answering 5xx it retries with capped, jittered exponential backoff.
A request the api rejects as malformed (400/413/422) is split, so one bad message can't hold
back the others; a message rejected on its own is dead-lettered in the journal.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from services.wa_gateway.journal import Journal, JournalEntry
from services.wa_gateway.settings import GatewaySettings
from services.wa_gateway.transport.base import IncomingReaction
from shared.backoff import backoff_delay
from shared.blocking import run_blocking
from shared.logging import bound, get_logger
from shared.metrics import GATEWAY_WEBHOOK_SECONDS, status_class
from shared.signing import API_KEY_HEADER, signed_headers
from shared.wire import REACTION_WEBHOOK_PATH, WEBHOOK_PATH, BatchedWebhook, InboundReaction, WireModel

IDLE_WAKEUP_SECONDS = 300.0
"""Without new messages the forwarder sleeps; this wakeup only prunes old journal rows."""
REJECTED_STATUSES = frozenset({400, 413, 422})

log = get_logger(__name__)


class Forwarder:
    def __init__(self, settings: GatewaySettings, journal: Journal, client: httpx.AsyncClient) -> None:
        self._settings = settings
        self._journal = journal
        self._client = client
        self._wakeup = asyncio.Event()
        self.delivered = 0
        self.failed_attempts = 0
        self._background: set[asyncio.Task[int | None]] = set()

    def wake(self) -> None:
        self._wakeup.set()

    def forward_reaction(self, reaction: IncomingReaction) -> None:
        """Best effort, one attempt: a reaction is a courtesy signal, not a message to answer."""
        body = InboundReaction(
            company_id=self._settings.company_id,
            from_=reaction.sender,
            emoji=reaction.emoji,
            message_id=reaction.message_id,
            timestamp=reaction.timestamp_ms,
        )
        task = asyncio.create_task(self._post(REACTION_WEBHOOK_PATH, body), name="reaction-forward")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def run(self) -> None:
        while True:
            try:
                await self._deliver_until_idle()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a journal or code fault must not silently end forwarding
                log.error("Forwarder failed; restarting it", error=repr(error), exc_info=error)
                await asyncio.sleep(self._settings.forward_retry_max_seconds)

    async def _deliver_until_idle(self) -> None:
        failures = 0
        while True:
            self._wakeup.clear()
            entries = await run_blocking(self._journal.pending, self._settings.forward_batch_size)
            if not entries:
                try:
                    await asyncio.wait_for(self._wakeup.wait(), IDLE_WAKEUP_SECONDS)
                except TimeoutError:
                    await run_blocking(self._journal.prune)
                continue
            if await self._deliver(entries):
                failures = 0
                continue
            failures += 1
            self.failed_attempts += 1
            delay = backoff_delay(failures - 1, 0.5, self._settings.forward_retry_max_seconds)
            backlog = await run_blocking(self._journal.backlog)
            log.warning(
                "Webhook delivery failed; retrying",
                retry_in_seconds=round(delay, 2),
                backlog=backlog.pending,
                company_id=self._settings.company_id,
            )
            await asyncio.sleep(delay)

    async def _deliver(self, entries: list[JournalEntry]) -> bool:
        """True when every entry was settled (delivered or dead-lettered)."""
        webhook = BatchedWebhook(company_id=self._settings.company_id, messages=[entry.message for entry in entries])
        started = time.perf_counter()
        status = await self._post(WEBHOOK_PATH, webhook)
        GATEWAY_WEBHOOK_SECONDS.labels(status_class(status)).observe(time.perf_counter() - started)
        seqs = [entry.seq for entry in entries]
        if status is not None and 200 <= status < 300:
            await run_blocking(self._journal.mark_delivered, seqs)
            self.delivered += len(entries)
            for entry in entries:
                with bound(
                    company_id=self._settings.company_id, chat=entry.message.chat, message_id=entry.message.message_id
                ):
                    log.info("Message forwarded to webhook", batch_size=len(entries))
            return True
        if status in REJECTED_STATUSES:
            if len(entries) > 1:
                # One at a time, in order; stop at the first that isn't settled so order is kept.
                for entry in entries:
                    if not await self._deliver([entry]):
                        return False
                return True
            entry = entries[0]
            await run_blocking(self._journal.mark_rejected, seqs, f"webhook answered {status}")
            with bound(company_id=self._settings.company_id, message_id=entry.message.message_id):
                log.error("Webhook rejected message; kept in the journal as rejected", status=status)
            return True
        return False

    async def _post(self, path: str, payload: WireModel) -> int | None:
        body = payload.to_json().encode()
        headers = {"content-type": "application/json", "x-source": "wa-gateway"}
        secret = self._settings.webhook_secret.get_secret_value()
        if secret:
            headers.update(signed_headers(secret, "POST", path, body))
        api_key = self._settings.api_key.get_secret_value()
        if api_key:
            headers[API_KEY_HEADER] = api_key
        try:
            response = await self._client.post(self._settings.api_url + path, content=body, headers=headers)
        except httpx.HTTPError as error:
            log.warning("Webhook unreachable", error=f"{type(error).__name__}: {error}")
            return None
        if response.status_code >= 300:
            log.warning("Webhook answered an error", status=response.status_code, body=response.text[:300])
        return response.status_code
