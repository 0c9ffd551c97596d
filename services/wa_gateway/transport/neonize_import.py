"""Import neonize once, without the process pipe its import leaks, and without its ffmpeg warning.

neonize's first import runs ``os.popen("uname -a").read()`` to spot Android and never closes the
pipe; the unclosed-file ResourceWarning then surfaces in whatever runs next (and fails the test
suite, which turns warnings into errors). ``os.uname()`` answers the same question without a
process. Every module that uses neonize imports this one first.

neonize also warns at every connect that ffmpeg is not on PATH. Only media (stickers, voice notes,
video) needs it, and this gateway sends text and reactions, so the warning is noise that trains
operators to ignore warnings; that one message is filtered out, nothing else from neonize is.
"""

from __future__ import annotations

import io
import logging
import os
from typing import IO, Any

FFMPEG_LOGGER = "neonize.utils.ffmpeg"


class _WithoutFfmpegNotice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "not found on PATH" not in str(record.msg)


def _uname_without_a_process(*_args: Any, **_kwargs: Any) -> IO[str]:
    return io.StringIO(" ".join(os.uname()))


_popen = os.popen
os.popen = _uname_without_a_process  # type: ignore[assignment]
try:
    import neonize  # noqa: F401
finally:
    os.popen = _popen

logging.getLogger(FFMPEG_LOGGER).addFilter(_WithoutFfmpegNotice())
