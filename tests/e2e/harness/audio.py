"""Audio fixtures and the checks that tell whose voice is on which recording channel.

Fixtures are generated at session start (espeak-ng + sox, milliseconds each) instead of being
committed: each party speaks a different text, so a channel can be attributed to a party.
G.711 and Opus do not preserve waveforms well enough to compare samples, so channels are
compared by their 20 ms RMS envelopes (log scale), correlated over a sliding offset.
"""

from __future__ import annotations

import hashlib
import random
import struct
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from harness.procs import require_tool

from salvesti.testing.speech import speak

RATE = 8000
FRAME_S = 0.02

#: (name, espeak voice, speed, text).  Distinct voices and texts for every party.
TEXTS = {
    "phone_a": (
        "en-us",
        165,
        "Good morning, this is the office of the north harbour bakery. "
        "We bake rye bread every day at five. Please tell me your order number now. "
        "Thank you, I will check the delivery list and call you back in ten minutes.",
    ),
    "phone_b": (
        "en-gb",
        150,
        "Hello, accounting department speaking, how may I help you today? "
        "The invoice was sent on Tuesday by post and also by electronic mail. "
        "If it did not arrive, I can send a new copy at once.",
    ),
    "outside": (
        "en-gb-x-rp",
        140,
        "Hi there. I am calling about the cake I ordered last week "
        "for my daughter's birthday. Can you confirm the pickup time on Saturday morning? "
        "Also, is it possible to add candles and a card with her name?",
    ),
    "notice": ("et", 160, "See kõne salvestatakse."),
}


@dataclass(frozen=True)
class AudioSet:
    """Paths of one session's fixtures (all 8 kHz mono s16 WAV unless named otherwise)."""

    dir: Path
    phone_a: Path
    phone_b: Path
    outside: Path
    notice: Path
    tone: Path
    outside_ulaw_pcap: Path
    outside_alaw_pcap: Path
    phone_a_ulaw_pcap: Path

    def duration(self, path: Path) -> float:
        with wave.open(str(path)) as w:
            return w.getnframes() / w.getframerate()


def _sox(args: list[str]) -> None:
    subprocess.run(["timeout", "30", "sox", *args], check=True, capture_output=True)


def _speak(voice: str, speed: int, text: str, out: Path, pad_s: float) -> None:
    """8 kHz mono 16-bit speech, normalised, with ``pad_s`` of silence after (salvesti.testing)."""
    speak(text, out, voice=voice, speed=speed, rate=RATE, pad_s=pad_s)


def make_audio_set(directory: Path) -> AudioSet:
    """Generate every fixture into ``directory`` (fails loudly when espeak-ng or sox is missing)."""
    require_tool("espeak-ng")
    require_tool("sox")
    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, (voice, speed, text) in TEXTS.items():
        paths[name] = directory / f"{name}.wav"
        _speak(voice, speed, text, paths[name], 0.0 if name == "notice" else 3.0)
    tone = directory / "tone1k.wav"
    _sox(
        ["-n", "-r", str(RATE), "-c", "1", "-b", "16", str(tone), "synth", "20", "sine", "1000", "vol", "0.5"]
    )
    pcaps = {}
    for law, pt in (("u-law", 0), ("a-law", 8)):
        g711 = directory / f"outside_{law}.wav"
        _sox([str(paths["outside"]), "-e", law, str(g711)])
        pcaps[law] = directory / f"outside_{law.replace('-', '')}.pcap"
        write_rtp_pcap(_g711_payload(g711), pt, pcaps[law])
    phone_ulaw = directory / "phone_a_u-law.wav"
    _sox([str(paths["phone_a"]), "-e", "u-law", str(phone_ulaw)])
    pcaps["phone_a"] = directory / "phone_a_ulaw.pcap"
    write_rtp_pcap(_g711_payload(phone_ulaw), 0, pcaps["phone_a"])
    return AudioSet(
        directory,
        paths["phone_a"],
        paths["phone_b"],
        paths["outside"],
        paths["notice"],
        tone,
        pcaps["u-law"],
        pcaps["a-law"],
        pcaps["phone_a"],
    )


def _g711_payload(path: Path) -> bytes:
    data = path.read_bytes()
    pos = 12
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if cid == b"data":
            return data[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)
    raise ValueError(f"{path}: no data chunk")


def write_rtp_pcap(payload: bytes, payload_type: int, out: Path, ptime_ms: int = 20) -> int:
    """Write G.711 bytes as a libpcap file of RTP packets that sipp's play_pcap_audio replays.

    Ethernet + IPv4 + UDP framing on 127.0.0.1; sipp rewrites addresses and ports when playing.
    Returns the number of packets.
    """
    spp = 8 * ptime_ms
    ssrc, seq, ts = random.getrandbits(32), random.getrandbits(16), random.getrandbits(32)
    lo = bytes([127, 0, 0, 1])
    out_parts = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    t_us = 0
    count = 0
    for i in range(0, len(payload) - spp + 1, spp):
        marker = 0x80 if i == 0 else 0
        rtp = struct.pack("!BBHII", 0x80, payload_type | marker, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc)
        rtp += payload[i : i + spp]
        udp = struct.pack("!HHHH", 10000, 20000, 8 + len(rtp), 0) + rtp
        iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, lo, lo)
        s = sum(struct.unpack("!10H", iph))
        s = (s & 0xFFFF) + (s >> 16)
        s = (s & 0xFFFF) + (s >> 16)
        iph = iph[:10] + struct.pack("!H", ~s & 0xFFFF) + iph[12:]
        frame = b"\x00" * 12 + b"\x08\x00" + iph + udp
        out_parts.append(
            struct.pack("<IIII", t_us // 1_000_000, t_us % 1_000_000, len(frame), len(frame)) + frame
        )
        seq += 1
        ts += spp
        t_us += ptime_ms * 1000
        count += 1
    out.write_bytes(b"".join(out_parts))
    return count


# -- reading and checking recordings --------------------------------------------------------


@dataclass
class WavInfo:
    channels: int
    sample_rate: int
    bits: int
    frames: int
    duration_s: float


def check_wav_header(path: Path) -> WavInfo:
    """Parse a RIFF/WAVE file strictly: sizes must agree with the file (a finalised header)."""
    data = Path(path).read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE", f"{path}: not a RIFF/WAVE file"
    riff_size = struct.unpack("<I", data[4:8])[0]
    assert riff_size == len(data) - 8, f"{path}: RIFF size {riff_size} != file size - 8 ({len(data) - 8})"
    pos, fmt, data_size = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if cid == b"fmt ":
            fmt = struct.unpack("<HHIIHH", data[pos + 8 : pos + 24])
        elif cid == b"data":
            data_size = size
            assert pos + 8 + size <= len(data), f"{path}: data chunk runs past the end of the file"
        pos += 8 + size + (size & 1)
    assert fmt is not None, f"{path}: no fmt chunk"
    assert data_size is not None, f"{path}: no data chunk"
    tag, channels, rate, byte_rate, align, bits = fmt
    assert tag in (1, 0xFFFE), f"{path}: not PCM (format tag {tag})"
    assert align == channels * bits // 8 and byte_rate == rate * align, f"{path}: inconsistent fmt chunk"
    frames = data_size // align
    return WavInfo(channels, rate, bits, frames, frames / rate)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_channels(path: Path) -> tuple[np.ndarray, int]:
    """Samples as float array shaped (frames, channels), and the sample rate."""
    with wave.open(str(path)) as w:
        n, ch, rate = w.getnframes(), w.getnchannels(), w.getframerate()
        assert w.getsampwidth() == 2, f"{path}: expected 16-bit samples"
        x = np.frombuffer(w.readframes(n), "<i2").astype(np.float64)
    return x.reshape(-1, ch), rate


def envelope(samples: np.ndarray, rate: int) -> np.ndarray:
    """20 ms RMS envelope on a log scale (codec- and level-robust)."""
    n = int(rate * FRAME_S)
    x = samples[: len(samples) // n * n].reshape(-1, n)
    return np.log10(np.sqrt((x**2).mean(axis=1)) + 1.0)


def wav_envelope(path: Path, channel: int = 0) -> np.ndarray:
    x, rate = read_channels(path)
    return envelope(x[:, channel], rate)


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt((samples**2).mean())) if len(samples) else 0.0


@dataclass
class Match:
    corr: float
    offset_s: float
    runner_up: float

    def __str__(self) -> str:
        return f"corr {self.corr:.3f} at {self.offset_s:.2f} s (best elsewhere {self.runner_up:.3f})"


def locate(needle: np.ndarray, haystack: np.ndarray) -> Match:
    """Where the envelope ``needle`` best fits inside ``haystack`` (normalised cross-correlation).

    ``runner_up`` is the best correlation at least 0.4 s away from the winner: a real match
    stands out from it, a coincidence does not.
    """
    m = len(needle)
    assert m >= 10, "needle too short"
    assert len(haystack) >= m, f"haystack ({len(haystack)} frames) shorter than needle ({m})"
    nd = (needle - needle.mean()) / (needle.std() + 1e-9)
    windows = np.lib.stride_tricks.sliding_window_view(haystack, m)
    mu = windows.mean(axis=1, keepdims=True)
    sd = windows.std(axis=1, keepdims=True) + 1e-9
    corr = (((windows - mu) / sd) @ nd) / m
    best = int(np.argmax(corr))
    far = np.abs(np.arange(len(corr)) - best) > 20
    runner = float(corr[far].max()) if far.any() else -1.0
    return Match(float(corr[best]), best * FRAME_S, runner)


def segment(env: np.ndarray, start_s: float, length_s: float) -> np.ndarray:
    a = int(start_s / FRAME_S)
    return env[a : a + int(length_s / FRAME_S)]


def active_fraction(samples: np.ndarray, rate: int, threshold: float = 200.0) -> float:
    """Share of 20 ms frames whose RMS is above ``threshold`` (s16 units): 'is anyone talking'."""
    n = int(rate * FRAME_S)
    x = samples[: len(samples) // n * n].reshape(-1, n)
    if not len(x):
        return 0.0
    return float((np.sqrt((x**2).mean(axis=1)) > threshold).mean())


def outside_ulaw(audio: AudioSet) -> bytes:
    """The outside party's speech as PCMU bytes, for peers that packetise it themselves."""
    return _g711_payload(audio.dir / "outside_u-law.wav")
