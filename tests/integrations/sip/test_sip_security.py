"""Phones that fail to authenticate, TCP phones, a trunk that is not there, a busy phone.

The small phone here is a real UDP socket speaking SIP built with the project's own
message code, so a test can do what sipp and baresip cannot (answer 486, send bad digests).
"""

from __future__ import annotations

import asyncio
import time

from sip_lab import EXT, LINE, PORTS, Lab

from salvesti.core.protocols.sip.digest import authorization_for
from salvesti.core.protocols.sip.message import SipRequest, SipResponse, build_response, parse_message


class MiniPhone(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.inbox: asyncio.Queue[SipRequest | SipResponse] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None
        self.port = 0

    async def open(self) -> MiniPhone:
        loop = asyncio.get_running_loop()
        self.transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=("127.0.0.1", 0))
        self.port = self.transport.get_extra_info("sockname")[1]
        return self

    def datagram_received(self, data: bytes, addr: object) -> None:
        self.inbox.put_nowait(parse_message(data))

    def send(self, data: bytes, port: int) -> None:
        assert self.transport is not None
        self.transport.sendto(data, ("127.0.0.1", port))

    async def recv(self, within: float = 2.0) -> SipRequest | SipResponse | None:
        try:
            async with asyncio.timeout(within):
                return await self.inbox.get()
        except TimeoutError:
            return None

    def register(self, port: int, user: str, cseq: int, auth: str | None = None) -> bytes:
        lines = [
            f"REGISTER sip:127.0.0.1:{port} SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bKreg{cseq}",
            f"From: <sip:{user}@127.0.0.1>;tag=t{user}",
            f"To: <sip:{user}@127.0.0.1>",
            f"Call-ID: reg-{user}-{self.port}",
            f"CSeq: {cseq} REGISTER",
            f"Contact: <sip:{user}@127.0.0.1:{self.port}>",
            "Expires: 300",
            "Max-Forwards: 70",
        ]
        if auth:
            lines.append(f"Authorization: {auth}")
        return ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()

    async def login(self, port: int, user: str, password: str, cseq: int = 1) -> SipResponse:
        self.send(self.register(port, user, cseq), port)
        challenge = await self.recv()
        assert isinstance(challenge, SipResponse) and challenge.status == 401
        auth = authorization_for(
            challenge.headers.get("WWW-Authenticate") or "",
            method="REGISTER",
            uri=f"sip:127.0.0.1:{port}",
            username=user,
            password=password,
        )
        self.send(self.register(port, user, cseq + 1, auth), port)
        answer = await self.recv()
        assert isinstance(answer, SipResponse), answer
        return answer

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def test_unknown_user_and_wrong_password_look_alike_then_lockout(lab: Lab) -> None:
    await lab.start_hub({"security": {"max_failures": 3, "window": 60, "lockout": 60}})
    phone = await MiniPhone().open()
    try:
        wrong = await phone.login(lab.sip_port, "101", "nope", cseq=1)
        unknown = await phone.login(lab.sip_port, "999", "nope", cseq=3)
        assert (wrong.status, wrong.reason) == (unknown.status, unknown.reason) == (401, "Unauthorized")
        assert len(wrong.headers.get_all("WWW-Authenticate")) == len(
            unknown.headers.get_all("WWW-Authenticate")
        )
        phone.send(
            phone.register(
                lab.sip_port,
                "101",
                5,
                'Digest username="101", realm="x", nonce="n", uri="sip:x", response="0"',
            ),
            lab.sip_port,
        )
        assert await phone.recv(1.0) is None, "the third failure locks the address out: no answer"
        phone.send(phone.register(lab.sip_port, "101", 6), lab.sip_port)
        assert await phone.recv(0.5) is None
        assert not lab.source.registrar.registered(time.monotonic())
    finally:
        phone.close()


async def test_register_over_tcp(lab: Lab) -> None:
    await lab.start_hub({})
    phone = lab.sipp(
        "tcp",
        "phone_register.xml",
        f"127.0.0.1:{lab.sip_port}",
        "-t",
        "t1",
        "-s",
        "102",
        "-au",
        "102",
        "-ap",
        EXT["102"],
        "-m",
        "1",
    )
    await phone.start()
    assert await phone.wait(20) == 0, lab.logs()
    bindings = lab.source.registrar.bindings_for("102", time.monotonic())
    assert [b.transport for b in bindings] == ["tcp"]


async def test_unreachable_trunk_is_retried_and_phones_keep_working(lab: Lab) -> None:
    dead = PORTS.port()
    await lab.start_hub(
        {
            "trunk": {"registrar": f"127.0.0.1:{dead}", "username": "3726000000", "password": "x"},
            "lines": [LINE],
        }
    )
    assert [s["state"] for s in lab.hub.status() if s["kind"] == "source"] == ["loaded"]
    phone = await MiniPhone().open()
    try:
        answer = await phone.login(lab.sip_port, "101", EXT["101"])
        assert answer.status == 200
    finally:
        phone.close()
    assert lab.source.trunk.status in ("not_registered", "failed")


async def test_inbound_call_to_a_busy_phone(lab: Lab) -> None:
    carrier_port = PORTS.port()
    await lab.start_hub(
        {
            "trunk": {
                "registrar": f"127.0.0.1:{carrier_port}",
                "username": "3726000000",
                "password": "x",
                "register": False,
            },
            "lines": [LINE],
            "inbound": {LINE: ["101"]},
        }
    )
    phone = await MiniPhone().open()
    try:
        assert (await phone.login(lab.sip_port, "101", EXT["101"])).status == 200
        carrier = lab.sipp(
            "carrier",
            "provider_uac.xml",
            f"127.0.0.1:{lab.sip_port}",
            "-m",
            "1",
            port=carrier_port,
            LINE=LINE,
            CALLER="+3725551234",
            TALK_MS=10000,
        )
        await carrier.start()
        invite = None
        for _ in range(20):
            msg = await phone.recv(3.0)
            if isinstance(msg, SipRequest) and msg.method == "INVITE":
                invite = msg
                break
        assert invite is not None, lab.logs()
        phone.send(build_response(invite, 486, to_tag="busy1").to_bytes(), lab.sip_port)
        assert await carrier.wait(20) == 0, lab.logs()
    finally:
        phone.close()
    await lab.wait_for(lambda: lab.ended, 10, "call_ended")
    call = lab.ended[0]
    assert call["disposition"] == "busy" and call["notice"]["complete"]


async def test_trunk_keepalive_holds_the_nat_mapping_open(lab: Lab) -> None:
    carrier = await MiniPhone().open()
    got: list[bytes] = []
    carrier.datagram_received = lambda data, addr: got.append(data)  # type: ignore[method-assign]
    try:
        trunk = {
            "registrar": f"127.0.0.1:{carrier.port}",
            "username": "3726000000",
            "password": "x",
            "register": False,
            "keepalive": 0.2,
        }
        await lab.start_hub({"trunk": trunk, "lines": [LINE]})
        await lab.wait_for(lambda: len(got) >= 2, 5, "two keep-alives")
        assert set(got) == {b"\r\n\r\n"}
    finally:
        carrier.close()


def _invite(phone: MiniPhone, port: int, cseq: int, auth: str | None = None) -> bytes:
    lines = [
        f"INVITE sip:5551234@127.0.0.1:{port} SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:{phone.port};branch=z9hG4bKinv{cseq}",
        "From: <sip:101@127.0.0.1>;tag=g729",
        "To: <sip:5551234@127.0.0.1>",
        f"Call-ID: g729-{phone.port}",
        f"CSeq: {cseq} INVITE",
        f"Contact: <sip:101@127.0.0.1:{phone.port}>",
        "Max-Forwards: 70",
        "Content-Type: application/sdp",
    ]
    if auth:
        lines.append(f"Proxy-Authorization: {auth}")
    sdp = (
        "v=0\r\no=p 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        "m=audio 40000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n"
    )
    return ("\r\n".join(lines) + f"\r\nContent-Length: {len(sdp)}\r\n\r\n" + sdp).encode()


async def test_no_common_codec_is_488_and_unknown_dialog_is_481(lab: Lab) -> None:
    carrier_port = PORTS.port()
    await lab.start_hub(
        {
            "trunk": {
                "registrar": f"127.0.0.1:{carrier_port}",
                "username": "3726000000",
                "password": "x",
                "register": False,
            },
            "lines": [LINE],
        }
    )
    phone = await MiniPhone().open()
    try:
        phone.send(_invite(phone, lab.sip_port, 1), lab.sip_port)
        challenge = None
        for _ in range(3):
            msg = await phone.recv()
            if isinstance(msg, SipResponse) and msg.status == 407:
                challenge = msg
                break
        assert challenge is not None
        auth = authorization_for(
            challenge.headers.get("Proxy-Authenticate") or "",
            method="INVITE",
            uri=f"sip:5551234@127.0.0.1:{lab.sip_port}",
            username="101",
            password=EXT["101"],
        )
        phone.send(_invite(phone, lab.sip_port, 2, auth), lab.sip_port)
        statuses = []
        for _ in range(3):
            msg = await phone.recv()
            if isinstance(msg, SipResponse):
                statuses.append(msg.status)
                if msg.status >= 200:
                    break
        assert statuses[-1] == 488, statuses
        bye = (
            f"BYE sip:x@127.0.0.1:{lab.sip_port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{phone.port};branch=z9hG4bKbye1\r\n"
            "From: <sip:101@127.0.0.1>;tag=a\r\nTo: <sip:x@127.0.0.1>;tag=nosuchdialog\r\n"
            "Call-ID: nosuchcall\r\nCSeq: 5 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        phone.send(bye.encode(), lab.sip_port)
        answer = await phone.recv()
        assert isinstance(answer, SipResponse) and answer.status == 481
    finally:
        phone.close()
    await lab.wait_for(lambda: lab.ended, 5, "call_ended")
    assert lab.ended[0]["disposition"] == "failed"


async def test_sha256_and_md5_challenges_but_md5_only_for_libre_phones(lab: Lab) -> None:
    await lab.start_hub({})
    phone = await MiniPhone().open()
    try:
        phone.send(phone.register(lab.sip_port, "101", 1), lab.sip_port)
        answer = await phone.recv()
        assert isinstance(answer, SipResponse)
        algorithms = [
            h.split("algorithm=")[1].split(",")[0] for h in answer.headers.get_all("WWW-Authenticate")
        ]
        assert algorithms == ["MD5", "SHA-256"], "MD5 first: many phones read only the first"
        request = phone.register(lab.sip_port, "101", 2).replace(
            b"Max-Forwards", b"User-Agent: baresip v1.0.0 (x86_64/linux)\r\nMax-Forwards"
        )
        phone.send(request, lab.sip_port)
        answer = await phone.recv()
        assert isinstance(answer, SipResponse)
        assert [
            h.split("algorithm=")[1].split(",")[0] for h in answer.headers.get_all("WWW-Authenticate")
        ] == ["MD5"]
    finally:
        phone.close()
