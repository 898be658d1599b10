"""The sip_trunk test lab: an in-process Hub with the source, real peers (sipp, baresip).

It lives in its own module (not conftest.py) so tests can import it by a unique name;
``from conftest import`` picks up whichever folder's conftest was loaded last.

Peers (sipp, baresip) are real processes on 127.0.0.1, each under coreutils ``timeout`` and
killed by their own pid when a test ends.  Ports come from a counter that starts at a
pid-dependent base in 41000-47999 and only moves forward, each checked free by binding it.
"""

from __future__ import annotations

import asyncio
import math
import os
import shutil
import signal
import socket
import struct
import wave
from pathlib import Path
from typing import Any

from salvesti.core.bus import CALL_ENDED
from salvesti.core.config import load_config
from salvesti.core.hub import Hub
from salvesti.core.plugins import PluginManager

SCENARIOS = Path(__file__).parent / "scenarios"
LINE = "+3726000000"
EXT = {"101": "secret-101", "102": "secret-102"}


class Ports:
    def __init__(self) -> None:
        self.next = 41000 + (os.getpid() * 131) % 6000

    @staticmethod
    def _free(port: int) -> bool:
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            with socket.socket(socket.AF_INET, kind) as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    return False
        return True

    def port(self) -> int:
        for _ in range(2000):
            self.next += 1
            if self.next > 47999:
                self.next = 41000
            if self._free(self.next):
                return self.next
        raise RuntimeError("no free port")

    def pair(self) -> int:
        """A port whose next port is free too (baresip also binds SIP/TLS on port+1)."""
        for _ in range(2000):
            port = self.port()
            if self._free(port + 1):
                self.next = port + 1
                return port
        raise RuntimeError("no free port pair")

    def block(self, n: int, *, strict: bool = False) -> tuple[int, int]:
        """``n`` ports from an even port whose first pair is free.  Other suites may hold
        thousands of scattered ports, so later ports may be taken: the relay, sipp and
        baresip all skip busy ports inside their range; ``strict`` checks every port (sipp binds
        its media port and the video port two above it and gives up if either is taken)."""
        for _ in range(2000):
            start = self.next + 1 + (self.next + 1) % 2
            self.next = start + n
            if self.next > 47999:
                self.next = 41000
                continue
            wanted = range(start, start + n) if strict else (start, start + 1)
            if all(self._free(p) for p in wanted):
                return start, start + n - 1
        raise RuntimeError("no free port block")


PORTS = Ports()


def require(tool: str) -> str:
    path = shutil.which(tool)
    assert path, f"{tool} is not installed: apt-get install the package that provides it"
    return path


def tone(seconds: float, freq: float, rate: int = 8000, amp: float = 8000) -> bytes:
    n = int(seconds * rate)
    return struct.pack(f"<{n}h", *(int(amp * math.sin(2 * math.pi * freq * i / rate)) for i in range(n)))


def write_wav(path: Path, pcm: bytes, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return path


def read_stereo(path: str) -> tuple[list[int], list[int], int]:
    with wave.open(path, "rb") as w:
        assert (w.getnchannels(), w.getsampwidth()) == (2, 2)
        frames = w.readframes(w.getnframes())
        rate = w.getframerate()
    samples = struct.unpack(f"<{len(frames) // 2}h", frames)
    return list(samples[0::2]), list(samples[1::2]), rate


def rms(samples: list[int]) -> float:
    return math.sqrt(sum(s * s for s in samples) / max(len(samples), 1))


class Proc:
    """An external peer under ``timeout``, output in files, killed by pid."""

    def __init__(self, name: str, argv: list[str], workdir: Path, timeout_s: float) -> None:
        require(argv[0])
        self.name = name
        self.argv = ["timeout", "-k", "2", str(int(timeout_s)), *argv]
        self.workdir = workdir
        self.out = workdir / f"{name}.out"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> Proc:
        with open(self.out, "wb") as out:  # noqa: ASYNC230 - a local log file, opened once
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                stdin=asyncio.subprocess.DEVNULL,
                cwd=self.workdir,
                start_new_session=True,
            )
        return self

    async def wait(self, limit: float) -> int:
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), limit)

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            await asyncio.wait_for(self.proc.wait(), 3)
        except TimeoutError:
            os.killpg(self.proc.pid, signal.SIGKILL)
            await self.proc.wait()

    def log(self) -> str:
        return self.out.read_text(errors="replace") if self.out.exists() else ""


def sipp_scenario(workdir: Path, name: str, **params: Any) -> Path:
    text = (SCENARIOS / name).read_text()
    for part in ("FINAL", "MID"):  # @FINAL_BLOCK@ ← final_<value>.part, @MID_BLOCK@ ← mid_<value>.part
        value = params.pop(part, None)
        block = (SCENARIOS / f"{part.lower()}_{value}.part").read_text() if value else ""
        text = text.replace(f"@{part}_BLOCK@", block)
    for key, value in params.items():
        text = text.replace(f"@{key}@", str(value))
    path = workdir / f"{name}.{os.getpid()}.xml"
    path.write_text(text)
    return path


class Lab:
    """One test's peers and the Salvesti hub under test."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: list[Proc] = []
        self.hub: Hub | None = None
        self.ended: list[dict[str, Any]] = []
        self.status: list[dict[str, Any]] = []
        self.sip_port = PORTS.port()
        self.notice = write_wav(tmp / "notice.wav", tone(1.0, 1000.0))

    def sipp(self, name: str, scenario: str, *args: str, timeout_s: float = 30, **params: Any) -> Proc:
        port = params.pop("port", None) or PORTS.port()
        media = PORTS.block(4, strict=True)[0]
        path = sipp_scenario(self.tmp, scenario, **params)
        argv = [
            "sipp",
            "-sf",
            str(path),
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "-mi",
            "127.0.0.1",
            "-mp",
            str(media),
            "-nostdin",
            "-trace_msg",
            "-message_file",
            str(self.tmp / f"{name}.msg"),
            "-timeout",
            f"{int(timeout_s)}s",
            *args,
        ]
        proc = Proc(name, argv, self.tmp, timeout_s + 5)
        proc.port = port  # type: ignore[attr-defined]
        self.procs.append(proc)
        return proc

    def baresip(
        self,
        user: str,
        *,
        answer: str = "auto",
        speech: Path | None = None,
        timeout_s: float = 40,
        codec: str = "PCMU",
        dial: str | None = None,
        seconds: int = 0,
    ) -> Proc:
        """A registered office phone (baresip): answers automatically, or dials ``dial``
        and quits after ``seconds``."""
        folder = self.tmp / f"baresip-{user}"
        (folder / "rec").mkdir(parents=True, exist_ok=True)
        rate = 16000 if codec == "G722" else 8000
        speech = speech or write_wav(
            self.tmp / f"speech-{user}.wav", tone(20.0, 600.0 if user == "101" else 900.0, rate, 6000), rate
        )
        sip, rtp = PORTS.pair(), PORTS.block(10)
        module = {"PCMU": "g711", "PCMA": "g711", "G722": "g722", "opus": "opus"}[codec]
        (folder / "config").write_text(
            f"poll_method epoll\nsip_listen 127.0.0.1:{sip}\nsip_transports udp\n"
            "audio_player null\naudio_alert null\naudio_source aufile," + str(speech) + "\n"
            f"rtp_ports {rtp[0]}-{rtp[1]}\nmodule_path /usr/lib/baresip/modules\n"
            f"module {module}.so\nmodule aufile.so\nmodule_app account.so\nmodule_app menu.so\n"
        )
        (folder / "accounts").write_text(
            f"<sip:{user}@127.0.0.1:{self.sip_port};transport=udp>;auth_pass={EXT[user]};regint=300;"
            f"answermode={answer};audio_codecs={codec}\n"
        )
        require("baresip")
        argv = ["baresip", "-4", "-n", "127.0.0.1", "-f", str(folder)]
        if dial:
            argv += ["-e", f"/dial sip:{dial}@127.0.0.1:{self.sip_port}", "-t", str(seconds)]
        proc = Proc(f"baresip-{user}", argv, self.tmp, timeout_s)
        self.procs.append(proc)
        return proc

    def messages(self, name: str) -> str:
        path = self.tmp / f"{name}.msg"
        return path.read_text(errors="replace") if path.exists() else ""

    async def start_hub(
        self, source: dict[str, Any], *, notices: bool = True, config: dict[str, Any] | None = None
    ) -> Hub:
        """The hub with one sip_trunk source (``source`` over the defaults); ``config`` adds
        top-level blocks (retention rules, ...)."""
        import yaml

        rtp = PORTS.block(40)
        src = {
            "platform": "sip_trunk",
            "id": "telia",
            "listen": f"127.0.0.1:{self.sip_port}",
            "rtp_ports": f"{rtp[0]}-{rtp[1]}",
            "extensions": [{"user": u, "password": p} for u, p in EXT.items()],
            **source,
        }
        config = {
            "salvesti": {"data_dir": "./data", "timezone": "Europe/Tallinn", "purpose": "test"},
            "store": {"platform": "sqlite"},
            "sources": [src],
            "sinks": [{"platform": "local", "id": "disk", "path": "recordings", "format": "wav"}],
            "notices": [{"platform": "audio_file", "id": "et", "file": str(self.notice)}] if notices else [],
            **(config or {}),
        }
        path = self.tmp / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        plugins = PluginManager()
        plugins.load(entry_points_too=False)
        hub = Hub(load_config(path, plugins), config_path=path, plugins=plugins)
        hub.bus.subscribe(CALL_ENDED, lambda e: self.ended.append(e.data))
        hub.bus.subscribe("source_status", lambda e: self.status.append(e.data))
        self.hub = hub
        await hub.async_start()
        return hub

    @property
    def source(self) -> Any:
        assert self.hub is not None
        return self.hub.sources["telia"]

    async def wait_for(self, check: Any, limit: float, what: str = "") -> Any:
        for _ in range(int(limit / 0.05) + 1):
            value = check()
            if value:
                return value
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.log()[-3000:]}\n{self.messages(p.name)[-6000:]}" for p in self.procs
        )

    async def close(self) -> None:
        for proc in self.procs:
            await proc.stop()
        if self.hub is not None:
            await self.hub.async_stop(call_timeout=1)
