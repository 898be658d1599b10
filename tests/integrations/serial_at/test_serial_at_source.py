"""The serial_at source in a running hub, against the modem simulator on real ptys:
inbound call -> caller ID -> answer on the 2nd ring -> notice -> stereo recording -> hang-up."""

from __future__ import annotations

import asyncio
import math
import struct
import wave
from pathlib import Path

import pytest

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
    answer_after_rings: 2
"""


def tone(seconds: float, freq: float, amp: int = 8000, rate: int = 8000) -> bytes:
    n = int(seconds * rate)
    return struct.pack(f"<{n}h", *(int(amp * math.sin(2 * math.pi * freq * i / rate)) for i in range(n)))


def write_wav(path: Path, pcm: bytes, rate: int = 8000) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)


def rms(pcm: bytes) -> float:
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm[: len(pcm) // 2 * 2])
    return math.sqrt(sum(s * s for s in samples) / max(len(samples), 1))


async def run_call(tmp_path: Path, profile: str, *, notice_s: float = 0.5, talk_s: float = 1.0):
    notice = tone(notice_s, 1000.0)
    write_wav(tmp_path / "notice.wav", notice)
    sim = ModemSimulator(profile, tmp_path / "ttyMODEM", ring_period=0.2)
    far = tone(3.0, 440.0)
    sim.set_far_audio(far)
    audio = f"    audio_device: {sim.audio_path}\n" if sim.audio_path else ""
    (tmp_path / "config.yaml").write_text(CONFIG.format(device=sim.path, audio=audio, profile=profile))
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    config = load_config(tmp_path / "config.yaml", plugins)
    hub = Hub(config, config_path=tmp_path / "config.yaml", plugins=plugins)
    ended: list[dict] = []
    hub.bus.subscribe(CALL_ENDED, lambda e: ended.append(e.data))
    sim.start()
    try:
        await hub.async_start()
        assert [s["state"] for s in hub.status() if s["kind"] == "source"] == ["loaded"]
        sim.incoming_call("55512345", "Mari")
        for _ in range(100):
            if sim.state == "active":
                break
            await asyncio.sleep(0.05)
        assert sim.state == "active", sim.format_log()
        await asyncio.sleep(notice_s + talk_s)
        sim.remote_hangup()
        for _ in range(100):
            if ended:
                break
            await asyncio.sleep(0.05)
        assert ended, sim.format_log()
        return ended[0], sim, notice
    finally:
        await hub.async_stop(call_timeout=1)
        sim.stop()


def read_stereo(path: str) -> tuple[bytes, bytes, int]:
    with wave.open(path, "rb") as w:
        assert (w.getnchannels(), w.getsampwidth()) == (2, 2)
        frames = w.readframes(w.getnframes())
        rate = w.getframerate()
    samples = struct.unpack(f"<{len(frames) // 2}h", frames)
    left = struct.pack(f"<{len(samples) // 2}h", *samples[0::2])
    right = struct.pack(f"<{len(samples) // 2}h", *samples[1::2])
    return left, right, rate


@pytest.mark.parametrize("profile", ["simcom_sim7600", "quectel_ec2x", "v253_voice_modem"])
async def test_inbound_call_recorded_with_notice(tmp_path, profile):
    call, sim, notice = await run_call(tmp_path, profile)
    assert call["source"] == "gsm" and call["direction"] == "inbound"
    assert call["line"] == "+37255500000"
    assert call["remote_number"] == "+37255512345"
    assert call["disposition"] == "answered"
    assert call["notice"]["played"] and call["notice"]["complete"]
    assert call["recording"]["status"] == "saved", call
    # The far party heard the notice (through the device, in its own sample format).
    heard = sim.received_audio()
    assert len(heard) >= len(notice) * 0.9
    assert rms(heard) > 3000
    # Left = what the outside party said (the 440 Hz tone), right = the notice.
    left, right, rate = read_stereo(call["recording"]["path"])
    assert rate == 8000
    assert abs(call["recording"]["duration_s"] - call["duration_s"]) < 0.3
    notice_part = right[: int(0.4 * rate) * 2]
    assert rms(notice_part) > 3000
    if profile != "v253_voice_modem":  # full duplex: the caller is recorded during the notice too
        assert rms(left[int(0.1 * rate) * 2 : int(0.4 * rate) * 2]) > 3000
    assert rms(left[int(0.8 * rate) * 2 : int(1.2 * rate) * 2]) > 3000
