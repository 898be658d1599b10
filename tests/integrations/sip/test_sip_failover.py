"""REGISTER failover across a carrier's DNS targets (RFC 3263 §4.3), with a scripted transport:
no answer and 503 move on to the next target, any other answer stays with that target."""

from __future__ import annotations

import asyncio

import pytest

from salvesti.core.protocols.sip.events import ResponseReceived, TransactionTimeout
from salvesti.core.protocols.sip.message import SipRequest, build_response
from salvesti.core.protocols.sip.transaction import ClientTransaction
from salvesti.integrations.sip.locator import SipLocator
from salvesti.integrations.sip.trunk import TrunkClient

Addr = tuple[str, int]
A, B, C = ("192.0.2.1", 5060), ("192.0.2.2", 5060), ("192.0.2.3", 5070)


class Locator(SipLocator):
    """The carrier's targets as DNS would order them."""

    def __init__(self, hops: list[Addr]) -> None:
        super().__init__()
        self.hops = hops

    async def locate(self, hostport: str, transport: str = "udp") -> list[Addr]:
        return list(self.hops)


class Transport:
    """Answers each REGISTER by where it was sent: a status, or None for no answer at all
    (the transaction times out, as Timer F or a refused TCP connect would end it)."""

    port = 5060

    def __init__(self, answers: dict[Addr, int | None]) -> None:
        self.answers = answers
        self.sent: list[Addr] = []

    def send_request(self, request: SipRequest, addr: Addr, transport: str = "udp") -> ClientTransaction:
        self.sent.append(addr)
        txn = ClientTransaction(request, addr, transport, (request.via.branch, "REGISTER"), "trying")
        status = self.answers[addr]
        event: TransactionTimeout | ResponseReceived = TransactionTimeout(txn)
        if status is not None:
            event = ResponseReceived(txn, build_response(request, status))
        asyncio.get_running_loop().call_soon(lambda: txn.user_data(event))
        return txn


def client(answers: dict[Addr, int | None]) -> tuple[TrunkClient, Transport]:
    transport = Transport(answers)
    conf = {"registrar": "carrier.example", "username": "3726000000", "password": "pw-123456"}
    trunk = TrunkClient(
        conf,
        transport=transport,
        contact_host=lambda peer: "198.51.100.7",
        label="test",
        on_status=lambda *_: None,
        locator=Locator(list(answers)),
    )
    return trunk, transport


async def test_no_answer_and_503_move_on_and_calls_follow_the_target_that_answered() -> None:
    trunk, transport = client({A: None, B: 503, C: 200})
    assert await trunk.register_once(300) == 300
    assert transport.sent == [A, B, C]
    assert await trunk.next_hop() == C  # the INVITE goes where the REGISTER was taken
    assert await trunk.register_once(300) == 300
    assert transport.sent[3:] == [C]  # the refresh starts with it too
    assert set(trunk.addresses) == {A, B, C}  # every target is the carrier's, for inbound calls


async def test_a_refusal_other_than_503_stays_with_that_target() -> None:
    trunk, transport = client({A: 403, B: 200})
    with pytest.raises(RuntimeError, match="403"):
        await trunk.register_once(300)
    assert transport.sent == [A]


async def test_when_every_target_fails_the_last_ones_failure_is_the_registrations() -> None:
    trunk, transport = client({A: 503, B: None})
    with pytest.raises(OSError, match=r"no answer from 192\.0\.2\.2"):
        await trunk.register_once(300)
    assert transport.sent == [A, B]


async def test_an_invite_falls_back_through_the_targets_once_each() -> None:
    trunk, _ = client({A: 200, B: 200, C: 200})
    await trunk.refresh_addresses()
    assert trunk.fallback_hop(A) == B and trunk.fallback_hop(B) == C
    assert trunk.fallback_hop(C) is None  # the last one: the call fails with its answer
    assert trunk.fallback_hop(("203.0.113.9", 5060)) is None
