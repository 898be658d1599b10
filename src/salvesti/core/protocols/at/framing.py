"""Line framing of what a modem sends in command mode (ITU-T V.250 §5.7 / §6.2).

With verbose result codes (``ATV1``) a modem frames every response as::

    response = CR LF text CR LF        ; S3 = CR, S4 = LF
    echo     = command-line CR         ; only while ATE1

so the framer treats CR and LF alike as terminators and drops empty lines.  It never
raises: NUL and other control bytes, undecodable bytes and lines longer than
``max_line`` come out as :class:`ProtocolError` items in the same order as the lines.
"""

from __future__ import annotations

import re

from .events import ProtocolError

_TERMINATORS = re.compile(rb"[\r\n]")
# Any C0 control except TAB, and DEL: a verbose result line never contains them.
_CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")

#: Final result codes that end a command successfully (V.250 Table 1 and V.253 VCON).
OK_FINALS = ("OK", "CONNECT", "VCON")
#: Final result codes that end a command with an error.
ERROR_FINALS = ("ERROR", "+CME ERROR", "+CMS ERROR", "COMMAND NOT SUPPORT")
#: Call progress result codes: final for call-control commands, unsolicited otherwise.
CALL_PROGRESS = ("NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE", "NO DIAL TONE")


class LineFramer:
    """Turns a byte stream into lines, one at a time.

    The commander pulls one line, acts on it, and may then take the unframed rest of
    the buffer (:meth:`take_rest`) when the modem has switched to voice data after
    ``CONNECT``: the bytes that follow are audio, not lines.
    """

    def __init__(self, max_line: int = 1024) -> None:
        self.max_line = max_line
        self._buf = bytearray()
        self._discarding = False

    def push(self, data: bytes) -> None:
        self._buf += data

    def pop(self) -> bytes | ProtocolError | None:
        """The next complete non-empty line (without terminators), an error, or None."""
        while True:
            m = _TERMINATORS.search(self._buf)
            if m is None:
                if len(self._buf) > self.max_line and not self._discarding:
                    sample = bytes(self._buf[:64])
                    self._buf.clear()
                    self._discarding = True
                    return ProtocolError("overlong line", sample)
                if self._discarding:
                    self._buf.clear()
                return None
            raw = bytes(self._buf[: m.start()])
            del self._buf[: m.end()]
            if self._discarding:
                self._discarding = False
                continue
            if len(raw) > self.max_line:
                return ProtocolError("overlong line", raw[:64])
            if raw.strip(b" \t"):
                return raw

    def take_rest(self) -> bytes:
        """Everything buffered but not yet framed, emptying the buffer."""
        rest = bytes(self._buf)
        self._buf.clear()
        self._discarding = False
        return rest

    @property
    def pending(self) -> bytes:
        """Bytes of a partial line (for diagnostics and tests)."""
        return bytes(self._buf)


def decode_line(raw: bytes) -> str | ProtocolError:
    """Text of one line, or an error when it holds control bytes.

    UTF-8 first (modern modules send names in UTF-8 when ``AT+CSCS="UTF-8"``), then
    Latin-1, which cannot fail, for old analogue modems.
    """
    if _CONTROL.search(raw):
        return ProtocolError("control bytes in line", raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return text.strip(" \t")


def _starts(line: str, codes: tuple[str, ...]) -> str | None:
    for code in codes:
        if line == code or line.startswith(code + " ") or line.startswith(code + ":"):
            return code
    return None


def final_kind(line: str) -> str | None:
    """``ok``, ``error`` or ``progress`` when ``line`` is a final result code, else None."""
    upper = line.upper()
    if _starts(upper, OK_FINALS):
        return "ok"
    if _starts(upper, ERROR_FINALS):
        return "error"
    if _starts(upper, CALL_PROGRESS):
        return "progress"
    return None


def split_fields(text: str) -> tuple[str, ...]:
    """Split ``a,"b,c",,d`` into ``('a', 'b,c', '', 'd')`` (V.250 §5.4.2.2 strings).

    An unterminated quote runs to the end of the line instead of failing: a truncated
    URC still gives the fields that did arrive.
    """
    fields: list[str] = []
    cur: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            fields.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    fields.append("".join(cur).strip())
    return tuple(fields)
