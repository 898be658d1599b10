"""Hardware SIP gateways (``gateways:``): analogue (FXO) and GSM lines behind a box on the LAN.

A gateway is recognised the way its config says it connects: it registers to us as
``user`` with digest (its INVITEs then come from the address its REGISTER came from), or it
is trusted by ``address``.  Its INVITEs are inbound calls on its configured ``line``,
whatever user the Request-URI names, with the caller's number read where its profile says
(:mod:`salvesti.integrations.sip.callerid`).  An INVITE that only *claims* to be from a
gateway - its user authenticates but never registered - is refused by the B2BUA and leaves
no call.  Calls on a gateway's line leave through it: :class:`Gateway` is an
:class:`~salvesti.integrations.sip.route.OutboundRoute`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from salvesti.core.protocols.sip.message import SipRequest, SipResponse
from salvesti.core.protocols.sip.uri import format_host, parse_uri
from salvesti.hardware.gateways import GatewayProfile, load_gateway_profile
from salvesti.integrations.sip.callerid import CallerNumber, caller_from_invite
from salvesti.integrations.sip.registrar import Binding, Registrar
from salvesti.integrations.sip.routing import TrunkAddresses
from salvesti.integrations.sip.schema import split_hostport
from salvesti.integrations.sip.trunk import resolve, resolve_names

_LOGGER = logging.getLogger(__name__)

Addr = tuple[str, int]

#: What the call object says when the gateway's 200 does not mean the far party answered.
UNSUPERVISED = (
    "the gateway answers when it has dialled, not when the far party picks up: talk time starts early"
)


class Gateway:
    """One configured gateway: profile, line, how it is recognised, and the way out through it."""

    def __init__(self, conf: dict[str, Any], registrar: Registrar, default_country: str) -> None:
        self.id: str = conf["id"]
        self.line: str = conf["line"]
        self.user: str | None = conf.get("user")
        self.password: str | None = conf.get("password")
        self.address: str | None = conf.get("address")
        self.profile: GatewayProfile = load_gateway_profile(conf["profile"])
        self.registrar = registrar
        self.default_country = default_country
        self.trusted = TrunkAddresses([self.address] if self.address else [])
        #: Gateways sit on the office network and speak plain RTP (``route.OutboundRoute``).
        self.srtp = False

    def __repr__(self) -> str:
        return f"<Gateway {self.id} {self.profile.name} {self.line}>"

    # -- who it is ------------------------------------------------------------------------
    def binding(self, now: float) -> Binding | None:
        """Its newest live registration (None when it is trusted by address or not registered)."""
        if self.user is None:
            return None
        bindings = self.registrar.bindings_for(self.user, now)
        return max(bindings, key=lambda b: b.expires_at) if bindings else None

    def status(self, now: float) -> str:
        if self.user is None:
            return "trusted"
        return "registered" if self.binding(now) is not None else "not_registered"

    def sends_from(self, addr: Addr, now: float) -> bool:
        """True when a request from ``addr`` is this gateway's: the address one of its
        live registrations came from, or an address it is trusted by."""
        if self.user is not None:
            return any(b.addr == addr for b in self.registrar.bindings_for(self.user, now))
        return self.trusted.contains(*addr)

    # -- its calls ------------------------------------------------------------------------
    def caller(self, request: SipRequest) -> CallerNumber:
        return caller_from_invite(
            request, self.profile.caller_id, self.default_country, gateway_user=self.user
        )

    def inbound_meta(self, caller: CallerNumber) -> dict[str, Any]:
        """What an inbound call's record keeps about the gateway and its caller ID reading."""
        return {
            "route": self.describe(),
            "gateway": {
                "id": self.id,
                "profile": self.profile.name,
                "kind": self.profile.kind,
                "caller_id": caller.meta(),
                "answer_supervision": self.profile.answer_supervision,
            },
        }

    # -- OutboundRoute ----------------------------------------------------------------------
    @property
    def contact_user(self) -> str:
        return "salvesti"

    @property
    def sip_transport(self) -> str:
        """The transport its registration came over (UDP for a gateway trusted by address)."""
        binding = self.binding(time.monotonic())
        return binding.transport if binding is not None else "udp"

    async def next_hop(self) -> Addr:
        """Where the gateway is: the address its registration came from, or its ``address``."""
        binding = self.binding(time.monotonic())
        if binding is not None:
            return binding.addr
        if self.user is not None:
            raise OSError(f"gateway {self.id} is not registered")
        addrs = await resolve(self._address())
        if not addrs:
            raise OSError(f"gateway {self.id}: {self.address} does not resolve")
        return addrs[0]

    def _address(self) -> str:
        assert self.address is not None
        if "/" in self.address:
            raise OSError(
                f"gateway {self.id} is trusted by a network ({self.address}); calls out need one address"
            )
        return self.address

    def _target(self) -> tuple[str, int | None]:
        """Host and port of the Request-URI: its registered Contact, or its ``address``."""
        binding = self.binding(time.monotonic())
        if binding is not None:
            return parse_uri(binding.contact).hostport
        return split_hostport(self._address())

    def request_uri(self, user: str) -> str:
        """The number to dial on the gateway's line: FXO gateways in one-stage mode dial the
        Request-URI user, GSM gateways route it to a SIM."""
        host, port = self._target()
        return f"sip:{user}@{format_host(host)}" + (f":{port}" if port else "")

    def from_header(self, line: str | None) -> str:
        return f"<sip:{line or self.line}@{format_host(self._target()[0])}>"

    def to_header(self, target: str) -> str:
        return f"<sip:{target}@{format_host(self._target()[0])}>"

    def authorize(self, request: SipRequest, response: SipResponse) -> bool:
        """A gateway trusts us by its own config; we hold no credentials for it."""
        return False

    def fallback_hop(self, failed: Addr) -> Addr | None:
        """A gateway is one box: nowhere else to try."""
        return None

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "via": "gateway",
            "gateway": self.id,
            "profile": self.profile.name,
            "answer_supervision": self.profile.answer_supervision,
        }
        if not self.profile.supervised:
            out["talk_time"] = UNSUPERVISED
        return out


class Gateways:
    """The gateways of one source, looked up by address, user and line."""

    def __init__(self, items: list[Gateway]) -> None:
        self.items = items

    @classmethod
    def from_config(cls, conf: dict[str, Any], registrar: Registrar, default_country: str) -> Gateways:
        return cls([Gateway(item, registrar, default_country) for item in conf.get("gateways") or []])

    def __bool__(self) -> bool:
        return bool(self.items)

    @property
    def lines(self) -> list[str]:
        return [g.line for g in self.items]

    def passwords(self) -> dict[str, str]:
        """The digest users of gateways that register to us (the registrar authenticates them)."""
        return {g.user: g.password for g in self.items if g.user is not None and g.password is not None}

    async def resolve(self, label: str) -> None:
        """Resolve the ``address`` of gateways trusted by host name or ``host:port``."""
        for gateway in self.items:
            await resolve_names(gateway.trusted, f"{label} gateway {gateway.id}")

    def from_address(self, addr: Addr, now: float) -> Gateway | None:
        return next((g for g in self.items if g.sends_from(addr, now)), None)

    def by_user(self, user: str) -> Gateway | None:
        return next((g for g in self.items if g.user == user), None)

    def for_line(self, line: str | None) -> Gateway | None:
        return next((g for g in self.items if g.line == line), None)

    def statuses(self, now: float) -> list[dict[str, Any]]:
        return [
            {"id": g.id, "line": g.line, "profile": g.profile.name, "status": g.status(now)}
            for g in self.items
        ]
