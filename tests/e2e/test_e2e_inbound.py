"""Inbound calls: the carrier calls the line; Salvesti answers, plays the notice, then rings 101.

Left channel = what the outside caller said; right = what the caller heard (notice, then
the agent).  The agent's voice never reaches the caller before the notice has ended.
"""

from __future__ import annotations

import time

import pytest
from harness.audio import locate, segment, wav_envelope
from harness.baresip import Baresip
from harness.checks import assert_contains, assert_notice_at_start, check_call_shape, check_recording
from harness.flows import OUTSIDE, inbound_from_carrier
from harness.lab import Lab
from harness.salvesti import LINE, SOURCE_ID

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True, params=["default", "python"])
def media_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every call here runs on the default media path (the C core in a worker thread) and on
    the pure-Python one, which must stay the fallback (SALVESTI_MEDIA_CORE reaches the
    ``salvesti run`` the Lab starts)."""
    if request.param == "python":
        monkeypatch.setenv("SALVESTI_MEDIA_CORE", "python")
    return request.param


def test_inbound_call_rings_extension_after_notice(lab: Lab, audio):
    carrier = lab.provider("answer")
    salv = lab.salvesti(trunk=carrier)
    phone = lab.phone("101", salv, audio=audio.phone_a, auto_answer=True)

    uac = inbound_from_carrier(lab, salv, carrier, talk_ms=8000)
    assert uac.wait(40) == 0, "the carrier's inbound call did not complete"

    call = salv.wait_call()
    check_call_shape(call)
    assert call["source"] == SOURCE_ID
    assert call["direction"] == "inbound"
    assert call["line"] == LINE
    assert call["remote_number"] == OUTSIDE
    assert call["extension"] == "101"
    assert call["disposition"] == "answered"
    assert call["notice"]["played"] is True
    assert "CALL_ESTABLISHED" in phone.event_types(), "extension 101 never answered"

    rec = check_recording(call)
    assert_notice_at_start(rec, audio.notice)
    assert_contains(rec, 0, audio.outside, start_s=0.5, others=(audio.phone_a,))
    assert_contains(rec, 1, audio.phone_a, start_s=rec.duration_s - 3.5, others=(audio.outside,))


def test_inbound_caller_hears_notice_first(lab: Lab, audio):
    """A real UA as the caller (baresip on the carrier's address) records what it heard."""
    carrier = lab.provider("answer")
    salv = lab.salvesti(trunk=carrier)
    lab.phone("101", salv, audio=audio.phone_a, auto_answer=True)
    caller = lab.baresip(
        "outside-caller",
        aor=Baresip.account("+3725557777", "127.0.0.1"),
        audio=audio.outside,
        sip_port=lab.carrier_ua_port,
    )
    caller.dial(f"sip:{LINE}@{salv.address}")
    caller.wait_event("CALL_ESTABLISHED", 10)
    time.sleep(7.0)
    caller.hangup()
    caller.wait_event("CALL_CLOSED", 5)

    heard = caller.dumps("dec")
    assert heard, "the caller's phone wrote no dump of what it heard"
    env = wav_envelope(heard[-1])
    notice = wav_envelope(audio.notice)
    first = locate(notice, env[: len(notice) + 75])
    assert first.corr >= 0.8 and first.offset_s <= 0.5, f"the caller did not hear the notice first: {first}"
    agent = locate(segment(env, len(env) * 0.02 - 3.0, 2.5), wav_envelope(audio.phone_a))
    assert agent.corr >= 0.8, f"the caller did not hear the agent after the notice: {agent}"

    call = salv.wait_call()
    assert call["direction"] == "inbound" and call["remote_number"] == "+3725557777"
    rec = check_recording(call)
    assert_notice_at_start(rec, audio.notice)


def test_caller_hangs_up_during_notice(lab: Lab, audio):
    carrier = lab.provider("answer")
    salv = lab.salvesti(trunk=carrier)
    phone = lab.phone("101", salv, audio=audio.phone_a, auto_answer=True)

    uac = inbound_from_carrier(lab, salv, carrier, talk_ms=1000)
    assert uac.wait(30) == 0, "the carrier's inbound call did not complete"

    call = salv.wait_call()
    check_call_shape(call)
    assert call["direction"] == "inbound"
    assert call["disposition"] == "answered"
    assert call["notice"]["played"] is True
    assert call["notice"].get("complete") is False, f"notice marked complete: {call['notice']}"
    assert "CALL_INCOMING" not in phone.event_types(), "101 rang although the caller left during the notice"
    rec = check_recording(call)
    assert rec.duration_s < 2.0
