"""Noise from the device (random bytes, NUL, overlong lines, partial lines without CR/LF)
while idle and in the middle of a call: the source neither crashes nor stalls, the call
still ends and is recorded, the next caller ID is read, and the log says what happened."""

from __future__ import annotations

import asyncio
import logging
import wave

import pytest
from serial_at_rig import Rig, tone, wait_until

from salvesti.core.protocols.at import ProtocolError
from salvesti.integrations.serial_at.garbage import GARBAGE_LOG_INTERVAL, GarbageLog
from salvesti.testing.modem_sim import ModemSimulator

KINDS = ("partial", "random", "nul", "overlong")


def inject_all(sim: ModemSimulator) -> None:
    for kind in KINDS:
        sim.inject_garbage(kind)
    sim.inject_garbage("partial")  # and leave half a line pending


def garbage_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("salvesti.integrations.serial_at") and r.levelno == logging.WARNING
    ]


@pytest.mark.parametrize("profile", ["simcom_sim7600", "quectel_ec2x", "v253_voice_modem"])
async def test_garbage_idle_and_mid_call(tmp_path, caplog, profile):
    caplog.set_level(logging.DEBUG, logger="salvesti.integrations.serial_at")
    sim = ModemSimulator(profile, tmp_path / "ttyMODEM", ring_period=0.2)
    sim.set_far_audio(tone(5.0, 440.0))
    sim.start()
    try:
        async with Rig(tmp_path, sim, "    answer_after_rings: 2\n") as rig:
            assert rig.source_state() == "loaded"
            inject_all(sim)  # idle
            await asyncio.sleep(0.2)

            sim.incoming_call("55512345", "Mari")
            await wait_until(lambda: sim.state == "active", what="answer after idle garbage")
            await asyncio.sleep(0.8)
            inject_all(sim)  # mid-call
            await asyncio.sleep(0.3)
            sim.remote_hangup()
            await wait_until(lambda: rig.ended, seconds=4, what="call_ended after mid-call garbage")
            first = rig.ended[0]
            assert sim.wait_for(lambda s: s.state == "idle", 2)

            # Garbage before every response from now on; the next caller ID still works.
            sim.set_garbage(True, seed=7)
            sim.incoming_call("+3725559999")
            await wait_until(lambda: sim.state == "active", what="answer in garbage mode")
            await asyncio.sleep(0.3)
            sim.remote_hangup()
            await wait_until(lambda: len(rig.ended) == 2, seconds=4, what="second call_ended")
            second = rig.ended[1]
            sim.set_garbage(False)
            assert rig.source.connected and rig.source.garbage.total >= 2
    finally:
        sim.stop()

    assert first["remote_number"] == "+37255512345"
    assert first["disposition"] == "answered"
    assert first["recording"]["status"] == "saved", first
    with wave.open(first["recording"]["path"], "rb") as w:
        assert w.getnchannels() == 2 and w.getnframes() / w.getframerate() > 1.0
    assert second["remote_number"] == "+3725559999"
    assert second["disposition"] == "answered"
    assert second["recording"]["status"] == "saved"

    said = garbage_warnings(caplog)
    expected = f"serial_at(gsm): ignored garbage from {sim.path}: "
    assert said and said[0].startswith(expected), said
    assert "check the device and its cable" in said[0]
    # Rate-limited: one warning however much noise arrived within the minute.
    assert sum("ignored garbage" in m for m in said) == 1


def test_garbage_warnings_are_summed_up_once_a_minute(caplog):
    caplog.set_level(logging.DEBUG, logger="salvesti.test_garbage")
    log = GarbageLog(logging.getLogger("salvesti.test_garbage"), "serial_at(x)", "/dev/ttyUSB0")
    for i in range(5):
        log.add(ProtocolError("overlong line", b"XXXX"), now=100.0 + i)
    log.add(ProtocolError("control bytes in line", b"\x00"), now=100.0 + GARBAGE_LOG_INTERVAL + 1)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "serial_at(x): ignored garbage from /dev/ttyUSB0: overlong line b'XXXX'; the line keeps "
        "working, but check the device and its cable if this repeats",
        "serial_at(x): ignored garbage from /dev/ttyUSB0: control bytes in line b'\\x00' (and 4 more "
        "since the last warning); the line keeps working, but check the device and its cable if this repeats",
    ]
    assert log.total == 6
