"""The ``sip_trunk`` call source: the component the hub sets up, stops and unloads.

It owns one SIP listening address (UDP and TCP), one RTP relay, the phones' registrar,
the trunk registration and the B2BUA.  Setup refuses a line that would be recorded with
no notice unless ``no_notice`` says why; the trunk being unreachable is not a setup error
(the phones' side keeps working and the registration keeps retrying).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from salvesti.core import bus as events
from salvesti.core import control
from salvesti.core.call import Call, Direction
from salvesti.core.components import AgentLink
from salvesti.core.diagnostics import SourceDiagnostics
from salvesti.core.errors import SalvestiError
from salvesti.core.protocols.sip.digest import DigestServer
from salvesti.core.protocols.sip.session_timer import MIN_SE
from salvesti.core.provisioning import ProvisioningPlan
from salvesti.core.test_call import DEFAULT_SECONDS, TestTarget
from salvesti.integrations.sip.addresses import LocalAddresses
from salvesti.integrations.sip.b2bua import B2BUA
from salvesti.integrations.sip.call import CODECS
from salvesti.integrations.sip.carrier import Carrier
from salvesti.integrations.sip.diagnostics import source_diagnostics
from salvesti.integrations.sip.extension_bridge import ExtensionBridge, ring_for
from salvesti.integrations.sip.flows import Flows
from salvesti.integrations.sip.gateways import Gateways
from salvesti.integrations.sip.locator import SipLocator
from salvesti.integrations.sip.media import MediaRelay
from salvesti.integrations.sip.native import load_core
from salvesti.integrations.sip.provisioning import provisioning_plan
from salvesti.integrations.sip.registrar import Registrar
from salvesti.integrations.sip.route import OutboundRoute
from salvesti.integrations.sip.schema import notice_problems, split_hostport
from salvesti.integrations.sip.security import Authenticator, SecurityGuard
from salvesti.integrations.sip.session_timers import SessionTimers
from salvesti.integrations.sip.signalling import Signaller
from salvesti.integrations.sip.transport import SipTransport
from salvesti.integrations.sip.trunk import TrunkClient

_LOGGER = logging.getLogger(__name__)


class SipTrunkSource:
    """Implements ``core.components.CallSource`` for SIP phones and a SIP trunk."""

    def __init__(self, hub: Any, conf: dict[str, Any]) -> None:
        self.hub = hub
        self.conf = conf
        self.id: str = conf["id"]
        self.label = f"sip_trunk({self.id})"
        self.host, port = split_hostport(conf.get("listen", "0.0.0.0:5060"))
        self.port: int = port or 5060
        low, high = (int(p) for p in conf.get("rtp_ports", "10000-10999").split("-"))
        self.rtp_range = (low, high)
        self.lines: list[str] = list(conf.get("lines", []))
        self.extensions: dict[str, dict[str, Any]] = {e["user"]: e for e in conf.get("extensions", [])}
        self.inbound: dict[str, list[str]] = dict(conf.get("inbound", {}))
        self.no_notice: dict[str, str] = dict(conf.get("no_notice", {}))
        self.notice_mode: str = conf.get("notice_mode", "answer")
        self.record_internal: bool = conf.get("record_internal", False)
        self.no_answer_timeout: float = conf.get("no_answer_timeout", 45)
        self.codecs = [CODECS[name] for name in conf.get("codecs", ["PCMU", "PCMA"])]
        self.advertise: str | None = conf.get("advertise")
        self.external: str | None = conf.get("external_address")
        self.addresses = LocalAddresses(self.host, advertise=self.advertise, external=self.external)
        sec = conf.get("security", {})
        self.guard = SecurityGuard(sec.get("max_failures", 5), sec.get("window", 60), sec.get("lockout", 300))
        realm = conf.get("realm") or f"salvesti-{self.id}"
        self.digest = DigestServer(realm, conf.get("digest_algorithms", ["MD5", "SHA-256"]))
        passwords = {user: e["password"] for user, e in self.extensions.items()}
        self.auth = Authenticator(self.digest, passwords, self.guard, self.label)
        self.registrar = Registrar(self.auth, self.label)
        #: Hardware gateways: they register like phones (digest users of the registrar) or are
        #: trusted by address; their lines are not the carrier's.
        self.gateways = Gateways.from_config(conf, self.registrar, hub.default_country)
        passwords.update(self.gateways.passwords())
        self.carrier_lines = [line for line in self.lines if line not in self.gateways.lines]
        self.b2bua = B2BUA(self)
        self.flows = Flows(self)
        self.transport = SipTransport(self.host, self.port, self.b2bua.handle_event, label=self.label)
        self.signaller = Signaller(self.transport)
        self.session_timers = SessionTimers(
            self.signaller,
            lambda leg: (self.b2bua.dialogs.get((leg.call_id, leg.local_tag)) or (None, None))[0],
            min_se=conf.get("session_min_se", MIN_SE),
            label=self.label,
        )
        self.signaller.timers = self.session_timers
        # SALVESTI_MEDIA_CORE overrides the config, so one test suite can run on both paths.
        self.media_core: str = os.environ.get("SALVESTI_MEDIA_CORE") or conf.get("media_core", "auto")
        workers = os.environ.get("SALVESTI_MEDIA_WORKERS") or conf.get("media_workers", "auto")
        self.relay = MediaRelay(self.host, low, high, native=load_core(self.media_core, workers))
        #: The carrier registrations: the DDI ``trunk:`` or one per ``accounts:`` item.
        self.carrier = Carrier.from_config(
            conf,
            transport=self.transport,
            contact_host=lambda peer: self.local_address(peer, outside=True),
            label=self.label,
            on_status=self._registration_status,
            external_configured=bool(self.external),
            locator=SipLocator(conf.get("nameservers")),
            resolve_path=hub.path,
        )
        self.trunk: TrunkClient | None = self.carrier.trunk
        #: Holding the hub's control socket (``core.control``) since setup.
        self._control = False

    @classmethod
    def from_config(cls, hub: Any, conf: dict[str, Any]) -> SipTrunkSource:
        return cls(hub, conf)

    def __repr__(self) -> str:
        return self.label

    # -- addresses -------------------------------------------------------------------------------
    def local_address(self, peer: str, *, outside: bool = False) -> str:
        """The address ``peer`` (an IP address) can reach us at; see ``addresses``: never
        blocks the loop, never caches a failure."""
        return self.addresses.for_peer(peer, outside=outside)

    def leg_address(self, peer: str, *, outside: bool = False) -> str:
        """A call leg's address toward ``peer``: behind NAT, the public address the carrier
        told us in its REGISTER answers (``addresses.LocalAddresses.for_leg``)."""
        public = next((c.public[0] for c in self.carrier.clients if c.public), None)
        return self.addresses.for_leg(peer, outside=outside, public=public)

    # -- lifecycle --------------------------------------------------------------------------------
    def check_notices(self) -> list[str]:
        """Lines that would be recorded with no notice and no ``no_notice`` reason."""

        def notice_for(direction: str, line: str) -> bool:
            probe = Call(
                id="probe",
                source=self.id,
                direction=Direction(direction),
                line=line,
                remote_number=None,
                started_at=self.hub.now(),
            )
            return self.hub.notice_for(probe) is not None

        return [msg for _, msg in notice_problems(self.conf, notice_for)]

    async def async_setup(self) -> None:
        problems = self.check_notices()
        if problems:
            raise SalvestiError(f"sources ({self.id}): " + "; ".join(problems))
        await self.relay.start()
        try:
            await self.transport.start()
        except OSError as err:
            await self.relay.stop()
            raise SalvestiError(f"cannot listen on {self.host}:{self.port}: {err}") from err
        await self.carrier.start(self.hub.create_task)
        await self.gateways.resolve(self.label)
        await control.acquire(self.hub)  # salvesti dial and salvesti test-call
        self._control = True
        _LOGGER.info(
            "%s: listening on %s:%d (udp, tcp), rtp %d-%d",
            self.label,
            self.host,
            self.transport.port,
            *self.rtp_range,
        )

    def _registration_status(self, client: TrunkClient, status: str, reason: str | None) -> None:
        """Each registration's changes on the bus: ``trunk`` for the DDI trunk, ``account``
        and ``registration`` for one of ``accounts:``."""
        data: dict[str, Any] = {
            "kind": "source",
            "id": self.id,
            "platform": "sip_trunk",
            "state": "loaded",
            "reason": reason,
        }
        if client.line is None:
            data["trunk"] = status
        else:
            data.update(account=client.line, registration=status)
        self.hub.bus.publish(events.SOURCE_STATUS, data)

    def outbound_route(self, line: str | None) -> OutboundRoute | None:
        """The way out for a call on ``line``: the gateway it belongs to, its account, or the
        DDI trunk."""
        return self.gateways.for_line(line) or self.carrier.for_line(line)

    def stop_intake(self) -> None:
        self.b2bua.accepting = False

    def active_calls(self) -> int:
        return len(self.b2bua.calls)

    async def hangup_all(self) -> None:
        calls = list(self.b2bua.calls)
        for call in calls:
            call.post("hangup")
        tasks = [c.task for c in calls if c.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=10)

    async def async_unload(self) -> None:
        if self._control:
            self._control = False
            await control.release(self.hub)
        self.stop_intake()
        await self.hangup_all()
        await self.carrier.stop()
        await self.transport.stop()
        await self.relay.stop()

    # -- ExtensionRinger (core.components): other sources ring our phones ------------------------
    def has_extensions(self, users: list[str]) -> bool:
        return any(user in self.extensions for user in users)

    async def ring_extensions(
        self,
        call: Call,
        users: list[str],
        *,
        on_audio: Callable[[bytes], None],
        ring_seconds: float,
        sample_rate: int = 8000,
    ) -> ExtensionBridge | str:
        """Ring ``users``' phones for another source's call; see ``extension_bridge``."""
        if not self.b2bua.accepting:
            return "failed"
        return await ring_for(
            self, call, users, on_audio=on_audio, ring_seconds=ring_seconds, sample_rate=sample_rate
        )

    # -- Dialer (core.components): click-to-call from a desk phone ------------------------------
    async def dial(self, number: str, *, extension: str | None = None) -> Call:
        """``salvesti dial`` and ``POST /api/calls/dial``: ``extension``'s phone rings first,
        then ``number`` is called on the extension's line."""
        if not self.b2bua.accepting:
            raise SalvestiError(f"{self.label} is shutting down")
        if extension is None or extension not in self.extensions:
            raise SalvestiError(f"name a desk phone of {self.id} to ring first (extension)")
        if not self.registrar.bindings_for(extension, time.monotonic()):
            raise SalvestiError(f"extension {extension} has no phone registered")
        line = self.extensions[extension].get("line") or (self.lines[0] if self.lines else None)
        route = self.outbound_route(line)
        if route is None:
            raise SalvestiError(f"{self.label}: line {line} has no way out")
        return self.flows.start_click_to_call(number, extension, line, route)

    # -- AgentDialer (core.components): outside calls for another source's agent ------------------
    def lines_for_agents(self) -> list[str]:
        return [line for line in self.lines if self.outbound_route(line) is not None]

    async def dial_for(self, number: str, agent: AgentLink, *, line: str | None = None) -> Call:
        """Call ``number`` on ``line`` (default: the first with a way out) for ``agent``."""
        if not self.b2bua.accepting:
            raise SalvestiError(f"{self.label} is shutting down")
        lines = self.lines_for_agents()
        if line is None:
            line = lines[0] if lines else None
        route = self.outbound_route(line) if line in lines or line is None else None
        if route is None:
            raise SalvestiError(f"{self.label}: line {line} has no way out")
        return self.flows.start_agent_outbound(agent, number, line, route)

    # -- TestCaller (core.test_call): the owner's test call to a phone ------------------------
    def can_test(self, extension: str) -> bool:
        return extension in self.extensions

    def test_targets(self) -> list[TestTarget]:
        return self.flows.test_targets()

    async def test_call(self, extension: str, *, seconds: float = DEFAULT_SECONDS) -> Call:
        """Ring ``extension``'s phones; see ``test_call.py``."""
        return self.flows.start_test_call(extension, seconds)

    # -- PhoneDirectory (core.provisioning): the web server provisions our phones -----------------
    def provisioning_plan(self) -> ProvisioningPlan:
        return provisioning_plan(self.conf, listen_port=self.transport.port or self.port)

    # -- DiagnosticsSource (core.diagnostics): the web UI's diagnostics page ----------------------
    def diagnostics(self) -> SourceDiagnostics:
        return source_diagnostics(self, now=self.hub.now(), mono=time.monotonic())

    # -- status -----------------------------------------------------------------------------------
    def registrations(self) -> dict[str, str]:
        """Each registration's state by its place in the config, for ``/api/health``:
        ``trunk``, ``accounts[N]`` (``registered`` / ``failed`` / ...) and ``gateways.ID``
        (``registered`` / ``not_registered`` / ``trusted``)."""
        out: dict[str, str] = {}
        if self.trunk is not None:
            out["trunk"] = self.trunk.status
        else:
            out.update({f"accounts[{i}]": c.status for i, c in enumerate(self.carrier.clients)})
        now = time.monotonic()
        out.update({f"gateways.{g.id}": g.status(now) for g in self.gateways.items})
        return out

    def status(self) -> dict[str, Any]:
        """Trunk registration, registered phones and calls in progress (for health/UI)."""
        return {
            "trunk": self.trunk.status if self.trunk else None,
            "trunk_reason": self.trunk.reason if self.trunk else None,
            "accounts": self.carrier.statuses() if self.trunk is None else [],
            "gateways": self.gateways.statuses(time.monotonic()),
            "registered": self.registrar.registered(time.monotonic()),
            "calls": self.active_calls(),
        }
