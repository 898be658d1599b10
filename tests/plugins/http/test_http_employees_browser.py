"""The employee notice in Debian's Chromium (Playwright): an agent who has not acknowledged sees
the banner with the notice text and confirms it, after which the hub records their calls; the
admin's Employees page shows the register and the open subject requests, overdue marked.
Screenshots land in the test's tmp folder (and in $SALVESTI_SCREENSHOTS when set)."""

from __future__ import annotations

from datetime import date

from http_env import PASSWORD
from playwright.sync_api import expect
from test_http_browser import browser, log_in, shot  # noqa: F401  (the Chromium fixture)

from salvesti.core.call import Call, Direction

NOTICE = "Kõnesid salvestatakse klienditeeninduse kvaliteedi parandamiseks.\n- säilitame 10 päeva"


def test_agent_acknowledges_and_admin_sees_the_register(browser, live, tmp_path):  # noqa: F811
    server, env = live
    hub = env.hub
    hub.config["salvesti"].update(
        {"require_employee_notice": True, "employee_notice": {"version": "2026-12", "text": NOTICE}}
    )
    hub.policy.require_employee_notice, hub.policy.notice_version = True, "2026-12"

    async def prepare() -> None:
        register = env.server.register
        await register.add_employee("Mari Maasikas", "101", "2026-11-20T09:00:00+02:00")
        await register.add_employee("Kati Kask", "102", "2026-11-20T09:00:00+02:00")
        await register.log_request("erase", "+3725551001", date(2020, 1, 10), by="cli:x", now="t")
        await register.log_request("export", "+3725551002", hub.now().date(), by="cli:x", now="t")
        await env.server.employees.refresh(register)

    server.run(prepare())

    def records(ext: str) -> bool:
        call = Call("probe", "office", Direction.OUTBOUND, "+3726000000", "+3725550000", hub.now())
        call.add_extension(ext)
        return hub.should_record(call)

    assert not records("101")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_init_script("localStorage.setItem('salvesti.lang', 'en')")
    log_in(page, env.url, "agent1", PASSWORD)
    banner = page.locator("#banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(
        "Your calls are not recorded until you have read and acknowledged this notice."
    )
    expect(banner.locator(".notice-text")).to_contain_text("Kõnesid salvestatakse klienditeeninduse")
    expect(banner.locator(".notice-text li")).to_have_text("säilitame 10 päeva")
    expect(banner).to_contain_text("Notice version 2026-12")
    shot(page, tmp_path, "employee-banner")
    page.get_by_role("button", name="I have read the notice").click()
    expect(page.locator("#notice-thanks")).to_be_visible()
    assert records("101")  # the hub's answer changed with the click
    page.reload()
    expect(page.locator("#calls")).to_be_visible()
    expect(banner).to_be_hidden()
    page.click("#nav-listens")
    expect(page.locator("h1")).to_have_text("Who listened to my calls")
    expect(page.locator("#listen-rows")).to_contain_text("Nobody has listened to your calls.")
    page.close()

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_init_script("localStorage.setItem('salvesti.lang', 'et')")
    log_in(page, env.url, "admin", PASSWORD)
    expect(page.locator("#banner")).to_be_hidden()  # the admin has no extension
    page.click("#nav-employees")
    expect(page.locator("h1")).to_have_text("Töötajad")
    expect(page.locator("#notice-version")).to_have_text("2026-12")
    mari = page.locator("#employee-rows tr[data-extension='101']")
    kati = page.locator("#employee-rows tr[data-extension='102']")
    expect(mari.locator("td.ack")).to_contain_text("✓ veebis")
    expect(kati.locator("td.ack")).to_contain_text("✗ kinnitamata")
    overdue = page.locator("#request-rows tr.overdue")
    expect(overdue).to_have_count(1)
    expect(overdue).to_contain_text("+3725551001")
    expect(overdue).to_contain_text("2020-02-10")
    expect(overdue).to_contain_text("tähtaeg ületatud")
    expect(page.locator("#request-rows tr:not(.overdue)")).to_contain_text("päeva jäänud")
    shot(page, tmp_path, "employees-page")

    # Kati signed a paper: the admin records it with its date
    kati.locator("input[type=date]").fill("2026-11-30")
    kati.get_by_role("button", name="Märgi paberil kinnitatuks").click()
    expect(kati.locator("td.ack")).to_contain_text("✓ paberil 2026-11-30")
    assert records("102")
    page.fill("#add-employee input[name=name]", "Jüri Juurikas")
    page.fill("#add-employee input[name=extension]", "103")
    page.click("#add-employee button[type=submit]")
    expect(page.locator("#employee-rows tr[data-extension='103'] td.ack")).to_contain_text("kinnitamata")
    shot(page, tmp_path, "employees-page-after")
    assert errors == []
