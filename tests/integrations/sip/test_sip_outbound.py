"""Outbound calls: sipp phone → Salvesti → sipp carrier, with digest on both sides."""

from __future__ import annotations

import asyncio
import time

from sip_lab import EXT, LINE, Lab, read_stereo, rms


async def start_carrier(lab: Lab, final: str = "answer", ring_ms: int = 300) -> object:
    carrier = lab.sipp("carrier", "provider_uas.xml", timeout_s=30, RING_MS=ring_ms, FINAL=final)
    await carrier.start()
    return carrier


async def start_hub_with_trunk(lab: Lab, carrier: object, **trunk: object) -> None:
    """Start the hub with the sipp carrier as its registering trunk and one line."""
    registrar = {"registrar": f"127.0.0.1:{carrier.port}", "username": "3726000000", "password": "tp"}
    await lab.start_hub({"trunk": {**registrar, **trunk}, "lines": [LINE]})


def phone_calls(
    lab: Lab, *, scenario: str = "phone_call.xml", password: str = EXT["101"], **params: object
) -> object:
    """Extension 101 as a sipp phone with digest credentials, dialling 5551234 once."""
    return lab.sipp(
        "phone",
        scenario,
        f"127.0.0.1:{lab.sip_port}",
        *("-s", "5551234", "-au", "101", "-ap", password, "-m", "1"),
        EXT="101",
        **params,
    )


async def test_outbound_call_recorded_with_notice(lab: Lab) -> None:
    carrier = await start_carrier(lab)
    await start_hub_with_trunk(lab, carrier)
    await lab.wait_for(lambda: lab.source.trunk.status == "registered", 10, "trunk registration")
    assert {"id": "telia", "trunk": "registered"}.items() <= lab.status[-1].items(), lab.status
    phone = phone_calls(lab, TALK_MS=3000)
    await phone.start()
    assert await phone.wait(25) == 0, lab.logs()
    await lab.wait_for(lambda: lab.ended, 10, "call_ended")
    call = lab.ended[0]
    assert call["direction"] == "outbound"
    assert call["line"] == LINE and call["remote_number"] == "+3725551234"
    assert call["extension"] == "101" and call["disposition"] == "answered"
    assert call["notice"]["played"] and call["notice"]["complete"]
    assert call["recording"]["status"] == "saved", call["recording"]
    assert abs(call["recording"]["duration_s"] - call["duration_s"]) < 0.1, "recording length = talk time"
    left, right, rate = read_stereo(call["recording"]["path"])
    assert rate == 8000
    # the notice (1 s of 1 kHz) is at the start of what the outside party heard
    assert rms(right[800:7200]) > 3000
    # the carrier played speech (the A-law pcap) after answering
    assert rms(left) > 100
    invites = [m for m in lab.messages("carrier").split("\n\n") if "INVITE sip:5551234@" in m]
    assert invites, lab.messages("carrier")
    assert any("Proxy-Authorization: Digest" in m for m in lab.messages("carrier").split("-----")), (
        "no digest"
    )


async def test_wrong_password_never_reaches_the_trunk(lab: Lab) -> None:
    carrier = await start_carrier(lab)
    await start_hub_with_trunk(lab, carrier)
    phone = phone_calls(lab, password="not-the-password", TALK_MS=500)
    await phone.start()
    await phone.wait(20)
    assert lab.messages("phone").count("407 Proxy Authentication Required") >= 2, lab.logs()
    assert "INVITE sip:5551234" not in lab.messages("carrier")
    assert not lab.ended


async def test_outbound_busy(lab: Lab) -> None:
    carrier = await start_carrier(lab, final="busy")
    await start_hub_with_trunk(lab, carrier)
    phone = phone_calls(lab, TALK_MS=500)
    await phone.start()
    assert await phone.wait(20) == 0, lab.logs()
    await lab.wait_for(lambda: lab.ended, 10, "call_ended")
    call = lab.ended[0]
    assert call["disposition"] == "busy" and call["recording"] is None
    assert "486 Busy Here" in lab.messages("phone")


async def test_timer_c_cancels_a_trunk_invite_that_only_rings(lab: Lab) -> None:
    """The carrier rings and never answers: Timer C (185 s in service, 2 s here) CANCELs the
    INVITE, the phone gets 408 and the call ends as no_answer, saying why."""
    carrier = await start_carrier(lab, final="cancel", ring_ms=0)
    await start_hub_with_trunk(lab, carrier)
    lab.source.transport.layer.timer_c = 2.0
    phone = phone_calls(lab, TALK_MS=500)
    await phone.start()
    assert await phone.wait(20) == 0, lab.logs()
    await lab.wait_for(lambda: lab.ended, 10, "call_ended")
    call = lab.ended[0]
    assert call["disposition"] == "no_answer" and call["answered_at"] is None
    assert "Timer C" in call["meta"]["sip"]["hangup_cause"]
    assert "SIP/2.0 408" in lab.messages("phone")
    assert "CANCEL sip:5551234@" in lab.messages("carrier")


async def test_outbound_cancel_while_ringing(lab: Lab) -> None:
    carrier = await start_carrier(lab, final="cancel", ring_ms=0)
    await start_hub_with_trunk(lab, carrier)
    phone = phone_calls(lab, scenario="phone_cancel.xml", CANCEL_MS=500)
    await phone.start()
    assert await phone.wait(20) == 0, lab.logs()
    await lab.wait_for(lambda: lab.ended, 10, "call_ended")
    call = lab.ended[0]
    assert call["disposition"] == "cancelled" and call["answered_at"] is None
    assert call["recording"] is None
    assert "CANCEL sip:5551234@" in lab.messages("carrier")


async def test_outbound_hold_is_relayed_with_our_address(lab: Lab) -> None:
    carrier = await start_carrier(lab)
    await start_hub_with_trunk(lab, carrier)
    phone = phone_calls(lab, TALK_MS=1500, MID="hold")
    await phone.start()
    assert await phone.wait(25) == 0, lab.logs()
    await lab.wait_for(lambda: lab.ended, 10, "call_ended")
    assert lab.ended[0]["meta"]["sip"]["held"] is True
    reinvites = [
        m for m in lab.messages("carrier").split("-----") if "INVITE sip:callee@" in m and "a=sendonly" in m
    ]
    assert reinvites, lab.messages("carrier")
    assert "o=salvesti" in reinvites[0] and "c=IN IP4 127.0.0.1" in reinvites[0]


async def test_blind_transfer_to_another_extension(lab: Lab) -> None:
    carrier = await start_carrier(lab)
    await start_hub_with_trunk(lab, carrier)
    target = lab.baresip("102")
    await target.start()
    await lab.wait_for(
        lambda: lab.source.registrar.registered(time.monotonic()).get("102"), 10, "102 REGISTER"
    )
    phone = phone_calls(lab, TALK_MS=500, MID="refer", TARGET="102")
    await phone.start()
    assert await phone.wait(25) == 0, lab.logs()
    msgs = lab.messages("phone")
    assert "SIP/2.0 200 OK\r\n" in msgs.split("NOTIFY sip:")[-1] or "SIP/2.0 200 OK" in msgs
    await asyncio.sleep(1.5)
    assert not lab.ended, "the call goes on with 102 after the transfer"
    call = lab.source.b2bua.calls and next(iter(lab.source.b2bua.calls)).record
    assert call and call.extensions == ["101", "102"]
    await lab.source.hangup_all()
    await lab.wait_for(lambda: lab.ended, 10, "call_ended")
    ended = lab.ended[0]
    assert ended["extensions"] == ["101", "102"] and ended["disposition"] == "answered"
    assert ended["meta"]["sip"]["transfers"] == [{"from": "101", "to": "102"}]
    assert ended["recording"]["status"] == "saved"


async def test_outbound_over_a_tcp_trunk(lab: Lab) -> None:
    carrier = lab.sipp("carrier", "provider_uas.xml", "-t", "t1", timeout_s=30, RING_MS=200, FINAL="answer")
    await carrier.start()
    await start_hub_with_trunk(lab, carrier, transport="tcp")
    await lab.wait_for(lambda: lab.source.trunk.status == "registered", 10, "trunk registration over tcp")
    phone = phone_calls(lab, TALK_MS=1500)
    await phone.start()
    assert await phone.wait(25) == 0, lab.logs()
    await lab.wait_for(lambda: lab.ended, 10, "call_ended")
    assert lab.ended[0]["disposition"] == "answered"
    assert "Via: SIP/2.0/TCP" in lab.messages("carrier")


async def test_carrier_early_media_reaches_the_phone_one_way(lab: Lab) -> None:
    carrier = await start_carrier(lab, final="early", ring_ms=0)
    await start_hub_with_trunk(lab, carrier)
    phone = phone_calls(lab, TALK_MS=1500)
    await phone.start()
    early = {"to_phone": 0, "to_carrier": 0}

    def sample() -> bool:
        for call in lab.source.b2bua.calls:
            if call.record.answered_at is None:
                legs = {leg.role: leg for leg in call.legs if leg.media is not None}
                if "inside" in legs and "outside" in legs:
                    early["to_phone"] = legs["inside"].media.stats.packets_out
                    early["to_carrier"] = legs["outside"].media.stats.packets_out
        return False

    for _ in range(60):
        sample()
        if phone.proc is not None and phone.proc.returncode is not None:
            break
        await asyncio.sleep(0.05)
    assert await phone.wait(25) == 0, lab.logs()
    assert "183 Session Progress" in lab.messages("phone")
    assert early["to_phone"] > 20, early
    assert early["to_carrier"] == 0, "nothing from the phone goes out before the answer and the notice"
    await lab.wait_for(lambda: lab.ended, 10, "call_ended")
    assert lab.ended[0]["disposition"] == "answered" and lab.ended[0]["notice"]["complete"]


async def test_transfer_to_an_outside_number_is_refused_and_the_call_goes_on(lab: Lab) -> None:
    """The 403 is sent (its reason phrase once made answer_request raise) and nothing else changes."""
    carrier = await start_carrier(lab)
    await start_hub_with_trunk(lab, carrier)
    phone = phone_calls(lab, TALK_MS=1000, MID="refer_outside", TARGET="5559999")
    await phone.start()
    assert await phone.wait(25) == 0, lab.logs()
    assert "403 Transfer Only To Extensions" in lab.messages("phone")
    await lab.wait_for(lambda: lab.ended, 10, "call_ended")
    call = lab.ended[0]
    assert call["disposition"] == "answered" and "transfers" not in call["meta"]["sip"]
