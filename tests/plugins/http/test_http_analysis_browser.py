"""The "learn from calls" UI in Debian's Chromium (Playwright): the transcript pane beside the
player (click a line to seek, the spoken line highlighted while playing, redactions as chips,
scrolling inside the pane only), the timeline's tracker markers, the notice evidence, flag
badges, the flag filter and transcript search hits in the calls list, and Insights for a manager
(phrases of won calls above those of lost calls, counts visible, the privacy notice) but not
for an agent.

The analysis backend does not run here: results are written straight into the store, so the
test is about the UI and the HTTP routes only.  One server and one browser serve all tests of
the module; every test opens its own browser context (its own session).  Screenshots land in
the test's tmp folder (and in $SALVESTI_SCREENSHOTS when set)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from http_env import PASSWORD, Env, LiveServer, make_call
from playwright.sync_api import Browser, Page, expect, sync_playwright

from salvesti.core.call import Direction
from salvesti.plugins import store_sqlite_analysis as sa

CHROMIUM = "/usr/bin/chromium"
WON_PHRASE = "tasuta tarne"
LOST_PHRASE = "liiga kallis"

# The short call (a1_in, 4 s): two lines per party, a card number redacted, the notice not heard.
LINES = [
    {"channel": "outside", "start_s": 0.2, "end_s": 1.0, "text": "Tere, kas see on pood?"},
    {"channel": "agent", "start_s": 1.2, "end_s": 2.0, "text": "Jah, tere! Kuidas saan aidata?"},
    {
        "channel": "outside",
        "start_s": 2.1,
        "end_s": 3.0,
        "text": "Minu kaart on [redacted] aga makse ei läinud läbi",
    },
    {"channel": "agent", "start_s": 3.1, "end_s": 3.9, "text": "Aitäh, vaatan kohe."},
]


def talk(agent_share: float = 0.5) -> dict[str, Any]:
    return {
        "outside_s": round(10 * (1 - agent_share), 2),
        "agent_s": round(10 * agent_share, 2),
        "agent_share": agent_share,
        "overlap_s": 0.2,
        "silence_s": 0.9,
        "longest_silence_s": 0.4,
        "turns": 4,
        "longest_monologue_s": {"outside": 0.9, "agent": 0.8},
        "interruptions": {"outside": 0, "agent": 1},
        "response_latency_s": {"outside": 0.1, "agent": 0.2},
        "question_rate": 1.5,
    }


def result(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "talk": talk(),
        "notice": {"verified": True, "score": 0.93, "at_s": 0.0, "expected": True},
        "trackers": [],
        "speech": {"outside": [[0.2, 1.0]], "agent": [[1.2, 2.0]]},
        "flags": [],
        "redactions": 0,
    }
    base.update(over)
    return base


def with_words(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**line, "words": []} for line in lines]


async def analysed(
    env: Env, call_id: str, res: dict[str, Any], lines: list[dict[str, Any]], terms: set[str]
) -> None:
    async with env.hub.store.write() as db:
        await sa.enqueue(db, call_id)
        assert await sa.save_result(db, call_id, res, with_words(lines), terms, set(res["flags"]))


async def seed(env: Env) -> dict[str, str]:
    ids: dict[str, str] = {}
    short = env.calls["a1_in"].id
    await analysed(
        env,
        short,
        result(
            talk=talk(0.62),
            notice={"verified": False, "score": 0.12, "at_s": None, "expected": True},
            trackers=[{"id": "greeting", "phrase": "tere", "channel": "agent", "at_s": 1.3}],
            speech={"outside": [[0.2, 1.0], [2.1, 3.0]], "agent": [[1.2, 2.0], [3.1, 3.9]]},
            flags=["notice_unverified", "card_data"],
            redactions=1,
        ),
        LINES,
        {"tere", "kaart"},
    )
    ids["short"] = short
    # One call waits in the queue, one failed.
    async with env.hub.store.write() as db:
        await sa.enqueue(db, env.calls["a2_in"].id)
        await sa.enqueue(db, env.calls["none"].id)
        await sa.fail(db, env.calls["none"].id, "the recording has no audio")
    ids["queued"], ids["failed"] = env.calls["a2_in"].id, env.calls["none"].id
    rec_dir = Path(env.hub.data_dir) / "recordings" / "2026" / "11" / "20"
    # A longer call whose 40 lines do not fit the pane: the current line is scrolled into view.
    long_call = make_call(rec_dir, 9, ext="101", number="+3725551009", seconds=24.0)
    await env.hub.store.save_call(long_call)
    lines = [
        {
            "channel": "outside" if i % 2 == 0 else "agent",
            "start_s": i * 0.6,
            "end_s": i * 0.6 + 0.5,
            "text": f"Rida number {i}, " + "pikk lause, mis võtab ruumi " * 2,
        }
        for i in range(40)
    ]
    await analysed(env, long_call.id, result(), lines, set())
    ids["long"] = long_call.id
    # Insights: four won calls with one phrase, four lost calls with another, two follow-ups.
    for n in range(10, 20):
        outcome = "won" if n < 14 else "lost" if n < 18 else "follow_up"
        phrase = {"won": WON_PHRASE, "lost": LOST_PHRASE, "follow_up": "helistan tagasi"}[outcome]
        call = make_call(
            rec_dir, n, ext="102", number=f"+37255560{n:02d}", direction=Direction.OUTBOUND, outcome=outcome
        )
        await env.hub.store.save_call(call)
        terms = {"tere", phrase} | ({"tracker:discount"} if outcome == "won" else set())
        share = {"won": 0.45, "lost": 0.7, "follow_up": 0.55}[outcome]
        await analysed(env, call.id, result(talk=talk(share)), [], terms)
    return ids


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert shutil.which(CHROMIUM) or Path(CHROMIUM).exists(), "apt-get install chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--mute-audio"],
        )
        yield b
        b.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Env, dict[str, str]]]:
    server = LiveServer(tmp_path_factory.mktemp("analysis-ui"))
    with server as env:
        ids = server.run(seed(env))
        yield server, env, ids


class Session:
    """A browser context logged in as one user; page errors and console errors are collected."""

    def __init__(self, browser: Browser, url: str, who: str, **context: Any) -> None:
        self.context = browser.new_context(**({"viewport": {"width": 1280, "height": 900}} | context))
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.url = url
        page = self.page
        page.goto(url + "/")
        page.fill("#username", who)
        page.fill("#password", PASSWORD)
        page.click("form.login button[type=submit]")
        expect(page.locator("#calls")).to_be_visible()
        self.errors.clear()  # the 401 of the session check before logging in

    def open(self, path: str) -> Page:
        self.page.goto(f"{self.url}/{path}")
        return self.page

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def sessions(browser: Browser, site) -> Iterator[Any]:
    opened: list[Session] = []

    def start(who: str, **context: Any) -> Session:
        s = Session(browser, site[1].url, who, **context)
        opened.append(s)
        return s

    yield start
    for s in opened:
        s.close()


def shot(page: Page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    out = os.environ.get("SALVESTI_SCREENSHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / f"{name}.png", Path(out) / f"{name}.png")


def audio_time(page: Page) -> float:
    return float(page.evaluate("document.querySelector('#audio').currentTime"))


def wait_audio(page: Page) -> None:
    page.wait_for_function("() => document.querySelector('#audio').readyState >= 1")


def test_transcript_pane_seeks_and_follows_the_call(sessions, site, tmp_path):
    _server, _env, ids = site
    s = sessions("manager")
    page = s.open(f"#/calls/{ids['short']}")
    lines = page.locator("#transcript .tline")
    expect(lines).to_have_count(4)
    wait_audio(page)

    # Chat layout: the customer's lines on the left, the agent's on the right, named and coloured.
    outside, agent = lines.nth(0), lines.nth(1)
    expect(outside).to_have_class("tline tline-outside")
    expect(agent).to_have_class("tline tline-agent")
    expect(outside.locator(".tline-party")).to_have_text("Klient")
    expect(agent.locator(".tline-party")).to_have_text("Töötaja")
    expect(outside.locator(".tline-time")).to_have_text("0:00")
    pane = page.locator("#transcript").bounding_box()
    ob, ab = outside.bounding_box(), agent.bounding_box()
    assert pane and ob and ab
    assert ob["x"] - pane["x"] < 8, (ob, pane)
    assert pane["x"] + pane["width"] - (ab["x"] + ab["width"]) < 8, (ab, pane)
    colour = "el => getComputedStyle(el.querySelector('.tline-body')).backgroundColor"
    assert outside.evaluate(colour) != agent.evaluate(colour)
    # Wide screen: the pane is beside the player, not under it.
    player = page.locator(".player").bounding_box()
    card = page.locator(".transcript-card").bounding_box()
    assert player and card and card["x"] >= player["x"] + player["width"] - 1, (player, card)

    # The redaction is a chip; the notice was not found; card data asks for a review.
    chip = lines.nth(2).locator(".redacted")
    expect(chip).to_have_text("eemaldatud")
    expect(lines.nth(2).locator(".tline-text")).not_to_contain_text("[redacted]")
    expect(page.locator("#notice-evidence")).to_contain_text("Teavitust salvestisest ei leitud")
    expect(page.locator("#notice-evidence .badge-warn")).to_be_visible()
    expect(page.locator("#card-data .badge-review")).to_have_text("kontrolli")
    expect(page.locator("#talk-share")).to_have_attribute(
        "aria-label", "Kõneaja jaotus: Klient 38%, Töötaja 62%"
    )
    expect(page.locator("#m-turns")).to_have_text("4")

    # Clicking a line plays the call from its start; while it plays, that line is current.
    lines.nth(2).locator("button").click()
    page.wait_for_function("() => !document.querySelector('#audio').paused")
    page.evaluate("document.querySelector('#audio').pause()")
    assert abs(audio_time(page) - 2.1) <= 0.3, audio_time(page)
    expect(lines.nth(2)).to_have_attribute("aria-current", "true")
    expect(lines.nth(2)).to_have_class("tline tline-outside current")

    # Moving the position moves the highlight (timeupdate, as while playing).
    page.evaluate("""() => { const a = document.querySelector('#audio'); a.currentTime = 1.5;
        a.dispatchEvent(new Event('timeupdate')); }""")
    expect(lines.nth(1)).to_have_attribute("aria-current", "true")
    expect(page.locator("#transcript .tline.current")).to_have_count(1)
    expect(page.locator("#transcript [aria-current=true]")).to_have_count(1)

    # The timeline: both parties' speech, the tracker hit as a marker that seeks.
    expect(page.locator("#timeline .tl-outside rect")).to_have_count(2)
    expect(page.locator("#timeline .tl-agent rect")).to_have_count(2)
    marker = page.locator("#timeline .tl-agent .tl-marker")
    expect(marker).to_have_attribute("title", "greeting")
    marker.click()
    assert abs(audio_time(page) - 1.3) <= 0.3, audio_time(page)
    page.evaluate("document.querySelector('#audio').pause()")
    shot(page, tmp_path, "call-transcript")

    # English names the parties and the evidence in English.
    page.click("#nav button[lang=en]")
    expect(page.locator("#transcript .tline").nth(0).locator(".tline-party")).to_have_text("Customer")
    expect(page.locator("#transcript .tline").nth(1).locator(".tline-party")).to_have_text("Agent")
    expect(page.locator("#notice-evidence")).to_contain_text("Notice not found in the recording")
    expect(page.locator("#transcript .redacted").first).to_have_text("redacted")
    assert not s.errors, s.errors


def test_current_line_scrolls_the_pane_not_the_page_and_t_seeks(sessions, site, tmp_path):
    _server, _env, ids = site
    s = sessions("manager")
    page = s.open(f"#/calls/{ids['long']}?t=18.1")
    expect(page.locator("#transcript .tline")).to_have_count(40)
    wait_audio(page)
    page.wait_for_function("() => Math.abs(document.querySelector('#audio').currentTime - 18.1) < 0.3")
    line = page.locator("#transcript .tline").nth(30)  # 18.0-18.5 s
    expect(line).to_have_attribute("aria-current", "true")
    # The verified notice reads as evidence with its time and score.
    expect(page.locator("#notice-evidence")).to_contain_text("Teavitus kinnitatud 0,0 s juures (skoor 0,93)")
    page.wait_for_function(
        """() => { const p = document.querySelector('#transcript'), l = p.querySelector('.tline.current');
            const a = p.getBoundingClientRect(), b = l.getBoundingClientRect();
            return p.scrollTop > 0 && b.top >= a.top - 1 && b.bottom <= a.bottom + 1; }"""
    )
    assert page.evaluate("window.scrollY") == 0
    # Near the start again: the pane scrolls back up, the page still does not move.
    page.evaluate("""() => { const a = document.querySelector('#audio'); a.currentTime = 0.1;
        a.dispatchEvent(new Event('timeupdate')); }""")
    expect(page.locator("#transcript .tline").nth(0)).to_have_attribute("aria-current", "true")
    page.wait_for_function("() => document.querySelector('#transcript').scrollTop < 5")
    assert page.evaluate("window.scrollY") == 0
    shot(page, tmp_path, "call-long")

    # Not analysed yet, or failed: a note instead of the transcript.
    s.open(f"#/calls/{ids['queued']}")
    expect(page.locator("#analysis-status")).to_have_text("Analüüs on järjekorras")
    expect(page.locator("#transcript")).to_have_count(0)
    s.open(f"#/calls/{ids['failed']}")
    expect(page.locator("#analysis-status")).to_have_text("Analüüs ebaõnnestus: the recording has no audio")
    expect(page.locator("#transcript")).to_have_count(0)

    # A phone: the transcript is under the player and nothing scrolls sideways.
    phone = sessions("manager", viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    p = phone.open(f"#/calls/{ids['short']}")
    expect(p.locator("#transcript .tline")).to_have_count(4)
    player = p.locator(".player").bounding_box()
    card = p.locator(".transcript-card").bounding_box()
    assert player and card and card["y"] >= player["y"] + player["height"] - 1, (player, card)
    p.wait_for_timeout(200)
    shot(p, tmp_path, "phone-call-transcript")
    width = p.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page scrolls sideways on a phone ({width}px)"
    assert not s.errors and not phone.errors, s.errors + phone.errors


def test_calls_list_flags_filter_and_transcript_hits(sessions, site, tmp_path):
    _server, _env, ids = site
    s = sessions("manager")
    page = s.page
    short = page.locator(f"#calls li[data-id='{ids['short']}']")
    expect(short.locator(".flag-notice")).to_contain_text("Teavitust ei leitud")
    expect(short.locator(".flag-card")).to_have_text("kontrolli")
    expect(page.locator(f"#calls li[data-id='{ids['long']}'] .badge-warn")).to_have_count(0)

    # The flag filter.
    page.select_option("#f-flag", "card_data")
    page.click(".filter-actions button[type=submit]")
    expect(page.locator("#calls li")).to_have_count(1)
    expect(page.locator("#calls li")).to_have_attribute("data-id", ids["short"])
    assert "flag=card_data" in page.url

    # Search finds the call by what was said; the hit shows its time and the matched word.
    s.open("#/")
    page.fill("#f-q", "kaart")
    page.press("#f-q", "Enter")
    expect(page.locator("#calls li")).to_have_count(1)
    hit = page.locator(f"#calls li[data-id='{ids['short']}'] .match")
    expect(hit.locator("mark")).to_have_text("kaart")
    expect(hit.locator(".match-time")).to_have_text("0:02")
    expect(hit.locator(".match-party")).to_have_text("Klient")
    expect(hit).to_contain_text("Minu")
    expect(hit.locator(".redacted")).to_have_count(1)
    shot(page, tmp_path, "list-hit")
    hit.click()
    expect(page.locator("#transcript .tline")).to_have_count(4)
    assert f"#/calls/{ids['short']}?t=2.1" in page.url
    wait_audio(page)
    page.wait_for_function("() => Math.abs(document.querySelector('#audio').currentTime - 2.1) < 0.3")
    assert not s.errors, s.errors


def test_insights_for_a_manager(sessions, site, tmp_path):
    s = sessions("manager")
    page = s.page
    page.click("#nav-insights")
    expect(page.locator("h1")).to_have_text("Ülevaade")
    # The default period is the last 90 days, which holds the seeded calls' day... unless the
    # machine's clock is far off, so the test picks the month explicitly.
    assert page.locator("#i-since").input_value() < page.locator("#i-until").input_value()
    s.open("#/insights?since=2026-11-01&until=2026-11-30")
    expect(page.locator("#total-calls")).to_have_text("10")
    expect(page.locator("#count-won")).to_have_text("4")
    expect(page.locator("#count-lost")).to_have_text("4")
    expect(page.locator("#count-follow_up")).to_have_text("2")
    expect(page.locator("#week-chart .bar-won")).to_have_count(1)
    expect(page.locator("#week-chart g.week title")).to_have_text(
        "2026-W47: õnnestus 4, ebaõnnestus 4, jätkata 2"
    )
    expect(page.locator("#talk-table tr[data-metric=agent_share] td").nth(0)).to_have_text("45%")

    rows = page.locator("#phrases-table tbody tr")
    names = rows.evaluate_all("els => els.map(e => e.dataset.name)")
    assert WON_PHRASE in names and LOST_PHRASE in names, names
    assert names.index(WON_PHRASE) < names.index(LOST_PHRASE), names
    won = page.locator(f"#phrases-table tr[data-name='{WON_PHRASE}']")
    expect(won.locator(".count-won")).to_have_text("4")
    expect(won.locator(".count-lost")).to_have_text("0")
    expect(won.locator(".lift-bar")).to_have_class("lift-bar lift-won")
    lost = page.locator(f"#phrases-table tr[data-name='{LOST_PHRASE}']")
    expect(lost.locator(".count-won")).to_have_text("0")
    expect(lost.locator(".count-lost")).to_have_text("4")
    expect(lost.locator(".lift-bar")).to_have_class("lift-bar lift-lost")
    wb, lb = won.locator(".lift-bar").bounding_box(), lost.locator(".lift-bar").bounding_box()
    track = won.locator(".lift-track").bounding_box()
    assert wb and lb and track
    middle = track["x"] + track["width"] / 2
    assert wb["x"] >= middle - 1 and lb["x"] + lb["width"] <= middle + 1, (wb, lb, middle)
    expect(page.locator("#trackers-table tr[data-name=discount] .count-won")).to_have_text("4")

    expect(page.locator("#privacy-notice")).to_have_text(
        "Ainult koondandmed: isikuandmete kaitse nõuded ei luba kõnesalvestisi kasutada üksikute "
        "töötajate jälgimiseks, seega Ülevaade ei järjesta inimesi."
    )
    shot(page, tmp_path, "insights")
    page.click("#nav button[lang=en]")
    expect(page.locator("h1")).to_have_text("Insights")
    expect(page.locator("#privacy-notice")).to_have_text(
        "Aggregates only: Estonian data protection law does not allow using call recordings to monitor "
        "individual employees, so Insights never ranks people."
    )
    expect(page.locator(f"#phrases-table tr[data-name='{WON_PHRASE}'] .count-won")).to_have_text("4")

    # A period without analysed calls is an empty state, not an empty chart.
    s.open("#/insights?since=2025-01-01&until=2025-01-31")
    expect(page.locator("#insights-empty")).to_have_text("No analysed calls with an outcome in this period.")
    expect(page.locator("#week-chart")).to_have_count(0)
    assert not s.errors, s.errors


def test_insights_is_not_for_agents(sessions, site, tmp_path):
    s = sessions("agent1")
    page = s.page
    expect(page.locator("#nav-insights")).to_have_count(0)
    s.open("#/insights")
    expect(page.locator("#insights-error")).to_have_text(
        "Ülevaade on ainult juhtidele ja administraatoritele."
    )
    expect(page.locator("#phrases-table")).to_have_count(0)
    shot(page, tmp_path, "insights-agent")
    # The 403 is logged as a console error by the browser; nothing else may fail.
    assert not [e for e in s.errors if "403" not in e], s.errors
