"""``salvesti backup``: one consistent backup folder while ``salvesti run`` keeps recording.

Order matters: the call store is copied first, then the HTTP plugin's file, then
``keys.db``.  The list of recordings comes from the *copy* of the store, so the backup's
calls and files agree: a call still in progress in that copy is left out (and listed), even
if it has ended by the time the files are copied.  A recording's data key is committed
before its first byte is sealed, so a ``keys.db`` copied after the store holds the key of
every finished recording the store copy knows.

Recordings are copied, never hard-linked to the live files: a hard link would share the
live inode, so a later in-place change (a repair) would reach into the backup.  Between
backup folders, a recording whose size and sha256 (as saved with the call) match the
previous backup's copy is hard-linked to that copy instead of copied again: backups are
never written to after they are finished, so sharing their files is safe, and deleting an
old folder (``--keep``) frees only what no newer backup still holds.  On filesystems without
hard links (FAT/exFAT sticks) it is copied again.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from salvesti.backup import manifest as mf
from salvesti.backup.manifest import FileEntry, Manifest, copy_hashed, sha256_file
from salvesti.backup.plan import Plan
from salvesti.backup.rotate import rotate
from salvesti.backup.sqlite_copy import rows, snapshot
from salvesti.core.call import Call

_LOGGER = logging.getLogger(__name__)


@dataclass
class Options:
    to: Path
    since: datetime | None = None
    recordings: bool = True
    keep: int | None = None


@dataclass
class Result:
    folder: Path
    manifest: Manifest
    rotated: list[Path] = field(default_factory=list)


def create_backup(
    plan: Plan, opts: Options, *, now: datetime, version: str, live_calls: list[Call] | None = None
) -> Result:
    """Write a new backup folder in ``opts.to``; ``live_calls`` for stores that are not SQLite."""
    opts.to.mkdir(parents=True, exist_ok=True, mode=0o700)
    previous = _previous(opts.to)
    final = _free_name(opts.to, now)
    work = final.with_name(final.name + mf.PARTIAL)
    work.mkdir(mode=0o700)
    man = Manifest(
        created_at=now.isoformat(timespec="seconds"),
        node=plan.node,
        salvesti_version=version,
        config=str(plan.config_path),
        data_dir=str(plan.data_dir),
        store={"platform": plan.store_platform},
        since=opts.since.isoformat() if opts.since else None,
    )
    try:
        _fill(plan, opts, work, previous, man, live_calls)
        os.replace(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)  # personal data: no half backup left lying about
        raise
    _fsync_dir(opts.to)
    rotated = rotate(opts.to, opts.keep, current=final) if opts.keep else []
    return Result(final, man, rotated)


def _fill(
    plan: Plan,
    opts: Options,
    work: Path,
    previous: tuple[Path, dict[str, FileEntry]] | None,
    man: Manifest,
    live_calls: list[Call] | None,
) -> None:
    copies = _databases(plan, work, man)
    calls = _calls(copies.get("store"), live_calls, man)
    man.counts.update(_counts(copies, calls))
    if opts.recordings:
        _recordings(plan, calls, opts, work, previous, man)
    else:
        man.notes.append("recordings left out (--no-recordings)")
    for path in plan.config_files:
        dest = f"config/{path.name}"
        size, digest = copy_hashed(path, work / dest, 0o600)
        man.files.append(FileEntry(dest, "config", size, digest, source=str(path)))
    if plan.store_platform == "postgresql":
        man.notes.append(postgres_note(plan))
    if _same_disk(opts.to, plan.data_dir):
        man.notes.append(
            "this backup is on the same disk as the data folder and dies with it: copy it off the box"
        )
    mf.write(work, man)


def postgres_note(plan: Plan) -> str:
    """How to back up a PostgreSQL store: ``pg_dump``; the DSN shown without its password."""
    parts = urlsplit(plan.store_dsn or "postgresql://USER@HOST/DB")
    host = parts.hostname or "HOST"
    netloc = f"{parts.username or 'USER'}@{host}" + (f":{parts.port}" if parts.port else "")
    dsn = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    return (
        "the call store (with the web UI's users, tokens and audit log) is PostgreSQL and is NOT "
        "in this backup: back it up with pg_dump, e.g. "
        f"pg_dump --format=custom --file=salvesti-$(date -u +%Y%m%dT%H%M%SZ).pgdump '{dsn}' "
        "(password from ~/.pgpass or PGPASSWORD; restore with pg_restore --clean --dbname=...); "
        "run it right after this backup so the two match"
    )


def _previous(folder: Path) -> tuple[Path, dict[str, FileEntry]] | None:
    for path in reversed(mf.backups_in(folder)):
        try:
            return path, mf.read(path).by_path()
        except (OSError, ValueError) as err:
            _LOGGER.warning("backup %s: manifest unreadable (%s); not used for linking", path, err)
    return None


def _free_name(folder: Path, now: datetime) -> Path:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate, n = folder / stamp, 1
    while candidate.exists() or candidate.with_name(candidate.name + mf.PARTIAL).exists():
        candidate, n = folder / f"{stamp}-{n}", n + 1
    return candidate


def _databases(plan: Plan, work: Path, man: Manifest) -> dict[str, Path]:
    """Snapshot each database; returns the copies by role."""
    copies: dict[str, Path] = {}
    for db in plan.databases:
        if not db.path.exists():
            man.notes.append(f"{', '.join(db.roles)} database {db.path} does not exist yet; nothing to copy")
            continue
        dest = f"db/{db.name}"
        (work / "db").mkdir(exist_ok=True, mode=0o700)
        snapshot(db.path, work / dest)
        size, digest = sha256_file(work / dest)
        man.files.append(FileEntry(dest, "database", size, digest, roles=list(db.roles), source=str(db.path)))
        for role in db.roles:
            copies[role] = work / dest
    return copies


def _calls(store_copy: Path | None, live_calls: list[Call] | None, man: Manifest) -> list[Call]:
    if store_copy is not None:
        return [Call.from_json(json.loads(str(d))) for (d,) in rows(store_copy, "SELECT data FROM calls")]
    return list(live_calls or [])


def _counts(copies: dict[str, Path], calls: list[Call]) -> dict[str, int]:
    def count(role: str, sql: str) -> int:
        path = copies.get(role)
        found = rows(path, sql) if path is not None else []
        return int(found[0][0]) if found else 0

    return {
        "calls": len(calls),
        "deletions": count("store", "SELECT count(*) FROM deletions"),
        "users": count("http", "SELECT count(*) FROM http_users"),
        "audit_entries": count("http", "SELECT count(*) FROM http_audit"),
        "data_keys": count("keys", "SELECT count(*) FROM data_keys"),
    }


def _recordings(
    plan: Plan,
    calls: list[Call],
    opts: Options,
    work: Path,
    previous: tuple[Path, dict[str, FileEntry]] | None,
    man: Manifest,
) -> None:
    copied = linked = 0
    elsewhere: Counter[str] = Counter()
    for call in sorted(calls, key=lambda c: c.id):
        rec = call.recording
        if rec is None or rec.status == "deleted" or not rec.path:
            continue
        if call.ended_at is None or rec.status == "recording":
            man.in_progress.append(call.id)
            continue
        if opts.since is not None and call.started_at < opts.since:
            continue
        sink = plan.sink_for(call.meta)
        if sink is None or sink.root is None:
            elsewhere[f"{sink.platform} sink '{sink.id}'" if sink else "no configured sink"] += 1
            continue
        src = Path(rec.path)
        try:
            rel = src.resolve().relative_to(sink.root.resolve()).as_posix()
        except ValueError:
            reason = f"{src} is outside the folder of sink '{sink.id}'"
            man.skipped.append({"call_id": call.id, "reason": reason})
            continue
        dest = f"recordings/{sink.id}/{rel}"
        entry = FileEntry(dest, "recording", 0, "", call_id=call.id, sink=sink.id, source=str(src))
        if _link_previous(previous, dest, rec.bytes, rec.sha256, work / dest):
            entry.bytes, entry.sha256 = int(rec.bytes or 0), str(rec.sha256)
            linked += 1
        elif not src.exists():
            reason = f"{src} is missing (deleted since the store was copied?)"
            man.skipped.append({"call_id": call.id, "reason": reason})
            continue
        else:
            entry.bytes, entry.sha256 = copy_hashed(src, work / dest)
            copied += 1
            if rec.sha256 and entry.sha256 != rec.sha256:
                man.notes.append(
                    f"recording of call {call.id} differs from the sha256 saved with the call "
                    "(changed or damaged on disk since it was saved); copied as it is now"
                )
        man.files.append(entry)
    for where, n in sorted(elsewhere.items()):
        man.notes.append(
            f"{n} recording(s) of the {where} not copied: an object store keeps its own copies "
            "(use its versioning or replication for backups)"
        )
    man.counts.update(
        recordings=copied + linked, recordings_copied=copied, recordings_linked=linked,
        in_progress=len(man.in_progress), skipped=len(man.skipped),
    )  # fmt: skip


def _link_previous(
    previous: tuple[Path, dict[str, FileEntry]] | None,
    dest: str,
    size: int | None,
    sha256: str | None,
    target: Path,
) -> bool:
    """Hard-link the previous backup's copy when it is the same recording (size + sha256)."""
    if previous is None or not sha256 or size is None:
        return False
    folder, entries = previous
    old = entries.get(dest)
    if old is None or old.sha256 != sha256 or old.bytes != size:
        return False
    try:
        if (folder / dest).stat().st_size != size:
            return False  # the old copy was cut short since: copy afresh
    except OSError:
        return False
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.link(folder / dest, target)
    except OSError:
        return False  # no hard links here (FAT, exFAT) or the old copy is gone: copy instead
    return True


def _same_disk(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_dev == b.stat().st_dev
    except OSError:
        return False


def _fsync_dir(path: Path) -> None:
    try:
        mf.fsync_file(path)
    except OSError:
        pass
