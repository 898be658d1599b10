"""Encrypted recordings stay encrypted: their wrapped data keys go with them.

A sealed recording is copied as it is (:mod:`.recordings`); it opens only with its data key,
kept wrapped under the master key in ``keys.db`` (:mod:`salvesti.core.crypto.keyring`).  The
wrapped keys are copied into the target config's ``<data_dir>/keys.db``; they are useless
without the master key file, which never travels with a migration: copy it to the target
nodes yourself (docs/deployment.md).  An existing key for the same call with other bytes is a
conflict and is kept.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from salvesti.core.crypto.keyring import _SCHEMA
from salvesti.migrate.source import data_keys
from salvesti.migrate.target import Outcome


def copy_keys(source: Path, target: Path, *, dry_run: bool) -> dict[str, Outcome]:
    """Outcome per call id of copying every wrapped key of ``source`` into ``target``."""
    keys = data_keys(source)
    if not keys or source.resolve() == target.resolve():
        return {}
    if dry_run and not target.exists():
        return {call_id: "added" for call_id, _, _ in keys}
    target.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(target, isolation_level=None)
    try:
        conn.execute(_SCHEMA)
        target.chmod(0o600)
        held = {
            str(c): (str(m), bytes(w))
            for c, m, w in conn.execute("SELECT call_id, master_id, wrapped FROM data_keys")
        }
        out: dict[str, Outcome] = {}
        new = []
        for call_id, master_id, wrapped in keys:
            if call_id in held:
                out[call_id] = "same" if held[call_id] == (master_id, wrapped) else "conflict"
            else:
                out[call_id] = "added"
                new.append((call_id, master_id, wrapped))
        if new and not dry_run:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO data_keys (call_id, master_id, wrapped) VALUES (?, ?, ?)", new)
            conn.execute("COMMIT")
        return out
    finally:
        conn.close()
