"""File-level audio conversion through PyAV: WAV → FLAC/Opus, and any file → mono PCM.

Blocking and CPU-heavy: callers run these in a worker thread (``asyncio.to_thread``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from salvesti.core.audio.wav import wav_layout

#: format name → (container, codec, file extension)
FORMATS = {"flac": ("flac", "flac", "flac"), "opus": ("ogg", "libopus", "opus")}
_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


def convert_wav(src: str | Path, dst: str | Path, fmt: str) -> None:
    """Encode the 16-bit WAV ``src`` as ``fmt`` (flac or opus) into ``dst``, channels kept.

    Streams the file in blocks, so an hour-long recording (115 MB of WAV) does not have to
    fit in a Raspberry Pi's memory at once.
    """
    import av
    from av.audio.frame import AudioFrame

    container_fmt, codec_name, _ext = FORMATS[fmt]
    with open(src, "rb") as fh:
        (_tag, channels, rate, bits), _size_at, data_at = wav_layout(fh.read(4096))
        if bits != 16:
            raise ValueError(f"{src}: only 16-bit WAV can be converted, not {bits}-bit")
        if codec_name == "libopus" and rate not in _OPUS_RATES:
            raise ValueError(f"opus cannot encode {rate} Hz audio")
        fh.seek(data_at)
        layout = "stereo" if channels == 2 else "mono"
        chunk = 4096 if codec_name == "flac" else rate // 50
        block_bytes = chunk * channels * 2
        with av.open(str(dst), "w", format=container_fmt) as out:
            stream = out.add_stream(codec_name, rate=rate, layout=layout)
            if codec_name == "libopus":
                stream.bit_rate = 24000 * channels
            stream.format = "s16"
            pts = 0
            while data := fh.read(block_bytes):
                data = data[: len(data) - len(data) % (channels * 2)]
                if not data:
                    break
                block = np.frombuffer(data, dtype="<i2")
                if codec_name == "libopus" and len(data) < block_bytes:
                    block = np.concatenate([block, np.zeros((block_bytes - len(data)) // 2, np.int16)])
                frame = AudioFrame.from_ndarray(block.reshape(1, -1), format="s16", layout=layout)
                frame.sample_rate = rate
                frame.pts = pts
                pts += len(block) // channels
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))


def _plain_wav_to_mono(path: str | Path, sample_rate: int) -> bytes | None:
    """A 16-bit PCM WAV at ``sample_rate`` or an integer fraction of it, read without FFmpeg.

    The notices shipped and recommended are such files; reading them with the standard
    library keeps PyAV (about 20 MB) out of an idle recorder on a Raspberry Pi.  Up-sampling
    by an integer factor interpolates linearly, as the media path does; anything else
    (down-sampling, other encodings) returns None and goes through FFmpeg's resampler.
    """
    import wave

    try:
        with wave.open(str(path), "rb") as w:
            if w.getsampwidth() != 2 or w.getcomptype() != "NONE":
                return None
            rate, channels, frames = w.getframerate(), w.getnchannels(), w.readframes(w.getnframes())
    except (wave.Error, EOFError):
        return None
    if not rate or sample_rate % rate:
        return None
    samples = np.frombuffer(frames, dtype="<i2")
    if channels > 1:
        n = len(samples) // channels
        samples = samples[: n * channels].reshape(n, channels).astype(np.int32).mean(axis=1)
        samples = np.round(samples).astype("<i2")
    from salvesti.core.audio.codecs import resample

    return resample(samples.astype("<i2").tobytes(), rate, sample_rate)


def decode_to_mono(path: str | Path, sample_rate: int) -> bytes:
    """Decode any audio file FFmpeg reads into mono s16le at ``sample_rate``."""
    plain = _plain_wav_to_mono(path, sample_rate)
    if plain is not None:
        return plain
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
