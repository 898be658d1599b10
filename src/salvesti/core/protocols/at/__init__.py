"""Sans-IO AT command protocol: line framing, the command queue, call URCs and V.253
voice data with DLE shielding.  Bytes and ``now`` in, events and bytes out; nothing
here opens a port or reads a clock.
"""

from .commander import CALL_COMMANDS, VOICE_END, ATCommander, CommandHandle
from .events import (
    CallerId,
    CommandDone,
    CommandTimeout,
    DleEvent,
    Dtmf,
    Event,
    HangupDetected,
    ProtocolError,
    Ring,
    Urc,
    VoiceData,
    VoiceStreamEnded,
)
from .framing import LineFramer, decode_line, final_kind, split_fields
from .urc import CallerIdBlock, parse_urc
from .voice import (
    CLEAR_TRANSMIT,
    END_OF_TRANSMIT,
    RECEIVE_ABORT,
    VoiceStreamDecoder,
    encode_voice,
)

__all__ = [
    "CALL_COMMANDS",
    "CLEAR_TRANSMIT",
    "END_OF_TRANSMIT",
    "RECEIVE_ABORT",
    "VOICE_END",
    "ATCommander",
    "CallerId",
    "CallerIdBlock",
    "CommandDone",
    "CommandHandle",
    "CommandTimeout",
    "DleEvent",
    "Dtmf",
    "Event",
    "HangupDetected",
    "LineFramer",
    "ProtocolError",
    "Ring",
    "Urc",
    "VoiceData",
    "VoiceStreamDecoder",
    "VoiceStreamEnded",
    "decode_line",
    "encode_voice",
    "final_kind",
    "parse_urc",
    "split_fields",
]
