"""The first-run setup in Debian's Chromium (Playwright) on a fresh folder, to the end.

A real setup app on loopback, a real sipp carrier for the REGISTER probe; the walk types the
setup code, owner, purpose, DDI trunk (tried), two phones, the bundled Russian notice (played in
an <audio> element), retention, employees, writes the files, then `salvesti check-config` must
accept them and the page must not open again.  Screenshots of every step land in the test's
tmp folder (and in $SALVESTI_SCREENSHOTS when set): docs/img/setup-*.png come from here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.lab import Lab
from harness.setup_app import CODE, ThreadedSetup
from playwright.sync_api import Page, expect, sync_playwright

from salvesti.setup.notices import bundled

pytestmark = pytest.mark.e2e
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "Pikk-ja-hea-parool-7"


@pytest.fixture
def setup_app(tmp_path: Path) -> Iterator[ThreadedSetup]:
    folder = tmp_path / "box"
    folder.mkdir()
    app = ThreadedSetup(folder / "config.yaml")
    yield app
    app.close()


@pytest.fixture
def page() -> Iterator[Page]:
    assert Path(CHROMIUM).exists(), "apt-get install chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--mute-audio"],
        )
        yield browser.new_page(viewport={"width": 1100, "height": 820})
        browser.close()


def shot(page: Page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    out = os.environ.get("SALVESTI_SCREENSHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / f"{name}.png", Path(out) / f"{name}.png")


def heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def test_onboarding_walk_to_a_valid_config(
    setup_app: ThreadedSetup, page: Page, lab: Lab, tmp_path: Path
) -> None:
    carrier = lab.provider("answer")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # English on request, labelled fields
    page.goto(setup_app.url + "/?lang=en")
    heading(page, "Owner")
    expect(page.get_by_label("Setup code")).to_be_visible()
    shot(page, tmp_path, "setup-1-owner-en")

    # 1. owner, by keyboard only: the heading has focus, Tab walks the fields, Enter submits
    page.goto(setup_app.url + "/")
    heading(page, "Omanik")
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Seadistuskood")).to_be_focused()
    page.keyboard.type("WRONG-CODE")
    for text in ("mari", PASSWORD, PASSWORD):
        page.keyboard.press("Tab")
        page.keyboard.type(text)
    page.keyboard.press("Enter")
    expect(page.locator(".problem")).to_contain_text("Vale kood")
    expect(page.get_by_label("Seadistuskood")).to_be_focused()
    page.get_by_label("Seadistuskood").fill(CODE.lower())
    page.get_by_label("Parool", exact=True).fill("parool1234")
    page.get_by_label("Parool uuesti").fill("parool1234")
    page.keyboard.press("Enter")
    expect(page.locator(".problem")).to_contain_text("liiga kergesti arvatav")
    shot(page, tmp_path, "setup-1-owner")
    page.get_by_label("Parool", exact=True).fill(PASSWORD)
    page.get_by_label("Parool uuesti").fill(PASSWORD)
    page.get_by_role("button", name="Edasi").click()

    # 2. purpose, from an example
    heading(page, "Eesmärk")
    page.get_by_role("button", name="Klienditeeninduse kvaliteedi parandamine").click()
    expect(page.get_by_label("Salvestamise eesmärk")).to_have_value(
        "Klienditeeninduse kvaliteedi parandamine"
    )
    shot(page, tmp_path, "setup-2-purpose")
    page.get_by_role("button", name="Edasi").click()

    # 3. carrier: a DDI trunk, tried against the sipp carrier
    heading(page, "Operaator")
    expect(
        page.get_by_role("radio", name="Üks konto kõigile numbritele (DDI trunk)", exact=False)
    ).to_be_checked()
    page.get_by_label("SIP-server (registrar)").fill(carrier.address)
    page.get_by_label("Kasutajanimi", exact=True).fill("3726000000")
    page.get_by_label("Parool", exact=True).fill("carrier-Secret-42")
    page.get_by_label("Numbrid", exact=True).fill("+372 600 0000\n55")
    page.get_by_role("button", name="Edasi").click()
    expect(page.locator(".problem")).to_contain_text("„55” ei ole telefoninumber")
    page.get_by_label("Numbrid", exact=True).fill("+372 600 0000")
    page.get_by_role("button", name="Proovi ühendust").click()
    expect(page.locator(".result.ok")).to_contain_text("200 OK")
    shot(page, tmp_path, "setup-3-carrier")
    page.get_by_role("button", name="Edasi").click()

    # 4. phones and who rings; the generated passwords are shown once
    heading(page, "Numbrid ja telefonid")
    page.get_by_label("Nimi").fill("Mari Maasikas")
    page.get_by_role("button", name="Lisa telefon").click()
    page.get_by_label("Nimi").nth(1).fill("Jaan Tamm")
    page.get_by_role("button", name="Lisa telefon").click()
    expect(page.locator("#extensions fieldset")).to_have_count(3)
    page.get_by_role("button", name="Eemalda sisenumber 3").click()
    expect(page.locator("#extensions fieldset")).to_have_count(2)
    expect(page.get_by_label("Nimi").nth(1)).to_have_value("Jaan Tamm")
    page.get_by_role("checkbox", name="102 – Jaan Tamm").check()
    expect(page.get_by_role("checkbox", name="101 – Mari Maasikas")).to_be_checked()
    shot(page, tmp_path, "setup-4-numbers")
    page.get_by_role("button", name="Edasi").click()
    expect(page.locator("table.passwords tbody tr")).to_have_count(2)
    shot(page, tmp_path, "setup-4-passwords")
    page.get_by_role("button", name="Edasi").click()

    # 5. notice: Estonian is preselected; the Russian one is chosen and plays in the page
    heading(page, "Teavitus")
    expect(page.get_by_role("radio", name="Eesti keeles")).to_be_checked()
    expect(page.get_by_role("radio", name="Inglise keeles")).to_be_enabled()
    page.get_by_role("radio", name="Vene keeles").check()
    with wave.open(str(bundled()["ru"])) as w:
        ru_seconds = w.getnframes() / w.getframerate()
    page.wait_for_function(  # the player holds the Russian file (its length), not the Estonian one
        "(s) => { const a = document.querySelector('#notice-audio'); "
        "return a.src.startsWith('blob:') && a.readyState >= 1 && Math.abs(a.duration - s) < 0.05; }",
        arg=ru_seconds,
    )
    assert page.evaluate("document.querySelector('#notice-audio').play().then(() => true)")
    shot(page, tmp_path, "setup-5-notice")
    page.get_by_role("button", name="Edasi").click()

    # 6. retention: 60 days for the line, 10 for the rest
    heading(page, "Säilitamine")
    page.get_by_role("group", name="Numbri salvestised +3726000000").get_by_role(
        "radio", name="60 päeva"
    ).check()
    shot(page, tmp_path, "setup-6-retention")
    page.get_by_role("button", name="Edasi").click()

    # 7. employees informed
    heading(page, "Töötajad")
    page.get_by_label("Teavitatud töötajad").fill("Mari Maasikas <mari@pood.ee>\nJaan Tamm <jaan@pood.ee>")
    shot(page, tmp_path, "setup-7-employees")
    page.get_by_role("button", name="Edasi").click()

    # the end: write, then how to start
    heading(page, "Valmis")
    shot(page, tmp_path, "setup-8-finish")
    page.get_by_role("button", name="Salvesta seaded").click()
    heading(page, "Seadistus on valmis")
    expect(page.locator("pre")).to_contain_text("salvesti run -c")
    shot(page, tmp_path, "setup-9-done")

    folder = tmp_path / "box"
    checked = subprocess.run(
        [sys.executable, "-m", "salvesti", "check-config", "-c", str(folder / "config.yaml")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    config = (folder / "config.yaml").read_text()
    assert 'lines: ["+3726000000"]' in config
    assert 'inbound: {"+3726000000": ["101", "102"]}' in config
    assert 'match: {line: "+3726000000"}, days: 60' in config
    assert 'file: "notices/ru.wav"' in config
    assert (folder / "notices" / "ru.wav").read_bytes() == bundled()["ru"].read_bytes()
    assert "jaan@pood.ee" in (folder / "data" / "informed-employees.txt").read_text()

    # never again: the page says so, the API answers 410
    assert page.reload().status == 410
    expect(page.get_by_role("heading", level=1).first).to_have_text("Seadistus on valmis")
    expect(page.locator("main")).to_contain_text("seda ei saa uuesti avada")
    assert errors == []
