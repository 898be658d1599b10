"""User and token rules shared by the admin API and the command line.

A token never carries more than its user's role: asking for more is refused here, and the role
actually used is re-checked against the user's current role on every request (so demoting a user
also demotes their tokens).
"""

from __future__ import annotations

from salvesti.plugins.http import auth
from salvesti.plugins.http.accounts_db import AccountsDb, User, UserExists


class AccountError(Exception):
    """A refused account operation, with a message for the user."""


async def create_user(
    store: AccountsDb, name: str, role: str, password: str, extension: str | None, now: str
) -> User:
    if role not in auth.ROLES:
        raise AccountError(f"role must be one of {', '.join(auth.ROLES)}")
    problem = auth.check_password_rules(password)
    if problem:
        raise AccountError(problem)
    try:
        return await store.add_user(name, role, auth.hash_password(password), extension, now)
    except UserExists:
        raise AccountError(f"user {name!r} exists") from None


async def create_token(
    store: AccountsDb, username: str, role: str | None, name: str, now: str
) -> tuple[int, str, str]:
    """Create a bearer token; returns (id, the token itself, its role).  The token is shown once."""
    found = await store.get_user(username)
    if found is None:
        raise AccountError(f"no user {username!r}")
    user = found[0]
    role = role or user.role
    if role not in auth.ROLES:
        raise AccountError(f"role must be one of {', '.join(auth.ROLES)}")
    if not auth.role_at_least(user.role, role):
        raise AccountError(f"user {username!r} is {user.role}; a token cannot be {role}")
    token = auth.new_token()
    token_id = await store.add_token(user.id, name, role, auth.token_hash(token), now)
    return token_id, token, role
