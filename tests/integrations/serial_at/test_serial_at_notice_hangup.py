"""The caller hangs up while the recording notice still plays: the call is kept as
answered with an incomplete notice, the recording is finalised, and the line answers the
next call normally."""

from __future__ import annotations

import asyncio
import wave

import pytest
from serial_at_rig import Rig, tone, wait_until

from salvesti.testing.modem_sim import ModemSimulator

NOTICE_S = 3.0


@pytest.mark.parametrize("profile", ["simcom_sim7600", "quectel_ec2x", "v253_voice_modem"])
async def test_caller_hangs_up_during_the_notice(tmp_path, profile):
    with wave.open(str(tmp_path / "notice.wav"), "wb") as w:  # the rig keeps an existing notice
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(tone(NOTICE_S, 1000.0))
    sim = ModemSimulator(profile, tmp_path / "ttyMODEM", ring_period=0.2)
    sim.set_far_audio(tone(5.0, 440.0))
    sim.start()
    try:
        async with Rig(tmp_path, sim, "    answer_after_rings: 2\n") as rig:
            sim.incoming_call("55512345", "Mari")
            await wait_until(lambda: sim.state == "active", what="answer")
            await wait_until(lambda: len(sim.received_audio()) > 1600, what="notice playing")
            await asyncio.sleep(0.3)
            sim.remote_hangup()
            await wait_until(lambda: rig.ended, seconds=4, what="call_ended during the notice")
            call = rig.ended[0]
            heard = len(sim.received_audio())
            assert sim.wait_for(lambda s: s.state == "idle", 2)

            # The next call is served as usual.
            sim.incoming_call("+3725559999")
            await wait_until(lambda: sim.state == "active", what="answer of the next call")
            await asyncio.sleep(0.3)
            sim.remote_hangup()
            await wait_until(lambda: len(rig.ended) == 2, seconds=4, what="second call_ended")
            second = rig.ended[1]
    finally:
        sim.stop()

    assert call["remote_number"] == "+37255512345"
    assert call["disposition"] == "answered"
    assert call["notice"]["played"] is True and call["notice"]["complete"] is False
    assert call["recording"]["status"] == "saved", call
    with wave.open(call["recording"]["path"], "rb") as w:  # a valid WAV, cut short
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, 8000)
        seconds = w.getnframes() / w.getframerate()
    assert 0.1 < seconds < NOTICE_S - 0.5
    assert call["recording"]["duration_s"] < NOTICE_S
    # Less of the notice reached the caller than there was.
    assert heard < int(NOTICE_S * 8000) * 2

    assert second["remote_number"] == "+3725559999"
    assert second["disposition"] == "answered"
    assert second["notice"]["played"] is True
    assert second["recording"]["status"] == "saved"
