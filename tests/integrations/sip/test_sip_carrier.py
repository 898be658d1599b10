"""Which carrier registration an INVITE belongs to and which one a call leaves through,
without sockets: the Request-URI user (the account's Contact), then To, then the only
account at that address; a DDI trunk reads the line as before."""

from __future__ import annotations

import pytest

from salvesti.core.numbers import normalize_number
from salvesti.core.protocols.sip.message import parse_message
from salvesti.integrations.sip.carrier import Carrier, InboundMatch
from salvesti.integrations.sip.schema import SCHEMA
from salvesti.integrations.sip.trunk import refresh_after

CARRIER = ("198.51.100.7", 5060)
OTHER = ("198.51.100.9", 5060)


def account(n: int, registrar: str = "198.51.100.7") -> dict:
    return {"line": f"+372600000{n}", "registrar": registrar, "username": f"372600000{n}", "password": "pw"}


def carrier(conf: dict) -> Carrier:
    conf = SCHEMA({"platform": "sip_trunk", "id": "office", **conf})
    c = Carrier.from_config(
        conf, transport=None, contact_host=lambda peer: "192.0.2.1", label="t", on_status=lambda *a: None
    )
    for client in c.clients:  # what resolve_peers() finds for these registrars
        client.peers.exact.add((client.registrar_host, client.registrar_port or 5060))
    return c


def invite(ruri_user: str, to_user: str) -> object:
    return parse_message(
        (
            f"INVITE sip:{ruri_user}@192.0.2.1:5060 SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKc\r\n"
            f"From: <sip:+3725551234@198.51.100.7>;tag=a\r\nTo: <sip:{to_user}@192.0.2.1>\r\n"
            "Call-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
        ).encode()
    )


@pytest.fixture
def two() -> Carrier:
    return carrier({"accounts": [account(1), account(2)]})


def test_request_uri_user_names_the_account(two: Carrier) -> None:
    match = two.inbound(invite("3726000002", "office"), CARRIER, [], normalize_number)
    assert match == InboundMatch(two.clients[1], "+3726000002")


def test_then_to_then_the_only_account(two: Carrier) -> None:
    assert two.inbound(invite("x", "+3726000001"), CARRIER, [], normalize_number).line == "+3726000001"
    assert two.inbound(invite("x", "3726000002"), CARRIER, [], normalize_number).line == "+3726000002"
    assert two.inbound(invite("x", "office"), CARRIER, [], normalize_number) == InboundMatch(None, None)
    one = carrier({"accounts": [account(1), account(2, registrar="198.51.100.9")]})
    assert one.inbound(invite("x", "office"), OTHER, [], normalize_number).line == "+3726000002"


def test_not_from_the_carrier(two: Carrier) -> None:
    assert two.inbound(invite("3726000001", "x"), ("198.51.100.7", 5062), [], normalize_number) is None


def test_outbound_identity_per_account_and_for_a_ddi_trunk(two: Carrier) -> None:
    assert two.trunk is None and two.for_line("+3726000002") is two.clients[1]
    assert two.for_line("+3726000009") is None
    assert two.for_line("+3726000002").from_header("+3726000002") == "<sip:3726000002@198.51.100.7>"
    ddi = carrier(
        {
            "trunk": {k: v for k, v in account(1).items() if k != "line"},
            "lines": ["+3726000001", "+3726000002"],
        }
    )
    assert ddi.for_line("+3726000002") is ddi.trunk
    assert ddi.trunk.from_header("+3726000002") == "<sip:+3726000002@198.51.100.7>", (
        "a DDI trunk names the line"
    )
    match = ddi.inbound(
        invite("3726000001", "+3726000002"), CARRIER, ["+3726000001", "+3726000002"], normalize_number
    )
    assert match == InboundMatch(ddi.trunk, "+3726000002")


@pytest.mark.parametrize(("granted", "after"), [(300, 240.0), (50, 40.0), (20, 10.0), (3, 1.5), (1, 1.0)])
def test_refresh_comes_before_the_expiry(granted: int, after: float) -> None:
    assert refresh_after(granted) == after
