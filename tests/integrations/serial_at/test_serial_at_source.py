"""The serial_at source in a running hub, against the modem simulator on real ptys:
inbound call -> caller ID -> answer on the 2nd ring -> notice -> stereo recording -> hang-up."""

from __future__ import annotations

import asyncio
import struct
import wave
from pathlib import Path

import pytest
from serial_at_rig import Rig, rms, tone, wait_until

from salvesti.testing.modem_sim import ModemSimulator


async def run_call(tmp_path: Path, profile: str, *, talk_s: float = 1.0):
    sim = ModemSimulator(profile, tmp_path / "ttyMODEM", ring_period=0.2)
    sim.set_far_audio(tone(3.0, 440.0))
    sim.start()
    try:
        async with Rig(tmp_path, sim, "    answer_after_rings: 2\n") as rig:
            assert rig.source_state() == "loaded"
            sim.incoming_call("55512345", "Mari")
            await wait_until(lambda: sim.state == "active", what="answer")
            await asyncio.sleep(0.5 + talk_s)
            sim.remote_hangup()
            await wait_until(lambda: rig.ended, what="call_ended")
            return rig.ended[0], sim
    finally:
        sim.stop()


def read_stereo(path: str) -> tuple[bytes, bytes, int]:
    with wave.open(path, "rb") as w:
        assert (w.getnchannels(), w.getsampwidth()) == (2, 2)
        frames = w.readframes(w.getnframes())
        rate = w.getframerate()
    samples = struct.unpack(f"<{len(frames) // 2}h", frames)
    left = struct.pack(f"<{len(samples) // 2}h", *samples[0::2])
    right = struct.pack(f"<{len(samples) // 2}h", *samples[1::2])
    return left, right, rate


@pytest.mark.parametrize("profile", ["simcom_sim7600", "quectel_ec2x", "v253_voice_modem"])
async def test_inbound_call_recorded_with_notice(tmp_path, profile):
    call, sim = await run_call(tmp_path, profile)
    notice = tone(0.5, 1000.0)
    assert call["source"] == "gsm" and call["direction"] == "inbound"
    assert call["line"] == "+37255500000"
    assert call["remote_number"] == "+37255512345"
    assert call["disposition"] == "answered"
    assert call["notice"]["played"] and call["notice"]["complete"]
    assert call["recording"]["status"] == "saved", call
    # The far party heard the notice (through the device, in its own sample format).
    heard = sim.received_audio()
    assert len(heard) >= len(notice) * 0.9
    assert rms(heard) > 3000
    # Left = what the outside party said (the 440 Hz tone), right = the notice.
    left, right, rate = read_stereo(call["recording"]["path"])
    assert rate == 8000
    assert abs(call["recording"]["duration_s"] - call["duration_s"]) < 0.3
    notice_part = right[: int(0.4 * rate) * 2]
    assert rms(notice_part) > 3000
    if profile != "v253_voice_modem":  # full duplex: the caller is recorded during the notice too
        assert rms(left[int(0.1 * rate) * 2 : int(0.4 * rate) * 2]) > 3000
    assert rms(left[int(0.8 * rate) * 2 : int(1.2 * rate) * 2]) > 3000


async def test_v253_full_duplex_option_records_the_caller_during_the_notice(tmp_path):
    sim = ModemSimulator("v253_voice_modem", tmp_path / "ttyACM0", ring_period=0.2)
    sim.set_far_audio(tone(3.0, 440.0))
    sim.start()
    try:
        async with Rig(tmp_path, sim, "    answer_after_rings: 2\n    full_duplex: true\n") as rig:
            sim.incoming_call("55512345")
            await wait_until(lambda: sim.voice == "duplex", what="AT+VTR")
            await asyncio.sleep(1.2)
            sim.remote_hangup()
            await wait_until(lambda: rig.ended, what="call_ended")
            call = rig.ended[0]
    finally:
        sim.stop()
    assert "> AT+VTR" in sim.format_log() and "> AT+VRX" not in sim.format_log()
    left, right, rate = read_stereo(call["recording"]["path"])
    assert rms(right[: int(0.4 * rate) * 2]) > 3000  # the notice
    assert rms(left[int(0.1 * rate) * 2 : int(0.4 * rate) * 2]) > 3000  # the caller, meanwhile
    assert rms(sim.received_audio()) > 3000
