"""Click-to-call from the web UI or API through the sip_trunk source (its ``Dialer``).

The desk phone rings first (showing the number it will call); when it is picked up the
carrier is called, the far end hears the whole notice, then both are bridged and recorded
like any outbound call.
"""

from __future__ import annotations

import time

import pytest
import requests
from harness.checks import assert_contains, assert_notice_at_start, check_call_shape, check_recording
from harness.flows import OUTSIDE, hang_up
from harness.lab import Lab

pytestmark = pytest.mark.e2e
PASSWORD = "mari-long-password-1"


def session_for(salv, user: str) -> tuple[requests.Session, str]:  # type: ignore[no-untyped-def]
    s = requests.Session()
    r = s.post(
        f"http://127.0.0.1:{salv.http_port}/api/auth/login", json={"username": user, "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    return s, r.json()["csrf_token"]


def test_desk_phone_rings_first_then_the_number_is_called(lab: Lab, audio) -> None:
    carrier = lab.provider("answer", ring_ms=300)
    salv = lab.salvesti(trunk=carrier)
    cfg = str(salv.config_path)
    for name, ext in (("mari", "101"), ("jaan", "102")):
        res = salv.cli(
            "users",
            "add",
            name,
            "--role",
            "agent",
            "--extension",
            ext,
            "-c",
            cfg,
            input_=PASSWORD.encode() + b"\n",
        )
        assert res.returncode == 0, res.stderr.decode()
    phone = lab.phone("101", salv, audio=audio.phone_a, auto_answer=True)
    s, csrf = session_for(salv, "mari")
    url = f"http://127.0.0.1:{salv.http_port}/api/calls/dial"

    # An agent dials only from their own extension; 102 has no phone registered.
    r = s.post(url, json={"number": OUTSIDE, "extension": "102"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403
    jaan, jaan_csrf = session_for(salv, "jaan")
    r = jaan.post(url, json={"number": OUTSIDE}, headers={"X-CSRF-Token": jaan_csrf})
    assert r.status_code == 409 and "no phone registered" in r.json()["error"]
    assert len(carrier.requests("INVITE")) == 0

    r = s.post(url, json={"number": OUTSIDE}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 202, r.text
    started = r.json()
    assert started["extension"] == "101" and started["direction"] == "outbound"
    phone.wait_event("CALL_ESTABLISHED", 15)
    time.sleep(8.0)
    hang_up(phone)

    call = salv.wait_call()
    assert call["id"] == started["id"]
    check_call_shape(call)
    assert call["remote_number"] == OUTSIDE and call["disposition"] == "answered"
    assert call["meta"]["click_to_call"] is True
    assert len(carrier.requests("INVITE")) == 1
    rec = check_recording(call)
    assert_notice_at_start(rec, audio.notice)
    assert_contains(rec, 0, audio.outside, start_s=0.5, others=(audio.phone_a,))
    assert_contains(rec, 1, audio.phone_a, start_s=rec.duration_s - 3.5, others=(audio.outside,))
