"""Reading a finished recording into the two parties' channels, in a worker process.

WAV (what the local sink writes first) is read directly; FLAC and Opus through FFmpeg.  Every
way a file can be unusable ends as :class:`AnalysisError` with a message a person can act on,
so a broken file fails its job once instead of being retried forever.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from salvesti.core.analyzers import AnalysisError
from salvesti.core.audio.wav import WavError, read_wav


def read_stereo(path: str | Path, key: bytes | None = None) -> tuple[int, np.ndarray, np.ndarray]:
    """``(rate, left, right)`` as int16 arrays; raises AnalysisError.  ``key``: the data key of
    an encrypted recording, decrypted in memory."""
    file = Path(path)
    if not file.is_file():
        raise AnalysisError(f"the recording file is missing: {file}")
    if key is not None:
        rate, channels, samples = _read_sealed(file, key)
    elif file.suffix.lower() == ".wav":
        try:
            wav = read_wav(file)
        except (WavError, OSError, ValueError) as err:
            raise AnalysisError(f"the recording cannot be read: {err}") from None
        if wav.bits != 16:
            raise AnalysisError(f"the recording is {wav.bits}-bit; 16-bit PCM expected")
        samples = np.frombuffer(wav.frames, dtype="<i2")
        rate, channels = wav.sample_rate, wav.channels
    else:
        rate, channels, samples = _decode(file)
    if channels != 2:
        raise AnalysisError(f"the recording has {channels} channel(s); analysis needs the stereo layout")
    if samples.size < 2 * rate * 0.1:
        raise AnalysisError("the recording is shorter than 0.1 s")
    frames = samples[: samples.size - samples.size % 2].reshape(-1, 2)
    return rate, np.ascontiguousarray(frames[:, 0]), np.ascontiguousarray(frames[:, 1])


def _read_sealed(file: Path, key: bytes) -> tuple[int, int, np.ndarray]:
    from salvesti.core.crypto.sealed import WAV_HEADER_BYTES, SealedError, SealedFile

    try:
        with SealedFile(file, key) as sealed:
            pcm = sealed.read(WAV_HEADER_BYTES, sealed.pcm_bytes)
            return sealed.sample_rate, sealed.channels, np.frombuffer(pcm, dtype="<i2")
    except (SealedError, OSError) as err:
        raise AnalysisError(f"the recording cannot be read: {err}") from None


def _decode(file: Path) -> tuple[int, int, np.ndarray]:
    import av
    from av.audio.resampler import AudioResampler

    try:
        with av.open(str(file)) as container:
            if not container.streams.audio:
                raise AnalysisError(f"{file.name}: no audio stream")
            stream = container.streams.audio[0]
            rate = stream.rate or 8000
            channels = stream.channels
            resampler = AudioResampler(format="s16", layout="stereo" if channels == 2 else "mono", rate=rate)
            chunks: list[np.ndarray] = []
            for frame in container.decode(stream):
                for res in resampler.resample(frame):
                    chunks.append(res.to_ndarray().reshape(-1))
            for res in resampler.resample(None):
                chunks.append(res.to_ndarray().reshape(-1))
    except AnalysisError:
        raise
    except Exception as err:  # FFmpeg's errors are many kinds; all mean "cannot read this file"
        raise AnalysisError(f"the recording cannot be decoded: {err}") from None
    data = np.concatenate(chunks).astype("<i2") if chunks else np.zeros(0, dtype="<i2")
    return rate, channels, data
