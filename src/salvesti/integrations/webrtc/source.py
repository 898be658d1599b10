"""The ``webrtc`` source: browser tabs as phones of their users' extensions.

It owns no line and no trunk.  For inbound calls it is an ``ExtensionRinger``: the source
that owns the call (``sip_trunk``, ``serial_at``) rings a browser extension through
:meth:`WebRtcSource.ring_extensions` in parallel with desk phones, and the first to answer
wins.  For outside calls it asks an ``AgentDialer`` (the ``sip_trunk`` source) to call out
for the tab.  Either way the call object, notice and recording belong to the owning
source: the browser is only the inside party, exactly like a desk phone.

Tabs: the web UI hands each authenticated ``/phone`` tab over (``PhoneTabs``).  The tab
that said ``hello`` last is the extension's active one (an older tab is told ``replaced``
and is no longer rung); a tab not heard from within ``heartbeat_timeout`` is taken for
dead (a background tab the browser froze) and is not rung either.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from salvesti.core.call import Call
from salvesti.core.components import AgentDialer
from salvesti.core.diagnostics import SourceDiagnostics
from salvesti.integrations.webrtc import signalling as sig
from salvesti.integrations.webrtc.diagnostics import source_diagnostics
from salvesti.integrations.webrtc.ice import PortRange, candidate_addresses, install
from salvesti.integrations.webrtc.peer import RATE, BrowserCall

_LOGGER = logging.getLogger(__name__)
_TAB_IDS = itertools.count(1)


@dataclass(eq=False)
class Tab:
    """One ``/phone`` tab of a logged-in user."""

    user: str
    extension: str
    send: Callable[[dict[str, Any]], None]
    addresses: list[str]
    seen: float
    id: int = field(default_factory=lambda: next(_TAB_IDS))
    session: sig.PhoneSession = field(default_factory=sig.PhoneSession)
    active: bool = False
    call: BrowserCall | None = None
    task: asyncio.Task[None] | None = None
    #: The browser's address, as the web server saw it (for diagnostics).
    client: str | None = None


@dataclass(eq=False)
class _Ring:
    """An inbound call offered to tabs; ``result`` gets the answering BrowserCall or why not."""

    call: Call
    tabs: list[Tab]
    on_audio: Callable[[bytes], None]
    result: asyncio.Future[BrowserCall | str]
    declined: set[int] = field(default_factory=set)
    answering: BrowserCall | None = None


class WebRtcSource:
    """Implements ``CallSource``, ``ExtensionRinger`` and ``PhoneTabs`` (``core.components``)."""

    def __init__(
        self, hub: Any, conf: dict[str, Any], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.hub = hub
        self.conf = conf
        self.id: str = conf["id"]
        self.label = f"webrtc({self.id})"
        self.extensions: list[str] = list(conf["extensions"])
        self.ice_servers: list[dict[str, Any]] = list(conf.get("ice_servers") or [])
        self.ice_addresses: list[str] = list(conf.get("ice_addresses") or [])
        self.line: str | None = conf.get("line")
        self.heartbeat_timeout = float(conf.get("heartbeat_timeout", 30.0))
        self.ice_timeout = float(conf.get("ice_timeout", 15.0))
        self.max_calls = int(conf.get("max_calls_per_minute", 10))
        self.ports = PortRange.parse(conf.get("rtc_ports", "20000-20199"))
        self.clock = clock
        self.tabs: list[Tab] = []
        self._rings: dict[str, _Ring] = {}
        self._attempts: dict[str, deque[float]] = {}
        self.accepting = True

    # -- lifecycle ---------------------------------------------------------------------------
    async def async_setup(self) -> None:
        install(self.ports)
        _LOGGER.info(
            "%s: browser phones for %s, media on udp %d-%d",
            self.label,
            ", ".join(self.extensions),
            self.ports.low,
            self.ports.high,
        )

    def stop_intake(self) -> None:
        self.accepting = False

    def active_calls(self) -> int:
        return sum(1 for t in self.tabs if t.call is not None)

    async def hangup_all(self) -> None:
        for tab in list(self.tabs):
            if tab.call is not None:
                await tab.call.hangup()

    async def async_unload(self) -> None:
        self.stop_intake()
        await self.hangup_all()
        for tab in list(self.tabs):
            await self.close_tab(tab)

    # -- DiagnosticsSource (core.diagnostics) ----------------------------------------------------
    def diagnostics(self) -> SourceDiagnostics:
        return source_diagnostics(self, now=self.hub.now(), mono=self.clock())

    # -- PhoneTabs --------------------------------------------------------------------------------
    def serves(self, extension: str) -> bool:
        return extension in self.extensions

    def open_tab(
        self,
        *,
        user: str,
        extension: str,
        send: Callable[[dict[str, Any]], None],
        page_host: str,
        client: str | None,
    ) -> Tab:
        if not self.serves(extension):
            raise PermissionError(f"extension {extension} has no browser phone on {self.label}")
        tab = Tab(
            user,
            extension,
            send,
            candidate_addresses(page_host, self.ice_addresses, client),
            self.clock(),
            client=client,
        )
        self.tabs.append(tab)
        return tab

    async def close_tab(self, tab: Tab) -> None:
        """The tab closed (or its socket died): its call ends, its recording is finalised by
        the call's source as for any hang-up."""
        if tab in self.tabs:
            self.tabs.remove(tab)
        for ring in self._rings.values():
            if tab in ring.tabs:
                self._declined(ring, tab)
        if tab.call is not None:
            await tab.call.hangup()
            tab.call = None
        if tab.task is not None and not tab.task.done():
            tab.task.cancel()

    def alive(self, tab: Tab) -> bool:
        return tab.active and self.clock() - tab.seen < self.heartbeat_timeout

    async def receive(self, tab: Tab, message: Any) -> None:
        """One message from the tab; a refused one is answered with an error, nothing else."""
        tab.seen = self.clock()
        cmd = sig.parse(message)
        if isinstance(cmd, sig.BadMessage):
            tab.send(cmd.to_json())
            return
        refused = tab.session.accept(cmd)
        if refused is not None:
            tab.send(refused.to_json())
            return
        if isinstance(cmd, sig.Hello):
            self._hello(tab)
        elif isinstance(cmd, sig.Heartbeat):
            tab.send({"type": "heartbeat"})
        elif isinstance(cmd, sig.Candidate):
            if tab.call is not None:
                try:
                    await tab.call.add_candidate(cmd.candidate, cmd.sdp_mid, cmd.sdp_mline_index)
                except Exception as err:  # a candidate aiortc cannot read: say so, keep the call
                    tab.send(sig.BadMessage("bad_candidate", str(err)[:200]).to_json())
        elif isinstance(cmd, sig.Dial):
            self._start(tab, self._dial(tab, cmd))
        elif isinstance(cmd, sig.Answer):
            self._answer(tab, cmd)
        elif isinstance(cmd, sig.Decline):
            ring = self._rings.get(cmd.call)
            if ring is not None:
                self._declined(ring, tab)
        elif isinstance(cmd, sig.Hangup):
            await self._hangup(tab)
        elif isinstance(cmd, sig.Dtmf):
            control = tab.call.control if tab.call is not None else None
            if control is None or not control.dtmf(cmd.digit):
                tab.send(sig.BadMessage("dtmf_failed", "the digit could not be sent now").to_json())
        elif isinstance(cmd, sig.Transfer):
            control = tab.call.control if tab.call is not None else None
            result = control.transfer(cmd.to) if control is not None else "not_now"
            if result != "ok":
                tab.send(
                    sig.BadMessage("transfer_failed", f"cannot transfer to {cmd.to}: {result}").to_json()
                )
        elif isinstance(cmd, sig.Hold):
            if tab.call is not None:
                tab.call.hold(cmd.on)
                tab.send(
                    {"type": "state", "state": "held" if cmd.on else "connected", "call": tab.call.call_id}
                )

    def _hello(self, tab: Tab) -> None:
        """This tab takes over its extension: an older tab keeps a call it has but is not rung."""
        for other in self.tabs:
            if other is not tab and other.extension == tab.extension and other.active:
                other.active = False
                other.send({"type": "replaced"})
        tab.active = True
        tab.send(
            {
                "type": "ready",
                "extension": tab.extension,
                "ice_servers": self.ice_servers,
                "heartbeat_s": max(self.heartbeat_timeout / 3, 1.0),
            }
        )

    def _start(self, tab: Tab, coro: Any) -> None:
        tab.task = self.hub.create_task(coro, f"{self.label} tab {tab.id}")

    def _tell(self, tab: Tab) -> Callable[[dict[str, Any]], None]:
        """The BrowserCall's messages to the tab, keeping the tab's state in step."""

        def tell(msg: dict[str, Any]) -> None:
            if msg.get("type") == "state":
                if msg["state"] == "connected":
                    tab.session.on_connected()
                elif msg["state"] == "ended":
                    tab.session.on_ended()
                    tab.call = None
            tab.send(msg)

        return tell

    def _new_call(self, tab: Tab, call_id: str | None = None) -> BrowserCall:
        bc = BrowserCall(
            tab.extension,
            ice_servers=self.ice_servers,
            addresses=tab.addresses,
            tell=self._tell(tab),
            call_id=call_id,
        )
        tab.call = bc
        return bc

    async def _connect(self, tab: Tab, bc: BrowserCall, offer: str) -> bool:
        """Answer the tab's offer and wait for ICE; on failure the tab is told why."""
        try:
            answer = await bc.answer(offer)
        except Exception as err:
            bc.failed = "bad_sdp"
            tab.send(sig.BadMessage("bad_sdp", f"the offer could not be used: {str(err)[:200]}").to_json())
        else:
            tab.send({"type": "sdp", "sdpType": "answer", "sdp": answer, "call": bc.call_id})
            if await bc.wait_connected(self.ice_timeout):
                return True
        _LOGGER.warning("%s: %s's browser call failed: %s", self.label, tab.extension, bc.failed)
        await bc.hangup()
        bc.progress("ended", reason=bc.failed)
        return False

    # -- outside calls -----------------------------------------------------------------------------
    def _dialer(self) -> AgentDialer | None:
        for component in self.hub.sources.values():
            if isinstance(component, AgentDialer) and component is not self:
                lines = component.lines_for_agents()
                if lines and (self.line is None or self.line in lines):
                    return component
        return None

    def _rate_ok(self, extension: str) -> bool:
        now = self.clock()
        seen = self._attempts.setdefault(extension, deque())
        while seen and now - seen[0] > 60:
            seen.popleft()
        if len(seen) >= self.max_calls:
            return False
        seen.append(now)
        return True

    async def _dial(self, tab: Tab, cmd: sig.Dial) -> None:
        def refuse(code: str, message: str) -> None:
            tab.session.on_ended()
            tab.send(sig.BadMessage(code, message).to_json())

        if not self.accepting:
            return refuse("shutting_down", "Salvesti is shutting down")
        if not tab.active:
            return refuse("not_active", "another tab is this extension's phone now")
        if not self._rate_ok(tab.extension):
            return refuse("rate_limited", f"more than {self.max_calls} calls in a minute; wait a moment")
        dialer = self._dialer()
        if dialer is None:
            return refuse("no_trunk", "no source can call out (configure a sip_trunk with a trunk)")
        bc = self._new_call(tab)
        if not await self._connect(tab, bc, cmd.sdp):
            return None
        try:
            call = await dialer.dial_for(cmd.number, bc, line=self.line)
        except Exception as err:
            _LOGGER.warning("%s: %s could not call out: %s", self.label, tab.extension, err)
            await bc.hangup()
            bc.progress("ended", reason="dial_failed")
            return None
        bc.call_id = call.id
        tab.send({"type": "state", "state": "trying", "call": call.id, "number": call.remote_number})
        return None

    async def _hangup(self, tab: Tab) -> None:
        for ring in self._rings.values():
            if tab in ring.tabs and ring.answering is None:
                self._declined(ring, tab)
                return
        if tab.call is not None:
            bc, tab.call = tab.call, None
            await bc.hangup()
            bc.progress("ended", reason="hangup")
        tab.session.on_ended()

    # -- ExtensionRinger --------------------------------------------------------------------------
    def has_extensions(self, users: list[str]) -> bool:
        return any(u in self.extensions for u in users)

    async def ring_extensions(
        self,
        call: Call,
        users: list[str],
        *,
        on_audio: Callable[[bytes], None],
        ring_seconds: float,
        sample_rate: int = 8000,
    ) -> BrowserCall | str:
        """Offer ``call`` to the live active tab of each of ``users``; the first to answer
        (and whose ICE connects) is the connection.  See ``core.components.ExtensionRinger``."""
        if sample_rate != RATE:
            raise ValueError(f"the browser phone speaks {RATE} Hz to the call, not {sample_rate}")
        if not self.accepting:
            return "failed"
        tabs = [t for t in self.tabs if t.extension in users and self.alive(t)]
        tabs = [t for t in tabs if t.session.on_ring(call.id)]
        if not tabs:
            return "not_registered"
        result: asyncio.Future[BrowserCall | str] = asyncio.get_running_loop().create_future()
        ring = self._rings[call.id] = _Ring(call, tabs, on_audio, result)
        incoming = {"type": "incoming", "call": call.id, "from": call.remote_number, "line": call.line}
        for tab in tabs:
            tab.send(incoming)
        outcome: BrowserCall | str = "no_answer"
        try:
            async with asyncio.timeout(ring_seconds):
                outcome = await result
        except TimeoutError:
            outcome = "no_answer"
        except asyncio.CancelledError:
            # Another phone answered, or the caller hung up: end a tab's half-made answer.
            if ring.answering is not None:
                with contextlib.suppress(Exception):
                    await ring.answering.hangup()
                ring.answering.progress("ended", reason="answered_elsewhere")
            raise
        finally:
            self._rings.pop(call.id, None)
            chosen = outcome if isinstance(outcome, BrowserCall) else None
            for tab in tabs:
                if chosen is not None and tab.call is chosen:
                    continue
                tab.session.on_ring_over(call.id)
                tab.send({"type": "cancelled", "call": call.id})
        return outcome

    def _answer(self, tab: Tab, cmd: sig.Answer) -> None:
        ring = self._rings.get(cmd.call)
        if ring is None or ring.answering is not None or ring.result.done():
            tab.session.on_ended()
            tab.send(sig.BadMessage("not_ringing", "the call was answered elsewhere or ended").to_json())
            return
        bc = ring.answering = self._new_call(tab, cmd.call)
        for other in ring.tabs:  # the first click wins; the other tabs stop ringing
            if other is not tab:
                other.session.on_ring_over(cmd.call)
                other.send({"type": "cancelled", "call": cmd.call})
        self._start(tab, self._answer_media(tab, ring, bc, cmd.sdp))

    async def _answer_media(self, tab: Tab, ring: _Ring, bc: BrowserCall, offer: str) -> None:
        connected = await self._connect(tab, bc, offer)
        if ring.result.done():  # the ring ended while ICE connected
            if connected:
                await bc.hangup()
                bc.progress("ended", reason="answered_elsewhere")
            return
        if not connected:
            ring.result.set_result("failed")
            return
        bc.listen(ring.on_audio)
        ring.result.set_result(bc)

    def _declined(self, ring: _Ring, tab: Tab) -> None:
        ring.declined.add(tab.id)
        tab.session.on_ring_over(ring.call.id)
        if (
            not ring.result.done()
            and ring.answering is None
            and all(t.id in ring.declined for t in ring.tabs)
        ):
            ring.result.set_result("busy")
