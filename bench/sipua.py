"""The benchmark's own minimal SIP endpoints (asyncio, UDP): office phones and the carrier.

Why not sipp: sipp's ``play_pcap_audio`` sends through raw sockets, which makes every
packet the system under test sends cost O(calls) in the kernel (see
shared/research/benchmarking.md).  Here each far end is an ordinary UDP socket bound to the
port it advertises in SDP, and SIP is just enough for the calls the bench makes:

* ``Phone``: REGISTER and INVITE with digest (MD5, qop=auth), ACK, BYE, answers stray requests.
* ``Carrier``: registrar (200 to REGISTER), OPTIONS, answers INVITEs with 200 + SDP, re-INVITE,
  BYE, CANCEL.  One socket for every call, like a carrier's proxy.

Not a SIP stack: retransmission is a fixed 0.5 s resend of requests until any final
response, which is all a loopback benchmark needs.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sipmsg import Msg, digest_header, md5_challenge, response, sdp, sdp_media

_ids = itertools.count(1)


class _Endpoint(asyncio.DatagramProtocol):
    def __init__(self, on_msg: Callable[[Msg, tuple[str, int]], None]) -> None:
        self.on_msg = on_msg
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        msg = Msg.parse(data)
        if msg is not None:
            self.on_msg(msg, addr)


@dataclass
class Phone:
    """One office phone (extension) with its own SIP socket; places one call at a time."""

    user: str
    password: str
    server: tuple[str, int]
    sip: _Endpoint | None = None
    port: int = 0
    _waiters: dict[tuple[str, int], asyncio.Future[Msg]] = field(default_factory=dict)
    on_request: Callable[[Msg], None] | None = None

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        _, self.sip = await loop.create_datagram_endpoint(
            lambda: _Endpoint(self._received), local_addr=("127.0.0.1", 0)
        )
        self.port = self.sip.transport.get_extra_info("sockname")[1]

    def close(self) -> None:
        if self.sip and self.sip.transport:
            self.sip.transport.close()

    def _received(self, msg: Msg, addr: tuple[str, int]) -> None:
        if msg.is_response:
            fut = self._waiters.get((msg.get("call-id"), msg.cseq))
            if fut and not fut.done() and msg.status >= 200:
                fut.set_result(msg)
            elif fut is None and msg.status == 200 and msg.method == "INVITE":
                self._ack(msg)  # a retransmitted 200: ACK again
            return
        if msg.method != "ACK":
            self.sip.transport.sendto(response(msg, "200 OK"), addr)
        if self.on_request:
            self.on_request(msg)

    async def _request(self, build: Callable[[int], bytes], call_id: str, cseq: int, give_up_s: float) -> Msg:
        fut: asyncio.Future[Msg] = asyncio.get_running_loop().create_future()
        self._waiters[(call_id, cseq)] = fut
        try:
            data = build(cseq)
            for _ in range(int(give_up_s / 0.5) + 1):
                self.sip.transport.sendto(data, self.server)
                try:
                    return await asyncio.wait_for(asyncio.shield(fut), 0.5)
                except TimeoutError:
                    continue
            raise TimeoutError(f"{self.user}: no final response to CSeq {cseq} of {call_id}")
        finally:
            self._waiters.pop((call_id, cseq), None)

    def _headers(self, method: str, uri: str, call_id: str, cseq: int, from_tag: str, to: str) -> list[str]:
        host = f"{self.server[0]}:{self.server[1]}"
        return [
            f"{method} {uri} SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{random.getrandbits(64):x};rport",
            f"From: <sip:{self.user}@{host}>;tag={from_tag}",
            f"To: {to}",
            f"Call-ID: {call_id}",
            f"CSeq: {cseq} {method}",
            f"Contact: <sip:{self.user}@127.0.0.1:{self.port}>",
            "Max-Forwards: 70",
        ]

    async def _authed(
        self, method: str, uri: str, to: str, body: bytes, give_up_s: float
    ) -> tuple[Msg, str, str, int]:
        call_id, tag = f"bench-{next(_ids)}-{random.getrandbits(32):x}", f"{random.getrandbits(32):x}"
        auth: str | None = None
        for cseq in (1, 2):

            def build(n: int, auth: str | None = auth) -> bytes:
                lines = self._headers(method, uri, call_id, n, tag, to)
                if auth:
                    lines.append(auth)
                if body:
                    lines.append("Content-Type: application/sdp")
                lines.append(f"Content-Length: {len(body)}")
                return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

            resp = await self._request(build, call_id, cseq, give_up_s)
            if resp.status in (401, 407) and auth is None:
                if method == "INVITE":
                    self._ack(resp, uri=uri)
                name = "www-authenticate" if resp.status == 401 else "proxy-authenticate"
                hdr = "Authorization" if resp.status == 401 else "Proxy-Authorization"
                value = digest_header(
                    md5_challenge(resp.all(name)),
                    method=method,
                    uri=uri,
                    user=self.user,
                    password=self.password,
                )
                auth = f"{hdr}: {value}"
                continue
            return resp, call_id, tag, cseq
        raise RuntimeError(f"{self.user}: {method} still challenged after credentials")

    async def register(self, give_up_s: float = 10) -> None:
        uri = f"sip:{self.server[0]}:{self.server[1]}"
        resp, *_ = await self._authed(
            "REGISTER", uri, f"<sip:{self.user}@{self.server[0]}:{self.server[1]}>", b"", give_up_s
        )
        if resp.status != 200:
            raise RuntimeError(f"{self.user}: REGISTER answered {resp.first}")

    async def invite(self, number: str, rtp_port: int, give_up_s: float = 20) -> Dialog:
        host = f"{self.server[0]}:{self.server[1]}"
        uri = f"sip:{number}@{host}"
        resp, call_id, tag, cseq = await self._authed(
            "INVITE", uri, f"<{uri}>", sdp(rtp_port, next(_ids)), give_up_s
        )
        if resp.status != 200:
            raise RuntimeError(f"{self.user}: INVITE answered {resp.first}")
        contact = re.search(r"<([^>]+)>", resp.get("contact"))
        target = contact.group(1) if contact else uri
        dialog = Dialog(self, target, call_id, tag, resp.get("to"), cseq, sdp_media(resp.body))
        self._ack(resp, uri=uri)
        return dialog

    def _ack(self, resp: Msg, uri: str | None = None) -> None:
        contact = re.search(r"<([^>]+)>", resp.get("contact"))
        target = contact.group(1) if contact and resp.status == 200 else (uri or "sip:x@127.0.0.1")
        lines = [
            f"ACK {target} SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{random.getrandbits(64):x};rport",
            f"From: {resp.get('from')}",
            f"To: {resp.get('to')}",
            f"Call-ID: {resp.get('call-id')}",
            f"CSeq: {resp.cseq} ACK",
            "Max-Forwards: 70",
            "Content-Length: 0",
        ]
        if resp.status != 200:  # ACK for a non-2xx reuses the INVITE's branch
            lines[1] = f"Via: {resp.all('via')[0]}" if resp.all("via") else lines[1]
        self.sip.transport.sendto(("\r\n".join(lines) + "\r\n\r\n").encode(), self.server)


@dataclass
class Dialog:
    phone: Phone
    uri: str
    call_id: str
    from_tag: str
    to: str
    cseq: int
    remote_media: tuple[str, int] | None

    async def bye(self, give_up_s: float = 10) -> int:
        tag = self.from_tag

        def build(n: int) -> bytes:
            lines = [
                *self.phone._headers("BYE", self.uri, self.call_id, n, tag, self.to),
                "Content-Length: 0",
            ]
            return ("\r\n".join(lines) + "\r\n\r\n").encode()

        resp = await self.phone._request(build, self.call_id, self.cseq + 1, give_up_s)
        return resp.status


class Carrier:
    """The trunk provider: registrar + a callee that answers every INVITE on its own RTP port."""

    def __init__(self) -> None:
        #: Callbacks the bench sets: RTP port for a new INVITE (call id, request), call answered
        #: (ACK, with the offer's media address), call ended (BYE).
        self.allocate_rtp: Callable[[str, Msg], int] = lambda _cid, _msg: 0
        self.on_ack: Callable[[str, tuple[str, int] | None], None] = lambda _cid, _media: None
        self.on_bye: Callable[[str], None] = lambda _cid: None
        self.ep: _Endpoint | None = None
        self.port = 0
        self.registered: str | None = None
        self.offers: dict[str, tuple[str, int] | None] = {}
        self.answers: dict[str, bytes] = {}
        self.invites = 0

    async def open(self, port: int = 0) -> None:
        loop = asyncio.get_running_loop()
        _, self.ep = await loop.create_datagram_endpoint(
            lambda: _Endpoint(self._received), local_addr=("127.0.0.1", port)
        )
        self.port = self.ep.transport.get_extra_info("sockname")[1]

    def close(self) -> None:
        if self.ep and self.ep.transport:
            self.ep.transport.close()

    def _received(self, msg: Msg, addr: tuple[str, int]) -> None:
        if msg.is_response:
            return
        send = self.ep.transport.sendto
        call_id, method = msg.get("call-id"), msg.method
        contact = f"Contact: <sip:carrier@127.0.0.1:{self.port}>"
        if method == "REGISTER":
            self.registered = msg.get("contact")
            send(
                response(
                    msg, "200 OK", to_tag="reg", extra=[f"Contact: {msg.get('contact')}", "Expires: 300"]
                ),
                addr,
            )
        elif method == "INVITE":
            if call_id not in self.answers:
                self.invites += 1
                self.offers[call_id] = sdp_media(msg.body)
                self.answers[call_id] = sdp(self.allocate_rtp(call_id, msg), self.invites)
            else:
                self.offers[call_id] = sdp_media(msg.body) or self.offers.get(call_id)
            send(
                response(
                    msg,
                    "200 OK",
                    to_tag=f"c{abs(hash(call_id)) % 10**8}",
                    extra=[contact],
                    body=self.answers[call_id],
                ),
                addr,
            )
        elif method == "ACK":
            self.on_ack(call_id, self.offers.get(call_id))
        elif method == "BYE":
            send(response(msg, "200 OK"), addr)
            self.on_bye(call_id)
        elif method == "CANCEL":
            send(response(msg, "200 OK"), addr)
        else:
            send(response(msg, "200 OK", to_tag="x"), addr)
