"""Outbound calls through the device (``Dialer``), over the control socket like ``salvesti dial``:
answer / busy / no answer per profile, notice to the callee, recording and disposition."""

from __future__ import annotations

import asyncio
import os
import stat

import pytest
from serial_at_rig import Rig, rms, tone, wait_until
from test_serial_at_source import read_stereo

from salvesti.core import control
from salvesti.testing.modem_sim import ModemSimulator

RATE = 8000


async def dial_over_socket(rig: Rig, number: str, **extra: object) -> dict:
    path = control.socket_path(rig.hub.data_dir)
    return await control.request(path, {"op": "dial", "source": "gsm", "number": number, **extra}, limit=5)


@pytest.mark.parametrize("profile", ["simcom_sim7600", "quectel_ec2x", "v253_voice_modem"])
async def test_dial_answered_notice_then_recorded(tmp_path, profile) -> None:
    sim = ModemSimulator(profile, tmp_path / "ttyGSM", ring_period=0.2, dial_delay=0.3)
    sim.set_far_audio(tone(5.0, 440.0))
    sim.start()
    try:
        async with Rig(tmp_path, sim) as rig:
            path = control.socket_path(rig.hub.data_dir)
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
            answer = await dial_over_socket(rig, "5551234")
            assert answer["ok"], answer
            assert answer["call"]["direction"] == "outbound"
            await wait_until(lambda: sim.state == "active", 3, "answer")
            await asyncio.sleep(1.5)
            sim.remote_hangup()
            await wait_until(lambda: rig.ended, 5, "call_ended")
            call = rig.ended[0]
    finally:
        sim.stop()
    assert "ATD5551234;" in sim.format_log()
    assert call["id"] == answer["call"]["id"]
    assert call["direction"] == "outbound" and call["disposition"] == "answered"
    assert call["remote_number"] == "+3725551234" and call["extension"] is None
    assert call["notice"]["played"] and call["notice"]["complete"]
    left, right, _ = read_stereo(call["recording"]["path"])
    assert rms(right[int(0.05 * RATE) * 2 : int(0.45 * RATE) * 2]) > 3000, "the callee heard the notice first"
    assert rms(left[-RATE * 2 :]) > 3000, "left = the callee"
    assert rms(sim.received_audio()) > 2000


@pytest.mark.parametrize(("outcome", "disposition"), [("busy", "busy"), ("no_answer", "no_answer")])
@pytest.mark.parametrize("profile", ["simcom_sim7600", "quectel_ec2x", "v253_voice_modem"])
async def test_dial_refused(tmp_path, profile, outcome, disposition) -> None:
    sim = ModemSimulator(profile, tmp_path / "ttyGSM", dial_outcome=outcome, dial_delay=0.2)
    sim.start()
    try:
        async with Rig(tmp_path, sim) as rig:
            answer = await dial_over_socket(rig, "+3725551234")
            assert answer["ok"], answer
            await wait_until(lambda: rig.ended, 5, "call_ended")
            call = rig.ended[0]
    finally:
        sim.stop()
    assert call["disposition"] == disposition and call["answered_at"] is None
    assert call["recording"] is None or not call["recording"].get("path")


async def test_dial_errors_come_back_on_the_socket(tmp_path) -> None:
    sim = ModemSimulator("simcom_sim7600", tmp_path / "ttyGSM", dial_delay=0.2)
    sim.set_far_audio(tone(3.0, 440.0))
    sim.start()
    try:
        async with Rig(tmp_path, sim) as rig:
            bad = await dial_over_socket(rig, "call me maybe")
            assert not bad["ok"] and "not a phone number" in bad["error"]
            nosrc = await control.request(
                control.socket_path(rig.hub.data_dir), {"op": "dial", "source": "x", "number": "1"}, limit=5
            )
            assert not nosrc["ok"] and "no source" in nosrc["error"]
            first = await dial_over_socket(rig, "5551234")
            assert first["ok"]
            second = await dial_over_socket(rig, "5554321")
            assert not second["ok"] and "in use" in second["error"]
            ext = await control.request(
                control.socket_path(rig.hub.data_dir),
                {"op": "dial", "source": "gsm", "number": "1", "extension": "999"},
                limit=5,
            )
            assert not ext["ok"] and "not an extension" in ext["error"]
            await wait_until(lambda: sim.state == "active", 3, "answer")
            sim.remote_hangup()
            await wait_until(lambda: rig.ended, 5, "call_ended")
    finally:
        sim.stop()
    assert not control.socket_path(rig.hub.data_dir).exists(), "the socket goes with the source"


async def test_callee_hangs_up_right_after_answering(tmp_path) -> None:
    """The hang-up URC can follow VOICE CALL: BEGIN in the same read: it must not be lost."""
    sim = ModemSimulator("simcom_sim7600", tmp_path / "ttyGSM", dial_delay=0.2)
    sim.start()
    try:
        async with Rig(tmp_path, sim) as rig:
            assert (await dial_over_socket(rig, "5551234"))["ok"]
            await wait_until(lambda: sim.state == "active", 3, "answer")
            sim.remote_hangup()
            await wait_until(lambda: rig.ended, 5, "call_ended")
            call = rig.ended[0]
    finally:
        sim.stop()
    assert call["disposition"] == "answered" and call["answered_at"] is not None
