"""File-level audio conversion through PyAV: WAV → FLAC/Opus, and any file → mono PCM.

Blocking and CPU-heavy: callers run these in a worker thread (``asyncio.to_thread``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from salvesti.core.audio.wav import read_wav

#: format name → (container, codec, file extension)
FORMATS = {"flac": ("flac", "flac", "flac"), "opus": ("ogg", "libopus", "opus")}
_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


def convert_wav(src: str | Path, dst: str | Path, fmt: str) -> None:
    """Encode the 16-bit WAV ``src`` as ``fmt`` (flac or opus) into ``dst``, channels kept."""
    import av
    from av.audio.frame import AudioFrame

    container_fmt, codec_name, _ext = FORMATS[fmt]
    wav = read_wav(src)
    if wav.bits != 16:
        raise ValueError(f"{src}: only 16-bit WAV can be converted, not {wav.bits}-bit")
    layout = "stereo" if wav.channels == 2 else "mono"
    samples = np.frombuffer(wav.frames, dtype="<i2").reshape(-1, wav.channels)
    rate = wav.sample_rate
    if codec_name == "libopus" and rate not in _OPUS_RATES:
        raise ValueError(f"opus cannot encode {rate} Hz audio")
    with av.open(str(dst), "w", format=container_fmt) as out:
        stream = out.add_stream(codec_name, rate=rate, layout=layout)
        if codec_name == "libopus":
            stream.bit_rate = 24000 * wav.channels
        stream.format = "s16"
        chunk = 4096 if codec_name == "flac" else rate // 50
        pts = 0
        for pos in range(0, len(samples), chunk):
            block = samples[pos : pos + chunk]
            if len(block) < chunk and codec_name == "libopus":
                block = np.concatenate([block, np.zeros((chunk - len(block), wav.channels), np.int16)])
            frame = AudioFrame.from_ndarray(
                np.ascontiguousarray(block).reshape(1, -1), format="s16", layout=layout
            )
            frame.sample_rate = rate
            frame.pts = pts
            pts += len(block)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def decode_to_mono(path: str | Path, sample_rate: int) -> bytes:
    """Decode any audio file FFmpeg reads into mono s16le at ``sample_rate``."""
    import av
    from av.audio.resampler import AudioResampler

    resampler = AudioResampler(format="s16", layout="mono", rate=sample_rate)
    out: list[bytes] = []
    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise ValueError(f"{path}: no audio stream")
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            for res in resampler.resample(frame):
                out.append(res.to_ndarray().astype("<i2").tobytes())
        for res in resampler.resample(None):
            out.append(res.to_ndarray().astype("<i2").tobytes())
    return b"".join(out)
