"""Voice data with DLE shielding (ITU-T V.253 §4.4 / §9; IS-101 before it).

In a V.253 voice data state (after ``AT+VRX``, ``AT+VTX`` or ``AT+VTR`` answered
``CONNECT``) the serial port carries raw audio samples in both directions.  Because
audio bytes can take any value, the byte DLE (0x10) is an escape:

- ``DLE DLE`` is one data byte 0x10 (so a sender doubles every DLE it sends);
- ``DLE SUB`` (0x1A) is two data bytes 0x10 0x10 (an optional compression);
- ``DLE ETX`` (0x03) ends the stream;
- ``DLE <char>`` is an in-band event: from the modem (DCE) a detected tone or state,
  from the host (DTE) an action such as receive abort (``DLE !``).

Grammar of the modem-to-host stream (V.253 Table 11, checked against the Conexant,
Rockwell and ZyXEL manuals)::

    stream  = *( data / shielded ) DLE ETX
    data    = %x00-0F / %x11-FF / DLE DLE / DLE SUB
    shielded = DLE ( "0"-"9" / "*" / "#" / "A"-"D"          ; DTMF
                   / "b" / "d" / "s" / "q" / "l" / "h" / "H"   ; call progress / line
                   / "a" / "c" / "e" / "f" / "o" / "u" / "$" ) ; tones, buffer states

The decoder never raises: unknown codes become a :class:`DleEvent` named ``unknown``.
"""

from __future__ import annotations

from .events import DleEvent, Dtmf, Event, HangupDetected, VoiceStreamEnded

DLE = 0x10
ETX = 0x03
SUB = 0x1A
CAN = 0x18

#: What the host sends to end ``AT+VTX`` / the transmit half of ``AT+VTR``.
END_OF_TRANSMIT = bytes((DLE, ETX))
#: What the host sends to stop ``AT+VRX`` (V.253 "receive abort").
RECEIVE_ABORT = bytes((DLE, ord("!")))
#: Clear the modem's transmit buffer at once.
CLEAR_TRANSMIT = bytes((DLE, CAN))

#: Shielded codes sent by the modem, with the V.253 meaning.
DCE_CODES: dict[str, str] = {
    "a": "answer_tone",
    "b": "busy",
    "c": "fax_calling_tone",
    "d": "dial_tone",
    "e": "data_calling_tone",
    "f": "bell_answer_tone",
    "h": "local_on_hook",
    "H": "local_off_hook",
    "l": "loop_current_interruption",
    "o": "receive_buffer_overrun",
    "q": "quiet",
    "s": "silence",
    "u": "transmit_buffer_underrun",
    "$": "bong_tone",
    # V.253 lists "^" in some DCE tables without a meaning we could confirm: reported
    # as "unverified" so that a driver can log it instead of guessing.
    "^": "unverified",
}
#: Shielded codes sent by the host, with the V.253 meaning.
DTE_CODES: dict[str, str] = {
    "!": "receive_abort",
    "p": "pause",
    "r": "resume",
    "u": "volume_up",
    "d": "volume_down",
    chr(CAN): "clear_transmit_buffer",
    chr(0x00): "keepalive",
    "^": "unverified",
}
#: Modem events that mean the far party is gone (remote hang-up in analogue telephony
#: shows up as busy or dial tone from the exchange, silence, or loop current drop).
HANGUP_CODES = frozenset("bdsl")
DTMF_DIGITS = frozenset("0123456789*#ABCD")


def encode_voice(pcm: bytes) -> bytes:
    """Shield audio for sending in a voice data state: every DLE byte is doubled."""
    return pcm.replace(b"\x10", b"\x10\x10")


class VoiceStreamDecoder:
    """Splits a shielded voice stream into audio bytes and events.

    ``from_dte=False`` decodes what a modem sends (used by the call source);
    ``from_dte=True`` decodes what a host sends (used by the modem simulator).
    After ``DLE ETX`` the decoder is :attr:`ended`; bytes after it are kept in
    :attr:`remainder` because they belong to command mode (``\\r\\nOK\\r\\n``).
    """

    def __init__(self, *, from_dte: bool = False) -> None:
        self._from_dte = from_dte
        self._pending_dle = False
        self.ended = False
        self.remainder = b""

    def feed(self, data: bytes) -> tuple[bytes, list[Event]]:
        """Take any number of bytes; return the audio in them and the events.

        The audio is concatenated, so where an event fell between samples is lost; use
        :meth:`feed_items` when that matters (the commander does).
        """
        pcm = bytearray()
        events: list[Event] = []
        for item in self.feed_items(data):
            if isinstance(item, bytes):
                pcm += item
            else:
                events.append(item)
        return bytes(pcm), events

    def feed_items(self, data: bytes) -> list[bytes | Event]:
        """Like :meth:`feed`, but audio and events in stream order."""
        if self.ended:
            self.remainder += data
            return []
        items: list[bytes | Event] = []
        out = bytearray()
        i = 0
        n = len(data)
        while i < n:
            if not self._pending_dle:
                j = data.find(b"\x10", i)
                if j < 0:
                    out += data[i:]
                    break
                out += data[i:j]
                i = j + 1
                self._pending_dle = True
                continue
            self._pending_dle = False
            code = data[i]
            i += 1
            if code == DLE:
                out.append(DLE)
            elif code == SUB:
                out += b"\x10\x10"
            else:
                if out:
                    items.append(bytes(out))
                    out.clear()
                if code == ETX:
                    items.append(VoiceStreamEnded())
                    self.ended = True
                    self.remainder = bytes(data[i:])
                    break
                items.extend(self._shielded(chr(code)))
        if out:
            items.append(bytes(out))
        return items

    def _shielded(self, char: str) -> list[Event]:
        return shielded_events(char, from_dte=self._from_dte)


def shielded_events(char: str, *, from_dte: bool = False) -> list[Event]:
    """Events for ``DLE <char>`` (not DLE, SUB or ETX, which carry data or end it)."""
    if not from_dte and char in DTMF_DIGITS:
        return [Dtmf(char)]
    name = (DTE_CODES if from_dte else DCE_CODES).get(char, "unknown")
    events: list[Event] = [DleEvent(char, name)]
    if not from_dte and char in HANGUP_CODES:
        events.append(HangupDetected(f"DLE {char}"))
    return events
