"""Audio codecs for RTP payloads, one object per stream direction.

G.711 is table driven (see :mod:`g711`); G.722 and Opus go through PyAV (FFmpeg), whose
codec contexts keep state between frames, so every stream needs its own :class:`AudioCodec`
(``get_codec`` always returns a fresh one).  All PCM is mono signed 16-bit little-endian.

Two rates matter and differ for two codecs: ``sample_rate`` is the rate of the PCM going
in and out, ``rtp_clock_rate`` the unit of RTP timestamps.  G.722 samples at 16 kHz but
keeps the 8 kHz RTP clock of RFC 3551 4.5.2 for historical reasons; Opus always uses a
48 kHz RTP clock (RFC 7587 4.1).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from salvesti.core.audio import g711


class CodecError(ValueError):
    """The codec is unknown or a payload could not be decoded."""


class AudioCodec:
    """Base class: subclasses set the rates and implement ``decode``/``encode``."""

    name: str = ""
    sample_rate: int = 8000
    rtp_clock_rate: int = 8000

    def decode(self, payload: bytes) -> bytes:
        """One RTP payload → mono s16le at ``sample_rate``."""
        raise NotImplementedError

    def encode(self, pcm: bytes) -> bytes:
        """Mono s16le at ``sample_rate`` (one frame) → one RTP payload."""
        raise NotImplementedError

    def samples_per_frame(self, ptime_ms: int = 20) -> int:
        """PCM samples (at ``sample_rate``) in one packet of ``ptime_ms``."""
        return self.sample_rate * ptime_ms // 1000

    def timestamp_step(self, ptime_ms: int = 20) -> int:
        """RTP timestamp increment for one packet of ``ptime_ms``."""
        return self.rtp_clock_rate * ptime_ms // 1000

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}/{self.rtp_clock_rate}>"


class PcmuCodec(AudioCodec):
    name = "PCMU"

    decode = staticmethod(g711.ulaw_decode)  # type: ignore[assignment]
    encode = staticmethod(g711.ulaw_encode)  # type: ignore[assignment]


class PcmaCodec(AudioCodec):
    name = "PCMA"

    decode = staticmethod(g711.alaw_decode)  # type: ignore[assignment]
    encode = staticmethod(g711.alaw_encode)  # type: ignore[assignment]


class _AvCodec(AudioCodec):
    """A codec served by PyAV; the contexts are created lazily so unused directions cost nothing."""

    _decoder_name = ""
    _encoder_name = ""

    def __init__(self) -> None:
        self._dec: Any = None
        self._enc: Any = None
        self._pts = 0

    def _context(self, name: str, mode: str) -> Any:
        import av

        ctx = av.CodecContext.create(name, mode)
        ctx.sample_rate = self.sample_rate
        ctx.layout = "mono"
        if mode == "w":
            ctx.format = "s16"
            self._configure_encoder(ctx)
        ctx.open()
        return ctx

    def _configure_encoder(self, ctx: Any) -> None:
        pass

    def decode(self, payload: bytes) -> bytes:
        import av

        if self._dec is None:
            self._dec = self._context(self._decoder_name, "r")
        try:
            frames = self._dec.decode(av.Packet(payload))
        except av.FFmpegError as err:
            raise CodecError(f"{self.name}: cannot decode payload: {err}") from err
        out = []
        for frame in frames:
            arr = frame.to_ndarray()
            if arr.dtype != np.int16:
                arr = np.clip(arr * 32768.0, -32768, 32767).astype(np.int16)
            out.append(arr.reshape(-1).astype("<i2").tobytes())
        return b"".join(out)

    def encode(self, pcm: bytes) -> bytes:
        from av.audio.frame import AudioFrame

        if self._enc is None:
            self._enc = self._context(self._encoder_name, "w")
        samples = np.frombuffer(pcm, dtype="<i2")
        frame = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self.sample_rate
        frame.pts = self._pts
        self._pts += len(samples)
        return b"".join(bytes(p) for p in self._enc.encode(frame))


class G722Codec(_AvCodec):
    name = "G722"
    sample_rate = 16000
    rtp_clock_rate = 8000
    _decoder_name = "g722"
    _encoder_name = "g722"


class OpusCodec(_AvCodec):
    name = "opus"
    sample_rate = 48000
    rtp_clock_rate = 48000
    _decoder_name = "opus"
    _encoder_name = "libopus"

    def _configure_encoder(self, ctx: Any) -> None:
        ctx.bit_rate = 32000


_CODECS: dict[str, type[AudioCodec]] = {
    "PCMU": PcmuCodec,
    "PCMA": PcmaCodec,
    "G722": G722Codec,
    "OPUS": OpusCodec,
}

#: Static payload types of RFC 3551 for the codecs above; Opus is always dynamic.
STATIC_PAYLOAD_TYPES = {"PCMU": 0, "PCMA": 8, "G722": 9}


def supported_codecs() -> list[str]:
    return list(_CODECS)


def get_codec(name: str, clock_rate: int | None = None) -> AudioCodec:
    """A fresh codec for one stream; ``name``/``clock_rate`` as in the SDP rtpmap.

    Raises :class:`CodecError` for a codec or rate we cannot handle.
    """
    cls = _CODECS.get(name.upper())
    if cls is None:
        raise CodecError(f"unsupported codec {name!r} (supported: {', '.join(_CODECS)})")
    if clock_rate is not None and clock_rate != cls.rtp_clock_rate:
        raise CodecError(f"{name}: unsupported RTP clock rate {clock_rate} (expected {cls.rtp_clock_rate})")
    return cls()


def resample(pcm: bytes, from_rate: int, to_rate: int) -> bytes:
    """Mono s16le from one rate to another, statelessly (chunk by chunk is fine).

    Integer down-sampling averages each group of samples (a crude low-pass that keeps
    speech intelligible and costs one numpy reshape); everything else interpolates
    linearly.  Good enough for a recording of telephone speech, not for music.
    """
    if from_rate == to_rate or not pcm:
        return pcm
    src = np.frombuffer(pcm, dtype="<i2", count=len(pcm) // 2)
    if from_rate % to_rate == 0:
        k = from_rate // to_rate
        n = len(src) // k
        out = src[: n * k].reshape(n, k).astype(np.int32).mean(axis=1)
    else:
        n_out = len(src) * to_rate // from_rate
        positions = np.arange(n_out) * (from_rate / to_rate)
        out = np.interp(positions, np.arange(len(src)), src.astype(np.float64))
    return np.round(out).astype("<i2").tobytes()
