"""The modem simulator over real ptys, driven by pyserial + ATCommander."""

from __future__ import annotations

import math
import os
import struct
import time

import pytest
import serial
from sim_client import SerialAT

from salvesti.core.protocols.at import (
    CallerId,
    CommandDone,
    CommandTimeout,
    HangupDetected,
    ProtocolError,
    Ring,
    Urc,
    VoiceData,
)
from salvesti.hardware import load_profile
from salvesti.testing.modem_sim import ModemSimulator


def tone(seconds: float, freq: float = 440.0, rate: int = 8000) -> bytes:
    n = int(seconds * rate)
    return struct.pack(f"<{n}h", *(int(8000 * math.sin(2 * math.pi * freq * i / rate)) for i in range(n)))


@pytest.fixture
def sims():
    made: list[ModemSimulator] = []
    clients: list[SerialAT] = []

    def make(profile: str, path, **kw) -> tuple[ModemSimulator, SerialAT]:
        sim = ModemSimulator(profile, path, **kw).start()
        made.append(sim)
        client = SerialAT(sim.path)
        clients.append(client)
        return sim, client

    yield make
    for c in clients:
        c.close()
    for s in made:
        s.stop()


@pytest.mark.parametrize("name", ["simcom_sim7600", "quectel_ec2x", "v253_voice_modem"])
def test_init_commands_answered_with_exact_framing(sims, tmp_path, name):
    sim, at = sims(name, tmp_path / "ttyMODEM")
    at.port.write(b"AT\r")
    assert read_exactly(at.port, 9) == b"AT\r\r\nOK\r\n"  # echo on at power-up, then CR LF framing
    for c in load_profile(name).init:
        result = at.cmd(c.cmd)
        assert isinstance(result, CommandDone) and result.ok, (c.cmd, result)
    at.port.write(b"AT\r")
    assert read_exactly(at.port, 6) == b"\r\nOK\r\n"  # ATE0 took effect
    time.sleep(0.05)
    assert at.port.read(100) == b""  # and nothing more
    assert at.cmd("AT+NONSENSE") == CommandDone("AT+NONSENSE", False, (), "ERROR")
    assert "> ATE0" in sim.format_log()


def test_simcom_incoming_call_audio_both_ways(sims, tmp_path):
    far = tone(0.6)
    sim, at = sims("simcom_sim7600", tmp_path / "ttyGSM", ring_period=0.2)
    sim.set_far_audio(far)
    for c in sim.profile.init:
        at.cmd(c.cmd)
    sim.incoming_call("+3725551234", "Mari")
    seen = at.wait(lambda e: isinstance(e, CallerId))
    assert Ring() in seen
    assert CallerId("+3725551234", "Mari", "valid") in seen
    assert at.cmd("AT+CPCMREG=1") == CommandDone(
        "AT+CPCMREG=1", False, (), "+CME ERROR: operation not allowed"
    )
    assert at.cmd("ATA", 5) == CommandDone("ATA", True, (), "OK")
    assert Urc("VOICE CALL", ("BEGIN",)) in at.events
    audio = serial.Serial(sim.audio_path, 115200, timeout=0.05)
    try:
        t0 = time.monotonic()  # audio cannot start before the command is sent
        assert at.cmd("AT+CPCMREG=1").ok
        notice = tone(0.5, 1000.0)
        audio.write(notice)
        got = bytearray()
        while len(got) < len(far) and time.monotonic() - t0 < 5:
            got += audio.read(4096)
        elapsed = time.monotonic() - t0
        assert bytes(got[: len(far)]) == far
        assert elapsed >= 0.55, "audio must come at the real byte rate (16000 B/s), not at once"
        assert sim.wait_for(lambda s: len(s.received_audio()) >= len(notice))
        assert sim.received_audio()[: len(notice)] == notice
    finally:
        audio.close()
    sim.remote_hangup()
    seen = at.wait(lambda e: e == HangupDetected("NO CARRIER"))
    assert HangupDetected("+CLCC state 6") in seen
    assert HangupDetected("VOICE CALL: END") in seen


def test_simcom_missed_call(sims, tmp_path):
    sim, at = sims("simcom_sim7600", tmp_path / "ttyGSM", ring_period=0.05)
    at.cmd("ATE0")
    sim.incoming_call("+3725551234", rings=2)
    seen = at.wait(lambda e: e == HangupDetected("MISSED_CALL"))
    assert seen.count(Ring()) == 2


@pytest.mark.parametrize(
    ("name", "outcome", "expect"),
    [
        ("quectel_ec2x", "busy", CommandDone("ATD+3725551234;", False, (), "BUSY")),
        ("quectel_ec2x", "no_answer", CommandDone("ATD+3725551234;", False, (), "NO ANSWER")),
        ("v253_voice_modem", "answer", CommandDone("ATD+3725551234;", True, (), "VCON")),
    ],
)
def test_dial_outcomes_final_on_answer(sims, tmp_path, name, outcome, expect):
    sim, at = sims(name, tmp_path / "tty", dial_outcome=outcome, dial_delay=0.1)
    at.cmd("ATE0")
    for c in sim.profile.dial_commands("+3725551234"):
        result = at.cmd(c.cmd, c.timeout)
    assert result == expect


def test_simcom_dial_answered_and_busy(sims, tmp_path):
    sim, at = sims("simcom_sim7600", tmp_path / "ttyGSM", dial_delay=0.1)
    at.cmd("ATE0")
    assert at.cmd("ATD5551234;").ok  # OK at once; the answer is a URC
    at.wait(lambda e: e == Urc("VOICE CALL", ("BEGIN",)))
    assert sim.state == "active"
    assert at.cmd("AT+CHUP").ok
    assert HangupDetected("VOICE CALL: END") in at.events
    sim.dial_outcome = "busy"
    assert at.cmd("ATD5551234;").ok
    at.wait(lambda e: e == HangupDetected("BUSY"))


def test_v253_caller_id_record_and_play(sims, tmp_path):
    far = tone(0.4)
    sim, at = sims("v253_voice_modem", tmp_path / "ttyACM", ring_period=0.3)
    sim.set_far_audio(far)
    for c in sim.profile.init:
        assert at.cmd(c.cmd, c.timeout).ok
    sim.incoming_call("5551234", "JOHN DOE")
    seen = at.wait(lambda e: isinstance(e, CallerId))
    cid = next(e for e in seen if isinstance(e, CallerId))
    assert (cid.number, cid.name, cid.validity) == ("5551234", "JOHN DOE", "valid")
    assert at.cmd("AT+VLS=1").ok
    # Play the notice (half duplex: transmit first)...
    assert at.cmd("AT+VTX") == CommandDone("AT+VTX", True, (), "CONNECT")
    notice = tone(0.2, 1000.0)
    at.cmdr.send_voice(_u8(notice))
    at.cmdr.end_voice(time.monotonic())
    at.wait(lambda e: isinstance(e, CommandDone) and e.cmd == "<voice end>")
    heard = sim.received_audio()
    assert len(heard) == len(notice)
    assert max(abs(a - b) for a, b in zip(_s16(heard), _s16(notice), strict=True)) < 256
    # ...then record the far party with DLE-shielded 8-bit audio.
    first = len(at.events)
    assert at.cmd("AT+VRX").final == "CONNECT"
    deadline = time.monotonic() + 3
    got = b""
    while len(got) < len(far) // 2 and time.monotonic() < deadline:
        at.pump(0.05)
        got = b"".join(e.data for e in at.events[first:] if isinstance(e, VoiceData))
    assert max(abs(a - b) for a, b in zip(_s16(_s16le(got)), _s16(far), strict=False)) < 256
    sim.remote_hangup()
    at.wait(lambda e: e == HangupDetected("DLE b"))
    at.cmdr.end_voice(time.monotonic())
    at.wait(lambda e: isinstance(e, CommandDone) and e.cmd == "<voice end>")
    assert at.cmd("ATH0").ok


def test_unplug_and_replug_same_path(sims, tmp_path):
    link = tmp_path / "ttyGSM"
    sim, at = sims("simcom_sim7600", link)
    audio_link = sim.audio_path
    assert at.cmd("AT").ok
    sim.unplug()
    assert not link.exists() and not os.path.lexists(audio_link)
    with pytest.raises(serial.SerialException):
        for _ in range(50):
            at.port.write(b"AT\r")
            at.port.read(10)
    at.close()
    sim.replug()
    assert link.exists() and os.path.exists(audio_link)
    at2 = SerialAT(str(link))
    try:
        assert at2.cmd("AT").ok
        at2.port.write(b"AT\r")  # power-on state: echo is back on
        assert read_exactly(at2.port, 3) == b"AT\r"
    finally:
        at2.close()


def test_garbage_mode_never_breaks_the_client(sims, tmp_path):
    sim, at = sims("quectel_ec2x", tmp_path / "tty")
    at.cmd("ATE0")
    sim.set_garbage(True, seed=7)
    results = [at.cmd(c) for c in ["AT", "AT+CSQ", "AT+CPIN?", "AT", "AT+CLIP=1", "AT"]]
    assert all(isinstance(r, CommandDone | CommandTimeout) for r in results)
    assert sum(isinstance(r, CommandDone) and r.ok for r in results) >= 4
    for kind in ("nul", "overlong", "partial", "random"):
        sim.inject_garbage(kind)
    at.pump(0.2)
    assert any(isinstance(e, ProtocolError) for e in at.events)
    sim.set_garbage(False)
    assert at.cmd("AT").ok


def read_exactly(port: serial.Serial, n: int, seconds: float = 3.0) -> bytes:
    """Read ``n`` bytes or whatever came within ``seconds`` (loaded CI machines are slow)."""
    got = b""
    deadline = time.monotonic() + seconds
    while len(got) < n and time.monotonic() < deadline:
        got += port.read(n - len(got))
    return got


def _u8(pcm: bytes) -> bytes:
    return bytes(((s >> 8) + 128) & 0xFF for s in _s16(pcm))


def _s16le(u8: bytes) -> bytes:
    return struct.pack(f"<{len(u8)}h", *((b - 128) << 8 for b in u8))


def _s16(pcm: bytes) -> tuple[int, ...]:
    return struct.unpack(f"<{len(pcm) // 2}h", pcm[: len(pcm) // 2 * 2])
