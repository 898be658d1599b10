"""Helpers for the diagnostics tests: free ports, a carrier that refuses REGISTER with 403,
and the config of a sip_trunk source registering to it."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from salvesti.integrations.sip.schema import SCHEMA as SIP_SCHEMA


def free_block(n: int) -> int:
    """The first port of ``n`` free UDP ports in a row, starting even."""
    for start in range(31000, 39000, 2 * n):
        socks = []
        try:
            for port in range(start, start + n):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return start
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port block")


def free_sip_port() -> int:
    """A port free for both UDP and TCP (the source listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
        return port
    raise RuntimeError("no free port")


class Refusing(asyncio.DatagramProtocol):
    """A carrier that answers every REGISTER with 403 Forbidden."""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        text = data.decode(errors="replace")
        if not text.startswith("REGISTER"):
            return
        keep = [
            ln for ln in text.split("\r\n") if ln.split(":", 1)[0] in ("Via", "From", "To", "Call-ID", "CSeq")
        ]
        answer = "\r\n".join(["SIP/2.0 403 Forbidden", *keep, "Content-Length: 0", "", ""])
        self.transport.sendto(answer.encode(), addr)


async def refusing_carrier() -> tuple[asyncio.DatagramTransport, int]:
    """The carrier socket (close it when done) and its port."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(Refusing, local_addr=("127.0.0.1", 0))
    return transport, transport.get_extra_info("sockname")[1]


def sip_source(carrier_port: int) -> dict[str, Any]:
    rtp = free_block(20)
    return SIP_SCHEMA(
        {
            "platform": "sip_trunk",
            "id": "office",
            "listen": f"127.0.0.1:{free_sip_port()}",
            "rtp_ports": f"{rtp}-{rtp + 19}",
            "trunk": {"registrar": f"127.0.0.1:{carrier_port}", "username": "3726000000", "password": "x"},
            "lines": ["+3726000000"],
            "extensions": [
                {"user": "101", "password": "secret-101-x", "name": "Mari"},
                {"user": "102", "password": "secret-102-y"},
            ],
        }
    )


RETENTION = [{"platform": "max_age", "id": "default", "days": 30}]
