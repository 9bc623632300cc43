"""Whether a process is still running: how work a killed process left half-done is told from work in progress."""

from __future__ import annotations

import os


def process_alive(pid: int) -> bool:
    """True while process ``pid`` runs on this machine (someone else's counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
