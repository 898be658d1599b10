"""The settings page and the diagnostics' "Set in" lines in Debian's Chromium (Playwright): a
manager sees the settings config.yaml owns, read-only, each with the file and line the test
wrote it on, in English and Estonian; an agent has no link.  Screenshots land in the test's
tmp folder (and in $SALVESTI_SCREENSHOTS when set)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from diag_env import free_sip_port
from http_env import Env, LiveServer
from playwright.sync_api import expect
from settings_env import line_of, write_config
from test_http_diagnostics_browser import browser, log_in, manager_page, shot  # noqa: F401  (browser: a fixture)


@pytest.fixture
def settings_live(tmp_path: Path) -> Iterator[tuple[Env, str]]:
    # Nothing listens at the trunk's port: it stays unregistered, which is all this page needs.
    text, blocks, marks = write_config(tmp_path, free_sip_port())
    with LiveServer(tmp_path, config=blocks, marks=marks) as env:
        yield env, text


def test_settings_show_their_file_and_line(browser, settings_live, tmp_path):  # noqa: F811
    env, text = settings_live
    page, errors = manager_page(browser, env.url)
    page.click("#nav-settings")
    expect(page.locator("h1")).to_have_text("Settings in config.yaml")
    expect(page.locator("#settings-intro")).to_contain_text("change them on the line shown")
    rows = {
        "office.trunk": line_of(text, "trunk: {registrar"),
        "office.line.+3726000001": line_of(text, "lines: ["),
        "office.extension.101": line_of(text, '{user: "101"'),
        "office.extension.102": line_of(text, '{user: "102"'),
        "office.inbound.+3726000000": line_of(text, '"+3726000000": ['),
        "retention.sales": line_of(text, "id: sales"),
        "retention.default": line_of(text, "id: default"),
        "notice.et": line_of(text, "id: et"),
    }
    for key, where in rows.items():
        expect(page.locator(f'tr[data-setting="{key}"] code.where')).to_have_text(where)
    expect(page.locator('tr[data-setting="office.extension.101"]')).to_contain_text("Mari")
    expect(page.locator("#settings-source-office input, #settings-source-office button")).to_have_count(0)
    shot(page, tmp_path, "settings-en")

    page.click("#nav-diagnostics")
    ext = page.locator('li[data-id="extension.office.101"] .fact.where')
    expect(ext).to_contain_text("Set in")
    expect(ext.locator("code")).to_have_text(line_of(text, '{user: "101"'))
    expect(page.locator('li[data-id="media.office"] .fact.where code')).to_have_text(
        line_of(text, "rtp_ports:")
    )

    page.evaluate("localStorage.setItem('salvesti.lang', 'et')")
    page.goto(env.url + "/#/settings")
    expect(page.locator("h1")).to_have_text("Seaded failis config.yaml")
    expect(page.locator('tr[data-setting="retention.sales"] code.where')).to_have_text(
        rows["retention.sales"]
    )
    shot(page, tmp_path, "settings-et")
    assert errors == []


def test_agents_have_no_settings_page(browser, settings_live):  # noqa: F811
    env, _ = settings_live
    page = browser.new_page()
    log_in(page, env.url, "agent1", "en")
    expect(page.locator("#nav-settings")).to_have_count(0)
