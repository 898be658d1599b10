"""The web UI in Debian's Chromium (Playwright): log in, filter, search, open a call, play it,
seek, change speed and channel, save outcome/tags/notes, see the audit entry as admin; an agent
cannot see another agent's call.  Screenshots land in the test's tmp folder (and in
$SALVESTI_SCREENSHOTS when set) for a human to look at."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def browser():
    assert shutil.which(CHROMIUM) or Path(CHROMIUM).exists(), "apt-get install chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--mute-audio"],
        )
        yield b
        b.close()


def shot(page: Page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    out = os.environ.get("SALVESTI_SCREENSHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / f"{name}.png", Path(out) / f"{name}.png")


def log_in(page: Page, url: str, who: str, password: str) -> None:
    page.goto(url + "/")
    page.fill("#username", who)
    page.fill("#password", password)
    page.click("form.login button[type=submit]")
    expect(page.locator("#calls")).to_be_visible()


def test_manager_listens_and_learns(browser, live, tmp_path):
    from http_env import PASSWORD

    server, env = live
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(env.url + "/")
    expect(page.locator("#username")).to_be_visible()
    shot(page, tmp_path, "login")
    log_in(page, env.url, "manager", PASSWORD)
    expect(page.locator("#calls li")).to_have_count(4)
    expect(page.locator("#live")).to_contain_text("●")
    shot(page, tmp_path, "list")

    # Live refresh: a call that ends now appears without reloading the page.
    async def new_call_ends() -> str:
        from http_env import make_call

        call = make_call(Path(env.hub.data_dir) / "recordings" / "live", 9, ext="101", number="+3725559999")
        await env.hub.call_ended(call)
        return call.id

    new_id = server.run(new_call_ends())
    expect(page.locator("#calls li").first).to_have_attribute("data-id", new_id)
    expect(page.locator("#calls li")).to_have_count(5)

    # Filter by direction, then free-text search over notes.
    page.select_option("#f-direction", "outbound")
    page.click(".filter-actions button[type=submit]")
    expect(page.locator("#calls li")).to_have_count(1)
    page.goto(env.url + "/#/")
    expect(page.locator("#calls li")).to_have_count(5)
    page.fill("#f-q", "invoice")
    page.press("#f-q", "Enter")
    expect(page.locator("#calls li")).to_have_count(1)
    expect(page.locator("#calls li")).to_have_attribute("data-id", env.calls["a2_in"].id)

    # Open a call, play it, seek, speed, solo a channel.
    call = env.calls["a1_in"]
    page.goto(f"{env.url}/#/calls/{call.id}")
    expect(page.locator("#wave")).to_be_visible()
    page.wait_for_function("() => document.querySelector('#audio').readyState >= 1")
    page.click("#play")
    page.wait_for_function("() => document.querySelector('#audio').currentTime > 0.3", timeout=10000)
    box = page.locator("#wave").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
    t = page.evaluate("document.querySelector('#audio').currentTime")
    assert 2.7 <= t <= 3.6, t
    page.select_option("#speed", "2")
    assert page.evaluate("document.querySelector('#audio').playbackRate") == 2
    page.click("#ch-left")
    expect(page.locator("#ch-left")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("0")
    expect(page.locator("#ch-both")).to_have_attribute("aria-pressed", "true")
    page.evaluate("document.querySelector('#audio').pause()")
    page.click("#skip-notice")  # the notice is the recording's first second (the test notice file)
    t = page.evaluate("document.querySelector('#audio').currentTime")
    assert 0.95 <= t <= 1.2, t
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.querySelector('#audio').currentTime") == 0
    page.keyboard.press("2")
    expect(page.locator("#ch-right")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("-")
    assert page.evaluate("document.querySelector('#audio').playbackRate") == 1.75
    shot(page, tmp_path, "call")

    # Outcome, tags and notes.
    page.click("#outcome-follow_up")
    page.fill("#tags", "callback, price")
    page.fill("#notes", "Asked for a better price; call back Monday.")
    page.click("#save")
    expect(page.locator("#save-status")).to_contain_text("✓")
    saved = server.run(env.hub.store.get_call(call.id))
    assert saved.outcome == "follow_up"
    assert saved.tags == ["callback", "price"]
    assert saved.notes.startswith("Asked for a better price")
    assert not errors, errors

    # The admin sees the manager's playback and change in the call's audit log.
    admin = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(admin, env.url, "admin", PASSWORD)
    admin.goto(f"{env.url}/#/calls/{call.id}")
    rows = admin.locator("#audit-rows tr")
    expect(rows.filter(has_text="playback").filter(has_text="manager")).to_have_count(1)
    expect(rows.filter(has_text="change").filter(has_text="manager")).to_have_count(1)
    shot(admin, tmp_path, "call-admin")

    # A phone-sized screen.
    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    log_in(phone, env.url, "manager", PASSWORD)
    shot(phone, tmp_path, "phone-list")
    phone.goto(f"{env.url}/#/calls/{call.id}")
    expect(phone.locator("#wave")).to_be_visible()
    phone.wait_for_timeout(300)
    shot(phone, tmp_path, "phone-call")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page scrolls sideways on a phone ({width}px)"


def test_agent_sees_only_own_calls(browser, live, tmp_path):
    from http_env import PASSWORD

    _server, env = live
    page = browser.new_page()
    log_in(page, env.url, "agent1", PASSWORD)
    ids = page.locator("#calls li").evaluate_all("els => els.map(e => e.dataset.id)")
    assert sorted(ids) == sorted([env.calls["a1_in"].id, env.calls["a1_out"].id])
    page.goto(f"{env.url}/#/calls/{env.calls['a2_in'].id}")
    expect(page.locator("main")).to_contain_text("Kõnet ei leitud")
    page.click("#nav button[lang=en]")  # the language switch re-renders in English
    expect(page.locator("main")).to_contain_text("Call not found")
    page.goto(f"{env.url}/#/")
    expect(page.locator("#f-q")).to_have_attribute("placeholder", "Search notes, tags, numbers…")
    shot(page, tmp_path, "agent-list-en")
    status = page.evaluate(
        "id => fetch('/api/calls/' + id + '/audio').then(r => r.status)", env.calls["a2_in"].id
    )
    assert status == 404
    shot(page, tmp_path, "agent-refused")


def test_admin_manages_users_and_tokens(browser, live, tmp_path):
    import requests
    from http_env import PASSWORD

    _server, env = live
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, env.url, "admin", PASSWORD)
    page.click("#nav-users")
    expect(page.locator("#user-rows tr")).to_have_count(4)
    page.fill("#add-user input[name=name]", "kati")
    page.select_option("#add-user select[name=role]", "agent")
    page.fill("#add-user input[name=extension]", "103")
    page.fill("#add-user input[name=password]", "another long pass")
    page.click("#add-user button[type=submit]")
    expect(page.locator("#user-rows tr")).to_have_count(5)
    page.select_option("#token-user", "kati")
    page.fill("#add-token input[name=name]", "crm")
    page.click("#add-token button[type=submit]")
    token = page.locator("#token-value").text_content()
    assert token and token.startswith("slv_")
    shot(page, tmp_path, "users")
    r = requests.get(f"{env.url}/api/calls", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert r.status_code == 200 and r.json()["calls"] == []  # agent 103 took no calls
    # Disabling the user stops the token at once.
    page.locator("#user-rows tr[data-name=kati] input[type=checkbox]").check()
    page.wait_for_timeout(300)
    r = requests.get(f"{env.url}/api/calls", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert r.status_code == 401
    assert not errors, errors
    # A manager has no users page.
    other = browser.new_page()
    log_in(other, env.url, "manager", PASSWORD)
    expect(other.locator("#nav-users")).to_have_count(0)


def test_unhealthy_recordings_have_a_badge_and_a_filter(browser, live, tmp_path):
    from http_env import PASSWORD

    from salvesti.core.call import HealthProblem, HealthReason

    server, env = live
    call = env.calls["a1_in"]
    detail = "only silence for the whole call (peak -60 dBFS)"
    call.health = [HealthProblem(HealthReason.SILENT, detail, "heard")]
    server.run(env.hub.store.save_call(call))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, env.url, "manager", PASSWORD)
    badge = page.locator(f"#calls li[data-id='{call.id}'] .health-channel_silent")
    expect(badge).to_have_text("⚠ Ühel kanalil ainult vaikus")
    expect(badge).to_have_attribute("title", f"Parem kanal: mida väline osapool kuulis: {detail}")
    expect(page.locator("#calls .badge-warn")).to_have_count(1)
    page.select_option("#f-unhealthy", "any")
    page.click(".filter-actions button[type=submit]")
    expect(page.locator("#calls li")).to_have_count(1)
    expect(page.locator("#calls li")).to_have_attribute("data-id", call.id)
    assert "unhealthy=any" in page.url
    page.select_option("#f-unhealthy", "no_recording")
    page.click(".filter-actions button[type=submit]")
    expect(page.locator(".empty")).to_be_visible()
    page.click("#nav button[lang=en]")
    option = page.locator("#f-unhealthy option[value=channel_silent]")
    expect(option).to_have_text("A channel is only silence")
    shot(page, tmp_path, "list-unhealthy")
