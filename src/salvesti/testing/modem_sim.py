"""A modem on the master side of a pty, speaking a profile's AT dialect byte for byte.

Tests (ours and plugin authors') open the slave side with pyserial exactly as they would
open ``/dev/ttyUSB2``; the simulator answers like the device in ``hardware/modems/*.yaml``:
echo (``ATE0``/``ATE1``), ``\\r\\nOK\\r\\n`` framing, the profile's init commands, RING
cadence with caller ID in the device's format, answer / dial / hang-up, audio at the real
byte rate (DLE-shielded on the AT port for V.253, raw PCM on a second pty for SIMCom and
Quectel), far-end hang-up, unplug / replug, and a garbage mode.  A background thread moves
the bytes; every control method is thread-safe and returns once it has taken effect::

    with ModemSimulator("simcom_sim7600", tmp_path / "ttyGSM") as sim:
        port = serial.Serial(str(sim.path), 115200, timeout=1)
        sim.incoming_call("+3725551234")
"""

from __future__ import annotations

import contextlib
import os
import queue
import random
import re
import selectors
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from salvesti.core.protocols.at.pcm import from_linear16, to_linear16
from salvesti.core.protocols.at.voice import VoiceStreamDecoder, encode_voice
from salvesti.hardware import Profile, load_profile
from salvesti.testing.pty_port import PtyPort

_DLE = b"\x10"
_TICK = 0.005


@dataclass(frozen=True)
class LogEntry:
    """Bytes on the AT port: ``>`` host to modem, ``<`` modem to host (audio not logged)."""

    t: float
    direction: str
    data: bytes


class ModemSimulator:
    """See the module docstring.  ``port`` is a path for the slave symlink (needed for
    :meth:`replug`), an already open master fd, or None for a fresh pty (``path`` then
    is the slave's /dev/pts name)."""

    def __init__(
        self,
        profile_name: str,
        port: int | str | os.PathLike[str] | None = None,
        *,
        audio_master_fd: int | None = None,
        audio_path: str | os.PathLike[str] | None = None,
        ring_period: float | None = None,
        max_rings: int = 20,
        dial_outcome: str = "answer",
        dial_delay: float = 0.3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.profile: Profile = load_profile(profile_name)
        self._msg = self.profile.messages
        self._enc = self.profile.audio.encoding
        self._rate = self.profile.audio.sample_rate
        self._link = Path(port) if isinstance(port, str | os.PathLike) else None
        self._master_arg = port if isinstance(port, int) else None
        separate = self.profile.audio.transport == "separate_port"
        if audio_path is None and separate and self._link is not None:
            audio_path = self._link.with_name(self._link.name + "-audio")
        self._audio_link = Path(audio_path) if audio_path is not None and separate else None
        self._audio_master_arg = audio_master_fd
        self._separate = separate
        self.ring_period = ring_period or float(self._msg["ring_period_s"])
        self.max_rings = max_rings
        self.dial_outcome = dial_outcome
        self.dial_delay = dial_delay
        self._clock = clock
        self._calls: queue.Queue[tuple[Callable[[], None], threading.Event]] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._rng = random.Random(0)
        self.log: list[LogEntry] = []
        self._received = bytearray()
        self._far = b""
        self.garbage = False
        self.at: PtyPort | None = None
        self.audio: PtyPort | None = None
        self._plug()

    # -- lifecycle ----------------------------------------------------------------

    def _plug(self) -> None:
        for port in (self.at, self.audio):
            if port is not None:
                port.close()
        self.at = PtyPort(self._link, self._master_arg)
        if self._separate and (self._audio_link is not None or self._audio_master_arg is not None):
            self.audio = PtyPort(self._audio_link, self._audio_master_arg)
        elif self._separate:
            self.audio = PtyPort(None)
        self._reset()

    def _reset(self) -> None:
        """Power-on state, as after plugging the device in."""
        self.echo = True
        self.state = "idle"  # idle | ringing | dialing | active | offhook
        self.voice: str | None = None  # rx | tx | duplex (V.253 voice data states)
        self._voice_in = VoiceStreamDecoder(from_dte=True)
        self.pcm = False
        self._pcm_armed = False
        self._inbuf = bytearray()
        self._timers: list[tuple[float, Callable[[], None]]] = []
        self._number: str | None = ""
        self._name: str | None = None
        self._rings = 0
        self._answered_at = 0.0
        self._audio_t0: float | None = None
        self._audio_sent = 0
        self._far_pos = 0

    @property
    def path(self) -> str | None:
        """What the host opens for AT commands."""
        return self.at.path if self.at else str(self._link) if self._link else None

    @property
    def audio_path(self) -> str | None:
        """What the host opens for audio (separate-port profiles only)."""
        return self.audio.path if self.audio else None

    def start(self) -> ModemSimulator:
        self._thread = threading.Thread(target=self._run, name=f"modem-sim-{self.profile.name}")
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread and close both ptys (removing the symlinks)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        for port in (self.at, self.audio):
            if port is not None:
                port.close()

    def __enter__(self) -> ModemSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _do(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the simulator thread and wait for it (directly if not started)."""
        if self._thread is None or threading.current_thread() is self._thread:
            fn()
            return
        done = threading.Event()
        self._calls.put((fn, done))
        if not done.wait(5):
            raise TimeoutError("modem simulator thread did not answer")

    # -- control API for tests ------------------------------------------------------

    def incoming_call(self, number: str | None, name: str | None = None, *, rings: int | None = None) -> None:
        """The line rings: RING every ``ring_period`` with caller ID in the profile's format
        (``number=None``: the caller withheld it); after ``rings`` rings (default
        ``max_rings``) the caller gives up."""
        self._do(lambda: self._incoming(number, name, rings or self.max_rings))

    def remote_hangup(self) -> None:
        """The far party hangs up (or gives up ringing)."""
        self._do(self._remote_hangup)

    def unplug(self) -> None:
        """Pull the USB plug: the ptys close and the symlinks go away."""

        def unplug() -> None:
            for port in (self.at, self.audio):
                if port is not None:
                    port.close()
            self.at = self.audio = None

        self._do(unplug)

    def replug(self) -> None:
        """Plug back in: new pty pairs at the same symlink paths, power-on state."""
        if self._link is None or self._master_arg is not None:
            raise RuntimeError("replug() needs the simulator to own its pty and a path")
        self._do(self._plug)

    def set_far_audio(self, pcm: bytes | str | os.PathLike[str]) -> None:
        """What the far party says: s16le mono PCM at the profile's rate, or any audio file."""
        if not isinstance(pcm, bytes | bytearray):
            from salvesti.core.audio.convert import decode_to_mono

            pcm = decode_to_mono(pcm, self._rate)
        data = bytes(pcm)
        self._do(lambda: setattr(self, "_far", data))

    def received_audio(self) -> bytes:
        """Everything the host sent towards the far party, as s16le mono PCM."""
        with self._lock:
            raw = bytes(self._received)
        return to_linear16(raw, self._enc)

    def set_garbage(self, enabled: bool, *, seed: int = 0) -> None:
        """Garbage mode: before every response, one burst of noise (partial line, random
        bytes, NUL, an overlong line), chosen by a seeded RNG so failures reproduce."""
        self._rng = random.Random(seed)
        self.garbage = enabled

    def inject_garbage(self, kind: str | None = None) -> None:
        self._do(lambda: self._garbage(kind))

    def wait_for(self, predicate: Callable[[ModemSimulator], bool], timeout: float = 5.0) -> bool:
        """Poll ``predicate(self)`` until true or ``timeout`` (bounded, for tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            time.sleep(0.01)
        return predicate(self)

    def format_log(self) -> str:
        """The AT traffic in the golden-log format (``> command`` / ``< bytes``)."""
        out: list[str] = []
        for e in self.log:
            if e.direction == ">":
                out += [f"> {c}" for c in e.data.decode("latin-1").split("\r") if c.strip()]
            else:
                escaped = e.data.decode("latin-1").encode("unicode_escape").decode("ascii")
                out.append(f"< {escaped}")
        return "\n".join(out) + "\n"

    # -- the thread ------------------------------------------------------------------

    def _run(self) -> None:
        sel = selectors.DefaultSelector()
        try:
            while not self._stop.is_set():
                while not self._calls.empty():
                    fn, done = self._calls.get_nowait()
                    try:
                        fn()
                    finally:
                        done.set()
                self._select(sel)
                self._tick(self._clock())
        finally:
            sel.close()

    def _select(self, sel: selectors.BaseSelector) -> None:
        for key in list(sel.get_map().values()):
            sel.unregister(key.fileobj)
        ports = [p for p in (self.at, self.audio) if p is not None and p.fd is not None]
        for p in ports:
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if p.out else 0)
            sel.register(p.fd, events, p)  # type: ignore[arg-type]
        if not ports:
            time.sleep(_TICK)
            return
        for key, mask in sel.select(_TICK):
            port: PtyPort = key.data
            if mask & selectors.EVENT_READ and port.fd is not None:
                try:
                    data = os.read(port.fd, 4096)
                except (BlockingIOError, InterruptedError):
                    data = b""
                except OSError:  # EIO: nobody has the slave open right now
                    data = b""
                if data:
                    self._from_host(port, data)
            if mask & selectors.EVENT_WRITE and port.fd is not None and port.out:
                with contextlib.suppress(BlockingIOError, OSError):
                    n = os.write(port.fd, port.out)
                    del port.out[:n]

    def _send(self, data: bytes, *, log: bool = True) -> None:
        if self.at is None:
            return
        if log:
            self.log.append(LogEntry(self._clock(), "<", data))
        self.at.out += data

    def _lines(self, lines: list[str], final: str | None = None) -> None:
        if self.garbage:
            self._garbage(None)
        text = "".join(f"\r\n{line}\r\n" for line in lines)
        if final is not None:
            text += f"\r\n{final}\r\n"
        self._send(text.encode("utf-8"))

    def _fill(self, template: str) -> str:
        now = time.localtime()
        duration = int(self._clock() - self._answered_at) if self._answered_at else 0
        withheld = self._number is None
        number = self._number or ("P" if self.profile.caller_id_method == "v253_block" else "")
        values = {
            "number": number,
            "type": "128" if withheld else "145" if number.startswith("+") else "129",
            "validity": "1" if withheld else "0",
            "name": self._name or "",
            "duration": f"{duration // 3600:02d}{duration // 60 % 60:02d}{duration % 60:02d}",
            "time": time.strftime("%I:%M%p", now),
            "mmdd": time.strftime("%m%d", now),
            "hhmm": time.strftime("%H%M", now),
            "pcm": "1" if self.pcm or self._pcm_armed else "0",
        }
        return template.format(**values)

    def _urcs(self, key: str) -> list[str]:
        return [self._fill(t) for t in self._msg[key]]

    def _at(self, delay: float, fn: Callable[[], None]) -> None:
        self._timers.append((self._clock() + delay, fn))

    def _tick(self, now: float) -> None:
        due = [t for t in self._timers if t[0] <= now]
        if due:
            self._timers = [t for t in self._timers if t[0] > now]
            for _, fn in sorted(due, key=lambda t: t[0]):
                fn()
        self._pump_audio(now)

    # -- host input -------------------------------------------------------------------

    def _from_host(self, port: PtyPort, data: bytes) -> None:
        if port is self.audio:
            if self._flowing():
                with self._lock:
                    self._received += data
            return
        if self.voice is not None:
            self._voice_data(data)
            return
        self.log.append(LogEntry(self._clock(), ">", data))
        if self.echo:
            self._send(data, log=True)
        self._inbuf += data
        while b"\r" in self._inbuf:
            raw, _, rest = bytes(self._inbuf).partition(b"\r")
            self._inbuf = bytearray(rest)
            line = raw.strip(b"\n \t").decode("latin-1")
            if line:
                self._command(line)
                if self.voice is not None:  # the rest of the bytes are voice data
                    rest, self._inbuf = bytes(self._inbuf), bytearray()
                    if rest:
                        self._voice_data(rest)
                    return

    def _voice_data(self, data: bytes) -> None:
        pcm, events = self._voice_in.feed(data)
        with self._lock:
            self._received += pcm
        codes = {getattr(e, "code", None) for e in events}
        if self._voice_in.ended or "!" in codes:
            if self.voice in ("rx", "duplex"):
                self._send(b"\x10\x03")
            self.voice = None
            self._voice_in = VoiceStreamDecoder(from_dte=True)
            self._lines([], "OK")

    # -- commands ---------------------------------------------------------------------

    def _command(self, line: str) -> None:
        cmd = line.upper()
        prof = self.profile
        names = {c.cmd.upper() for c in prof.all_commands()}
        responses = {k.upper(): v for k, v in self._msg["responses"].items()}
        answer = {c.cmd.upper() for c in prof.answer} | {"ATA"}
        hangup = {c.cmd.upper() for c in prof.hangup} | {"ATH", "ATH0", "AT+CHUP"}
        dial = re.match(r"^ATD([^;]*);?$", cmd)
        if cmd in ("ATE0", "ATE1"):
            self.echo = cmd == "ATE1"
            self._lines([], "OK")
        elif cmd == "ATZ":
            self.echo = True
            self._lines([], "OK")
        elif cmd in responses:
            self._lines([self._fill(t) for t in responses[cmd]], "OK")
        elif cmd in answer and self.state == "ringing":
            self._answer()
        elif cmd in answer and cmd != "ATA" and self.state == "idle":
            self.state = "offhook"
            self._lines([], "OK")
        elif cmd in answer:
            self._lines([], "NO CARRIER")
        elif cmd in hangup:
            self._local_hangup()
        elif dial:
            self._dial(line[3:].rstrip(";"))
        elif cmd in {c.cmd.upper() for c in prof.audio.start}:
            if self.state != "active":
                self._lines([], "+CME ERROR: operation not allowed")
            else:
                self.pcm = True
                self._start_audio()
                self._lines([], "OK")
        elif cmd in {c.cmd.upper() for c in prof.audio.stop}:
            self.pcm = False
            self._lines([], "OK")
        elif cmd.startswith("AT+QPCMV="):
            self._pcm_armed = cmd.startswith("AT+QPCMV=1")
            self._lines([], "OK")
        elif cmd in ("AT+VRX", "AT+VTX", "AT+VTR") and prof.audio.transport == "dle_voice":
            if self.state != "active":
                self._lines([], "ERROR")
                return
            self.voice = {"AT+VRX": "rx", "AT+VTX": "tx", "AT+VTR": "duplex"}[cmd]
            self._lines([], "CONNECT")
            self._start_audio()
        elif cmd == "AT" or cmd in names:
            self._lines([], "OK")
        else:
            self._lines([], "ERROR")

    def _incoming(self, number: str | None, name: str | None, rings: int) -> None:
        self.state, self._number, self._name, self._rings = "ringing", number, name, 0

        def ring() -> None:
            if self.state != "ringing":
                return
            if self._rings >= rings:
                self._remote_hangup()
                return
            self._rings += 1
            self._lines(self._urcs("ring"))
            timing = self._msg["caller_id_timing"]
            if timing == "every_ring" or self._rings == 1:
                self._lines(self._urcs("caller_id"))
            self._at(self.ring_period, ring)

        ring()

    def _answer(self) -> None:
        self.state = "active"
        self._answered_at = self._clock()
        self._lines(self._urcs("answered"), self._msg["answer_result"])
        self._start_audio()

    def _start_audio(self) -> None:
        self._audio_t0, self._audio_sent, self._far_pos = self._clock(), 0, 0

    def _dial(self, number: str) -> None:
        self._number, self._name = number, None
        final_on_answer = self._msg["dial_final_on_answer"]
        self.state = "dialing"
        if not final_on_answer:
            self._lines([], "OK")

        def outcome() -> None:
            if self.state != "dialing":
                return
            if self.dial_outcome == "answer":
                self.state = "active"
                self._answered_at = self._clock()
                final = self._msg["dial_result"] if final_on_answer else None
                self._lines(self._urcs("dial_answered"), final)
                self._start_audio()
                return
            self.state = "idle"
            key = "dial_busy" if self.dial_outcome == "busy" else "dial_no_answer"
            lines = self._urcs(key)
            if final_on_answer:
                self._lines(lines[:-1], lines[-1] if lines else "NO CARRIER")
            else:
                self._lines(lines)

        self._at(self.dial_delay, outcome)

    def _local_hangup(self) -> None:
        was = self.state
        self.state, self.pcm, self.voice = "idle", False, None
        lines = self._urcs("local_hangup") if was == "active" else []
        self._lines(lines, "OK")
        self._answered_at = 0.0

    def _remote_hangup(self) -> None:
        if self.state == "ringing":
            self.state = "idle"
            self._lines(self._urcs("missed_call"))
        elif self.state in ("active", "dialing"):
            self.state, self.pcm = "idle", False
            for code in self._msg["remote_hangup_dle"]:
                self._send(_DLE + code.encode("ascii"))
            self._lines(self._urcs("remote_hangup"))
        self._answered_at = 0.0

    # -- audio and noise ---------------------------------------------------------------

    def _flowing(self) -> bool:
        """Audio moves between the far party and the host right now."""
        if self.state != "active":
            return False
        return (self.pcm or self._pcm_armed) if self._separate else self.voice is not None

    def _pump_audio(self, now: float) -> None:
        """Send the far party's audio at the real rate while audio flows."""
        if not self._flowing() or self.voice == "tx" or self._audio_t0 is None:
            return
        due = int((now - self._audio_t0) * self._rate) - self._audio_sent
        if due <= 0:
            return
        width = 2 if self._enc == "s16le" else 1
        pcm = self._far[self._far_pos * 2 : (self._far_pos + due) * 2]
        pcm += b"\x00\x00" * (due - len(pcm) // 2)
        self._far_pos += due
        self._audio_sent += due
        data = from_linear16(pcm, self._enc)
        target = self.audio if self._separate else self.at
        if target is None or len(target.out) > 64 * 1024 // width:
            return  # nobody reads: a real device overruns and drops too
        target.out += data if self._separate else encode_voice(data)

    def _garbage(self, kind: str | None) -> None:
        kind = kind or self._rng.choice(["partial", "random", "nul", "overlong"])
        noise = {
            "partial": b"\r\nRI",
            "random": bytes(self._rng.randrange(0x20, 0x7F) for _ in range(self._rng.randrange(1, 12))),
            "nul": b"\x00\x00\r\n",
            "overlong": b"X" * 3000 + b"\r\n",
        }[kind]
        self._send(noise)
