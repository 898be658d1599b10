"""Open both sides of a migration from their configs, run it, and say what happened.

The target's store is opened through its platform like any command opens a store (its
migrations run, the HTTP plugin's tables are made); its S3 sink is built but not set up:
the migration uses only its naming and its client, never its spool or worker.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

from salvesti.backup.plan import KEYS_DB, Plan
from salvesti.cli_common import CommandError, setup_component
from salvesti.migrate.engine import PHASES, Job, OnItem, Report, migrate
from salvesti.migrate.progress import Bar, Marker
from salvesti.migrate.recordings import RecordingCopier
from salvesti.migrate.source import SourceBox
from salvesti.migrate.target import PgTarget
from salvesti.plugins.sink_s3.sink import S3Sink
from salvesti.plugins.store_postgresql import PostgresStore, redact_dsn

_AUDIT_MODES = {
    "carried": "the target's chain was empty (or this box's own beginning): carried as it was",
    "appended": "the target has a chain of its own: appended, each entry marked with its original",
    "none": "no audit entries on this box",
}


async def migrate_box(
    plan: Plan,
    target: Any,
    store_conf: dict[str, Any],
    sink_conf: dict[str, Any] | None,
    *,
    dry_run: bool,
    on_item: OnItem | None = None,
    out: TextIO | None = None,
) -> Report:
    """Move the box of ``plan`` into the store and sink of ``target`` (a bare hub)."""
    import asyncpg

    assert plan.store_db is not None
    try:
        store = await setup_component(target, "store", store_conf)
    except CommandError:
        raise
    except Exception as err:
        raise CommandError(f"the target store could not be opened: {type(err).__name__}: {err}") from err
    if not isinstance(store, PostgresStore):
        await store.async_unload()
        raise CommandError("the target store is not PostgreSQL")
    target.store = store
    sink = S3Sink(target, sink_conf) if sink_conf is not None else None
    try:
        # the database's oid changes when it is dropped and made again under the same name, so a
        # marker never skips items that a recreated target no longer holds
        oid = await store.pool.fetchval("SELECT oid FROM pg_database WHERE datname = current_database()")
        where = f"{redact_dsn(store.dsn)}#{oid}" + (f" s3://{sink.bucket}/{sink.prefix}" if sink else "")
        keys = plan.keys_db.path if plan.keys_db is not None else plan.data_dir / KEYS_DB
        job = Job(
            source=SourceBox(plan.store_db.path),
            target=await PgTarget.open(store, dry_run=dry_run),
            copier=RecordingCopier(sink, dry_run=dry_run) if sink is not None else None,
            marker=Marker(plan.data_dir, where, enabled=not dry_run),
            bar=Bar(out or sys.stderr),
            node=plan.node,
            keys=(keys, Path(target.data_dir) / KEYS_DB) if keys.exists() else None,
            on_item=on_item,
        )
        return await migrate(job)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
        raise CommandError(
            f"stopped: {type(err).__name__}: {err}; each item is written whole or not at all: "
            "run the same command again to continue"
        ) from err
    finally:
        if sink is not None:
            await sink.client.close()
        await store.async_unload()


def print_report(report: Report, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    verb = "would copy" if report.dry_run else "copied"
    print("dry run: nothing was written" if report.dry_run else "migration finished", file=out)
    for phase in PHASES:
        c = report.counts[phase]
        line = f"  {phase}: {c.added} {verb}, {c.same} already in the target"
        if c.conflict or c.failed:
            line += f", {c.conflict} conflicts, {c.failed} not moved"
        print(line, file=out)
    print(f"  recordings: {report.recording_bytes} bytes {verb}", file=out)
    print(f"  audit log: {_AUDIT_MODES.get(report.audit_mode, report.audit_mode)}", file=out)
    for item in report.notes:
        print(f"  note: {item}", file=out)
    for item in report.conflicts:
        print(f"CONFLICT: {item}", file=out)
    for item in report.problems:
        print(f"PROBLEM: {item}", file=out)
    if not report.ok:
        print("what is listed above was not written; fix it and run the command again", file=out)
