"""The carrier side of one ``sip_trunk`` source: the DDI trunk, or one account per number.

``trunk:`` is one registration serving every line (the line of an inbound call is read
from To / Request-URI / ``line_header``); ``accounts:`` is one registration per line, each
with its own credentials, refresh and backoff.  :class:`Carrier` holds either and answers
the two questions the B2BUA asks: *is this INVITE from the carrier, and for which line?*
and *which registration does a call on this line leave through?*
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from salvesti.core.protocols.sip.message import SipRequest
from salvesti.integrations.sip import routing
from salvesti.integrations.sip.locator import SipLocator
from salvesti.integrations.sip.trunk import TrunkClient

Addr = tuple[str, int]
StatusCallback = Callable[[TrunkClient, str, str | None], None]


@dataclass(frozen=True)
class InboundMatch:
    """An INVITE from the carrier: the registration it came for (None: for none of ours)."""

    client: TrunkClient | None
    line: str | None


class Carrier:
    """Every carrier registration of one source."""

    def __init__(self, clients: list[TrunkClient], *, line_header: str | None = None) -> None:
        self.clients = clients
        self.line_header = line_header

    @classmethod
    def from_config(
        cls,
        conf: dict[str, Any],
        *,
        transport: Any,
        contact_host: Callable[[str], str],
        label: str,
        on_status: StatusCallback,
        external_configured: bool = False,
        locator: SipLocator | None = None,
        resolve_path: Callable[[str], Path] = Path,
    ) -> Carrier:
        """A client for ``trunk:`` or one per ``accounts:`` item (the schema allows one of them)."""
        items = list(conf.get("accounts") or []) or ([conf["trunk"]] if conf.get("trunk") else [])
        clients = [
            TrunkClient(
                item,
                transport=transport,
                contact_host=contact_host,
                label=label,
                on_status=on_status,
                external_configured=external_configured,
                locator=locator,
                resolve_path=resolve_path,
            )
            for item in items
        ]
        return cls(clients, line_header=(conf.get("trunk") or {}).get("line_header"))

    def __bool__(self) -> bool:
        return bool(self.clients)

    @property
    def trunk(self) -> TrunkClient | None:
        """The DDI trunk, when the source has ``trunk:`` rather than ``accounts:``."""
        return self.clients[0] if self.clients and self.clients[0].line is None else None

    def for_line(self, line: str | None) -> TrunkClient | None:
        """The registration a call on ``line`` goes out through."""
        if self.trunk is not None:
            return self.trunk
        return next((c for c in self.clients if c.line == line), None)

    # -- inbound ---------------------------------------------------------------------------
    def inbound(
        self, request: SipRequest, addr: Addr, lines: list[str], normalize: routing.Normalize
    ) -> InboundMatch | None:
        """None when the INVITE is not from any carrier address; else its registration and line.

        An account's calls arrive at the Contact it registered, whose user part is its
        ``username``: that is matched first; then To (a carrier that keeps the dialled
        number there); then, with one account at that address, that account.
        """
        candidates = [c for c in self.clients if c.peers.contains(*addr)]
        if not candidates:
            return None
        trunk = self.trunk
        if trunk is not None:
            return InboundMatch(trunk, routing.inbound_line(request, lines, self.line_header, normalize))
        ruri_user = routing.strip_user(routing.uri_user(request.uri))
        for client in candidates:
            if ruri_user == client.contact_user:
                return InboundMatch(client, client.line)
        to_user = routing.strip_user(routing.uri_user(request.headers.get("To")))
        for client in candidates:
            if to_user == client.username or (to_user and normalize(to_user) == client.line):
                return InboundMatch(client, client.line)
        if len(candidates) == 1:
            return InboundMatch(candidates[0], candidates[0].line)
        return InboundMatch(None, None)

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self, create_task: Callable[..., asyncio.Task[Any]]) -> None:
        for client in self.clients:
            await client.resolve_peers()
            client.start(create_task)

    async def stop(self) -> None:
        await asyncio.gather(*(client.stop() for client in self.clients))

    def statuses(self) -> list[dict[str, Any]]:
        return [client.status_dict() for client in self.clients]
