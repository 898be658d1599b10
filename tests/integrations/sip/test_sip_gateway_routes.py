"""How a configured gateway is recognised and reached, without sockets: by the address its
live registration came from, or by the address it is trusted by; and where calls out go."""

from __future__ import annotations

import time

import pytest

from salvesti.core.protocols.sip.digest import DigestServer
from salvesti.core.protocols.sip.message import parse_message
from salvesti.integrations.sip.gateways import UNSUPERVISED, Gateways
from salvesti.integrations.sip.registrar import Binding, Registrar
from salvesti.integrations.sip.security import Authenticator, SecurityGuard

CONF = {
    "gateways": [
        {
            "id": "fxo1",
            "profile": "grandstream_ht813",
            "user": "gw-fxo1",
            "password": "pw-1",
            "line": "+3726111111",
        },
        {"id": "tg", "profile": "yeastar_tg", "address": "192.0.2.7:5062", "line": "+37255500000"},
        {"id": "goip", "profile": "goip", "address": "198.51.100.0/28", "line": "+37255500001"},
        {"id": "v6", "profile": "generic_fxo", "address": "[2001:db8::7]:5062", "line": "+3726111112"},
    ]
}


@pytest.fixture
def gateways() -> tuple[Gateways, Registrar]:
    auth = Authenticator(DigestServer("test", ["MD5"]), {}, SecurityGuard(5, 60, 300), "test")
    registrar = Registrar(auth, "test")
    return Gateways.from_config(CONF, registrar, "EE"), registrar


def bind(registrar: Registrar, user: str, addr: tuple[str, int], expires_at: float) -> None:
    contact = f"sip:{user}@{addr[0]}:{addr[1]}"
    registrar._bindings.setdefault(user, {})[contact] = Binding(user, contact, addr, "udp", expires_at, "c1")


def test_a_registering_gateway_is_known_by_its_registration_only(gateways) -> None:
    gws, registrar = gateways
    assert gws.from_address(("192.0.2.50", 5062), now=0) is None
    assert gws.by_user("gw-fxo1").status(0) == "not_registered"
    bind(registrar, "gw-fxo1", ("192.0.2.50", 5062), expires_at=100)
    assert gws.from_address(("192.0.2.50", 5062), now=10).id == "fxo1"
    assert gws.from_address(("192.0.2.50", 5063), now=10) is None, "another port on that host is not it"
    assert gws.from_address(("192.0.2.50", 5062), now=100) is None, (
        "an expired registration is no registration"
    )


async def test_trusted_gateways_by_address_and_network(gateways) -> None:
    gws, _ = gateways
    await gws.resolve("test")  # 192.0.2.7:5062 is a host:port item, resolved at setup
    assert gws.from_address(("192.0.2.7", 5062), now=0).id == "tg"
    assert gws.from_address(("192.0.2.7", 5060), now=0) is None
    assert gws.from_address(("198.51.100.9", 40000), now=0).id == "goip"
    assert gws.for_line("+37255500000").status(0) == "trusted"
    assert gws.passwords() == {"gw-fxo1": "pw-1"}


async def test_calls_out_go_where_the_gateway_is(gateways) -> None:
    gws, registrar = gateways
    fxo, tg, goip = (gws.for_line(line) for line in ("+3726111111", "+37255500000", "+37255500001"))
    with pytest.raises(OSError, match="gateway fxo1 is not registered"):
        await fxo.next_hop()
    bind(registrar, "gw-fxo1", ("192.0.2.50", 5062), expires_at=time.monotonic() + 60)
    assert await fxo.next_hop() == ("192.0.2.50", 5062)
    assert fxo.request_uri("5551234") == "sip:5551234@192.0.2.50:5062"
    assert fxo.describe()["talk_time"] == UNSUPERVISED
    await gws.resolve("test")
    assert await tg.next_hop() == ("192.0.2.7", 5062) and "talk_time" not in tg.describe()
    assert tg.request_uri("5551234") == "sip:5551234@192.0.2.7:5062" and tg.sip_transport == "udp"
    v6 = gws.for_line("+3726111112")
    assert v6.request_uri("5551234") == "sip:5551234@[2001:db8::7]:5062"
    assert v6.to_header("5551234") == "<sip:5551234@[2001:db8::7]>"
    with pytest.raises(OSError, match="trusted by a network"):
        await goip.next_hop()


def test_caller_is_read_per_profile(gateways) -> None:
    gws, _ = gateways
    invite = parse_message(
        b"INVITE sip:gw-fxo1@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.50:5062;branch=z9hG4bKa\r\n"
        b"From: <sip:gw-fxo1@192.0.2.1>;tag=a\r\nTo: <sip:gw-fxo1@192.0.2.1>\r\nCall-ID: c\r\n"
        b"CSeq: 1 INVITE\r\nP-Asserted-Identity: <sip:5551234@192.0.2.50>\r\nContent-Length: 0\r\n\r\n"
    )
    fxo = gws.by_user("gw-fxo1")
    meta = fxo.inbound_meta(fxo.caller(invite))
    assert meta["gateway"]["caller_id"]["form"] == "national" and fxo.caller(invite).number == "+3725551234"
    assert meta["route"]["via"] == "gateway" and meta["gateway"]["kind"] == "fxo"
