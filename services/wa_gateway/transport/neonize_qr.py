"""The QR code an operator scans to pair: its files under DATA_DIR, and how long it is kept."""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import segno

FIRST_QR_EXTRA_SECONDS = 40.0
"""whatsmeow's first QR code lives 60 s and the following ones 20 s (docs/neonize.md §2), so the
watchdog waits this much longer after the first one than WA_QR_EXPIRY_SECONDS."""
PAIRING_CODE_SECONDS = 120.0
"""How long the watchdog keeps an unpaired client after issuing a pairing code (a guess: the
code's real lifetime is not documented by whatsmeow)."""


class QrFiles:
    """The current QR code as text and PNG, for an operator without the logs' terminal art."""

    def __init__(self, data_dir: Path, company_id: str) -> None:
        self._data_dir = data_dir
        self.text_path = data_dir / f"qr-{company_id}.txt"
        self.png_path = data_dir / f"qr-{company_id}.png"

    def write(self, qr: str) -> str:
        """Blocking; returns the code drawn for a terminal."""
        code = segno.make_qr(qr)
        buffer = io.StringIO()
        code.terminal(out=buffer, compact=True)
        self._data_dir.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.text_path, qr.encode())
        png = io.BytesIO()
        code.save(png, kind="png", scale=10)
        _atomic_write(self.png_path, png.getvalue())
        return buffer.getvalue()

    def delete(self) -> None:
        """Blocking."""
        for path in (self.text_path, self.png_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


class QrWatchdog:
    """neonize never tells Python a QR expired (docs/neonize.md §2): no new code for a while means it did."""

    def __init__(self, expiry_seconds: float) -> None:
        self._expiry_seconds = expiry_seconds
        self._task: asyncio.Task[None] | None = None
        self.codes_shown = 0
        self._pairing_code_issued = False
        self._last_code_at = 0.0

    def reset(self) -> None:
        """A new client starts its QR rotation from the first code."""
        self.codes_shown = 0
        self._pairing_code_issued = False

    def code_shown(self) -> None:
        self._last_code_at = time.monotonic()
        self.codes_shown += 1

    def pairing_code_issued(self) -> None:
        # The code is typed on the phone, which takes longer than a QR rotation: keep the client up.
        self._pairing_code_issued = True
        self._last_code_at = time.monotonic()

    def watch(self, pending: Callable[[], bool], expire: Callable[[], Awaitable[None]]) -> None:
        """Call ``expire`` once no code came in time, unless ``pending`` turned False first."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(pending, expire), name="wa-qr-watchdog")

    def cancel(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()

    def _allowance(self) -> float:
        if self._pairing_code_issued:
            return max(self._expiry_seconds, PAIRING_CODE_SECONDS)
        extra = FIRST_QR_EXTRA_SECONDS if self.codes_shown <= 1 else 0.0
        return self._expiry_seconds + extra

    async def _run(self, pending: Callable[[], bool], expire: Callable[[], Awaitable[None]]) -> None:
        while True:
            if not pending():
                return
            remaining = self._last_code_at + self._allowance() - time.monotonic()
            if remaining <= 0:
                break
            await asyncio.sleep(remaining)
        # Detach first: stopping the client in expire() must not cancel this very task.
        self._task = None
        await expire()


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
