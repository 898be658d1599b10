"""Extension and RTP port range checks."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from salvesti.core.call import Call, Direction, Disposition
from salvesti.core.diagnostics import ExtensionContact, ExtensionState, MediaPorts
from salvesti.plugins.http.diagnostics.check import State
from salvesti.plugins.http.diagnostics.extensions import extension_check
from salvesti.plugins.http.diagnostics.media import media_check

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Europe/Tallinn"))


def test_a_registered_phone_with_its_address_agent_expiry_and_last_call() -> None:
    ext = ExtensionState(
        "101",
        "sip",
        "Mari Maasikas",
        (ExtensionContact(("192.168.1.31", 5062), "udp", "Yealink SIP-T46S", NOW + timedelta(seconds=290)),),
    )
    call = Call(
        id="c1",
        source="telia",
        direction=Direction.INBOUND,
        line="+3726000000",
        remote_number="+3725551234",
        started_at=NOW - timedelta(hours=1),
        disposition=Disposition.ANSWERED,
    )
    check = extension_check("telia", ext, call, listen="0.0.0.0:5060")
    assert (check.id, check.state, check.advice_key) == ("extension.telia.101", State.OK, "diag_ext_ok")
    assert check.details["contacts"] == [
        {
            "address": "192.168.1.31:5062",
            "transport": "udp",
            "user_agent": "Yealink SIP-T46S",
            "expires_at": (NOW + timedelta(seconds=290)).isoformat(),
            "user": None,
        }
    ]
    assert check.details["last_call"] == {
        "id": "c1",
        "started_at": (NOW - timedelta(hours=1)).isoformat(),
        "direction": "inbound",
        "disposition": "answered",
    }


def test_an_unregistered_phone_and_a_closed_browser_phone_are_warnings() -> None:
    phone = extension_check("telia", ExtensionState("102", "sip"), None, listen="0.0.0.0:5060")
    assert (phone.state, phone.advice_key, phone.details["last_call"]) == (
        State.WARN,
        "diag_ext_not_registered",
        None,
    )
    tab = extension_check("browser", ExtensionState("103", "webrtc"), None, listen=None)
    assert (tab.state, tab.title_key, tab.advice_key) == (
        State.WARN,
        "diag_ext_tab_title",
        "diag_ext_tab_closed",
    )
    open_tab = ExtensionState(
        "103", "webrtc", contacts=(ExtensionContact(("10.0.0.5", 0), "webrtc", user="kati"),)
    )
    check = extension_check("browser", open_tab, None, listen=None)
    assert check.advice_key == "diag_ext_tab_ok" and check.details["contacts"][0]["address"] == "10.0.0.5"


def test_rtp_range_use_against_capacity() -> None:
    ok = media_check("telia", "sip_trunk", MediaPorts(10000, 10999, capacity=500, in_use=4))
    assert (ok.state, ok.advice_key, ok.details["calls_possible"]) == (State.OK, "diag_media_ok", 250)
    nearly = media_check("telia", "sip_trunk", MediaPorts(10000, 10019, capacity=10, in_use=8))
    assert (nearly.state, nearly.advice_key) == (State.WARN, "diag_media_nearly_full")
    full = media_check("telia", "sip_trunk", MediaPorts(10000, 10019, capacity=10, in_use=10))
    assert (full.state, full.advice_key) == (State.FAIL, "diag_media_full")
    tiny = media_check("telia", "sip_trunk", MediaPorts(10000, 10003, capacity=2, in_use=0))
    assert tiny.state == State.WARN
    browser = media_check("browser", "webrtc", MediaPorts(20000, 20199, in_use=1))
    assert (browser.state, browser.advice_key) == (State.OK, "diag_media_browser")
