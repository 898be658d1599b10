"""Phones registering with digest, OPTIONS keep-alives and garbage on the SIP port."""

from __future__ import annotations

import asyncio
import socket

from sip_lab import EXT, Lab


def udp_exchange(port: int, data: bytes, timeout: float = 1.0) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.bind(("127.0.0.1", 0))
        s.sendto(data, ("127.0.0.1", port))
        try:
            return s.recv(65535)
        except TimeoutError:
            return None


def options(port: int, branch: str = "z9hG4bKopt1") -> bytes:
    return (
        f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:9;branch={branch}\r\n"
        "From: <sip:probe@127.0.0.1>;tag=p1\r\nTo: <sip:127.0.0.1>\r\n"
        "Call-ID: opt-1@test\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    ).encode()


async def test_register_with_digest_then_wrong_password(lab: Lab) -> None:
    await lab.start_hub({})
    good = lab.sipp(
        "good",
        "phone_register.xml",
        f"127.0.0.1:{lab.sip_port}",
        "-s",
        "101",
        "-au",
        "101",
        "-ap",
        EXT["101"],
        "-m",
        "1",
    )
    await good.start()
    assert await good.wait(20) == 0, lab.logs()
    assert lab.source.registrar.registered(__import__("time").monotonic()) == {"101": 1}
    bad = lab.sipp(
        "bad",
        "phone_register.xml",
        f"127.0.0.1:{lab.sip_port}",
        "-s",
        "102",
        "-au",
        "102",
        "-ap",
        "wrong-password",
        "-m",
        "1",
    )
    await bad.start()
    assert await bad.wait(20) != 0
    msgs = lab.messages("bad")
    assert msgs.count("401 Unauthorized") >= 2, msgs
    assert "102" not in lab.source.registrar.registered(__import__("time").monotonic())


async def test_options_and_garbage_datagrams(lab: Lab) -> None:
    await lab.start_hub({})
    port = lab.sip_port
    loop = asyncio.get_running_loop()
    reply = await loop.run_in_executor(None, udp_exchange, port, options(port))
    assert reply is not None and reply.startswith(b"SIP/2.0 200"), reply
    garbage = [
        b"\x00\xff" * 300,
        b"INVITE sip:x SIP/2.0\r\n\r\n",
        b"NOTSIP",
        b"INVITE sip:101@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKg1\r\n"
        b"From: <sip:a@b>;tag=1\r\nTo: <sip:101@127.0.0.1>\r\nCall-ID: g1\r\nCSeq: x INVITE\r\n\r\n",
        b"SIP/2.0 200 OK\r\nVia: nonsense\r\n\r\n",
        b"\r\n\r\n",
        b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nContent-Length: 99999999\r\n\r\nshort",
    ]
    answers = [await loop.run_in_executor(None, udp_exchange, port, g, 0.3) for g in garbage]
    assert answers[3] is not None and answers[3].startswith(b"SIP/2.0 400"), answers[3]
    assert answers[0] is None and answers[2] is None and answers[5] is None
    reply = await loop.run_in_executor(None, udp_exchange, port, options(port, "z9hG4bKopt2"))
    assert reply is not None and reply.startswith(b"SIP/2.0 200"), "port stalled after garbage"
    assert lab.source.transport.garbage >= 4
