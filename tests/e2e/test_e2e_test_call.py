"""The owner's test call, end to end: ``salvesti run``, a real baresip phone, the HTTP API
and the web UI in Chromium.

An admin logs in over HTTP and asks for a test call to 101; the phone (auto-answer, its
microphone a speech file) shows "Salvesti test", hears the notice and a beep, speaks, and
Salvesti hangs up after the configured seconds.  The call is listed with a finalised
recording: left = what the phone said (its speech), right = what it heard (the notice at
the start, then the 1 kHz beep).  Refusals: 102 is configured but not registered (409), a
second test call while one is in progress (409), an agent (403), and each attempt is audited.
In Chromium, the "Test call" button for 101 leads to the call's page with its waveform
drawn (screenshots in the test's tmp folder and $SALVESTI_SCREENSHOTS).  Time passes by
waiting for conditions (the call's end), never by a fixed sleep.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from harness.checks import assert_contains, assert_notice_at_start, check_call_shape, check_recording
from harness.lab import Lab
from harness.procs import wait_for
from harness.salvesti import EXTENSIONS, Salvesti

pytestmark = pytest.mark.e2e

PASSWORD = "a-long-passw0rd"
CHROMIUM = "/usr/bin/chromium"


class Session:
    """A logged-in web session: the cookie jar and the CSRF token, as the browser has them."""

    def __init__(self, salv: Salvesti, user: str, password: str = PASSWORD) -> None:
        self.base = f"http://127.0.0.1:{salv.http_port}"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        status, body = self.call("POST", "/api/auth/login", {"username": user, "password": password})
        assert status == 200, body
        self.csrf = body["csrf_token"]

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if getattr(self, "csrf", None):
            headers["X-CSRF-Token"] = self.csrf
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with self.opener.open(req, timeout=10) as res:
                return res.status, json.loads(res.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")


def add_user(salv: Salvesti, name: str, role: str, *extra: str) -> None:
    res = salv.cli(
        "users",
        "add",
        name,
        "--role",
        role,
        *extra,
        "-c",
        str(salv.config_path),
        input_=b"%s\n" % PASSWORD.encode(),
    )
    assert res.returncode == 0, res.stderr.decode()


def active(samples: np.ndarray, rate: int, start_s: float, end_s: float) -> float:
    """RMS of a stretch of one channel."""
    part = samples[int(start_s * rate) : int(end_s * rate)]
    return float(np.sqrt((part.astype(float) ** 2).mean())) if len(part) else 0.0


def test_a_test_call_rings_the_phone_plays_the_notice_and_records_its_voice(lab: Lab, audio):
    carrier = lab.provider("answer")
    salv = lab.salvesti(trunk=carrier)  # record_internal is off: the test call is recorded anyway
    add_user(salv, "boss", "admin")
    add_user(salv, "kati", "agent", "--extension", "101")
    phone = lab.phone("101", salv, audio=audio.phone_a, auto_answer=True)
    boss = Session(salv, "boss")

    status, listed = boss.call("GET", "/api/test-call")
    assert status == 200, listed
    by_ext = {t["extension"]: t for t in listed["extensions"]}
    assert by_ext["101"]["registered"] is True and by_ext["102"]["registered"] is False

    status, err = boss.call("POST", "/api/test-call", {"extension": "102"})
    assert status == 409 and err["reason"] == "not_registered", err
    assert "not registered" in err["error"]
    status, err = boss.call("POST", "/api/test-call", {"extension": "101", "seconds": 31})
    assert status == 400, err  # at most 30 s
    status, err = boss.call("POST", "/api/test-call", {"extension": "999"})
    assert status == 404, err
    status, err = Session(salv, "kati").call("POST", "/api/test-call", {"extension": "101"})
    assert status == 403, err

    status, started = boss.call("POST", "/api/test-call", {"extension": "101", "seconds": 5})
    assert status == 202, started
    call_id = started["id"]
    assert started["direction"] == "internal" and started["extension"] == "101"
    assert started["meta"]["test_call"] is True
    status, again = boss.call("POST", "/api/test-call", {"extension": "101"})
    assert status == 409 and again["reason"] == "in_progress", again

    established = phone.wait_event("CALL_ESTABLISHED", 10)  # auto-answer: no CALL_INCOMING
    assert established.get("peerdisplayname") == "Salvesti test", f"the phone was shown: {established}"
    phone.wait_event("CALL_CLOSED", 30)  # Salvesti hangs up after notice, beep and 5 s

    call = salv.wait_call(lambda c: c["id"] == call_id, timeout=20)
    check_call_shape(call)
    assert call["disposition"] == "answered"
    assert call["meta"]["test_call"] is True
    assert call["meta"]["sip"]["hangup_side"] == "salvesti"
    assert call["health"] == [], call["health"]
    assert call["notice"]["played"] is True and call["notice"]["complete"] is True
    assert call["retention"]["rule"] == "default", call["retention"]
    notice_s = audio.duration(audio.notice)
    assert notice_s + 5.0 <= call["duration_s"] <= notice_s + 5.0 + 2.0, call["duration_s"]
    assert carrier.requests("INVITE") == [], "a test call reached the trunk"

    rec = check_recording(call)
    # Right = what the phone heard: the notice first, then the 1 kHz beep, then silence.
    match = assert_notice_at_start(rec, audio.notice, channel=1)
    beep_at = match.offset_s + notice_s
    heard = rec.samples[:, 1]
    assert active(heard, rec.rate, beep_at + 0.1, beep_at + 0.3) > 3000, rec.loudness(1, 0.1)
    assert active(heard, rec.rate, beep_at + 1.0, rec.duration_s) < 100, (
        "the phone heard something after the beep"
    )
    # Left = what the phone said: its speech, throughout.
    assert_contains(rec, 0, audio.phone_a, start_s=1.0, length_s=3.0)

    status, log = boss.call("GET", "/api/audit?action=test_call&limit=20")
    assert status == 200
    entries = log["entries"]
    oks = [e for e in entries if e["call_id"] == call_id]
    assert len(oks) == 1 and oks[0]["user"] == "boss"
    refused = [e for e in entries if e["call_id"] is None]
    assert len(refused) == 4, [e["detail"] for e in entries]  # 102, 999, the agent, the second one
    assert wait_for(lambda: boss.call("GET", "/api/test-call")[1]["extensions"][0]["in_progress"] is False, 5)


def shot(page: Any, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    out = os.environ.get("SALVESTI_SCREENSHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        shutil.copy(folder / f"{name}.png", Path(out) / f"{name}.png")


def test_the_test_call_button_rings_101_and_opens_the_call_with_its_waveform(lab: Lab, audio, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    assert Path(CHROMIUM).exists(), "apt-get install chromium"
    salv = lab.salvesti()
    add_user(salv, "boss", "admin")
    lab.phone("101", salv, audio=audio.phone_a, auto_answer=True)
    url = f"http://127.0.0.1:{salv.http_port}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--mute-audio"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url + "/")
            page.evaluate("localStorage.setItem('salvesti.lang', 'en')")
            page.fill("#username", "boss")
            page.fill("#password", PASSWORD)
            page.click("form.login button[type=submit]")
            expect(page.locator("#calls")).to_be_visible()
            page.click("#nav-test-call")
            button = page.get_by_role("button", name="Test call 101")
            expect(button).to_be_enabled()
            expect(page.get_by_role("button", name="Test call 102")).to_be_disabled()  # not registered
            shot(page, tmp_path, "test-call")
            with page.expect_response(
                lambda r: r.url.endswith("/api/test-call") and r.request.method == "POST"
            ) as posted:
                button.click()
            assert posted.value.status == 202
            call_id = posted.value.json()["id"]
            # the phone answers at once: "Ringing extension 101…" is soon "Answered: listen…"
            expect(page.locator("#test-status")).to_contain_text("Answered: listen to the notice")
            # notice + beep + 5 s recorded, then the page opens the call
            expect(page).to_have_url(re.compile(f"#/calls/{call_id}$"), timeout=30_000)
            expect(page.locator("#wave")).to_be_visible()
            expect(page.locator(".call-title")).to_contain_text("Salvesti test call")
            expect(page.locator(".legend")).to_contain_text("what the phone heard")
            page.wait_for_function("document.querySelector('#audio').readyState >= 1", timeout=10_000)
            lit = page.wait_for_function(
                """() => { const c = document.querySelector('#wave');
                     const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                     let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
                     return n > c.width * 4 ? n : false; }""",
                timeout=10_000,
            )
            assert lit.json_value() > 0
            shot(page, tmp_path, "test-call-result")
            assert not errors, errors
        finally:
            browser.close()


def test_salvesti_test_call_on_the_command_line_and_a_phone_that_refuses(lab: Lab, audio):
    extensions = {**EXTENSIONS, "103": ("pw-103-Kalle", "Kalle Kask")}
    salv = lab.salvesti(extensions=extensions)
    add_user(salv, "boss", "admin")
    refuser = lab.phone("101", salv, audio=audio.phone_a)  # rings; its user declines
    lab.phone("102", salv, audio=audio.phone_b, auto_answer=True)
    cfg = str(salv.config_path)

    res = salv.cli("test-call", "103", "-c", cfg)
    assert res.returncode == 1 and b"extension 103 is not registered" in res.stderr, res.stderr

    res = salv.cli("test-call", "102", "--seconds", "2", "-c", cfg, timeout=60)
    assert res.returncode == 0, res.stderr.decode()
    assert b"extension 102 answered; recording saved" in res.stderr, res.stderr
    call = json.loads(res.stdout)
    assert call["disposition"] == "answered" and call["meta"]["test_call"] is True
    rec = check_recording(call)
    assert_notice_at_start(rec, audio.notice, channel=1)
    assert rec.duration_s >= audio.duration(audio.notice) + 2.0

    status, started = Session(salv, "boss").call("POST", "/api/test-call", {"extension": "101"})
    assert status == 202, started
    refuser.wait_event("CALL_INCOMING", 10)
    refuser.hangup()  # baresip declines a ringing call with 486 Busy Here
    call = salv.wait_call(lambda c: c["id"] == started["id"])
    assert call["disposition"] == "busy", call
    assert call["recording"] is None and call["answered_at"] is None
