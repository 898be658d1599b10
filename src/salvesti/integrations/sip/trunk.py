"""One registration with the carrier: REGISTER with digest, refresh, backoff.

A :class:`TrunkClient` is either the source's DDI ``trunk:`` (one account for every line)
or one of its ``accounts:`` (one carrier account per number, ``line`` set); the source
holds them in a :class:`~salvesti.integrations.sip.carrier.Carrier`.  The carrier is the
line to the outside world, so a failure here must never stop the source: it keeps the
phones' side running, reports the registration's state (``on_status``) and retries with
backoff (5 s doubling to 5 min) for as long as it runs, each account on its own.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from salvesti.core.errors import SalvestiError
from salvesti.core.protocols.sip.digest import authorization_for, pick_challenge
from salvesti.core.protocols.sip.events import ResponseReceived, TransactionTimeout, TransportFailed
from salvesti.core.protocols.sip.headers import Headers
from salvesti.core.protocols.sip.locate import default_port
from salvesti.core.protocols.sip.message import SipRequest, make_via, new_call_id, new_tag
from salvesti.core.protocols.sip.nat import learned_address
from salvesti.core.protocols.sip.uri import format_host
from salvesti.integrations.sip.keepalive import KeepAlive
from salvesti.integrations.sip.locator import SipLocator, system_addresses
from salvesti.integrations.sip.routing import TrunkAddresses
from salvesti.integrations.sip.schema import split_hostport
from salvesti.integrations.sip.tls import TlsPeer, client_context

_LOGGER = logging.getLogger(__name__)

RETRY_FIRST = 5.0
RETRY_MAX = 300.0

Addr = tuple[str, int]


class Unavailable(RuntimeError):
    """A carrier server answered 503: the next server may serve (RFC 3263 §4.3)."""


@dataclass(frozen=True)
class RegisterAnswer:
    """The carrier's final answer to one REGISTER (for diagnostics): ``at`` is wall-clock
    seconds (``time.time()``), so a person can be told when it was."""

    status: int
    reason: str
    at: float


class TlsFailed(OSError):
    """The carrier could not be reached over TLS: handshake or certificate check failed."""



async def resolve(hostport: str, transport: str = "udp") -> list[Addr]:
    """All IPv4/IPv6 addresses of ``host[:port]`` (5060, or 5061 for TLS, when not given)."""
    host, port = split_hostport(hostport, default_port(transport))
    return await system_addresses(host, port or default_port(transport), transport)


async def resolve_names(peers: TrunkAddresses, label: str) -> None:
    """Resolve the host names among ``peers``' items: ``host:port`` into exact peers,
    a bare ``host`` into addresses (any port).  A name that does not resolve is logged."""
    for name in peers.names:
        try:
            for ip, port in await resolve(name):
                if ":" in name and not name.startswith("["):
                    peers.exact.add((ip, port))
                else:
                    peers.resolved.add(ip)
        except (OSError, ValueError) as err:
            _LOGGER.warning("%s: cannot resolve %s: %s", label, name, err)


class TrunkClient:
    """One carrier account's settings as the B2BUA needs them, plus its registration loop.

    ``contact_host(peer)`` is the address the carrier can reach us at (looked up per
    registrar, so two carriers on two networks each get the right one); ``on_status`` is
    told every change of this registration's state.
    """

    def __init__(
        self,
        conf: dict[str, Any],
        *,
        transport: Any,
        contact_host: Callable[[str], str],
        label: str,
        on_status: Callable[[TrunkClient, str, str | None], None],
        external_configured: bool = False,
        wall: Callable[[], float] = time.time,
        locator: SipLocator | None = None,
        resolve_path: Callable[[str], Path] = Path,
    ) -> None:
        self.conf = conf
        #: NAPTR/SRV/A lookups of the registrar and ``outbound_proxy`` (RFC 3263).
        self.locator = locator or SipLocator()
        self._wall = wall
        self.transport = transport
        self._contact_host = contact_host
        self.on_status = on_status
        #: The account's own line (``accounts:``); None for a DDI trunk, which serves every line.
        self.line: str | None = conf.get("line")
        self.name = f"account {self.line}" if self.line else "trunk"
        self.label = label
        #: The carrier's addresses: INVITEs from them are calls from the outside world.
        self.peers = TrunkAddresses(conf.get("inbound_from", []))
        self.sip_transport: str = conf.get("transport", "udp")
        self.registrar_host, self.registrar_port = split_hostport(
            conf["registrar"], default_port(self.sip_transport)
        )
        #: For ``transport: tls``: what the carrier's certificate is checked against.
        self.tls: TlsPeer | None = self._tls_peer(conf, resolve_path) if self.sip_transport == "tls" else None
        #: ``srtp: sdes``: the carrier leg's media is SRTP, keys in the SDP (``srtp.py``).
        self.srtp: bool = conf.get("srtp", "off") == "sdes"
        self.domain: str = conf.get("domain") or self.registrar_host
        self.username: str = conf["username"]
        self.auth_username: str = conf.get("auth_username") or self.username
        self.password: str = conf["password"]
        self.expires: int = conf.get("expires", 300)
        self.status = "not_registered"
        self.reason: str | None = None
        self.addresses: list[Addr] = []
        self.registrations = 0
        #: The carrier's last final answer to a REGISTER (any status), once it answered.
        self.last_answer: RegisterAnswer | None = None
        #: When the latest REGISTER exchange began (wall clock): an answer older than it
        #: means the carrier did not answer that one.
        self.last_attempt_at: float | None = None
        #: When the carrier last accepted our binding (wall clock) and for how many seconds.
        self.registered_at: float | None = None
        self.granted: int | None = None
        self._call_id = new_call_id("salvesti")  # no DNS lookup while the hub is being built
        self._from_tag = new_tag()
        self._cseq = 0
        self._task: asyncio.Task[None] | None = None
        self._keepalive: asyncio.Task[None] | None = None
        self.keepalive: KeepAlive | None = None
        #: Our address as the carrier sees it (from its answers' Via), once learned; the
        #: Contact only without ``external_address``.
        self.public: Addr | None = None
        #: ``external_address`` is set: it is the Contact, whatever the carrier says.
        self.external_configured: bool = external_configured
        self._retry = RETRY_FIRST
        #: The server that last answered (anything but 503): tried first next time, and
        #: where calls go, so REGISTER and INVITE reach the same one of several SRV targets.
        self._answered: Addr | None = None
        self._hops: list[Addr] = []

    def _tls_peer(self, conf: dict[str, Any], resolve_path: Callable[[str], Path]) -> TlsPeer:
        ca_file = conf.get("tls_ca_file")
        path = str(resolve_path(ca_file)) if ca_file else None
        try:
            context = client_context(path)
        except (OSError, ssl.SSLError) as err:
            raise SalvestiError(f"{self.label}: {self.name}: cannot load tls_ca_file {path}: {err}") from err
        return TlsPeer(conf.get("tls_server_name") or self.registrar_host, context)

    @property
    def uri_params(self) -> str:
        """``;transport=tls`` / ``;transport=tcp`` for our URIs (nothing for UDP)."""
        return f";transport={self.sip_transport}" if self.sip_transport != "udp" else ""

    def _port_suffix(self) -> str:
        usual = default_port(self.sip_transport)
        return f":{self.registrar_port}" if self.registrar_port not in (None, usual) else ""

    def contact_host(self, hop: Addr) -> str:
        """Our address as seen from ``hop`` (an IP: the lookup never touches DNS)."""
        return self._contact_host(hop[0])

    # -- where things go -----------------------------------------------------------------------
    async def refresh_addresses(self) -> list[Addr]:
        """Locate the registrar (and outbound proxy): the trunk's own addresses, every SRV
        target included, and the order to send to them (the proxy's when there is one)."""
        if not self.conf.get("outbound_proxy"):
            addrs = hops = await self.locator.locate(self.conf["registrar"], self.sip_transport)
        else:
            hops = await self.locator.locate(self.conf["outbound_proxy"], self.sip_transport)
            try:  # behind a proxy the registrar may be a name only the carrier's side resolves
                addrs = await self.locator.locate(self.conf["registrar"], self.sip_transport)
            except OSError as err:
                _LOGGER.debug("%s: %s: registrar %s: %s", self.label, self.name, self.conf["registrar"], err)
                addrs = []
            addrs = addrs + [a for a in hops if a not in addrs]
        self.addresses = addrs
        self._hops = hops
        self.peers.exact.update(addrs)
        if self.tls is not None:
            for addr in addrs:
                self.transport.tls.expect(addr, self.tls)
        return addrs

    def hops(self) -> list[Addr]:
        """Where requests to the carrier go, in the order to try them: the server that
        answered last, then the rest in DNS order."""
        hops = list(self._hops)
        if self._answered in hops:
            hops.remove(self._answered)
            hops.insert(0, self._answered)
        return hops

    async def resolve_peers(self) -> None:
        """The registrar's addresses and ``inbound_from`` names, resolved into ``peers``.

        Failures are logged, not raised: an unreachable carrier is retried by the loop.
        """
        try:
            await self.refresh_addresses()
        except OSError as err:
            _LOGGER.warning("%s: cannot resolve the %s: %s (will retry)", self.label, self.name, err)
        await resolve_names(self.peers, self.label)

    async def next_hop(self) -> Addr:
        """Where requests to the trunk are sent: the outbound proxy, else the registrar
        (the SRV target that answered last, once one did)."""
        if not self._hops:
            await self.refresh_addresses()
        hops = self.hops()
        if not hops:
            target = self.conf.get("outbound_proxy") or self.conf["registrar"]
            raise OSError(f"{target} does not resolve")
        return hops[0]

    def fallback_hop(self, failed: Addr) -> Addr | None:
        """The target after ``failed`` in :meth:`hops` order (None after the last)."""
        hops = self.hops()
        if failed not in hops:
            return None
        index = hops.index(failed) + 1
        return hops[index] if index < len(hops) else None

    def request_uri(self, user: str) -> str:
        return f"sip:{user}@{self.registrar_host}{self._port_suffix()}{self.uri_params}"

    @property
    def contact_user(self) -> str:
        """The user part of our Contact: the carrier sends this account's calls to it."""
        return self.username

    def from_header(self, line: str | None) -> str:
        """Who an outbound call is from: an account is always itself; a DDI trunk names the
        line the call is on (or ``from_user``)."""
        if self.line is not None:
            user = self.conf.get("from_user") or self.username
        else:
            user = self.conf.get("from_user") or line or self.username
        return f"<sip:{user}@{self.domain}>"

    def to_header(self, target: str) -> str:
        return f"<sip:{target}@{self.domain}>"

    def describe(self) -> dict[str, Any]:
        """What an outbound call's record says about the way it went out."""
        return {"via": "account" if self.line else "trunk", "username": self.username}

    def status_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "username": self.username,
            "status": self.status,
            "reason": self.reason,
            "registrations": self.registrations,
        }

    def authorize(self, request: SipRequest, response: Any) -> bool:
        """Add credentials for a 401/407 to ``request``; False when none can be made."""
        name = "WWW-Authenticate" if response.status == 401 else "Proxy-Authenticate"
        challenges = response.headers.get_all(name)
        if not challenges:
            return False
        try:
            challenge = pick_challenge(challenges)
            value = authorization_for(
                challenge,
                method=request.method,
                uri=request.uri,
                username=self.auth_username,
                password=self.password,
                body=request.body,
            )
        except ValueError:
            return False
        header = "Authorization" if response.status == 401 else "Proxy-Authorization"
        request.headers.remove(header)
        request.headers.add(header, value)
        return True

    # -- registration loop ---------------------------------------------------------------------
    def start(self, create_task: Callable[..., asyncio.Task[Any]]) -> None:
        if self.conf.get("register", True):
            self._task = create_task(self._run(), f"{self.label} {self.name} registration")
        else:
            self._set("not_registering", "register: false (the trunk authenticates by address)")
        interval = float(self.conf.get("keepalive", 25))
        if interval:
            self.keepalive = KeepAlive(self, interval, self.conf.get("keepalive_method", "crlf"))
            self._keepalive = create_task(self.keepalive.run(), f"{self.label} {self.name} keep-alive")

    # -- NAT ---------------------------------------------------------------------------------------
    def keepalive_wanted(self) -> bool:
        """Keep the NAT mapping open while the carrier may send us calls."""
        return self.status == "registered" or not self.conf.get("register", True)

    def keepalive_uris(self, hop: Addr) -> tuple[str, str, Addr]:
        local = (self.contact_host(hop), self.transport.port)
        uri = f"sip:{self.registrar_host}{self._port_suffix()}{self.uri_params}"
        return uri, f"sip:{self.username}@{self.domain}", local

    def contact_address(self, hop: Addr) -> Addr:
        """Where the carrier should send calls: ``external_address`` if configured, else the
        address the carrier saw our last REGISTER come from (``received``/``rport``), else
        our own address toward it."""
        if self.public is not None and not self.external_configured:
            return self.public
        return self.contact_host(hop), self.transport.port

    def _learn(self, response: Any, used: Addr) -> bool:
        """Take the public address from a REGISTER answer; True when the Contact we just
        registered (``used``) is not it, so the binding must be renewed with the right one."""
        seen = learned_address(response)
        if seen is None:
            return False
        if seen != self.public:
            _LOGGER.info("%s: %s: the carrier sees us at %s:%s", self.label, self.name, *seen)
        # Kept with ``external_address`` too (diagnostics compares the two), never used then.
        self.public = seen
        return seen != used and not self.external_configured

    async def stop(self) -> None:
        for task in (self._task, self._keepalive):
            if task is not None:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        self._task = self._keepalive = None
        if self.status == "registered":
            try:
                await asyncio.wait_for(self._register(0), 2.0)
            except (TimeoutError, OSError, RuntimeError):
                pass

    async def _run(self) -> None:
        while True:
            try:
                granted = await self._register(self.expires)
            except asyncio.CancelledError:
                raise
            except Exception as err:
                # Said once per answer: the same refusal every 5 min is not news.
                log = _LOGGER.warning if str(err) != self.reason else _LOGGER.debug
                self._set("tls_failed" if isinstance(err, TlsFailed) else "failed", str(err))
                log("%s: %s REGISTER failed: %s; retrying in %.0f s", self.label, self.name, err, self._retry)
                await asyncio.sleep(self._retry)
                self._retry = min(self._retry * 2, RETRY_MAX)
                continue
            self._retry = RETRY_FIRST
            await asyncio.sleep(refresh_after(granted))

    def _set(self, status: str, reason: str | None) -> None:
        changed = status != self.status or reason != self.reason
        self.status, self.reason = status, reason
        if changed:
            self.on_status(self, status, reason)

    def _build_register(self, expires: int, hop: Addr) -> SipRequest:
        self._cseq += 1
        contact = self.contact_address(hop)
        h = Headers()
        h.add("Via", make_via(self.sip_transport, self.contact_host(hop), self.transport.port))
        h.add("Max-Forwards", "70")
        h.add("From", f"<sip:{self.username}@{self.domain}>;tag={self._from_tag}")
        h.add("To", f"<sip:{self.username}@{self.domain}>")
        h.add("Call-ID", self._call_id)
        h.add("CSeq", f"{self._cseq} REGISTER")
        tp = self.uri_params
        h.add("Contact", f"<sip:{self.username}@{format_host(contact[0])}:{contact[1]}{tp}>")
        h.add("Expires", str(expires))
        h.add("User-Agent", "Salvesti")
        return SipRequest("REGISTER", f"sip:{self.registrar_host}{self._port_suffix()}{tp}", h)

    def _next_attempt(self, request: SipRequest, hop: Addr) -> None:
        """The same REGISTER once more (after a challenge or 423): next CSeq, new branch."""
        self._cseq += 1
        request.headers.set("CSeq", f"{self._cseq} REGISTER")
        request.headers.remove_first("Via")
        via = make_via(self.sip_transport, self.contact_host(hop), self.transport.port)
        request.headers.add("Via", via, first=True)

    async def register_once(self, expires: int) -> int:
        """One REGISTER exchange (digest included) without the retry loop; the granted expiry.

        Raises OSError when the registrar cannot be reached and RuntimeError with the
        carrier's answer when it refuses; the setup wizard's credential probe uses it so
        that it tries the credentials exactly as the running source will.
        """
        return await self._register(expires)

    async def _register(self, expires: int, *, relearned: bool = False) -> int:
        """One REGISTER exchange (with one digest round); returns the granted expiry.

        A server that does not answer (or cannot be reached) or answers 503 is left for the
        next of the registrar's (or proxy's) SRV targets, RFC 3263 §4.3; the last one's
        failure is the registration's."""
        self.last_attempt_at = self._wall()
        await self.refresh_addresses()
        hops = self.hops()
        if not hops:
            raise OSError(f"{self.conf.get('outbound_proxy') or self.conf['registrar']} does not resolve")
        for hop in hops[:-1]:
            try:
                return await self._register_at(hop, expires, relearned)
            except (OSError, Unavailable) as err:
                _LOGGER.warning("%s: %s: %s:%s: %s; trying the next server", self.label, self.name, *hop, err)
        return await self._register_at(hops[-1], expires, relearned)

    async def _register_at(self, hop: Addr, expires: int, relearned: bool) -> int:
        request = self._build_register(expires, hop)
        registered_contact = self.contact_address(hop)
        for attempt in range(3):
            response = await self._exchange(request, hop)
            answer = self.last_answer = RegisterAnswer(response.status, response.reason, self._wall())
            if response.status in (401, 407) and attempt < 2:
                if not self.authorize(request, response) or (attempt == 1 and not _is_stale(response)):
                    raise RuntimeError(f"{response.status} {response.reason}: credentials refused")
                self._next_attempt(request, hop)
                continue
            if response.status == 423 and attempt < 2:
                min_expires = response.headers.get("Min-Expires") or ""
                if min_expires.strip().isdigit():
                    request.headers.set("Expires", min_expires.strip())
                    expires = int(min_expires)
                    self._next_attempt(request, hop)
                    continue
            if 200 <= response.status < 300:
                self._answered = hop
                granted = _granted(response, expires)
                if self._learn(response, registered_contact) and expires and not relearned:
                    # Registered behind NAT with an address the carrier cannot reach:
                    # register the public one now rather than lose calls until the refresh.
                    return await self._register(expires, relearned=True)
                if expires:
                    self.registrations += 1
                    self.registered_at, self.granted = answer.at, granted
                    if self.status != "registered":
                        _LOGGER.info(
                            "%s: %s registered at %s for %d s", self.label, self.name, hop[0], granted
                        )
                    self._set("registered", None)
                else:
                    self.registered_at = self.granted = None
                    self._set("not_registered", "unregistered")
                return granted
            if response.status == 503:
                raise Unavailable(f"{response.status} {response.reason}")
            self._answered = hop
            raise RuntimeError(f"{response.status} {response.reason}")
        raise RuntimeError("registration did not complete")

    async def _exchange(self, request: SipRequest, hop: Addr) -> Any:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()

        def on_event(event: Any) -> None:
            if done.done():
                return
            if isinstance(event, ResponseReceived) and event.response.status >= 200:
                done.set_result(event.response)
            elif isinstance(event, TransactionTimeout):  # TransportFailed included
                # A failed TLS handshake is a failed connect too: say which, it is the fix.
                tls_failure = self.transport.tls.failure(hop) if self.tls is not None else None
                if tls_failure is not None:
                    done.set_exception(TlsFailed(tls_failure))
                elif isinstance(event, TransportFailed):
                    done.set_exception(OSError(f"cannot reach {hop[0]}:{hop[1]} over {self.sip_transport}"))
                else:
                    done.set_exception(OSError(f"no answer from {hop[0]}:{hop[1]}"))

        txn = self.transport.send_request(request, hop, self.sip_transport)
        txn.user_data = on_event
        return await done


def refresh_after(granted: int) -> float:
    """Seconds until the next REGISTER: at 80 % of the expiry the carrier granted, at half
    of a short one (under 50 s), so even a carrier granting 3 s is refreshed in time."""
    return max(granted * (0.8 if granted >= 50 else 0.5), 1.0)


def _is_stale(response: Any) -> bool:
    return any(
        "stale=true" in v.lower().replace(" ", "") for v in response.headers.get_all("WWW-Authenticate")
    )


def _granted(response: Any, asked: int) -> int:
    for value in response.headers.get_all("Contact"):
        low = value.lower()
        if "expires=" in low:
            text = low.split("expires=", 1)[1].split(";")[0].split(",")[0].strip()
            if text.isdigit():
                return int(text)
    header = response.headers.get("Expires")
    if header and header.strip().isdigit():
        return int(header)
    return asked
