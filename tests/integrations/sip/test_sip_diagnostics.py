"""What the sip_trunk source tells the diagnostics page, on the wire: a UDP socket as the
carrier (accepting with the public address it sees us at, or refusing with 403), and a
phone registering over UDP with digest and its own User-Agent."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sip_lab import EXT, LINE, PORTS, Lab

from salvesti.core.diagnostics import DiagnosticsSource
from salvesti.core.protocols.sip.digest import authorization_for
from salvesti.core.protocols.sip.message import SipRequest, SipResponse, parse_message


class Carrier(asyncio.DatagramProtocol):
    """Answers every REGISTER with ``status``; a 200 says we came from ``PUBLIC`` (rport)."""

    PUBLIC = ("192.0.2.7", 40001)

    def __init__(self, status: str) -> None:
        self.status = status
        self.registers: list[SipRequest] = []
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if not data.strip():
            return
        msg = parse_message(data)
        if not isinstance(msg, SipRequest) or msg.method != "REGISTER":
            return
        self.registers.append(msg)
        via = msg.headers.get_all("Via")[0].replace(";rport", ";rport={1};received={0}".format(*self.PUBLIC))
        head = [f"SIP/2.0 {self.status}", f"Via: {via}"]
        for name in ("From", "To", "Call-ID", "CSeq"):
            value = msg.headers.get(name) or ""
            head.append(f"{name}: {value};tag=c1" if name == "To" else f"{name}: {value}")
        if self.status.startswith("200"):
            head.append(f"Contact: {msg.headers.get('Contact')};expires=120")
        self.transport.sendto("\r\n".join([*head, "Content-Length: 0", "", ""]).encode(), addr)


class Phone(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.answers: asyncio.Queue[SipResponse] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        msg = parse_message(data)
        if isinstance(msg, SipResponse):
            self.answers.put_nowait(msg)


async def register_phone(sip_port: int, user: str, agent: str) -> tuple[int, int]:
    """REGISTER ``user`` from a UDP socket with digest; returns (status, our port)."""
    loop = asyncio.get_running_loop()
    transport, phone = await loop.create_datagram_endpoint(Phone, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    uri = f"sip:127.0.0.1:{sip_port}"

    def register(cseq: int, auth: str | None) -> bytes:
        lines = [
            f"REGISTER {uri} SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKd{cseq};rport",
            f"From: <sip:{user}@127.0.0.1>;tag=ph1",
            f"To: <sip:{user}@127.0.0.1>",
            "Call-ID: diag-phone@127.0.0.1",
            f"CSeq: {cseq} REGISTER",
            f"Contact: <sip:{user}@127.0.0.1:{port}>",
            f"User-Agent: {agent}",
            "Expires: 300",
            "Max-Forwards: 70",
            *([f"Authorization: {auth}"] if auth else []),
            "Content-Length: 0",
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    try:
        transport.sendto(register(1, None), ("127.0.0.1", sip_port))
        challenge = await asyncio.wait_for(phone.answers.get(), 5)
        assert challenge.status == 401
        auth = authorization_for(
            challenge.headers.get_all("WWW-Authenticate")[0],
            method="REGISTER",
            uri=uri,
            username=user,
            password=EXT[user],
        )
        transport.sendto(register(2, auth), ("127.0.0.1", sip_port))
        answer = await asyncio.wait_for(phone.answers.get(), 5)
        return answer.status, port
    finally:
        transport.close()


async def start_with_carrier(lab: Lab, status: str) -> Carrier:
    loop = asyncio.get_running_loop()
    carrier_port = PORTS.port()
    _, carrier = await loop.create_datagram_endpoint(
        lambda: Carrier(status), local_addr=("127.0.0.1", carrier_port)
    )
    await lab.start_hub(
        {
            "trunk": {
                "registrar": f"127.0.0.1:{carrier_port}",
                "username": "3726000000",
                "password": "tp",
            },
            "lines": [LINE],
        }
    )
    return carrier


async def test_registered_trunk_public_address_and_a_phone_with_its_user_agent(lab: Lab) -> None:
    carrier = await start_with_carrier(lab, "200 OK")
    try:
        source = lab.source
        assert isinstance(source, DiagnosticsSource)
        await lab.wait_for(lambda: source.trunk.status == "registered", 10, "the trunk registered")
        before = time.time()
        status, phone_port = await register_phone(lab.sip_port, "101", "Yealink SIP-T46S 66.86.0.15")
        assert status == 200

        facts = source.diagnostics()
        assert facts.source == "telia" and facts.platform == "sip_trunk"
        assert facts.extra["listen"] == f"127.0.0.1:{lab.sip_port}"  # what a phone is set to
        (reg,) = facts.registrations
        assert (reg.name, reg.key, reg.status, reg.reason) == ("trunk", "trunk", "registered", None)
        assert (reg.last_status, reg.last_reason, reg.answered_latest) == (200, "OK", True)
        assert reg.public == Carrier.PUBLIC and reg.local == "127.0.0.1" and reg.external is None
        assert reg.registered_at is not None and reg.expires_at is not None
        assert (reg.expires_at - reg.registered_at).total_seconds() == 120
        assert reg.registered_at.timestamp() <= before + 1

        by_user = {e.user: e for e in facts.extensions}
        assert set(by_user) == {"101", "102"}
        assert not by_user["102"].registered
        (contact,) = by_user["101"].contacts
        assert contact.address == ("127.0.0.1", phone_port)
        assert contact.transport == "udp"
        assert contact.user_agent == "Yealink SIP-T46S 66.86.0.15"
        assert contact.expires_at is not None
        assert 290 <= (contact.expires_at - lab.hub.now()).total_seconds() <= 300

        assert facts.media is not None and facts.media.in_use == 0
        assert facts.media.capacity == 20  # rtp_ports: a block of 40 ports from the lab
    finally:
        await lab.close()
        carrier.transport.close()


async def test_a_refused_registration_keeps_the_carriers_answer(lab: Lab) -> None:
    carrier = await start_with_carrier(lab, "403 Forbidden")
    try:
        source = lab.source
        await lab.wait_for(lambda: source.trunk.status == "failed", 10, "the trunk refused")
        (reg,) = source.diagnostics().registrations
        assert (reg.status, reg.reason) == ("failed", "403 Forbidden")
        assert (reg.last_status, reg.last_reason, reg.answered_latest) == (403, "Forbidden", True)
        assert reg.registered_at is None and reg.expires_at is None
        assert reg.last_answer_at is not None
    finally:
        await lab.close()
        carrier.transport.close()
