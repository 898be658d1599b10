"""``gateways:``: a hardware SIP gateway (sipp, in the INVITE shape its profile documents)
registers to Salvesti; its calls are inbound calls on its line (notice, a baresip phone
rings, recording, the caller's number in E.164 per profile); an unregistered gateway is
refused and leaves no call; an extension on a gateway's line calls out through it."""

from __future__ import annotations

import time

import pytest
from sip_lab import EXT, PORTS, Lab, read_stereo, rms

FXO_LINE, GSM_LINE = "+3726111111", "+37255500000"
GATEWAYS = [
    {
        "id": "fxo1",
        "profile": "grandstream_ht813",
        "user": "gw-fxo1",
        "password": "gw-secret-1",
        "line": FXO_LINE,
    },
    {"id": "gsm1", "profile": "yeastar_tg", "user": "gsm1", "password": "gw-secret-2", "line": GSM_LINE},
]
SOURCE = {
    "gateways": GATEWAYS,
    "extensions": [
        {"user": "101", "password": EXT["101"], "line": FXO_LINE},
        {"user": "102", "password": EXT["102"], "line": GSM_LINE},
    ],
    "inbound": {FXO_LINE: ["101"], GSM_LINE: ["101"]},
}
RETENTION = {
    "retention": [
        {"platform": "max_age", "id": "fxo", "match": {"line": FXO_LINE}, "days": 30},
        {"platform": "max_age", "id": "default", "days": 10},
    ]
}

#: Each profile's INVITE as its documentation describes it (tests/integrations/sip/gateway_invites/).
SHAPES = {
    "grandstream_ht813": {
        "gateway": GATEWAYS[0],
        "invite": {
            "RURI_USER": "gw-fxo1",  # the 'Unconditional Call Forward to VOIP' user, not the line
            "TO_USER": "gw-fxo1",
            "FROM": '"Mari Maasikas" <sip:gw-fxo1@[remote_ip]>',
            "EXTRA": '\nP-Asserted-Identity: "Mari Maasikas" <sip:5551234@[local_ip]>',
            "UA": "Grandstream HT813 1.0.13.3",
        },
        "line": FXO_LINE,
        "number": "+3725551234",
        "caller_id": {
            "header": "P-Asserted-Identity",
            "raw": "5551234",
            "form": "national",
            "flagged": False,
            "name": "Mari Maasikas",
        },
        "supervision": "none",
    },
    "yeastar_tg": {
        "gateway": GATEWAYS[1],
        "invite": {
            "RURI_USER": "gsm1",
            "TO_USER": "gsm1",
            "FROM": '"+37255512345" <sip:+37255512345@[remote_ip]:[remote_port]>',
            "EXTRA": "",
            "UA": "Yeastar TG200 91.3.0.16",
        },
        "line": GSM_LINE,
        "number": "+37255512345",
        "caller_id": {
            "header": "From",
            "raw": "+37255512345",
            "form": "e164",
            "flagged": False,
            "name": "+37255512345",
        },
        "supervision": "network",
    },
}


async def gateway_registers(lab: Lab, gateway: dict, port: int) -> None:
    """The gateway's REGISTER with digest, from the port it will call from."""
    reg = lab.sipp(
        f"register-{gateway['id']}",
        "phone_register.xml",
        f"127.0.0.1:{lab.sip_port}",
        *("-s", gateway["user"], "-au", gateway["user"], "-ap", gateway["password"], "-m", "1"),
        port=port,
    )
    await reg.start()
    assert await reg.wait(20) == 0, lab.logs()
    assert lab.source.gateways.by_user(gateway["user"]).status(time.monotonic()) == "registered"
    assert lab.source.registrations()[f"gateways.{gateway['id']}"] == "registered"


def gateway_calls(lab: Lab, name: str, port: int, invite: dict, talk_ms: int = 4000):
    return lab.sipp(
        name, "outside_uac.xml", f"127.0.0.1:{lab.sip_port}", "-m", "1", port=port, TALK_MS=talk_ms, **invite
    )


async def register_phone(lab: Lab, user: str = "101") -> None:
    phone = lab.baresip(user)
    await phone.start()
    await lab.wait_for(lambda: lab.source.registrar.registered(time.monotonic()).get(user), 10, "phone")


@pytest.mark.parametrize("profile", list(SHAPES))
async def test_gateway_call_is_an_inbound_call_on_its_line(lab: Lab, profile: str) -> None:
    shape = SHAPES[profile]
    await lab.start_hub(SOURCE, config=RETENTION)
    port = PORTS.port()
    await gateway_registers(lab, shape["gateway"], port)
    await register_phone(lab)
    call = gateway_calls(lab, f"gw-{profile}", port, shape["invite"], talk_ms=5000)
    await call.start()
    assert await call.wait(25) == 0, lab.logs()
    await lab.wait_for(lambda: lab.ended, 10, "call_ended")
    ended = lab.ended[0]
    assert ended["direction"] == "inbound" and ended["line"] == shape["line"], ended
    assert ended["remote_number"] == shape["number"]
    assert ended["extension"] == "101" and ended["disposition"] == "answered"
    assert ended["notice"]["played"] and ended["notice"]["complete"]
    gateway = ended["meta"]["gateway"]
    assert gateway["profile"] == profile and gateway["caller_id"] == shape["caller_id"]
    assert gateway["answer_supervision"] == shape["supervision"]
    assert ended["recording"]["status"] == "saved"
    left, right, _ = read_stereo(ended["recording"]["path"])
    assert rms(right[800:7200]) > 3000, "the notice is at the start of what the caller heard"
    assert rms(left) > 100, "what the caller said (the gateway's audio) is recorded"
    assert rms(right[-16000:-8000]) > 1000, "then the phone's voice reaches the caller"
    rule = "fxo" if shape["line"] == FXO_LINE else "default"
    assert ended["retention"]["rule"] == rule and ended["retention"]["delete_after"], (
        "retention as on any line"
    )


async def test_unregistered_gateway_is_refused_and_leaves_no_call(lab: Lab) -> None:
    await lab.start_hub(SOURCE)
    started: list = []
    lab.hub.bus.subscribe("call_started", lambda e: started.append(e.data))
    await register_phone(lab)
    port = PORTS.port()
    # 1. The HT813's INVITE, but it never registered: a stranger, challenged like any phone.
    stranger = gateway_calls(lab, "stranger", port, SHAPES["grandstream_ht813"]["invite"])
    await stranger.start()
    assert await stranger.wait(20) == 0, lab.logs()
    assert "407 Proxy Authentication Required" in lab.messages("stranger")
    # 2. It knows the gateway's password but has no registration: refused, not a call.
    gw = GATEWAYS[0]
    claimed = lab.sipp(
        "claimed",
        "phone_call.xml",
        f"127.0.0.1:{lab.sip_port}",
        *("-s", "5551234", "-au", gw["user"], "-ap", gw["password"], "-m", "1"),
        port=port,
        EXT=gw["user"],
        TALK_MS=500,
    )
    await claimed.start()
    await claimed.wait(20)
    assert "403 Gateway Not Registered" in lab.messages("claimed"), lab.logs()
    assert not lab.source.b2bua.calls and not lab.ended and not started
    assert lab.source.registrations() == {
        "gateways.fxo1": "not_registered",
        "gateways.gsm1": "not_registered",
    }


@pytest.mark.parametrize(
    ("user", "gateway", "provisional"),
    [("101", GATEWAYS[0], "180 Ringing"), ("102", GATEWAYS[1], "183 Session Progress")],
)
async def test_extension_on_a_gateway_line_calls_out_through_it(
    lab: Lab, user: str, gateway: dict, provisional: str
) -> None:
    await lab.start_hub(SOURCE)
    port = PORTS.port()
    await gateway_registers(lab, gateway, port)
    line = lab.sipp("gw-line", "gateway_uas.xml", port=port, PROVISIONAL=provisional, FINAL="answer")
    await line.start()
    phone = lab.sipp(
        "phone",
        "phone_call.xml",
        f"127.0.0.1:{lab.sip_port}",
        *("-s", "5551234", "-au", user, "-ap", EXT[user], "-m", "1"),
        EXT=user,
        TALK_MS=2000,
    )
    await phone.start()
    assert await phone.wait(25) == 0, lab.logs()
    await lab.wait_for(lambda: lab.ended, 10, "call_ended")
    call = lab.ended[0]
    assert call["direction"] == "outbound" and call["line"] == gateway["line"], call
    assert call["disposition"] == "answered" and call["notice"]["complete"]
    route = call["meta"]["route"]
    assert route["via"] == "gateway" and route["gateway"] == gateway["id"]
    invite = next(m for m in lab.messages("gw-line").split("-----") if "INVITE sip:5551234@127.0.0.1:" in m)
    assert f":{port} SIP/2.0" in invite, "sent to the address the gateway registered from"
    if gateway["profile"] == "grandstream_ht813":
        assert route["answer_supervision"] == "none" and "talk time starts early" in route["talk_time"]
    else:
        assert route["answer_supervision"] == "network" and "talk_time" not in route


#: The other profiles' documented shapes on the wire (no phone: the call ends after the notice,
#: which is enough to see the caller's number read per profile from a real SIP exchange).
WIRE = [
    (
        "grandstream_gxw4104",
        "gxw-ch1",
        '"6012345" <sip:6012345@[remote_ip]>',
        "",
        "+3726012345",
        "From",
        False,
    ),
    (
        "dinstar_uc",
        "uc-port1",
        "<sip:uc-port1@[remote_ip]>",
        "\nP-Asserted-Identity: <sip:0037255512345@[local_ip]>",
        "+37255512345",
        "P-Asserted-Identity",
        False,
    ),
    ("goip", "goip1", '"37255512345" <sip:37255512345@[remote_ip]>', "", "+37255512345", "From", False),
    (
        "generic_fxo",
        "fxo",
        '"PSTN" <sip:fxo@[remote_ip]>',
        '\nRemote-Party-ID: "Jaan Tamm" <sip:6012345@[local_ip]>;party=calling;screen=no;privacy=off',
        "+3726012345",
        "Remote-Party-ID",
        False,
    ),
    ("goip", "goip1", '"Info" <sip:INFO-SMS@[remote_ip]>', "", "INFO-SMS", "From", True),
]


@pytest.mark.parametrize(("profile", "user", "from_", "extra", "number", "header", "flagged"), WIRE)
async def test_each_profiles_invite_shape_on_the_wire(
    lab: Lab, profile: str, user: str, from_: str, extra: str, number: str, header: str, flagged: bool
) -> None:
    gateway = {"id": "gw", "profile": profile, "user": user, "password": "gw-secret", "line": FXO_LINE}
    await lab.start_hub({"gateways": [gateway], "inbound": {FXO_LINE: ["101"]}})
    port = PORTS.port()
    await gateway_registers(lab, gateway, port)
    invite = {"RURI_USER": user, "TO_USER": user, "FROM": from_, "EXTRA": extra, "UA": profile}
    call = gateway_calls(lab, f"gw-{profile}", port, invite, talk_ms=3000)
    await call.start()
    assert await call.wait(25) == 0, lab.logs()
    await lab.wait_for(lambda: lab.ended, 10, "call_ended")
    ended = lab.ended[0]
    assert ended["line"] == FXO_LINE and ended["remote_number"] == number, ended
    caller_id = ended["meta"]["gateway"]["caller_id"]
    assert caller_id["header"] == header and caller_id["flagged"] is flagged, caller_id
    assert ended["notice"]["complete"] and ended["recording"]["status"] == "saved"
