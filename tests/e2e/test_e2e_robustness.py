"""Hostile or unusual input: wrong passwords, garbage datagrams, hold and resume mid-call."""

from __future__ import annotations

import socket
import time

import pytest
from harness.checks import assert_contains, assert_notice_at_start, check_call_shape, check_recording, iso
from harness.flows import OUTSIDE, dial_out, hang_up
from harness.lab import Lab
from harness.salvesti import EXTENSIONS
from harness.sipwire import garbage_datagrams, options_status, send_datagrams

pytestmark = pytest.mark.e2e


def _register(lab: Lab, salv, name: str, user: str, password: str, final: int) -> int:
    sipp = lab.sipp(
        name,
        "phone_register_auth.xml",
        remote=salv.address,
        service=user,
        calls=1,
        timeout_s=10,
        params={"FINAL": final},
        extra=["-au", user, "-ap", password, "-auth_uri", f"sip:{salv.address}"],
    ).start()
    return sipp.wait(15)


def test_wrong_password_is_challenged_again_and_nothing_reaches_the_trunk(lab: Lab):
    carrier = lab.provider("answer")
    salv = lab.salvesti(trunk=carrier)

    # The scenario works: the right password registers (so the 401 cases below mean something).
    assert _register(lab, salv, "reg-good", "101", EXTENSIONS["101"][0], 200) == 0
    assert _register(lab, salv, "reg-wrong", "101", "not-the-password", 401) == 0
    assert _register(lab, salv, "reg-unknown", "999", "whatever", 401) == 0

    invite = lab.sipp(
        "invite-wrong",
        "phone_invite_badauth.xml",
        remote=salv.address,
        service=OUTSIDE,
        calls=1,
        timeout_s=10,
        params={"USER": "101"},
        extra=["-au", "101", "-ap", "not-the-password", "-auth_uri", f"sip:{OUTSIDE}@{salv.address}"],
    ).start()
    assert invite.wait(15) == 0, "a wrong password was not answered with 407 again"
    time.sleep(0.5)
    assert carrier.requests("INVITE") == [], "an unauthenticated INVITE reached the carrier"


def test_garbage_datagrams_do_not_disturb_a_call(lab: Lab, audio):
    carrier = lab.provider("answer")
    salv = lab.salvesti(trunk=carrier)
    phone = lab.phone("101", salv, audio=audio.phone_a)

    dial_out(phone, salv)
    time.sleep(1.0)
    junk = garbage_datagrams(40)
    send_datagrams(salv.sip_port, junk)
    for port in range(salv.rtp_min, salv.rtp_max + 1):
        send_datagrams(port, junk[:12])
    with socket.create_connection(("127.0.0.1", salv.sip_port), timeout=2) as tcp:
        tcp.sendall(b"\x00\xff garbage over TCP \r\n\r\nINVITE x\r\nContent-Length: -5\r\n\r\n")
    time.sleep(6.0)
    assert options_status(salv.sip_port) == 200, "SIP port stopped answering after garbage"
    hang_up(phone)

    call = salv.wait_call()
    check_call_shape(call)
    assert call["disposition"] == "answered"
    rec = check_recording(call)
    assert_notice_at_start(rec, audio.notice)
    assert_contains(rec, 0, audio.outside, start_s=0.5, others=(audio.phone_a,))
    assert_contains(rec, 1, audio.phone_a, start_s=rec.duration_s - 3.5, others=(audio.outside,))
    assert salv.proc is not None and salv.proc.running()


def test_hold_and_resume_keep_one_continuous_recording(lab: Lab, audio):
    carrier = lab.provider("answer")
    salv = lab.salvesti(trunk=carrier)
    phone = lab.phone("101", salv, audio=audio.phone_a)

    dial_out(phone, salv)
    time.sleep(3.0)
    phone.hold()
    time.sleep(1.5)
    phone.resume()
    time.sleep(4.0)
    hang_up(phone)

    call = salv.wait_call()
    check_call_shape(call)
    assert call["disposition"] == "answered"
    rec = check_recording(call)  # length = answered time within 100 ms, across the hold
    talk = (iso(call["ended_at"]) - iso(call["answered_at"])).total_seconds()
    assert talk > 8.0, f"call too short ({talk:.1f} s): did the hold end it?"
    assert_contains(rec, 0, audio.outside, start_s=0.5, length_s=6.0)
    assert_contains(
        rec, 1, audio.phone_a, start_s=rec.duration_s - 3.0, length_s=2.5, others=(audio.outside,)
    )
    assert len(calls := salv.calls()) == 1, f"hold/resume created {len(calls)} calls"
