"""Import neonize once, without the process pipe its import leaks.

neonize's first import runs ``os.popen("uname -a").read()`` to spot Android and never closes the
pipe; the unclosed-file ResourceWarning then surfaces in whatever runs next (and fails the test
suite, which turns warnings into errors). ``os.uname()`` answers the same question without a
process. Every module that uses neonize imports this one first.
"""

from __future__ import annotations

import io
import os
from typing import IO, Any


def _uname_without_a_process(*_args: Any, **_kwargs: Any) -> IO[str]:
    return io.StringIO(" ".join(os.uname()))


_popen = os.popen
os.popen = _uname_without_a_process  # type: ignore[assignment]
try:
    import neonize  # noqa: F401
finally:
    os.popen = _popen
