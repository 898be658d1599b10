"""The wrapped data keys: one per recording, in ``data_dir/keys.db``, apart from the files.

Each recording gets a fresh 256-bit data key; only its wrapped form (AES-GCM under the master
key, bound to the call id) is stored, and it is committed before the first audio is sealed,
so a recording cut off by a crash can always be repaired.  Deleting the row is the
crypto-erase: the file, and every copy of it in backups or worn-out flash blocks, is noise
from then on.  ``secure_delete`` makes SQLite overwrite the freed page; a wrapped key that
lingers in an old backup of this file is still useless once the master key has been rotated.

A separate small database rather than the call store: every store (SQLite, PostgreSQL) gets
encryption for free, the keys never travel with call objects (API, webhooks, MQTT), and
``salvesti keys rotate`` re-wraps them in one transaction.  Blocking (one small commit per
recording); callers on the event loop accept that at recording start, as for the file's open.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from pathlib import Path

from salvesti.core.crypto.master import KeyFileError, MasterKey, load

_SCHEMA = """
CREATE TABLE IF NOT EXISTS data_keys (
    call_id TEXT PRIMARY KEY,
    master_id TEXT NOT NULL,
    wrapped BLOB NOT NULL
)
"""


def pending_path(key_file: Path) -> Path:
    """Where ``keys rotate`` writes the new master key before it replaces the old one."""
    return key_file.with_name(key_file.name + ".new")


class Keyring:
    """Data keys by call id, wrapped by ``masters[0]`` (others: a rotation not yet finished)."""

    def __init__(self, db_path: Path, masters: list[MasterKey], *, exclusive: bool = False) -> None:
        self.path = db_path
        self.master = masters[0]
        self._masters = {m.id: m for m in masters}
        db_path.parent.mkdir(parents=True, exist_ok=True)
        # Shared while recording or exporting, exclusive to rotate: a rotation under a running
        # Salvesti would let it wrap new keys with the master key being retired.
        self._lock_fd = os.open(db_path.with_name(db_path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            what = "salvesti is running (stop it first)" if exclusive else "a key rotation is running"
            raise KeyFileError(f"the keyring {db_path} is in use: {what}") from None
        self._lock = threading.Lock()
        self._db = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA secure_delete = ON")
        self._db.execute("PRAGMA synchronous = FULL")
        self._db.execute(_SCHEMA)
        os.chmod(db_path, 0o600)

    @classmethod
    def open(cls, key_file: Path, db_path: Path, *, exclusive: bool = False) -> Keyring:
        """The master key from ``key_file`` (and ``<key_file>.new`` left by an interrupted
        rotation, which then wraps some keys already); raises :class:`KeyFileError`."""
        masters = [load(key_file)]
        pending = pending_path(key_file)
        if pending.exists():
            masters.append(load(pending))
        return cls(db_path, masters, exclusive=exclusive)

    def close(self) -> None:
        with self._lock:
            self._db.close()
            os.close(self._lock_fd)

    def new_key(self, call_id: str) -> bytes:
        """A fresh data key for ``call_id``, stored wrapped (replacing any earlier one)."""
        key = os.urandom(32)
        wrapped = self.master.wrap(key, call_id)
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO data_keys (call_id, master_id, wrapped) VALUES (?, ?, ?)",
                (call_id, self.master.id, wrapped),
            )
        return key

    def data_key(self, call_id: str) -> bytes | None:
        """The data key of ``call_id``, or None when it was destroyed (or never made)."""
        with self._lock:
            row = self._db.execute(
                "SELECT master_id, wrapped FROM data_keys WHERE call_id = ?", (call_id,)
            ).fetchone()
        if row is None:
            return None
        master = self._masters.get(row[0])
        if master is None:
            raise KeyFileError(
                f"the data key of {call_id} is wrapped by master key {row[0]}, not the one loaded"
            )
        return master.unwrap(row[1], call_id)

    def forget(self, call_id: str) -> bool:
        """Destroy the data key of ``call_id`` (crypto-erase); True when there was one."""
        with self._lock:
            cur = self._db.execute("DELETE FROM data_keys WHERE call_id = ?", (call_id,))
        return cur.rowcount > 0

    def rotate(self, new: MasterKey) -> int:
        """Re-wrap every data key with ``new`` in one transaction; returns how many."""
        with self._lock:
            rows = self._db.execute("SELECT call_id, master_id, wrapped FROM data_keys").fetchall()
            rewrapped = []
            for call_id, master_id, wrapped in rows:
                master = self._masters.get(master_id)
                if master is None:
                    raise KeyFileError(f"the data key of {call_id} is wrapped by an unknown master key")
                rewrapped.append((new.id, new.wrap(master.unwrap(wrapped, call_id), call_id), call_id))
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "UPDATE data_keys SET master_id = ?, wrapped = ? WHERE call_id = ?", rewrapped
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("VACUUM")  # no page of the old wrapping left in the file
        self.master = new
        self._masters[new.id] = new
        return len(rewrapped)
