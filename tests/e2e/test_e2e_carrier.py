"""SIP that carriers expect, against sipp carriers: reliable provisional responses (PRACK),
an outbound proxy, and the registrar found through DNS SRV."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from harness.checks import assert_contains, assert_notice_at_start, check_call_shape, check_recording
from harness.dnsmasq import Zone
from harness.flows import OUTSIDE, dial_out, hang_up
from harness.lab import Lab
from harness.ports import PORTS
from harness.procs import wait_for
from harness.salvesti import LINE, TRUNK_PASSWORD, TRUNK_USER

from salvesti.integrations.sip.locator import SipLocator

pytestmark = pytest.mark.e2e


def test_reliable_183_is_pracked_and_its_sdp_is_the_answer(lab: Lab, audio):
    """The carrier's 183 has Require: 100rel, RSeq 1 and the SDP answer; Salvesti PRACKs it
    once (a late retransmission of it is dropped), the 200 OK without SDP then connects the
    call on the 183's answer, and the call is recorded as any other."""
    carrier = lab.provider("prack", ring_ms=1000)
    salv = lab.salvesti(trunk=carrier)
    phone = lab.phone("101", salv, audio=audio.phone_a)

    dial_out(phone, salv, established_timeout=15)
    time.sleep(7.0)
    hang_up(phone)

    call = salv.wait_call()
    check_call_shape(call)
    assert call["direction"] == "outbound" and call["disposition"] == "answered"
    invite = carrier.requests("INVITE")[0]
    assert re.search(r"^Supported:.*\b100rel\b", invite, re.M | re.I), invite
    pracks = carrier.requests("PRACK")
    assert len(pracks) == 1, f"expected one PRACK, got {len(pracks)}"
    assert re.search(r"^RAck: 1 1 INVITE\s*$", pracks[0], re.M), pracks[0]
    assert "PROGRESS" in " ".join(phone.event_types()), "the phone got no early media (183 with SDP)"
    rec = check_recording(call)
    assert_notice_at_start(rec, audio.notice)
    assert_contains(rec, 0, audio.outside, start_s=0.5, others=(audio.phone_a,))
    assert_contains(rec, 1, audio.phone_a, start_s=rec.duration_s - 3.5, others=(audio.outside,))
    assert OUTSIDE in call["remote_number"]


# -- DNS: NAPTR, SRV, A against a real name server on loopback ---------------------------------
def carrier_zone(a_port: int, b_port: int) -> Zone:
    """carrier.test's NAPTR leads (for UDP) to _sip._udp.pbx.carrier.test, whose SRV prefers
    a.carrier.test to b.carrier.test; its own _sip._udp SRV name is a decoy that NAPTR hides."""
    return Zone(
        hosts={"a.carrier.test": "127.0.0.1", "b.carrier.test": "127.0.0.1", "plain.test": "127.0.0.1"},
        naptr=[
            ("carrier.test", 10, 10, "s", "SIP+D2U", "_sip._udp.pbx.carrier.test"),
            ("carrier.test", 20, 10, "s", "SIP+D2T", "_sip._tcp.pbx.carrier.test"),
        ],
        srv=[
            ("_sip._udp.pbx.carrier.test", "a.carrier.test", a_port, 10, 100),
            ("_sip._udp.pbx.carrier.test", "b.carrier.test", b_port, 20, 100),
            ("_sip._tcp.pbx.carrier.test", "b.carrier.test", b_port + 1, 10, 100),
            ("_sip._udp.carrier.test", "b.carrier.test", 1, 1, 100),
        ],
    )


def test_locator_follows_naptr_then_srv_priorities_then_a(lab: Lab):
    server = lab.dns(carrier_zone(5071, 5072))
    locator = SipLocator([server.address], timeout=2.0)

    async def ask() -> dict[str, object]:
        out: dict[str, object] = {}
        out["udp"] = await locator.locate("carrier.test", "udp")
        out["tcp"] = await locator.locate("carrier.test", "tcp")
        out["port"] = await locator.locate("a.carrier.test:5099", "udp")  # a port: no SRV
        out["plain"] = await locator.locate("plain.test", "udp")  # no SRV: A on 5060
        out["ip"] = await locator.locate("192.0.2.7", "udp")
        try:
            await locator.locate("nowhere.test", "udp")
        except OSError as err:
            out["nowhere"] = type(err).__name__
        return out

    got = asyncio.run(ask())
    assert got["udp"] == [("127.0.0.1", 5071), ("127.0.0.1", 5072)]
    assert got["tcp"] == [("127.0.0.1", 5073)]
    assert got["port"] == [("127.0.0.1", 5099)]
    assert got["plain"] == [("127.0.0.1", 5060)]
    assert got["ip"] == [("192.0.2.7", 5060)]
    assert "nowhere" in got, "a name with no address must fail"
    log = server.queries()
    assert "NAPTR" in log and "_sip._udp.pbx.carrier.test" in log, log[-2000:]


def trunk_source(registrar: str, **more: object) -> dict[str, object]:
    trunk = {"registrar": registrar, "username": TRUNK_USER, "password": TRUNK_PASSWORD, **more}
    return {"trunk": trunk, "lines": [LINE]}


def short_call(phone, salv, seconds: float) -> dict:
    """The phone calls out, talks ``seconds``, hangs up; the saved call."""
    dial_out(phone, salv)
    time.sleep(seconds)
    hang_up(phone)
    return salv.wait_call()


def test_registrar_by_srv_fails_over_from_a_503_and_calls_follow(lab: Lab, audio):
    down = lab.provider("unavailable", name="carrier-a")
    up = lab.provider("answer", name="carrier-b", ring_ms=300)
    server = lab.dns(carrier_zone(down.port, up.port))
    salv = lab.salvesti(source_extra={**trunk_source("carrier.test"), "nameservers": [server.address]})

    wait_for(lambda: up.requests("REGISTER"), 20, what="a REGISTER at the second SRV target")
    assert down.requests("REGISTER"), "the first SRV target (priority 10) was not tried first"
    register = up.requests("REGISTER")[0]
    assert register.startswith("REGISTER sip:carrier.test SIP/2.0"), register

    phone = lab.phone("101", salv, audio=audio.phone_a)
    call = short_call(phone, salv, 5.0)
    assert call["disposition"] == "answered"
    assert up.requests("INVITE") and not down.requests("INVITE"), "the call went to the server that failed"
    assert up.requests("INVITE")[0].startswith(f"INVITE sip:{OUTSIDE}@carrier.test SIP/2.0")
    check_recording(call)


def test_an_invite_answered_503_goes_to_the_next_srv_target(lab: Lab, audio):
    """The first server registers us but answers the INVITE 503; the call is placed through
    the second one (a new transaction, CSeq 2) and recorded; the call object says so."""
    first = lab.provider("invite_unavailable", name="carrier-a")
    second = lab.provider("answer", name="carrier-b", ring_ms=300)
    server = lab.dns(carrier_zone(first.port, second.port))
    salv = lab.salvesti(source_extra={**trunk_source("carrier.test"), "nameservers": [server.address]})
    wait_for(lambda: first.requests("REGISTER"), 20, what="a REGISTER at the first SRV target")

    phone = lab.phone("101", salv, audio=audio.phone_a)
    call = short_call(phone, salv, 5.0)
    assert call["disposition"] == "answered"
    assert len(first.requests("INVITE")) == 1 and first.requests("ACK"), "the 503 was not ACKed"
    invite = second.requests("INVITE")[0]
    assert re.search(r"^CSeq: 2 INVITE", invite, re.M), invite
    assert call["meta"]["sip"]["failed_over"] == [second.address]
    rec = check_recording(call)
    assert_contains(rec, 0, audio.outside, start_s=0.5, others=(audio.phone_a,))


def test_outbound_proxy_gets_every_request_while_uri_and_to_stay_the_carriers(lab: Lab, audio):
    """The registrar's name resolves nowhere (only the carrier's side knows it); the sipp
    proxy gets the REGISTER and the INVITE, addressed to the carrier's domain."""
    proxy = lab.provider("answer", name="proxy", ring_ms=300)
    server = lab.dns(Zone())
    source = trunk_source("sip.carrier.test", outbound_proxy=proxy.address)
    salv = lab.salvesti(source_extra={**source, "nameservers": [server.address]})

    register = wait_for(lambda: proxy.requests("REGISTER"), 20, what="a REGISTER at the proxy")[0]
    assert register.startswith("REGISTER sip:sip.carrier.test SIP/2.0"), register
    assert re.search(rf"^To: <sip:{TRUNK_USER}@sip\.carrier\.test>", register, re.M), register

    phone = lab.phone("101", salv, audio=audio.phone_a)
    call = short_call(phone, salv, 6.0)
    assert call["disposition"] == "answered"
    invite = proxy.requests("INVITE")[0]
    assert invite.startswith(f"INVITE sip:{OUTSIDE}@sip.carrier.test SIP/2.0"), invite
    assert re.search(rf"^To: <sip:{re.escape(OUTSIDE)}@sip\.carrier\.test>", invite, re.M), invite
    assert proxy.requests("ACK") and proxy.requests("BYE"), "in-dialog requests did not reach the proxy"
    rec = check_recording(call)
    assert_notice_at_start(rec, audio.notice)
    assert_contains(rec, 0, audio.outside, start_s=0.5, others=(audio.phone_a,))


def test_a_trunk_that_refuses_the_tcp_connect_fails_the_call_at_once_with_503(lab: Lab, audio):
    """Nobody listens at the carrier's TCP port: the INVITE's transaction ends when the
    connect is refused (not 32 s later), and the phone gets 503 (RFC 3261 §8.1.3.1)."""
    closed = PORTS.port()
    source = trunk_source(f"127.0.0.1:{closed}", transport="tcp", register=False)
    salv = lab.salvesti(source_extra=source)
    phone = lab.phone("101", salv)

    started = time.monotonic()
    phone.dial(f"sip:{OUTSIDE}@{salv.address}")
    closed_event = phone.wait_event("CALL_CLOSED", 10)
    assert time.monotonic() - started < 5, "the call waited for Timer B"
    assert "503" in str(closed_event.get("param")), closed_event
    call = salv.wait_call()
    assert call["disposition"] == "failed"
    assert call["meta"]["sip"]["hangup_cause"] == "trunk unreachable"
