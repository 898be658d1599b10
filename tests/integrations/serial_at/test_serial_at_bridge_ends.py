"""Ways a bridged serial call ends that must never hang: the caller gives up while the phone
rings (the phone gets CANCEL), and shutdown in the middle of a bridged call."""

from __future__ import annotations

import asyncio

from serial_at_rig import tone, wait_until
from serial_at_sip_rig import SipRig

from salvesti.testing.modem_sim import ModemSimulator


def _sim(tmp_path) -> ModemSimulator:
    sim = ModemSimulator("simcom_sim7600", tmp_path / "ttyGSM", ring_period=0.2)
    sim.set_far_audio(tone(8.0, 440.0))
    return sim.start()


async def test_caller_hangs_up_while_the_phone_rings(tmp_path) -> None:
    sim = _sim(tmp_path)
    try:
        async with SipRig(tmp_path, sim, serial_extra={"extensions": ["101"]}) as rig:
            phone = await rig.start_phone(auto_answer=False)
            sim.incoming_call("55512345")
            await asyncio.to_thread(phone.wait_event, "CALL_INCOMING", 8.0)
            sim.remote_hangup()
            await wait_until(lambda: rig.ended, 5, "call_ended")
            await asyncio.to_thread(phone.wait_event, "CALL_CLOSED", 5.0)  # CANCEL reached it
            call = rig.ended[0]
            assert not rig.hub.sources["office"].b2bua.calls, "nothing left on the SIP side"
    finally:
        sim.stop()
    assert call["disposition"] == "answered" and call["extension"] is None


async def test_shutdown_during_a_bridged_call_ends_both_sides(tmp_path) -> None:
    sim = _sim(tmp_path)
    try:
        rig = SipRig(tmp_path, sim, serial_extra={"extensions": ["101"]})
        async with rig:
            phone = await rig.start_phone()
            sim.incoming_call("55512345")
            await asyncio.to_thread(phone.wait_event, "CALL_ESTABLISHED", 8.0)
            await asyncio.sleep(0.5)
            await asyncio.wait_for(rig.hub.async_stop(call_timeout=3), 10)
            await asyncio.to_thread(phone.wait_event, "CALL_CLOSED", 5.0)
            assert rig.ended and rig.ended[0]["extension"] == "101"
            assert rig.ended[0]["recording"]["status"] == "saved"
    finally:
        sim.stop()
