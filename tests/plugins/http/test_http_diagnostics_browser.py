"""The diagnostics page in Debian's Chromium (Playwright), in English and in Estonian: a
manager opens it from the nav and sees every check family with its state and advice,
including the carrier's 403 in plain words; an agent has no link and gets the refusal.
Screenshots land in the test's tmp folder (and in $SALVESTI_SCREENSHOTS when set)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from diag_env import RETENTION, refusing_carrier, sip_source
from http_env import PASSWORD, Env, LiveServer
from playwright.sync_api import Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def browser():
    assert shutil.which(CHROMIUM) or Path(CHROMIUM).exists(), "apt-get install chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def diag_live(tmp_path: Path) -> Iterator[Env]:
    carriers = []

    async def prepare() -> dict:
        carrier, port = await refusing_carrier()
        carriers.append(carrier)
        return {"sources": [sip_source(port)], "retention": RETENTION}

    server = LiveServer(tmp_path, prepare=prepare)
    with server as env:
        try:
            yield env
        finally:
            for carrier in carriers:  # on the hub's loop, before it stops
                server.loop.call_soon_threadsafe(carrier.close)


def shot(page: Page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    out = os.environ.get("SALVESTI_SCREENSHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / f"{name}.png", Path(out) / f"{name}.png")


def log_in(page: Page, url: str, who: str, lang: str) -> None:
    page.goto(url + "/")
    page.evaluate(f"localStorage.setItem('salvesti.lang', '{lang}')")
    page.goto(url + "/")
    page.fill("#username", who)
    page.fill("#password", PASSWORD)
    page.click("form.login button[type=submit]")
    expect(page.locator("#calls")).to_be_visible()


def manager_page(browser, url: str) -> tuple[Page, list[str]]:
    """A page logged in as the manager, in English, and the script errors it will collect."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, url, "manager", "en")
    return page, errors


def test_the_page_in_english_and_estonian(browser, diag_live, tmp_path):
    env = diag_live
    page, errors = manager_page(browser, env.url)
    page.click("#nav-diagnostics")
    expect(page.locator("h1")).to_have_text("Diagnostics")
    summary = page.locator("#diag-summary")
    expect(summary).to_contain_text("Problems: 1")
    for group in ("carrier", "nat", "extensions", "media", "disk", "clock", "components"):
        expect(page.locator(f"#diag-{group} li.diag").first).to_be_visible()
    carrier = page.locator('li[data-id="carrier.office.trunk"]')
    expect(carrier).to_have_attribute("data-state", "fail")
    expect(carrier).to_contain_text("The carrier refused the user name or password (403 Forbidden)")
    expect(carrier).to_contain_text("Registration with the carrier: trunk (office)")
    mari = page.locator('li[data-id="extension.office.101"]')
    expect(mari).to_contain_text("Extension 101 · Mari")
    expect(mari).to_contain_text("Not registered")
    expect(page.locator('li[data-id="media.office"]')).to_contain_text("The firewall must let UDP")
    expect(page.locator('li[data-id="component.source.office"]')).to_contain_text("Running.")
    expect(page.locator("#diag-disk")).to_contain_text("free")
    expect(page.locator("#diagnostics")).not_to_contain_text("null")
    shot(page, tmp_path, "diagnostics-en")

    page.click("nav button[lang=et]")
    expect(page.locator("h1")).to_have_text("Diagnostika")
    expect(page.locator("#nav-diagnostics")).to_have_text("Diagnostika")
    expect(carrier).to_contain_text("Operaator ei tunnistanud kasutajanime või parooli (403 Forbidden)")
    expect(mari).to_contain_text("Pole registreeritud")
    expect(page.locator("#diag-summary")).to_contain_text("Vigu: 1")
    expect(page.locator("#diag-clock li.diag")).to_have_count(1)
    shot(page, tmp_path, "diagnostics-et")

    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    log_in(phone, env.url, "admin", "et")
    phone.goto(env.url + "/#/diagnostics")
    expect(phone.locator('li[data-id="carrier.office.trunk"]')).to_be_visible()
    shot(phone, tmp_path, "diagnostics-phone")
    assert not errors, errors


def test_agents_have_no_link_and_are_refused(browser, diag_live):
    env = diag_live
    page = browser.new_page()
    log_in(page, env.url, "agent1", "en")
    expect(page.locator("#nav-diagnostics")).to_have_count(0)
    page.goto(env.url + "/#/diagnostics")
    expect(page.locator("#diag-error")).to_have_text("Diagnostics are for managers and admins only.")
