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
from typing import Any

from salvesti.cli_common import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    CommandError,
    add_config_argument,
    bare_hub,
    load,
)


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


def cmd_migrate(args: argparse.Namespace) -> int:
    from salvesti.backup.plan import plan_for
    from salvesti.core.datalock import DataDirBusy, DataLock

    box = bare_hub(load(args))
    plan = plan_for(box)
    if plan.store_platform != "sqlite" or plan.store_db is None:
        raise CommandError(
            f"{args.config}: this box's store is {plan.store_platform}; store migrate moves a SQLite box "
            "(a PostgreSQL store moves with pg_dump/pg_restore)", EXIT_CONFIG,
        )  # fmt: skip
    if not plan.store_db.path.exists():
        raise CommandError(f"{plan.store_db.path} does not exist: nothing to migrate", EXIT_CONFIG)
    target = bare_hub(load(argparse.Namespace(config=args.to, plugins=args.plugins)))
    store_conf = target.config.get("store") or {"platform": "sqlite"}
    if store_conf["platform"] != "postgresql":
        raise CommandError(f"{args.to}: store: the target must be a postgresql store", EXIT_CONFIG)
    sink_conf = _sink_conf(target.config, args.sink, args.to)
    try:
        lock = DataLock(plan.data_dir, exclusive=True)
    except DataDirBusy as err:
        raise CommandError(f"store migrate refused: {err}; stop it first (systemctl stop salvesti)") from None
    with lock:
        from salvesti.migrate.run import migrate_box

        try:
            report = asyncio.run(migrate_box(plan, target, store_conf, sink_conf, dry_run=args.dry_run))
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
