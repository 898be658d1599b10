"""The office phones' registrar: REGISTER with digest, bindings with expiry.

A phone's binding remembers its Contact URI (the Request-URI of INVITEs we send it) and the
address and transport the REGISTER really came from: that is where we send, so phones
behind NAT or with a wrong Contact host are still reached (the same trick as RFC 5626's
flow reuse, without its machinery).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from salvesti.core.protocols.sip.headers import split_list
from salvesti.core.protocols.sip.message import SipRequest, SipResponse, build_response, new_tag
from salvesti.core.protocols.sip.uri import Address
from salvesti.integrations.sip.security import Authenticator

_LOGGER = logging.getLogger(__name__)

MIN_EXPIRES = 60
MAX_EXPIRES = 3600

Addr = tuple[str, int]


@dataclass
class Binding:
    user: str
    contact: str
    addr: Addr
    transport: str
    expires_at: float
    call_id: str
    #: The phone's own name for itself (the REGISTER's User-Agent header), for diagnostics.
    user_agent: str | None = None


class Registrar:
    """Bindings per extension user; ``handle`` answers one REGISTER."""

    def __init__(self, auth: Authenticator, label: str) -> None:
        self.auth = auth
        self.label = label
        self._bindings: dict[str, dict[str, Binding]] = {}

    def handle(
        self, request: SipRequest, addr: Addr, transport: str, now: float, wall: float
    ) -> SipResponse | None:
        """The answer to a REGISTER (None: drop it, the source is locked out)."""
        outcome = self.auth.check(request, addr[0], now, wall)
        if outcome.drop:
            return None
        if outcome.user is None:
            return build_response(request, outcome.status, to_tag=new_tag(), headers=outcome.headers)
        user = outcome.user
        to_user = request.to_addr.uri.user
        if to_user != user:
            _LOGGER.warning("%s: %s authenticated as %s but registers %s", self.label, addr[0], user, to_user)
            return build_response(request, 403, to_tag=new_tag())
        return self._update(request, user, addr, transport, now)

    def _update(self, request: SipRequest, user: str, addr: Addr, transport: str, now: float) -> SipResponse:
        header_expires = request.headers.get("Expires")
        default = int(header_expires) if header_expires and header_expires.strip().isdigit() else MAX_EXPIRES
        contacts = request.headers.get_all("Contact")
        bindings = self._bindings.setdefault(user, {})
        if len(contacts) == 1 and contacts[0].strip() == "*":
            if default != 0:
                return build_response(request, 400, "Wildcard Contact needs Expires: 0", to_tag=new_tag())
            bindings.clear()
            _LOGGER.info("%s: extension %s unregistered everywhere", self.label, user)
            return build_response(request, 200, to_tag=new_tag())
        for raw in contacts:
            for part in split_list(raw):
                contact = Address.parse(part)
                value = contact.params.get("expires")
                expires = int(value) if value and value.isdigit() else default
                key = str(contact.uri)
                if expires == 0:
                    bindings.pop(key, None)
                    continue
                if expires < MIN_EXPIRES:
                    return build_response(
                        request, 423, to_tag=new_tag(), headers=[("Min-Expires", str(MIN_EXPIRES))]
                    )
                expires = min(expires, MAX_EXPIRES)
                if key not in bindings:
                    _LOGGER.info("%s: extension %s registered from %s:%s", self.label, user, *addr)
                agent = request.headers.get("User-Agent")
                bindings[key] = Binding(user, key, addr, transport, now + expires, request.call_id, agent)
        self._expire(user, now)
        headers = [
            ("Contact", f"<{b.contact}>;expires={max(int(b.expires_at - now), 0)}") for b in bindings.values()
        ]
        return build_response(request, 200, to_tag=new_tag(), headers=headers)

    def _expire(self, user: str, now: float) -> None:
        bindings = self._bindings.get(user, {})
        for key in [k for k, b in bindings.items() if b.expires_at <= now]:
            del bindings[key]

    def bindings_for(self, user: str, now: float) -> list[Binding]:
        self._expire(user, now)
        return list(self._bindings.get(user, {}).values())

    def registered(self, now: float) -> dict[str, int]:
        """Extension user → number of live bindings (for status and tests)."""
        return {u: len(self.bindings_for(u, now)) for u in list(self._bindings)}
