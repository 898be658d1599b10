"""The sip_trunk config block, the per-line notice rule and the pure routing/security helpers."""

from __future__ import annotations

import pytest
import voluptuous as vol
from sip_lab import LINE, Lab

from salvesti.core.errors import ConfigError, SalvestiError
from salvesti.core.protocols.sip.message import parse_message
from salvesti.integrations.sip.routing import TrunkAddresses, caller_number, inbound_line
from salvesti.integrations.sip.schema import SCHEMA, check_config
from salvesti.integrations.sip.security import SecurityGuard

BASE = {"platform": "sip_trunk", "id": "telia"}
TRUNK = {"registrar": "sip.example.ee", "username": "3726000000", "password": "pw"}


def test_defaults_follow_the_contract() -> None:
    conf = SCHEMA({**BASE, "trunk": TRUNK, "lines": ["+3726000000"]})
    assert conf["listen"] == "0.0.0.0:5060" and conf["rtp_ports"] == "10000-10999"
    assert conf["notice_mode"] == "answer" and conf["digest_algorithms"] == ["MD5", "SHA-256"]
    assert conf["trunk"]["transport"] == "udp" and conf["trunk"]["expires"] == 300
    assert conf["codecs"] == ["PCMU", "PCMA", "G722", "opus"] and conf["record_internal"] is False


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rtp_ports": "10000"}, "expected a port range such as 10000-10999"),
        ({"listen": "0.0.0.0:99999"}, "port out of range in '0.0.0.0:99999'"),
        ({"notice_mode": "later"}, "value must be one of ['answer', 'early_media']"),
        ({"inbound": {"+3726000001": ["101"]}}, "line '+3726000001' is not in lines: ['+3726000000']"),
        ({"lines": ["12"]}, "'12' is not a phone number in E.164 form, e.g. '+3726000000'"),
        ({"nameservers": ["dns.example"]}, "a name server is an IP address (optionally :port)"),
        ({"nameservers": "192.0.2.53"}, "expected a list"),
    ],
)
def test_config_errors_are_specific(change: dict, message: str) -> None:
    conf = {
        **BASE,
        "trunk": TRUNK,
        "lines": ["+3726000000"],
        "extensions": [{"user": "101", "password": "pw101"}],
    }
    conf.update(change)
    with pytest.raises(vol.Invalid) as err:
        SCHEMA(conf)
    assert message in str(err.value)


def test_nameservers_take_an_ip_with_an_optional_port() -> None:
    servers = ["192.0.2.53", "127.0.0.1:5353"]
    conf = SCHEMA({**BASE, "trunk": TRUNK, "lines": ["+3726000000"], "nameservers": servers})
    assert conf["nameservers"] == ["192.0.2.53", "127.0.0.1:5353"]
    assert SCHEMA({**BASE, "trunk": TRUNK, "lines": ["+3726000000"]})["nameservers"] == []


def test_lines_are_stored_e164() -> None:
    conf = SCHEMA({**BASE, "trunk": TRUNK, "lines": ["3726000000"], "inbound": {"+372 600 0000": []}})
    assert conf["lines"] == ["+3726000000"] and list(conf["inbound"]) == ["+3726000000"]


def test_a_line_needs_a_notice_or_a_reason() -> None:
    conf = SCHEMA({**BASE, "trunk": TRUNK, "lines": ["+3726000000", "+3726000001"]})
    notices = [
        {
            "platform": "audio_file",
            "id": "et",
            "file": "x.wav",
            "directions": ["inbound"],
            "lines": ["+3726000000"],
        }
    ]
    problems = check_config(conf, {"notices": notices})
    assert [p[1] for p in problems] == [
        "line +3726000000 has no recording notice for outbound calls: add a notice (notices: - platform: "
        'audio_file ...) or say why in no_notice: {"+3726000000": "reason"}',
        "line +3726000001 has no recording notice for inbound and outbound calls: add a notice (notices: - "
        'platform: audio_file ...) or say why in no_notice: {"+3726000001": "reason"}',
    ]
    waived = SCHEMA(
        {
            **BASE,
            "trunk": TRUNK,
            "lines": ["+3726000000", "+3726000001"],
            "no_notice": {"+3726000000": "notice played by the carrier", "+3726000001": "fax line"},
        }
    )
    assert check_config(waived, {"notices": notices}) == []


async def test_config_refuses_a_line_without_notice(lab: Lab) -> None:
    with pytest.raises(ConfigError) as err:
        await lab.start_hub(
            {"trunk": {**TRUNK, "registrar": "127.0.0.1:9", "register": False}, "lines": [LINE]},
            notices=False,
        )
    assert err.value.errors == [
        "config.yaml:18: sources[0].lines: line +3726000000 has no recording notice for inbound and outbound "
        'calls: add a notice (notices: - platform: audio_file ...) or say why in no_notice: {"+3726000000": '
        '"reason"}'
    ]


async def test_setup_refuses_a_line_without_notice_too(lab: Lab) -> None:
    """The same rule holds for a hub built from a config dict that skipped check-config."""
    from salvesti.integrations.sip.source import SipTrunkSource

    await lab.start_hub({})
    conf = SCHEMA({**BASE, "listen": "127.0.0.1:9", "trunk": TRUNK, "lines": [LINE]})
    lab.hub.notices.clear()
    source = SipTrunkSource(lab.hub, conf)
    with pytest.raises(SalvestiError, match=r"line \+3726000000 has no recording notice"):
        await source.async_setup()


def _invite(to: str, ruri: str, extra: str = "") -> object:
    return parse_message(
        (
            f"INVITE {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\n"
            f'From: "Mari" <sip:0037255512345@192.0.2.1>;tag=a\r\nTo: {to}\r\n'
            "Call-ID: c\r\nCSeq: 1 INVITE\r\n"
            f"{extra}Content-Length: 0\r\n\r\n"
        ).encode()
    )


def test_line_from_to_then_request_uri_then_header() -> None:
    lines = ["+3726000000", "+3726000001"]
    from salvesti.core.numbers import normalize_number as norm

    assert inbound_line(_invite("<sip:3726000001@x>", "sip:3726000000@y"), lines, None, norm) == "+3726000001"
    assert inbound_line(_invite("<sip:other@x>", "sip:3726000000@y"), lines, None, norm) == "+3726000000"
    req = _invite("<sip:other@x>", "sip:trunkuser@y", "P-Called-Party-ID: <tel:+3726000001>\r\n")
    assert inbound_line(req, lines, "P-Called-Party-ID", norm) == "+3726000001"
    assert inbound_line(_invite("<sip:other@x>", "sip:u@y"), lines, None, norm) is None
    assert inbound_line(_invite("<sip:other@x>", "sip:u@y"), lines[:1], None, norm) == "+3726000000"
    assert caller_number(_invite("<sip:x@x>", "sip:u@y"), norm) == "+37255512345"


def test_trunk_addresses_match_registrar_by_port_and_networks_by_ip() -> None:
    trunk = TrunkAddresses(["192.0.2.0/24", "sbc.example.ee:5070"])
    trunk.exact.add(("198.51.100.7", 5060))
    assert trunk.contains("198.51.100.7", 5060) and not trunk.contains("198.51.100.7", 5062)
    assert trunk.contains("192.0.2.200", 40000) and not trunk.contains("203.0.113.1", 5060)
    assert trunk.names == ["sbc.example.ee:5070"]


def test_lockout_after_repeated_failures() -> None:
    guard = SecurityGuard(max_failures=3, window=10, lockout=60)
    assert not guard.failure("203.0.113.9", 0) and not guard.failure("203.0.113.9", 1)
    assert guard.failure("203.0.113.9", 2)
    assert guard.is_locked("203.0.113.9", 30) and not guard.is_locked("203.0.113.9", 63)
    guard.failure("203.0.113.8", 0)
    guard.failure("203.0.113.8", 20)  # outside the window: the count starts again
    assert not guard.failure("203.0.113.8", 21)


def test_inbound_may_name_extensions_of_any_source() -> None:
    """A line's inbound list is checked against every source's extensions (desk phones and
    browser phones), by check_config, where the whole file is known."""
    conf = SCHEMA(
        {
            **BASE,
            "trunk": TRUNK,
            "lines": ["+3726000000"],
            "listen": "127.0.0.1:5060",
            "extensions": [{"user": "101", "password": "pw101"}],
            "inbound": {"+3726000000": ["101", "103", "109"]},
            "no_notice": {"+3726000000": "test"},
        }
    )
    browser = {"platform": "webrtc", "id": "browser", "extensions": ["103"]}
    config = {"notices": [], "sources": [{**conf, "platform": "sip_trunk"}, browser]}
    import salvesti.integrations.webrtc.schema  # noqa: F401  (registers the webrtc owner)

    problems = check_config(conf, config)
    assert problems == [(["inbound", "+3726000000"], "extension '109' is not in extensions of any source")]
