"""Locating a SIP server (RFC 3263 §4) from DNS answers, sans-IO.

The asyncio side (``integrations/sip/locator.py``) asks DNS; what to ask next and in which
order to try the answers is decided here, so it is tested without a network:

- a numeric host, or a host with an explicit port, is used as it is (A/AAAA only);
- else NAPTR records whose service matches our transport lead to SRV names;
- else (no NAPTR) the ``_sip._udp`` / ``_sip._tcp`` SRV name of the host is asked;
- SRV targets are tried by priority, and within a priority in RFC 2782's weighted random
  order, so a carrier's load split is honoured; a target ``.`` means "no service here";
- with no SRV at all the host itself on port 5060 (A/AAAA).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_PORT = 5060
DEFAULT_TLS_PORT = 5061
#: NAPTR services per transport (RFC 3263 §4.1): TLS is SIPS over TCP.
NAPTR_SERVICES = {"udp": "SIP+D2U", "tcp": "SIP+D2T", "tls": "SIPS+D2T"}


def default_port(transport: str) -> int:
    """RFC 3263 §4.2: 5061 for TLS, 5060 otherwise (when neither the URI nor SRV says)."""
    return DEFAULT_TLS_PORT if transport.lower() == "tls" else DEFAULT_PORT


@dataclass(frozen=True)
class Srv:
    priority: int
    weight: int
    port: int
    target: str


@dataclass(frozen=True)
class Naptr:
    order: int
    preference: int
    flags: str
    service: str
    replacement: str


def is_numeric(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def needs_srv(host: str, port: int | None) -> bool:
    """RFC 3263 §4.2: only a host name without a port is looked up with NAPTR/SRV."""
    return port is None and not is_numeric(host)


def srv_name(host: str, transport: str) -> str:
    """``_sip._udp.HOST`` / ``_sip._tcp.HOST``; TLS is ``_sips._tcp.HOST`` (RFC 3263 §4.1)."""
    if transport.lower() == "tls":
        return f"_sips._tcp.{host.rstrip('.')}"
    return f"_sip._{transport.lower()}.{host.rstrip('.')}"


def naptr_srv_names(records: list[Naptr], transport: str) -> list[str]:
    """The SRV names NAPTR points to for ``transport``, best first (order, then preference);
    only terminal ``S`` records whose service we speak."""
    wanted = NAPTR_SERVICES.get(transport.lower())
    usable = [r for r in records if r.flags.lower() == "s" and r.service.upper() == wanted]
    usable.sort(key=lambda r: (r.order, r.preference))
    names: list[str] = []
    for record in usable:
        name = record.replacement.rstrip(".")
        if name and name not in names:
            names.append(name)
    return names


def order_srv(records: list[Srv], pick: Callable[[int], int]) -> list[Srv]:
    """RFC 2782 order: ascending priority; within one, repeatedly choose by weight (``pick(n)``
    returns a number in 0..n, e.g. ``random.randint(0, n)``; weight-0 records come first in
    the running sum, so they are chosen only when the pick is 0 or nothing else is left).
    Records whose target is ``.`` are dropped: the domain says it has no such service."""
    out: list[Srv] = []
    live = [r for r in records if r.target.rstrip(".")]
    for priority in sorted({r.priority for r in live}):
        group = sorted((r for r in live if r.priority == priority), key=lambda r: r.weight != 0)
        while group:
            total = sum(r.weight for r in group)
            chosen = pick(total)
            running = 0
            for index, record in enumerate(group):
                running += record.weight
                if running >= chosen:
                    out.append(group.pop(index))
                    break
    return out
