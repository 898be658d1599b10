"""RFC 4028 session timers, sans-IO, on a fake clock."""

from __future__ import annotations

import pytest

from salvesti.core.protocols.sip.message import SipRequest, SipResponse, parse_message
from salvesti.core.protocols.sip.session_timer import (
    RefreshDue,
    SessionExpired,
    SessionIntervalTooSmall,
    SessionTimer,
    parse_session_expires,
)

HEAD = (
    "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKst\r\n"
    "From: <sip:+3725551234@carrier.example>;tag=c1\r\nTo: <sip:+3726000000@salvesti>\r\n"
    "Call-ID: st-1\r\nCSeq: 1 INVITE\r\n"
)


def invite(*headers: str) -> SipRequest:
    msg = parse_message(
        (
            "INVITE sip:3726000000@salvesti SIP/2.0\r\n"
            + HEAD
            + "".join(h + "\r\n" for h in headers)
            + "\r\n"
        ).encode()
    )
    assert isinstance(msg, SipRequest)
    return msg


def ok(*headers: str) -> SipResponse:
    msg = parse_message(
        ("SIP/2.0 200 OK\r\n" + HEAD + "".join(h + "\r\n" for h in headers) + "\r\n").encode()
    )
    assert isinstance(msg, SipResponse)
    return msg


def test_parse_session_expires() -> None:
    assert parse_session_expires("1800;refresher=uas") == (1800, "uas")
    assert parse_session_expires(" 90 ; refresher = UAC ") == (90, "uac")
    assert parse_session_expires("600") == (600, None)
    assert parse_session_expires("soon") is None and parse_session_expires(None) is None


def test_carrier_refreshes_we_expire_the_session_without_its_refresh() -> None:
    timer = SessionTimer.for_request(invite("Session-Expires: 1800;refresher=uac", "Supported: timer"))
    assert timer is not None and not timer.we_refresh
    assert timer.answer_headers() == [("Session-Expires", "1800;refresher=uac"), ("Require", "timer")]
    timer.start(0.0)
    assert timer.next_deadline() == 1800 - 32  # §10: interval - min(32, interval/3)
    assert timer.on_timer(1000.0) == []
    timer.refreshed(1000.0)  # the carrier's re-INVITE came
    assert timer.next_deadline() == 1000 + 1800 - 32
    assert timer.on_timer(1000 + 1800 - 32) == [SessionExpired()]
    assert timer.next_deadline() is None


def test_we_refresh_at_half_the_interval_and_its_answer_restarts_the_clock() -> None:
    timer = SessionTimer.for_request(invite("Session-Expires: 120;refresher=uas", "Allow: INVITE, UPDATE"))
    assert timer is not None and timer.we_refresh and timer.peer_allows_update
    assert timer.answer_headers() == [("Session-Expires", "120;refresher=uas")]  # no Supported: timer
    timer.start(0.0)
    assert timer.next_deadline() == 60
    assert timer.on_timer(60.0) == [RefreshDue()]
    assert timer.next_deadline() == 120 - 32  # still expires if the refresh gets no answer
    timer.refreshed(61.0, SessionTimer.for_response(ok("Session-Expires: 120;refresher=uac")))
    assert timer.we_refresh and timer.next_deadline() == 121


def test_no_refresher_named_the_uac_refreshes_if_it_supports_timers_else_we_do() -> None:
    theirs = SessionTimer.for_request(invite("Session-Expires: 300", "Supported: timer, 100rel"))
    ours = SessionTimer.for_request(invite("Session-Expires: 300"))
    assert theirs is not None and not theirs.we_refresh
    assert ours is not None and ours.we_refresh and ours.refresher == "uas"


def test_below_min_se_is_refused_with_our_min_se() -> None:
    with pytest.raises(SessionIntervalTooSmall) as err:
        SessionTimer.for_request(invite("Session-Expires: 60", "Min-SE: 60"))
    assert err.value.min_se == 90
    assert SessionTimer.for_request(invite("Session-Expires: 60"), min_se=30) is not None


def test_no_session_expires_no_timer() -> None:
    assert SessionTimer.for_request(invite("Supported: timer")) is None
    assert SessionTimer.for_response(ok()) is None


def test_a_2xx_without_refresher_makes_us_the_uac_refresher() -> None:
    timer = SessionTimer.for_response(ok("Session-Expires: 90"))
    assert timer is not None and timer.we_refresh
    assert timer.refresh_headers() == [("Session-Expires", "90;refresher=uac"), ("Supported", "timer")]
    theirs = SessionTimer.for_response(ok("Session-Expires: 90;refresher=uas"))
    assert theirs is not None and not theirs.we_refresh
