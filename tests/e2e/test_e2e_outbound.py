"""Outbound calls: an office phone calls an outside number through Salvesti and the carrier.

The callee (sipp carrier) answers, hears the whole notice, then the legs are bridged; the
recording starts at the answer, left = what the callee said, right = notice then the agent.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from harness.checks import assert_contains, assert_notice_at_start, check_call_shape, check_recording, iso
from harness.flows import OUTSIDE, dial_out, hang_up
from harness.lab import Lab
from harness.salvesti import EXTENSIONS, LINE, SOURCE_ID

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True, params=["default", "python"])
def media_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every call here runs on the default media path (the C core in a worker thread) and on
    the pure-Python one, which must stay the fallback (SALVESTI_MEDIA_CORE reaches the
    ``salvesti run`` the Lab starts)."""
    if request.param == "python":
        monkeypatch.setenv("SALVESTI_MEDIA_CORE", "python")
    return request.param


def test_outbound_call_from_baresip_is_recorded(lab: Lab, audio):
    carrier = lab.provider("answer", ring_ms=500)
    salv = lab.salvesti(trunk=carrier)
    phone = lab.phone("101", salv, audio=audio.phone_a)

    dial_out(phone, salv)
    time.sleep(7.0)
    hang_up(phone)

    call = salv.wait_call()
    check_call_shape(call)
    assert call["source"] == SOURCE_ID
    assert call["direction"] == "outbound"
    assert call["line"] == LINE
    assert call["remote_number"] == OUTSIDE
    assert call["extension"] == "101"
    assert call["disposition"] == "answered"
    assert call["notice"]["played"] is True and call["notice"]["name"]
    assert iso(call["retention"]["delete_after"]) == iso(call["ended_at"]) + timedelta(days=60)
    assert len(carrier.requests("INVITE")) == 1 and len(carrier.requests("BYE")) == 1

    rec = check_recording(call)
    assert_notice_at_start(rec, audio.notice)
    assert_contains(rec, 0, audio.outside, start_s=0.5, others=(audio.phone_a,))
    assert_contains(rec, 1, audio.phone_a, start_s=rec.duration_s - 3.5, others=(audio.outside,))


def test_outbound_call_from_sipp_phone_with_digest_and_alaw_trunk(lab: Lab, audio):
    carrier = lab.provider("answer", law="alaw", ring_ms=300)
    salv = lab.salvesti(trunk=carrier)
    password = EXTENSIONS["101"][0]
    phone = lab.sipp(
        "phone101",
        "phone_uac_invite_auth.xml",
        remote=salv.address,
        service=OUTSIDE,
        calls=1,
        timeout_s=30,
        params={"USER": "101", "PT": 0, "CODEC": "PCMU", "PCAP": audio.phone_a_ulaw_pcap, "TALK_MS": 7000},
        extra=["-au", "101", "-ap", password, "-auth_uri", f"sip:{OUTSIDE}@{salv.address}"],
    ).start()
    assert phone.wait(30) == 0, "the sipp phone's call did not complete"

    call = salv.wait_call()
    assert call["direction"] == "outbound" and call["extension"] == "101"
    assert call["disposition"] == "answered"
    rec = check_recording(call)
    assert_notice_at_start(rec, audio.notice)
    assert_contains(rec, 0, audio.outside, start_s=0.5, others=(audio.phone_a,))
    assert_contains(rec, 1, audio.phone_a, start_s=rec.duration_s - 3.5, others=(audio.outside,))
    invite = carrier.requests("INVITE")[0]
    assert re.search(r"^m=audio \d+ RTP/AVP( \d+)* 8\b", invite, re.M), f"trunk offer lacks PCMA:\n{invite}"


def test_busy_callee_gives_disposition_busy(lab: Lab, audio):
    carrier = lab.provider("busy", ring_ms=300)
    salv = lab.salvesti(trunk=carrier)
    phone = lab.phone("101", salv)

    phone.dial(f"sip:{OUTSIDE}@{salv.address}")
    closed = phone.wait_event("CALL_CLOSED", 10)
    assert "486" in str(closed.get("param")) or "Busy" in str(closed.get("param")), closed

    call = salv.wait_call()
    check_call_shape(call)
    assert call["disposition"] == "busy"
    assert call["answered_at"] is None
    assert call["recording"] is None or not call["recording"].get("path"), "a busy call has no recording"
    assert len(carrier.requests("ACK")) >= 1, "Salvesti did not ACK the 486"


def test_cancel_before_answer_gives_disposition_cancelled(lab: Lab, audio):
    carrier = lab.provider("noanswer")
    salv = lab.salvesti(trunk=carrier)
    phone = lab.phone("101", salv)

    phone.dial(f"sip:{OUTSIDE}@{salv.address}")
    phone.wait_event("CALL_RINGING", 10)
    time.sleep(1.0)
    hang_up(phone)

    call = salv.wait_call()
    check_call_shape(call)
    assert call["disposition"] == "cancelled"
    assert call["answered_at"] is None and call["duration_s"] is None
    assert call["recording"] is None or not call["recording"].get("path")
    assert len(carrier.requests("CANCEL")) == 1, "the CANCEL did not reach the carrier"


def test_outbound_call_on_uvloop_is_recorded(lab: Lab, audio):
    """`salvesti.event_loop: uvloop` (the faster loop) records the same call the same way."""
    carrier = lab.provider("answer", ring_ms=300)
    salv = lab.salvesti(trunk=carrier, core_extra={"event_loop": "uvloop"})
    phone = lab.phone("101", salv, audio=audio.phone_a)

    dial_out(phone, salv)
    time.sleep(6.0)
    hang_up(phone)

    call = salv.wait_call()
    assert call["direction"] == "outbound" and call["disposition"] == "answered"
    assert "uvloop event loop" in salv.proc.logs(tail=1_000_000)
    rec = check_recording(call)
    assert_notice_at_start(rec, audio.notice)
    assert_contains(rec, 0, audio.outside, start_s=0.5, others=(audio.phone_a,))
    assert_contains(rec, 1, audio.phone_a, start_s=rec.duration_s - 3.5, others=(audio.outside,))
