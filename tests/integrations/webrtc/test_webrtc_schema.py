"""The webrtc source's config: defaults, errors at the key, one owner per extension."""

from __future__ import annotations

import pytest
import voluptuous as vol

from salvesti.integrations.webrtc.ice import PortRange, candidate_addresses
from salvesti.integrations.webrtc.schema import SCHEMA, check_config

BASE = {"platform": "webrtc", "id": "browser", "extensions": ["103"]}


def test_defaults() -> None:
    conf = SCHEMA(dict(BASE))
    assert conf["rtc_ports"] == "20000-20199" and conf["ice_servers"] == []
    assert conf["heartbeat_timeout"] == 30.0 and conf["max_calls_per_minute"] == 10


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"extensions": []}, "length of value must be at least 1"),
        ({"extensions": ["103", "103"]}, "extension '103' is listed twice"),
        ({"extensions": ["1 03"]}, "expected an extension such as '103'"),
        ({"rtc_ports": "20000"}, "expected a port range such as 20000-20199"),
        ({"rtc_ports": "30000-20000"}, "must lie within 1024-65535, low to high"),
        ({"ice_servers": [{"urls": "http://x"}]}, "expected a STUN or TURN URL"),
        ({"line": "kontor"}, "is not a phone number in E.164 form"),
    ],
)
def test_errors_say_what_is_wrong(change: dict, message: str) -> None:
    with pytest.raises(vol.Invalid) as err:
        SCHEMA({**BASE, **change})
    assert message in str(err.value)


def test_an_extension_has_one_owner() -> None:
    conf = SCHEMA(dict(BASE))
    desk = {"platform": "sip_trunk", "id": "telia", "extensions": [{"user": "103", "password": "x"}]}
    import salvesti.integrations.sip.schema  # noqa: F401  (registers the sip_trunk owner)

    assert check_config(conf, {"sources": [desk, conf]}) == [
        (["extensions", 0], "extension '103' is also an extension of source 'telia'")
    ]
    assert check_config(conf, {"sources": [conf]}) == []


def test_candidates_are_on_the_page_address() -> None:
    assert candidate_addresses("127.0.0.1", [], "127.0.0.1") == ["127.0.0.1"]
    assert candidate_addresses("192.168.1.5", [], "192.168.1.40") == ["192.168.1.5"]
    assert candidate_addresses("192.168.1.5", ["10.0.0.2"], "192.168.1.40") == ["10.0.0.2"]


def test_port_range_skips_ports_in_use() -> None:
    import socket

    ports = PortRange(39100, 39102)
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind(("127.0.0.1", 39100))
    try:
        a = ports.bind("127.0.0.1")
        b = ports.bind("127.0.0.1")
        assert {a.getsockname()[1], b.getsockname()[1]} == {39101, 39102}
        with pytest.raises(OSError, match="no free UDP port in rtc_ports 39100-39102"):
            ports.bind("127.0.0.1")
        a.close()
        b.close()
    finally:
        busy.close()
