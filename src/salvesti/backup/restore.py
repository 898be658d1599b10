"""``salvesti restore``: put a backup back on a box, without undoing any deletion.

It refuses while anything holds the data folder's lock (``salvesti run``), refuses to
overwrite a data folder that has anything in it unless told ``--force``, and refuses a backup
that does not verify.  Databases are put back through SQLite's backup API, recordings to the
folders the *current* config names (a new box may keep them elsewhere; the restored calls
are pointed at the new paths).  Then: deletions the live store logged after the backup are
re-applied (:mod:`.deletions`), audit entries written after the backup are carried over
(:mod:`.audit_carry`) and the audit log's hash chain is checked, and what retention
will do next is said: calls whose time ran out while they sat in the backup are deleted by
the next sweep as usual; recordings under legal hold stay.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path

from salvesti.backup import audit_carry
from salvesti.backup import manifest as mf
from salvesti.backup.deletions import (
    DeletionRow,
    LiveState,
    forget_keys,
    newer_than_backup,
    read_live_sqlite,
    rewrite_store,
    sqlite_deletions,
)
from salvesti.backup.manifest import FileEntry, Manifest, copy_hashed
from salvesti.backup.plan import KEYS_DB, Plan
from salvesti.backup.sqlite_copy import put_back, rows
from salvesti.backup.verify import verify
from salvesti.core.datalock import LOCK_NAME, hold_for_restore


class RestoreRefused(Exception):
    """The restore did not start; the message says why and what to do."""


@dataclass
class RestoreReport:
    backup: Path
    manifest: Manifest
    databases: list[str] = field(default_factory=list)
    recordings: int = 0
    #: Deletions the live store made after the backup, re-applied.
    reapplied: list[DeletionRow] = field(default_factory=list)
    audit: str | None = None
    audit_ok: bool = True
    due: int = 0
    held: int = 0
    notes: list[str] = field(default_factory=list)


def restore(
    plan: Plan,
    source: Path,
    *,
    force: bool,
    now: datetime,
    tz: tzinfo,
    key_file: Path | None = None,
    live: LiveState | None = None,
) -> RestoreReport:
    """Restore the backup ``source`` (a backup folder or a folder of them: the newest).

    ``live`` is the live store's state for stores this does not restore (PostgreSQL); for
    SQLite it is read here, after the lock is taken and before anything is replaced.
    """
    folder = mf.resolve(source)
    report = verify(folder)
    if not report.ok or report.manifest is None:
        lines = "\n  ".join(report.problems)
        raise RestoreRefused(f"the backup {folder} does not verify, nothing restored:\n  {lines}")
    man = report.manifest
    with hold_for_restore(plan.data_dir):
        in_use = _in_use(plan)
        if in_use and not force:
            raise RestoreRefused(
                f"{in_use} is not empty: restoring would overwrite it; run again with --force "
                "to replace it with the backup (stop salvesti first)"
            )
        out = RestoreReport(folder, man)
        store_db = plan.store_db
        if live is None:
            live = read_live_sqlite(store_db.path) if store_db is not None else LiveState()
        live_audit = audit_carry.read_live(plan.http_db.path) if plan.http_db is not None else []
        if live.problem:
            out.notes.append(
                f"{live.problem}: deletions made after the backup cannot be re-applied; "
                "if calls were deleted or erased since, do it again now"
            )
        backed = [e for e in man.files if e.kind == "database" and "store" in e.roles]
        redo = newer_than_backup(live, sqlite_deletions(folder / backed[0].path) if backed else [])
        out.reapplied = redo
        erased = {d.call_id for d in redo}
        _put_databases(plan, folder, man, out)
        moved = _put_recordings(plan, folder, man, erased, out)
        keys = plan.keys_db.path if plan.keys_db else plan.data_dir / KEYS_DB
        forget_keys(keys, erased)
        _remove_files(plan, redo)
        if plan.http_db is not None and "http" in out.databases:
            _carry_audit(plan.http_db.path, live_audit, plan.data_dir, now, out)
        asyncio.run(_check_restored(plan, redo, live, moved, now, tz, out))
        _config_notes(plan, folder, man, key_file, out)
        return out


def _remove_files(plan: Plan, redo: list[DeletionRow]) -> None:
    """The live copy was deleted already; make sure no older file is left (in a sink's folder)."""
    roots = [s.root.resolve() for s in plan.sinks.values() if s.root is not None]
    for d in redo:
        path = Path(d.path).resolve() if d.path else None
        if path is not None and any(path.is_relative_to(root) for root in roots):
            path.unlink(missing_ok=True)


def _carry_audit(
    path: Path, live: list[tuple[object, ...]], data_dir: Path, now: datetime, out: RestoreReport
) -> None:
    carried = audit_carry.carry_over(path, live, data_dir, now)
    if carried.appended:
        out.notes.append(f"{carried.appended} audit entries written after the backup were carried over")
    if carried.kept_in is not None:
        out.notes.append(
            f"the live audit log does not continue the backup's; its entries are kept in {carried.kept_in}"
        )


def _in_use(plan: Plan) -> Path | None:
    """The first place a restore would overwrite that already holds something."""
    if plan.data_dir.is_dir() and any(p.name != LOCK_NAME for p in plan.data_dir.iterdir()):
        return plan.data_dir
    for db in plan.databases:
        if db.path.exists():
            return db.path
    for sink in plan.sinks.values():
        if sink.root is not None and sink.root.is_dir() and any(sink.root.iterdir()):
            return sink.root
    return None


def _put_databases(plan: Plan, folder: Path, man: Manifest, out: RestoreReport) -> None:
    targets = {role: db.path for db in plan.databases for role in db.roles}
    targets.setdefault("keys", plan.data_dir / KEYS_DB)  # old sealed recordings need it
    for entry in (e for e in man.files if e.kind == "database"):
        dest = next((targets[r] for r in entry.roles if r in targets), None)
        if dest is None:
            out.notes.append(
                f"{entry.path} ({', '.join(entry.roles)}) not restored: this config does not use it "
                f"(its store is {plan.store_platform})"
            )
            continue
        put_back(folder / entry.path, dest)
        os.chmod(dest, 0o600)
        out.databases.extend(entry.roles)


def _put_recordings(
    plan: Plan, folder: Path, man: Manifest, erased: set[str], out: RestoreReport
) -> dict[str, str]:
    """Copy the recordings back; returns the new path of each call whose path changed."""
    moved: dict[str, str] = {}
    for entry in (e for e in man.files if e.kind == "recording"):
        if entry.call_id in erased:
            continue
        sink = plan.sinks.get(entry.sink or "")
        if sink is None or sink.root is None:
            out.notes.append(
                f"{entry.path}: sink '{entry.sink}' is not a local sink in this config; not restored"
            )
            continue
        rel = entry.path.split("/", 2)[2]
        dest = sink.root / rel
        copy_hashed(folder / entry.path, dest)
        out.recordings += 1
        if entry.call_id and entry.source != str(dest):
            moved[entry.call_id] = str(dest.resolve())
    return moved


async def _check_restored(
    plan: Plan,
    redo: list[DeletionRow],
    live: LiveState,
    moved: dict[str, str],
    now: datetime,
    tz: tzinfo,
    out: RestoreReport,
) -> None:
    """What needs the restored databases open: the store's fixes, retention, the audit chain."""
    if plan.store_db is not None and "store" in out.databases:
        await _fix_store(plan.store_db.path, tz, redo, live, moved, now, out)
    if plan.http_db is not None and "http" in out.databases:
        await _check_audit(plan.http_db.path, out)


async def _fix_store(
    path: Path,
    tz: tzinfo,
    redo: list[DeletionRow],
    live: LiveState,
    moved: dict[str, str],
    now: datetime,
    out: RestoreReport,
) -> None:
    from salvesti.core.components import CallQuery
    from salvesti.plugins.store_sqlite import SqliteStore

    async with SqliteStore(path, tz=tz) as store:
        if live.call_ids:
            dropped = live.call_ids - {c.id for c in await store.list_calls(CallQuery(limit=0))}
            if dropped:
                out.notes.append(
                    f"{len(dropped)} call(s) recorded after the backup are no longer listed (the backup "
                    "predates them); their recording files, if any, are left in place"
                )
        for call_id, new_path in sorted(moved.items()):
            call = await store.get_call(call_id)
            if call is not None and call.recording is not None and call.recording.path != new_path:
                call.recording.path = new_path
                await store.save_call(call)
        if redo:
            await rewrite_store(store, redo, live)
        out.due = len(await store.calls_due_for_deletion(now))
    held = rows(path, "SELECT count(*) FROM calls WHERE legal_hold = 1 AND recording_status != 'deleted'")
    out.held = int(held[0][0]) if held else 0


async def _check_audit(path: Path, out: RestoreReport) -> None:
    import aiosqlite

    from salvesti.plugins.http.db_sqlite import SqliteAccounts

    async with aiosqlite.connect(f"file:{path}?mode=ro", uri=True) as conn:
        try:
            result = await SqliteAccounts(conn).audit_verify()
        except Exception as err:  # no audit table in an old file: say so, do not fail
            out.audit = f"audit log not checked: {err}"
            return
    out.audit_ok = result.ok
    out.audit = (
        f"audit log OK: {result.entries} entries, chain intact"
        if result.ok
        else f"audit log BROKEN at entry {result.first_bad}: {result.reason}"
    )


def _config_notes(plan: Plan, folder: Path, man: Manifest, key_file: Path | None, out: RestoreReport) -> None:
    if man.since:
        out.notes.append(
            f"this backup holds only the recordings of calls started since {man.since} (--since): "
            "older recordings come from an earlier backup or stay where they are"
        )
    current = {p.name: p for p in plan.config_files}
    for entry in (e for e in man.files if e.kind == "config"):
        name = Path(entry.path).name
        here = current.get(name)
        if here is None or mf.sha256_file(here)[1] != entry.sha256:
            out.notes.append(
                f"{entry.path} in the backup differs from {here or 'this box (none here)'}: "
                "restore never overwrites the config; compare them and copy what you need"
            )
    if "keys" in out.databases and key_file is not None and not key_file.exists():
        out.notes.append(
            f"keys.db is restored but the master key {key_file} is missing: sealed recordings play "
            "only once you put back your copy of it (it is never in a backup)"
        )


def recording_entries(man: Manifest) -> list[FileEntry]:
    return [e for e in man.files if e.kind == "recording"]
