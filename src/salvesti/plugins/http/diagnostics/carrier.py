"""Carrier registration and the public address the carrier sees (NAT), per registration."""

from __future__ import annotations

import ipaddress
from datetime import datetime

from salvesti.core.diagnostics import CarrierRegistration
from salvesti.plugins.http.diagnostics.check import Check, State, hostport, iso

#: The carrier's refusals people can act on, by status code: the advice key for each.
_REFUSALS = {
    401: "diag_carrier_auth",
    407: "diag_carrier_auth",
    403: "diag_carrier_forbidden",
    404: "diag_carrier_not_found",
    408: "diag_carrier_server",
    480: "diag_carrier_server",
}


def _advice_for_refusal(status: int) -> str:
    if status in _REFUSALS:
        return _REFUSALS[status]
    if status >= 500:
        return "diag_carrier_server"
    return "diag_carrier_refused"


def registration_check(source: str, reg: CarrierRegistration, now: datetime) -> Check:
    """Registered, refused (why, in the carrier's own answer), unreachable or still trying."""
    answer = f"{reg.last_status} {reg.last_reason}".strip() if reg.last_status is not None else None
    details = {
        "source": source,
        "name": reg.name,
        "key": reg.key,
        "line": reg.line,
        "registrar": reg.registrar,
        "username": reg.username,
        "status": reg.status,
        "reason": reg.reason,
        "last_status": reg.last_status,
        "last_reason": reg.last_reason,
        "answer": answer,
        "last_answer_at": iso(reg.last_answer_at),
        "registered_at": iso(reg.registered_at),
        "expires_at": iso(reg.expires_at),
    }

    def result(state: State, advice: str) -> Check:
        return Check(f"carrier.{source}.{reg.key}", "carrier", state, "diag_carrier_title", advice, details)

    if reg.status == "registered":
        if reg.expires_at is not None and reg.expires_at < now:
            return result(State.WARN, "diag_carrier_expired")
        return result(State.OK, "diag_carrier_ok")
    if reg.status == "not_registering":
        return result(State.OK, "diag_carrier_not_registering")
    if reg.status == "tls_failed":  # the reason names the check that failed (sip/tls.py)
        return result(State.FAIL, "diag_carrier_tls")
    if reg.status != "failed":
        return result(State.WARN, "diag_carrier_pending")
    if not reg.answered_latest or reg.last_status is None:
        no_answer = (reg.reason or "").startswith("no answer")
        return result(State.FAIL, "diag_carrier_no_answer" if no_answer else "diag_carrier_unreachable")
    return result(State.FAIL, _advice_for_refusal(reg.last_status))


def _ip(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text or "")
    except ValueError:
        return None


def nat_check(source: str, reg: CarrierRegistration) -> Check:
    """What the carrier saw us as (its Via's ``received``/``rport``) against our own address."""
    public_ip = reg.public[0] if reg.public else None
    behind = None if public_ip is None or reg.local is None else _ip(public_ip) != _ip(reg.local)
    details = {
        "source": source,
        "name": reg.name,
        "key": reg.key,
        "line": reg.line,
        "public": hostport(reg.public),
        "public_ip": public_ip,
        "local": reg.local,
        "external": reg.external,
        "behind_nat": behind,
    }

    def result(state: State, advice: str) -> Check:
        return Check(f"nat.{source}.{reg.key}", "nat", state, "diag_nat_title", advice, details)

    if public_ip is None:
        if reg.external:
            return result(State.OK, "diag_nat_external_only")
        if reg.status == "registered":
            return result(State.WARN, "diag_nat_unknown")
        return result(State.WARN, "diag_nat_not_yet")
    if not behind:
        return result(State.OK, "diag_nat_none")
    if not reg.external:
        return result(State.WARN, "diag_nat_behind")
    external_ip = _ip(reg.external)
    if external_ip is not None and external_ip != _ip(public_ip):
        return result(State.WARN, "diag_nat_external_differs")
    return result(State.OK, "diag_nat_external_ok")
