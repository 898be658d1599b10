"""Opening a call's recording for reading, whether it is sealed or a plain file.

The API's playback, the waveform, ``subject export`` and the analysis all go through here, so
a sealed recording reads as the WAV it was, and only where the key is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from salvesti.core.call import Call
from salvesti.core.crypto.sealed import SealedError, SealedFile

#: Suffix of a sealed recording (``<call id>.wav.enc``).
SUFFIX = ".enc"


def is_sealed(path: str | Path) -> bool:
    return str(path).endswith(SUFFIX)


def keyring_of(hub: Any) -> Any:
    """The hub's keyring; a command (``subject export``) or a hub whose sinks no longer
    encrypt opens it on first use.  Raises :class:`KeyFileError` without a readable key."""
    if getattr(hub, "keyring", None) is None:
        from salvesti.core.crypto.keyring import Keyring

        hub.keyring = Keyring.open(hub.key_file, hub.data_dir / "keys.db")
    return hub.keyring


def export_plain(hub: Any, call: Call, dest: Path) -> None:
    """Write ``call``'s sealed recording to ``dest`` as the WAV it was (blocking)."""
    import shutil

    with open_sealed(hub, call) as sealed, dest.open("wb") as out:
        shutil.copyfileobj(sealed.reader(), out, 1 << 20)


def open_sealed(hub: Any, call: Call) -> SealedFile:
    """The sealed recording of ``call``; raises :class:`SealedError` when it cannot be opened."""
    if call.recording is None or not call.recording.path:
        raise SealedError(f"call {call.id} has no recording")
    key = keyring_of(hub).data_key(call.id)
    if key is None:
        raise SealedError(f"the key of {call.id}'s recording was destroyed: the recording cannot be read")
    return SealedFile(Path(call.recording.path), key)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end)`` inclusive for one ``bytes=`` range of a ``size``-byte body.

    None: serve the whole body (no header, a multi-range or a unit we do not speak, which
    RFC 9110 lets a server ignore).  Raises ValueError for a range that cannot be satisfied.
    """
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[6:].strip().partition("-")
    try:
        if not first:  # the last N bytes
            n = int(last)
            if n <= 0:
                raise ValueError
            return max(0, size - n), size - 1
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        raise ValueError(f"bad range {header!r}") from None
    if start >= size or end < start:
        raise ValueError(f"range {header!r} is outside the {size} bytes")
    return start, min(end, size - 1)
