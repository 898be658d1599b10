"""Per-source-IP authentication failure counting with a lockout.

Phones on the office LAN and scanners on the internet reach the same port.  A source that
fails digest authentication ``max_failures`` times within ``window`` seconds is ignored
(its requests are dropped without an answer, so a scanner learns nothing and costs
nothing) for ``lockout`` seconds.  Unknown users and wrong passwords count the same and
get the same answer from the digest code, so nothing reveals whether an extension exists.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

_LOGGER = logging.getLogger(__name__)


class SecurityGuard:
    """Failure counter per IP; time is passed in (monotonic seconds) so tests need no clock."""

    def __init__(self, max_failures: int = 5, window: float = 60.0, lockout: float = 300.0) -> None:
        self.max_failures = max_failures
        self.window = window
        self.lockout = lockout
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}

    def is_locked(self, ip: str, now: float) -> bool:
        until = self._locked_until.get(ip)
        if until is None:
            return False
        if now >= until:
            del self._locked_until[ip]
            return False
        return True

    def failure(self, ip: str, now: float, label: str = "") -> bool:
        """Count one failed authentication; True when this failure locked the source out."""
        times = self._failures.setdefault(ip, deque())
        times.append(now)
        while times and times[0] < now - self.window:
            times.popleft()
        if len(times) >= self.max_failures and self.lockout > 0:
            self._locked_until[ip] = now + self.lockout
            times.clear()
            _LOGGER.warning(
                "%s: %s failed to authenticate %d times in %.0f s; ignoring it for %.0f s",
                label or "sip",
                ip,
                self.max_failures,
                self.window,
                self.lockout,
            )
            return True
        return False

    def success(self, ip: str) -> None:
        self._failures.pop(ip, None)

    def prune(self, now: float) -> None:
        """Forget old entries so a long-running box does not collect every scanner's IP."""
        for ip in [ip for ip, t in self._locked_until.items() if t <= now]:
            del self._locked_until[ip]
        for ip in [ip for ip, d in self._failures.items() if not d or d[-1] < now - self.window]:
            del self._failures[ip]


class Authenticator:
    """Digest authentication of the office phones, with the failure counter in front.

    ``check`` returns the authenticated user, or the answer to give: a challenge (401 for
    REGISTER, 407 for anything else) or None when the source is locked out and the request
    is to be dropped.  The digest code gives an unknown user and a wrong password the same
    result, and so do we.
    """

    def __init__(self, digest: Any, passwords: dict[str, str], guard: SecurityGuard, label: str) -> None:
        self.digest = digest
        self.passwords = passwords
        self.guard = guard
        self.label = label

    def check(self, request: Any, ip: str, now: float, wall: float) -> AuthOutcome:
        """``now`` is monotonic (lockouts), ``wall`` is Unix time (nonce age)."""
        if self.guard.is_locked(ip, now):
            return AuthOutcome(None, drop=True)
        if len(self.guard._failures) > 1000:  # a scan from many addresses: forget the old ones
            self.guard.prune(now)
        proxy = request.method != "REGISTER"
        header = "Proxy-Authorization" if proxy else "Authorization"
        values = request.headers.get_all(header)
        stale = False
        for value in values:
            result = self.digest.verify(request.method, value, self.passwords.get, wall)
            if result.ok:
                self.guard.success(ip)
                return AuthOutcome(result.username)
            stale = stale or result.stale
        if values and not stale:
            if self.guard.failure(ip, now, self.label):
                return AuthOutcome(None, drop=True)
        status = 407 if proxy else 401
        name = "Proxy-Authenticate" if proxy else "WWW-Authenticate"
        challenges = self.digest.challenge_headers(wall, stale=stale)
        if md5_only(request.headers.get("User-Agent")):
            challenges = [c for c in challenges if "algorithm=MD5," in c] or challenges
        return AuthOutcome(None, status=status, headers=[(name, c) for c in challenges])


#: User agents that give up when any challenge names an algorithm they lack, instead of
#: answering the one they know (RFC 7616 §3.7 asks clients to pick): libre-based phones
#: (baresip 1.x) fail with "Function not implemented" on a SHA-256 challenge.  They get
#: only the MD5 challenge; everyone else gets every configured algorithm.
MD5_ONLY_AGENTS = ("baresip", "libre")


def md5_only(user_agent: str | None) -> bool:
    agent = (user_agent or "").lower()
    return any(name in agent for name in MD5_ONLY_AGENTS)


@dataclass
class AuthOutcome:
    user: str | None
    drop: bool = False
    status: int = 0
    headers: list[tuple[str, str]] = field(default_factory=list)
