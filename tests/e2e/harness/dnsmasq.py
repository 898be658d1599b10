"""A real DNS server on loopback for the carrier-location tests: dnsmasq with the SRV, NAPTR
and A records a test gives it, on a free port, answering nothing else (no upstream, no
/etc/hosts), logging every query so a test can show what Salvesti asked."""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field
from pathlib import Path

from harness.ports import PORTS
from harness.procs import ManagedProcess, wait_for


@dataclass
class Zone:
    """Records as dnsmasq options: ``hosts`` name → IPv4; ``srv`` (name, target, port,
    priority, weight); ``naptr`` (name, order, preference, flags, service, replacement)."""

    hosts: dict[str, str] = field(default_factory=dict)
    srv: list[tuple[str, str, int, int, int]] = field(default_factory=list)
    naptr: list[tuple[str, int, int, str, str, str]] = field(default_factory=list)

    def options(self) -> list[str]:
        out = [f"--host-record={name},{ip}" for name, ip in self.hosts.items()]
        out += [f"--srv-host={n},{t},{port},{prio},{w}" for n, t, port, prio, w in self.srv]
        out += [f"--naptr-record={n},{o},{p},{f},{s},,{r}" for n, o, p, f, s, r in self.naptr]
        return out


class Dnsmasq:
    def __init__(self, workdir: Path, zone: Zone, *, name: str = "dnsmasq") -> None:
        self.name = name
        self.port = PORTS.port()
        self.dir = Path(workdir) / name
        argv = [
            "dnsmasq",
            "--keep-in-foreground",
            "--no-resolv",
            "--no-hosts",
            "--no-poll",
            "--bind-interfaces",
            "--listen-address=127.0.0.1",
            f"--port={self.port}",
            "--pid-file=",
            "--user=root",
            "--log-queries",
            "--log-facility=-",
            *zone.options(),
        ]
        self.proc = ManagedProcess(name, argv, log_dir=self.dir, timeout_s=300, cwd=None)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> Dnsmasq:
        self.proc.start()
        wait_for(self._answers, 5, interval=0.05, what=f"dnsmasq answering on {self.address}")
        return self

    def _answers(self) -> bool:
        """A bare DNS query (root, type A) gets any answer at all."""
        if not self.proc.running():
            raise RuntimeError(f"dnsmasq exited:\n{self.logs()}")
        query = struct.pack(">HHHHHH", 0x5A17, 0x0100, 1, 0, 0, 0) + b"\x00" + struct.pack(">HH", 1, 1)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.3)
            s.sendto(query, ("127.0.0.1", self.port))
            try:
                return s.recv(512)[:2] == b"\x5a\x17"
            except OSError:
                return False

    def queries(self) -> str:
        return self.proc.stderr_path.read_text(errors="replace") if self.proc.stderr_path.exists() else ""

    def stop(self) -> None:
        self.proc.stop(grace=2.0)

    def logs(self) -> str:
        return self.proc.logs()
