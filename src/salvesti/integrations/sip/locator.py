"""Asking DNS where a carrier's SIP servers are (RFC 3263): NAPTR, SRV, then A/AAAA.

The order of the answers is ``core.protocols.sip.locate``'s; this module only asks, with
dnspython's asyncio resolver, so the event loop never blocks on a slow name server.  The
resolver is the system's (``/etc/resolv.conf``) unless the source names ``nameservers``
(a split-horizon server, or a test's server on loopback).  DNS trouble is never fatal
here: a NAPTR or SRV question that fails or times out is treated as "none", and the host
name itself is then resolved as before; only a name with no address at all fails (OSError).
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from collections.abc import Callable

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.rdata
import dns.rdatatype
import dns.resolver

from salvesti.core.protocols.sip.locate import (
    Naptr,
    Srv,
    default_port,
    is_numeric,
    naptr_srv_names,
    needs_srv,
    order_srv,
    srv_name,
)
from salvesti.integrations.sip.schema import split_hostport

_LOGGER = logging.getLogger(__name__)

Addr = tuple[str, int]
#: Seconds a whole DNS question may take (every server and retry included).
TIMEOUT = 3.0


def nameserver(text: str) -> dns.nameserver.Do53Nameserver:
    """``ip`` or ``ip:port`` / ``[v6]:port`` as a plain-DNS server; ValueError otherwise."""
    host, port = split_hostport(text, default_port=53)
    if not is_numeric(host):
        raise ValueError(f"a name server is an IP address (optionally :port), not {text!r}")
    return dns.nameserver.Do53Nameserver(host, port or 53)


class SipLocator:
    """Where to send SIP for ``host[:port]``: every address, in the order to try them."""

    def __init__(
        self,
        nameservers: list[str] | None = None,
        *,
        timeout: float = TIMEOUT,
        pick: Callable[[int], int] = lambda n: random.randint(0, n),  # a load split, not a secret
    ) -> None:
        self.nameservers = list(nameservers or [])
        self.timeout = timeout
        self._pick = pick
        self._resolver: dns.asyncresolver.Resolver | None = None

    def _dns(self) -> dns.asyncresolver.Resolver | None:
        """The resolver, made on first use (reading resolv.conf then, not at import)."""
        if self._resolver is None:
            try:
                if self.nameservers:
                    resolver = dns.asyncresolver.Resolver(configure=False)
                    resolver.nameservers = [nameserver(n) for n in self.nameservers]
                else:
                    resolver = dns.asyncresolver.Resolver()
            except dns.resolver.NoResolverConfiguration:
                return None  # no name servers known: A/AAAA through getaddrinfo only
            resolver.lifetime = self.timeout
            self._resolver = resolver
        return self._resolver

    async def locate(self, hostport: str, transport: str = "udp") -> list[Addr]:
        host, port = split_hostport(hostport, default_port=None)
        if not needs_srv(host, port):
            return await self.addresses(host, port or default_port(transport), transport)
        out: list[Addr] = []
        for record in await self.srv_records(host, transport):
            for addr in await self._addresses_or_none(record.target, record.port, transport):
                if addr not in out:
                    out.append(addr)
        if out:
            return out
        return await self.addresses(host, default_port(transport), transport)

    async def srv_records(self, host: str, transport: str) -> list[Srv]:
        """NAPTR → SRV names for ``transport`` (or the host's ``_sip._<transport>``), ordered."""
        names = naptr_srv_names(await self._naptr(host), transport) or [srv_name(host, transport)]
        records: list[Srv] = []
        for name in names:
            found = [
                Srv(r.priority, r.weight, r.port, r.target.to_text())
                for r in await self._query(name, dns.rdatatype.SRV)
            ]
            records += order_srv(found, self._pick)
        if records:
            _LOGGER.debug("%s: SRV %s", host, [(r.target, r.port) for r in records])
        return records

    async def _naptr(self, host: str) -> list[Naptr]:
        return [
            Naptr(
                r.order,
                r.preference,
                r.flags.decode("ascii", "replace"),
                r.service.decode("ascii", "replace"),
                r.replacement.to_text(),
            )
            for r in await self._query(host, dns.rdatatype.NAPTR)
        ]

    async def _query(self, name: str, kind: dns.rdatatype.RdataType) -> list[dns.rdata.Rdata]:
        resolver = self._dns()
        if resolver is None:
            return []
        try:
            answer = await resolver.resolve(name, kind, raise_on_no_answer=False)
        except dns.exception.DNSException as err:  # NXDOMAIN, timeout, no servers
            _LOGGER.debug("DNS %s %s: %s", dns.rdatatype.to_text(kind), name, err)
            return []
        return list(answer.rrset or [])

    async def _addresses_or_none(self, host: str, port: int, transport: str) -> list[Addr]:
        try:
            return await self.addresses(host, port, transport)
        except OSError as err:
            _LOGGER.info("SRV target %s does not resolve: %s", host, err)
            return []

    async def addresses(self, host: str, port: int, transport: str) -> list[Addr]:
        """A/AAAA of ``host`` (a numeric host is itself): through the configured name servers
        when there are any, else (or when they know nothing) through the system's resolver."""
        host = host.rstrip(".").strip("[]")
        if is_numeric(host):
            return [(host, port)]
        if self.nameservers:
            out = [
                (r.to_text(), port)
                for kind in (dns.rdatatype.A, dns.rdatatype.AAAA)
                for r in await self._query(host, kind)
            ]
            if out:
                return out
        return await system_addresses(host, port, transport)


async def system_addresses(host: str, port: int, transport: str = "udp") -> list[Addr]:
    """Every IPv4/IPv6 address of ``host`` from the system's resolver (hosts file, DNS),
    asked off the event loop (``loop.getaddrinfo``); OSError when it has none."""
    loop = asyncio.get_running_loop()
    kind = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
    infos = await loop.getaddrinfo(host, port, type=kind)
    found: list[Addr] = []
    for info in infos:
        addr = (str(info[4][0]), int(info[4][1]))
        if addr not in found:
            found.append(addr)
    return found
