"""A hub with a serial_at source (modem simulator on real ptys) and a sip_trunk source
whose extension 101 is a real baresip phone (e2e harness's ``Baresip``, driven over ctrl_tcp)."""

from __future__ import annotations

import asyncio
import sys
import wave
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from serial_at_rig import tone

from salvesti.core.bus import CALL_ENDED
from salvesti.core.config import load_config
from salvesti.core.hub import Hub
from salvesti.core.plugins import PluginManager
from salvesti.testing.modem_sim import ModemSimulator

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "e2e"))
from harness.baresip import Baresip
from harness.ports import PORTS

PASSWORD = "secret-101"


def write_wav(path: Path, pcm: bytes, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return path


def dominant_hz(pcm: bytes, rate: int = 8000) -> float:
    """The strongest frequency of a stretch of s16le audio (tells 440 Hz from 600 Hz)."""
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], "<i2").astype(float)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum[5:])) + 5])


class SipRig:
    """Hub + phone.  ``serial_extra`` goes into the serial_at item (YAML keys)."""

    def __init__(self, tmp: Path, sim: ModemSimulator, *, serial_extra: dict[str, Any]) -> None:
        self.tmp = tmp
        self.sim = sim
        self.sip_port = PORTS.port()
        rtp = PORTS.block(20)
        write_wav(tmp / "notice.wav", tone(0.5, 1000.0))
        serial = {
            "platform": "serial_at",
            "id": "gsm",
            "device": str(sim.path),
            "profile": sim.profile.name,
            "line": "+37255500000",
            "answer_after_rings": 1,
            **serial_extra,
        }
        if sim.audio_path:
            serial["audio_device"] = str(sim.audio_path)
        config = {
            "salvesti": {"data_dir": "./data", "timezone": "Europe/Tallinn", "purpose": "test"},
            "store": {"platform": "sqlite"},
            "sinks": [{"platform": "local", "id": "disk", "path": "recordings", "format": "wav"}],
            "notices": [{"platform": "audio_file", "id": "et", "file": "notice.wav"}],
            "sources": [
                {
                    "platform": "sip_trunk",
                    "id": "office",
                    "listen": f"127.0.0.1:{self.sip_port}",
                    "rtp_ports": f"{rtp[0]}-{rtp[1]}",
                    "extensions": [{"user": "101", "password": PASSWORD}],
                    "codecs": ["PCMA", "PCMU"],
                },
                serial,
            ],
        }
        path = tmp / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        plugins = PluginManager()
        plugins.load(entry_points_too=False)
        self.hub = Hub(load_config(path, plugins), config_path=path, plugins=plugins)
        self.ended: list[dict[str, Any]] = []
        self.hub.bus.subscribe(CALL_ENDED, lambda e: self.ended.append(e.data))
        self.phone: Baresip | None = None

    async def start_phone(self, *, auto_answer: bool = True) -> Baresip:
        speech = write_wav(self.tmp / "phone.wav", tone(20.0, 600.0, amp=6000))
        aor = Baresip.account(
            "101",
            f"127.0.0.1:{self.sip_port}",
            password=PASSWORD,
            register=True,
            auto_answer=auto_answer,
            codecs="PCMU",
        )
        self.phone = Baresip("phone101", self.tmp, aor=aor, audio=speech, timeout_s=30)
        # blocking waits run in a thread: the hub on this loop must answer the REGISTER
        await asyncio.to_thread(self.phone.start)
        await asyncio.to_thread(self.phone.wait_registered, 8.0)
        return self.phone

    async def __aenter__(self) -> SipRig:
        await self.hub.async_start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self.hub.async_stop(call_timeout=2)
        finally:
            if self.phone is not None:
                self.phone.stop()
