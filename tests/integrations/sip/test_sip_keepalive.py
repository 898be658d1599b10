"""NAT keep-alive toward the carrier: the schedule on a fake clock, and on the wire a
plain UDP socket as the carrier that sees the pings and teaches us our public address."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sip_lab import LINE, PORTS, Lab

from salvesti.core.protocols.sip.message import SipRequest, parse_message
from salvesti.integrations.sip.keepalive import KeepAlive


class FakeClock:
    """``sleep`` advances ``now`` at once; after ``stop_after`` sleeps the task is cancelled."""

    def __init__(self, stop_after: int) -> None:
        self.now = 0.0
        self.stop_after = stop_after
        self.sleeps: list[float] = []

    async def sleep(self, delay: float) -> None:
        if len(self.sleeps) == self.stop_after:
            raise asyncio.CancelledError
        self.sleeps.append(delay)
        self.now += delay


class FakeClient:
    label, name, sip_transport = "sip_trunk(t)", "trunk", "udp"

    def __init__(self, clock: FakeClock, registered_at: float) -> None:
        self.clock = clock
        self.registered_at = registered_at
        self.transport = self
        self.pings: list[tuple[float, Any]] = []

    def keepalive_wanted(self) -> bool:
        return self.clock.now >= self.registered_at

    async def next_hop(self) -> tuple[str, int]:
        return ("203.0.113.9", 5060)

    def keepalive_uris(self, hop: tuple[str, int]) -> tuple[str, str, tuple[str, int]]:
        return "sip:carrier.example", "sip:3726000000@carrier.example", ("192.168.1.20", 5060)

    # the transport's side
    def send_raw(self, data: bytes, addr: tuple[str, int], transport: str) -> None:
        self.pings.append((self.clock.now, data))

    def send_request(self, request: SipRequest, addr: tuple[str, int], transport: str) -> None:
        self.pings.append((self.clock.now, request.method))


@pytest.mark.parametrize(("method", "sent"), [("crlf", b"\r\n\r\n"), ("options", "OPTIONS")])
async def test_pings_every_interval_once_registered(method: str, sent: object) -> None:
    clock = FakeClock(stop_after=6)
    client = FakeClient(clock, registered_at=50)
    keepalive = KeepAlive(client, 25, method, sleep=clock.sleep)
    with pytest.raises(asyncio.CancelledError):
        await keepalive.run()
    assert clock.sleeps == [25] * 6
    assert client.pings == [(50, sent), (75, sent), (100, sent), (125, sent), (150, sent)]


def test_an_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="keepalive_method"):
        KeepAlive(FakeClient(FakeClock(0), 0), 25, "stun")


class Carrier(asyncio.DatagramProtocol):
    """A registrar behind which we appear NATed: every 200 says our REGISTER came from
    ``PUBLIC`` (received/rport in the Via, as RFC 3581 has it)."""

    PUBLIC = ("192.0.2.7", 40001)

    def __init__(self) -> None:
        self.registers: list[SipRequest] = []
        self.pings: list[bytes] = []
        self.options: list[SipRequest] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if data.strip(b"\r\n") == b"":
            self.pings.append(data)
            return
        msg = parse_message(data)
        assert isinstance(msg, SipRequest)
        if msg.method == "REGISTER":
            self.registers.append(msg)
        elif msg.method == "OPTIONS":
            self.options.append(msg)
        via = msg.headers.get_all("Via")[0].replace(";rport", ";rport={1};received={0}".format(*self.PUBLIC))
        head = ["SIP/2.0 200 OK", f"Via: {via}"]
        for name in ("From", "To", "Call-ID", "CSeq"):
            value = msg.headers.get(name) or ""
            head.append(f"{name}: {value};tag=c1" if name == "To" else f"{name}: {value}")
        if msg.method == "REGISTER":
            head.append(f"Contact: {msg.headers.get('Contact')};expires=300")
        assert self.transport is not None
        self.transport.sendto(("\r\n".join([*head, "Content-Length: 0", "", ""])).encode(), addr)


@pytest.mark.parametrize("method", ["crlf", "options"])
async def test_keepalive_and_the_public_contact_on_the_wire(lab: Lab, method: str) -> None:
    loop = asyncio.get_running_loop()
    carrier_port = PORTS.port()
    transport, carrier = await loop.create_datagram_endpoint(Carrier, local_addr=("127.0.0.1", carrier_port))
    try:
        await lab.start_hub(
            {
                "trunk": {
                    "registrar": f"127.0.0.1:{carrier_port}",
                    "username": "3726000000",
                    "password": "tp",
                    "keepalive": 0.2,  # short so the test is quick; the default is 25 s
                    "keepalive_method": method,
                },
                "lines": [LINE],
            }
        )
        # The first REGISTER offers our own address; its answer says where the NAT put
        # us, so a second REGISTER follows at once with that public Contact.
        await lab.wait_for(lambda: len(carrier.registers) >= 2, 10, "the REGISTER with the public Contact")
        first, second = (r.headers.get("Contact") or "" for r in carrier.registers[:2])
        assert f"127.0.0.1:{lab.sip_port}" in first
        assert "<sip:3726000000@192.0.2.7:40001>" == second
        assert all("rport" in r.via.params for r in carrier.registers)
        assert lab.source.trunk.public == Carrier.PUBLIC
        if method == "crlf":
            await lab.wait_for(lambda: len(carrier.pings) >= 2, 10, "two CRLF keep-alives")
            assert set(carrier.pings) == {b"\r\n\r\n"} and not carrier.options
        else:
            await lab.wait_for(lambda: len(carrier.options) >= 2, 10, "two OPTIONS keep-alives")
            assert not carrier.pings
            assert carrier.options[0].uri == f"sip:127.0.0.1:{carrier_port}"
        assert len(carrier.registers) == 2  # no registration storm from learning
    finally:
        await lab.close()
        transport.close()
