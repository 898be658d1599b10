"""SIP that carriers expect, against sipp carriers: reliable provisional responses (PRACK)."""

from __future__ import annotations

import re
import time

import pytest
from harness.checks import assert_contains, assert_notice_at_start, check_call_shape, check_recording
from harness.flows import OUTSIDE, dial_out, hang_up
from harness.lab import Lab

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

