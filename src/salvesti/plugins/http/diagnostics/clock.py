"""Time sync: call times are evidence and retention counts days, so the clock must be right.

Asked in this order, each only when the one before could not tell: ``timedatectl show -p
NTPSynchronized --value`` (systemd), then the flag file systemd-timesyncd keeps while
synchronised.  When neither answers (no systemd, chrony without timesyncd, a container)
the answer is "unknown", never an error: a missing command must not break the page.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from salvesti.plugins.http.diagnostics.check import Check, State

TIMESYNCD_FLAG = Path("/run/systemd/timesync/synchronized")
COMMAND = ["timedatectl", "show", "-p", "NTPSynchronized", "--value"]

Runner = Callable[[list[str]], str]


def _run(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=3, check=True)
    return done.stdout


def probe(
    *,
    run: Runner = _run,
    which: Callable[[str], str | None] = shutil.which,
    flag: Path = TIMESYNCD_FLAG,
) -> tuple[bool | None, str]:
    """(synchronised or None when unknown, how it was found out). Blocking: run it in a thread."""
    if which(COMMAND[0]):
        try:
            answer = run(COMMAND).strip().lower()
        except (OSError, subprocess.SubprocessError):
            answer = ""
        if answer in ("yes", "no"):
            return answer == "yes", "timedatectl"
    if flag.exists():
        return True, "timesyncd"
    return None, "none"


def time_sync_check(synchronised: bool | None, method: str, now: datetime) -> Check:
    details = {"synchronised": synchronised, "method": method, "now": now.isoformat()}
    if synchronised is None:
        state, advice = State.WARN, "diag_clock_unknown"
    elif synchronised:
        state, advice = State.OK, "diag_clock_ok"
    else:
        state, advice = State.WARN, "diag_clock_not_synced"
    return Check("clock", "clock", state, "diag_clock_title", advice, details)
