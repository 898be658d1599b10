"""Inbound calls: sipp carrier → Salvesti (notice) → baresip office phone."""

from __future__ import annotations

import time

from conftest import LINE, Lab, read_stereo, rms


async def setup_inbound(lab: Lab, **source: object) -> object:
    carrier_port = lab.sip_port + 0
    from conftest import PORTS

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
            "digest_algorithms": ["MD5"],
            **source,
        }
    )
    return carrier_port


async def register_phone(lab: Lab, user: str = "101", **kw: object) -> None:
    phone = lab.baresip(user, **kw)
    await phone.start()
    await lab.wait_for(
        lambda: lab.source.registrar.registered(time.monotonic()).get(user), 10, "phone REGISTER"
    )


async def test_inbound_call_notice_then_phone(lab: Lab) -> None:
    carrier_port = await setup_inbound(lab)
    await register_phone(lab)
    carrier = lab.sipp(
        "carrier",
        "provider_uac.xml",
        f"127.0.0.1:{lab.sip_port}",
        "-m",
        "1",
        port=carrier_port,
        LINE=LINE,
        CALLER="+3725551234",
        TALK_MS=5000,
    )
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
