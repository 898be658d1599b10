"""RTP far ends for the call benchmark: ordinary bound UDP sockets, counted by payload.

Every stream owns one UDP socket bound to the even port it advertises in SDP, sends a
160-byte PCMU packet every 20 ms from a single ticker (one wake-up for all streams) and
counts what it receives.  The first 8 payload bytes carry a magic byte, the sending
stream's id and a packet counter, each as 6-bit digits in 0x20..0x5F: G.711 µ-law
decode+encode maps those bytes to themselves, so a relay that transcodes PCMU to PCM and
back still delivers them intact.  Loss is then counted by payload at the far end, so the
notice's packets (no magic) and duplicates cannot hide a lost packet.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from dataclasses import dataclass, field

MAGIC = 0x60
PTIME = 0.02
_HDR = struct.Struct("!BBHII")


def _digits(value: int, n: int) -> bytes:
    return bytes(0x20 + ((value >> (6 * (n - 1 - i))) & 0x3F) for i in range(n))


def _undigits(data: bytes) -> int:
    v = 0
    for b in data:
        v = (v << 6) | (b - 0x20)
    return v


@dataclass
class Stream(asyncio.DatagramProtocol):
    """One far end of one call direction."""

    stream_id: int
    expect_from: int  # the stream id whose packets we should receive
    audio: bytes  # µ-law filler (0x7F-free) cycled behind the 8 marker bytes
    port: int = 0
    remote: tuple[str, int] | None = None
    sending: bool = False
    sent: int = 0
    seen: bytearray = field(default_factory=lambda: bytearray(1 << 12))
    received: int = 0
    duplicates: int = 0
    foreign: int = 0
    crossed: int = 0
    first_counter: int | None = None
    #: Monotonic times: first/last packet without our magic (the notice, ringback), first with it.
    t_first_foreign: float | None = None
    t_last_foreign: float | None = None
    t_first_own: float | None = None
    last_counter: int = -1
    transport: asyncio.DatagramTransport | None = None
    _ssrc: int = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:  # ride out scheduling stalls of the generator without drops
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self._ssrc = (self.stream_id * 2654435761) & 0xFFFFFFFF

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        body = data[12 + 4 * (data[0] & 0x0F) :]
        if (
            data[0] >> 6 != 2
            or len(body) < 8
            or body[0] != MAGIC
            or not all(0x20 <= b < 0x60 for b in body[1:8])
        ):
            self.foreign += 1
            self.t_last_foreign = time.monotonic()
            if self.t_first_foreign is None:
                self.t_first_foreign = self.t_last_foreign
            return
        sender, counter = _undigits(body[1:4]), _undigits(body[4:8])
        if sender != self.expect_from:
            self.crossed += 1
            return
        if counter >= len(self.seen):
            self.seen.extend(bytes(counter + 1 - len(self.seen)))
        if self.seen[counter]:
            self.duplicates += 1
            return
        self.seen[counter] = 1
        if self.t_first_own is None:
            self.t_first_own = time.monotonic()
        self.received += 1
        if self.first_counter is None or counter < self.first_counter:
            self.first_counter = counter
        self.last_counter = max(self.last_counter, counter)

    def packet(self) -> bytes:
        n = self.sent
        head = _HDR.pack(0x80, 0, n & 0xFFFF, (n * 160) & 0xFFFFFFFF, self._ssrc)
        off = (n * 152) % (len(self.audio) - 152)
        marker = bytes([MAGIC]) + _digits(self.stream_id, 3) + _digits(n, 4)
        return head + marker + self.audio[off : off + 152]

    @property
    def lost(self) -> int:
        """Packets missing between the first and last one received (by payload counter)."""
        if self.first_counter is None:
            return 0
        return (self.last_counter - self.first_counter + 1) - self.received


class Ticker:
    """Sends one packet per sending stream every 20 ms, on a drift-free schedule."""

    def __init__(self) -> None:
        self.streams: list[Stream] = []
        self.late_ticks = 0
        self._task: asyncio.Task[None] | None = None

    async def open(self, stream: Stream, port: int) -> Stream:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: stream, local_addr=("127.0.0.1", port))
        stream.port = port
        self.streams.append(stream)
        return stream

    def start(self, deadline_s: float) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(deadline_s), name="rtp-ticker")

    async def _run(self, deadline_s: float) -> None:
        start = time.monotonic()
        tick = 0
        while time.monotonic() - start < deadline_s:
            tick += 1
            delay = start + tick * PTIME - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -PTIME:
                self.late_ticks += 1
            for s in self.streams:
                if s.sending and s.remote is not None and s.transport is not None:
                    s.transport.sendto(s.packet(), s.remote)
                    s.sent += 1

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        for s in self.streams:
            if s.transport is not None:
                s.transport.close()
