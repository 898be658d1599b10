"""Diagnostics as a capability: a source tells what it knows about its own health.

The web UI's diagnostics page explains to a shop owner why the phones do not work.  What it
needs of a call source (the carrier's last answer to our REGISTER, the address the carrier
sees us at, which phones are registered from where, how full the RTP port range is) lives
inside the source; the web UI must not import the SIP integration to read it.  So they meet
here, as in ``core.components``: the HTTP plugin finds a :class:`DiagnosticsSource` in
``hub.sources`` with ``isinstance`` and gets plain data back.

Every time in these records is wall-clock and aware (in the hub's timezone); every address
is ``(host, port)``.  The records carry facts only: the judging (ok, warn, fail) and the
words are the diagnostics page's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

Addr = tuple[str, int]


@dataclass(frozen=True)
class CarrierRegistration:
    """One registration with the carrier: the DDI ``trunk:`` or one of ``accounts:``."""

    #: ``trunk`` or ``account +3726000001``: how people name it.
    name: str
    #: Where it lives in the config: ``trunk`` or ``accounts[N]``.
    key: str
    registrar: str
    username: str
    #: The account's own line (``accounts:``); None for the DDI trunk.
    line: str | None = None
    #: ``registered``, ``failed``, ``tls_failed`` (handshake or certificate check),
    #: ``not_registered``, ``not_registering`` (``register: false``).
    status: str = "not_registered"
    #: Why it is not registered (the error, e.g. ``403 Forbidden``), None when it is.
    reason: str | None = None
    #: The carrier's last final answer to a REGISTER, and when it came.
    last_status: int | None = None
    last_reason: str | None = None
    last_answer_at: datetime | None = None
    #: False when the latest REGISTER got no answer at all (timeout, no route, no DNS).
    answered_latest: bool = True
    #: When the carrier last accepted the binding and until when it holds.
    registered_at: datetime | None = None
    expires_at: datetime | None = None
    #: Our address as the carrier saw it (the ``received``/``rport`` of its answers' Via).
    public: Addr | None = None
    #: Our own address toward the carrier (the interface the kernel routes through).
    local: str | None = None
    #: ``external_address`` from the config, when set.
    external: str | None = None


@dataclass(frozen=True)
class ExtensionContact:
    """One place an extension is registered from (a desk phone, a browser tab)."""

    address: Addr | None
    transport: str
    user_agent: str | None = None
    expires_at: datetime | None = None
    #: The web user behind a browser tab (None for desk phones).
    user: str | None = None


@dataclass(frozen=True)
class ExtensionState:
    """An extension configured on a source and where it is registered now (empty: nowhere)."""

    user: str
    #: ``sip`` (desk phones) or ``webrtc`` (browser phones).
    kind: str
    name: str | None = None
    contacts: tuple[ExtensionContact, ...] = ()

    @property
    def registered(self) -> bool:
        return bool(self.contacts)


@dataclass(frozen=True)
class MediaPorts:
    """A source's UDP port range for media and how much of it is in use."""

    low: int
    high: int
    #: Port pairs (RTP + RTCP) the range holds and those open now; None when not counted.
    capacity: int | None = None
    in_use: int | None = None


@dataclass(frozen=True)
class SourceDiagnostics:
    """What one source knows about its own health."""

    source: str
    platform: str
    registrations: tuple[CarrierRegistration, ...] = ()
    extensions: tuple[ExtensionState, ...] = ()
    media: MediaPorts | None = None
    #: Anything else worth showing, as plain JSON values.
    extra: dict[str, object] = field(default_factory=dict)


@runtime_checkable
class DiagnosticsSource(Protocol):
    """A source that can describe its own health (see the module docstring)."""

    id: str

    def diagnostics(self) -> SourceDiagnostics: ...
