"""SQLite files copied the safe way: through the online backup API, never as bytes.

A file copy of a database in WAL mode while ``salvesti run`` writes can miss the last commits
(still in ``-wal``) or catch a page half-written; ``sqlite3.Connection.backup`` copies a
consistent snapshot under one read transaction, and in WAL mode the writer is not blocked.
The copy is switched to rollback-journal mode so it is one self-contained file whose sha256
stays what the manifest says (a WAL copy would grow ``-wal``/``-shm`` beside it when opened).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

#: How long the copy waits for a writer's lock before it gives up (seconds).
BUSY_TIMEOUT = 30.0


def snapshot(src: Path, dst: Path) -> None:
    """Copy the database ``src`` to the new file ``dst`` (mode 0600) in one consistent step."""
    if dst.exists():
        raise FileExistsError(dst)
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=BUSY_TIMEOUT)
    try:
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        target = sqlite3.connect(dst)
        try:
            source.backup(target)  # pages=-1: all of it under one read transaction
            target.execute("PRAGMA journal_mode = DELETE")
        finally:
            target.close()
    finally:
        source.close()


def integrity(path: Path) -> str | None:
    """None when ``PRAGMA integrity_check`` says ok; else what it (or opening) found wrong.

    Opened read-only and immutable: checking a backup never changes a byte of it."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as err:
        return f"cannot be opened: {err}"
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as err:
        return f"is not a readable database: {err}"
    finally:
        conn.close()
    found = [str(r[0]) for r in rows]
    return None if found == ["ok"] else "; ".join(found[:5])


def put_back(src: Path, dst: Path) -> None:
    """Restore the backed-up database ``src`` at ``dst``, replacing whatever is there.

    Written beside ``dst`` through the backup API, then renamed over it; the old file's
    ``-wal`` and ``-shm`` go first, or SQLite would replay the old log into the new file.
    Only safe while no process has ``dst`` open (the restore holds the data folder's lock).
    """
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".restoring")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    snapshot(src, tmp)
    for suffix in ("-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            dst.with_name(dst.name + suffix).unlink()
    os.replace(tmp, dst)


def rows(path: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Rows of a read-only query; an empty list when the table is not there (a fresh file)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as err:
        if "no such table" in str(err):
            return []
        raise
    finally:
        conn.close()
