"""baresip as the real softphone: one config dir per instance, driven over ctrl_tcp.

baresip speaks JSON in netstrings on its ctrl_tcp port: commands go in
(``{"command": "dial", "params": "sip:...", "token": "t1"}``), responses and events come out
(``{"event": true, "type": "CALL_ESTABLISHED", ...}``).  A reader thread files every event
so a test can wait for one with a bound.  The phone's microphone is a WAV file (aufile); the
sndfile module dumps what it sent (``*-enc.wav``) and what it heard (``*-dec.wav``).
Always started with ``-4 -n 127.0.0.1`` so its SDP never names another interface.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from pathlib import Path
from typing import Any

from harness.ports import PORTS
from harness.procs import ManagedProcess, require_tool, wait_for

_CONFIG = """\
poll_method\t\tepoll
sip_listen\t\t127.0.0.1:{sip_port}
sip_transports\t\t{transports}
call_local_timeout\t120
call_max_calls\t\t4
audio_player\t\tnull,null
audio_source\t\taufile,{audio}
audio_alert\t\tnull,null
audio_level\t\tno
ausrc_format\t\ts16
auplay_format\t\ts16
rtp_ports\t\t{rtp_min}-{rtp_max}
jitter_buffer_delay\t1-10
module_path\t\t/usr/lib/baresip/modules
module\t\t\tg711.so
module\t\t\taufile.so
module\t\t\tsndfile.so
module\t\t\tsrtp.so
snd_path\t\t{snd_path}
module_app\t\taccount.so
module_app\t\tmenu.so
module_app\t\tctrl_tcp.so
ctrl_tcp_listen\t\t127.0.0.1:{ctrl_port}
"""


def _netstring(obj: dict[str, Any]) -> bytes:
    body = json.dumps(obj).encode()
    return str(len(body)).encode() + b":" + body + b","


class Baresip:
    """One headless baresip phone.

    ``aor`` is the account line, e.g. ``<sip:101@127.0.0.1:5060>;auth_pass=pw;regint=60``; use
    :meth:`account` to build it.  ``audio`` is the WAV the phone "says".
    """

    def __init__(
        self,
        name: str,
        workdir: Path,
        *,
        aor: str,
        audio: Path,
        timeout_s: float = 60,
        sip_port: int | None = None,
        tls_certificate: Path | None = None,
    ) -> None:
        """``tls_certificate``: a PEM holding certificate and key; baresip then also takes
        SIP over TLS, on ``sip_port + 1`` (:attr:`tls_port`)."""
        require_tool("baresip")
        self.tls_certificate = tls_certificate
        self.name = name
        self.dir = Path(workdir) / name
        self.sip_port = sip_port or PORTS.block(3)[0]  # baresip also binds sip_port + 1 (TLS)
        self.ctrl_port = PORTS.port()
        self.rtp_min, self.rtp_max = PORTS.block(16)
        self.snd_path = self.dir / "snd"
        self.aor = aor
        self.audio = Path(audio)
        self.timeout_s = timeout_s
        self.events: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._sock: socket.socket | None = None
        self._reader: threading.Thread | None = None
        self._token = 0
        self.proc: ManagedProcess | None = None

    @staticmethod
    def account(
        user: str,
        host_port: str,
        *,
        password: str | None = None,
        register: bool = False,
        auto_answer: bool = False,
        codecs: str = "PCMU",
    ) -> str:
        parts = [f"<sip:{user}@{host_port}>"]
        if password is not None:
            parts.append(f"auth_pass={password}")
        parts.append(f"regint={60 if register else 0}")
        parts.append(f"audio_codecs={codecs}")
        if auto_answer:
            parts.append("answermode=auto")
        return ";".join(parts)

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> Baresip:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.snd_path.mkdir(exist_ok=True)
        tls = f"sip_certificate\t\t{self.tls_certificate}\n" if self.tls_certificate else ""
        (self.dir / "config").write_text(
            tls
            + _CONFIG.format(
                transports="udp,tls" if self.tls_certificate else "udp",
                sip_port=self.sip_port,
                audio=self.audio,
                rtp_min=self.rtp_min,
                rtp_max=self.rtp_max,
                snd_path=self.snd_path,
                ctrl_port=self.ctrl_port,
            )
        )
        (self.dir / "accounts").write_text(self.aor + "\n")
        (self.dir / "contacts").write_text("")
        self.proc = ManagedProcess(
            f"baresip-{self.name}",
            ["baresip", "-4", "-n", "127.0.0.1", "-f", str(self.dir)],
            log_dir=self.dir,
            timeout_s=self.timeout_s,
        ).start()
        self._sock = wait_for(self._connect, 8.0, interval=0.1, what=f"baresip {self.name} ctrl_tcp")
        self._reader = threading.Thread(target=self._read_loop, name=f"baresip-{self.name}", daemon=True)
        self._reader.start()
        return self

    @property
    def tls_port(self) -> int:
        return self.sip_port + 1

    def _connect(self) -> socket.socket | None:
        if self.proc is not None and not self.proc.running():
            raise RuntimeError(f"baresip {self.name} exited early:\n{self.proc.logs()}")
        try:
            return socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=1.0)
        except OSError:
            return None

    def stop(self) -> None:
        if self._sock is not None:
            try:
                self._send({"command": "quit"})
            except OSError:
                pass
        if self.proc is not None:
            self.proc.stop(grace=2.0)
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._reader is not None:
            self._reader.join(timeout=2.0)

    def logs(self) -> str:
        return self.proc.logs() if self.proc else ""

    # -- control --------------------------------------------------------------------------
    def _send(self, obj: dict[str, Any]) -> None:
        assert self._sock is not None, "baresip not started"
        self._sock.sendall(_netstring(obj))

    def command(self, command: str, params: str = "") -> str:
        self._token += 1
        token = f"t{self._token}"
        msg: dict[str, Any] = {"command": command, "token": token}
        if params:
            msg["params"] = params
        self._send(msg)
        return token

    def dial(self, uri: str) -> None:
        self.command("dial", uri)

    def accept(self) -> None:
        self.command("accept")

    def hangup(self) -> None:
        self.command("hangup")

    def hold(self) -> None:
        self.command("hold")

    def resume(self) -> None:
        self.command("resume")

    def transfer(self, uri: str) -> None:
        self.command("transfer", uri)

    def _read_loop(self) -> None:
        sock = self._sock
        assert sock is not None
        sock.settimeout(0.5)
        buf = b""
        deadline = time.monotonic() + self.timeout_s + 10
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while True:
                head, sep, rest = buf.partition(b":")
                if not sep or not head.isdigit():
                    break
                n = int(head)
                if len(rest) < n + 1:
                    break
                body, buf = rest[:n], rest[n + 1 :]
                try:
                    msg = json.loads(body)
                except ValueError:
                    continue
                msg["_t"] = time.monotonic()
                with self._cond:
                    (self.events if msg.get("event") else self.responses).append(msg)
                    self._cond.notify_all()

    def wait_event(self, kind: str, timeout: float, *, after: int = 0) -> dict[str, Any]:
        """The first event of type ``kind`` (e.g. CALL_ESTABLISHED) at index >= ``after``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for ev in self.events[after:]:
                    if ev.get("type") == kind:
                        return ev
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [e.get("type") for e in self.events]
                    raise TimeoutError(f"baresip {self.name}: no {kind} within {timeout} s; events: {seen}")
                self._cond.wait(left)

    def wait_registered(self, timeout: float) -> None:
        """Wait for the account's registration, read from baresip's console output.

        The REGISTER_OK event fires before a ctrl_tcp client can connect, so it is never
        seen there; baresip prints ``{0/UDP/v4} 200 OK`` (success) or ``Register: <why>``.
        """
        assert self.proc is not None

        def done() -> bool:
            text = self.proc.stdout_path.read_text(errors="replace") if self.proc.stdout_path.exists() else ""
            failed = re.search(r"reg: .*?Register: (.*)", text)
            if failed:
                raise RuntimeError(f"baresip {self.name}: registration failed: {failed.group(1).strip()}")
            if not self.proc.running():
                raise RuntimeError(f"baresip {self.name} exited:\n{self.logs()}")
            return re.search(r"\{\d+/UDP/v4\} 200 OK", text) is not None

        wait_for(done, timeout, interval=0.1, what=f"baresip {self.name} registration")

    def event_types(self) -> list[str]:
        with self._cond:
            return [str(e.get("type")) for e in self.events]

    # -- audio dumps ----------------------------------------------------------------------
    def dumps(self, kind: str) -> list[Path]:
        """sndfile dumps: kind 'enc' (what the phone sent) or 'dec' (what it heard), oldest first."""
        return sorted(self.snd_path.glob(f"*-{kind}.wav"), key=lambda p: p.stat().st_mtime)
