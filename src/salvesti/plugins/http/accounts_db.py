"""Where the HTTP plugin keeps users, API tokens, sessions and the audit log: one interface, two backends.

:class:`AccountsDb` is what the routes, the middleware and the command line call; they never
see SQL.  :func:`open_accounts` picks the backend from the hub's store, so the plugin's data
lives wherever the calls live:

- the SQLite store: the same file, in the ``http_*`` tables (:mod:`.db_sqlite`), with a
  connection of our own;
- the PostgreSQL store: the same database, on the store's pool (:mod:`.db_postgresql`), so
  every node sees the same users and sessions and appends to one audit chain.

Both return the same values (the same strings for times, so the API's JSON is identical);
one shared test suite runs against both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from salvesti.plugins.http.register_db import RegisterDb

#: The user fields an update may change (``update_user`` ignores any other key).
USER_FIELDS = frozenset({"role", "extension", "password_hash", "disabled"})


class UserExists(Exception):
    """``add_user`` with a name that is taken."""


@dataclass
class User:
    id: int
    name: str
    role: str
    extension: str | None
    disabled: bool
    created_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "extension": self.extension,
            "disabled": self.disabled,
            "created_at": self.created_at,
        }


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    first_bad: int | None = None
    reason: str = ""


@runtime_checkable
class AccountsDb(Protocol):
    """Users, tokens, sessions and the audit log.  Times are passed in (``now``: ISO text as the
    API shows it; ``now_ts``/``expires_at``: seconds since the epoch) so callers own the clock."""

    # -- users -------------------------------------------------------------------------------
    async def add_user(
        self, name: str, role: str, password_hash: str, extension: str | None, now: str
    ) -> User:
        """Raises :class:`UserExists` when the name is taken."""

    async def get_user(self, name: str) -> tuple[User, str] | None:
        """The user and their password hash, or None."""

    async def list_users(self) -> list[User]:
        """Every user, by name."""

    async def update_user(self, name: str, fields: dict[str, Any]) -> bool:
        """Change :data:`USER_FIELDS`; a new password or ``disabled`` ends the user's sessions.
        False when there is no such user."""

    async def delete_user(self, name: str) -> bool:
        """Delete the user with their tokens and sessions; False when there is no such user."""

    async def count_users(self) -> int: ...

    # -- API tokens --------------------------------------------------------------------------
    async def add_token(self, user_id: int, name: str, role: str, token_hash: str, now: str) -> int:
        """Store a token (by its hash) and return its id."""

    async def list_tokens(self) -> list[dict[str, Any]]:
        """id, user, name, role, created_at, last_used_at, revoked_at of every token, by id."""

    async def revoke_token(self, token_id: int, now: str) -> bool:
        """False when there is no such live token."""

    async def touch_token(self, token_id: int, now: str) -> None: ...

    async def user_for_token(self, token_hash: str) -> tuple[User, str, int] | None:
        """The live token's user, the token's own role ceiling and the token id."""

    # -- sessions ----------------------------------------------------------------------------
    async def add_session(
        self,
        token_hash: str,
        user_id: int,
        csrf: str,
        now: str,
        expires_at: float,
        source_addr: str | None,
    ) -> None: ...

    async def user_for_session(self, token_hash: str, now_ts: float) -> tuple[User, str] | None:
        """The session's user and its CSRF token, when it exists and has not expired."""

    async def delete_session(self, token_hash: str) -> None: ...

    async def purge_sessions(self, now_ts: float) -> None:
        """Forget every expired session."""

    # -- the audit log (see audit.py for the chain) ------------------------------------------
    async def audit_append(
        self,
        *,
        at: str,
        user: str | None,
        action: str,
        call_id: str | None = None,
        source_addr: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> int:
        """Append one entry to the chain and return its sequence number.  Appends from any
        number of coroutines, processes or nodes are serialised, so the chain never forks."""

    async def audit_list(
        self,
        *,
        call_id: str | None = None,
        user: str | None = None,
        action: str | None = None,
        before: int | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Entries newest first; ``before`` is the keyset (a ``seq``) for the next page."""

    async def audit_verify(self) -> VerifyResult:
        """Walk the whole chain; stop at the first entry whose link or hash does not match."""

    async def close(self) -> None:
        """Release what this object opened (never the store's own pool)."""

    def register(self) -> RegisterDb:
        """The employee register and subject requests, on this backend's connection or pool."""


async def open_accounts(hub: Any) -> AccountsDb:
    """The backend for ``hub.store``: PostgreSQL on its pool, else SQLite beside the calls.

    Pending migrations of our tables are applied, so a command works on a fresh database too.
    """
    store = getattr(hub, "store", None)
    if _is_postgresql(store):
        from salvesti.plugins.http.db_postgresql import PostgresAccounts

        return await PostgresAccounts.open(store.pool)
    from salvesti.plugins.http import db
    from salvesti.plugins.http.db_sqlite import SqliteAccounts
    from salvesti.plugins.http.server import db_path

    return SqliteAccounts(await db.connect(str(db_path(hub))))


def _is_postgresql(store: Any) -> bool:
    from salvesti.plugins.store_postgresql import PostgresStore

    return isinstance(store, PostgresStore)
