"""Free loopback ports for the processes a test starts.

Every SIP peer in a test (Salvesti, sipp, baresip) needs its own ports, and tests run one
after another in one pytest process, so ports are handed out from a per-process counter that
starts at a pid-dependent base and only moves forward: a port released by one test is never
offered to the next one (sockets in TIME_WAIT or a slow-to-die peer cannot collide).
Each candidate is checked by binding it (UDP and TCP) on 127.0.0.1.
"""

from __future__ import annotations

import os
import socket
import threading


def _ephemeral_low() -> int:
    try:
        return int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


#: Below the kernel's ephemeral range: a port handed out here and bound a moment later must
#: not be taken meanwhile by some process's connect() or bind(port 0).
_LOW, _HIGH = 20000, max(25000, min(60000, _ephemeral_low()))


def _free(port: int, *, tcp: bool = True) -> bool:
    kinds = [socket.SOCK_DGRAM, socket.SOCK_STREAM] if tcp else [socket.SOCK_DGRAM]
    for kind in kinds:
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


class PortAllocator:
    """Hands out ports (and even-aligned blocks for RTP) that were free when handed out."""

    def __init__(self, base: int | None = None) -> None:
        span = _HIGH - _LOW
        self._next = base if base is not None else _LOW + (os.getpid() * 97) % (span - 3000)
        self._lock = threading.Lock()

    def _advance(self, count: int) -> int:
        if self._next + count >= _HIGH:
            self._next = _LOW
        start = self._next
        self._next += count
        return start

    def port(self) -> int:
        """One port free for both UDP and TCP (SIP listens on both)."""
        with self._lock:
            for _ in range(20000):
                p = self._advance(1)
                if _free(p):
                    return p
        raise RuntimeError("no free port found in 20000 tries")

    def block(self, count: int) -> tuple[int, int]:
        """``count`` consecutive UDP ports starting at an even port: (first, last) inclusive."""
        with self._lock:
            for _ in range(5000):  # other suites may hold thousands of ports for a while
                start = self._advance(count + 1)
                start += start % 2
                if all(_free(p, tcp=False) for p in range(start, start + count)):
                    return start, start + count - 1
        raise RuntimeError(f"no free block of {count} ports found")


#: The allocator shared by every helper in this process.
PORTS = PortAllocator()
