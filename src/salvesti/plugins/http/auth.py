"""Credentials: scrypt password hashes, random bearer/session tokens, roles and the login limiter.

Passwords use scrypt (memory-hard, in the standard library) so a stolen database is slow to
crack on GPUs.  Tokens are 256-bit random strings; only their sha256 is stored, which is enough
because they cannot be guessed (no salt or slow hash needed for high-entropy secrets).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections import deque
from dataclasses import dataclass

ROLES = ("agent", "manager", "admin")
_RANK = {role: i for i, role in enumerate(ROLES)}

#: scrypt cost: N=2^14, r=8 -> 16 MiB and ~50 ms per hash; fine on a Raspberry Pi.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_DKLEN = 32

TOKEN_PREFIX = "slv_"


def role_at_least(role: str, needed: str) -> bool:
    return _RANK.get(role, -1) >= _RANK[needed]


def lower_role(a: str, b: str) -> str:
    """The weaker of two roles (a token never grants more than its user has now)."""
    return a if _RANK.get(a, -1) <= _RANK.get(b, -1) else b


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, n: int = SCRYPT_N) -> str:
    """``scrypt$N$r$p$salt$hash``; parameters are stored so they can be raised later."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=SCRYPT_R, p=SCRYPT_P, dklen=_DKLEN, maxmem=64 * 2**20
    )
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=64 * 2**20,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


#: Compared against when the user does not exist, so both answers take the same time.
DUMMY_HASH = hash_password("salvesti-no-such-user")


def new_token(prefix: str = TOKEN_PREFIX) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_password_rules(password: str) -> str | None:
    """A reason the password is refused, or None.  Length is what matters (NIST 800-63B)."""
    if len(password) < 10:
        return "password must be at least 10 characters"
    if len(password) > 1024:
        return "password is too long"
    return None


@dataclass
class Principal:
    """Who is asking: the user, the role in force (token ceiling applied) and how they proved it."""

    user_id: int
    name: str
    role: str
    extension: str | None
    via: str  # "session" | "token"
    csrf: str | None = None

    def can(self, needed: str) -> bool:
        return role_at_least(self.role, needed)


class LoginLimiter:
    """Failed logins per key (client address, user name) in a sliding window.

    In memory on purpose: a restart forgets, which only matters to an attacker who can also
    restart the box.  Both keys are checked so that one address cannot try many users and many
    addresses cannot hammer one user.
    """

    def __init__(self, attempts: int, window_s: float, clock: object = time.monotonic) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _now(self) -> float:
        return self._clock()  # type: ignore[operator]

    def _recent(self, key: str) -> deque[float]:
        q = self._failures.get(key)
        if q is None:
            return deque()
        cutoff = self._now() - self.window_s
        while q and q[0] <= cutoff:
            q.popleft()
        if not q:
            del self._failures[key]
        return q

    def retry_after(self, *keys: str) -> float:
        """Seconds until another attempt is allowed (0 when allowed now)."""
        wait = 0.0
        for key in keys:
            q = self._recent(key)
            if len(q) >= self.attempts:
                wait = max(wait, q[0] + self.window_s - self._now())
        return max(wait, 0.0)

    def failed(self, *keys: str) -> None:
        now = self._now()
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)
        if len(self._failures) > 10000:  # bound memory under a spray of addresses
            for key in list(self._failures)[:5000]:
                del self._failures[key]

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)
