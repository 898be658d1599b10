"""``extensions:`` of a serial_at source: config cross-check and the half-duplex refusal."""

from __future__ import annotations

from serial_at_rig import wait_until
from serial_at_sip_rig import SipRig

from salvesti.integrations.serial_at.schema import check_config
from salvesti.testing.modem_sim import ModemSimulator


def test_extensions_must_exist_on_a_sip_trunk_source() -> None:
    item = {
        "platform": "serial_at",
        "id": "gsm",
        "line": "+37255500000",
        "no_notice": "test",
        "extensions": ["101", "9"],
    }
    sip = {"platform": "sip_trunk", "id": "office", "extensions": [{"user": "101", "password": "pw-101"}]}
    problems = check_config(item, {"sources": [sip, item]})
    why = "extension '9' is not an extension of any sip_trunk or webrtc source"
    assert problems == [(["extensions", 1], why)]
    assert check_config({**item, "extensions": ["101"]}, {"sources": [sip, item]}) == []


async def test_half_duplex_modem_keeps_the_call_as_a_message(tmp_path) -> None:
    sim = ModemSimulator("v253_voice_modem", tmp_path / "ttyACM0", ring_period=0.2)
    sim.start()
    try:
        async with SipRig(tmp_path, sim, serial_extra={"extensions": ["101"]}) as rig:
            sim.incoming_call("55512345")
            await wait_until(lambda: sim.voice == "rx", 5, "AT+VRX after the notice")
            sim.remote_hangup()
            await wait_until(lambda: rig.ended, 5, "call_ended")
            call = rig.ended[0]
    finally:
        sim.stop()
    assert call["meta"]["bridge"] == "half_duplex" and call["disposition"] == "answered"
    assert call["extension"] is None
