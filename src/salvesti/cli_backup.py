"""``salvesti backup``, ``salvesti backup verify`` and ``salvesti restore`` (docs/backup.md).

The work is in :mod:`salvesti.backup`; this module parses options, opens what a non-SQLite
store needs, and prints what happened in plain words.  Exit codes as everywhere: 0 ok,
1 failed or problems found, 2 bad usage or an invalid config.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

from salvesti import __version__
from salvesti.cli_calls import parse_time
from salvesti.cli_common import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    CommandError,
    Loaded,
    add_config_argument,
    bare_hub,
    load,
    open_store,
)


def add_commands(sub: Any) -> None:
    backup = sub.add_parser(
        "backup", help="a consistent backup while salvesti runs; `backup verify DIR` checks one"
    )
    add_config_argument(backup)
    backup.add_argument("--to", type=Path, metavar="DIR", help="folder of backups (one sub-folder each)")
    backup.add_argument("--since", metavar="ISO", help="only recordings of calls started at or after")
    backup.add_argument("--no-recordings", action="store_true", help="databases and config only")
    backup.add_argument("--keep", type=int, metavar="N", help="then delete all but the newest N backups")
    backup.set_defaults(func=cmd_backup)
    actions = backup.add_subparsers(dest="backup_command", metavar="ACTION")
    check = actions.add_parser("verify", help="check a backup against its manifest (exit 1 on problems)")
    check.add_argument("dir", type=Path, metavar="DIR", help="a backup, or a folder of them (the newest)")
    check.set_defaults(func=cmd_verify)

    restore = sub.add_parser("restore", help="restore a backup (salvesti must be stopped)")
    add_config_argument(restore)
    restore.add_argument("--from", dest="source", type=Path, required=True, metavar="DIR")
    restore.add_argument("--force", action="store_true", help="replace a data folder that is not empty")
    restore.set_defaults(func=cmd_restore)


def cmd_backup(args: argparse.Namespace) -> int:
    from salvesti.backup.create import Options, create_backup
    from salvesti.backup.plan import plan_for

    if args.to is None:
        usage = "salvesti backup: --to DIR is required (or: salvesti backup verify DIR)"
        raise CommandError(usage, EXIT_CONFIG)
    if args.keep is not None and args.keep < 1:
        raise CommandError("--keep: keep at least 1 backup", EXIT_CONFIG)
    loaded = load(args)
    hub = bare_hub(loaded)
    since = parse_time(args.since, "--since", hub.tz)
    plan = plan_for(hub)
    live = None
    if plan.store_db is None and not args.no_recordings:
        live = asyncio.run(_all_calls(loaded))
    opts = Options(args.to, since=since, recordings=not args.no_recordings, keep=args.keep)
    try:
        result = create_backup(plan, opts, now=hub.now(), version=__version__, live_calls=live)
    except (OSError, sqlite3.Error) as err:
        raise CommandError(f"backup failed, nothing kept: {type(err).__name__}: {err}") from None
    man, counts = result.manifest, result.manifest.counts
    print(f"backup written to {result.folder}")
    print(
        f"  {counts.get('calls', 0)} calls, {counts.get('users', 0)} users, "
        f"{counts.get('audit_entries', 0)} audit entries, {counts.get('deletions', 0)} logged deletions"
    )
    if "recordings" in counts:
        print(
            f"  {counts['recordings']} recordings: {counts['recordings_copied']} copied, "
            f"{counts['recordings_linked']} unchanged since the previous backup (hard-linked to it)"
        )
    for call_id in man.in_progress:
        print(f"  left out, still being recorded: {call_id}")
    for item in man.skipped:
        print(f"  skipped {item['call_id']}: {item['reason']}")
    for note in man.notes:
        print(f"  note: {note}")
    for path in result.rotated:
        print(f"  rotated away (--keep {args.keep}): {path.name}")
    print("  this backup holds personal data: keep it as private as the box (docs/backup.md)")
    if any(db.roles == ("keys",) or "keys" in db.roles for db in plan.databases):
        print(f"  the master key {hub.key_file} is not in it: keep your copy of it apart")
    return EXIT_OK


async def _all_calls(loaded: Loaded) -> list[Any]:
    from salvesti.core.components import CallQuery

    async with open_store(loaded) as store:
        return list(await store.list_calls(CallQuery(limit=0)))


def cmd_verify(args: argparse.Namespace) -> int:
    from salvesti.backup import manifest as mf
    from salvesti.backup.verify import verify

    try:
        folder = mf.resolve(args.dir)
    except FileNotFoundError as err:
        raise CommandError(f"error: {err}") from None
    report = verify(folder)
    for problem in report.problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    if not report.ok:
        print(f"{folder}: {len(report.problems)} problem(s); do not rely on this backup", file=sys.stderr)
        return EXIT_FAILED
    man = report.manifest
    assert man is not None
    print(f"{folder}: OK, {report.checked} files match the manifest, databases pass integrity_check")
    print(f"  made {man.created_at} on {man.node}: {json.dumps(man.counts, sort_keys=True)}")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from salvesti.backup.plan import plan_for
    from salvesti.backup.restore import RestoreRefused, restore
    from salvesti.core.datalock import DataDirBusy

    loaded = load(args)
    hub = bare_hub(loaded)
    plan = plan_for(hub)
    live = None
    if plan.store_db is None:
        live = asyncio.run(_live_deletions(loaded))
    try:
        report = restore(
            plan, args.source, force=args.force, now=hub.now(), tz=hub.tz, key_file=hub.key_file, live=live
        )
    except (RestoreRefused, DataDirBusy, FileNotFoundError) as err:
        raise CommandError(f"restore refused: {err}") from None
    except (OSError, sqlite3.Error) as err:
        raise CommandError(
            f"restore failed part-way: {type(err).__name__}: {err}; the data folder may be half "
            "restored: fix the cause and run it again with --force"
        ) from None
    print(f"restored {report.backup} (made {report.manifest.created_at} on {report.manifest.node})")
    print(f"  databases: {', '.join(report.databases) or 'none'}; recordings: {report.recordings}")
    if report.reapplied:
        ids = sorted({d.call_id for d in report.reapplied})
        print(
            f"  the live store deleted {len(ids)} call recording(s) after this backup was made; "
            "deleted again (files left out, data keys destroyed, deletion log kept):"
        )
        for d in report.reapplied:
            print(f"    {d.call_id}  {d.deleted_at}  rule={d.rule}  {d.reason}")
    if report.audit:
        print(f"  {report.audit}")
    if report.due:
        print(
            f"  {report.due} recording(s) passed their retention while in the backup: the next "
            "retention sweep deletes them as usual (at salvesti run's start, or salvesti retention sweep)"
        )
    if report.held:
        print(f"  {report.held} recording(s) under legal hold stay until the hold is lifted")
    for note in report.notes:
        print(f"  note: {note}")
    if plan.store_platform == "postgresql":
        print("  note: the PostgreSQL store is not restored by this command: use pg_restore (docs/backup.md)")
    return EXIT_OK if report.audit_ok else EXIT_FAILED


async def _live_deletions(loaded: Loaded) -> Any:
    """The deletion log of a store this command does not restore (PostgreSQL)."""
    from salvesti.backup.deletions import DeletionRow, LiveState

    try:
        async with open_store(loaded) as store:
            found = await store.list_deletions(limit=10**9)
    except CommandError as err:
        return LiveState(problem=str(err), replaced=False)
    rows = [
        DeletionRow(d["call_id"], d["what"], d["path"], str(d["deleted_at"]), d["rule"], d["reason"])
        for d in found
    ]
    return LiveState(rows, replaced=False)
