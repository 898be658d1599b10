"""A carrier that speaks SIP over TLS and SDES-keyed SRTP: the far end of the TLS tests.

This build's sipp has no TLS or SRTP, so the carrier is a small peer of its own: a real
TLS server (Python's ``ssl``, a certificate from :mod:`harness.certs`) that answers
REGISTER, places an INVITE to the registered Contact over the same connection (what
carriers do with TLS clients: the connection is reused, RFC 5923 / 5626) and answers
Salvesti's INVITEs; its media is real SRTP (pylibsrtp) on a UDP socket.  Every datagram it
receives is kept as it came off the wire, so a test can show that what Salvesti sent the
carrier was not clear RTP, and also decrypted, to hear what the carrier heard.

It runs an event loop in a thread; the test thread calls in with blocking methods.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import socket
import ssl
import struct
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TypeVar

import pylibsrtp
from harness.certs import Issued
from harness.ports import PORTS

T = TypeVar("T")
SUITE = "AES_CM_128_HMAC_SHA1_80"
_CRYPTO = re.compile(r"a=crypto:(\d+) (\S+) inline:([A-Za-z0-9+/=]+)")


@dataclass
class Message:
    start: str
    headers: list[tuple[str, str]]
    body: bytes

    def get(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name.lower()), "")

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


@dataclass
class Media:
    """One call's SRTP: the raw datagrams received and their decrypted payloads."""

    wire: list[bytes] = field(default_factory=list)
    clear: list[bytes] = field(default_factory=list)
    failed: int = 0
    sent: int = 0


def _policy(key: bytes, kind: int) -> pylibsrtp.Policy:
    profile = pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80
    return pylibsrtp.Policy(key=key, ssrc_type=kind, srtp_profile=profile)


class TlsCarrier:
    """The carrier's registrar and proxy on ``127.0.0.1:port`` over TLS."""

    def __init__(self, name: str, cert: Issued, *, audio_ulaw: bytes, expires: int = 300) -> None:
        self.name = name
        self.expires = expires
        self.port = PORTS.port()
        self.rtp_port = PORTS.block(2)[0]
        self.audio = audio_ulaw
        self._cert = cert
        self._log: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self._writer: asyncio.StreamWriter | None = None
        self._contact: str | None = None
        self._waiting: dict[str, asyncio.Queue[Message]] = {}
        self.registers = 0
        self.handshake_errors: list[str] = []
        self.invites: list[Message] = []
        self._server: asyncio.Server | None = None
        #: The media of the last call Salvesti placed through us, once it hung up.
        self.answered: Media | None = None
        #: The media of the call in progress (its lists grow as packets arrive).
        self.current: Media | None = None
        self.connections = 0

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> TlsCarrier:
        self._thread.start()
        self._run(self._listen())
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    def drop(self) -> None:
        """Close the connection Salvesti opened, as a carrier's restart or idle timeout would."""
        writer = self._writer
        assert writer is not None, "Salvesti never connected"
        self._loop.call_soon_threadsafe(writer.close)

    def logs(self) -> str:
        return "\n".join(self._log[-200:])

    def _run(self, coro: Coroutine[None, None, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _listen(self) -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self._cert.cert, self._cert.key)
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, ssl=ctx)

    # -- SIP ------------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self.connections += 1
        buf = b""
        try:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    return
                buf += chunk
                while True:
                    buf = buf.lstrip(b"\r\n")  # CRLF keep-alives
                    msg, buf = _take(buf)
                    if msg is None:
                        break
                    self._log.append(msg.start)
                    await self._handle(msg)
        except (ConnectionError, ssl.SSLError) as err:
            self.handshake_errors.append(str(err))

    def _send(self, text: str, body: bytes = b"") -> None:
        assert self._writer is not None, "Salvesti never connected"
        self._log.append("> " + text.split("\r\n", 1)[0])
        self._writer.write(text.encode() + body)

    async def _handle(self, msg: Message) -> None:
        if msg.start.startswith("SIP/2.0"):
            queue = self._waiting.get(msg.get("Call-ID"))
            if queue is not None:
                queue.put_nowait(msg)
            return
        method = msg.start.split()[0]
        if method == "REGISTER":
            self.registers += 1
            self._contact = re.search(r"<([^>]+)>", msg.get("Contact")).group(1)  # type: ignore[union-attr]
            self._reply(msg, "200 OK", [f"Contact: <{self._contact}>;expires={self.expires}"])
        elif method == "INVITE":
            self.invites.append(msg)
            self._loop.create_task(self._answer(msg))
        elif method == "ACK":
            return
        else:  # BYE, OPTIONS
            self._reply(msg, "200 OK")
            queue = self._waiting.get(msg.get("Call-ID"))
            if queue is not None:
                queue.put_nowait(msg)

    def _reply(self, req: Message, status: str, extra: list[str] | None = None, body: bytes = b"") -> None:
        lines = [f"SIP/2.0 {status}"] + [f"Via: {v}" for v in req.all("Via")]
        to = req.get("To")
        lines += [f"From: {req.get('From')}", f"To: {to if 'tag=' in to else to + ';tag=carrier1'}"]
        lines += [f"Call-ID: {req.get('Call-ID')}", f"CSeq: {req.get('CSeq')}", *(extra or [])]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body)}")
        self._send("\r\n".join(lines) + "\r\n\r\n", body)

    def _sdp(self, key: bytes, tag: int = 1, *, srtp: bool = True) -> bytes:
        crypto = f"a=crypto:{tag} {SUITE} inline:{base64.b64encode(key).decode()}\r\n" if srtp else ""
        return (
            "v=0\r\no=carrier 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {self.rtp_port} RTP/{'SAVP' if srtp else 'AVP'} 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
            f"a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n{crypto}"
        ).encode()

    # -- calls ------------------------------------------------------------------------------
    def wait_registered(self, timeout: float = 10) -> str:
        deadline = time.monotonic() + timeout
        while self._contact is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self._contact is not None, f"Salvesti never registered over TLS:\n{self.logs()}"
        return self._contact

    def call(
        self, line: str, caller: str, *, talk_s: float, srtp: bool = True
    ) -> tuple[Message, Media | None]:
        """Call ``line`` from ``caller`` on the registered connection; talk, then hang up.

        ``srtp`` False offers plain RTP/AVP.  A refusal is ACKed and returned without media.
        """
        return self._run(self._call(line, caller, talk_s, srtp), timeout=talk_s + 60)

    async def _call(self, line: str, caller: str, talk_s: float, srtp: bool) -> tuple[Message, Media | None]:
        call_id = f"tls-{os.urandom(6).hex()}"
        queue = self._waiting[call_id] = asyncio.Queue()
        key = os.urandom(30)
        sdp = self._sdp(key, srtp=srtp)
        branch = f"z9hG4bK{os.urandom(6).hex()}"
        head = [
            f"INVITE {self._contact} SIP/2.0",
            f"Via: SIP/2.0/TLS 127.0.0.1:{self.port};branch={branch}",
            "Max-Forwards: 70",
            f"From: <sip:{caller}@carrier.test>;tag=c{os.urandom(3).hex()}",
            f"To: <sip:{line}@carrier.test>",
            f"Call-ID: {call_id}",
            "CSeq: 1 INVITE",
            f"Contact: <sip:{caller}@127.0.0.1:{self.port};transport=tls>",
            "Content-Type: application/sdp",
            f"Content-Length: {len(sdp)}",
        ]
        self._send("\r\n".join(head) + "\r\n\r\n", sdp)
        while True:
            resp = await asyncio.wait_for(queue.get(), 60)
            code = int(resp.start.split()[1])
            if code >= 200:
                break
        to = resp.get("To")
        dialog = [f"From: {head[3][6:]}", f"To: {to}", f"Call-ID: {call_id}"]
        self._send(  # a refusal's ACK shares the INVITE's branch (RFC 3261 17.1.1.3)
            f"ACK {self._contact} SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:{self.port};branch={branch}"
            + ("a" if code == 200 else "")
            + "\r\n"
            + "\r\n".join(dialog)
            + "\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
        )
        if code != 200:
            return resp, None
        media = await self._media(key, resp.body, talk_s)
        self._send(
            f"BYE {self._contact} SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:{self.port};branch={branch}b\r\n"
            + "\r\n".join(dialog)
            + "\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
        )
        await asyncio.wait_for(queue.get(), 10)
        return resp, media

    async def _answer(self, invite: Message) -> None:
        """Salvesti calls out through us: answer with SRTP, talk until its BYE."""
        call_id = invite.get("Call-ID")
        queue = self._waiting[call_id] = asyncio.Queue()
        key = os.urandom(30)
        offered = _CRYPTO.search(invite.body.decode())
        if offered is None or b"RTP/SAVP" not in invite.body:
            self._reply(invite, "488 Not Acceptable Here")
            return
        contact = f"Contact: <sip:carrier@127.0.0.1:{self.port};transport=tls>"
        self._reply(invite, "200 OK", [contact], self._sdp(key, int(offered.group(1))))
        self.answered = await self._media(key, invite.body, None, until=queue)

    async def _media(
        self, key: bytes, remote_sdp: bytes, talk_s: float | None, until: asyncio.Queue[Message] | None = None
    ) -> Media:
        text = remote_sdp.decode()
        crypto = _CRYPTO.search(text)
        assert crypto is not None and "RTP/SAVP" in text, f"Salvesti's SDP has no SRTP:\n{text}"
        remote_key = base64.b64decode(crypto.group(3))
        port = int(re.search(r"m=audio (\d+)", text).group(1))  # type: ignore[union-attr]
        out = pylibsrtp.Session(_policy(key, pylibsrtp.Policy.SSRC_ANY_OUTBOUND))
        inn = pylibsrtp.Session(_policy(remote_key, pylibsrtp.Policy.SSRC_ANY_INBOUND))
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", self.rtp_port))
        sock.setblocking(False)
        media = self.current = Media()

        def readable() -> None:
            while True:
                try:
                    data = sock.recv(2048)
                except BlockingIOError:
                    return
                if len(data) >= 2 and 200 <= data[1] <= 204:
                    continue  # SRTCP
                media.wire.append(data)
                try:
                    media.clear.append(inn.unprotect(data)[12:])
                except pylibsrtp.Error:
                    media.failed += 1

        self._loop.add_reader(sock.fileno(), readable)
        ssrc, seq, ts = struct.unpack("!IHI", os.urandom(10))
        start = self._loop.time()
        frames = len(self.audio) // 160 if talk_s is None else int(talk_s / 0.02)
        try:
            for i in range(frames):
                if until is not None and not until.empty():
                    break
                chunk = self.audio[(i * 160) % len(self.audio) :][:160].ljust(160, b"\xff")
                packet = struct.pack("!BBHII", 0x80, 0, (seq + i) & 0xFFFF, (ts + 160 * i) & 0xFFFFFFFF, ssrc)
                sock.sendto(out.protect(packet + chunk), ("127.0.0.1", port))
                media.sent += 1
                await asyncio.sleep(max(start + (i + 1) * 0.02 - self._loop.time(), 0))
            if until is not None:
                await asyncio.wait_for(until.get(), 60)
        finally:
            self._loop.remove_reader(sock.fileno())
            sock.close()
        return media


def _take(buf: bytes) -> tuple[Message | None, bytes]:
    """One whole SIP message off the front of a TLS byte stream (Content-Length framed)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None, buf
    lines = buf[:end].decode("utf-8", "replace").split("\r\n")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    length = next((int(v) for k, v in headers if k.lower() in ("content-length", "l")), 0)
    if len(buf) < end + 4 + length:
        return None, buf
    body = buf[end + 4 : end + 4 + length]
    return Message(lines[0], headers, body), buf[end + 4 + length :]
