"""The first hour, whole: onboarding in Chromium on a fresh folder, the box it writes running,
a desk phone configured from the values the page showed, and the owner's test call to it.

Inside the network namespace of ``test_e2e_browser_chromium.py`` (the written config listens
on 0.0.0.0:5060 like a real box).  The carrier is a sipp registrar; the desk phone is baresip,
set up with the extension and the password the setup page showed once; the owner then logs in,
presses "Test call 101" and lands on the call page with its waveform.  Screenshots go to the
test's folder and $SALVESTI_SCREENSHOTS (docs/first-hour.md).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from harness.baresip import Baresip
from harness.lab import Lab
from harness.procs import ManagedProcess, wait_for
from harness.salvesti import salvesti_argv, salvesti_env
from harness.setup_app import CODE, ThreadedSetup
from harness.shots import shot as save_shot
from harness.sipwire import options_status
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.e2e
PASSWORD = "Pikk-ja-hea-parool-7"


def walk_onboarding(page: Page, url: str, carrier: str, shot: Any) -> str:
    """The setup pages in English, one phone; returns the password shown for extension 101."""

    def step(title: str) -> None:
        expect(page.get_by_role("heading", level=1)).to_have_text(title)

    def next_step() -> None:
        page.get_by_role("button", name="Next").click()

    page.goto(url + "/?lang=en")
    step("Owner")
    page.get_by_label("Setup code").fill(CODE)
    page.get_by_label("User name").fill("mari")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    next_step()
    step("Purpose")
    page.get_by_label("Purpose of recording").fill("Customer service quality")
    next_step()
    step("Carrier")
    page.get_by_label("SIP server (registrar)").fill(carrier)
    page.get_by_label("User name", exact=True).fill("3726000000")
    page.get_by_label("Password", exact=True).fill("carrier-Secret-42")
    page.get_by_label("Numbers", exact=True).fill("+372 600 0000")
    page.get_by_role("button", name="Try the connection").click()
    expect(page.locator(".result.ok")).to_contain_text("200 OK")
    next_step()
    step("Numbers and phones")
    page.get_by_label("Name", exact=True).fill("Mari Maasikas")
    next_step()
    row = page.locator("table.passwords tbody tr").first
    expect(row).to_be_visible()
    assert row.locator("th").inner_text().strip() == "101"
    password = row.locator("code").inner_text().strip()
    shot(page, "first-hour-passwords")
    next_step()  # the passwords were written down
    step("Notice")
    next_step()  # the bundled Estonian one
    step("Retention")
    next_step()  # the defaults
    step("Employees")
    page.get_by_label("Employees informed").fill("Mari Maasikas <mari@shop.ee>")
    next_step()
    step("Finish")
    page.get_by_role("button", name="Save the configuration").click()
    step("Setup is done")
    return password


def test_onboarding_to_the_first_test_call(lab: Lab, audio, browser: Browser, tmp_path: Path) -> None:
    def shot(page: Page, name: str) -> None:
        save_shot(page, tmp_path, name)

    carrier = lab.provider("answer")
    folder = tmp_path / "box"
    folder.mkdir()
    setup = ThreadedSetup(folder / "config.yaml")
    page = browser.new_context().new_page()
    try:
        password = walk_onboarding(page, setup.url, carrier.address, shot)
        http_port = setup.server.port
    finally:
        setup.close()

    config = folder / "config.yaml"
    checked = subprocess.run(
        [sys.executable, "-m", "salvesti", "check-config", "-c", str(config)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    box = ManagedProcess(
        "box",
        [*salvesti_argv(), "run", "-c", str(config)],
        log_dir=folder,
        timeout_s=240,
        cwd=folder,
        env=salvesti_env(),
    ).start()
    try:
        wait_for(lambda: options_status(5060, timeout=0.5) == 200, 30, interval=0.3, what="the box's SIP")
        phone = lab.baresip(
            "desk101",
            aor=Baresip.account("101", "127.0.0.1:5060", password=password, register=True, auto_answer=True),
            audio=audio.phone_a,
        )
        phone.wait_registered(10)

        page.goto(f"http://127.0.0.1:{http_port}/")
        page.evaluate("localStorage.setItem('salvesti.lang', 'en')")
        page.fill("#username", "mari")
        page.fill("#password", PASSWORD)
        page.click("form.login button[type=submit]")
        expect(page.locator("#calls")).to_be_visible()
        page.click("#nav-test-call")
        button = page.get_by_role("button", name="Test call 101")
        expect(button).to_be_enabled(timeout=10_000)
        shot(page, "first-hour-test-call")
        button.click()
        expect(page).to_have_url(re.compile(r"#/calls/[^/]+$"), timeout=40_000)
        expect(page.locator("#wave")).to_be_visible()
        expect(page.locator(".call-title")).to_contain_text("Salvesti test call")
        shot(page, "first-hour-call")
    finally:
        box.stop(grace=15)
    assert "CALL_ESTABLISHED" in phone.event_types()
