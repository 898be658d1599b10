"""The ``local`` recording sink: one file per call in dated folders on a local disk.

``{platform: local, id: disk, path: recordings, format: wav|flac|opus}``.  Files land at
``<path>/YYYY/MM/DD/<call id>.<ext>`` with the date of the call's start in the configured
timezone.  During the call the sink always writes a crash-safe WAV (see
:mod:`salvesti.core.audio.wav`); FLAC and Opus are encoded from it when the call ends, in a
worker thread, and the WAV is then removed.  ``repair`` finishes what a crash cut off.

With ``encrypt: true`` the file is ``<call id>.wav.enc``: the PCM sealed chunk by chunk under
a data key of its own (:mod:`salvesti.core.crypto.sealed`), crash-safe the same way; the
wrapped key lives in the hub's keyring, and ``delete`` destroys it with the file.  Encryption
keeps the WAV format: converting to FLAC or Opus would put plaintext on the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import voluptuous as vol

from salvesti.core.audio.convert import FORMATS, convert_wav
from salvesti.core.audio.wav import WavWriter, repair_wav
from salvesti.core.call import Call, RecordingInfo
from salvesti.core.crypto import sealed
from salvesti.core.crypto.access import SUFFIX, is_sealed, keyring_of, open_sealed
from salvesti.core.crypto.stream import RecordingStream, stream_range
from salvesti.core.errors import SalvestiError
from salvesti.core.plugins import Platform, hookimpl

_LOGGER = logging.getLogger(__name__)


def _encrypt_needs_wav(conf: dict[str, Any]) -> dict[str, Any]:
    if conf.get("encrypt") and conf.get("format", "wav") != "wav":
        raise vol.Invalid("encrypt: true needs format: wav (a conversion would leave plaintext on disk)")
    return conf


SCHEMA = vol.All(
    vol.Schema(
        {
            vol.Required("platform"): "local",
            vol.Required("id"): str,
            vol.Optional("path"): str,
            vol.Optional("format", default="wav"): vol.In(["wav", "flac", "opus"]),
            vol.Optional("encrypt", default=False): bool,
        }
    ),
    _encrypt_needs_wav,
)


class LocalSink:
    """Implements ``core.components.RecordingSink`` on a local folder."""

    def __init__(
        self, hub: Any, sink_id: str, root: Path, fmt: str = "wav", *, encrypt: bool = False
    ) -> None:
        self.hub = hub
        self.id = sink_id
        self.root = root
        self.format = fmt
        #: The hub loads its keyring at start when a sink says so.
        self.encrypt = encrypt

    @classmethod
    def from_config(cls, hub: Any, conf: dict[str, Any]) -> LocalSink:
        root = hub.path(conf["path"]) if conf.get("path") else hub.data_dir / "recordings"
        return cls(hub, conf["id"], root, conf.get("format", "wav"), encrypt=bool(conf.get("encrypt")))

    def __repr__(self) -> str:
        return f"local({self.id})"

    async def async_setup(self) -> None:
        try:
            await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)
        except OSError as err:
            raise SalvestiError(
                f"local({self.id}): cannot create recordings folder {self.root}: {err}"
            ) from err
        if not os.access(self.root, os.W_OK):
            raise SalvestiError(f"local({self.id}): recordings folder {self.root} is not writable")

    async def async_unload(self) -> None:
        return None

    # -- paths -------------------------------------------------------------------------------------
    def folder(self, call: Call) -> Path:
        tz = getattr(self.hub, "tz", None)
        started = call.started_at.astimezone(tz) if tz is not None else call.started_at
        return self.root / f"{started:%Y}" / f"{started:%m}" / f"{started:%d}"

    def wav_path(self, call: Call) -> Path:
        return self.folder(call) / (f"{call.id}.wav{SUFFIX}" if self.encrypt else f"{call.id}.wav")

    def final_path(self, call: Call) -> Path:
        if self.encrypt or self.format == "wav":
            return self.wav_path(call)
        return self.folder(call) / f"{call.id}.{FORMATS[self.format][2]}"

    # -- RecordingSink -------------------------------------------------------------------------------
    def open(self, call: Call, sample_rate: int) -> WavWriter | sealed.SealedWriter:
        """Create the call's WAV (small, blocking: folder creation and a 44-byte header).

        Encrypted: a data key is made and committed to the keyring first, so that whatever is
        sealed with it can be repaired after a crash."""
        path = self.wav_path(call)
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.encrypt:
            return sealed.SealedWriter(path, keyring_of(self.hub).new_key(call.id), sample_rate, channels=2)
        return WavWriter(path, sample_rate, channels=2)

    async def finalize(self, call: Call, writer: Any) -> RecordingInfo:
        return await asyncio.to_thread(self._finalize, call, writer)

    def _finalize(self, call: Call, writer: WavWriter | sealed.SealedWriter) -> RecordingInfo:
        writer.close(fsync=True)
        return self._publish(call, writer.path, writer.sample_rate, writer.duration_s, "saved")

    def _publish(self, call: Call, wav: Path, rate: int, duration: float, status: str) -> RecordingInfo:
        """Convert if configured, fsync, hash: the RecordingInfo the store keeps."""
        final = self.final_path(call)
        if final != wav:
            tmp = final.with_name(final.name + ".part")
            convert_wav(wav, tmp, self.format)
            _fsync_file(tmp)
            os.replace(tmp, final)
            wav.unlink()
        _fsync_dir(final.parent)
        size, digest = _hash(final)
        return RecordingInfo(
            path=str(final.resolve()),
            format=self.format,
            sample_rate=rate,
            channels=2,
            duration_s=round(duration, 3),
            bytes=size,
            sha256=digest,
            status=status,
        )

    async def delete(self, call: Call) -> bool:
        def remove() -> bool:
            gone = False
            for path in {self.final_path(call), self.wav_path(call), *_recorded_path(call)}:
                try:
                    path.unlink()
                    gone = True
                except FileNotFoundError:
                    pass
            if self.encrypt or any(is_sealed(p) for p in _recorded_path(call)):
                # crypto-erase: every copy of the file (backups, worn flash blocks) is noise now
                gone = keyring_of(self.hub).forget(call.id) or gone
            return gone

        return await asyncio.to_thread(remove)

    @contextlib.asynccontextmanager
    async def open_recording(
        self, call: Call, byte_range: str | None
    ) -> AsyncIterator[RecordingStream | None]:
        """Playback of a sealed recording, decrypted range by range; None: a plain file."""
        path = call.recording.path if call.recording is not None else ""
        if not path or not is_sealed(path):
            yield None
            return
        sealed_file = await asyncio.to_thread(open_sealed, self.hub, call)
        try:
            yield stream_range(sealed_file, byte_range)
        finally:
            sealed_file.close()

    async def repair(self, call: Call) -> RecordingInfo | None:
        """Finish a recording cut off by a crash: fix the WAV, convert, hash; None if no file."""
        return await asyncio.to_thread(self._repair, call)

    def _repair(self, call: Call) -> RecordingInfo | None:
        rate = call.recording.sample_rate if call.recording is not None else 8000
        if self.encrypt:
            return self._repair_sealed(call, rate)
        candidates = (*_recorded_path(call), self.wav_path(call))
        wav = next((p for p in candidates if p.suffix == ".wav" and p.exists()), None)
        if wav is not None:
            duration = repair_wav(wav, sample_rate=rate, channels=2)
            if self.format != "wav" and duration == 0:
                wav.unlink()
                return None
            info = self._publish(call, wav, rate, duration, "repaired")
            _LOGGER.warning("local(%s): repaired %s (%.1f s)", self.id, info.path, duration)
            return info
        final = self.final_path(call)
        if final.exists():  # converted before the crash, saved to the store after it
            size, digest = _hash(final)
            duration = call.recording.duration_s if call.recording is not None else None
            return RecordingInfo(
                path=str(final.resolve()), format=self.format, sample_rate=rate, channels=2,
                duration_s=duration, bytes=size, sha256=digest, status="repaired",
            )  # fmt: skip
        return None

    def _repair_sealed(self, call: Call, rate: int) -> RecordingInfo | None:
        path = self.wav_path(call)
        key = keyring_of(self.hub).data_key(call.id) if path.exists() else None
        if key is None:
            return None  # no file, or its key is gone: nothing can be recovered
        duration = sealed.repair(path, key)
        info = self._publish(call, path, rate, duration, "repaired")
        _LOGGER.warning("local(%s): repaired %s (%.1f s)", self.id, info.path, duration)
        return info


def _recorded_path(call: Call) -> list[Path]:
    if call.recording is not None and call.recording.path:
        return [Path(call.recording.path)]
    return []


def _hash(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        _fsync_file(path)
    except OSError:  # some filesystems refuse fsync on a directory; the data is synced already
        pass


@hookimpl
def register_recording_sinks(register: Any) -> None:
    register(
        Platform(
            kind="sink",
            name="local",
            schema=SCHEMA,
            factory=LocalSink.from_config,
            description="Recordings as files in dated folders on a local disk (wav, flac or opus)",
        )
    )
