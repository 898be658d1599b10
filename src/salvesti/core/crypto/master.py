"""The master key: a 256-bit key in a file of its own (mode 0600), never in the database.

It only wraps (AES-256-GCM) the per-recording data keys, so that the database, a backup of it
or a stolen SD card holds nothing that opens a recording without this file.  The file is one
line, ``salvesti-key-v1:<base64url of 32 bytes>``; its id (the first 16 hex digits of the
key's sha256) is stored with every wrapped key, so a rotation interrupted half-way can tell
which key wraps which recording.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from salvesti.core.crypto.sealed import aesgcm
from salvesti.core.errors import SalvestiError

PREFIX = "salvesti-key-v1:"
KEY_BYTES = 32
_NONCE = 12


class KeyFileError(SalvestiError):
    """The key file is missing, unreadable, malformed, or does not open a data key."""


@dataclass(frozen=True)
class MasterKey:
    key: bytes

    @property
    def id(self) -> str:
        return hashlib.sha256(self.key).hexdigest()[:16]

    def wrap(self, data_key: bytes, label: str) -> bytes:
        """``nonce || AES-GCM(data_key)``, bound to ``label`` (the call id) as associated data."""
        nonce = os.urandom(_NONCE)
        return nonce + aesgcm(self.key).encrypt(nonce, data_key, label.encode())

    def unwrap(self, wrapped: bytes, label: str) -> bytes:
        from cryptography.exceptions import InvalidTag

        try:
            return aesgcm(self.key).decrypt(wrapped[:_NONCE], wrapped[_NONCE:], label.encode())
        except InvalidTag:
            raise KeyFileError(f"the data key of {label} does not open with master key {self.id}") from None

    @classmethod
    def generate(cls) -> MasterKey:
        return cls(os.urandom(KEY_BYTES))  # what AESGCM.generate_key(256) does

    def encode(self) -> str:
        return PREFIX + base64.urlsafe_b64encode(self.key).decode() + "\n"


def write_new(path: Path, key: MasterKey | None = None) -> MasterKey:
    """Create ``path`` with a new key, mode 0600 from the first byte; never overwrite a file."""
    key = key or MasterKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(
            f"{path} exists already; a key is never overwritten (it opens the recordings)"
        ) from None
    try:
        os.write(fd, key.encode().encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return key


def load(path: Path) -> MasterKey:
    """Read the key file, refusing one that others may read (it is worth every recording)."""
    hint = f"create one with `salvesti keys init -c CONFIG` (salvesti.key_file: {path})"
    try:
        info = path.stat()
        text = path.read_text().strip()
    except FileNotFoundError:
        raise KeyFileError(f"encryption is on but the key file {path} does not exist; {hint}") from None
    except OSError as err:
        raise KeyFileError(f"the key file {path} cannot be read: {err.strerror or err}") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"the key file {path} is readable by others (mode {info.st_mode & 0o777:o}); chmod 600 it"
        )
    if not text.startswith(PREFIX):
        raise KeyFileError(f"the key file {path} is not a Salvesti key")
    try:
        raw = base64.urlsafe_b64decode(text[len(PREFIX) :])
    except ValueError:
        raw = b""
    if len(raw) != KEY_BYTES:
        raise KeyFileError(f"the key file {path} is damaged (not a 256-bit key)")
    return MasterKey(raw)
