"""NAT helpers: the address a carrier saw us at, and the OPTIONS keep-alive."""

from __future__ import annotations

from salvesti.core.protocols.sip.message import SipRequest, parse_message
from salvesti.core.protocols.sip.nat import learned_address, options_ping


def answer(via: str) -> object:
    return parse_message(
        (
            "SIP/2.0 200 OK\r\n"
            f"Via: {via}\r\n"
            "From: <sip:3726000001@carrier.example>;tag=a\r\nTo: <sip:3726000001@carrier.example>;tag=b\r\n"
            "Call-ID: reg-1\r\nCSeq: 2 REGISTER\r\nContent-Length: 0\r\n\r\n"
        ).encode()
    )


def test_received_and_rport_are_the_public_address() -> None:
    resp = answer("SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bKa;rport=40001;received=198.51.100.7")
    assert learned_address(resp) == ("198.51.100.7", 40001)  # type: ignore[arg-type]


def test_rport_without_received_means_sent_by_was_right_but_the_port_was_not() -> None:
    resp = answer("SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKa;rport=40001")
    assert learned_address(resp) == ("198.51.100.7", 40001)  # type: ignore[arg-type]


def test_a_carrier_that_ignores_rport_teaches_nothing() -> None:
    for via in (
        "SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bKa;rport",  # echoed as we sent it
        "SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bKa;received=198.51.100.7",  # no port
        "SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bKa;rport=99999;received=198.51.100.7",
        "SIP/2.0/UDP box.lan:5060;branch=z9hG4bKa;rport=40001",  # no IP to use
    ):
        assert learned_address(answer(via)) is None, via  # type: ignore[arg-type]


def test_options_ping_is_a_well_formed_request_with_rport() -> None:
    ping = options_ping(
        request_uri="sip:carrier.example",
        from_uri="sip:3726000001@carrier.example",
        local=("192.168.1.20", 5060),
        transport="udp",
    )
    parsed = parse_message(ping.to_bytes())
    assert isinstance(parsed, SipRequest) and parsed.method == "OPTIONS"
    assert parsed.uri == "sip:carrier.example" and parsed.cseq == (1, "OPTIONS")
    assert parsed.via.host == "192.168.1.20" and "rport" in parsed.via.params
    assert parsed.from_addr.tag
