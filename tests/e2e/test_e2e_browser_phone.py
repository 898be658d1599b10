"""The browser phone through ``salvesti run``: an aiortc client speaks the /phone page's
protocol (the page itself runs in Chromium in ``test_e2e_browser_chromium.py``).

The carrier is sipp on loopback.  Each call must be recorded like a desk phone's: one call
object with extension 103, the notice first, left = what the outside party said, right =
the notice and then what the browser's microphone sent.
"""

from __future__ import annotations

import time
import wave
from pathlib import Path

import pytest
from harness.audio import locate, segment, wav_envelope
from harness.browser_phone import AGENT, browser_lab, client
from harness.checks import assert_contains, assert_notice_at_start, check_call_shape, check_recording
from harness.flows import OUTSIDE, inbound_from_carrier
from harness.lab import Lab
from harness.salvesti import LINE

pytestmark = pytest.mark.e2e


def test_browser_calls_out_and_is_recorded(lab: Lab, audio, tmp_path: Path) -> None:
    carrier = lab.provider("answer", ring_ms=500)
    salv = browser_lab(lab, carrier)
    tab = client(salv, tmp_path, audio)
    try:
        assert tab.open() == 101
        tab.call(OUTSIDE)
        tab.wait_state("connected", 20)
        time.sleep(7.0)
        tab.hangup()
        tab.wait_state("ended", 10)
        tab.stop_media()
    finally:
        tab.close()

    call = salv.wait_call()
    check_call_shape(call)
    assert call["direction"] == "outbound" and call["line"] == LINE
    assert call["remote_number"] == OUTSIDE
    assert call["extension"] == "103"
    assert call["disposition"] == "answered"
    assert call["notice"]["played"] is True and call["notice"]["complete"] is True
    assert len(carrier.requests("INVITE")) == 1 and len(carrier.requests("BYE")) == 1
    rec = check_recording(call)
    assert_notice_at_start(rec, audio.notice)
    assert_contains(rec, 0, audio.outside, start_s=0.5, others=(audio.phone_a,))
    assert_contains(rec, 1, audio.phone_a, start_s=rec.duration_s - 3.5, others=(audio.outside,))
    # The browser heard the outside party (after the notice had played to them).
    heard = tmp_path / f"heard-{AGENT}.wav"
    with wave.open(str(heard)) as w:
        assert w.getnframes() / w.getframerate() > 3.0
    heard_env = wav_envelope(heard)
    found = locate(segment(heard_env, len(heard_env) * 0.02 - 4.0, 3.0), wav_envelope(audio.outside))
    assert found.corr >= 0.6, f"the browser did not hear the outside party: {found}"


def test_browser_answers_inbound_call(lab: Lab, audio, tmp_path: Path) -> None:
    carrier = lab.provider("answer")
    salv = browser_lab(lab, carrier)
    tab = client(salv, tmp_path, audio)
    try:
        assert tab.open() == 101
        uac = inbound_from_carrier(lab, salv, carrier, talk_ms=9000)
        call_id = tab.answer(25)
        tab.wait_state("connected", 15)
        assert uac.wait(40) == 0, "the carrier's inbound call did not complete"
        tab.wait_state("ended", 10)
        tab.stop_media()
    finally:
        tab.close()

    call = salv.wait_call()
    assert call["id"] == call_id
    check_call_shape(call)
    assert call["direction"] == "inbound" and call["extension"] == "103"
    assert call["disposition"] == "answered" and call["remote_number"] == OUTSIDE
    rec = check_recording(call)
    assert_notice_at_start(rec, audio.notice)
    assert_contains(rec, 0, audio.outside, start_s=0.5, others=(audio.phone_a,))
    assert_contains(rec, 1, audio.phone_a, start_s=rec.duration_s - 3.5, others=(audio.outside,))


def test_browser_and_desk_phone_ring_together_browser_wins(lab: Lab, audio, tmp_path: Path) -> None:
    carrier = lab.provider("answer")
    salv = browser_lab(lab, carrier, inbound=("101", "103"))
    desk = lab.phone("101", salv, audio=audio.phone_b, auto_answer=False)
    tab = client(salv, tmp_path, audio)
    try:
        assert tab.open() == 101
        uac = inbound_from_carrier(lab, salv, carrier, talk_ms=7000)
        desk.wait_event("CALL_INCOMING", 25)
        tab.answer(10)
        tab.wait_state("connected", 15)
        desk.wait_event("CALL_CLOSED", 10)  # the desk phone stopped ringing: cancelled
        assert uac.wait(40) == 0
    finally:
        tab.close()
    call = salv.wait_call()
    assert call["extension"] == "103" and call["disposition"] == "answered"
    assert "101" not in (call.get("extensions") or []), "the cancelled desk phone is not a party"


def test_closing_the_tab_mid_call_ends_and_keeps_the_recording(lab: Lab, audio, tmp_path: Path) -> None:
    carrier = lab.provider("answer", ring_ms=300)
    salv = browser_lab(lab, carrier)
    tab = client(salv, tmp_path, audio)
    try:
        assert tab.open() == 101
        tab.call(OUTSIDE)
        tab.wait_state("connected", 20)
        time.sleep(2.0)
    finally:
        tab.close()  # no hangup message: the socket just goes
    call = salv.wait_call(timeout=20)
    assert call["disposition"] == "answered" and call["extension"] == "103"
    assert call["recording"]["sha256"], "the recording was not finalised"
    assert len(carrier.requests("BYE")) == 1, "the trunk leg was not hung up"


def test_phone_socket_refuses_strangers_and_other_extensions(lab: Lab, audio, tmp_path: Path) -> None:
    carrier = lab.provider("answer")
    salv = browser_lab(lab, carrier)
    nobody = client(salv, tmp_path, audio)
    jaan = client(salv, tmp_path, audio, user="jaan")  # extension 102: a desk phone only
    forged = client(salv, tmp_path, audio)
    try:
        assert nobody.open(login=False) == 401
        assert jaan.open() == 403
        assert forged.open(csrf="not-the-token") == 403
    finally:
        for c in (nobody, jaan, forged):
            c.close()
    assert len(carrier.requests("INVITE")) == 0, "nothing may be dialled"


def test_browser_blind_transfer_to_a_desk_phone(lab: Lab, audio, tmp_path: Path) -> None:
    """The agent sends the caller on to 101 and leaves; the call goes on, recorded whole."""
    carrier = lab.provider("answer")
    salv = browser_lab(lab, carrier)
    desk = lab.phone("101", salv, audio=audio.phone_b, auto_answer=True, timeout_s=90)
    tab = client(salv, tmp_path, audio)
    try:
        assert tab.open() == 101
        uac = inbound_from_carrier(lab, salv, carrier, talk_ms=14000)
        tab.answer(25)
        tab.wait_state("connected", 15)
        time.sleep(2.0)
        tab.send({"type": "transfer", "to": "109"})  # no such desk phone: refused, call goes on
        err = tab.wait(lambda m: m.get("type") == "error" and m.get("code") == "transfer_failed", 5)
        assert "not_an_extension" in err["message"]
        tab.send({"type": "transfer", "to": "101"})
        ended = tab.wait_state("ended", 10)
        assert ended.get("reason") == "transferred"
        desk.wait_event("CALL_ESTABLISHED", 15)
        assert uac.wait(40) == 0, "the caller's call did not go on to its end"
    finally:
        tab.close()
    call = salv.wait_call()
    assert call["disposition"] == "answered"
    assert call["extension"] == "103" and "101" in call["extensions"]
    assert call["meta"]["sip"]["transfers"] == [{"from": "103", "to": "101"}]
    rec = check_recording(call)
    assert_notice_at_start(rec, audio.notice)
    assert_contains(
        rec, 1, audio.phone_b, start_s=rec.duration_s - 3.5, others=(audio.outside, audio.phone_a)
    )


def test_ice_that_never_connects_fails_visibly_and_dials_nothing(lab: Lab, audio, tmp_path: Path) -> None:
    carrier = lab.provider("answer")
    salv = browser_lab(lab, carrier, extra=", ice_timeout: 2, max_calls_per_minute: 2")
    tab = client(salv, tmp_path, audio)
    try:
        assert tab.open() == 101
        # Bad input first: clear errors, and the tab still works afterwards.
        tab.send({"type": "dial-please"})
        assert tab.wait(lambda m: m.get("type") == "error")["code"] == "unknown_type"
        tab.send({"type": "answer", "call": "nothing-rings", "sdp": "v=0\r\nm=audio 9 RTP/AVP 0\r\n"})
        assert tab.wait(lambda m: m.get("code") == "not_ringing")["type"] == "error"
        tab.send({"type": "call", "number": OUTSIDE, "sdp": tab.dead_offer()})
        ended = tab.wait_state("ended", 15)
        assert ended.get("reason") in ("ice_timeout", "ice_failed"), ended
        tab.send({"type": "call", "number": OUTSIDE, "sdp": tab.dead_offer()})
        tab.wait(lambda m: m.get("type") == "state" and m.get("state") == "ended" and m is not ended, 15)
        # A third attempt within the minute is refused before any media or dialling.
        tab.send({"type": "call", "number": OUTSIDE, "sdp": tab.dead_offer()})
        assert tab.wait(lambda m: m.get("code") == "rate_limited")["type"] == "error"
    finally:
        tab.close()
    assert len(carrier.requests("INVITE")) == 0, "a call whose media never connected must not be dialled"


def test_keypad_from_the_browser_reaches_the_call(lab: Lab, audio, tmp_path: Path) -> None:
    """The page's dial pad sends RFC 4733 into the call like a desk phone's keypad: here the
    pause code, which the call's media path acts on (and never passes to the carrier)."""
    carrier = lab.provider("answer", ring_ms=300)
    salv = browser_lab(lab, carrier, core_extra={"pause_code": "*7"})
    tab = client(salv, tmp_path, audio)
    try:
        assert tab.open() == 101
        tab.send({"type": "dtmf", "digit": "1"})  # no call yet: refused, nothing sent
        assert tab.wait(lambda m: m.get("code") == "no_call")["type"] == "error"
        tab.call(OUTSIDE)
        tab.wait_state("connected", 20)
        time.sleep(1.0)
        for digit in "*7":
            tab.send({"type": "dtmf", "digit": digit})
            time.sleep(0.4)
        time.sleep(1.5)
        tab.hangup()
        tab.wait_state("ended", 10)
    finally:
        tab.close()
    call = salv.wait_call()
    assert [p["by"] for p in call["pauses"]] == ["keypad"], call["pauses"]
    assert call["meta"]["dtmf_sent"]["count"] == 2


def test_a_second_tab_takes_over_the_extension(lab: Lab, audio, tmp_path: Path) -> None:
    carrier = lab.provider("answer")
    salv = browser_lab(lab, carrier)
    first, second = client(salv, tmp_path, audio), client(salv, tmp_path, audio)
    try:
        assert first.open() == 101
        assert second.open() == 101
        first.wait(lambda m: m.get("type") == "replaced", 5)
        uac = inbound_from_carrier(lab, salv, carrier, talk_ms=5000)
        second.answer(25)
        second.wait_state("connected", 15)
        assert not [m for m in first.messages if m.get("type") == "incoming"], "the old tab was rung"
        assert uac.wait(40) == 0
    finally:
        first.close()
        second.close()
    call = salv.wait_call()
    assert call["extension"] == "103" and call["disposition"] == "answered"
