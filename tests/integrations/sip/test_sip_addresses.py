"""Our address as a peer sees it: no DNS on the event loop, no cached failure."""

from __future__ import annotations

import socket

import pytest

from salvesti.integrations.sip.addresses import DEFAULT_PEER, LocalAddresses, kernel_route


class Routes:
    """A fake kernel: answers from a table, raises OSError (no route) for the rest."""

    def __init__(self, table: dict[str, str]) -> None:
        self.table = table
        self.asked: list[str] = []

    def __call__(self, ip: str) -> str:
        self.asked.append(ip)
        if ip not in self.table:
            raise OSError("Network is unreachable")
        return self.table[ip]


@pytest.fixture(autouse=True)
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any blocking name lookup fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"blocking DNS lookup on the loop: {args}")

    for name in ("gethostbyname", "gethostbyname_ex", "getaddrinfo"):
        monkeypatch.setattr(socket, name, refuse)


def test_a_route_failure_is_not_cached() -> None:
    routes = Routes({})
    addresses = LocalAddresses("0.0.0.0", route=routes)
    assert addresses.for_peer("203.0.113.5") == "127.0.0.1"  # no network yet
    routes.table["203.0.113.5"] = "198.51.100.10"  # the uplink came up
    assert addresses.for_peer("203.0.113.5") == "198.51.100.10"
    assert addresses.for_peer("203.0.113.5") == "198.51.100.10"
    assert routes.asked == ["203.0.113.5", "203.0.113.5"]  # the success is cached


def test_a_peer_name_is_never_resolved_here_the_default_route_answers() -> None:
    routes = Routes({DEFAULT_PEER: "198.51.100.10"})
    addresses = LocalAddresses("0.0.0.0", route=routes)
    assert addresses.for_peer("sip.carrier.example") == "198.51.100.10"
    assert routes.asked == [DEFAULT_PEER]


def test_configured_addresses_win_and_need_no_route() -> None:
    routes = Routes({})
    assert (
        LocalAddresses("0.0.0.0", external="192.0.2.80", route=routes).for_peer("203.0.113.5", outside=True)
        == "192.0.2.80"
    )
    assert (
        LocalAddresses("0.0.0.0", advertise="10.0.0.2", external="192.0.2.80", route=routes).for_peer(
            "10.0.0.9"
        )
        == "10.0.0.2"
    )
    assert LocalAddresses("10.0.0.3", route=routes).for_peer("10.0.0.9") == "10.0.0.3"
    assert routes.asked == []


def test_kernel_route_to_loopback_needs_no_name_lookup() -> None:
    assert kernel_route("127.0.0.1") == "127.0.0.1"
    assert kernel_route("::1") == "::1"


def test_behind_nat_a_leg_to_the_internet_gets_the_address_the_carrier_saw() -> None:
    from salvesti.integrations.sip.addresses import LocalAddresses

    lan = LocalAddresses("0.0.0.0", route=lambda ip: "192.168.1.5")
    carrier, phone = "193.40.5.10", "192.168.1.40"
    assert lan.for_leg(carrier, outside=True, public="84.50.1.2") == "84.50.1.2"
    assert lan.for_leg(carrier, outside=True, public=None) == "192.168.1.5"  # not learned yet
    assert lan.for_leg(phone, outside=False, public="84.50.1.2") == "192.168.1.5"
    assert lan.for_leg(phone, outside=True, public="84.50.1.2") == "192.168.1.5"  # a gateway on the LAN
    public_box = LocalAddresses("0.0.0.0", route=lambda ip: "84.50.1.2")
    assert public_box.for_leg(carrier, outside=True, public="84.50.1.2") == "84.50.1.2"
    configured = LocalAddresses("0.0.0.0", external="84.50.9.9", route=lambda ip: "192.168.1.5")
    assert configured.for_leg(carrier, outside=True, public="84.50.1.2") == "84.50.9.9"
