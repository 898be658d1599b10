"""What the ``sip_trunk`` source tells the diagnostics page (``core.diagnostics``).

Facts only, read from the parts that already keep them: each carrier registration's
status and last answer (``trunk.TrunkClient``), the public address the carrier reported in
its Via, the phones' bindings (``registrar``) with their User-Agent, and the RTP relay's
port pairs.  Times kept on the monotonic clock (binding expiry) are turned into wall-clock
times with the two ``now`` values given, so tests pass both.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from salvesti.core.diagnostics import (
    CarrierRegistration,
    ExtensionContact,
    ExtensionState,
    MediaPorts,
    SourceDiagnostics,
)
from salvesti.core.protocols.sip.uri import format_host
from salvesti.integrations.sip.trunk import TrunkClient


def _wall(epoch: float | None, now: datetime) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, now.tzinfo)


def registration(
    client: TrunkClient, key: str, *, local: str | None, external: str | None, now: datetime
) -> CarrierRegistration:
    answer = client.last_answer
    attempt = client.last_attempt_at
    answered = answer is not None and (attempt is None or answer.at >= attempt)
    registered_at = _wall(client.registered_at, now)
    expires_at = (
        registered_at + timedelta(seconds=client.granted)
        if registered_at is not None and client.granted is not None
        else None
    )
    return CarrierRegistration(
        name=client.name,
        key=key,
        registrar=client.conf["registrar"],
        username=client.username,
        line=client.line,
        status=client.status,
        reason=client.reason,
        last_status=answer.status if answer else None,
        last_reason=answer.reason if answer else None,
        last_answer_at=_wall(answer.at, now) if answer else None,
        answered_latest=answered or attempt is None,
        registered_at=registered_at,
        expires_at=expires_at,
        public=client.public,
        local=local,
        external=external,
    )


def source_diagnostics(source: Any, *, now: datetime, mono: float) -> SourceDiagnostics:
    """``source`` is a ``SipTrunkSource``; ``now`` the wall clock, ``mono`` the monotonic one."""
    regs = []
    trunk = source.carrier.trunk
    for i, client in enumerate(source.carrier.clients):
        hop = client.addresses[0][0] if client.addresses else client.registrar_host
        regs.append(
            registration(
                client,
                "trunk" if client is trunk else f"accounts[{i}]",
                local=source.addresses.for_peer(hop),
                external=source.external,
                now=now,
            )
        )
    extensions = []
    for user, conf in source.extensions.items():
        contacts = tuple(
            ExtensionContact(
                address=b.addr,
                transport=b.transport,
                user_agent=b.user_agent,
                expires_at=now + timedelta(seconds=max(b.expires_at - mono, 0.0)),
            )
            for b in source.registrar.bindings_for(user, mono)
        )
        extensions.append(ExtensionState(user=user, kind="sip", name=conf.get("name"), contacts=contacts))
    relay = source.relay
    return SourceDiagnostics(
        source=source.id,
        platform="sip_trunk",
        registrations=tuple(regs),
        extensions=tuple(extensions),
        media=MediaPorts(*source.rtp_range, capacity=relay.capacity, in_use=len(relay.legs)),
        extra={
            # What a phone is set to: the address phones reach (not 0.0.0.0) and the port.
            "listen": f"{format_host(source.addresses.for_peer(''))}:{source.transport.port or source.port}",
            "calls": source.active_calls(),
        },
    )
