"""Debian's Chromium logs in to the web UI over HTTPS and the page is a secure context (what the
browser requires before it hands the softphone a microphone).  The certificate is a test's own
self-signed one, so Chromium is told to ignore that it does not know the issuer.

The page is opened as ``salvesti.test`` (mapped to 127.0.0.1 in Chromium's resolver): a page
from 127.0.0.1 or localhost is a secure context even over plain HTTP, which would prove
nothing.  It is first asked for over plain HTTP on the ``redirect_http`` port."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from http_env import PASSWORD, LiveServer
from playwright.sync_api import expect, sync_playwright
from tls_env import write_pair

CHROMIUM = "/usr/bin/chromium"
HOST = "salvesti.test"


@pytest.fixture
def https_live(tmp_path):
    pair = write_pair(tmp_path / "tls")
    server = LiveServer(tmp_path, tls=pair.tls(redirect_http=0))
    with server as env:
        yield env.server.bound_port, env.server.tls.redirect_bound


def test_login_over_https_is_a_secure_context(https_live):
    assert shutil.which(CHROMIUM) or Path(CHROMIUM).exists(), "apt-get install chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--ignore-certificate-errors",
                f"--host-resolver-rules=MAP {HOST} 127.0.0.1",
            ],
        )
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            https_port, plain_port = https_live
            page.goto(f"http://{HOST}:{plain_port}/?lang=en")
            assert page.url == f"https://{HOST}:{https_port}/?lang=en"
            page.fill("#username", "manager")
            page.fill("#password", PASSWORD)
            page.click("form.login button[type=submit]")
            expect(page.locator("#calls li")).to_have_count(4)
            assert page.evaluate("window.isSecureContext") is True
            assert page.evaluate("location.protocol") == "https:"
            cookies = {c["name"]: c for c in page.context.cookies()}
            assert cookies["salvesti_session"]["secure"] is True
            assert cookies["salvesti_session"]["httpOnly"] is True
            assert errors == []
        finally:
            browser.close()
