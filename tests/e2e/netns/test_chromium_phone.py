"""The /phone page in Debian's Chromium, inside a network namespace with only ``lo``.

Run by ``tests/e2e/test_e2e_browser_chromium.py`` (which makes the namespace); collected
only there (``SALVESTI_NETNS=1``), because a browser doing WebRTC in the host's namespace
could send ICE checks and mDNS to real interfaces.  The microphone is Chromium's fake
device playing a WAV; the recording's right channel must carry that audio after the
notice, the left channel the carrier's.  The page is driven by accessible names, as a
screen reader would (CONTRACT: "Number", "Call", "Answer", "Hang up").
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from harness.browser_phone import AGENT, AGENT_PASSWORD, browser_lab
from harness.checks import assert_contains, assert_notice_at_start, check_call_shape, check_recording
from harness.flows import OUTSIDE, inbound_from_carrier
from harness.lab import Lab
from harness.shots import shot as save_shot
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.e2e


def shot(page: Page, tmp_path: Path, name: str) -> None:
    save_shot(page, tmp_path, name)


def open_phone(browser: Browser, url: str, tmp_path: Path) -> Page:
    context = browser.new_context(permissions=["microphone", "notifications"])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{url}/phone?lang=en&processing=off")
    page.get_by_label("Username").fill(AGENT)
    page.get_by_label("Password").fill(AGENT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Enable phone").click()
    expect(page.get_by_role("status")).to_have_text("Ready", timeout=10000)
    expect(page.get_by_role("button", name="Call")).to_be_enabled()
    shot(page, tmp_path, "phone-ready")
    assert not errors, errors
    return page


def test_chromium_calls_out_holds_and_tags_the_call(
    lab: Lab, audio, browser: Browser, tmp_path: Path
) -> None:
    carrier = lab.provider("answer", ring_ms=500)
    salv = browser_lab(lab, carrier)
    page = open_phone(browser, f"http://127.0.0.1:{salv.http_port}", tmp_path)
    page.get_by_label("Number").fill(OUTSIDE)
    page.get_by_role("button", name="Call").click()
    status = page.get_by_role("status").first
    expect(status).to_have_text("In call", timeout=20000)
    shot(page, tmp_path, "phone-in-call")
    time.sleep(2.0)
    page.get_by_role("button", name="Hold").click()
    expect(status).to_have_text("On hold", timeout=5000)
    time.sleep(1.0)
    page.get_by_role("button", name="Resume").click()
    expect(status).to_have_text("In call", timeout=5000)
    time.sleep(5.0)
    page.get_by_role("button", name="Hang up").click()
    expect(status).to_have_text("Call ended", timeout=10000)
    # After the call: its outcome and notes while they are fresh.
    page.get_by_role("button", name="Won").click()
    page.get_by_label("Notes").fill("Wants the yearly plan")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved")).to_be_visible()
    shot(page, tmp_path, "phone-after-call")

    call = salv.wait_call()
    check_call_shape(call)
    assert call["direction"] == "outbound" and call["extension"] == "103"
    assert call["remote_number"] == OUTSIDE and call["disposition"] == "answered"
    assert call["outcome"] == "won" and call["notes"] == "Wants the yearly plan"
    rec = check_recording(call)
    assert_notice_at_start(rec, audio.notice)
    assert_contains(rec, 0, audio.outside, start_s=0.5, others=(audio.phone_a,))
    assert_contains(rec, 1, audio.phone_a, start_s=rec.duration_s - 3.5, others=(audio.outside,))


def test_chromium_answers_inbound_and_returns_to_idle(
    lab: Lab, audio, browser: Browser, tmp_path: Path
) -> None:
    carrier = lab.provider("answer")
    salv = browser_lab(lab, carrier)
    page = open_phone(browser, f"http://127.0.0.1:{salv.http_port}", tmp_path)
    uac = inbound_from_carrier(lab, salv, carrier, talk_ms=9000)
    answer = page.get_by_role("button", name="Answer")
    expect(answer).to_be_visible(timeout=25000)
    expect(page.get_by_role("alert").filter(has_text="Incoming call")).to_contain_text(OUTSIDE)
    shot(page, tmp_path, "phone-incoming")
    answer.click()
    status = page.get_by_role("status").first
    expect(status).to_have_text("In call", timeout=15000)
    assert uac.wait(40) == 0, "the carrier's inbound call did not complete"
    expect(status).to_have_text("Call ended", timeout=10000)  # the far end hung up
    expect(page.get_by_role("button", name="Call")).to_be_enabled()

    call = salv.wait_call()
    assert call["direction"] == "inbound" and call["extension"] == "103"
    rec = check_recording(call)
    assert_notice_at_start(rec, audio.notice)
    assert_contains(rec, 0, audio.outside, start_s=0.5, others=(audio.phone_a,))
    assert_contains(rec, 1, audio.phone_a, start_s=rec.duration_s - 3.5, others=(audio.outside,))


def test_chromium_tab_closed_mid_call(lab: Lab, audio, browser: Browser, tmp_path: Path) -> None:
    carrier = lab.provider("answer", ring_ms=300)
    salv = browser_lab(lab, carrier)
    page = open_phone(browser, f"http://127.0.0.1:{salv.http_port}", tmp_path)
    page.get_by_label("Number").fill(OUTSIDE)
    page.get_by_role("button", name="Call").click()
    expect(page.get_by_role("status").first).to_have_text("In call", timeout=20000)
    time.sleep(2.0)
    page.context.close()
    call = salv.wait_call(timeout=20)
    assert call["disposition"] == "answered" and call["recording"]["sha256"]
    assert len(carrier.requests("BYE")) == 1, "the trunk leg was not hung up"


def test_chromium_and_desk_phone_ring_together_browser_answers(
    lab: Lab, audio, browser: Browser, tmp_path: Path
) -> None:
    carrier = lab.provider("answer")
    salv = browser_lab(lab, carrier, inbound=("101", "103"))
    desk = lab.phone("101", salv, audio=audio.phone_b, auto_answer=False)
    page = open_phone(browser, f"http://127.0.0.1:{salv.http_port}", tmp_path)
    uac = inbound_from_carrier(lab, salv, carrier, talk_ms=7000)
    desk.wait_event("CALL_INCOMING", 25)
    page.get_by_role("button", name="Answer").click()
    expect(page.get_by_role("status").first).to_have_text("In call", timeout=15000)
    desk.wait_event("CALL_CLOSED", 10)  # the desk phone was cancelled when the browser answered
    assert uac.wait(40) == 0
    call = salv.wait_call()
    assert call["extension"] == "103" and call["disposition"] == "answered"
    assert "101" not in (call.get("extensions") or [])
