"""The reference system for bench/calls.py: Kamailio (registrar + proxy) and rtpengine.

What a user would run instead of Salvesti to relay and record the same calls: Debian 12's
``kamailio`` and ``rtpengine-daemon`` packages, rtpengine forwarding in userspace only
(``--table=-1``) and writing one pcap per call (``--recording-method=pcap``).

* Kamailio authenticates the bench phones' digest REGISTER (401) and INVITE (407) with the
  same passwords the phones use with Salvesti (an in-memory htable, one entry per
  extension), keeps their registrations in memory (usrloc, no database), routes every
  INVITE to the bench carrier, record-routes, and calls rtpengine over the ng protocol with
  ``rtpengine_manage("... record-call=yes")``: offer on the INVITE, answer on the 200,
  delete on the BYE.
* rtpengine relays both directions and records them to ``<dir>/pcaps/*.pcap``.

Both run in the foreground in their own process group, pinned with ``taskset`` to the core
Salvesti would get.  CPU = utime+stime (all threads) of every process in either group, from
/proc.  Nothing is installed here: missing binaries fail with the apt package names.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
APT_HINT = "apt-get install -y kamailio rtpengine-daemon"

KAMAILIO_CFG = """#!KAMAILIO
# Written by bench/reference.py: registrar + proxy for the bench phones, media through rtpengine.
debug=1
log_stderror=yes
children={children}
auto_aliases=no
dns=no
rev_dns=no
listen=udp:127.0.0.1:{sip_port}
mpath="{mpath}"

loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "xlog.so"
loadmodule "htable.so"
loadmodule "auth.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "rtpengine.so"

modparam("usrloc", "db_mode", 0)
modparam("htable", "htable", "pw=>size=12;")
modparam("rtpengine", "rtpengine_sock", "udp:127.0.0.1:{ng_port}")
modparam("rr", "append_fromtag", 1)

event_route[htable:mod-init] {{
{passwords}
}}

request_route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    if (has_totag()) {{
        # In-dialog: the bench phones keep no route set, so a request without Route goes
        # straight to its Request-URI (the carrier's Contact).
        loose_route();
        if (is_method("BYE")) {{ rtpengine_manage(); }}
        if (is_method("ACK") && uri == myself) {{ exit; }}  # ACK to our own 401/407
        t_relay();
        exit;
    }}
    if (is_method("ACK")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
    if (is_method("CANCEL")) {{ if (t_check_trans()) {{ rtpengine_manage(); t_relay(); }} exit; }}
    if (is_method("OPTIONS")) {{ sl_send_reply("200", "OK"); exit; }}
    if (is_method("REGISTER")) {{
        if (!pv_www_authenticate("bench", "$sht(pw=>$fU)", "0")) {{ www_challenge("bench", "1"); exit; }}
        if ($au != $fU) {{ sl_send_reply("403", "Forbidden"); exit; }}
        consume_credentials();
        if (!save("location")) {{ sl_reply_error(); }}
        exit;
    }}
    if (is_method("INVITE")) {{
        if (!pv_proxy_authenticate("bench", "$sht(pw=>$fU)", "0")) {{ proxy_challenge("bench", "1"); exit; }}
        if ($au != $fU) {{ sl_send_reply("403", "Forbidden"); exit; }}
        consume_credentials();
        record_route();
        $rd = "127.0.0.1";
        $rp = {carrier_port};
        rtpengine_manage("replace-origin replace-session-connection record-call=yes");
        t_on_reply("MEDIA");
        t_relay();
        exit;
    }}
    sl_send_reply("405", "Method Not Allowed");
}}

onreply_route[MEDIA] {{
    if (has_body("application/sdp")) {{
        rtpengine_manage("replace-origin replace-session-connection record-call=yes");
    }}
}}
"""


def missing_binaries() -> str | None:
    """A message naming the apt packages when kamailio or rtpengine is not installed."""
    missing = [b for b in ("kamailio", "rtpengine") if not shutil.which(b)]
    if not missing:
        return None
    return (
        f"--reference kamailio needs {' and '.join(missing)} on PATH (Debian 12: {APT_HINT}; "
        "the rtpengine kernel module is not needed, forwarding stays in userspace)"
    )


def kamailio_modules() -> str:
    for d in ("/usr/lib/x86_64-linux-gnu/kamailio/modules", "/usr/lib/kamailio/modules"):
        if Path(d, "rtpengine.so").exists():
            return d
    out = subprocess.run(["dpkg", "-L", "kamailio"], capture_output=True, text=True, check=False).stdout
    for line in out.splitlines():
        if line.endswith("/modules/tm.so"):
            return str(Path(line).parent)
    raise RuntimeError("kamailio modules folder (tm.so, rtpengine.so) not found")


def _group_stats(pgid: int) -> Iterator[tuple[Path, list[str]]]:
    """``(/proc/<pid>, stat fields after the command)`` of every live process in group ``pgid``."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            yield Path(entry.path), fields


def group_cpu_s(pgid: int) -> float:
    """utime + stime + cutime + cstime of every live process in process group ``pgid``."""
    total = sum(sum(int(fields[i]) for i in (11, 12, 13, 14)) for _, fields in _group_stats(pgid))
    return total / CLK_TCK


def group_rss_mb(pgid: int) -> float:
    """Summed VmHWM of the group's processes (Kamailio children share memory: an upper bound)."""
    total = 0
    for proc, _fields in _group_stats(pgid):
        try:
            status = (proc / "status").read_text()
        except OSError:
            continue
        total += sum(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    return total / 1024


def _bencode(x: object) -> bytes:
    if isinstance(x, str):
        x = x.encode()
    if isinstance(x, bytes):
        return b"%d:%s" % (len(x), x)
    if isinstance(x, dict):
        return b"d" + b"".join(_bencode(k) + _bencode(v) for k, v in sorted(x.items())) + b"e"
    raise TypeError(type(x))


def ng_ping(port: int, timeout: float = 0.5) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        cookie = b"%d" % random.getrandbits(32)
        try:
            s.sendto(cookie + b" " + _bencode({"command": "ping"}), ("127.0.0.1", port))
            data, _ = s.recvfrom(4096)
        except OSError:
            return False
        return b"pong" in data


def options_ok(port: int, timeout: float = 0.5) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(timeout)
        me = s.getsockname()[1]
        msg = (
            f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK{random.getrandbits(48):x}\r\n"
            f"From: <sip:probe@127.0.0.1:{me}>;tag=p\r\nTo: <sip:127.0.0.1:{port}>\r\n"
            f"Call-ID: probe-{random.getrandbits(48):x}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 5\r\n"
            "Content-Length: 0\r\n\r\n"
        )
        try:
            s.sendto(msg.encode(), ("127.0.0.1", port))
            data, _ = s.recvfrom(4096)
        except OSError:
            return False
        return data.startswith(b"SIP/2.0 200")


def pcap_packets(path: Path) -> int:
    """Records in a classic pcap file (a truncated last record is not counted)."""
    data = path.read_bytes()
    if len(data) < 24:
        return 0
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    n, off = 0, 24
    while off + 16 <= len(data):
        incl = struct.unpack_from(endian + "I", data, off + 8)[0]
        off += 16 + incl
        if off <= len(data):
            n += 1
    return n


class KamailioRtpengine:
    """rtpengine + Kamailio on loopback, both pinned with ``wrapper``; start, measure, stop."""

    def __init__(
        self,
        workdir: Path,
        *,
        carrier_port: int,
        extensions: dict[str, str],
        sip_port: int,
        ng_port: int,
        rtp_range: tuple[int, int],
        wrapper: list[str],
        children: int = 4,
    ) -> None:
        self.dir = Path(workdir) / "reference"
        self.rec_dir = self.dir / "recordings"
        self.run_dir = self.dir / "run"
        for d in (self.rec_dir, self.run_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.sip_port, self.ng_port, self.rtp_range = sip_port, ng_port, rtp_range
        self.wrapper = wrapper
        self.cfg = self.dir / "kamailio.cfg"
        passwords = "\n".join(f'    $sht(pw=>{u}) = "{pw}";' for u, pw in extensions.items())
        self.cfg.write_text(
            KAMAILIO_CFG.format(
                children=children,
                sip_port=sip_port,
                ng_port=ng_port,
                carrier_port=carrier_port,
                mpath=kamailio_modules(),
                passwords=passwords,
            )
        )
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.dir / f"{name}.log", "wb")  # closed below: the child keeps its copy
        proc = subprocess.Popen(
            [*self.wrapper, *argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: CPU is summed over it, stop kills it
        )
        log.close()
        self.procs[name] = proc
        return proc

    def start(self, ready_timeout: float = 20) -> None:
        lo, hi = self.rtp_range
        self._spawn(
            "rtpengine",
            [
                "rtpengine",
                "--config-file=none",
                "--foreground",
                "--log-stderr",
                "--log-level=5",
                "--table=-1",
                "--interface=127.0.0.1",
                f"--listen-ng=127.0.0.1:{self.ng_port}",
                f"--port-min={lo}",
                f"--port-max={hi}",
                "--recording-method=pcap",
                f"--recording-dir={self.rec_dir}",
                "--delete-delay=0",
                "--timeout=60",
                f"--pidfile={self.run_dir / 'rtpengine.pid'}",
            ],
        )
        self._wait(lambda: ng_ping(self.ng_port), "rtpengine", ready_timeout)
        self._spawn(
            "kamailio",
            [
                "kamailio",
                "-f",
                str(self.cfg),
                "-DD",
                "-E",
                "-m",
                "256",
                "-M",
                "32",
                "-Y",
                str(self.run_dir),
                "-w",
                str(self.run_dir),
            ],
        )
        self._wait(lambda: options_ok(self.sip_port), "kamailio", ready_timeout)

    def _wait(self, ready: object, name: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited with {self.procs[name].returncode}:\n{self.log(name)}")
            if ready():  # type: ignore[operator]
                return
            time.sleep(0.2)
        raise RuntimeError(f"{name} not ready in {timeout:.0f} s:\n{self.log(name)}")

    def log(self, name: str, tail: int = 3000) -> str:
        try:
            return (self.dir / f"{name}.log").read_text(errors="replace")[-tail:]
        except OSError:
            return ""

    @property
    def pgids(self) -> list[int]:
        return [p.pid for p in self.procs.values()]

    def cpu_s(self) -> dict[str, float]:
        return {name: group_cpu_s(p.pid) for name, p in self.procs.items()}

    def rss_mb(self) -> dict[str, float]:
        return {name: group_rss_mb(p.pid) for name, p in self.procs.items()}

    def pcaps(self) -> list[Path]:
        return sorted(self.rec_dir.rglob("*.pcap"))

    def metadata(self) -> list[Path]:
        d = self.rec_dir / "metadata"
        return sorted(p for p in d.iterdir() if p.is_file()) if d.is_dir() else []

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM each process group, then SIGKILL what is left; bounded."""
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for proc in self.procs.values():
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # Kamailio children outliving their parent
            except ProcessLookupError:
                pass
            if proc.poll() is None:
                proc.wait(5)
