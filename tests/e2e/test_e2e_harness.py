"""The harness tested on its own, with no Salvesti in the path.

If these fail, every other e2e failure is suspect: baresip must reach a sipp callee and hear
its pcap, the sipp carrier must reach an auto-answering baresip and be heard, the
envelope matcher must tell parties apart, and the port allocator must not repeat itself.
"""

from __future__ import annotations

import time

import pytest
from harness.audio import check_wav_header, locate, segment, wav_envelope
from harness.baresip import Baresip
from harness.lab import Lab
from harness.ports import PORTS, PortAllocator
from harness.procs import wait_for
from harness.sipp import g711_params
from harness.sipwire import UdpRecorder, options_status, send_datagrams

pytestmark = pytest.mark.e2e


def test_envelope_matcher_tells_parties_apart(audio):
    a, b, out = (wav_envelope(p) for p in (audio.phone_a, audio.phone_b, audio.outside))
    needle = segment(a, 2.0, 3.0)
    own = locate(needle, a)
    assert own.corr > 0.99 and abs(own.offset_s - 2.0) < 0.03
    assert locate(needle, b).corr < 0.8
    assert locate(needle, out).corr < 0.8


def test_port_allocator_never_repeats():
    ports = PortAllocator(base=21000)
    seen = [ports.port() for _ in range(20)]
    first, last = ports.block(10)
    assert len(set(seen)) == 20
    assert first % 2 == 0 and last - first == 9 and first > max(seen)


def test_baresip_calls_sipp_carrier_and_hears_it(lab: Lab, audio):
    carrier = lab.provider("answer", ring_ms=200)
    phone = lab.baresip("caller", aor=Baresip.account("alice", "127.0.0.1"), audio=audio.phone_a)
    phone.dial(f"sip:+3725551234@{carrier.address}")
    phone.wait_event("CALL_ESTABLISHED", 8)
    time.sleep(4.0)
    phone.hangup()
    phone.wait_event("CALL_CLOSED", 5)
    heard = phone.dumps("dec")
    assert heard, "baresip wrote no dump of what it heard"
    info = check_wav_header(heard[-1])
    assert info.duration_s > 3.0
    match = locate(segment(wav_envelope(heard[-1]), 0.5, 3.0), wav_envelope(audio.outside))
    assert match.corr > 0.9, f"the phone did not hear the carrier's pcap: {match}"
    assert len(carrier.requests("INVITE")) == 1
    assert len(carrier.requests("BYE")) == 1


def test_sipp_carrier_calls_auto_answer_baresip(lab: Lab, audio):
    callee = lab.baresip(
        "callee", aor=Baresip.account("101", "127.0.0.1", auto_answer=True), audio=audio.phone_a
    )
    caller = lab.sipp(
        "carrier-out",
        "provider_uac_invite.xml",
        remote=f"127.0.0.1:{callee.sip_port}",
        service="101",
        calls=1,
        timeout_s=20,
        params={
            **g711_params("ulaw"),
            "PCAP": audio.outside_ulaw_pcap,
            "TALK_MS": 4000,
            "LINE": "+3726000000",
            "CALLER": "+3725551234",
        },
    ).start()
    assert caller.wait(20) == 0, caller.logs()
    callee.wait_event("CALL_CLOSED", 5)
    heard = callee.dumps("dec")[-1]
    match = locate(segment(wav_envelope(heard), 0.5, 3.0), wav_envelope(audio.outside))
    assert match.corr > 0.9, f"baresip did not hear the carrier's pcap: {match}"


def test_probe_helpers(lab: Lab):
    carrier = lab.provider("answer")
    assert options_status(carrier.port) == 200
    assert len(carrier.requests("OPTIONS")) >= 2
    recorder = UdpRecorder(PORTS.port()).start()
    send_datagrams(recorder.port, [b"INVITE sip:x SIP/2.0\r\n\r\n", b"junk"])
    wait_for(lambda: len(recorder.datagrams) == 2, 2, what="two datagrams")
    recorder.stop()
    assert len(recorder.requests("INVITE")) == 1


@pytest.mark.parametrize(("kind", "closed_with"), [("busy", "486"), ("noanswer", None)])
def test_sipp_carrier_busy_and_noanswer_scenarios(lab: Lab, audio, kind, closed_with):
    carrier = lab.provider(kind, ring_ms=200)
    phone = lab.baresip("caller", aor=Baresip.account("alice", "127.0.0.1"), audio=audio.phone_a)
    phone.dial(f"sip:+3725551234@{carrier.address}")
    if closed_with:
        closed = phone.wait_event("CALL_CLOSED", 8)
        assert closed_with in str(closed.get("param"))
        wait_for(lambda: carrier.requests("ACK"), 3, what="ACK for the 486")
    else:
        phone.wait_event("CALL_RINGING", 8)
        phone.hangup()
        phone.wait_event("CALL_CLOSED", 5)
        wait_for(lambda: carrier.requests("ACK"), 3, what="ACK for the 487")
        assert len(carrier.requests("CANCEL")) == 1


@pytest.mark.parametrize(
    "scenario",
    ["phone_uac_invite_auth.xml", "phone_register_auth.xml", "phone_invite_badauth.xml"],
)
def test_phone_scenarios_load_and_send(lab: Lab, audio, scenario):
    """sipp accepts the phone scenarios and sends their first request (nobody answers here)."""
    sink = UdpRecorder(PORTS.port()).start()
    try:
        params = {"USER": "101", "PT": 0, "CODEC": "PCMU", "PCAP": audio.phone_a_ulaw_pcap, "TALK_MS": 100}
        params["FINAL"] = 200
        sipp = lab.sipp(
            "phone",
            scenario,
            remote=f"127.0.0.1:{sink.port}",
            service="101",
            calls=1,
            timeout_s=3,
            params=params,
        ).start()
        wait_for(lambda: sink.datagrams, 5, what="the scenario's first request")
        sipp.stop()
        first = sink.datagrams[0][1].split(b" ", 1)[0]
        assert first in (b"INVITE", b"REGISTER"), sipp.logs()
    finally:
        sink.stop()
