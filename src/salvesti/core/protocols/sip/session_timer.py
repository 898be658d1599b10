"""Session timers (RFC 4028), sans-IO: one dialog's refresh and expiry deadlines.

Carriers use them to clear calls whose far end vanished without a BYE: one side (the
*refresher*) sends a re-INVITE or UPDATE every half interval; if none arrives, both sides
end the call shortly before the interval runs out (§10: ``interval - min(32, interval/3)``).
A :class:`SessionTimer` is negotiated from the peer's INVITE (we answer) or from its 2xx
(we asked), and is then fed the clock: ``next_deadline`` for the adapter's one timer,
``on_timer(now)`` for what is due, ``refreshed(now, ...)`` when a refresh went through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .message import SipRequest, SipResponse

Refresher = Literal["uac", "uas"]

#: RFC 4028 §4: Min-SE may not be below 90 s on the public network; smaller values are
#: accepted from config for labs and tests only.
MIN_SE = 90

# Session-Expires = ("Session-Expires" / "x") HCOLON delta-seconds *(SEMI se-params)
# se-params = refresher-param / generic-param ; refresher-param = "refresher" EQUAL ("uas" / "uac")
_SE_RE = re.compile(r"^\s*(\d{1,10})\s*((?:;[^;]*)*)$")


class SessionIntervalTooSmall(Exception):
    """The peer asked for less than our Min-SE: answer 422 with ``Min-SE: min_se``."""

    def __init__(self, min_se: int) -> None:
        super().__init__(f"Session-Expires below Min-SE {min_se}")
        self.min_se = min_se


@dataclass(frozen=True)
class RefreshDue:
    """We are the refresher and half the interval has passed: send a re-INVITE or UPDATE."""


@dataclass(frozen=True)
class SessionExpired:
    """No refresh came in time: end the call (BYE)."""


SessionEvent = RefreshDue | SessionExpired


def parse_session_expires(value: str | None) -> tuple[int, Refresher | None] | None:
    """``(interval, refresher)`` from a Session-Expires value; None when absent or malformed."""
    if not value:
        return None
    m = _SE_RE.match(value)
    if not m:
        return None
    refresher: Refresher | None = None
    for param in m.group(2).split(";"):
        name, _, val = param.partition("=")
        if name.strip().lower() == "refresher" and val.strip().lower() in ("uac", "uas"):
            refresher = "uac" if val.strip().lower() == "uac" else "uas"
    return int(m.group(1)), refresher


def supports_timer(msg: SipRequest | SipResponse) -> bool:
    options = [*msg.headers.get_all("Supported"), *msg.headers.get_all("Require")]
    return any(tag.strip().lower() == "timer" for value in options for tag in value.split(","))


def allows_update(msg: SipRequest | SipResponse) -> bool:
    return any(
        m.strip().upper() == "UPDATE" for value in msg.headers.get_all("Allow") for m in value.split(",")
    )


@dataclass
class SessionTimer:
    """One dialog's session timer, from our side of it."""

    interval: int
    we_refresh: bool
    #: The role the refresher has in the transaction that set it (for our answers' headers).
    refresher: Refresher
    refresh_at: float | None = None
    expire_at: float | None = None
    #: Whether the peer understands timers (so our answers may ``Require: timer``).
    peer_supports: bool = True
    #: The peer's Allow names UPDATE: refresh with a body-less UPDATE, not a re-INVITE.
    peer_allows_update: bool = False
    refreshes: int = 0

    @classmethod
    def for_request(cls, request: SipRequest, *, min_se: int = MIN_SE) -> SessionTimer | None:
        """We are the UAS of ``request`` (an INVITE or a refresh): the timer it asks for.

        Raises :class:`SessionIntervalTooSmall` below ``min_se`` (§9: answer 422).  With no
        refresher named, the UAC refreshes if it supports timers, else we do (§9).
        """
        asked = parse_session_expires(request.headers.get("Session-Expires"))
        if asked is None:
            return None
        interval, refresher = asked
        if interval < min_se:
            raise SessionIntervalTooSmall(min_se)
        peer = supports_timer(request)
        chosen: Refresher = refresher or ("uac" if peer else "uas")
        return cls(
            interval, chosen == "uas", chosen, peer_supports=peer, peer_allows_update=allows_update(request)
        )

    @classmethod
    def for_response(cls, response: SipResponse) -> SessionTimer | None:
        """We are the UAC: the timer the peer's 2xx set (none when it names no interval)."""
        got = parse_session_expires(response.headers.get("Session-Expires"))
        if got is None:
            return None
        interval, refresher = got
        chosen: Refresher = refresher or "uac"  # §7.2: a 2xx without refresher means the UAC
        return cls(interval, chosen == "uac", chosen, peer_allows_update=allows_update(response))

    def answer_headers(self) -> list[tuple[str, str]]:
        """For our 2xx to the request that set the timer (§9)."""
        headers = [("Session-Expires", f"{self.interval};refresher={self.refresher}")]
        if self.peer_supports:
            headers.append(("Require", "timer"))
        return headers

    def refresh_headers(self) -> list[tuple[str, str]]:
        """For a refresh we send: we are its UAC and stay the refresher."""
        return [("Session-Expires", f"{self.interval};refresher=uac"), ("Supported", "timer")]

    def start(self, now: float) -> None:
        """The session was (re)established at ``now``: both deadlines from here (§10)."""
        self.refresh_at = now + self.interval / 2 if self.we_refresh else None
        self.expire_at = now + self.interval - min(32.0, self.interval / 3)

    def refreshed(self, now: float, update: SessionTimer | None = None) -> None:
        """A refresh went through; ``update`` is what it negotiated, if it named a timer."""
        if update is not None:
            self.interval, self.we_refresh, self.refresher = (
                update.interval,
                update.we_refresh,
                update.refresher,
            )
            self.peer_supports = update.peer_supports
            self.peer_allows_update = self.peer_allows_update or update.peer_allows_update
        self.refreshes += 1
        self.start(now)

    def next_deadline(self) -> float | None:
        deadlines = [d for d in (self.refresh_at, self.expire_at) if d is not None]
        return min(deadlines) if deadlines else None

    def on_timer(self, now: float) -> list[SessionEvent]:
        if self.expire_at is not None and now >= self.expire_at:
            self.refresh_at = self.expire_at = None
            return [SessionExpired()]
        if self.refresh_at is not None and now >= self.refresh_at:
            self.refresh_at = None  # one refresh per interval; its answer restarts the clock
            return [RefreshDue()]
        return []
