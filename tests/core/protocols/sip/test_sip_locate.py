"""RFC 3263 / RFC 2782 target ordering without a network."""

from __future__ import annotations

import random
from collections import Counter

from salvesti.core.protocols.sip.locate import (
    Naptr,
    Srv,
    default_port,
    naptr_srv_names,
    needs_srv,
    order_srv,
    srv_name,
)


def test_only_a_name_without_a_port_is_looked_up_with_srv() -> None:
    assert needs_srv("sip.carrier.example", None)
    assert not needs_srv("sip.carrier.example", 5080)
    assert not needs_srv("192.0.2.10", None) and not needs_srv("2001:db8::1", None)
    assert srv_name("carrier.example.", "UDP") == "_sip._udp.carrier.example"


def test_naptr_picks_our_transport_in_order_and_preference() -> None:
    records = [
        Naptr(20, 10, "s", "SIP+D2U", "_sip._udp.b.example."),
        Naptr(10, 20, "S", "SIP+D2U", "_sip._udp.a2.example."),
        Naptr(10, 10, "s", "SIP+D2U", "_sip._udp.a1.example."),
        Naptr(5, 10, "s", "SIP+D2T", "_sip._tcp.a.example."),
        Naptr(1, 10, "a", "SIP+D2U", "x.example."),  # not terminal S: not ours to follow
        Naptr(1, 10, "s", "SIPS+D2T", "_sips._tcp.a.example."),
    ]
    assert naptr_srv_names(records, "udp") == [
        "_sip._udp.a1.example",
        "_sip._udp.a2.example",
        "_sip._udp.b.example",
    ]
    assert naptr_srv_names(records, "tcp") == ["_sip._tcp.a.example"]


def test_srv_priority_first_and_a_dot_target_means_no_service() -> None:
    records = [Srv(20, 0, 5060, "backup.example."), Srv(10, 0, 5070, "main.example."), Srv(5, 0, 1, ".")]
    assert [r.target for r in order_srv(records, lambda n: 0)] == ["main.example.", "backup.example."]


def test_srv_weights_split_the_first_choice_as_rfc_2782_says() -> None:
    records = [Srv(10, 75, 5060, "big."), Srv(10, 25, 5060, "small."), Srv(10, 0, 5060, "zero.")]
    rng = random.Random(7)
    firsts = Counter(order_srv(records, lambda n: rng.randint(0, n))[0].target for _ in range(4000))
    assert 0.70 < firsts["big."] / 4000 < 0.80
    assert 0.20 < firsts["small."] / 4000 < 0.30
    assert firsts["zero."] < 40  # only when the pick is exactly 0
    every = order_srv(records, lambda n: rng.randint(0, n))
    assert sorted(r.target for r in every) == ["big.", "small.", "zero."]


def test_tls_is_located_as_sips_over_tcp_on_5061() -> None:
    """``transport: tls`` asks for SIPS+D2T NAPTR and ``_sips._tcp`` SRV, and a bare name
    without SRV goes to 5061 (RFC 3263 §4.1, §4.2): not the plain-SIP records or port."""
    records = [
        Naptr(10, 10, "S", "SIP+D2T", "_sip._tcp.carrier.example."),
        Naptr(20, 10, "S", "SIPS+D2T", "_sips._tcp.carrier.example."),
    ]
    assert naptr_srv_names(records, "tls") == ["_sips._tcp.carrier.example"]
    assert srv_name("carrier.example", "tls") == "_sips._tcp.carrier.example"
    assert srv_name("carrier.example", "tcp") == "_sip._tcp.carrier.example"
    assert default_port("tls") == 5061
    assert default_port("udp") == default_port("tcp") == 5060
