"""Carrier registration and NAT checks: the carrier's answer turned into advice."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from salvesti.core.diagnostics import CarrierRegistration
from salvesti.plugins.http.diagnostics.carrier import nat_check, registration_check
from salvesti.plugins.http.diagnostics.check import State

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Europe/Tallinn"))


def reg(**kw: object) -> CarrierRegistration:
    base: dict[str, object] = {
        "name": "trunk",
        "key": "trunk",
        "registrar": "sip.carrier.example",
        "username": "3726000000",
        "status": "registered",
    }
    return CarrierRegistration(**{**base, **kw})  # type: ignore[arg-type]


def test_registered_shows_the_answer_and_times() -> None:
    check = registration_check(
        "telia",
        reg(
            last_status=200,
            last_reason="OK",
            last_answer_at=NOW - timedelta(seconds=30),
            registered_at=NOW - timedelta(seconds=30),
            expires_at=NOW + timedelta(seconds=270),
        ),
        NOW,
    )
    assert (check.id, check.group, check.state) == ("carrier.telia.trunk", "carrier", State.OK)
    assert (check.title_key, check.advice_key) == ("diag_carrier_title", "diag_carrier_ok")
    assert check.details["answer"] == "200 OK"
    assert check.details["expires_at"] == (NOW + timedelta(seconds=270)).isoformat()


def test_registered_but_past_its_expiry_is_a_warning() -> None:
    check = registration_check("telia", reg(expires_at=NOW - timedelta(seconds=1)), NOW)
    assert (check.state, check.advice_key) == (State.WARN, "diag_carrier_expired")


@pytest.mark.parametrize(
    ("status", "reason", "advice"),
    [
        (403, "Forbidden", "diag_carrier_forbidden"),
        (401, "Unauthorized", "diag_carrier_auth"),
        (407, "Proxy Authentication Required", "diag_carrier_auth"),
        (404, "Not Found", "diag_carrier_not_found"),
        (503, "Service Unavailable", "diag_carrier_server"),
        (488, "Not Acceptable Here", "diag_carrier_refused"),
    ],
)
def test_a_refusal_says_what_the_carrier_answered(status: int, reason: str, advice: str) -> None:
    check = registration_check(
        "telia",
        reg(status="failed", reason=f"{status} {reason}", last_status=status, last_reason=reason),
        NOW,
    )
    assert (check.state, check.advice_key) == (State.FAIL, advice)
    assert check.details["answer"] == f"{status} {reason}"


def test_no_answer_and_no_name_are_told_apart() -> None:
    silent = reg(status="failed", reason="no answer from 198.51.100.7:5060", answered_latest=False)
    assert registration_check("t", silent, NOW).advice_key == "diag_carrier_no_answer"
    # An old 200 does not hide that the latest attempt got no answer.
    stale = reg(
        status="failed", reason="no answer from x", last_status=200, last_reason="OK", answered_latest=False
    )
    assert registration_check("t", stale, NOW).advice_key == "diag_carrier_no_answer"
    dns = reg(status="failed", reason="[Errno -2] Name or service not known", answered_latest=False)
    assert registration_check("t", dns, NOW).advice_key == "diag_carrier_unreachable"


def test_still_trying_and_not_registering() -> None:
    assert registration_check("t", reg(status="not_registered"), NOW).state == State.WARN
    quiet = registration_check("t", reg(status="not_registering"), NOW)
    assert (quiet.state, quiet.advice_key) == (State.OK, "diag_carrier_not_registering")


def test_nat_none_behind_and_external() -> None:
    same = nat_check("t", reg(public=("192.168.1.20", 5060), local="192.168.1.20"))
    assert (same.state, same.advice_key, same.details["behind_nat"]) == (State.OK, "diag_nat_none", False)

    behind = nat_check("t", reg(public=("203.0.113.9", 40001), local="192.168.1.20"))
    assert (behind.state, behind.advice_key) == (State.WARN, "diag_nat_behind")
    assert behind.details["public"] == "203.0.113.9:40001" and behind.details["public_ip"] == "203.0.113.9"

    set_right = nat_check(
        "t", reg(public=("203.0.113.9", 40001), local="192.168.1.20", external="203.0.113.9")
    )
    assert (set_right.state, set_right.advice_key) == (State.OK, "diag_nat_external_ok")
    by_name = nat_check("t", reg(public=("203.0.113.9", 1), local="192.168.1.20", external="office.example"))
    assert by_name.advice_key == "diag_nat_external_ok"
    wrong = nat_check("t", reg(public=("203.0.113.9", 40001), local="192.168.1.20", external="198.51.100.1"))
    assert (wrong.state, wrong.advice_key) == (State.WARN, "diag_nat_external_differs")


def test_nat_before_the_carrier_said_anything() -> None:
    assert nat_check("t", reg(status="failed", local="192.168.1.20")).advice_key == "diag_nat_not_yet"
    assert nat_check("t", reg(local="192.168.1.20")).advice_key == "diag_nat_unknown"
    assert nat_check("t", reg(external="203.0.113.9")).advice_key == "diag_nat_external_only"


def test_tls_failure_is_a_problem_with_its_own_advice() -> None:
    why = "TLS: the carrier's certificate is not for sip.carrier.example (Hostname mismatch)"
    check = registration_check("telia", reg(status="tls_failed", reason=why), NOW)
    assert (check.state, check.advice_key) == (State.FAIL, "diag_carrier_tls")
    assert check.details["reason"] == why
