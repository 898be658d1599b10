"""A running hub (sqlite store, local sink, audio_file notice) with one serial_at source
on a modem simulator: the rig the serial_at tests share."""

from __future__ import annotations

import asyncio
import math
import struct
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

from salvesti.core.bus import CALL_ENDED
from salvesti.core.config import load_config
from salvesti.core.hub import Hub
from salvesti.core.plugins import PluginManager
from salvesti.testing.modem_sim import ModemSimulator

CONFIG = """\
salvesti:
  data_dir: ./data
  timezone: Europe/Tallinn
  purpose: test
sinks:
  - {{platform: local, id: disk, path: recordings, format: wav}}
notices:
  - {{platform: audio_file, id: et, file: notice.wav}}
sources:
  - platform: serial_at
    id: gsm
    device: {device}
{audio}    profile: {profile}
    line: "+37255500000"
{extra}"""


def tone(seconds: float, freq: float, amp: int = 8000, rate: int = 8000) -> bytes:
    n = int(seconds * rate)
    return struct.pack(f"<{n}h", *(int(amp * math.sin(2 * math.pi * freq * i / rate)) for i in range(n)))


def rms(pcm: bytes) -> float:
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm[: len(pcm) // 2 * 2])
    return math.sqrt(sum(s * s for s in samples) / max(len(samples), 1))


def write_config(tmp_path: Path, sim: ModemSimulator, extra: str = "") -> Path:
    notice = tmp_path / "notice.wav"
    if not notice.exists():
        with wave.open(str(notice), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(tone(0.5, 1000.0))
    audio = f"    audio_device: {sim.audio_path}\n" if sim.audio_path else ""
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG.format(device=sim.path, audio=audio, profile=sim.profile.name, extra=extra))
    return path


class Rig:
    def __init__(self, tmp_path: Path, sim: ModemSimulator, extra: str = "") -> None:
        config_path = write_config(tmp_path, sim, extra)
        plugins = PluginManager()
        plugins.load(entry_points_too=False)
        self.hub = Hub(load_config(config_path, plugins), config_path=config_path, plugins=plugins)
        self.sim = sim
        self.ended: list[dict[str, Any]] = []
        self.hub.bus.subscribe(CALL_ENDED, lambda e: self.ended.append(e.data))

    @property
    def source(self) -> Any:
        return self.hub.sources["gsm"]

    def source_state(self) -> str:
        return next(s["state"] for s in self.hub.status() if s["kind"] == "source")

    async def __aenter__(self) -> Rig:
        await self.hub.async_start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.hub.async_stop(call_timeout=1)


async def wait_until(predicate: Callable[[], bool], seconds: float = 5.0, what: str = "") -> None:
    """Bounded wait for a condition (50 ms steps)."""
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    assert predicate(), f"timed out waiting for {what or predicate}"
