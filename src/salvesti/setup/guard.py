"""Who may run the wizard: once, before anyone else, and never again after an admin exists.

Two locks.  :func:`refusal` says why setup must not start (a config file or an admin user
exists already), checked by the command before it listens and by the app before every step.
:class:`SetupCode` is the one-time code printed on the terminal: the first step needs it, so
someone else on the LAN who finds the page cannot take the box first.  A right code earns a
session token the page sends as a header (never a cookie, so other sites cannot ride on it);
after :data:`MAX_FAILURES` wrong codes the code is dead until setup is restarted.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import sqlite3
from pathlib import Path

MAX_FAILURES = 10
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a terminal


def new_code() -> str:
    """Eight characters in two groups, e.g. ``K7QM-2XHD`` (40 bits: enough against 10 tries)."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def _normal(code: str) -> str:
    return "".join(c for c in code.upper() if c.isalnum())


class SetupCode:
    def __init__(self, code: str | None = None) -> None:
        self.code = code or new_code()
        self.failures = 0
        self._sessions: set[str] = set()

    @property
    def exhausted(self) -> bool:
        return self.failures >= MAX_FAILURES

    def redeem(self, given: str) -> str | None:
        """A session token for the right code, else None (and one failure more)."""
        if self.exhausted:
            return None
        if hmac.compare_digest(_normal(given).encode(), _normal(self.code).encode()):
            token = secrets.token_urlsafe(24)
            self._sessions.add(token)
            return token
        self.failures += 1
        return None

    def allows(self, token: str | None) -> bool:
        return bool(token) and any(hmac.compare_digest(token or "", t) for t in self._sessions)


def admin_exists(db_file: Path) -> bool:
    """True when the web UI's user table holds an admin (read-only; no file, no admin)."""
    if not db_file.is_file():
        return False
    try:
        conn = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT count(*) FROM http_users WHERE role = 'admin'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False  # no user table yet: the store was made, no user was
    return bool(row and row[0])


def refusal(config_path: Path, db_file: Path) -> str | None:
    """Why setup must not run for ``config_path``, or None."""
    if config_path.exists():
        return (
            f"{config_path} exists already, so setup will not run again (edit it, check it with "
            f"`salvesti check-config -c {config_path}`, or move it away to start over)"
        )
    if admin_exists(db_file):
        return (
            f"an admin user exists already in {db_file}, so setup will not run again; "
            "add users with `salvesti users add NAME --role ROLE -c FILE`"
        )
    return None


async def refusal_async(config_path: Path, db_file: Path) -> str | None:
    return await asyncio.to_thread(refusal, config_path, db_file)
