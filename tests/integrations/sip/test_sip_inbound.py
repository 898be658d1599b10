"""Inbound calls: sipp carrier → Salvesti (notice) → baresip office phone."""

from __future__ import annotations

import itertools
import time

from sip_lab import LINE, PORTS, Lab, read_stereo, rms


async def setup_inbound(lab: Lab, **source: object) -> object:
    """Start the hub with a non-registering trunk whose carrier sends from a reserved port."""
    carrier_port = PORTS.port()
    await lab.start_hub(
        {
            "trunk": {
                "registrar": f"127.0.0.1:{carrier_port}",
                "username": "3726000000",
                "password": "tp",
                "register": False,
            },
            "lines": [LINE],
            "inbound": {LINE: ["101"]},
            **source,
        }
    )
    return carrier_port


def carrier_calls(
    lab: Lab, carrier_port: object, *, scenario: str = "provider_uac.xml", **params: object
) -> object:
    """The sipp carrier placing one call to the line from its reserved port."""
    return lab.sipp(
        "carrier", scenario, f"127.0.0.1:{lab.sip_port}", "-m", "1", port=carrier_port, LINE=LINE, **params
    )


async def register_phone(lab: Lab, user: str = "101", **kw: object) -> None:
    phone = lab.baresip(user, **kw)
    await phone.start()
    await lab.wait_for(
        lambda: lab.source.registrar.registered(time.monotonic()).get(user), 10, "phone REGISTER"
    )


async def test_inbound_call_notice_then_phone(lab: Lab) -> None:
    carrier_port = await setup_inbound(lab)
    await register_phone(lab)
    carrier = carrier_calls(lab, carrier_port, CALLER="+3725551234", TALK_MS=5000)
    await carrier.start()
    assert await carrier.wait(25) == 0, lab.logs()
    await lab.wait_for(lambda: lab.ended, 10, "call_ended")
    call = lab.ended[0]
    assert call["direction"] == "inbound" and call["line"] == LINE
    assert call["remote_number"] == "+3725551234"
    assert call["extension"] == "101" and call["disposition"] == "answered"
    assert call["notice"]["played"] and call["notice"]["complete"]
    left, right, _ = read_stereo(call["recording"]["path"])
    assert rms(right[800:7200]) > 3000, "the notice is at the start of what the caller heard"
    assert rms(left) > 100, "the caller's audio is recorded"
    # after the notice and the ringing, the phone's 600 Hz tone reaches the caller
    assert rms(right[-16000:-8000]) > 1000


async def carrier_call(
    lab: Lab, carrier_port: int, talk_ms: int, limit: float = 25, scenario: str = "provider_uac.xml"
) -> object:
    carrier = carrier_calls(lab, carrier_port, scenario=scenario, CALLER="+3725551234", TALK_MS=talk_ms)
    await carrier.start()
    assert await carrier.wait(limit) == 0, lab.logs()
    await lab.wait_for(lambda: lab.ended, 10, "call_ended")
    return lab.ended[0]


async def test_caller_hangs_up_during_the_notice(lab: Lab) -> None:
    carrier_port = await setup_inbound(lab)
    await register_phone(lab)
    call = await carrier_call(lab, carrier_port, talk_ms=400)
    assert call["disposition"] == "answered" and call["extension"] is None
    assert call["notice"]["played"] and not call["notice"]["complete"]
    assert call["recording"]["status"] == "saved"
    assert call["recording"]["duration_s"] < 0.9
    assert not lab.source.b2bua.calls


async def test_no_answer_ends_the_call(lab: Lab) -> None:
    carrier_port = await setup_inbound(lab, no_answer_timeout=1.5)
    await register_phone(lab, answer="manual")
    call = await carrier_call(lab, carrier_port, talk_ms=15000)
    assert call["disposition"] == "no_answer" and call["extension"] is None
    assert call["notice"]["complete"] and call["recording"]["status"] == "saved"
    _left, right, rate = read_stereo(call["recording"]["path"])
    ring = right[int(1.2 * rate) : int(1.8 * rate)]  # the notice lasts 1 s, then 1 s of ringback
    assert rms(ring) > 3000, "the caller hears the 425 Hz ringback while the phones ring"
    crossings = sum(1 for a, b in itertools.pairwise(ring) if a < 0 <= b)
    assert 0.6 * 425 * 0.9 < crossings < 0.6 * 425 * 1.1
    assert "BYE sip:carrier@" in lab.messages("carrier")


async def test_early_media_notice_then_answer(lab: Lab) -> None:
    carrier_port = await setup_inbound(lab, notice_mode="early_media")
    await register_phone(lab)
    call = await carrier_call(lab, carrier_port, talk_ms=4000)
    assert call["disposition"] == "answered" and call["extension"] == "101"
    msgs = lab.messages("carrier")
    assert msgs.index("183 Session Progress") < msgs.index("SIP/2.0 200 OK")
    assert call["notice"]["complete"]
    _left, right, _ = read_stereo(call["recording"]["path"])
    assert rms(right[800:7200]) > 3000, "the notice opens the recording in early media too"
    assert call["answered_at"] > call["started_at"]


async def test_internal_call_recorded_when_asked(lab: Lab) -> None:
    await lab.start_hub({"record_internal": True})
    await register_phone(lab, "102")
    phone = lab.sipp(
        "phone",
        "phone_call.xml",
        f"127.0.0.1:{lab.sip_port}",
        "-s",
        "102",
        "-au",
        "101",
        "-ap",
        "secret-101",
        "-m",
        "1",
        EXT="101",
        TALK_MS=2000,
    )
    await phone.start()
    assert await phone.wait(20) == 0, lab.logs()
    await lab.wait_for(lambda: lab.ended, 10, "call_ended")
    call = lab.ended[0]
    assert call["direction"] == "internal" and call["extensions"] == ["101", "102"]
    assert call["notice"]["played"] is False
    left, right, _ = read_stereo(call["recording"]["path"])
    assert rms(left) > 100 and rms(right) > 100, "caller left, callee right"


async def test_inbound_delayed_offer(lab: Lab) -> None:
    carrier_port = await setup_inbound(lab)
    await register_phone(lab)
    call = await carrier_call(lab, carrier_port, talk_ms=4000, scenario="provider_uac_late.xml")
    assert call["disposition"] == "answered" and call["extension"] == "101"
    assert call["meta"]["sip"]["outside_codec"] == "PCMA"
    left, right, _ = read_stereo(call["recording"]["path"])
    assert rms(right[800:7200]) > 3000 and rms(left) > 100


async def test_internal_g722_call_between_two_baresip_phones(lab: Lab) -> None:
    await lab.start_hub({"record_internal": True})
    await register_phone(lab, "102", codec="G722")
    caller = lab.baresip("101", codec="G722", dial="102", seconds=6)
    await caller.start()
    await lab.wait_for(lambda: lab.ended, 20, "call_ended")
    call = lab.ended[0]
    assert call["direction"] == "internal" and call["extensions"] == ["101", "102"], lab.logs()
    assert call["meta"]["sip"]["outside_codec"] == call["meta"]["sip"]["inside_codec"] == "G722"
    left, right, _ = read_stereo(call["recording"]["path"])
    assert rms(left) > 500 and rms(right) > 500, "both wideband phones are in the recording"


async def test_caller_cancels_during_early_media_notice(lab: Lab) -> None:
    carrier_port = await setup_inbound(lab, notice_mode="early_media")
    await register_phone(lab)
    carrier = carrier_calls(
        lab, carrier_port, scenario="provider_uac_cancel.xml", CALLER="+3725551234", CANCEL_MS=500
    )
    await carrier.start()
    assert await carrier.wait(20) == 0, lab.logs()
    await lab.wait_for(lambda: lab.ended, 10, "call_ended")
    call = lab.ended[0]
    assert call["disposition"] == "cancelled" and call["answered_at"] is None
    assert call["notice"]["played"] and not call["notice"]["complete"]
    assert call["recording"]["status"] == "saved", "the early media (the notice so far) is kept"
