"""The audit log survives a restore: entries written after the backup are carried over.

The audit log is evidence (who listened to, exported or erased which call), so restoring an
older database must not silently drop its newest entries.  Before the restore, the live log is
read; afterwards every live entry past the restored log's last one is appended as it was, when
the live chain continues the restored one (the same hash at the restored head).  Then the
chain verifies end to end.  When the two do not join (the live log was tampered with or
rebuilt), the live entries are written to ``<data_dir>/audit-before-restore-<stamp>.json``
instead, so nothing is lost, and the restore says so.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from salvesti.backup.sqlite_copy import rows

_COLUMNS = ("seq", "at", "user", "action", "call_id", "source_addr", "detail", "prev_hash", "hash")


@dataclass
class Carried:
    appended: int = 0
    #: Where the live entries went when they could not be appended (None: nothing to keep).
    kept_in: Path | None = None


def read_live(path: Path) -> list[tuple[object, ...]]:
    """The live audit log, oldest first (empty without a file or a table)."""
    if not path.exists():
        return []
    try:
        return rows(path, f"SELECT {', '.join(_COLUMNS)} FROM http_audit ORDER BY seq")
    except sqlite3.DatabaseError:
        return []


def carry_over(restored: Path, live: list[tuple[object, ...]], data_dir: Path, now: datetime) -> Carried:
    """Append the live entries newer than the restored log's head, or keep them in a file."""
    if not live:
        return Carried()
    conn = sqlite3.connect(restored, isolation_level=None)
    try:
        head = conn.execute("SELECT seq, hash FROM http_audit ORDER BY seq DESC LIMIT 1").fetchone()
        seq, digest = (int(head[0]), str(head[1])) if head else (0, None)
        newer = [r for r in live if int(str(r[0])) > seq]
        if not newer:
            return Carried()
        joins = digest is None or any(int(str(r[0])) == seq and r[8] == digest for r in live)
        if joins:
            marks = ", ".join("?" * len(_COLUMNS))
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(f"INSERT INTO http_audit ({', '.join(_COLUMNS)}) VALUES ({marks})", newer)
            conn.execute("COMMIT")
            return Carried(appended=len(newer))
    finally:
        conn.close()
    out = data_dir / f"audit-before-restore-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}.json"
    entries = [dict(zip(_COLUMNS, r, strict=True)) for r in live]
    out.write_text(json.dumps(entries, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    out.chmod(0o600)
    return Carried(kept_in=out)
