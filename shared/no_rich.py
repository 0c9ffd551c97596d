"""Imported first by each service's ``__main__``: marks the ``rich`` package absent for that process.

structlog imports rich whenever it is installed (typer installs it, for the ``ai-admin`` CLI's help), to
draw tracebacks; the services draw them plainly (``shared.logging``), and rich costs each process about
5 MB, in the worker each of its processes. Marked absent, structlog falls back to what it does without it.
The CLI does not import this module and keeps rich; nor does a process that imported structlog already.
"""

from __future__ import annotations

import sys

# Too late once structlog is in (a test importing a service's __main__): rich is loaded, and may be in use.
if "structlog" not in sys.modules and "rich" not in sys.modules:
    sys.modules["rich"] = None  # type: ignore[assignment]  # None there makes "import rich" fail
