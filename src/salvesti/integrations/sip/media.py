"""The media relay of the SIP source: RTP in, RTP out, audio into the recording.

Salvesti sits in the media path of every call (a B2BUA).  :class:`MediaRelay` hands out
port pairs; :class:`CallMedia` joins a call's outside leg (trunk or the outside party) and
inside leg (the office phone), plays the recording notice into the outside leg, relays both
ways once bridged (transcoding when the legs negotiated different codecs, passing DTMF
events through) and feeds the recording: channel 0 what the outside party said, channel 1
what it heard.

Everything per packet is a synchronous call chain from ``datagram_received``: no task per
packet, no queue.  Once bridged with one G.711 codec on both legs, a call's legs go to the
native core when there is one (:mod:`salvesti.integrations.sip.native`): C relays them and
keeps their audio, which the recording drains once per flush (:meth:`CallMedia._drain`);
any change (hold, re-INVITE, transfer, unbridge, close) takes them back to Python first.
In Python, decoding G.711 is two ``bytes.translate`` calls; the recording copies the chunk
into its place with one slice assignment and writes once a second.  Measured with
``bench/rtp_path.py`` against a bare asyncio UDP relay.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from salvesti.core.audio.codecs import resample
from salvesti.core.errors import SalvestiError
from salvesti.core.protocols.rtp.dtmf import TelephoneEvent
from salvesti.core.protocols.rtp.keypad import Forward, KeypadCode, Matched, Release
from salvesti.core.protocols.rtp.packet import RtpError
from salvesti.core.recording import HEARD, OUTSIDE
from salvesti.integrations.sip.dtmf_out import send_digits
from salvesti.integrations.sip.media_leg import CodecSpec, Header, LegStats, MediaLeg

if TYPE_CHECKING:
    from salvesti.core.recording import CallRecording
    from salvesti.integrations.sip.native import NativeCore, NativePool

__all__ = ["CallMedia", "CodecSpec", "LegStats", "MediaLeg", "MediaPortsExhausted", "MediaRelay"]

_LOGGER = logging.getLogger(__name__)

PTIME_MS = 20
#: Seconds a possible start of the pause code is held back before it goes on as dialled.
KEYPAD_WAIT_S = 2.0


class MediaPortsExhausted(SalvestiError):
    """Every RTP port pair in the configured range is in use."""


class MediaRelay:
    """Allocates RTP/RTCP port pairs (even/odd) from ``port_min``-``port_max`` on ``host``.

    ``native``: the C relay cores bridged calls are handed to (None: everything in Python).
    """

    def __init__(self, host: str, port_min: int, port_max: int, *, native: NativePool | None = None) -> None:
        if port_min > port_max:
            raise ValueError(f"rtp port range {port_min}-{port_max} is empty")
        self.host = host
        self.native = native
        self.port_min = port_min + (port_min & 1)
        self.port_max = port_max
        self._next = self.port_min
        self._legs: dict[int, MediaLeg] = {}
        self._started = False

    @property
    def legs(self) -> list[MediaLeg]:
        return list(self._legs.values())

    @property
    def capacity(self) -> int:
        """How many port pairs the range holds."""
        return max((self.port_max - self.port_min + 1) // 2, 0)

    async def start(self) -> None:
        self._started = True

    async def stop(self) -> None:
        """Close every leg still open."""
        for leg in list(self._legs.values()):
            self.release(leg)
        if self.native is not None:
            self.native.close()
        self._started = False

    async def allocate(self) -> MediaLeg:
        """Bind the next free even port (RTP) and the odd one above it (RTCP).

        Ports held by other programs are skipped; :class:`MediaPortsExhausted` when no pair
        in the range can be bound.
        """
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        for _ in range(self.capacity):
            port = self._next
            self._next += 2
            if self._next + 1 > self.port_max:
                self._next = self.port_min
            if port in self._legs or port + 1 > self.port_max:
                continue
            leg = MediaLeg(self, self.host, port)
            try:
                rtp_sock = _bind(family, self.host, port)
                try:
                    rtcp_sock = _bind(family, self.host, port + 1)
                except OSError:
                    rtp_sock.close()
                    raise
            except OSError as err:
                if err.errno in (errno.EADDRINUSE, errno.EACCES):
                    continue
                raise
            await leg.attach(loop, rtp_sock, rtcp_sock)
            self._legs[port] = leg
            return leg
        raise MediaPortsExhausted(
            f"no free RTP port pair in {self.port_min}-{self.port_max} on {self.host} "
            f"({len(self._legs)} in use): widen rtp_ports"
        )

    def release(self, leg: MediaLeg) -> None:
        """Close the leg's sockets and return its ports to the pool (idempotent).

        On the standard loop the ports are free at once; uvloop closes the RTP socket on
        its next iteration.
        """
        leg.close()
        if self._legs.get(leg.local_port) is leg:
            del self._legs[leg.local_port]


def _wake_up(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def _bind(family: int, host: str, port: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class CallMedia:
    """The media of one call: outside leg, optional inside leg, notice playback, recording.

    Until :meth:`bridge` nothing passes between the legs, but the outside party's audio is
    recorded.  While a notice plays, the inside party's audio is not relayed to the outside
    (the agent must never be heard before the notice ends) nor recorded.
    """

    def __init__(self, outside: MediaLeg, recording: CallRecording | None = None) -> None:
        self.outside = outside
        self.inside: MediaLeg | None = None
        self._recording = recording
        self.bridged = False
        self._playing = False
        self._stopped = False
        self._wake: asyncio.Future[None] | None = None
        self._rec_rate = recording.sample_rate if recording is not None else 0
        #: The native core relaying both legs now, None while Python does.
        self._core: NativeCore | None = None
        self._closing = False
        #: ``salvesti.pause_code``: the inside's digits are watched for it (``keypad.py``) and
        #: ``on_keypad_code`` is called when it is pressed; such calls stay on the Python path.
        self.keypad: KeypadCode | None = None
        self.on_keypad_code: Callable[[], None] | None = None
        self._kp_key: tuple[int, int] | None = None
        self._kp_pass = True
        self._kp_timer: asyncio.TimerHandle | None = None
        self._kp_sending: asyncio.Task[None] | None = None
        outside.handler = self._from_outside
        outside.on_change = self._leg_changing

    @property
    def recording(self) -> CallRecording | None:
        return self._recording

    @recording.setter
    def recording(self, rec: CallRecording | None) -> None:
        """Record into ``rec`` from now on (the core is told: it captures only with one)."""
        self._suspend_native()
        self._recording = rec
        self._rec_rate = rec.sample_rate if rec is not None else 0
        self._update_native()

    # -- notice playback --------------------------------------------------------------------------
    async def play(self, pcm: bytes, sample_rate: int) -> bool:
        """Play mono s16le into the outside leg, paced at 20 ms, and into recording channel 1.

        Frames are timed from the start instant (not from the previous sleep), so timer
        jitter does not accumulate.  Returns True when played to the end (20 ms after the
        last frame left, when the far end has heard it), False when :meth:`stop_playback`
        was called or the leg closed first.
        """
        leg = self.outside
        codec = leg.encoder
        if codec is None or leg.payload_type is None:
            raise RuntimeError("play() before the outside leg's codec is known (set_remote first)")
        if self._playing:
            raise RuntimeError("a notice is already playing on this call")
        rate = codec.sample_rate
        audio = resample(pcm, sample_rate, rate)
        per_frame = codec.samples_per_frame(PTIME_MS) * 2
        ts_step = codec.timestamp_step(PTIME_MS)
        rec = self.recording
        rec_audio = resample(pcm, sample_rate, self._rec_rate) if rec is not None else b""
        rec_frame = self._rec_rate * PTIME_MS // 1000 * 2
        self._stopped = False
        self._suspend_native()
        self._playing = True
        self._update_native()  # the notice mode: see _engage_notice
        n_frames = (len(audio) + per_frame - 1) // per_frame
        # G.711 is one byte per sample and stateless: encode the whole notice at once and
        # slice it, instead of a numpy call per 20 ms frame (the per-call notice cost).
        whole = None
        if codec.name in ("PCMU", "PCMA"):
            whole = codec.encode(audio + bytes(n_frames * per_frame - len(audio)))
        start = time.monotonic()
        try:
            for i in range(n_frames + 1):
                due = start + i * PTIME_MS / 1000
                delay = due - time.monotonic()
                if delay > 0:
                    await self._sleep(delay)
                if self._stopped or leg.closed:
                    return False
                if i == n_frames:  # the last frame has been heard to its end
                    break
                if whole is not None:
                    payload = whole[i * per_frame // 2 : (i + 1) * per_frame // 2]
                else:
                    frame = audio[i * per_frame : (i + 1) * per_frame]
                    if len(frame) < per_frame:
                        frame += bytes(per_frame - len(frame))
                    payload = codec.encode(frame)
                leg.send_frame(payload, leg.payload_type, ts_step, marker=i == 0)
                if rec is not None:
                    chunk = rec_audio[i * rec_frame : (i + 1) * rec_frame]
                    if chunk:
                        rec.put(HEARD, chunk, due)
            return True
        finally:
            self._playing = False
            self._suspend_native()
            self._update_native()

    async def _sleep(self, delay: float) -> None:
        """Sleep that :meth:`stop_playback` can cut short: one future and one timer, no task."""
        loop = asyncio.get_running_loop()
        wake = self._wake = loop.create_future()
        timer = loop.call_later(delay, _wake_up, wake)
        try:
            await wake
        finally:
            timer.cancel()
            self._wake = None

    def stop_playback(self) -> None:
        """End a running :meth:`play` at once (it then returns False)."""
        self._stopped = True
        if self._wake is not None:
            _wake_up(self._wake)

    @property
    def playing(self) -> bool:
        return self._playing

    # -- bridging -----------------------------------------------------------------------------------
    def attach_inside(self, leg: MediaLeg) -> None:
        """Join the inside leg; nothing flows between the legs until :meth:`bridge`."""
        self._suspend_native()
        self.inside = leg
        leg.handler = self._from_inside
        leg.on_change = self._leg_changing
        self._update_native()

    def bridge(self) -> None:
        if self.inside is None:
            raise RuntimeError("bridge() without an inside leg (attach_inside first)")
        self._suspend_native()  # during a notice the core may hold the legs unbridged
        self.bridged = True
        self._update_native()

    def unbridge(self) -> None:
        self._suspend_native()
        self.bridged = False

    def replace_inside(self, leg: MediaLeg) -> MediaLeg | None:
        """Swap the inside leg (transfer); the outside leg and the recording go on.

        Returns the previous inside leg, detached but open: the caller releases it.
        """
        self._suspend_native()
        old = self.inside
        if old is not None and old is not leg:
            old.handler = None
            old.on_change = None
        self.attach_inside(leg)
        return old

    def set_hold(self, leg: MediaLeg, on: bool) -> None:
        """While ``on``, nothing is sent to ``leg``; what it sends is still relayed and recorded."""
        leg.hold = on

    async def close(self) -> None:
        """Stop playback, unbridge and release both legs (their ports go back to the pool)."""
        self._closing = True
        self.stop_playback()
        if self._kp_timer is not None:
            self._kp_timer.cancel()
        if self._kp_sending is not None:
            self._kp_sending.cancel()
        self._suspend_native()
        self.bridged = False
        for leg in (self.outside, self.inside):
            if leg is None:
                continue
            leg.handler = None
            leg.on_change = None
            if leg.relay is not None:
                leg.relay.release(leg)
            else:
                leg.close()
        await asyncio.sleep(0)

    # -- the native core ----------------------------------------------------------------------------
    @property
    def native(self) -> bool:
        """True while the native core relays this call."""
        return self._core is not None

    def _update_native(self) -> None:
        """Hand both legs to the native core if the call is in a state it can carry."""
        out, ins = self.outside, self.inside
        pool = out.relay.native if out.relay is not None else None
        if self._core is not None or pool is None or self._closing:
            return
        if self._playing:
            self._engage_notice(pool)
            return
        if self.keypad is not None:
            return  # the inside's digits must be seen here, one by one
        if ins is None or not (self.bridged and ins.relay is out.relay):
            return
        if out.srtp is not None or ins.srtp is not None:
            return  # SRTP is done in Python (srtp.py): the core relays plain RTP only
        if out.closed or ins.closed or out.sock is None or ins.sock is None or out.engaged or ins.engaged:
            return
        if out.payload_type is None or ins.payload_type is None or not out.same_codec(ins):
            return
        if not pool.relays(out.codec_name, out.clock_rate):
            return
        recording = self.recording is not None
        self._engage(pool, (out, ins, recording), (ins, out, recording))

    def _engage(
        self,
        pool: NativePool,
        outside: tuple[MediaLeg, MediaLeg | None, bool],
        inside: tuple[MediaLeg, MediaLeg | None, bool] | None,
    ) -> None:
        """Hand the legs (each ``(leg, relays to, captures)``) to one core, together."""
        core: NativeCore = pool.pick()
        out, out_peer, out_capture = outside
        with core.handing_over():
            out.engage(core, out_peer, capture=out_capture)
            if inside is not None:
                try:
                    inside[0].engage(core, inside[1], capture=inside[2])
                except Exception:
                    out.disengage()
                    raise
        self._core = core
        if self.recording is not None:
            self.recording.add_feeder(self._drain)

    def _engage_notice(self, pool: NativePool) -> None:
        """While a notice plays: the core records the outside party (and, bridged, relays
        them to the phone), reads and drops what the phone sends (the agent is not heard
        before the notice ends), and sends the notice frames Python paces (send_frame), so
        neither party's packets cost the event loop anything during the notice either."""
        out, ins = self.outside, self.inside
        if out.closed or out.sock is None or out.engaged or out.payload_type is None:
            return
        if out.srtp is not None or (ins is not None and ins.srtp is not None):
            return
        if not pool.relays(out.codec_name, out.clock_rate):
            return
        inside_ok = (
            ins is not None
            and ins.relay is out.relay
            and not ins.closed
            and ins.sock is not None
            and not ins.engaged
            and ins.payload_type is not None
            and out.same_codec(ins)
        )
        if ins is not None and not inside_ok:
            return  # transcoding or another relay: Python carries the notice as before
        outside = (out, ins if self.bridged else None, self.recording is not None)
        self._engage(pool, outside, (ins, None, False) if ins is not None else None)

    def _suspend_native(self) -> None:
        """Take both legs back to Python, with the audio the core still holds."""
        core = self._core
        if core is None:
            return
        self._core = None
        if self.recording is not None:
            self.recording.remove_feeder(self._drain)
        with core.handing_over():
            heard = self.outside.disengage()
            said = self.inside.disengage() if self.inside is not None else []
        self._record(OUTSIDE, heard)
        self._record(HEARD, said)

    def _leg_changing(self) -> None:
        """A leg is about to change (hold, re-INVITE, close): back to Python, then decide again."""
        if self._core is None:
            return
        self._suspend_native()
        if not self._closing:
            try:
                asyncio.get_running_loop().call_soon(self._update_native)
            except RuntimeError:
                pass

    def _drain(self) -> None:
        """The recording's feeder: what the core captured since the last flush."""
        core = self._core
        if core is None:
            return
        self._record(OUTSIDE, core.drain(self.outside.sock.fileno()))  # type: ignore[union-attr]
        if self.inside is not None and self.inside.engaged:
            self._record(HEARD, core.drain(self.inside.sock.fileno()))  # type: ignore[union-attr]

    def _record(self, channel: int, chunks: list[tuple[float, bytes]]) -> None:
        rec = self.recording
        if rec is None:
            return
        rate = self._rec_rate
        for at, pcm in chunks:
            rec.put(channel, pcm if rate == 8000 else resample(pcm, 8000, rate), at)

    # -- per-packet paths --------------------------------------------------------------------------
    def _from_outside(self, leg: MediaLeg, data: bytes, hdr: Header, now: float) -> None:
        self._pass(leg, self.inside if self.bridged else None, OUTSIDE, data, hdr, now)

    def _from_inside(self, leg: MediaLeg, data: bytes, hdr: Header, now: float) -> None:
        if self.bridged and not self._playing and leg is self.inside:
            self._pass(leg, self.outside, HEARD, data, hdr, now)

    def _pass(
        self, src: MediaLeg, dst: MediaLeg | None, channel: int, data: bytes, hdr: Header, now: float
    ) -> None:
        """Record ``src``'s audio on ``channel`` and relay it to ``dst`` (None: record only)."""
        pt = hdr[1]
        if pt == src.payload_type:
            pcm = None
            rec = self.recording
            if rec is not None:
                dec = src.decoder
                pcm = dec.decode(data[hdr[5] : hdr[6]])  # type: ignore[union-attr]
                rate = dec.sample_rate  # type: ignore[union-attr]
                chunk = pcm if rate == self._rec_rate else resample(pcm, rate, self._rec_rate)
                rec.put(channel, chunk, src.rx_time(hdr[3], hdr[4], now))
            if dst is not None and dst.sendable and not (self._kp_sending is not None and src is self.inside):
                # (while held-back digits go out, their events stand for the inside's audio)
                if dst.codec_name == src.codec_name and dst.clock_rate == src.clock_rate:
                    dst.forward(data, hdr, dst.payload_type, src.clock_rate, None, now)  # type: ignore[arg-type]
                else:
                    self._transcode(src, dst, data, hdr, pcm, now)
        elif pt == src.telephone_event_pt and pt is not None:
            if self.keypad is not None and src is self.inside and not self._keypad_passes(data, hdr):
                return
            if dst is not None and dst.telephone_event_pt is not None and dst.sendable:
                dst.forward(data, hdr, dst.telephone_event_pt, src.clock_rate, None, now)
        else:
            src.stats.unknown_pt += 1

    # -- the pause code on the keypad -----------------------------------------------------------
    def watch_keypad(self, code: str, on_code: Callable[[], None]) -> None:
        """Watch the inside's digits for ``code``: it is never passed on, ``on_code`` runs."""
        self._suspend_native()
        self.keypad = KeypadCode(code)
        self.on_keypad_code = on_code
        self._update_native()

    def _keypad_passes(self, data: bytes, hdr: Header) -> bool:
        """Whether this event packet from the inside goes on; decided once per digit (an
        event's packets share its timestamp) by the sans-IO :class:`KeypadCode`."""
        key = (hdr[4], hdr[3])
        if key == self._kp_key:
            return self._kp_pass
        try:
            digit = TelephoneEvent.parse(data[hdr[5] : hdr[6]]).digit
        except RtpError:
            return False  # not an event we can read: never let half a code through
        if digit is None:
            return True
        assert self.keypad is not None
        self._kp_key = key
        decision = self.keypad.feed(digit)
        self._kp_pass = isinstance(decision, Forward)
        if self._kp_timer is not None:
            self._kp_timer.cancel()
            self._kp_timer = None
        if isinstance(decision, Release):
            self._send_held(decision.digits)
        elif isinstance(decision, Matched):
            if self.on_keypad_code is not None:
                self.on_keypad_code()
        if self.keypad.pending:
            loop = asyncio.get_running_loop()
            self._kp_timer = loop.call_later(KEYPAD_WAIT_S, self._keypad_expired)
        return self._kp_pass

    def _keypad_expired(self) -> None:
        self._kp_timer = None
        if self.keypad is not None:
            self._send_held(self.keypad.expire().digits)

    def _send_held(self, digits: str) -> None:
        """Digits held back as a possible code turned out not to be one: on to the outside."""
        out = self.outside
        if not digits or out.telephone_event_pt is None or self._closing:
            return
        previous = self._kp_sending

        async def send() -> None:
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            await send_digits(out, out.telephone_event_pt, digits)  # type: ignore[arg-type]

        task = self._kp_sending = asyncio.get_running_loop().create_task(send())

        def done(t: asyncio.Task[None]) -> None:
            if self._kp_sending is t:
                self._kp_sending = None

        task.add_done_callback(done)

    @staticmethod
    def _transcode(
        src: MediaLeg, dst: MediaLeg, data: bytes, hdr: Header, pcm: bytes | None, now: float
    ) -> None:
        dec, enc = src.decoder, dst.encoder
        if pcm is None:
            pcm = dec.decode(data[hdr[5] : hdr[6]])  # type: ignore[union-attr]
        if dec.sample_rate != enc.sample_rate:  # type: ignore[union-attr]
            pcm = resample(pcm, dec.sample_rate, enc.sample_rate)  # type: ignore[union-attr]
        dst.forward(data, hdr, dst.payload_type, src.clock_rate, enc.encode(pcm), now)  # type: ignore[union-attr,arg-type]
