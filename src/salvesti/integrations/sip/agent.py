"""An extension of another source (a browser tab) as the inside party of a SIP call.

A desk phone is an RTP leg of the call's :class:`~salvesti.integrations.sip.media.CallMedia`;
a browser phone speaks PCM through a ``core.components.InsideConnection``.  Rather than a
second media pipeline for PCM, :class:`AgentPort` gives the agent a leg like a phone's: two
RTP legs of the relay sent to each other on loopback.  Leg ``inside`` joins the call's media
exactly where a phone's leg would, so the notice, the stereo recording, the native core's
relay and hold work unchanged; leg ``agent`` is the agent's "phone": what arrives on it is
decoded and handed to the connection, and the agent's PCM is framed into RTP on it.

The price is two more port pairs and one loopback hop per browser call, small beside the
Opus work the browser leg costs anyway (``bench/webrtc.py`` measures both).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from salvesti.core.audio.codecs import resample
from salvesti.core.protocols.rtp.dtmf import DIGITS
from salvesti.integrations.sip.call import CODECS
from salvesti.integrations.sip.dtmf_out import send_digits

if TYPE_CHECKING:
    from salvesti.core.components import InsideConnection
    from salvesti.integrations.sip.call import B2BCall
    from salvesti.integrations.sip.media_leg import Header, MediaLeg
    from salvesti.integrations.sip.source import SipTrunkSource

_LOGGER = logging.getLogger(__name__)

PTIME_MS = 20
#: The payload type our loop pair uses for telephone events (any dynamic one: both ends are ours).
EVENT_PT = 101
#: Longest backlog of agent audio kept before the oldest is dropped (the agent's network burst).
_MAX_BACKLOG_S = 0.2


def _loopback(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


class AgentPort:
    """The loop pair for one call: ``inside`` for the call's media, ``agent`` for the agent."""

    def __init__(self, src: SipTrunkSource, call: B2BCall, inside: MediaLeg, agent: MediaLeg) -> None:
        self.src = src
        self.call = call
        self.inside = inside
        self.agent = agent
        self.conn: InsideConnection | None = None
        self.rate = 8000
        self._buf = b""
        self._held = False
        self._watch: asyncio.Task[None] | None = None
        #: True once the agent left a call that goes on without it (a blind transfer).
        self.left = False
        self._dtmf: asyncio.Task[None] | None = None
        agent.handler = self._to_agent

    @classmethod
    async def open(cls, src: SipTrunkSource, call: B2BCall, codec_name: str | None) -> AgentPort:
        """Two legs of the relay joined on loopback, in ``codec_name`` when it is G.711 (so
        the core relays the call without transcoding), else PCMU."""
        name = codec_name if codec_name in ("PCMU", "PCMA") else "PCMU"
        spec = CODECS[name]
        pt = 0 if name == "PCMU" else 8
        inside = await src.relay.allocate()
        call.allocated.append(inside)
        agent = await src.relay.allocate()
        call.allocated.append(agent)
        host = _loopback(src.relay.host)
        inside.set_remote((host, agent.local_port), (pt, spec), EVENT_PT)
        agent.set_remote((host, inside.local_port), (pt, spec), EVENT_PT)
        return cls(src, call, inside, agent)

    @property
    def codec_name(self) -> str:
        return self.agent.codec_name or "PCMU"

    # -- the connection --------------------------------------------------------------------------
    def bind(self, conn: InsideConnection, rate: int) -> None:
        """Audio goes to and comes from ``conn`` (at ``rate``) from now on; its end posts
        ``agent_gone`` to the call."""
        self.conn = conn
        self.rate = rate
        self._watch = asyncio.get_running_loop().create_task(self._watch_end(conn))

    async def _watch_end(self, conn: InsideConnection) -> None:
        await conn.ended.wait()
        self.call.post("agent_gone")

    async def close(self) -> None:
        """Stop watching and end the agent's side (idempotent); the legs are the call's."""
        for task in (self._watch, self._dtmf):
            if task is not None and not task.done():
                task.cancel()
        self.agent.handler = None
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.hangup()

    # -- audio -------------------------------------------------------------------------------------
    def _to_agent(self, leg: MediaLeg, data: bytes, hdr: Header, now: float) -> None:
        conn = self.conn
        if conn is None or self._held or hdr[1] != leg.payload_type or leg.decoder is None:
            return
        pcm = leg.decoder.decode(data[hdr[5] : hdr[6]])
        if leg.decoder.sample_rate != self.rate:
            pcm = resample(pcm, leg.decoder.sample_rate, self.rate)
        try:
            conn.send(pcm)
        except Exception:  # the agent's trouble must not stop the RTP reader
            _LOGGER.exception("%s: agent audio failed", self.src.label)

    def from_agent(self, pcm: bytes) -> None:
        """The agent's audio (s16le mono at ``rate``), sent as 20 ms frames as they fill:
        the agent's end delivers at its real rate, which paces the stream."""
        leg = self.agent
        enc = leg.encoder
        if enc is None or leg.payload_type is None or leg.closed:
            return
        if self._held:
            pcm = bytes(len(pcm))  # the outside party hears silence, not the agent
        if enc.sample_rate != self.rate:
            pcm = resample(pcm, self.rate, enc.sample_rate)
        buf = self._buf + pcm
        size = enc.samples_per_frame(PTIME_MS) * 2
        limit = int(enc.sample_rate * _MAX_BACKLOG_S) * 2
        if len(buf) > limit:
            buf = buf[len(buf) - limit :]
        step = enc.timestamp_step(PTIME_MS)
        # While a digit goes out its events stand for that time (RFC 4733 2.5): audio waits.
        silent = self._dtmf is not None and not self._dtmf.done()
        while len(buf) >= size:
            if not silent:
                leg.send_frame(enc.encode(buf[:size]), leg.payload_type, step)
            buf = buf[size:]
        self._buf = buf

    # -- CallControl (core.components) -------------------------------------------------------------
    def dtmf(self, digit: str) -> bool:
        """Send ``digit`` as RFC 4733 events into the call, where the relay passes them to
        the outside party as it passes a desk phone's."""
        if len(digit) != 1 or digit.upper() not in DIGITS or self.agent.closed:
            return False
        if self._dtmf is not None and not self._dtmf.done():
            return False  # one digit at a time, as a keypad sends them
        self._dtmf = asyncio.get_running_loop().create_task(self._send_event(digit))
        return True

    async def _send_event(self, digit: str) -> None:
        await send_digits(self.agent, EVENT_PT, digit)
        call_meta: dict[str, Any] = self.call.record.meta.setdefault("dtmf_sent", {"count": 0})
        call_meta["count"] += 1  # how many, never which: digits may be a card number

    def transfer(self, extension: str) -> str:
        """Blind transfer to a desk phone: its phones ring and the agent leaves now."""
        result: str = self.src.flows.agent_transfer(self.call, extension)
        if result == "ok":
            self._leave("transferred")
        return result

    def _leave(self, reason: str) -> None:
        """The agent goes while the call goes on: told why, its side ended, not "agent_gone"."""
        if self._watch is not None:
            self._watch.cancel()
        self.left = True
        self.agent.handler = None
        conn, self.conn = self.conn, None
        if conn is None:
            return
        progress = getattr(conn, "progress", None)
        if callable(progress):
            progress("ended", reason=reason)
        asyncio.get_running_loop().create_task(conn.hangup())

    def hold(self, on: bool) -> None:
        self._held = on
        self.call.record.meta.setdefault("holds", 0)
        if on:
            self.call.record.meta["holds"] += 1
