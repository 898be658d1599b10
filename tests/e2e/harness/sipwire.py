"""Raw SIP over UDP for probes: OPTIONS pings and a listener that logs what it is sent.

These are deliberately tiny (no transactions): they check that a port answers, or record
every request that arrives at an address where nothing should arrive.
"""

from __future__ import annotations

import random
import socket
import threading
import time


def options_request(host: str, port: int, local_port: int) -> bytes:
    tag = random.getrandbits(32)
    branch = f"z9hG4bK-probe-{random.getrandbits(48):x}"
    return (
        f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{local_port};branch={branch};rport\r\n"
        f"From: <sip:probe@127.0.0.1:{local_port}>;tag={tag:x}\r\n"
        f"To: <sip:{host}:{port}>\r\n"
        f"Call-ID: probe-{tag:x}@127.0.0.1\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Max-Forwards: 70\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def options_status(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> int | None:
    """Send one OPTIONS over UDP; the final status code, or None when nothing answered."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.2)
        s.sendto(options_request(host, port, s.getsockname()[1]), (host, port))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data, _ = s.recvfrom(65535)
            except TimeoutError:
                continue
            except ConnectionRefusedError:
                return None
            first = data.split(b"\r\n", 1)[0].decode(errors="replace")
            parts = first.split()
            if len(parts) >= 2 and parts[0] == "SIP/2.0" and parts[1].isdigit() and int(parts[1]) >= 200:
                return int(parts[1])
    return None


class UdpRecorder:
    """Binds a UDP port and keeps every datagram it receives (with arrival time)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))
        self.sock.settimeout(0.2)
        self.datagrams: list[tuple[float, bytes, tuple[str, int]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"udp-recorder-{port}", daemon=True)

    def start(self) -> UdpRecorder:
        self._thread.start()
        return self

    def _run(self) -> None:
        deadline = time.monotonic() + 600
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                data, addr = self.sock.recvfrom(65535)
            except (TimeoutError, OSError):
                continue
            self.datagrams.append((time.monotonic(), data, addr))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()

    def requests(self, method: str) -> list[bytes]:
        return [d for _, d, _ in self.datagrams if d.startswith(method.encode() + b" ")]


def garbage_datagrams(count: int, seed: int = 7) -> list[bytes]:
    """A mix of random bytes, truncated SIP, bad RTP headers and oversize junk."""
    rnd = random.Random(seed)
    out = [
        b"",
        b"\r\n\r\n",
        b"INVITE",
        b"INVITE sip:x SIP/2.0\r\nVia: \r\nContent-Length: 99999\r\n\r\nabc",
        b"SIP/2.0 200 OK\r\nCSeq: x\r\n\r\n",
        b"\x80" * 11,
        b"\x80\x00" + b"\xff" * 200,
        b"\x00" * 1400,
        bytes(range(256)) * 5,
        "ÄÖÜ☃ kõne".encode() * 30,
    ]
    while len(out) < count:
        out.append(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 1500))))
    return out[:count]


def send_datagrams(port: int, datagrams: list[bytes], host: str = "127.0.0.1") -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for d in datagrams:
            try:
                s.sendto(d, (host, port))
            except OSError:
                pass
