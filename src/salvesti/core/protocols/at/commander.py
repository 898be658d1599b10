"""ATCommander: one AT command at a time over a byte stream, sans-IO.

A modem answers one command line at a time and interleaves unsolicited result codes
(RING, +CLIP, NO CARRIER…) with the answers.  The commander keeps the queue, matches
lines to the command in flight, turns the rest into call events, and hands the driver
the bytes to write and the one deadline it must wake up for::

    cmdr = ATCommander()
    handle = cmdr.send("AT+CLIP=1", timeout=2.0, now=loop.time())
    port.write(cmdr.data_to_send())
    for event in cmdr.feed(port.read(), now=loop.time()): ...
    # and when loop.time() >= cmdr.next_timer(): cmdr.handle_timer(loop.time())

Voice data (V.253): when ``AT+VRX``, ``AT+VTX`` or ``AT+VTR`` is answered
``CONNECT`` the port carries DLE-shielded audio until ``DLE ETX``.  The commander
then routes bytes through :class:`VoiceStreamDecoder` (giving :class:`VoiceData` and
DLE events), holds queued commands back, and returns to line mode afterwards; the
``OK`` that follows the end of voice completes a pseudo command named
:data:`VOICE_END`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from .events import (
    CommandDone,
    CommandTimeout,
    Event,
    HangupDetected,
    ProtocolError,
    VoiceData,
)
from .framing import LineFramer, decode_line, final_kind
from .urc import CallerIdBlock, is_urc, parse_cid_line, parse_urc
from .voice import END_OF_TRANSMIT, RECEIVE_ABORT, VoiceStreamDecoder, encode_voice, shielded_events

#: Pseudo command that waits for the final result code after a voice data state.
VOICE_END = "<voice end>"
#: Commands for which NO CARRIER / BUSY / NO ANSWER / NO DIALTONE are the final result.
#: For every other command these lines are unsolicited (a GSM module reports the far
#: end hanging up with NO CARRIER whenever it happens, even in the middle of AT+CSQ).
CALL_COMMANDS = ("ATD", "ATA", "ATH", "ATO", "AT+CHUP", "AT+VTX", "AT+VRX", "AT+VTR", "AT+VLS")
_VOICE_MODES = {"+VTR": "duplex", "+VRX": "rx", "+VTX": "tx"}


@dataclass
class CommandHandle:
    """One queued command; ``result`` is set when it completes or times out."""

    cmd: str
    timeout: float
    result: CommandDone | CommandTimeout | None = None
    deadline: float | None = None
    lines: list[str] = field(default_factory=list)
    echo_done: bool = False

    @property
    def done(self) -> bool:
        return self.result is not None


class ATCommander:
    """The AT command/response state machine (see the module docstring).

    ``cid_block_timeout``: seconds of quiet after which a V.253 caller-ID block that
    lacks NAME is reported anyway.  ``voice_end_timeout``: how long to wait for the
    final result code after a voice data state.
    """

    def __init__(
        self,
        *,
        max_line: int = 1024,
        cid_block_timeout: float = 0.5,
        voice_end_timeout: float = 5.0,
    ) -> None:
        self._framer = LineFramer(max_line)
        self._queue: deque[CommandHandle] = deque()
        self._current: CommandHandle | None = None
        self._out = bytearray()
        self._cid = CallerIdBlock()
        self._cid_deadline: float | None = None
        self._cid_timeout = cid_block_timeout
        self._voice_end_timeout = voice_end_timeout
        self._voice: VoiceStreamDecoder | None = None
        self._skip_lf = False
        self._cmd_dle = False
        #: ``rx``, ``tx`` or ``duplex`` while in a voice data state, else None.
        self.voice_mode: str | None = None

    # -- commands -----------------------------------------------------------------

    def send(self, cmd: str, timeout: float, now: float) -> CommandHandle:
        """Queue ``cmd`` (without the trailing CR); its timeout runs from when it is
        written, not from when it was queued."""
        handle = CommandHandle(cmd, timeout)
        self._queue.append(handle)
        self._start_next(now)
        return handle

    @property
    def busy(self) -> bool:
        """A command (or the end of a voice state) is waiting for its answer."""
        return self._current is not None

    def data_to_send(self) -> bytes:
        """Bytes to write to the port now (and forget)."""
        data, self._out = bytes(self._out), bytearray()
        return data

    def next_timer(self) -> float | None:
        """The earliest time :meth:`handle_timer` must be called, or None."""
        times = [t for t in (self._cid_deadline, self._current and self._current.deadline) if t]
        return min(times) if times else None

    def handle_timer(self, now: float) -> list[Event]:
        events: list[Event] = []
        if self._cid_deadline is not None and now >= self._cid_deadline:
            self._cid_deadline = None
            cid = self._cid.flush()
            if cid:
                events.append(cid)
        cur = self._current
        if cur is not None and cur.deadline is not None and now >= cur.deadline:
            cur.result = CommandTimeout(cur.cmd, tuple(cur.lines))
            events.append(cur.result)
            self._current = None
            self._start_next(now)
        return events

    # -- voice data ---------------------------------------------------------------

    def send_voice(self, pcm: bytes) -> None:
        """Queue audio for the modem during ``AT+VTX`` / ``AT+VTR`` (DLE-shielded here)."""
        if self.voice_mode not in ("tx", "duplex"):
            raise RuntimeError("send_voice() outside a transmitting voice data state")
        self._out += encode_voice(pcm)

    def end_voice(self, now: float) -> None:
        """Ask the modem to leave the voice data state.

        ``tx``: send ``DLE ETX`` and go back to command mode at once (the modem sends
        no ``DLE ETX`` of its own, only the final result).  ``rx``: send ``DLE !``
        (receive abort) and wait for the modem's ``DLE ETX``.  ``duplex``: send
        ``DLE ETX`` and wait for the modem's ``DLE ETX``.
        """
        if self.voice_mode is None:
            return
        if self.voice_mode == "rx":
            self._out += RECEIVE_ABORT
            return
        self._out += END_OF_TRANSMIT
        if self.voice_mode == "tx":
            self._leave_voice(now)

    # -- input ----------------------------------------------------------------------

    def feed(self, data: bytes, now: float) -> list[Event]:
        """Take bytes read from the port; return the events they complete."""
        events: list[Event] = []
        if self._voice is not None:
            self._feed_voice(data, now, events)
            return events
        if self._cmd_dle:
            data = b"\x10" + data
            self._cmd_dle = False
        # In online voice command mode a V.253 modem still reports DLE events (busy,
        # dial tone...) between result codes; AT text never contains DLE, so split them
        # out here, keeping their order relative to the lines around them.
        start = 0
        while self._voice is None:
            j = data.find(b"\x10", start)
            if j < 0:
                self._lines(data[start:], now, events)
                return events
            self._lines(data[start:j], now, events)
            if self._voice is not None:  # CONNECT: from the DLE on it is voice data
                start = j
                break
            if j + 1 >= len(data):
                self._cmd_dle = True
                return events
            events.extend(shielded_events(chr(data[j + 1])))
            start = j + 2
        self._feed_voice(data[start:], now, events)
        return events

    def _lines(self, data: bytes, now: float, events: list[Event]) -> None:
        self._framer.push(data)
        while True:
            item = self._framer.pop()
            if item is None:
                break
            if isinstance(item, ProtocolError):
                events.append(item)
                continue
            line = decode_line(item)
            if isinstance(line, ProtocolError):
                events.append(line)
                continue
            self._line(line, now, events)
            if self._voice is not None:
                self._feed_voice(self._framer.take_rest(), now, events)
                break

    def _feed_voice(self, data: bytes, now: float, events: list[Event]) -> None:
        assert self._voice is not None
        if self._skip_lf and data:
            # "\r\nCONNECT\r\n": the framer ended the line at CR; its LF is no audio.
            self._skip_lf = False
            data = data[1:] if data[:1] == b"\n" else data
        for item in self._voice.feed_items(data):
            if not isinstance(item, bytes):
                events.append(item)
            elif events and isinstance(events[-1], VoiceData):
                events[-1] = VoiceData(events[-1].data + item)
            else:
                events.append(VoiceData(item))
        if not self._voice.ended:
            return
        rest = self._voice.remainder
        self._leave_voice(now)
        if rest:
            events.extend(self.feed(rest, now))

    def _leave_voice(self, now: float) -> None:
        self._voice = None
        self.voice_mode = None
        handle = CommandHandle(VOICE_END, self._voice_end_timeout)
        handle.deadline = now + self._voice_end_timeout
        handle.echo_done = True
        self._current = handle

    def _line(self, line: str, now: float, events: list[Event]) -> None:
        cur = self._current
        cid = parse_cid_line(line)
        if cid is not None:
            done = self._cid.add(*cid)
            if done is not None:
                events.append(done)
            self._cid_deadline = now + self._cid_timeout if self._cid else None
            return
        pending = self._cid.flush()
        if pending is not None:
            self._cid_deadline = None
            events.append(pending)
        if is_urc(line, cur.cmd if cur else None):
            events.extend(parse_urc(line))
            return
        if cur is not None and not cur.echo_done:
            cur.echo_done = True
            if line.upper() == cur.cmd.upper():
                return
        kind = final_kind(line)
        if kind == "progress" and (cur is None or not cur.cmd.upper().startswith(CALL_COMMANDS)):
            events.append(HangupDetected(line.upper()))
            return
        if cur is None:
            if kind is not None:
                events.append(ProtocolError("final result code without a command", line.encode()))
            else:
                events.extend(parse_urc(line))
            return
        if kind is None:
            cur.lines.append(line)
            return
        cur.result = CommandDone(cur.cmd, kind == "ok", tuple(cur.lines), line)
        events.append(cur.result)
        self._current = None
        if line.upper().startswith("CONNECT"):
            for key, mode in _VOICE_MODES.items():
                if key in cur.cmd.upper():
                    self.voice_mode = mode
                    self._voice = VoiceStreamDecoder()
                    self._skip_lf = True
                    return
        self._start_next(now)

    def _start_next(self, now: float) -> None:
        if self._current is not None or self._voice is not None or not self._queue:
            return
        handle = self._queue.popleft()
        handle.deadline = now + handle.timeout
        self._current = handle
        self._out += handle.cmd.encode("ascii", "replace") + b"\r"
