"""`visitor-intent` that kills itself (SIGKILL) at one stage of its work: the fault table's stand-in for a crash.

    python -m tests.fault_injection STAGE [visitor-intent arguments...]

Test-only: production code has no fault points. This wraps one function of the stage
(in this process only: the CLI runs its Dagster runs in-process) so that the process dies
where a power cut or the OOM killer would hurt most:

- ``spooling``: every day of the log parsed into the spool's temporary entry, none renamed into place;
- ``warehouse_write``: the rows of the third ``clean_hits`` day sent (INSERT, or COPY on PostgreSQL), not committed;
- ``report_writing``: the report's CSV files and summary page written, its account pages not.

The fourth stage, the CRM push, is killed by the CRM fake itself once it has stored the
notes and before it answers (``tests/test_fault_table.py``): the worst moment for the ledger.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from connectors import warehouse
from connectors.hits import spool
from connectors.sinks import files
from pipelines.cli import main

KILLED_TABLE, KILLED_WRITE = "clean_hits", 3


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _kill_after(function: Callable[..., Any], *, calls: int, counted: Callable[..., bool]) -> Callable[..., Any]:
    """``function``, which kills the process once it returned from its ``calls``-th counted call."""
    seen = 0

    @functools.wraps(function)
    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal seen
        result = function(*args, **kwargs)
        seen += counted(*args, **kwargs)
        if seen == calls:
            _die()
        return result

    return counting


def _of_killed_table(connection: Any, table: Any, *args: Any) -> bool:
    return table.name == KILLED_TABLE


def arm(stage: str) -> None:
    """Make this process die at ``stage``."""
    if stage == "spooling":
        spool.settle_leading_lines = lambda *args: _die()
    elif stage == "warehouse_write":
        for name in ("_insert_many", "_copy_into_postgres"):
            original = getattr(warehouse, name)
            setattr(warehouse, name, _kill_after(original, calls=KILLED_WRITE, counted=_of_killed_table))
    elif stage == "report_writing":
        summary_page = lambda target, template, **context: template == "summary.html.j2"  # noqa: E731
        files.render_page = _kill_after(files.render_page, calls=1, counted=summary_page)
    else:
        raise SystemExit(f"unknown stage {stage!r}")


if __name__ == "__main__":
    arm(sys.argv[1])
    raise SystemExit(main(sys.argv[2:]))
