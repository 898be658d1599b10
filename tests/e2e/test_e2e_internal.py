"""Calls that involve two extensions: an internal call, and a blind transfer to a colleague."""

from __future__ import annotations

import time

import pytest
from harness.checks import assert_contains, check_call_shape, check_recording
from harness.flows import hang_up, inbound_from_carrier
from harness.lab import Lab

pytestmark = pytest.mark.e2e


def test_internal_call_is_recorded_caller_left_callee_right(lab: Lab, audio):
    carrier = lab.provider("answer")
    salv = lab.salvesti(trunk=carrier, source_extra={"record_internal": True})
    caller = lab.phone("101", salv, audio=audio.phone_a)
    callee = lab.phone("102", salv, audio=audio.phone_b, auto_answer=True)

    caller.dial(f"sip:102@{salv.address}")
    caller.wait_event("CALL_ESTABLISHED", 10)
    callee.wait_event("CALL_ESTABLISHED", 5)
    time.sleep(6.0)
    hang_up(caller)

    call = salv.wait_call()
    check_call_shape(call)
    assert call["direction"] == "internal"
    assert call["disposition"] == "answered"
    assert call["extension"] == "101"
    assert call["notice"]["played"] is False, "the notice is for outside parties only"
    assert carrier.requests("INVITE") == [], "an internal call reached the trunk"
    rec = check_recording(call)
    assert_contains(rec, 0, audio.phone_a, start_s=1.0, others=(audio.phone_b,))
    assert_contains(rec, 1, audio.phone_b, start_s=1.0, others=(audio.phone_a,))


def test_blind_transfer_keeps_one_recording_with_both_extensions(lab: Lab, audio):
    carrier = lab.provider("answer")
    salv = lab.salvesti(trunk=carrier)
    first = lab.phone("101", salv, audio=audio.phone_a, auto_answer=True)
    second = lab.phone("102", salv, audio=audio.phone_b, auto_answer=True)

    uac = inbound_from_carrier(lab, salv, carrier, talk_ms=10000)
    first.wait_event("CALL_ESTABLISHED", 12)
    time.sleep(2.0)
    first.transfer(f"sip:102@{salv.address}")
    second.wait_event("CALL_ESTABLISHED", 8)
    assert uac.wait(30) == 0, "the outside caller's call did not survive the transfer"

    calls = [c for c in salv.calls() if c["direction"] == "inbound"]
    assert len(calls) == 1, f"expected one inbound call, got {len(calls)}"
    call = salv.wait_call()
    check_call_shape(call)
    assert call["extension"] == "101"
    assert set(call.get("extensions", [])) >= {"101", "102"}, f"extensions listed: {call.get('extensions')}"
    rec = check_recording(call)
    assert_contains(rec, 0, audio.outside, start_s=0.5)
    assert_contains(rec, 1, audio.phone_b, start_s=rec.duration_s - 3.5, others=(audio.phone_a,))
    recordings = list(salv.recordings_dir.rglob("*.wav"))
    assert len(recordings) == 1, f"expected one recording file, found {recordings}"
