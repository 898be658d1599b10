"""One RTP leg of the media relay: a bound UDP port pair and the stream state on it.

A :class:`MediaLeg` reads its own non-blocking RTP socket from an event-loop reader
(``loop.add_reader``): each wake-up drains what is queued (up to a burst limit) and every
packet costs one Python call into :meth:`MediaLeg.datagram_received`, with no task, future
or object beyond the header tuple, and no transport layer in between (sending goes straight
to the socket too).  The leg knows the negotiated codec, latches onto the
address the far end really sends from (symmetric RTP, RFC 4961, so phones behind NAT
work), turns RTP timestamps into monotonic times for the recording, and rewrites the
header of what it sends so the far end sees one continuous stream (one SSRC, contiguous
sequence numbers and timestamps) across notice playback, bridging and transfers.

Once a call is bridged with one G.711 codec on both legs, :class:`CallMedia` may hand both
sockets to the native core (``_rtpcore``, see :meth:`MediaLeg.engage`): the leg's stream
state goes with them, and comes back intact on :meth:`MediaLeg.disengage`, so the Python
path and the C path are one stream to the far end.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from fcntl import ioctl
from termios import FIONREAD
from typing import TYPE_CHECKING, Any, Protocol

from salvesti.core.audio.codecs import AudioCodec, get_codec
from salvesti.core.protocols.rtp.packet import RTP_HEADER, is_rtcp, parse_header

if TYPE_CHECKING:
    from salvesti.integrations.sip.media import MediaRelay
    from salvesti.integrations.sip.native import NativeCore
    from salvesti.integrations.sip.srtp import SrtpSession

_LOGGER = logging.getLogger(__name__)
_SEQ_TS_SSRC = struct.Struct("!HII")

#: ``(marker, payload_type, sequence, timestamp, ssrc, payload_start, payload_end)``
Header = tuple[int, int, int, int, int, int, int]
PacketHandler = Callable[["MediaLeg", bytes, Header, float], None]

#: A packet this much later than its timestamp predicts means the sender's clock stalled
#: or jumped: re-anchor timestamps to the arrival time.  About the recording's reorder
#: window: a packet this late would be too late to place anyway.
_REANCHOR_LATE = 0.25
#: A packet this much earlier than its timestamp predicts: the anchor packet was delayed.
_REANCHOR_EARLY = 0.04


class CodecSpec(Protocol):
    """What the leg needs of a negotiated codec (``salvesti.core.protocols.sdp.Codec`` fits)."""

    name: str
    clock_rate: int


@dataclass
class LegStats:
    packets_in: int = 0
    packets_out: int = 0
    bytes_in: int = 0
    #: Not RTP at all (garbage, truncated, wrong version).
    invalid: int = 0
    #: RTP from an address we did not negotiate with.
    wrong_source: int = 0
    #: RTP with a payload type that was not negotiated (comfort noise, stray video...).
    unknown_pt: int = 0
    #: RTCP received (absorbed; we do not relay or answer it).
    rtcp: int = 0
    #: Packets we could not send (socket buffer full, network down): dropped, never queued.
    send_errors: int = 0
    #: SRTP packets that failed authentication or were replays (dropped; also in ``invalid``).
    srtp_failed: int = 0
    #: Monotonic time of the last valid RTP packet, None before the first.
    last_rx: float | None = None
    #: Sequence tracking of the current source (RFC 3550 A.3): its SSRC (-1 before the
    #: first packet), first and highest extended sequence number, packets counted, and the
    #: loss of earlier sources (an SSRC change or a restart of the numbering).
    seq_ssrc: int = -1
    seq_base: int = 0
    seq_max: int = 0
    seq_received: int = 0
    seq_lost: int = 0

    @property
    def dropped(self) -> int:
        return self.invalid + self.wrong_source + self.unknown_pt

    @property
    def lost(self) -> int:
        """Packets the far end sent that never arrived: expected (by sequence number) minus
        received, per source; duplicates can only hide loss, never invent it."""
        return self.seq_lost + self._current_lost()

    def _current_lost(self) -> int:
        if self.seq_ssrc < 0:
            return 0
        return max(self.seq_max - self.seq_base + 1 - self.seq_received, 0)

    def count_sequence(self, ssrc: int, seq: int) -> None:
        """One valid packet from the accepted source, for the loss count."""
        if ssrc != self.seq_ssrc:
            self._restart(ssrc, seq)
            return
        delta = (seq - self.seq_max) & 0xFFFF
        if delta < MAX_DROPOUT:  # in order (or a duplicate: delta 0), perhaps after a gap
            self.seq_max += delta
        elif delta < 0x10000 - MAX_MISORDER:  # a jump: the sender restarted its numbering
            self._restart(ssrc, seq)
            return
        self.seq_received += 1  # late packets count too: they were not lost

    def _restart(self, ssrc: int, seq: int) -> None:
        self.seq_lost += self._current_lost()
        self.seq_ssrc, self.seq_base, self.seq_max, self.seq_received = ssrc, seq, seq, 1


#: RFC 3550 A.1's limits: a forward jump of this many or more, or a step back of more
#: than MAX_MISORDER, is a restart of the numbering rather than loss or reordering.
MAX_DROPOUT = 3000
MAX_MISORDER = 100


#: Datagrams read per wake-up of one socket before giving other sockets their turn.
_BURST = 16
_NOTHING = bytearray(4)


class MediaLeg:
    """An RTP/RTCP port pair towards one party.  Create through ``MediaRelay.allocate``."""

    def __init__(self, relay: MediaRelay | None, host: str, port: int) -> None:
        self.relay = relay
        self.host = host
        self.local_port = port
        self._stats = LegStats()
        self.handler: PacketHandler | None = None
        #: The native core holding this leg's socket, while engaged (see :meth:`engage`).
        self._core: NativeCore | None = None
        #: Told before an engaged leg changes (codec, address, hold, close): CallMedia then
        #: takes both legs back from the core and decides again.
        self.on_change: Callable[[], None] | None = None
        self.closed = False
        self._hold = False
        #: Cached ``can_send`` (read on every packet, changed rarely).
        self.sendable = False
        #: SRTP on this leg (the carrier's, with ``srtp: sdes``): what arrives is checked and
        #: decrypted before anything reads it, what leaves is encrypted last.  Such a leg is
        #: never handed to the native core, which relays plain RTP only.
        self.srtp: SrtpSession | None = None
        self.payload_type: int | None = None
        self.codec_name: str | None = None
        self.clock_rate = 8000
        self.telephone_event_pt: int | None = None
        self.direction = "sendrecv"
        self.decoder: AudioCodec | None = None
        self.encoder: AudioCodec | None = None
        self.remote: tuple[str, int] | None = None
        self._expected_ip: str | None = None
        self._latch_any = False
        self._latched = False
        self._send_addr: tuple[str, int] | None = None
        #: The bound RTP socket; sends go straight to it (see :meth:`_send`).
        self.sock: socket.socket | None = None
        self._rtcp_sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._transport: asyncio.DatagramTransport | None = None
        self._pending = bytearray(4)  # FIONREAD result buffer
        # receive-side timestamp anchor
        self._rx_ssrc = -1
        self._rx_ts0 = 0
        self._rx_t0 = 0.0
        # send-side stream state
        self._out_ssrc = random.getrandbits(32)
        self._out_seq = random.getrandbits(16)
        self._out_ts = random.getrandbits(32)
        self._out_time: float | None = None
        self._src: tuple[int, int] | None = None  # (ssrc, in_clock) of the stream being relayed
        self._src_seq_off = 0
        self._src_ts0 = 0
        self._out_ts0 = 0

    def __repr__(self) -> str:
        return f"<MediaLeg {self.host}:{self.local_port} -> {self._send_addr} {self.codec_name}>"

    # -- configuration ------------------------------------------------------------------------
    def set_remote(
        self,
        addr: tuple[str, int] | None,
        codec: tuple[int, CodecSpec],
        telephone_event_pt: int | None = None,
        direction: str = "sendrecv",
        *,
        latch_any: bool = False,
    ) -> None:
        """Apply the negotiated remote SDP: where to send, which codec, DTMF payload type.

        ``direction`` is the remote's attribute: ``sendonly``/``inactive`` stop our sending.
        ``addr`` None (or port 0, or 0.0.0.0) means no media to send for now.  With
        ``latch_any`` the first valid packet from any address is latched (a phone behind NAT
        that advertises its private address); otherwise only packets from the SDP's IP pass.
        """
        self._changing()
        pt, spec = codec
        if spec.name.upper() != self.codec_name or spec.clock_rate != self.clock_rate or self.decoder is None:
            self.decoder = get_codec(spec.name, spec.clock_rate)
            self.encoder = get_codec(spec.name, spec.clock_rate)
        self.payload_type = pt
        self.codec_name = spec.name.upper()
        self.clock_rate = spec.clock_rate
        self.telephone_event_pt = telephone_event_pt
        self.direction = direction
        self._latch_any = latch_any
        if addr is None or addr[1] == 0 or addr[0] in ("0.0.0.0", "::"):
            self.remote = None
            self._expected_ip = None
            self._send_addr = None
        elif self.remote != addr:
            self.remote = addr
            self._expected_ip = addr[0]
            self._send_addr = addr
            self._latched = False
        self._update_sendable()

    @property
    def send_addr(self) -> tuple[str, int] | None:
        """Where RTP goes now: the latched source address, else the SDP address."""
        if self._core is not None:
            return self._core.state(self.sock.fileno())["addr"]  # type: ignore[union-attr,no-any-return]
        return self._send_addr

    @property
    def stats(self) -> LegStats:
        """Counters of this leg, including what the native core counted while it held it."""
        if self._core is not None:
            fd = self.sock.fileno()  # type: ignore[union-attr]
            self._add_stats(self._core.stats(fd))
            self._take_sequence_state(self._core.state(fd))
        return self._stats

    _SEQ_FIELDS = ("seq_ssrc", "seq_base", "seq_max", "seq_received", "seq_lost")

    def _sequence_state(self) -> dict[str, int]:
        return {name: getattr(self._stats, name) for name in self._SEQ_FIELDS}

    def _take_sequence_state(self, state: dict[str, Any]) -> None:
        for name in self._SEQ_FIELDS:
            setattr(self._stats, name, state[name])

    def _add_stats(self, counted: dict[str, Any]) -> None:
        st = self._stats
        for name in ("packets_in", "bytes_in", "packets_out", "invalid", "wrong_source", "unknown_pt"):
            setattr(st, name, getattr(st, name) + counted[name])
        st.rtcp += counted["rtcp"]
        st.send_errors += counted["send_errors"]
        if counted["last_rx"] is not None:
            st.last_rx = counted["last_rx"]

    @property
    def engaged(self) -> bool:
        """True while the native core relays this leg."""
        return self._core is not None

    def _changing(self) -> None:
        """An engaged leg is about to change: have the owner take it back from the core first."""
        if self._core is None:
            return
        if self.on_change is not None:
            self.on_change()
        if self._core is not None:  # no owner, or the owner left it engaged
            self.disengage()

    @property
    def hold(self) -> bool:
        """When True nothing is sent to this leg (the party is on hold)."""
        return self._hold

    @hold.setter
    def hold(self, on: bool) -> None:
        if on != self._hold:
            self._changing()
        self._hold = on
        self._update_sendable()

    @property
    def can_send(self) -> bool:
        return self.sendable

    def _update_sendable(self) -> None:
        self.sendable = (
            self._send_addr is not None
            and self.sock is not None
            and not self._hold
            and not self.closed
            and self.direction in ("sendrecv", "recvonly")
        )

    def same_codec(self, other: MediaLeg) -> bool:
        return self.codec_name == other.codec_name and self.clock_rate == other.clock_rate

    # -- reading ------------------------------------------------------------------------------------
    async def attach(self, loop: asyncio.AbstractEventLoop, rtp: socket.socket, rtcp: socket.socket) -> None:
        """Start reading the bound, non-blocking socket pair on ``loop``.

        On uvloop the RTP socket gets a datagram transport: uvloop reads in C and calls
        :meth:`datagram_received` directly, faster than any Python read loop.  On the
        standard loop a reader callback drains the socket itself (:meth:`_readable`),
        which beats the standard transport's one datagram per loop iteration under load.
        """
        self._loop = loop
        self.sock = rtp
        self._rtcp_sock = rtcp
        native = self.relay is not None and self.relay.native is not None
        if type(loop).__module__.startswith("uvloop") and not native:
            transport, _ = await loop.create_datagram_endpoint(lambda: _Feed(self), sock=rtp)
            self._transport = transport  # type: ignore[assignment]
        else:
            loop.add_reader(rtp.fileno(), self._readable)
        loop.add_reader(rtcp.fileno(), self._rtcp_readable)
        self._update_sendable()

    def _readable(self) -> None:
        """Read what is queued: after each datagram, FIONREAD tells whether another waits.

        Asking the kernel (~0.8 us) is cheaper than the failing ``recvfrom`` and its
        exception (~2 us) that would otherwise end every wake-up at normal load, and under
        overload a burst is drained in one wake-up instead of one per loop iteration.
        """
        sock = self.sock
        recv = sock.recvfrom  # type: ignore[union-attr]
        fd = sock.fileno()  # type: ignore[union-attr]
        pending = self._pending
        for _ in range(_BURST):
            try:
                data, addr = recv(2048)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as err:  # ICMP errors reported on the socket: the far end is not there
                _LOGGER.debug("%r: %s", self, err)
                return
            self.datagram_received(data, addr)
            if self.sock is None:  # closed by a handler
                return
            ioctl(fd, FIONREAD, pending)
            if pending == _NOTHING:
                return

    def _rtcp_readable(self) -> None:
        """The odd port of the pair: RTCP arrives here and is counted and absorbed."""
        for _ in range(_BURST):
            try:
                self._rtcp_sock.recv(2048)  # type: ignore[union-attr]
            except OSError:
                return
            self._stats.rtcp += 1

    def datagram_received(self, data: bytes, addr: Any) -> None:
        stats = self._stats
        stats.packets_in += 1
        stats.bytes_in += len(data)
        if self.srtp is not None:
            if is_rtcp(data):  # SRTCP: absorbed like RTCP, never decrypted
                stats.rtcp += 1
                return
            clear = self.srtp.unprotect(data)
            if clear is None:
                stats.invalid += 1
                stats.srtp_failed += 1
                return
            data = clear
        hdr = parse_header(data)
        if hdr is None:
            if is_rtcp(data):
                stats.rtcp += 1
            else:
                stats.invalid += 1
            return
        if addr != self._send_addr:
            if not self._accept_source(addr):
                stats.wrong_source += 1
                return
        now = time.monotonic()
        stats.last_rx = now
        stats.count_sequence(hdr[4], hdr[2])
        handler = self.handler
        if handler is not None:
            handler(self, data, hdr, now)

    def _accept_source(self, addr: Any) -> bool:
        """Symmetric RTP: follow the source port of the negotiated IP.

        With ``latch_any`` the first valid packet from any IP is accepted once (the SDP
        held a private address behind NAT); from then on only that IP passes.
        """
        if addr[0] != self._expected_ip:
            if not self._latch_any or self._latched or self.payload_type is None:
                return False
            self._expected_ip = addr[0]
        self._latched = True
        self._send_addr = addr  # as received (a 4-tuple for IPv6), so later packets compare equal
        self._update_sendable()
        return True

    # -- receive-side timing --------------------------------------------------------------------
    def rx_time(self, ts: int, ssrc: int, now: float) -> float:
        """Monotonic time of the first sample of a received packet, from its RTP timestamp.

        Anchored to the arrival of a stream's first packet; re-anchored on a new SSRC, when
        a packet arrives well before its predicted time (the anchor packet was delayed) and
        after a long stall or timestamp jump.  Reordered and jittered packets thus get the
        time they were sent for, which is what puts them back in place in the recording.
        """
        if ssrc != self._rx_ssrc:
            self._rx_ssrc = ssrc
            self._rx_ts0 = ts
            self._rx_t0 = now
            return now
        delta = (ts - self._rx_ts0) & 0xFFFFFFFF
        if delta >= 0x80000000:
            delta -= 0x100000000
        at = self._rx_t0 + delta / self.clock_rate
        lag = now - at
        if lag < -_REANCHOR_EARLY or lag > _REANCHOR_LATE:
            self._rx_ts0 = ts
            self._rx_t0 = now
            return now
        return at

    # -- sending ----------------------------------------------------------------------------------
    def send_frame(self, payload: bytes, payload_type: int, ts_step: int, *, marker: bool = False) -> None:
        """Send one packet we generate (notice playback): continues our own seq/ts."""
        core = self._core
        if core is not None:  # the core owns the stream (and the latched address) meanwhile
            core.send(self.sock.fileno(), payload, payload_type, ts_step, marker=marker)  # type: ignore[union-attr]
            return
        now = time.monotonic()
        if self._src is not None or self._out_time is None:
            marker = True
            self._src = None
            if self._out_time is not None:
                self._out_ts += max(round((now - self._out_time) * self.clock_rate) - ts_step, 0)
        self._out_seq = (self._out_seq + 1) & 0xFFFF
        self._out_ts = (self._out_ts + ts_step) & 0xFFFFFFFF
        self._out_time = now
        if not self.sendable:
            return
        header = RTP_HEADER.pack(
            0x80, (0x80 if marker else 0) | payload_type, self._out_seq, self._out_ts, self._out_ssrc
        )
        self._send(header + payload)

    def forward(
        self,
        data: bytes,
        hdr: Header,
        payload_type: int,
        in_clock: int,
        payload: bytes | None = None,
        now: float | None = None,
    ) -> None:
        """Forward a received packet to this leg's party, rewritten into our outgoing stream.

        Sequence numbers and timestamps keep their gaps and order (so loss and reordering
        stay visible to the far end's jitter buffer) but are shifted onto our stream; the
        SSRC is ours; ``payload`` replaces the original one when transcoding.
        """
        if not self.sendable:
            return
        m, _pt, seq, ts, ssrc, _start, _end = hdr
        if now is None:
            now = time.monotonic()
        src = (ssrc, in_clock)
        if src != self._src:
            self._src = src
            gap = 0 if self._out_time is None else round((now - self._out_time) * self.clock_rate)
            self._src_seq_off = (self._out_seq + 1 - seq) & 0xFFFF
            self._src_ts0 = ts
            self._out_ts0 = (self._out_ts + max(gap, 1)) & 0xFFFFFFFF
            m = 1
        out_seq = (seq + self._src_seq_off) & 0xFFFF
        delta = (ts - self._src_ts0) & 0xFFFFFFFF
        if in_clock != self.clock_rate:
            if delta >= 0x80000000:
                delta -= 0x100000000
            delta = delta * self.clock_rate // in_clock
        out_ts = (self._out_ts0 + delta) & 0xFFFFFFFF
        if ((out_seq - self._out_seq) & 0xFFFF) < 0x8000:
            self._out_seq = out_seq
            self._out_ts = out_ts
            self._out_time = now
        b1 = (0x80 if m else 0) | payload_type
        if payload is None:
            buf = bytearray(data)
            buf[1] = b1
            _SEQ_TS_SSRC.pack_into(buf, 2, out_seq, out_ts, self._out_ssrc)
        else:
            buf = RTP_HEADER.pack(0x80, b1, out_seq, out_ts, self._out_ssrc) + payload  # type: ignore[assignment]
        self._send(buf)

    def _send(self, data: bytes | bytearray) -> None:
        """Send on the socket directly, skipping the transport's write buffer.

        A late RTP packet is worth nothing, so when the socket buffer is full the packet
        is dropped and counted instead of queued; and the per-packet Python wrapper of
        ``DatagramTransport.sendto`` is skipped (the transport still does the reading).
        """
        if self.srtp is not None:
            data = self.srtp.protect(bytes(data))
        try:
            self.sock.sendto(data, self._send_addr)  # type: ignore[union-attr]
        except OSError:
            self._stats.send_errors += 1
        else:
            self._stats.packets_out += 1

    # -- the native core ------------------------------------------------------------------------
    def engage(self, core: NativeCore, peer: MediaLeg | None, *, capture: bool) -> None:
        """Hand this leg's socket and stream state to ``core``, relaying to ``peer``.

        The event loop stops reading the socket; the core reads it, forwards to ``peer`` (also
        engaged; None: to nobody) and, with ``capture``, keeps the decoded audio for the
        recording.
        """
        sock = self.sock
        peer_sock = peer.sock if peer is not None else None
        missing_peer = peer is not None and peer_sock is None
        if sock is None or missing_peer or self._core is not None or self._loop is None:
            raise RuntimeError(f"{self!r} cannot be engaged")
        src = self._src
        core.add(
            fd=sock.fileno(),
            peer=peer_sock.fileno() if peer_sock is not None else -1,
            audio_pt=self.payload_type if self.payload_type is not None else -1,
            event_pt=self.telephone_event_pt if self.telephone_event_pt is not None else -1,
            table=core.table(self.codec_name or ""),
            capture=capture,
            addr=self._send_addr,
            expect_ip=self._expected_ip,
            latch_any=self._latch_any,
            latched=self._latched,
            blocked=self._hold or self.direction not in ("sendrecv", "recvonly"),
            out_ssrc=self._out_ssrc,
            out_seq=self._out_seq,
            out_ts=self._out_ts,
            out_time=self._out_time,
            src_ssrc=src[0] if src is not None and src[1] == self.clock_rate else None,
            src_seq_off=self._src_seq_off,
            src_ts0=self._src_ts0,
            out_ts0=self._out_ts0,
            clock=self.clock_rate,
            rx_ssrc=self._rx_ssrc,
            rx_ts0=self._rx_ts0,
            rx_t0=self._rx_t0,
            **self._sequence_state(),
        )
        self._loop.remove_reader(sock.fileno())
        self._core = core

    def disengage(self) -> list[tuple[float, bytes]]:
        """Take the leg back from the core: its stream state, counters and undrained audio.

        Returns the captured chunks ``(monotonic time, s16le)`` not yet drained.
        """
        core = self._core
        if core is None or self.sock is None:
            return []
        self._core = None
        state, counted, chunks = core.remove(self.sock.fileno())
        self._send_addr = state["addr"]
        self._expected_ip = state["expect_ip"]
        self._latched = bool(state["latched"])
        self._out_seq = state["out_seq"]
        self._out_ts = state["out_ts"]
        self._out_time = state["out_time"]
        src = state["src_ssrc"]
        self._src = None if src is None else (src, self.clock_rate)
        self._src_seq_off = state["src_seq_off"]
        self._src_ts0 = state["src_ts0"]
        self._out_ts0 = state["out_ts0"]
        self._rx_ssrc = state["rx_ssrc"]
        self._rx_ts0 = state["rx_ts0"]
        self._rx_t0 = state["rx_t0"]
        self._add_stats(counted)
        self._take_sequence_state(state)
        self._update_sendable()
        if not self.closed and self._loop is not None and not self._loop.is_closed():
            self._loop.add_reader(self.sock.fileno(), self._readable)
        return chunks  # type: ignore[no-any-return]

    # -- teardown ---------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop reading and close both sockets (``MediaRelay.release`` also frees the ports)."""
        self._changing()
        self.closed = True
        self.sendable = False
        self.handler = None
        loop = self._loop if self._loop is not None and not self._loop.is_closed() else None
        if self._transport is not None:
            self._transport.close()  # the transport owns the RTP socket's descriptor now
            self._transport = None
            if self.sock is not None:
                self.sock.detach()
                self.sock = None
        for sock in (self.sock, self._rtcp_sock):
            if sock is None:
                continue
            if loop is not None:
                loop.remove_reader(sock.fileno())
            sock.close()
        self.sock = None
        self._rtcp_sock = None


class _Feed(asyncio.DatagramProtocol):
    """uvloop's transport calls the leg's ``datagram_received`` straight through this."""

    def __init__(self, leg: MediaLeg) -> None:
        self.datagram_received = leg.datagram_received  # type: ignore[method-assign]
        self._leg = leg

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable and the like: the far end is not there (yet); keep going.
        _LOGGER.debug("%r: %s", self._leg, exc)
