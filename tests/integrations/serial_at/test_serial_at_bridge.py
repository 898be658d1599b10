"""serial_at ``extensions:``: after the notice the SIP phone rings and is bridged to the line.

Real ptys (modem simulator, SIMCom dialect: full-duplex PCM on its own port) on one side,
a real baresip phone registered to the sip_trunk source of the same hub on the other.  The
line's caller says 440 Hz, the phone says 600 Hz: the recording's left channel must be the
caller's tone, its right channel the notice and then the phone's tone, and the device must
have been sent the phone's tone.
"""

from __future__ import annotations

import asyncio
import time

from serial_at_rig import rms, tone, wait_until
from serial_at_sip_rig import SipRig, dominant_hz
from test_serial_at_source import read_stereo

from salvesti.testing.modem_sim import ModemSimulator

RATE = 8000


def _sim(tmp_path) -> ModemSimulator:
    sim = ModemSimulator("simcom_sim7600", tmp_path / "ttyGSM", ring_period=0.2)
    sim.set_far_audio(tone(12.0, 440.0))
    return sim.start()


def seconds(pcm: bytes, start: float, end: float) -> bytes:
    return pcm[int(start * RATE) * 2 : int(end * RATE) * 2]


async def test_line_bridged_to_the_extension_that_answers(tmp_path) -> None:
    sim = _sim(tmp_path)
    try:
        async with SipRig(tmp_path, sim, serial_extra={"extensions": ["101"]}) as rig:
            phone = await rig.start_phone()
            sim.incoming_call("55512345")
            await asyncio.to_thread(phone.wait_event, "CALL_ESTABLISHED", 8.0)
            answered = time.monotonic()
            await asyncio.sleep(2.0)
            sim.remote_hangup()
            await wait_until(lambda: rig.ended, 5, "call_ended")
            await asyncio.to_thread(phone.wait_event, "CALL_CLOSED", 5.0)
            call = rig.ended[0]
    finally:
        sim.stop()
    assert time.monotonic() - answered < 6
    assert call["extension"] == "101" and call["source"] == "gsm"
    assert call["direction"] == "inbound" and call["disposition"] == "answered"
    assert call["meta"]["bridge"] == "answered"
    assert call["notice"]["played"] and call["notice"]["complete"]
    left, right, _ = read_stereo(call["recording"]["path"])
    assert rms(seconds(right, 0.05, 0.45)) > 3000, "the notice opens what the caller heard"
    assert abs(dominant_hz(seconds(right, 0.05, 0.45)) - 1000) < 20
    assert abs(dominant_hz(left[-RATE * 2 :]) - 440) < 20, "left = the caller on the line"
    tail = right[-int(1.5 * RATE) * 2 : -int(0.2 * RATE) * 2]
    assert rms(tail) > 1000 and abs(dominant_hz(tail) - 600) < 20, "right = the phone, once bridged"
    heard = sim.received_audio()  # what the device was sent: notice, ringback, the phone
    assert abs(dominant_hz(heard[-RATE * 2 :]) - 600) < 20


async def test_phone_hangup_ends_the_line(tmp_path) -> None:
    sim = _sim(tmp_path)
    try:
        async with SipRig(tmp_path, sim, serial_extra={"extensions": ["101"]}) as rig:
            phone = await rig.start_phone()
            sim.incoming_call("55512345")
            await asyncio.to_thread(phone.wait_event, "CALL_ESTABLISHED", 8.0)
            await asyncio.sleep(0.5)
            phone.hangup()
            await wait_until(lambda: rig.ended, 5, "call_ended")
            call = rig.ended[0]
            await wait_until(lambda: sim.state == "idle", 3, "the line hung up")
    finally:
        sim.stop()
    assert call["extension"] == "101" and call["disposition"] == "answered"
    assert call["meta"]["hangup"] == "extension hung up"
    assert "AT+CHUP" in sim.format_log()


async def test_no_answer_keeps_the_call_as_a_message(tmp_path) -> None:
    sim = _sim(tmp_path)
    try:
        extra = {"extensions": ["101"], "extension_timeout": 1.5}
        async with SipRig(tmp_path, sim, serial_extra=extra) as rig:
            phone = await rig.start_phone(auto_answer=False)
            sim.incoming_call("55512345")
            await asyncio.to_thread(phone.wait_event, "CALL_INCOMING", 8.0)
            await asyncio.to_thread(phone.wait_event, "CALL_CLOSED", 5.0)  # our CANCEL
            await asyncio.sleep(0.5)
            sim.remote_hangup()
            await wait_until(lambda: rig.ended, 5, "call_ended")
            call = rig.ended[0]
    finally:
        sim.stop()
    assert call["disposition"] == "answered" and call["extension"] is None
    assert call["meta"]["bridge"] == "no_answer"
    left, right, _ = read_stereo(call["recording"]["path"])
    assert abs(dominant_hz(seconds(right, 0.7, 1.4)) - 425) < 20, "the caller heard ringback"
    assert abs(dominant_hz(left[-RATE * 2 :]) - 440) < 20


async def test_unregistered_extension_is_a_message_at_once(tmp_path) -> None:
    sim = _sim(tmp_path)
    try:
        async with SipRig(tmp_path, sim, serial_extra={"extensions": ["101"]}) as rig:
            sim.incoming_call("55512345")
            await wait_until(lambda: rig.hub.sources["gsm"].call is not None, 5, "answer")
            await wait_until(lambda: rig.hub.sources["gsm"].call.meta.get("bridge"), 5, "ring result")
            sim.remote_hangup()
            await wait_until(lambda: rig.ended, 5, "call_ended")
            call = rig.ended[0]
    finally:
        sim.stop()
    assert call["meta"]["bridge"] == "not_registered" and call["disposition"] == "answered"


async def test_dial_out_then_bridge_the_extension(tmp_path) -> None:
    sim = _sim(tmp_path)
    try:
        async with SipRig(tmp_path, sim, serial_extra={}) as rig:
            phone = await rig.start_phone()
            started = await rig.hub.sources["gsm"].dial("5551234", extension="101")
            assert started.direction.value == "outbound"
            await asyncio.to_thread(phone.wait_event, "CALL_ESTABLISHED", 8.0)
            await asyncio.sleep(1.5)
            sim.remote_hangup()
            await wait_until(lambda: rig.ended, 5, "call_ended")
            await asyncio.to_thread(phone.wait_event, "CALL_CLOSED", 5.0)
            call = rig.ended[0]
    finally:
        sim.stop()
    assert "ATD5551234;" in sim.format_log()
    assert call["direction"] == "outbound" and call["disposition"] == "answered"
    assert call["extension"] == "101" and call["remote_number"] == "+3725551234"
    assert call["notice"]["played"] and call["notice"]["complete"]
    left, right, _ = read_stereo(call["recording"]["path"])
    assert abs(dominant_hz(seconds(right, 0.05, 0.45)) - 1000) < 20, "the callee heard the notice first"
    assert abs(dominant_hz(left[-RATE * 2 :]) - 440) < 20
    tail = right[-int(1.2 * RATE) * 2 : -int(0.2 * RATE) * 2]
    assert rms(tail) > 1000 and abs(dominant_hz(tail) - 600) < 20
