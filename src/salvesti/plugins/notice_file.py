"""The ``audio_file`` notice: the recording notice played from an audio file.

``{platform: audio_file, id: et, file: notices/et.wav, directions: [inbound, outbound],
lines: [...], callers: ["+7", "+375"], name: ...}``.  ``callers`` are prefixes of the outside
number: the hub prefers such a notice for a matching number (a Russian prompt for Russian
callers) and falls back to a notice without ``callers``, which every line therefore still needs.

Any file FFmpeg reads is accepted (WAV of any rate, width or channel count, also FLAC, MP3,
Ogg); it is decoded once at setup, so a missing or broken file is a setup error that names the
file, not a silent call, and converted per sample rate on demand (cached).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import voluptuous as vol

from salvesti.core.audio.convert import decode_to_mono
from salvesti.core.errors import SalvestiError
from salvesti.core.plugins import Platform, hookimpl

SCHEMA = vol.Schema(
    {
        vol.Required("platform"): "audio_file",
        vol.Required("id"): str,
        vol.Required("file"): str,
        vol.Optional("directions", default=["inbound", "outbound"]): [
            vol.In(["inbound", "outbound", "internal"])
        ],
        vol.Optional("lines"): [str],
        vol.Optional("callers"): [
            vol.All(
                vol.Coerce(str),
                lambda v: v.replace(" ", ""),
                vol.Match(r"^\+\d{1,15}$", msg="expected an international prefix such as '+7' or '+375'"),
            )
        ],
        vol.Optional("name"): str,
    }
)

#: Rates decoded at setup: G.711/G.729 phones and wideband (G.722) phones.
_PRELOAD_RATES = (8000, 16000)


class AudioFileNotice:
    """Implements ``core.components.NoticePlayer`` from one audio file."""

    def __init__(
        self,
        notice_id: str,
        file: Path,
        *,
        directions: list[str] | None = None,
        lines: list[str] | None = None,
        callers: list[str] | None = None,
        name: str | None = None,
    ) -> None:
        self.id = notice_id
        self.file = file
        self.directions = list(directions or ["inbound", "outbound"])
        self.lines = list(lines) if lines else None
        #: Outside-number prefixes this notice is meant for (None: any caller).
        self.callers = list(callers) if callers else None
        self.name = name or file.stem
        self._cache: dict[int, bytes] = {}

    @classmethod
    def from_config(cls, hub: Any, conf: dict[str, Any]) -> AudioFileNotice:
        lines = conf.get("lines")
        if lines:
            lines = [hub.normalize(line) or line for line in lines]
        return cls(
            conf["id"],
            hub.path(conf["file"]),
            directions=conf.get("directions"),
            lines=lines,
            callers=conf.get("callers"),
            name=conf.get("name"),
        )

    def __repr__(self) -> str:
        return f"audio_file({self.id})"

    async def async_setup(self) -> None:
        for rate in _PRELOAD_RATES:
            await asyncio.to_thread(self.pcm, rate)

    async def async_unload(self) -> None:
        self._cache.clear()

    def pcm(self, sample_rate: int) -> bytes:
        """The notice as mono s16le at ``sample_rate`` (decoded once per rate)."""
        cached = self._cache.get(sample_rate)
        if cached is not None:
            return cached
        if not self.file.is_file():
            raise SalvestiError(f"audio_file({self.id}): notice file {self.file} does not exist")
        try:
            audio = decode_to_mono(self.file, sample_rate)
        except Exception as err:
            raise SalvestiError(f"audio_file({self.id}): cannot read notice file {self.file}: {err}") from err
        if not audio:
            raise SalvestiError(f"audio_file({self.id}): notice file {self.file} holds no audio")
        self._cache[sample_rate] = audio
        return audio

    def duration_s(self, sample_rate: int = 8000) -> float:
        return len(self.pcm(sample_rate)) / 2 / sample_rate


@hookimpl
def register_notice_players(register: Any) -> None:
    register(
        Platform(
            kind="notice",
            name="audio_file",
            schema=SCHEMA,
            factory=AudioFileNotice.from_config,
            description="Recording notice played from an audio file (any format FFmpeg reads)",
        )
    )
