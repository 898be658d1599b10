"""``salvesti store migrate --to TARGET_CONFIG -c CONFIG``: move this box into the cluster.

The work is in :mod:`salvesti.migrate`; this module finds the two sides from the two config
files (the box's SQLite store, the target's PostgreSQL store and S3 sink), holds the box's
data lock exclusively (so it refuses while ``salvesti run`` records there, and no run can
start half-way), and prints what moved.  Exit 0 when everything is in the target, 1 on
conflicts or problems (what is listed was not written; the rest was), 2 for bad usage, 130
when interrupted (run it again: it continues).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from salvesti.cli_common import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    CommandError,
    add_config_argument,
    bare_hub,
    load,
)

if TYPE_CHECKING:
    from salvesti.backup.plan import Plan


def add_commands(sub: Any) -> None:
    store = sub.add_parser("store", help="the call store: migrate a box into a cluster")
    actions = store.add_subparsers(dest="store_command", metavar="ACTION")
    mig = actions.add_parser(
        "migrate",
        help="move this box's calls, users, audit log and recordings into the --to config's cluster",
    )
    add_config_argument(mig)
    mig.add_argument("--to", type=Path, required=True, metavar="TARGET_CONFIG", help="the cluster's config")
    mig.add_argument("--sink", metavar="ID", help="the target's s3 sink for recordings (default: its first)")
    mig.add_argument("--dry-run", action="store_true", help="compare and count; write nothing")
    mig.set_defaults(func=cmd_migrate)


class Sides(NamedTuple):
    """The box (its plan) and the target (a bare hub, its store and s3 sink config)."""

    plan: Plan
    target: Any
    store_conf: dict[str, Any]
    sink_conf: dict[str, Any] | None


def sides(config: Path, to: Path, sink: str | None = None, plugins: Any = None) -> Sides:
    """Both configs loaded and checked for a migration; CommandError (exit 2) when unfit."""
    from salvesti.backup.plan import plan_for

    loaded = load(argparse.Namespace(config=config, plugins=plugins))
    plan = plan_for(bare_hub(loaded))
    if plan.store_platform != "sqlite" or plan.store_db is None:
        raise CommandError(
            f"{config}: this box's store is {plan.store_platform}; store migrate moves a SQLite box "
            "(a PostgreSQL store moves with pg_dump/pg_restore)", EXIT_CONFIG,
        )  # fmt: skip
    if not plan.store_db.path.exists():
        raise CommandError(f"{plan.store_db.path} does not exist: nothing to migrate", EXIT_CONFIG)
    target = bare_hub(load(argparse.Namespace(config=to, plugins=loaded.plugins)))
    store_conf = target.config.get("store") or {"platform": "sqlite"}
    if store_conf["platform"] != "postgresql":
        raise CommandError(f"{to}: store: the target must be a postgresql store", EXIT_CONFIG)
    return Sides(plan, target, store_conf, _sink_conf(target.config, sink, to))


def cmd_migrate(args: argparse.Namespace) -> int:
    from salvesti.core.datalock import DataDirBusy, DataLock

    found = sides(args.config, args.to, args.sink, args.plugins)
    try:
        lock = DataLock(found.plan.data_dir, exclusive=True)
    except DataDirBusy as err:
        raise CommandError(f"store migrate refused: {err}; stop it first (systemctl stop salvesti)") from None
    with lock:
        from salvesti.migrate.run import migrate_box

        try:
            report = asyncio.run(migrate_box(*found, dry_run=args.dry_run))
        except KeyboardInterrupt:
            print("\ninterrupted: run the same command again to continue where it stopped", file=sys.stderr)
            return 130
    from salvesti.migrate.run import print_report

    print_report(report)
    return EXIT_OK if report.ok else EXIT_FAILED


def _sink_conf(config: dict[str, Any], wanted: str | None, path: Path) -> dict[str, Any] | None:
    s3 = [s for s in config.get("sinks") or [] if s["platform"] == "s3"]
    if wanted is not None:
        found = next((s for s in s3 if s["id"] == wanted), None)
        if found is None:
            raise CommandError(f"{path}: no s3 sink with id {wanted!r}", EXIT_CONFIG)
        return found
    return s3[0] if s3 else None
