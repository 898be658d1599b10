"""Voluptuous schema of a modem profile (``hardware/modems/*.yaml``).

A profile is the whole difference between two USB devices as far as Salvesti is
concerned: what to send to set it up, answer, dial and hang up; how it tells us who is
calling and that the far end hung up; where the audio flows and in which format; and,
written down plainly, what nobody has verified on real hardware yet.  The ``messages``
block says what the device sends, as templates: the serial_at source does not read it
(it parses with :mod:`salvesti.core.protocols.at`), the modem simulator speaks it, and
tests check that the parser understands every template.
"""

from __future__ import annotations

import voluptuous as vol

ENCODINGS = ("s16le", "u8", "ulaw", "alaw")
TRANSPORTS = ("dle_voice", "separate_port")
CALLER_ID_METHODS = ("clip", "clcc", "v253_block")
HANGUP_SIGNALS = (
    "NO CARRIER",
    "BUSY",
    "NO ANSWER",
    "VOICE CALL: END",
    "+CLCC state 6",
    "MISSED_CALL",
    "DLE b",
    "DLE d",
    "DLE s",
    "DLE l",
)


def _command(value: object) -> dict:
    """A command is a string or ``{cmd, timeout, optional}``; normalise to the dict."""
    if isinstance(value, str):
        value = {"cmd": value}
    return COMMAND(value)


COMMAND = vol.Schema(
    {
        vol.Required("cmd"): vol.All(str, vol.Length(min=1), vol.Match(r"^(AT|at|At)")),
        vol.Optional("timeout", default=2.0): vol.All(vol.Coerce(float), vol.Range(min=0.05, max=120)),
        # optional: an ERROR answer is logged, not fatal (commands some firmware lacks).
        vol.Optional("optional", default=False): bool,
        vol.Optional("why"): str,
    }
)
COMMANDS = vol.All([_command], vol.Length(min=0))
NONEMPTY_COMMANDS = vol.All([_command], vol.Length(min=1))
TEMPLATES = [str]

AUDIO = vol.Schema(
    {
        vol.Required("transport"): vol.In(TRANSPORTS),
        vol.Required("encoding"): vol.In(ENCODINGS),
        vol.Required("sample_rate"): vol.All(int, vol.Range(min=4000, max=48000)),
        vol.Optional("channels", default=1): vol.All(int, vol.Range(min=1, max=2)),
        # full: both directions at once; half: one at a time (receive or transmit).
        vol.Required("duplex"): vol.In(("full", "half")),
        # Commands to start the far party's audio towards us / ours towards them /
        # both at once; and to stop audio (all optional, depending on the device).
        vol.Optional("receive", default=[]): COMMANDS,
        vol.Optional("transmit", default=[]): COMMANDS,
        vol.Optional("full_duplex", default=[]): COMMANDS,
        vol.Optional("start", default=[]): COMMANDS,
        vol.Optional("stop", default=[]): COMMANDS,
        # Where the audio port is, for humans (the config's audio_device says it).
        vol.Optional("port_hint"): str,
        vol.Optional("frame_bytes"): vol.All(int, vol.Range(min=1)),
        vol.Optional("notes"): str,
    }
)

MESSAGES = vol.Schema(
    {
        vol.Required("ring"): TEMPLATES,
        vol.Required("caller_id"): TEMPLATES,
        # "every_ring": caller ID after each RING (GSM); "after_first_ring": once,
        # between the first and second ring (V.253 / Bellcore FSK on analogue lines).
        vol.Required("caller_id_timing"): vol.In(("every_ring", "after_first_ring")),
        vol.Optional("answered", default=[]): TEMPLATES,
        vol.Optional("dial_answered", default=[]): TEMPLATES,
        # True when ATD's final result waits for the answer (+COLP=1, V.253 VCON);
        # false when ATD answers OK at once and the answer comes as a URC (SIMCom).
        vol.Optional("dial_final_on_answer", default=False): bool,
        vol.Optional("dial_result", default="OK"): str,
        vol.Optional("dial_busy", default=["BUSY"]): TEMPLATES,
        vol.Optional("dial_no_answer", default=["NO ANSWER"]): TEMPLATES,
        vol.Required("remote_hangup"): TEMPLATES,
        # DLE codes the device sends in voice data when the far end hangs up.
        vol.Optional("remote_hangup_dle", default=[]): [vol.All(str, vol.Length(min=1, max=1))],
        vol.Optional("missed_call", default=[]): TEMPLATES,
        vol.Optional("local_hangup", default=[]): TEMPLATES,
        vol.Optional("ring_period_s", default=3.0): vol.All(vol.Coerce(float), vol.Range(min=0.1, max=30)),
        # The answer to ATA/ATD in the device's mode (OK, or VCON on voice modems).
        vol.Optional("answer_result", default="OK"): str,
        # Commands the simulator answers with fixed lines (identification, queries).
        vol.Optional("responses", default={}): {str: [str]},
    }
)

PROFILE = vol.Schema(
    {
        vol.Required("name"): vol.All(str, vol.Match(r"^[a-z0-9_]+$")),
        vol.Required("title"): str,
        vol.Required("kind"): vol.In(("gsm", "analog")),
        vol.Optional("sources", default=[]): [str],
        vol.Optional("baudrate", default=115200): vol.All(int, vol.Range(min=1200)),
        vol.Required("init"): NONEMPTY_COMMANDS,
        vol.Required("answer"): NONEMPTY_COMMANDS,
        # Templates with {number}.
        vol.Required("dial"): NONEMPTY_COMMANDS,
        vol.Required("hangup"): NONEMPTY_COMMANDS,
        vol.Required("caller_id"): {
            vol.Required("method"): vol.In(CALLER_ID_METHODS),
            vol.Optional("notes"): str,
        },
        vol.Required("audio"): AUDIO,
        vol.Required("hangup_detection"): vol.All([vol.In(HANGUP_SIGNALS)], vol.Length(min=1)),
        vol.Required("messages"): MESSAGES,
        vol.Optional("quirks", default=[]): [str],
        vol.Optional("notes", default=""): str,
        # What we could not verify: said plainly so nobody mistakes a guess for a fact.
        vol.Required("unknown"): [str],
    }
)
